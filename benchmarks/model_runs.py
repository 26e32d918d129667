"""Record trained model directories (``ddi train --out M``) as benchmark rows, for runs made with ``ddi train``
rather than by a benchmark script: their test figures, prior correction, training time, checkpoint size, pruning
summary and training config, with the command that trained them. Run from the repository root::

    python benchmarks/model_runs.py --out benchmarks/results/pruning_full_budget.json \\
        --label "95 %, GMP, from scratch" --command "ddi train --split s0 ..." --machine "2-core CPU" runs/gmp95

A row whose label is already in ``--out`` is replaced, so a rerun refreshes it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ddi.evaluate import DETAIL_KEYS

#: per-epoch figures kept from a run's history; the ``valid_dense_*`` ones exist for DCIL runs (its dense path)
HISTORY_KEYS = ("epoch", "valid_macro_f1", "valid_accuracy", "valid_dense_macro_f1", "valid_dense_accuracy")


def model_row(model_dir: Path, label: str, command: str, machine: str) -> dict[str, Any]:
    """One benchmark row from a model directory's ``metrics.json`` and ``config.json``."""
    metrics = json.loads((model_dir / "metrics.json").read_text())
    config = json.loads((model_dir / "config.json").read_text())
    prior = metrics.get("prior_adjustment") or {}
    return {
        "run": label,
        "command": command,
        "machine": machine,
        # The figures only: per-type detail stays in the model's metrics.json, as in the other benchmark rows.
        "test": {k: v for k, v in metrics["test"].items() if k not in (*DETAIL_KEYS, "seconds")},
        "prior_tau": prior.get("tau"),
        "vote_blend": prior.get("vote_blend"),
        "train_seconds": metrics.get("train_seconds"),
        "best_epoch": metrics.get("best_epoch"),
        "epochs_run": len(metrics.get("history", [])),
        "valid_history": [{k: h[k] for k in (*HISTORY_KEYS, "sparsity") if k in h} for h in metrics.get("history", [])],
        "model_pt_bytes": (model_dir / "model.pt").stat().st_size,
        "parameters": metrics.get("parameters"),
        "pruning": {k: v for k, v in (metrics.get("pruning") or {}).items() if k != "mask_change_history"},
        "flow_expert": metrics.get("flow_expert", {}),  # a flow expert's epochs and fitted weight
        "train_config": config["train"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", type=Path, help="model directories written by ddi train")
    parser.add_argument("--out", type=Path, required=True, help="results JSON (a list of rows) to update")
    parser.add_argument("--label", nargs="+", required=True, help="one label per model directory")
    parser.add_argument("--command", nargs="+", required=True, help="one training command per model directory")
    parser.add_argument("--machine", default="2-core CPU (the project machine), one thread per run")
    args = parser.parse_args()
    if not len(args.models) == len(args.label) == len(args.command):
        parser.error("give one --label and one --command per model directory")
    rows = json.loads(args.out.read_text()) if args.out.is_file() else []
    for model_dir, label, command in zip(args.models, args.label, args.command, strict=True):
        rows = [r for r in rows if r["run"] != label] + [model_row(model_dir, label, command, args.machine)]
    args.out.write_text(json.dumps(rows, indent=2) + "\n")
    for row in rows:
        t = row["test"]
        print(f"{row['run']}: macro-F1 {t['macro_f1']:.4f} accuracy {t['accuracy']:.4f} kappa {t['kappa']:.4f}")


if __name__ == "__main__":
    main()
