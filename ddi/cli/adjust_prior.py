"""``ddi adjust-prior``: fit (or set) a saved model's prior correction of the type decision, re-evaluate, save.

``ddi train`` already fits it; this command brings a model trained before the correction existed up to date, or
sets ``tau`` by hand (``--tau 0`` removes it; the look-alike vote weight is kept unless ``--vote-weight`` sets it
too). The model directory is rewritten atomically.
"""

from __future__ import annotations

import argparse

from ddi.cli.main import add_data_dir_argument


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("adjust-prior", help="fit a saved model's rare-type prior correction", description=__doc__)
    p.add_argument("--model", required=True, help="model directory to update in place")
    p.add_argument("--tau", type=float, help="use this tau (0-1) instead of fitting it on the validation pairs")
    p.add_argument(
        "--vote-weight",
        type=float,
        help="with --tau: also set the look-alike vote's weight in the decision (0-1; default: keep the model's)",
    )
    storage = p.add_mutually_exclusive_group()
    storage.add_argument(
        "--float16", action="store_true", help="store the weights as float16 (half the size; loading casts back)"
    )
    storage.add_argument(
        "--shared-values",
        action="store_true",
        help="also replace the kept values of each sparse tensor by at most 256 shared ones (k-means, as in Deep "
        "Compression), stored as one byte each; the figures are re-measured on the shared weights",
    )
    add_data_dir_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ddi.errors import UserInputError
    from ddi.models.card import type_decision_text
    from ddi.predict.predictor import Predictor
    from ddi.train.pipeline import readjust_decision

    if args.tau is not None and not 0 <= args.tau <= 1:
        raise UserInputError(f"--tau must be between 0 and 1, got {args.tau}")
    if args.vote_weight is not None and (args.tau is None or not 0 <= args.vote_weight <= 1):
        raise UserInputError("--vote-weight needs --tau (both are fitted together otherwise) and must be in [0, 1]")
    predictor = Predictor.load(args.model, data_dir=args.data_dir)
    if args.vote_weight is not None and not predictor.model.num_votes:
        raise UserInputError(f"{predictor.model_dir} has no look-alike votes: --vote-weight has nothing to weigh")
    before = predictor.metrics.get("test", {})
    metrics = readjust_decision(
        predictor, args.tau, args.vote_weight, float16=args.float16, shared_values=args.shared_values
    )
    after = metrics.get("test", {})
    print(type_decision_text(metrics["prior_adjustment"]))
    for key in ("macro_f1", "accuracy", "kappa"):
        if key in after:
            print(f"  test {key:<9} {before.get(key, float('nan')):.4f} -> {after[key]:.4f}")
    return 0
