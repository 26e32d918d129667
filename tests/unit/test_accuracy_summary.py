"""``benchmarks/accuracy.py --summary``: the figures BENCHMARKS.md quotes come from the right rows."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def accuracy(monkeypatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return importlib.import_module("accuracy")


def _row(setting: str, variant: str, seed: int, f1: float, epochs: int = 16) -> dict:
    return {"setting": setting, "variant": variant, "seed": seed, "epochs": epochs, "test": {"macro_f1": f1}}


def test_groups_take_the_latest_row_of_each_seed_and_keep_budgets_apart(accuracy) -> None:
    rows = [
        _row("s1", "full", 0, 0.10),  # replaced by the rerun below
        _row("s1", "full", 1, 0.60),
        _row("s1", "full", 0, 0.50),
        _row("s1", "full", 0, 0.90, epochs=5),  # another budget: its own group
        _row("s2", "no_rules", 3, 0.30),
    ]
    summary = {(e["setting"], e["variant"], e["epochs"]): e for e in accuracy.summarise(rows)}
    full = summary[("s1", "full", 16)]
    assert full["seeds"] == [0, 1]
    assert full["macro_f1"]["mean"] == pytest.approx(0.55)
    assert full["macro_f1"]["std"] == pytest.approx(0.05)  # population std, as BENCHMARKS.md reports
    assert summary[("s1", "full", 5)]["macro_f1"]["values"] == [0.90]
    assert "accuracy" not in full  # a metric no row has is left out, not shown as zero
    table = accuracy.summary_table(accuracy.summarise(rows))
    assert "| s1 | full | 16 | 0 1 | 0.550 ± 0.050 |" in table
