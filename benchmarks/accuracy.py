"""Accuracy benchmark: the model, its ablations and the fingerprint baseline on S0, S1 and S2.

Results are appended to ``benchmarks/results/accuracy.json`` after every run (an interrupted benchmark keeps
what it measured). Example, the full table (many hours on 2 CPU cores):

    python benchmarks/accuracy.py --settings s0 s1 s2 --variants full molecule_only graph_only no_rules fingerprint

and one quick row:

    python benchmarks/accuracy.py --settings s0 --variants full --seeds 0
"""

from __future__ import annotations

import argparse
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
from ddi.train.pipeline import setting_run, train_and_test

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
                run = setting_run(base, setting, seed)
                for key, value in VARIANTS.get(variant, {}).items():
                    setattr(run.model, key, value)
                if variant == "fingerprint":
                    ctx = TrainingContext.build(run, tables, progress=False)
                    start = time.time()
                    extra = {"test": train_fingerprint_baseline(ctx, seed=run.train.seed, progress=False)}
                    extra["train_seconds"] = time.time() - start
                    extra["epochs"] = run.train.epochs
                else:
                    extra = train_and_test(run, tables)
                row = {
                    "setting": setting,
                    "seed": seed,
                    "variant": variant,
                    "machine": machine(),
                    "command": "python benchmarks/accuracy.py "
                    + " ".join(
                        ["--settings", setting, "--variants", variant, "--seeds", str(seed)]
                        + (["--epochs", str(args.epochs)] if args.epochs else [])
                    ),
                    **extra,
                }
                append_result(row)
                logging.info("%s seed %d %s: %s", setting, seed, variant, json.dumps(row["test"]))


if __name__ == "__main__":
    main()
