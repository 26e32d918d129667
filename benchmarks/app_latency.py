"""App latency: how long one answer of the web app takes, explanation included (``answer_pair``).

Run from the repository root::

    PYTHONPATH=. .venv/bin/python benchmarks/app_latency.py [--pairs 100] [--model DIR] [--threads 1]

Loads ``models/default`` (or ``--model``). When there is none it saves an untrained stand-in with the *default
architecture* (``ModelConfig()``) over the full S0 training graph in a temporary directory (latency depends
on the architecture and the graph, not on the weights) and says so in the result. Then it
answers ``--pairs`` random pairs that DrugBank lists, given by name as a user would type them: resolution,
prediction with the top 5 types, the relation paths, the fired rules, the known-pair lookup and the atom
importances of both molecules. Writes ``benchmarks/results/app_latency.json`` with p50/p95/mean/max in ms
(with and without the explanation), the machine and the command. Target: p95 < 300 ms on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ddi.predict.predictor import DEFAULT_MODEL_DIR, Predictor
from ddi.serve.answer import answer_pair, warm_up
from ddi.serve.resolve import DrugResolver

log = logging.getLogger("benchmarks.app_latency")

RESULT_PATH = Path(__file__).resolve().parent / "results" / "app_latency.json"
TARGET_P95_MS = 300.0


def stand_in_model(out_dir: Path, data_dir: str | None) -> Path:
    """Save an untrained model of the default architecture (``ModelConfig()``) over the full S0 graph.

    Latency depends on the architecture and the graph (how many paths join a pair), not on the weights, so an
    untrained model on the real graph times the same as a trained one, without hours of training.
    """
    from ddi.models.checkpoint import save_checkpoint
    from ddi.models.config import RunConfig
    from ddi.train.context import TrainingContext
    from ddi.train.pipeline import vocab_of
    from ddi.train.trainer import build_model

    run = RunConfig(data_dir=data_dir)
    ctx = TrainingContext.build(run, progress=False)
    model = build_model(ctx, run)
    save_checkpoint(out_dir, model.state_dict(), run, vocab_of(ctx), {"note": "untrained latency stand-in"})
    return out_dir


def percentiles(ms: list[float]) -> dict[str, float]:
    values = np.asarray(ms)
    return {
        "p50_ms": round(float(np.percentile(values, 50)), 2),
        "p95_ms": round(float(np.percentile(values, 95)), 2),
        "mean_ms": round(float(values.mean()), 2),
        "max_ms": round(float(values.max()), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100, help="random listed pairs to answer")
    parser.add_argument("--model", default=None, help="model directory (default: models/default)")
    parser.add_argument("--data-dir", default=None, help="benchmark-layout directory (default: resolved)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the app's default is 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULT_PATH, help="result JSON path")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s: %(message)s")
    logging.getLogger("ddi").setLevel(logging.WARNING)
    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory(prefix="ddi-app-bench-") as tmp:
        model_dir = Path(args.model) if args.model else DEFAULT_MODEL_DIR
        model_note = str(model_dir)
        if args.model is None and not (DEFAULT_MODEL_DIR / "model.pt").is_file():
            log.info("no %s: an untrained default-architecture stand-in is used", DEFAULT_MODEL_DIR)
            model_dir = stand_in_model(Path(tmp) / "model", args.data_dir)
            model_note = (
                "models/default is missing: an untrained stand-in with the default architecture (ModelConfig()) "
                "over the full S0 training graph was used (latency depends on the architecture and graph, not "
                "on the weights)"
            )
        start = time.perf_counter()
        predictor = Predictor.load(model_dir, data_dir=args.data_dir)
        load_s = time.perf_counter() - start
        start = time.perf_counter()
        resolver = DrugResolver.for_predictor(predictor)
        warm_up(predictor)
        ready_s = time.perf_counter() - start

        inter = predictor.ctx.tables.interactions
        rng = np.random.default_rng(args.seed)
        rows = inter.iloc[rng.choice(len(inter), size=args.pairs, replace=False)]
        names = predictor.names
        pairs = [(names[a] or a, names[b] or b) for a, b in zip(rows["drug1_id"], rows["drug2_id"], strict=True)]
        answer_pair(predictor, resolver, *pairs[0])  # first call: lazy imports, allocator warm-up

        full, bare, parts = [], [], {"paths": 0, "rules": 0, "atoms": 0, "known": 0}
        for a, b in pairs:
            t = time.perf_counter()
            answer = answer_pair(predictor, resolver, a, b, top_k=5)
            full.append(1000 * (time.perf_counter() - t))
            t = time.perf_counter()
            answer_pair(predictor, resolver, a, b, top_k=5, explain=False)
            bare.append(1000 * (time.perf_counter() - t))
            parts["paths"] += bool(answer.paths)
            parts["rules"] += bool(answer.rules)
            parts["atoms"] += sum(x is not None for x in answer.atoms)
            parts["known"] += answer.is_known

    result = {
        "pairs": len(pairs),
        "explained": percentiles(full),
        "prediction_only": percentiles(bare),
        "target_p95_ms": TARGET_P95_MS,
        "meets_target": percentiles(full)["p95_ms"] < TARGET_P95_MS,
        "answers_with": {
            "paths": parts["paths"],
            "rules": parts["rules"],
            "atom_maps": parts["atoms"],
            "known_listing": parts["known"],
        },
        "load_s": round(load_s, 2),
        "resolver_and_warm_up_s": round(ready_s, 2),
        "what": (
            "answer_pair on random pairs DrugBank lists, given by drug name: resolve both, predict (top 5 "
            "types), explanation paths, fired rules, known-pair lookup, atom importances of both molecules; "
            "prediction_only is the same call with explain=False"
        ),
        "model": model_note,
        "model_config": predictor.run.to_dict()["model"],
        "parameters": int(sum(p.numel() for p in predictor.model.parameters())),
        "torch_threads": torch.get_num_threads(),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpus": os.cpu_count(),
            "load_average_1m": round(os.getloadavg()[0], 2),
            "python": platform.python_version(),
            "torch": torch.__version__,
        },
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    log.info(
        "answer_pair over %d pairs: p50 %.1f ms, p95 %.1f ms (prediction only: p50 %.1f, p95 %.1f) -> %s",
        len(pairs),
        result["explained"]["p50_ms"],
        result["explained"]["p95_ms"],
        result["prediction_only"]["p50_ms"],
        result["prediction_only"]["p95_ms"],
        args.out,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
