"""``ddi evaluate``: test figures of a saved model (macro-F1, accuracy, kappa, per-type F1, exists AUCs)."""

from __future__ import annotations

import argparse
import json
import logging
from typing import TYPE_CHECKING, Any

from ddi.cli.main import add_data_dir_argument, non_blank
from ddi.errors import UserInputError

if TYPE_CHECKING:
    from ddi.predict.predictor import Predictor
    from ddi.train.pipeline import PartPredictions

log = logging.getLogger(__name__)

#: --resamples above this would take minutes to hours (about 1.5 ms a resample on 38,000 test pairs) for no
#: visible change in a 95 % interval
MAX_RESAMPLES = 100_000
#: below this the bootstrap interval's ends are a handful of draws: warned about
FEW_RESAMPLES = 100


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="evaluate a saved model on a split", description=__doc__)
    p.add_argument(
        "--model", type=non_blank, default=None, help="model directory (default: the shipped model under models/)"
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument("--split", choices=["s0", "s1", "s2"], help="evaluate on this setting (default: the model's)")
    group.add_argument("--split-dir", help="directory with your own train.tsv, valid.tsv, test.tsv")
    p.add_argument("--split-seed", type=int, help="seed of the s1/s2 drug split")
    p.add_argument("--part", choices=["test", "valid"], default="test")
    p.add_argument(
        "--against",
        metavar="REF",
        help="also score model directory REF on the same pairs and say, with a paired bootstrap over them, "
        "whether the model's margin over REF is real or a few lucky pairs",
    )
    p.add_argument(
        "--with",
        dest="with_models",
        nargs="+",
        metavar="DIR",
        help="average the probabilities of these model directories (trained on the same data) with the model's, "
        "pair by pair, and give the figures of the ensemble",
    )
    p.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples of --against (default 1000)")
    p.add_argument("--json", action="store_true", help="print all figures as JSON")
    add_data_dir_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ddi.evaluate import pairs_per_type
    from ddi.predict.predictor import Predictor
    from ddi.train.pipeline import test_report_with_predictions

    if not 1 <= args.resamples <= MAX_RESAMPLES:
        raise UserInputError(f"--resamples must be between 1 and {MAX_RESAMPLES:,} (got {args.resamples:,})")
    if args.against and args.resamples < FEW_RESAMPLES:
        log.warning(
            "%d resample(s): the 95 %% interval of --against rests on too few draws to mean much (use >= 1000)",
            args.resamples,
        )
    predictor = Predictor.load(
        args.model,
        data_dir=args.data_dir,
        split=args.split,
        split_dir=args.split_dir,
        split_seed=args.split_seed,
    )
    members = [predictor] + [predictor.load_beside(model_dir) for model_dir in args.with_models or ()]
    if len(members) > 1:
        from ddi.predict.ensemble import ensemble_report

        report, predicted = ensemble_report(members, args.part)
    else:
        report, predicted = test_report_with_predictions(predictor.model, predictor.ctx, args.part)
    # each member warns of its own; the report keeps the most any member saw (a sum could exceed the pairs)
    seen = max(warn_pairs_seen(member, args.part) for member in members)
    listed_order = any(member.run.train.listed_order for member in members)
    if seen:
        report["pairs_seen_in_training"] = seen
    if args.against:
        report["against"] = against_report(predictor, args, predicted)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"model: {predictor.model_dir}  split: {predictor.ctx.split.name}  {args.part} pairs: {report['n']:,}")
    if "ensemble" in report:
        names = report["ensemble"]
        print(f"  an ensemble of {len(names)} models, probabilities averaged: {', '.join(names)}")
    for key in ("macro_f1", "accuracy", "kappa", "roc_auc", "pr_auc"):
        if key in report:
            print(f"  {key:<9} {report[key]:.4f}")
    counts = pairs_per_type(getattr(predictor.ctx.split, args.part)["type"].to_numpy())
    steady_line = tested_types_line(report["per_type_f1"], counts, args.part)
    if steady_line:
        print(steady_line)
    worst = sorted(report["per_type_f1"].items(), key=lambda kv: kv[1])[:5]
    print("  lowest per-type F1: " + ", ".join(f"type {t}: {f:.2f}" for t, f in worst))
    if report["confusions"]:
        common = ", ".join(f"{c['true']} as {c['predicted']}: {c['pairs']:,}" for c in report["confusions"][:5])
        print(f"  commonest mistakes (true type as predicted type: pairs): {common}")
    same = report.get("with_same_effect_wordings_as_one_type")
    if same and same["errors_between_wordings"]:
        wordings = ", ".join("/".join(map(str, pair)) for pair in same["wordings"])
        print(
            f"  {same['errors_between_wordings']:,} mistakes were only DrugBank's choice between two wordings of one "
            f"effect (types {wordings}); as one type: macro-F1 {same['macro_f1']:.4f}, accuracy "
            f"{same['accuracy']:.4f}, kappa {same['kappa']:.4f}"
        )
    listed = report.get("as_listed")
    if listed:
        print(
            f"  each pair read only in the order its row lists it (as published benchmarks score): macro-F1 "
            f"{listed['macro_f1']:.4f}, accuracy {listed['accuracy']:.4f}, kappa {listed['kappa']:.4f}"
        )
        if listed_order:
            print("  trained on rows as listed (train.listed_order): these are the figures to compare it by")
    print(f"  evaluated in {report['seconds']:.1f} s")
    if args.against:
        print_against(report, args.part, listed_order)
    return 0


