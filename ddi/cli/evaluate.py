"""``ddi evaluate``: test figures of a saved model (macro-F1, accuracy, kappa, per-type F1, exists AUCs)."""

from __future__ import annotations

import argparse
import json
import logging

from ddi.cli.main import add_data_dir_argument

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="evaluate a saved model on a split", description=__doc__)
    p.add_argument("--model", default=None, help="model directory (default: the shipped model under models/)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--split", choices=["s0", "s1", "s2"], help="evaluate on this setting (default: the model's)")
    group.add_argument("--split-dir", help="directory with your own train.tsv, valid.tsv, test.tsv")
    p.add_argument("--split-seed", type=int, help="seed of the s1/s2 drug split")
    p.add_argument("--part", choices=["test", "valid"], default="test")
    p.add_argument("--json", action="store_true", help="print all figures as JSON")
    add_data_dir_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ddi.evaluate import MIN_TEST_PAIRS, macro_f1_of_tested_types, pairs_per_type
    from ddi.predict.predictor import Predictor
    from ddi.train.pipeline import test_report

    predictor = Predictor.load(
        args.model,
        data_dir=args.data_dir,
        split=args.split,
        split_dir=args.split_dir,
        split_seed=args.split_seed,
    )
    report = test_report(predictor.model, predictor.ctx, args.part)
    seen = predictor.pairs_seen_in_training(args.part)
    if seen:
        report["pairs_seen_in_training"] = seen
        split, seed, split_dir = predictor.trained_split
        log.warning(
            "%s of the %s %s pairs were training pairs of this model (trained on %s): these figures do not "
            "measure how it does on pairs it has not seen",
            f"{seen:,}",
            f"{report['n']:,}",
            args.part,
            split_dir or (split if split == "s0" else f"{split}, split seed {seed}"),
        )
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"model: {predictor.model_dir}  split: {predictor.ctx.split.name}  {args.part} pairs: {report['n']:,}")
    for key in ("macro_f1", "accuracy", "kappa", "roc_auc", "pr_auc"):
        if key in report:
            print(f"  {key:<9} {report[key]:.4f}")
    counts = pairs_per_type(getattr(predictor.ctx.split, args.part)["type"].to_numpy())
    steady = macro_f1_of_tested_types(report["per_type_f1"], counts)
    if steady.types < len(report["per_type_f1"]):  # a few pairs of the rarest types swing macro-F1: say how much
        tested = f"the {steady.types} types with >= {MIN_TEST_PAIRS} {args.part} pairs"
        print(f"  macro-F1 over {tested}: {steady.macro_f1:.4f}")
    worst = sorted(report["per_type_f1"].items(), key=lambda kv: kv[1])[:5]
    print("  lowest per-type F1: " + ", ".join(f"type {t}: {f:.2f}" for t, f in worst))
    if report["confusions"]:
        common = ", ".join(f"{c['true']} as {c['predicted']}: {c['pairs']:,}" for c in report["confusions"][:5])
        print(f"  commonest mistakes (true type as predicted type: pairs): {common}")
    print(f"  evaluated in {report['seconds']:.1f} s")
    return 0
