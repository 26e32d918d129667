"""How the order of a benchmark row's two drugs goes with its type: per type, the share of training rows that list
the drug with the smaller DrugBank id first, and how well that share alone would guess the order from the type.
Seconds; run from the repository root::

    PYTHONPATH=. python benchmarks/listing_order.py --out benchmarks/results/listing_order.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from run_info import command_line

from ddi.data.benchmark import load_benchmark
from ddi.data.splits import load_split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="s0")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/listing_order.json"))
    args = parser.parse_args()
    tables, _ = load_benchmark(args.data_dir)
    train = load_split(args.split, tables).train
    smaller_first = train["drug1_id"] < train["drug2_id"]
    by_type = smaller_first.groupby(train["type"]).mean()
    counts = train["type"].value_counts()
    guessed = float((by_type.where(by_type >= 0.5, 1 - by_type) * counts).sum() / counts.sum())
    result = {
        "command": command_line(),
        "split": args.split,
        "rows": len(train),
        "share_smaller_id_first": float(smaller_first.mean()),
        "order_guessed_from_type": guessed,
        "by_type": {
            int(t): {"rows": int(counts[t]), "share_smaller_id_first": float(by_type[t])} for t in counts.index
        },
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(
        f"{len(train)} rows: {result['share_smaller_id_first']:.3f} list the smaller id first; the type alone "
        f"guesses the order of {guessed:.3f}"
    )
    for t in counts.index[:5]:
        print(f"type {t}: {counts[t]} rows, {by_type[t]:.3f} smaller id first")


if __name__ == "__main__":
    main()
