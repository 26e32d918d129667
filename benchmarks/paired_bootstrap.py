"""Is one model's margin over another real, or a few lucky test pairs? A paired bootstrap over the test pairs.

Scores the test split with a reference model and each other model (the shipped decision, as ``ddi evaluate
--against`` does: ``ddi.predict.comparison``), then resamples the test pairs with replacement
(``ddi.evaluate.paired_bootstrap``) and reports, per model, its macro-F1 / accuracy / kappa minus the
reference's, the central 95 % interval of that difference and the share of resamples in which the model is
ahead. It says what one seed's test set supports, not how the difference varies between training seeds.
Run from the repository root::

    python benchmarks/paired_bootstrap.py --reference runs/gmp80 runs/dcil80 --labels "DCIL 80 %" \\
        --out benchmarks/results/paired_bootstrap.json

A row whose label is already in ``--out`` is replaced. Every model must have been trained on the reference's
split (the comparison refuses other test pairs).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from run_info import command_line

from ddi.predict.comparison import compare_predictors
from ddi.predict.predictor import Predictor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", type=Path, help="model directories written by ddi train")
    parser.add_argument("--reference", type=Path, required=True, help="the model every other one is compared to")
    parser.add_argument("--labels", nargs="+", required=True, help="one label per model directory")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0, help="seed of the resampling")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/paired_bootstrap.json"))
    args = parser.parse_args()
    if len(args.labels) != len(args.models):
        parser.error("give one label per model directory")
    start = time.perf_counter()
    reference = Predictor.load(args.reference)
    run = reference.run
    rows = json.loads(args.out.read_text()) if args.out.is_file() else []
    for model_dir, label in zip(args.models, args.labels, strict=True):
        model = Predictor.load(model_dir)
        comparison = compare_predictors(model, reference, "test", args.resamples, args.seed)
        row = {
            "run": label,
            "model": str(model_dir),
            "reference": str(args.reference),
            "split": {"split": run.split, "split_seed": run.split_seed, "split_dir": run.split_dir},
            "test_pairs": len(reference.ctx.split.test),
            "resamples": args.resamples,
            "model_figures": comparison.figures,
            "reference_figures": comparison.reference_figures,
            "difference": {name: d._asdict() for name, d in comparison.differences.items()},
            "command": command_line(),
        }
        rows = [r for r in rows if r["run"] != label] + [row]
        print(f"{label} ({model_dir} minus {args.reference}):")
        for name, d in comparison.differences.items():
            print(
                f"  {name}: {100 * d.difference:+.2f} points (95 % of resamples {100 * d.low:+.2f} to "
                f"{100 * d.high:+.2f}; ahead in {100 * d.b_better:.1f} %)"
            )
    args.out.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
