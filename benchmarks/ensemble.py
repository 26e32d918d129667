"""Ensembles of trained models: does averaging their probabilities close the S0 gap?

Scores the test split with each model directory (``ddi.train.pipeline.part_scores``: prior correction and vote
blend included) in both readings: both orders averaged (the shipped decision) and each pair read as its row lists
it (the published protocol, for models trained with ``train.listed_order``). Then every combination of two or more
models, averaging their class probabilities as ``ddi evaluate --with`` does. Writes one row per model and per
combination to ``benchmarks/results/ensemble.json``:

    python benchmarks/ensemble.py models/default runs/wide_dense runs/wide16_dense --labels default wide wide16

All models must be evaluated on the same split (the test pairs are those of the first model's split).
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
from run_info import command_line

from ddi.evaluate import macro_f1_of_tested_types, pairs_per_type, per_type_f1, type_metrics
from ddi.models.labels import TypeOrientation
from ddi.predict.predictor import Predictor
from ddi.train.pipeline import PartScores, part_scores


def scores_of_test_pairs(model_dir: Path) -> tuple[PartScores, np.ndarray, TypeOrientation, dict]:
    """The model's ``PartScores`` of its test pairs, their true types, the model's classes and its split fields."""
    predictor = Predictor.load(model_dir)
    ctx = predictor.ctx
    types = ctx.rows(ctx.split.test)[2]
    scores = part_scores(predictor.model, ctx)
    run = predictor.run
    return scores, types, ctx.labels, {"split": run.split, "split_dir": run.split_dir, "split_seed": run.split_seed}


def figures(types: np.ndarray, predicted: np.ndarray, test_counts: dict[int, int]) -> dict[str, float | int]:
    metrics = type_metrics(types, predicted)
    tested = macro_f1_of_tested_types(per_type_f1(types, predicted), test_counts)
    return {
        "macro_f1": metrics["macro_f1"],
        "accuracy": metrics["accuracy"],
        "kappa": metrics["kappa"],
        "macro_f1_of_tested_types": tested.macro_f1,
        "tested_types": tested.types,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", type=Path, help="model directories written by ddi train")
    parser.add_argument("--labels", nargs="+", required=True, help="one label per model directory")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/ensemble.json"))
    args = parser.parse_args()
    if len(args.labels) != len(args.models):
        parser.error("give one label per model directory")
    start = time.perf_counter()
    scores, split = {}, None
    for model_dir, label in zip(args.models, args.labels, strict=True):
        model_scores, types, labels, fields = scores_of_test_pairs(model_dir)
        if split is not None and fields != split:
            parser.error(f"{model_dir} was trained on another split ({fields} vs {split})")
        split, scores[label] = fields, model_scores
    test_counts = pairs_per_type(types)
    rows = []
    for size in range(1, len(args.labels) + 1):
        for members in itertools.combinations(args.labels, size):
            mean = PartScores.mean([scores[m] for m in members])
            row = {"members": list(members), **figures(types, labels.predicted_types(mean.both), test_counts)}
            row["as_listed"] = figures(types, labels.predicted_types(mean.listed), test_counts)
            rows.append(row)
            listed = row["as_listed"]
            print(
                f"{' + '.join(members)}: {row['macro_f1']:.4f} / {row['accuracy']:.4f} / {row['kappa']:.4f} "
                f"(tested types {row['macro_f1_of_tested_types']:.4f}); as listed {listed['macro_f1']:.4f} / "
                f"{listed['accuracy']:.4f} / {listed['kappa']:.4f}"
            )
    result = {
        "models": {label: str(path) for label, path in zip(args.labels, args.models, strict=True)},
        "split": split,
        "test_pairs": len(types),
        "rows": rows,
        "seconds": round(time.perf_counter() - start, 1),
        "machine": {"platform": platform.platform(), "cpus": torch.get_num_threads()},
        "command": command_line(),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
