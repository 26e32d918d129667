"""``ddi train``: learn a model on a split and save it with its config, vocabularies and metrics."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ddi.cli.main import add_data_dir_argument


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model and save it", description=__doc__)
    p.add_argument("--out", required=True, help="model directory to write (e.g. models/my-model)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--split", choices=["s0", "s1", "s2"], help="s0: given pair split; s1/s2: new drugs")
    group.add_argument("--split-dir", help="directory with your own train.tsv, valid.tsv, test.tsv")
    p.add_argument("--split-seed", type=int, help="seed of the s1/s2 drug split (0-4)")
    p.add_argument("--config", help="JSON file with 'model' and 'train' sections (see docs/architecture.md)")
    p.add_argument("--epochs", type=int, help="override train.epochs")
    p.add_argument("--seed", type=int, help="override train.seed")
    p.add_argument("--max-train-pairs", type=int, help="train on a random subset of this many pairs")
    p.add_argument("--sparsity", type=float, help="fraction of weights to prune (e.g. 0.95)")
    p.add_argument(
        "--pruning",
        choices=["none", "dcil", "dpf", "gmp", "oneshot"],
        help="sparse training method (dcil: dual-path training, the default when --sparsity is given)",
    )
    p.add_argument(
        "--prune-criterion",
        choices=["magnitude", "input"],
        help="what pruning ranks: |w| (the DCIL paper) or |w| x RMS of the input it multiplies",
    )
    p.add_argument(
        "--init-from",
        metavar="MODEL_DIR",
        help="start from this trained model (same config, data and split), e.g. to prune a dense model",
    )
    p.add_argument(
        "--teacher",
        metavar="MODEL_DIR",
        help="learn also from this trained model's outputs (knowledge distillation; same data and split)",
    )
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    add_data_dir_argument(p)
    p.set_defaults(func=run)


def build_run_config(args: argparse.Namespace):
    from ddi.models.config import RunConfig

    run = RunConfig.load(args.config) if args.config else RunConfig()
    if args.split:
        run.split = args.split
    # Absolute, as saved beside the checkpoint: a relative path would name another place (or nothing) when the
    # model is reloaded from another working directory, and its training split could not be rebuilt.
    if args.split_dir:
        run.split_dir = str(Path(args.split_dir).resolve())
    if args.split_seed is not None:
        run.split_seed = args.split_seed
    if args.data_dir:
        run.data_dir = str(Path(args.data_dir).resolve())
    if args.epochs is not None:
        run.train.epochs = args.epochs
    if args.seed is not None:
        run.train.seed = args.seed
    if args.max_train_pairs is not None:
        run.train.max_train_pairs = args.max_train_pairs
    if args.sparsity is not None:
        run.train.prune_sparsity = args.sparsity
        if args.pruning is None and run.train.prune_method == "none":
            run.train.prune_method = "dcil"
    if args.pruning is not None:
        run.train.prune_method = args.pruning
    if args.prune_criterion is not None:
        run.train.prune_criterion = args.prune_criterion
    if args.init_from is not None:
        run.train.init_from = args.init_from
    if args.teacher is not None:  # absolute, so the model card names it from anywhere
        run.train.teacher = str(Path(args.teacher).resolve())
    return run.check()


def run(args: argparse.Namespace) -> int:
    from ddi.train.pipeline import train_and_save

    run_config = build_run_config(args)
    metrics = train_and_save(run_config, args.out, progress=not args.no_progress)
    test = metrics.get("test", {})
    summary = {k: test[k] for k in ("macro_f1", "accuracy", "kappa", "roc_auc", "pr_auc") if k in test}
    print(json.dumps({"model": args.out, "train_seconds": round(metrics["train_seconds"], 1), "test": summary}))
    return 0
