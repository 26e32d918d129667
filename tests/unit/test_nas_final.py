"""``benchmarks/nas_final.py``: the searched architecture is compared with the default's own accuracy runs."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from ddi.models.config import ModelConfig
from ddi.search.space import SearchSpace

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _row(setting: str, seed: int, f1: float, variant: str = "full", pool: int = 256, epochs: int = 16) -> dict:
    model = {"neighbour_votes": 16, "vote_annotations": ["atc", "categories"], "vote_pool": pool}
    return {
        "setting": setting,
        "seed": seed,
        "variant": variant,
        "epochs": epochs,
        "config": {"model": model},
        "test": {"macro_f1": f1, "accuracy": f1, "kappa": f1},
        "parameters": 10,
        "train_seconds": 1.0,
    }


def test_the_default_runs_are_the_latest_full_runs_with_todays_votes(monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    nas_final = importlib.import_module("nas_final")
    space = SearchSpace(base=ModelConfig())
    rows = [
        _row("s2", 0, 0.10),  # replaced by the rerun below
        _row("s2", 0, 0.40),
        _row("s2", 1, 0.90, variant="graph_only"),  # an ablation, not the default
        _row("s2", 1, 0.80, pool=0),  # the previous default's votes
        _row("s2", 1, 0.70, epochs=5),  # another budget
        _row("s2", 2, 0.50),
        _row("s1", 0, 0.60),  # a setting not asked for
    ]
    found = nas_final.default_rows(space, rows, ["s2"], [0, 1, 2])
    assert [(r["setting"], r["seed"], r["test"]["macro_f1"]) for r in found] == [("s2", 0, 0.40), ("s2", 2, 0.50)]
    assert {r["key"] for r in found} == {space.key(space.from_model_config(space.base))}
    searched = space.from_key(found[0]["key"])
    summary = nas_final.summarise_final(space, {"default": searched}, found, ["s2"])
    assert summary["roles"]["default"]["settings"]["s2"]["macro_f1"]["mean"] == pytest.approx(0.45)
