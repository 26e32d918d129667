"""What the look-alikes should be compared by: the untrained look-alike vote on the *validation* pairs of the given
split (S0) and of the new-drug splits, for each set of views (structure and proteins, plus ATC codes, categories,
both, or both and the drugs' typed interaction profiles).

The vote needs no training, so every view set is measured on all ten S1 and S2 drug splits in minutes; the choice
of the default's ``vote_annotations`` is made here, on validation, and the test figures are left to
``accuracy.py``. Run from the repository root::

    python benchmarks/look_alike_views.py [--settings s0 s1 s2] [--k 16] [--pools 0 256]

``--pools`` also varies ``vote_pool`` (how far one drug's look-alikes are searched for those that met the other
drug). Writes ``benchmarks/results/look_alike_views.json``: per (setting, split, views, pool) the validation
macro-F1 and accuracy, and the mean per (setting, views, pool).
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import platform
import statistics
import time
from pathlib import Path

import torch
from run_info import command_line

from ddi.data.benchmark import load_benchmark
from ddi.evaluate import type_metrics
from ddi.models.config import VOTE_ANNOTATIONS, RunConfig
from ddi.models.neighbour_votes import look_alike_basis, vote_types
from ddi.train.context import TrainingContext
from ddi.train.pipeline import setting_run

RESULTS = Path(__file__).parent / "results" / "look_alike_views.json"
#: The label annotations compared, beside structure and proteins (always on).
VIEW_SETS: tuple[tuple[str, ...], ...] = (
    (),
    ("atc",),
    ("categories",),
    VOTE_ANNOTATIONS,
    (*VOTE_ANNOTATIONS, "interactions"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--settings", nargs="+", default=["s0", "s1", "s2"], choices=["s0", "s1", "s2"])
    parser.add_argument("--splits", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--k", type=int, default=16, help="look-alikes per drug")
    parser.add_argument("--pools", nargs="+", type=int, default=[0], help="vote_pool values to compare")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    tables, _ = load_benchmark()
    start = time.time()
    rows = []
    for setting in args.settings:
        for split in args.splits if setting != "s0" else [0]:  # S0 has one split
            ctx = TrainingContext.build(setting_run(RunConfig(), setting, split), tables, progress=False)
            heads, tails, types = ctx.rows(ctx.split.valid)
            commonest = int(ctx.split.train["type"].mode().iloc[0])
            for views, pool in itertools.product(VIEW_SETS, args.pools):
                votes = ctx.neighbour_votes(args.k, views, pool)
                figures = type_metrics(types, vote_types(votes.lookup(heads, tails), ctx.labels, commonest))
                row = {
                    "setting": setting,
                    "split": split,
                    "views": look_alike_basis(views),
                    "pool": pool,
                    "macro_f1": figures["macro_f1"],
                    "accuracy": figures["accuracy"],
                }
                rows.append(row)
                figures_text = f"{row['macro_f1']:.4f} / {row['accuracy']:.4f}"
                print(f"{setting} split {split} {row['views']}, pool {pool}: {figures_text}")
    means = []
    for setting in args.settings:
        for views, pool in itertools.product(VIEW_SETS, args.pools):
            basis = look_alike_basis(views)
            mine = [r for r in rows if r["setting"] == setting and r["views"] == basis and r["pool"] == pool]
            means.append(
                {
                    "setting": setting,
                    "views": basis,
                    "pool": pool,
                    "splits": [r["split"] for r in mine],
                    "macro_f1": statistics.fmean(r["macro_f1"] for r in mine),
                    "accuracy": statistics.fmean(r["accuracy"] for r in mine),
                }
            )
            mean = means[-1]
            print(f"{setting} mean, {basis}, pool {pool}: {mean['macro_f1']:.4f} / {mean['accuracy']:.4f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "command": command_line(),
                "machine": {"platform": platform.platform(), "threads": torch.get_num_threads()},
                "k": args.k,
                "seconds": time.time() - start,
                "means": means,
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
