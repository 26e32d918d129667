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


def _row(
    setting: str,
    variant: str,
    seed: int,
    f1: float,
    epochs: int = 16,
    votes: int | None = None,
    annotations: tuple[str, ...] | None = None,
    pool: int | None = None,
    ids: bool | None = None,
) -> dict:
    row = {"setting": setting, "variant": variant, "seed": seed, "epochs": epochs, "test": {"macro_f1": f1}}
    if votes is not None:
        row["config"] = {"model": {"neighbour_votes": votes}}
        if annotations is not None:
            row["config"]["model"]["vote_annotations"] = list(annotations)
        if pool is not None:
            row["config"]["model"]["vote_pool"] = pool
        if ids is not None:
            row["config"]["model"]["drug_id_embedding"] = ids
    return row


def _full(
    f1: float,
    seed: int,
    votes: int,
    annotations: tuple[str, ...] | None = None,
    pool: int | None = None,
    ids: bool | None = None,
) -> dict:
    row = _row("s2", "full", seed, f1, votes=votes, annotations=annotations, pool=pool, ids=ids)
    row["test"].update(accuracy=f1 + 0.1, kappa=f1 - 0.1)
    return row


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
    assert full["neighbour_votes"] == "0"  # rows from before the field existed count as no votes
    assert full["seeds"] == [0, 1]
    assert full["macro_f1"]["mean"] == pytest.approx(0.55)
    assert full["macro_f1"]["std"] == pytest.approx(0.05)  # population std, as BENCHMARKS.md reports
    assert summary[("s1", "full", 5)]["macro_f1"]["values"] == [0.90]
    assert "accuracy" not in full  # a metric no row has is left out, not shown as zero
    table = accuracy.summary_table(accuracy.summarise(rows))
    assert "| s1 | full | 16 | 0 | 0 1 | 0.550 ± 0.050 |" in table


def test_rows_with_and_without_votes_are_different_models(accuracy) -> None:
    """The default gained look-alike votes, then votes that also compare label annotations, then a vote pool,
    then per-drug vectors: rows of one variant name made under each must not be averaged together."""
    rows = [
        _full(0.2, 0, votes=0),
        _full(0.3, 1, votes=0),
        _full(0.4, 0, votes=16),
        _full(0.5, 1, votes=16),
        _full(0.6, 0, votes=16, annotations=("atc", "categories")),
        _full(0.7, 0, votes=16, annotations=("atc", "categories"), pool=256),
        _full(0.1, 1, votes=16, annotations=("atc", "categories"), pool=16),  # a pool of k: no pool at all
        _full(0.8, 0, votes=16, annotations=("atc", "categories"), pool=256, ids=True),
        _full(0.9, 1, votes=16, annotations=("atc", "categories"), pool=256, ids=False),  # stated off: as before
    ]
    by_votes = {e["neighbour_votes"]: e for e in accuracy.summarise(rows)}
    assert by_votes["0"]["macro_f1"]["mean"] == pytest.approx(0.25)
    assert by_votes["16"]["macro_f1"]["mean"] == pytest.approx(0.45)
    assert by_votes["16+atc+categories"]["seeds"] == [0, 1]
    assert by_votes["16+atc+categories+pool256"]["seeds"] == [0, 1]
    assert by_votes["16+atc+categories+pool256+ids"]["seeds"] == [0]
    table = accuracy.settings_table(accuracy.summarise(rows))
    default = "| ddi model (the default: look-alikes by structure, proteins, ATC class and categories; vote pool 256;"
    assert f"{default} a learned vector per known drug) |  |  | 0.800 / 0.900 / 0.700 (1 of 5: 0) |" in table
    assert "| the same without per-drug vectors (the default of 2026-11-25) |  |  | 0.800 ± 0.100 / 0.900" in table
    assert "| the same without the vote pool either (the default of 2026-11-24) |  |  | 0.350 ± 0.250 / 0.450" in table
    assert "| look-alikes by structure and proteins only, no pool |  |  | 0.450 ± 0.050 / 0.550" in table
    assert "| without the look-alike votes |  |  | 0.250 ± 0.050 / 0.350" in table


def test_the_table_shows_the_shipped_budget_before_a_longer_trial(accuracy) -> None:
    trial = _full(0.9, 0, votes=16, annotations=("atc", "categories"), pool=256, ids=True)
    trial["epochs"] = 32
    shipped = _full(0.7, 0, votes=16, annotations=("atc", "categories"), pool=256, ids=True)
    shipped["epochs"] = accuracy.DEFAULT_EPOCHS
    table = accuracy.settings_table(accuracy.summarise([trial, shipped]))
    assert "|  |  | 0.700 / 0.800 / 0.600 (1 of 5: 0) |" in table
    # Without a run at the shipped budget, the trial is still shown rather than nothing.
    assert "|  |  | 0.900 / 1.000 / 0.800 (1 of 5: 0) |" in accuracy.settings_table(accuracy.summarise([trial]))


def test_the_fingerprint_baseline_reads_no_votes_whatever_its_config_says(accuracy) -> None:
    rows = [
        _row("s2", "fingerprint", 0, 0.30, votes=0),
        _row("s2", "fingerprint", 1, 0.40, votes=16),
        _row("s2", "fingerprint", 2, 0.50, votes=16, annotations=("atc",)),
    ]
    (entry,) = accuracy.summarise(rows)
    assert entry["seeds"] == [0, 1, 2] and entry["neighbour_votes"] == "0"


def test_a_ddi_train_directory_is_recorded_as_the_benchmark_would_write_its_row(accuracy, tmp_path) -> None:
    import json

    from ddi.models.config import RunConfig

    run = RunConfig(split="s1", split_seed=3)
    model_dir = tmp_path / "m"
    model_dir.mkdir()
    (model_dir / "config.json").write_text(json.dumps(run.to_dict()))
    test = {"macro_f1": 0.7, "accuracy": 0.8, "kappa": 0.6, "n": 10, "per_type_f1": {"1": 1.0}, "confusions": []}
    metrics = {"test": test, "best_epoch": 9, "history": [{}] * 10, "train_seconds": 60.0, "parameters": 5}
    (model_dir / "metrics.json").write_text(json.dumps({**metrics, "prior_adjustment": {"tau": 0.2}}))
    row = accuracy.recorded_row(model_dir, "full", "C10")
    assert (row["setting"], row["seed"], row["variant"], row["epochs"]) == ("s1", 3, "full", run.train.epochs)
    assert row["test"] == {"macro_f1": 0.7, "accuracy": 0.8, "kappa": 0.6, "n": 10}, "figures only, no detail"
    assert row["command"].startswith(f"ddi train --split s1 --split-seed 3 --config C10 --out {model_dir}")
    assert row["prior_tau"] == 0.2 and row["epochs_run"] == 10
    assert accuracy.summarise([row])[0]["neighbour_votes"].endswith("+ids") == run.model.drug_id_embedding
    run.train.seed = 1  # the benchmark trains every drug split with seed 0: another seed is another recipe
    (model_dir / "config.json").write_text(json.dumps(run.to_dict()))
    with pytest.raises(SystemExit, match="not a run of the benchmark's recipe"):
        accuracy.recorded_row(model_dir, "full", "C10")
