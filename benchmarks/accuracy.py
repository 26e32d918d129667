"""Accuracy benchmark: the model, its ablations and the fingerprint baseline on S0, S1 and S2.

Results are appended to ``benchmarks/results/accuracy.json`` after every run (an interrupted benchmark keeps
what it measured). Example, the full table (many hours on 2 CPU cores):

    python benchmarks/accuracy.py --settings s0 s1 s2 --variants full molecule_only graph_only no_rules fingerprint

and one quick row:

    python benchmarks/accuracy.py --settings s0 --variants full --seeds 0
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import platform
import time
from pathlib import Path

import torch

from ddi.data.benchmark import load_benchmark
from ddi.models.config import RunConfig
from ddi.models.fingerprint_baseline import train_fingerprint_baseline
from ddi.train.context import TrainingContext
from ddi.train.pipeline import test_report
from ddi.train.prior import fit_prior_adjustment
from ddi.train.trainer import train

RESULTS = Path(__file__).parent / "results" / "accuracy.json"

VARIANTS = {
    "full": {},
    "molecule_only": {"kg_layers": 0, "path_length": 0, "use_rules": False},
    "graph_only": {"use_molecule": False},
    "no_rules": {"use_rules": False},
}


def machine() -> dict:
    return {"platform": platform.platform(), "processor": platform.machine(), "cpus": torch.get_num_threads()}


def append_result(row: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    rows = json.loads(RESULTS.read_text()) if RESULTS.is_file() else []
    rows.append(row)
    RESULTS.write_text(json.dumps(rows, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--settings", nargs="+", default=["s0"], choices=["s0", "s1", "s2"])
    parser.add_argument("--variants", nargs="+", default=["full"], choices=[*VARIANTS, "fingerprint"])
    parser.add_argument("--seeds", nargs="+", type=int, help="default: 0 1 2 for s0, 0..4 for s1/s2")
    parser.add_argument("--config", help="base RunConfig JSON (default: the shipped defaults)")
    parser.add_argument("--epochs", type=int, help="override train.epochs")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    tables, _ = load_benchmark()
    base = RunConfig.load(args.config) if args.config else RunConfig()
    if args.epochs:
        base.train.epochs = args.epochs
    for setting in args.settings:
        seeds = args.seeds or ([0, 1, 2] if setting == "s0" else [0, 1, 2, 3, 4])
        for seed in seeds:
            for variant in args.variants:
                run = copy.deepcopy(base)
                run.split = setting
                # S0 has one split: seeds vary training; S1/S2 seeds pick the drug split (training seed 0).
                run.split_seed = 0 if setting == "s0" else seed
                run.train.seed = seed if setting == "s0" else 0
                for key, value in VARIANTS.get(variant, {}).items():
                    setattr(run.model, key, value)
                ctx = TrainingContext.build(run, tables, progress=False)
                start = time.time()
                if variant == "fingerprint":
                    metrics = train_fingerprint_baseline(ctx, seed=run.train.seed, progress=False)
                    extra = {}
                else:
                    result = train(ctx, run, progress=False)
                    uncorrected = test_report(result.model, ctx)
                    prior = fit_prior_adjustment(result.model, ctx, run.train.prior_adjustment)
                    metrics = test_report(result.model, ctx)  # as `ddi train` reports it: with the correction
                    for report in (metrics, uncorrected):
                        report.pop("per_type_f1", None)
                    extra = {
                        "best_epoch": result.best_epoch,
                        "parameters": sum(p.numel() for p in result.model.parameters()),
                        "prior_tau": prior["tau"],
                        "test_without_prior_adjustment": uncorrected,
                    }
                row = {
                    "setting": setting,
                    "seed": seed,
                    "variant": variant,
                    "test": metrics,
                    "train_seconds": time.time() - start,
                    "epochs": run.train.epochs,
                    "machine": machine(),
                    "command": "python benchmarks/accuracy.py "
                    + " ".join(
                        ["--settings", setting, "--variants", variant, "--seeds", str(seed)]
                        + (["--epochs", str(args.epochs)] if args.epochs else [])
                    ),
                    **extra,
                }
                append_result(row)
                logging.info("%s seed %d %s: %s", setting, seed, variant, json.dumps(metrics))


if __name__ == "__main__":
    main()
