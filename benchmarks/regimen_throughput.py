"""Regimen checks: one patient's drugs (``check_regimen``, the app's Regimen page and ``ddi regimen``) and a whole
medication list (``check_regimens``, ``ddi regimen --file``).

Run from the repository root::

    PYTHONPATH=. .venv/bin/python benchmarks/regimen_throughput.py [--patients 2000] [--drugs 8]

Loads ``models/default`` (or ``--model``). Patients take ``--drugs`` random model drugs each, written by name (as
a user types them), so resolution is part of the time. Writes ``benchmarks/results/regimen_throughput.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from run_info import command_line, machine_info

from ddi.predict.predictor import Predictor
from ddi.serve.regimen import check_regimen, check_regimens
from ddi.serve.resolve import DrugResolver

RESULT_PATH = Path(__file__).resolve().parent / "results" / "regimen_throughput.json"


def medication_list(names: list[str], patients: int, drugs: int, seed: int = 0) -> pd.DataFrame:
    """``patients`` x ``drugs`` rows (``patient``, ``drug``): distinct random drug names per patient."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(patients):
        for i in rng.choice(len(names), size=drugs, replace=False):
            rows.append((f"p{p}", names[i]))
    return pd.DataFrame(rows, columns=["patient", "drug"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=2000, help="patients in the medication list")
    parser.add_argument("--drugs", type=int, default=8, help="drugs per patient")
    parser.add_argument("--model", default=None, help="model directory (default: models/default)")
    parser.add_argument("--data-dir", default=None, help="benchmark-layout directory (default: resolved)")
    parser.add_argument("--out", type=Path, default=RESULT_PATH, help="result JSON path")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    predictor = Predictor.load(args.model, data_dir=args.data_dir)
    resolver = DrugResolver.for_predictor(predictor)
    names = [predictor.names[d] for d in predictor.ctx.drug_ids]
    meds = medication_list(names, args.patients, args.drugs)
    check_regimen(predictor, resolver, names[:3])  # build lazy caches (rule table) before timing
    load_before = os.getloadavg()

    one_patient = list(meds.loc[meds["patient"] == "p0", "drug"])
    single_s = []
    for _ in range(5):
        start = time.perf_counter()
        check = check_regimen(predictor, resolver, one_patient)
        single_s.append(time.perf_counter() - start)

    start = time.perf_counter()
    rows = check_regimens(predictor, resolver, meds, "drug", "patient")
    list_s = time.perf_counter() - start
    pairs = int((rows["drug2"] != "").sum())
    load_after = os.getloadavg()

    result = {
        "one_regimen": {
            "drugs": args.drugs,
            "pairs": len(check.pairs),
            "median_ms": round(1000 * float(np.median(single_s)), 1),
            "what": "check_regimen of one patient's drugs by name (resolution, scoring, ranking), median of 5",
        },
        "medication_list": {
            "patients": args.patients,
            "rows": len(meds),
            "pairs": pairs,
            "seconds": round(list_s, 2),
            "pairs_per_s": round(pairs / list_s),
            "failed_pairs": int(((rows["drug2"] != "") & (rows["error"] != "")).sum()),
            "what": "check_regimens of the whole list (patient, drug name rows), one scorer",
        },
        "model": str(predictor.model_dir),
        "machine": machine_info(load_before[0], load_after[0]),
        "command": command_line(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("one_regimen", "medication_list")}))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
