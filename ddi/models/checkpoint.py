"""Model checkpoints: a directory with the state dict, the run configuration, the vocabularies and metrics.

``model.pt`` is a plain state dict loaded with ``weights_only=True``; ``config.json`` is the ``RunConfig``;
``vocab.json`` holds the drug ids (node order), relation names, type ids and the fingerprint of the data the
graph was built from, so a reload never guesses; ``metrics.json`` holds training history and test figures.
A checkpoint is written into a temporary directory that is renamed at the end: an interrupted run never
leaves a half-written model.
"""

from __future__ import annotations

import json
import logging
import os
import reprlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from ddi.errors import UserInputError, nearest_existing, not_a_directory
from ddi.json_input import read_json, type_mismatch
from ddi.models.config import RunConfig

log = logging.getLogger(__name__)

STATE_FILE = "model.pt"
CONFIG_FILE = "config.json"
VOCAB_FILE = "vocab.json"
METRICS_FILE = "metrics.json"

#: The fields of a test report in ``metrics.json`` (a figure may be NaN, which JSON loads as a float).
_TEST_FIELDS: dict[str, Any] = {
    **{figure: float for figure in ("macro_f1", "accuracy", "kappa", "roc_auc", "pr_auc", "seconds")},
    "n": int,
    "per_type_f1": dict[str, Any],
    "confusions": list[Any],
}
#: The ``metrics.json`` fields ddi reads or reports, with their types (``a.b``: field ``b`` of the object ``a``).
#: One of another type is left out with a warning: the file reports on the model and is not needed to use it.
METRICS_FIELDS: dict[str, Any] = {
    "ddi_version": str | None,
    "split": str,
    "split_seed": int,
    "split_counts": dict[str, Any],
    "train_seconds": float | None,
    "best_epoch": int | None,
    "parameters": int,
    "history": list[Any],
    "torch_threads": int,
    "pruning": dict[str, Any],
    "pruning.method": str,
    "pruning.target_sparsity": float | None,
    "prior_adjustment": dict[str, Any],
    "prior_adjustment.tau": float,
    "prior_adjustment.vote_blend": float,
    "prior_adjustment.fitted_on": str,
    "flow_expert": dict[str, Any],
    "flow_expert.flow_weight": float,
    "shared_values": dict[str, Any],
    "shared_values.levels": int,
    "test": dict[str, Any],
    **{f"test.{name}": kind for name, kind in _TEST_FIELDS.items()},
    "test.as_listed": dict[str, Any],
    **{f"test.as_listed.{figure}": float for figure in ("macro_f1", "accuracy", "kappa")},
    "test_without_prior_adjustment": dict[str, Any],
    **{f"test_without_prior_adjustment.{name}": kind for name, kind in _TEST_FIELDS.items()},
}

#: The ``vocab.json`` fields ddi reads, with their types: the node order of the drugs and the graph's size.
VOCAB_FIELDS: dict[str, Any] = {"drug_ids": list[str], "num_nodes": int}


class CheckpointError(UserInputError):
    """A model directory is missing, incomplete or does not match the data."""


