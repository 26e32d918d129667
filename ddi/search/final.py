"""The last stage of the search: the architecture it found, fully trained, against the hand-designed default.

The proxy and its surrogate only rank architectures; what a user gets is a model trained in full. So the search
ends as the issue asks: the best architecture found and the default are each trained with the full recipe on
every requested setting and seed and scored on test. Each finished run is appended to a JSONL file at once, so
an interrupted stage resumes where it stopped (these runs take tens of minutes each on a CPU).

Seeds follow the accuracy benchmark (``setting_run``): on S0 they vary training, on S1/S2 the drug split.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ddi.models.config import RunConfig
from ddi.search.budget import Architecture

log = logging.getLogger(__name__)

#: The searched architecture "does not lose on S0" if its mean S0 macro-F1 is at most this far below the
#: default's: about the spread of one architecture across training seeds.
S0_TOLERANCE = 0.005
METRICS = ("macro_f1", "accuracy", "kappa")


def final_runs(
    space,
    candidates: dict[str, Architecture],
    settings: Sequence[str],
    seeds: Sequence[int],
    path: Path,
    base: RunConfig | None = None,
    tables=None,
    progress: bool = False,
    keep_models: Path | None = None,
) -> list[dict[str, Any]]:
    """Train every candidate on every setting and seed (runs already in ``path`` are skipped); return the rows.

    ``candidates`` maps a role ("searched", "default") to an architecture; one architecture under two roles is
    trained once. ``base`` gives the training recipe and data directory (default: the shipped defaults).
    ``keep_models``: save each run's checkpoint under it (``<setting>-seed<seed>-<key hash>``), so the confirmed
    architecture's S0 run can become the shipped model without training it again.
    """
    from ddi.train.pipeline import setting_run, train_and_test

    base = base if base is not None else RunConfig()
    rows = _read_rows(path)
    done = {(r["key"], r["setting"], r["seed"]) for r in rows}
    keys = {space.key(arch): arch for arch in candidates.values()}
    todo = [(key, s, seed) for key in keys for s in settings for seed in seeds if (key, s, seed) not in done]
    log.info("final training: %d run(s) to do, %d already in %s", len(todo), len(done), path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for key, setting, seed in tqdm(todo, desc="final training", unit="run", disable=not progress):
        run = setting_run(base, setting, seed)
        run.model = space.to_model_config(keys[key])
        save_to = None if keep_models is None else keep_models / f"{setting}-seed{seed}-{_short_hash(key)}"
        result = train_and_test(run, tables, save_to=save_to)
        row = {"key": key, "arch": [int(i) for i in keys[key]], "setting": setting, "seed": seed, **result}
        with path.open("a") as handle:
            handle.write(json.dumps(row) + "\n")
        rows.append(row)
        log.info("%s %s seed %d: macro-F1 %.4f", key[:60], setting, seed, result["test"]["macro_f1"])
    return rows


def _short_hash(key: str) -> str:
    return hashlib.sha1(key.encode()).hexdigest()[:10]


def summarise_final(
    space, candidates: dict[str, Architecture], rows: Sequence[dict[str, Any]], settings: Sequence[str]
) -> dict[str, Any]:
    """Mean and std of the test figures per role and setting, and whether the searched architecture wins:
    higher mean macro-F1 on S1 and S2 and no loss beyond ``S0_TOLERANCE`` on S0 (settings not run are skipped)."""
    out: dict[str, Any] = {"roles": {}, "s0_tolerance": S0_TOLERANCE}
    for role, arch in candidates.items():
        key = space.key(arch)
        per_setting = {}
        for setting in settings:
            mine = [r for r in rows if r["key"] == key and r["setting"] == setting]
            if not mine:
                continue
            per_setting[setting] = {
                "runs": len(mine),
                **{
                    m: {
                        "mean": float(np.mean([r["test"][m] for r in mine])),
                        "std": float(np.std([r["test"][m] for r in mine])),
                    }
                    for m in METRICS
                },
                "parameters": int(mine[0]["parameters"]),
                "train_seconds_mean": float(np.mean([r["train_seconds"] for r in mine])),
            }
        out["roles"][role] = {"key": key, "settings": per_setting}
    searched = out["roles"].get("searched", {}).get("settings", {})
    default = out["roles"].get("default", {}).get("settings", {})
    deltas = {
        s: searched[s]["macro_f1"]["mean"] - default[s]["macro_f1"]["mean"]
        for s in settings
        if s in searched and s in default
    }
    out["macro_f1_delta"] = deltas
    if deltas:
        out["searched_beats_default"] = all(
            d >= -S0_TOLERANCE if s == "s0" else d > 0 for s, d in deltas.items()
        ) and any(s != "s0" for s in deltas)
    return out


def _read_rows(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut by an interruption: that run is simply redone
            log.warning("%s: skipping an unreadable line", path)
    return rows
