"""``ddi retrain``: a DrugBank XML export -> benchmark layout -> a newly trained model, written atomically.

The import goes into a data directory of its own (default ``data/<model name>``), which the model's config
then names, so the model can always be reloaded with the data it was trained on. The current default model is
never replaced unless asked (``make_default``); it is compared with the new one on the new data's test split
when both know the same drugs.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ddi.data.benchmark import write_benchmark_layout
from ddi.data.drugbank_xml import check_layout_out, import_drugbank_xml
from ddi.data.tables import OTHER_TYPE
from ddi.errors import UserInputError
from ddi.models.checkpoint import check_model_out, swap_in
from ddi.models.config import RunConfig
from ddi.train.pipeline import test_report, train_and_save

log = logging.getLogger(__name__)


def retrain(
    xml_path: str | Path,
    out_dir: str | Path,
    data_out: str | Path | None = None,
    run: RunConfig | None = None,
    make_default: bool = False,
    default_dir: str | Path | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Import ``xml_path``, train a model on it into ``out_dir`` and compare it with the default model."""
    from ddi.predict.predictor import DEFAULT_MODEL_DIR, Predictor

    out = Path(out_dir)
    data_dir = Path(data_out) if data_out else Path("data") / out.name
    run = (run or RunConfig()).check()  # a bad override (--epochs 0) fails now, not after a long import
    default = Path(default_dir) if default_dir else DEFAULT_MODEL_DIR
    _check_outputs(out, data_dir, default)  # likewise a bad --out or --data-out
    tables, stats = import_drugbank_xml(xml_path, progress=progress)
    log.info("%s", stats)
    interactions = tables.interactions[tables.interactions["type"] != OTHER_TYPE]
    if len(interactions) < 10:
        raise UserInputError(
            f"{xml_path}: only {len(interactions)} interaction(s) match the 86 benchmark types; too few to train on"
        )
    tables = type(tables)(
        drugs=tables.drugs,
        interaction_types=tables.interaction_types,
        interactions=interactions.reset_index(drop=True),
        drug_protein=tables.drug_protein,
        proteins=tables.proteins,
        source=str(data_dir.resolve()),
    )
    write_benchmark_layout(tables, data_dir)
    run.data_dir = str(data_dir.resolve())
    run.split, run.split_dir = "s0", None  # no given split in an export: a seeded 70/10/20 pair split
    metrics = train_and_save(run, out, progress=progress)
    report: dict[str, Any] = {"model": str(out), "data_dir": run.data_dir, "new": metrics.get("test", {})}

    try:
        current = Predictor.load(default, data_dir=run.data_dir, split="s0")
        report["default"] = test_report(current.model, current.ctx)
    except UserInputError as exc:  # another drug set: the two models cannot answer the same questions
        report["default"] = None
        report["default_note"] = f"current default not comparable on this data: {exc}"
    if make_default:
        replace_directory(out, default)
        report["made_default"] = str(default)
    return report


def _check_outputs(out: Path, data_dir: Path, default: Path) -> None:
    """Refuse, before the import, outputs that would fail after training or destroy something: ``out`` is
    replaced whole, so it must be new, empty or a model; the data must not live inside the model directory."""
    check_model_out(out)
    if out.resolve() == default.resolve():
        raise UserInputError(f"--out {out}: is the default model; write the new one elsewhere and add --make-default")
    resolved_data = data_dir.resolve()
    if resolved_data == out.resolve() or out.resolve() in resolved_data.parents:
        raise UserInputError(f"--data-out {data_dir}: inside the model directory --out {out}, which is replaced whole")
    check_layout_out(data_dir, "--data-out")


def replace_directory(source: Path, target: Path) -> None:
    """Copy ``source`` over ``target`` so that ``target`` is at every moment either the old or the new one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    shutil.rmtree(staging)
    shutil.copytree(source, staging)
    swap_in(staging, target)