def check_model_out(out_dir: str | Path, option: str = "--out") -> None:
    """Refuse a model output that saving would destroy: a checkpoint replaces its directory whole, so ``out_dir``
    must be new, empty or a ddi model already (it has a ``config.json``), and not a file or under one. Called
    before training, so a wrong ``--out`` costs nothing, and again before writing."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise CheckpointError(f"{option} {out}: is a file, not a model directory")
    if out.is_dir() and any(out.iterdir()) and not (out / CONFIG_FILE).is_file():
        raise CheckpointError(
            f"{option} {out}: a directory that is not a ddi model (no {CONFIG_FILE}); it would be replaced whole, "
            "so choose a new or empty directory"
        )
    existing = nearest_existing(out.absolute().parent)
    if not existing.is_dir():
        raise CheckpointError(f"{option} {out}: not a writable directory ({existing} is a file)")


def save_checkpoint(
    out_dir: str | Path,
    state_dict: dict[str, torch.Tensor],
    run: RunConfig,
    vocab: dict[str, Any],
    metrics: dict[str, Any],
    overwrite: bool = True,
) -> Path:
    """Write a checkpoint directory atomically and return its path."""
    out = Path(out_dir)
    if out.exists() and not overwrite:
        raise CheckpointError(f"{out} exists; pass --overwrite to replace it")
    check_model_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        if metrics.get("pruning", {}).get("method", "none") != "none":
            from ddi.sparse import save_sparse_state

            save_sparse_state(state_dict, tmp / STATE_FILE)  # indices + values: most weights are zero
        else:
            torch.save(state_dict, tmp / STATE_FILE)
        run.save(tmp / CONFIG_FILE)
        (tmp / VOCAB_FILE).write_text(json.dumps(vocab) + "\n")
        (tmp / METRICS_FILE).write_text(json.dumps(metrics, indent=2, default=float) + "\n")
        swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("saved model to %s", out)
    return out


def swap_in(staging: Path, target: Path) -> None:
    """Put the finished directory ``staging`` at ``target`` by renames, so ``target`` is at every moment either the
    old directory or the new one, never a half-written mix (both must be on one filesystem)."""
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, target)


def read_checkpoint(model_dir: str | Path) -> tuple[dict[str, torch.Tensor], RunConfig, dict[str, Any], dict]:
    """Return (state dict, run config, vocab, metrics) of a checkpoint directory."""
    root = Path(model_dir)
    if not root.is_dir():
        raise CheckpointError(not_a_directory("model directory", root))
    missing = [f for f in (STATE_FILE, CONFIG_FILE, VOCAB_FILE) if not (root / f).is_file()]
    if missing:
        raise CheckpointError(f"{root} is not a ddi model: missing {', '.join(missing)}")
    try:
        state = torch.load(root / STATE_FILE, map_location="cpu", weights_only=True)
    except Exception as exc:  # a corrupt or foreign file: name it, never unpickle arbitrary objects
        # Not torch's text: it suggests retrying with weights_only=False, exactly what must not be done here.
        raise CheckpointError(
            f"{root / STATE_FILE} is not a readable state dict of tensors: the file is corrupt, truncated "
            "or not a ddi checkpoint (ddi loads weights only and never unpickles other objects)"
        ) from exc
    from ddi.sparse import is_sparse_state, unpack_sparse_state

    if is_sparse_state(state):
        state = unpack_sparse_state(state)
    check_state_dict(state, root / STATE_FILE)
    run = RunConfig.load(root / CONFIG_FILE, checkpoint=True)
    vocab = read_json(root / VOCAB_FILE, CheckpointError)
    check_vocab(vocab, root / VOCAB_FILE)
    metrics_path = root / METRICS_FILE
    metrics = usable_metrics(read_json(metrics_path, CheckpointError), metrics_path) if metrics_path.is_file() else {}
    return state, run, vocab, metrics


def check_state_dict(state: Any, path: Path) -> None:
    """A loaded ``model.pt`` must map names to tensors: a list or a dict of other values loads with
    ``weights_only`` too, and would fail later on a missing tensor method."""
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} holds a {type(state).__name__}, not a state dict of named tensors")
    wrong = [str(k) for k, v in state.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if wrong:
        raise CheckpointError(
            f"{path}: entries that are not named tensors: {len(wrong)} (e.g. {reprlib.repr(wrong[0])})"
        )


def state_mismatch(expected: dict[str, torch.Tensor], state: dict[str, torch.Tensor]) -> str:
    """How ``state`` differs from the state dict ``expected`` of the configured model, in one line (torch's own
    message lists every tensor on its own line: dozens of lines for one changed width)."""
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    reshaped = [k for k in expected if k in state and expected[k].shape != state[k].shape]
    parts = []
    if reshaped:
        k = reshaped[0]
        parts.append(
            f"{len(reshaped)} tensor(s) of another shape (e.g. {k}: {list(state[k].shape)} in the file, "
            f"{list(expected[k].shape)} in the model its config.json describes)"
        )
    if missing:
        parts.append(f"{len(missing)} tensor(s) missing (e.g. {missing[0]})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected tensor(s) (e.g. {unexpected[0]})")
    return "; ".join(parts) or "they do not load"


def load_weights(model: torch.nn.Module, state: dict[str, torch.Tensor], model_dir: str | Path) -> None:
    """Load the weights ``state`` of ``model_dir`` into ``model``, built from its config; weights that do not fit
    (edited, or of another model than its config.json says) are a one-line ``CheckpointError``."""
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        mismatch = state_mismatch(model.state_dict(), state)
        raise CheckpointError(f"{model_dir}: the weights do not fit the configured model: {mismatch}") from exc


def check_vocab(vocab: Any, path: Path) -> None:
    """``vocab.json`` must be an object with the ``VOCAB_FIELDS`` ddi reads, each of its type: unlike the
    metrics, a model cannot be loaded without them."""
    if not isinstance(vocab, dict):
        raise CheckpointError(f"{path} is malformed: not a JSON object")
    problems = [
        f"{name} is missing" if name not in vocab else f"{name} {problem}"
        for name, kind in VOCAB_FIELDS.items()
        if name not in vocab or (problem := type_mismatch(kind, vocab[name])) is not None
    ]
    if problems:
        raise CheckpointError(f"{path} is malformed: {'; '.join(problems)}")


def usable_metrics(metrics: Any, path: Path) -> dict[str, Any]:
    """``metrics`` as read from ``path`` without the ``METRICS_FIELDS`` of a wrong type: a warning names them,
    and the model loads and its card shows the rest. Changes ``metrics`` in place."""
    if not isinstance(metrics, dict):
        log.warning("%s is malformed (not a JSON object); its figures are ignored", path)
        return {}
    problems = []
    for name, kind in METRICS_FIELDS.items():  # an object before its fields: a dropped one hides them
        *parents, key = name.split(".")
        holder: Any = metrics
        for parent in parents:
            holder = holder.get(parent) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and key in holder:
            problem = type_mismatch(kind, holder[key])
            if problem is not None:
                problems.append(f"{name} {problem}")
                del holder[key]
    if problems:
        log.warning("%s is malformed; left out: %s", path, "; ".join(problems))
    return metrics
