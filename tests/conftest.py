"""Fixtures shared by the whole test suite.

The real DrugBank benchmark is read from the resolved data directory (``DDI_DATA_DIR``, else
``../shared/data/drugbank``) and loaded once per session; tests that need it are skipped, with the reason,
where no data directory exists.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from ddi.data.benchmark import load_benchmark
from ddi.data.location import DataDirError, resolve_data_dir
from ddi.data.tables import Tables

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared DrugBank benchmark directory, resolved as the ``ddi`` command resolves it."""
    try:
        return resolve_data_dir().resolve()
    except DataDirError as exc:
        pytest.skip(f"no benchmark data: {exc}")


@pytest.fixture(scope="session")
def benchmark_tables(data_dir: Path) -> Tables:
    """The validated benchmark tables, loaded once. Shared: never modify its DataFrames in place."""
    return load_benchmark(data_dir)[0]


def train_tiny_model(root: Path, tables: Tables) -> Path:
    """Train (once per ``root``) a one-epoch, 16-wide model on a 1,000-pair slice of S0; return its directory.

    A small split keeps the graph and the test-set evaluation small (about 25 s instead of minutes).
    """
    from ddi.data.splits import load_split
    from ddi.models.config import ModelConfig, RunConfig, TrainConfig
    from ddi.train.pipeline import train_and_save

    model_dir = root / "tiny-model"
    if (model_dir / "model.pt").is_file():
        return model_dir
    split_dir = root / "tiny-split"
    split_dir.mkdir(parents=True, exist_ok=True)
    split = load_split("s0", tables)
    for part, n in (("train", 1000), ("valid", 200), ("test", 200)):
        getattr(split, part).sample(n, random_state=0).to_csv(split_dir / f"{part}.tsv", sep="\t", index=False)
    run = RunConfig(
        model=ModelConfig(
            hidden_dim=16, mol_layers=1, max_paths=8, fingerprint_bits=256, fingerprint_pair_dim=16, head_dim=64
        ),
        train=TrainConfig(epochs=1, batch_size=256),
        split_dir=str(split_dir),
    )
    train_and_save(run, model_dir, tables=tables, progress=False)
    return model_dir


def _copy_leaning_to_first_type(model_dir: Path, out: Path, push: float, listed_order: bool = False) -> Path:
    """A copy of a trained model at ``out`` whose type head adds ``push`` to the first type's logit: a model
    that answers otherwise (a worse reference, another ensemble member) with nothing trained. ``listed_order``
    marks it as trained on rows as listed (``train.listed_order`` in its config)."""
    import json
    import shutil

    import torch

    shutil.copytree(model_dir, out)
    state = torch.load(out / "model.pt", weights_only=True)
    state["heads.type_head.bias"] = state["heads.type_head.bias"].clone()
    state["heads.type_head.bias"][0] += push
    torch.save(state, out / "model.pt")
    if listed_order:
        config = json.loads((out / "config.json").read_text())
        config["train"]["listed_order"] = True
        (out / "config.json").write_text(json.dumps(config))
    return out


@pytest.fixture(scope="session")
def copy_leaning_to_first_type():
    """``(model_dir, out, push, listed_order=False) -> out``: see ``_copy_leaning_to_first_type``."""
    return _copy_leaning_to_first_type


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, benchmark_tables) -> Path:
    """A tiny trained model shared by the serving, CLI and app tests (trained once per session)."""
    return train_tiny_model(tmp_path_factory.getbasetemp(), benchmark_tables)


@pytest.fixture
def restore_root_logging() -> Iterator[None]:
    """Undo ``ddi.cli.main.configure_logging`` after a test that runs ``main`` in-process.

    ``logging.basicConfig(force=True)`` leaves a stderr handler on the root logger that would outlive the
    test's captured stderr; remove it and restore the root level.
    """
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if type(handler) is logging.StreamHandler and handler not in before:
            root.removeHandler(handler)
    root.setLevel(level)
