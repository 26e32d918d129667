"""Where models lose macro-F1 against a reference model, by how common each interaction type is in training.

A model that loses only in the rare types needs a better prior or more examples; one that loses in every band
lacks capacity. Reads the per-type test F1 that ``ddi train`` saved in each model's ``metrics.json`` and the
training pairs of the models' split. Each row also gives the macro-F1 of both models over the types with at least
5 test pairs (``ddi.evaluate.macro_f1_of_tested_types``), which a few test pairs of the rarest types cannot swing.
Run from the repository root::

    python benchmarks/type_frequency.py --reference models/default runs/gmp95 runs/dcil95 \\
        --labels "GMP 95 %" "DCIL 95 %" --out benchmarks/results/type_frequency.json

A row whose label is already in ``--out`` is replaced.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from run_info import command_line

from ddi.data.benchmark import load_benchmark
from ddi.data.splits import load_split
from ddi.evaluate import MIN_TEST_PAIRS, f1_by_type_frequency, macro_f1_of_tested_types, pairs_per_type

#: config fields that name the data and split a model was trained and tested on
SPLIT_FIELDS = ("data_dir", "split", "split_seed", "split_dir")


def read_model(model_dir: Path) -> tuple[dict[int, float], dict]:
    """The per-type test F1 of a saved model and the config fields naming its split."""
    metrics = json.loads((model_dir / "metrics.json").read_text())
    config = json.loads((model_dir / "config.json").read_text())
    per_type = {int(t): f1 for t, f1 in metrics["test"]["per_type_f1"].items()}
    return per_type, {k: config.get(k) for k in SPLIT_FIELDS}


def type_counts(split_fields: dict) -> tuple[dict[int, int], dict[int, int]]:
    """Pairs per type in the training and in the test part of the split."""
    tables, _ = load_benchmark(split_fields["data_dir"])
    split = load_split(split_fields["split"], tables, split_fields["split_seed"] or 0, split_fields["split_dir"])
    return pairs_per_type(split.train["type"].to_numpy()), pairs_per_type(split.test["type"].to_numpy())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", type=Path, help="model directories written by ddi train")
    parser.add_argument("--reference", type=Path, required=True, help="the model to compare against (dense)")
    parser.add_argument("--labels", nargs="+", required=True, help="one label per model directory")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/type_frequency.json"))
    args = parser.parse_args()
    if len(args.labels) != len(args.models):
        parser.error("give one label per model directory")
    reference, split_fields = read_model(args.reference)
    counts, test_counts = type_counts(split_fields)
    reference_tested = macro_f1_of_tested_types(reference, test_counts).macro_f1
    rows = json.loads(args.out.read_text()) if args.out.is_file() else []
    for model_dir, label in zip(args.models, args.labels, strict=True):
        per_type, fields = read_model(model_dir)
        if fields != split_fields:
            parser.error(f"{model_dir} was tested on another split than {args.reference} ({fields} vs {split_fields})")
        bands = f1_by_type_frequency(per_type, reference, counts)
        tested = {
            "min_test_pairs": MIN_TEST_PAIRS,
            "macro_f1": macro_f1_of_tested_types(per_type, test_counts).macro_f1,
            "reference_macro_f1": reference_tested,
        }
        row = {
            "run": label,
            "model": str(model_dir),
            "reference": str(args.reference),
            "bands": bands,
            "tested_types": tested,
        }
        rows = [r for r in rows if r["run"] != label] + [{**row, "command": command_line()}]
        lost = ", ".join(f"{b['band']}: {b['points_lost']:.2f}" for b in bands)
        print(f"{label}: macro-F1 points lost by training pairs per type ({lost})")
        print(
            f"  macro-F1 over the types with >= {MIN_TEST_PAIRS} test pairs: {tested['macro_f1']:.4f} "
            f"(reference {reference_tested:.4f})"
        )
    args.out.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