def tested_types_line(per_type_f1: dict[Any, float], counts: dict[int, int], part: str) -> str | None:
    """The line on macro-F1 over the types with enough ``part`` pairs, or None when every type has enough."""
    from ddi.evaluate import MIN_TEST_PAIRS, macro_f1_of_tested_types

    steady = macro_f1_of_tested_types({int(t): f for t, f in per_type_f1.items()}, counts)
    if not steady.types:  # no figure to give: "over the 0 types ...: nan" reads as a broken model
        return f"  no type has >= {MIN_TEST_PAIRS} {part} pairs: each per-type F1 rests on a handful of pairs"
    if steady.types < len(per_type_f1):  # a few pairs of the rarest types swing macro-F1: say how much
        return f"  macro-F1 over the {steady.types} types with >= {MIN_TEST_PAIRS} {part} pairs: {steady.macro_f1:.4f}"
    return None


def warn_pairs_seen(predictor: Predictor, part: str) -> int:
    """How many of the loaded ``part`` pairs the model trained on, with a warning when there are any."""
    seen = predictor.pairs_seen_in_training(part)
    if seen:
        split, seed, split_dir = predictor.trained_split
        log.warning(
            "%s of the %s %s pairs were training pairs of %s (trained on %s): these figures do not measure how it "
            "does on pairs it has not seen",
            f"{seen:,}",
            f"{len(getattr(predictor.ctx.split, part)):,}",
            part,
            predictor.model_dir,
            split_dir or (split if split == "s0" else f"{split}, split seed {seed}"),
        )
    return seen


def against_report(predictor: Predictor, args: argparse.Namespace, predicted: PartPredictions) -> dict[str, Any]:
    """The reference model scored on the pairs ``predictor`` loaded, and the paired-bootstrap differences
    (``predicted``: the model's own predicted types of those pairs, scored once by the report)."""
    from ddi.predict.comparison import compare_predictors

    reference = predictor.load_beside(args.against)
    if reference.model_dir.resolve() == predictor.model_dir.resolve():
        log.warning("--against %s is the model itself: every difference is zero", args.against)
    pairs = len(getattr(predictor.ctx.split, args.part))
    log.info("paired bootstrap over the %s %s pairs: %s resamples", f"{pairs:,}", args.part, f"{args.resamples:,}")
    comparison = compare_predictors(predictor, reference, args.part, args.resamples, predicted=predicted)
    listed = comparison.as_listed
    assert listed is not None  # compare_predictors compares both readings
    return {
        "reference": str(reference.model_dir),
        "reference_pairs_seen_in_training": warn_pairs_seen(reference, args.part),
        "reference_trained_as_listed": reference.run.train.listed_order,
        "resamples": args.resamples,
        "reference_figures": comparison.reference_figures,
        "difference": {name: d._asdict() for name, d in comparison.differences.items()},
        "as_listed": {
            "reference_figures": listed.reference_figures,
            "difference": {name: d._asdict() for name, d in listed.differences.items()},
        },
    }


def print_against(report: dict[str, Any], part: str, listed_order: bool) -> None:
    """The differences from the reference, and with ``listed_order`` (a model or the reference trained on rows
    as listed) those of each pair read as listed too."""
    against = report["against"]
    print(f"against {against['reference']} (this model minus it; paired bootstrap over the {part} pairs):")
    print_differences(against, report)
    if listed_order or against["reference_trained_as_listed"]:
        print("  each pair read only in the order its row lists it:")
        print_differences(against["as_listed"], report["as_listed"], indent="    ")


def print_differences(against: dict[str, Any], figures: dict[str, Any], indent: str = "  ") -> None:
    for name, d in against["difference"].items():
        verdict = "the pairs support it" if d["low"] > 0 or d["high"] < 0 else "within what chance gives"
        print(
            f"{indent}{name:<9} {against['reference_figures'][name]:.4f} vs {figures[name]:.4f}: "
            f"{100 * d['difference']:+.2f} points (95 % interval {100 * d['low']:+.2f} to {100 * d['high']:+.2f}, "
            f"ahead in {100 * d['b_better']:.0f} % of resamples; {verdict})"
        )
