"""What a trained model's flow expert adds: its test figures with the fitted expert weight and with the expert off.

For each model directory, both readings of the test (and validation) pairs, the answers (both orders averaged) and
each pair read as listed, are scored twice: as saved, and with the expert's weight set to 0 (the heads alone; the
prior correction and the look-alike vote stay as fitted with the expert)::

    python benchmarks/expert_weight.py runs/lexp_s0_0 runs/lexp_s0_1 --out benchmarks/results/expert_weight.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from run_info import command_line

from ddi.predict.predictor import Predictor
from ddi.train.pipeline import test_report

FIGURES = ("macro_f1", "accuracy", "kappa")


def readings(report: dict) -> dict[str, dict[str, float]]:
    """The three figures of both readings of one report."""
    return {
        "answers": {k: report[k] for k in FIGURES},
        "as_listed": {k: report["as_listed"][k] for k in FIGURES},
    }


def expert_on_and_off(model_dir: str) -> dict:
    """Figures of one model with its fitted expert weight and with the expert off, on valid and test."""
    predictor = Predictor.load(model_dir)
    model, ctx = predictor.model, predictor.ctx
    if model.flow_classifier is None:
        raise SystemExit(f"{model_dir}: the model has no flow expert")
    weight = float(model.flow_weight)
    row: dict = {"model": model_dir, "flow_weight": weight}
    for label, value in (("with_expert", weight), ("expert_off", 0.0)):
        model.set_flow_weight(value)
        row[label] = {part: readings(test_report(model, ctx, part)) for part in ("valid", "test")}
    model.set_flow_weight(weight)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="model directories with a flow expert")
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = [expert_on_and_off(directory) for directory in args.models]
    for row in rows:
        for label in ("with_expert", "expert_off"):
            test = row[label]["test"]
            print(
                f"{row['model']} {label}: answers "
                + " / ".join(f"{test['answers'][k]:.4f}" for k in FIGURES)
                + ", as listed "
                + " / ".join(f"{test['as_listed'][k]:.4f}" for k in FIGURES)
            )
    Path(args.out).write_text(json.dumps({"command": command_line(), "runs": rows}, indent=2))


if __name__ == "__main__":
    main()
