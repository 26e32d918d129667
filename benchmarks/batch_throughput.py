"""Batch scoring throughput: random pairs of known drugs through ``score_table`` (and a CSV through ``score_file``).

Run from the repository root::

    PYTHONPATH=. .venv/bin/python benchmarks/batch_throughput.py [--pairs 200000] [--model DIR]

Loads ``models/default`` (or ``--model``); when there is none, trains the tiny model of the test suite
(16-wide, one epoch on 1,000 pairs) into a temporary directory first and says so in the result. Writes
``benchmarks/results/batch_throughput.json`` with pairs per second of ``score_table`` (drug ids, no
explanations), the share of that time spent inside the model (``Predictor.score_ids``), the
end-to-end figure for a CSV file, the resolver build time, and the machine and command.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from run_info import command_line, machine_info

from ddi.predict.predictor import DEFAULT_MODEL_DIR, Predictor
from ddi.serve.batch import BatchScorer, score_file
from ddi.serve.resolve import DrugResolver

log = logging.getLogger("benchmarks.batch_throughput")

RESULT_PATH = Path(__file__).resolve().parent / "results" / "batch_throughput.json"


def tiny_model(out_dir: Path, data_dir: str | None) -> Path:
    """Train the tiny test-suite model (a minute on two cores) into ``out_dir``."""
    from ddi.models.config import ModelConfig, RunConfig, TrainConfig
    from ddi.train.pipeline import train_and_save

    run = RunConfig(
        model=ModelConfig(hidden_dim=16, mol_layers=1, max_paths=8),
        train=TrainConfig(epochs=1, batch_size=256, max_train_pairs=1000),
        data_dir=data_dir,
    )
    train_and_save(run, out_dir, progress=False)
    return out_dir


def random_pairs(drug_ids: list[str], n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` random ordered pairs of distinct drugs, as DrugBank ids in ``drug1``/``drug2``."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, len(drug_ids), n)
    b = (a + rng.integers(1, len(drug_ids), n)) % len(drug_ids)  # never the same drug
    ids = np.asarray(drug_ids, dtype=object)
    return pd.DataFrame({"drug1": ids[a], "drug2": ids[b]})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200_000, help="random known-drug pairs to score")
    parser.add_argument("--model", default=None, help="model directory (default: models/default)")
    parser.add_argument("--data-dir", default=None, help="benchmark-layout directory (default: resolved)")
    parser.add_argument("--skip-file", action="store_true", help="skip the CSV end-to-end measurement")
    parser.add_argument(
        "--no-sparse-inference", action="store_true", help="keep a pruned model's layers dense (no CSR products)"
    )
    parser.add_argument("--out", type=Path, default=RESULT_PATH, help="result JSON path")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s: %(message)s")
    logging.getLogger("ddi").setLevel(logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="ddi-batch-bench-") as tmp:
        model_dir = Path(args.model) if args.model else DEFAULT_MODEL_DIR
        model_note = f"{model_dir}"
        if args.model is None and not DEFAULT_MODEL_DIR.is_dir():
            log.info("no %s: training the tiny test model into a temporary directory", DEFAULT_MODEL_DIR)
            model_dir = tiny_model(Path(tmp) / "tiny", args.data_dir)
            model_note = (
                "models/default is missing: the tiny test model (hidden_dim 16, mol_layers 1, max_paths 8, "
                "1 epoch on 1,000 pairs) was trained into a temporary directory"
            )
        predictor = Predictor.load(model_dir, data_dir=args.data_dir, sparse_inference=not args.no_sparse_inference)
        start = time.perf_counter()
        resolver = DrugResolver.for_predictor(predictor)
        resolver_s = time.perf_counter() - start

        pairs = random_pairs(predictor.ctx.drug_ids, args.pairs)
        predictor.score_ids(np.array([0]), np.array([1]))  # build lazy caches (rule table) before timing

        load_before = os.getloadavg()
        scorer = BatchScorer(predictor, resolver)
        start = time.perf_counter()
        scored = scorer.score(pairs)
        table_s = time.perf_counter() - start
        if (scored["error"] != "").any():
            raise RuntimeError(f"known-drug pairs failed: {scored.loc[scored['error'] != '', 'error'].head()}")

        file_result = None
        if not args.skip_file:
            in_path, out_path = Path(tmp) / "pairs.csv", Path(tmp) / "scored.csv"
            pairs.to_csv(in_path, index=False)
            summary = score_file(in_path, out_path, predictor, resolver, progress=False)
            file_result = {
                "seconds": round(summary.seconds, 2),
                "pairs_per_s": round(summary.pairs_per_second),
                "output_mb": round(out_path.stat().st_size / 1e6, 1),
            }

        load_after = os.getloadavg()

    result = {
        "pairs": args.pairs,
        "pairs_per_s": round(args.pairs / table_s),
        "seconds": round(table_s, 2),
        "model_seconds": round(scorer.model_seconds, 2),
        "model_pairs_per_s": round(args.pairs / scorer.model_seconds),
        "model_share": round(scorer.model_seconds / table_s, 3),
        "csv_file": file_result,
        "resolver_build_s": round(resolver_s, 3),
        "what": "score_table on random ordered pairs of distinct model drugs given by DrugBank id; top_k 3, "
        "no explanations; model_* is the time inside Predictor.score_ids during that run",
        "model": model_note,
        "sparse_layers": predictor.sparse_layers,  # multiplied as CSR (Predictor.load's sparse inference)
        "model_config": predictor.run.model.__dict__ | {"relation_groups": list(predictor.run.model.relation_groups)},
        "machine": machine_info(load_before[0], load_after[0]),
        "command": command_line(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    summary_keys = ("pairs", "pairs_per_s", "seconds", "model_pairs_per_s", "model_share", "csv_file")
    print(json.dumps({k: result[k] for k in summary_keys}))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
