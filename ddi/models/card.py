"""The model card of a checkpoint: what it is, how it was trained, how big it is and how well it does."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from ddi.evaluate import DETAIL_KEYS
from ddi.models.checkpoint import read_checkpoint

PRIOR_BUFFERS = ("class_log_prior", "prior_adjustment")


def model_card(model_dir: str | Path) -> dict[str, Any]:
    """Facts about a saved model, read from its files alone (no data needed)."""
    root = Path(model_dir)
    state, run, vocab, metrics = read_checkpoint(root)
    # The prior-correction buffers are fitted statistics, not learned weights.
    weights = {k: v for k, v in state.items() if v.is_floating_point() and k not in PRIOR_BUFFERS}
    parameters = sum(v.numel() for v in weights.values())
    nonzero = sum(int((v != 0).sum()) for v in weights.values())
    size = sum(p.stat().st_size for p in root.iterdir() if p.is_file())
    test = {k: v for k, v in metrics.get("test", {}).items() if k not in DETAIL_KEYS}
    return {
        "model_dir": str(root),
        "architecture": asdict(run.model),
        "training": asdict(run.train),
        "split": run.split_dir or run.split,
        "split_seed": run.split_seed,
        "data_dir": run.data_dir or "(default data directory)",
        "data_fingerprint": vocab.get("data_fingerprint"),
        "drugs": len(vocab.get("drug_ids", [])),
        "parameters": parameters,
        "nonzero_parameters": nonzero,
        "sparsity": 1.0 - nonzero / parameters if parameters else 0.0,
        "pruning": metrics.get("pruning", {"method": "none"}),
        "prior_adjustment": metrics.get("prior_adjustment", {"tau": 0.0, "fitted_on": "none"}),
        "flow_expert_weight": metrics.get("flow_expert", {}).get("flow_weight"),
        "checkpoint_bytes": size,
        "shared_value_levels": shared_value_levels(metrics),
        "train_seconds": metrics.get("train_seconds"),
        "best_epoch": metrics.get("best_epoch"),
        "test": test,
        "ddi_version": metrics.get("ddi_version"),
    }


def shared_value_levels(metrics: dict[str, Any]) -> int | None:
    """At most how many distinct kept values each sparse tensor of a model has (``ddi adjust-prior
    --shared-values``), from its metrics; None where they are not shared."""
    shared = metrics.get("shared_values")
    levels = shared.get("levels") if isinstance(shared, dict) else None
    return levels if isinstance(levels, int) else None


def type_decision_text(prior: dict[str, Any]) -> str:
    """How the type decision was set, as ``ddi info`` and ``ddi adjust-prior`` print it: ``prior`` is a
    metrics file's ``prior_adjustment`` (tau, the look-alike vote weight if the model has votes, how fitted)."""
    # a field may be missing: a malformed metrics file loses its wrong-typed fields (``usable_metrics``)
    tau = f"tau {prior['tau']:.2f}" if "tau" in prior else "tau unknown"
    blend = f", look-alike vote weight {prior['vote_blend']:.1f}" if "vote_blend" in prior else ""
    return f"{tau}{blend} ({prior.get('fitted_on', 'unknown how')})"
