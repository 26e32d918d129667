"""Time molecule-graph featurisation of every benchmark drug: cold (empty cache) and warm (from cache).

Run from the repository root::

    PYTHONPATH=. .venv/bin/python benchmarks/featurize.py [--data-dir DIR] [--repeats 3]

Writes ``benchmarks/results/featurize.json`` with the median and every run's seconds for loading the tables,
featurising with an empty cache, featurising again from that cache and batching all graphs, plus the drug
and error counts, the cache size and the machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import rdkit
import torch
from run_info import command_line

from ddi.chem.graphs import cache_file, featurize_drugs
from ddi.data.benchmark import load_benchmark

log = logging.getLogger("benchmarks.featurize")

RESULT_PATH = Path(__file__).resolve().parent / "results" / "featurize.json"


def time_once(data_dir: str | None) -> tuple[dict[str, float | int], dict[str, str]]:
    """One cold and one warm featurisation in a fresh, empty cache directory.

    Returns the timings and counts, and the reason for each drug without a graph.
    """
    start = time.perf_counter()
    tables, _report = load_benchmark(data_dir)
    load_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory(prefix="ddi-featurize-bench-") as cache_dir:
        start = time.perf_counter()
        graphs = featurize_drugs(tables.drugs, cache_dir=cache_dir, progress=False)
        cold_s = time.perf_counter() - start
        start = time.perf_counter()
        warm = featurize_drugs(tables.drugs, cache_dir=cache_dir, progress=False)
        warm_s = time.perf_counter() - start
        start = time.perf_counter()
        batch = warm.full_batch()
        batch_s = time.perf_counter() - start
        cache_bytes = cache_file(cache_dir).stat().st_size
    measures = {
        "load_s": load_s,
        "cold_featurize_s": cold_s,
        "warm_featurize_s": warm_s,
        "full_batch_s": batch_s,
        "drugs": len(tables.drugs),
        "graphs": len(graphs),
        "errors": len(graphs.invalid),
        "atoms": int(batch.num_nodes),
        "directed_edges": int(batch.edge_index.shape[1]),
        "cache_bytes": cache_bytes,
    }
    return measures, graphs.invalid


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="benchmark-layout directory (default: resolved)")
    parser.add_argument("--repeats", type=int, default=3, help="cold + warm runs, each in a fresh cache")
    parser.add_argument("--out", type=Path, default=RESULT_PATH, help="result JSON path")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s: %(message)s")
    logging.getLogger("ddi").setLevel(logging.WARNING)  # keep the per-run loader and featuriser lines out

    runs = []
    for i in range(args.repeats):
        measures, invalid = time_once(args.data_dir)
        runs.append(measures)
        log.info("run %d/%d: %s", i + 1, args.repeats, measures)
    timings = ("load_s", "cold_featurize_s", "warm_featurize_s", "full_batch_s")
    result = {
        **{f"median_{k}": round(statistics.median(r[k] for r in runs), 3) for k in timings},
        **{k: v for k, v in runs[0].items() if k not in timings},
        "errors_by_drug": invalid,
        "runs": [{k: round(r[k], 3) for k in timings} for r in runs],
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "rdkit": rdkit.__version__,
        },
        "command": command_line(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k.startswith("median_")}))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
