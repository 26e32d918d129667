"""Which interaction types a model confuses on its test pairs, and how many of its errors are two wordings of
one effect.

DrugBank words some effects two ways: "The metabolism of #Drug2 can be decreased when combined with #Drug1" and
"The serum concentration of #Drug2 can be increased when it is combined with #Drug1" both say that #Drug1 raises
#Drug2's blood levels (and "metabolism ... increased" / "serum concentration ... decreased" that it lowers them;
``ddi.data.templates.same_effect_types``). Which wording a pair got is DrugBank's choice, not pharmacology the
drugs show. This script scores the test split with
each model as it is served (``Predictor.score_ids``), lists the most frequent (true, predicted) type confusions, and
reports the figures a model would reach if the two wordings of each effect counted as one type.
Run from the repository root::

    python benchmarks/confusions.py models/default --out benchmarks/results/confusions.json

A row whose model directory is already in ``--out`` is replaced.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from run_info import command_line

from ddi.data.templates import same_effect_wordings
from ddi.evaluate import same_effect_metrics, top_confusions, type_metrics
from ddi.predict.predictor import Predictor

TOP_CONFUSIONS = 15


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", type=Path, help="model directories written by ddi train")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/confusions.json"))
    args = parser.parse_args()
    rows = json.loads(args.out.read_text())["rows"] if args.out.exists() else []
    for model_dir in args.models:
        predictor = Predictor.load(model_dir)
        ctx = predictor.ctx
        wordings = same_effect_wordings(ctx.tables.interaction_types)
        heads, tails, truth = ctx.rows(ctx.split.test)
        probs, _ = predictor.score_ids(heads, tails)  # the shipped decision, as ensemble.py scores
        predicted = ctx.labels.predicted_types(probs)
        confusions = top_confusions(truth, predicted, TOP_CONFUSIONS)
        as_one = same_effect_metrics(truth, predicted, wordings)
        row = {
            "model_dir": str(model_dir),
            "split": {
                "split": predictor.run.split,
                "split_dir": predictor.run.split_dir,
                "split_seed": predictor.run.split_seed,
            },
            "test_pairs": len(truth),
            "errors": int((truth != predicted).sum()),
            "test": type_metrics(truth, predicted),
            "test_with_same_effect_wordings_as_one_type": as_one,
            "top_confusions": confusions,  # type ids; their templates are in the data's interaction_types.tsv
            "command": command_line(),
        }
        rows = [r for r in rows if r["model_dir"] != str(model_dir)] + [row]
        between = as_one["errors_between_wordings"]
        print(
            f"{model_dir}: {row['errors']:,} errors of {row['test_pairs']:,} test pairs, {between:,} "
            f"({between / max(row['errors'], 1):.0%}) between two wordings of one effect; accuracy "
            f"{row['test']['accuracy']:.4f}, {as_one['accuracy']:.4f} with them as one type"
        )
    args.out.write_text(json.dumps({"rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
