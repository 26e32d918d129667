"""``benchmarks/pruning.py``: rows, resume, summary, target checks, plot and size/speed on a tiny budget.

The grid runs on a 1,000-pair slice of S0 with a 16-wide model (a few seconds a run), so what is tested is the
orchestration, not accuracy; the summary and target logic is also checked on hand-made rows with known answers.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def pruning(monkeypatch) -> ModuleType:
    """The benchmark script as a module (it imports its sibling scripts, so ``benchmarks/`` goes on the path)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return importlib.import_module("pruning")


@pytest.fixture
def tiny_config(tmp_path: Path, benchmark_tables) -> Path:
    """A 16-wide model on a 1,000 / 200 / 200 pair slice of S0, as in ``conftest.train_tiny_model``."""
    from ddi.data.splits import load_split

    split_dir = tmp_path / "split"
    split_dir.mkdir()
    split = load_split("s0", benchmark_tables)
    for part, n in (("train", 1000), ("valid", 200), ("test", 200)):
        getattr(split, part).sample(n, random_state=0).to_csv(split_dir / f"{part}.tsv", sep="\t", index=False)
    config = tmp_path / "tiny.json"
    config.write_text(
        json.dumps(
            {
                "model": {"hidden_dim": 16, "mol_layers": 1, "max_paths": 8},
                "train": {"batch_size": 128},
                "split_dir": str(split_dir),
            }
        )
    )
    return config


@pytest.mark.slow
def test_grid_rows_resume_summary_plot_and_size_speed(pruning, tiny_config, tmp_path, monkeypatch, capsys):
    results, models = tmp_path / "results", tmp_path / "models"
    grid = ["--settings", "s0", "--methods", "dcil", "gmp", "--sparsities", "0", "0.9", "--seeds", "0"]
    budget = ["--epochs", "1", "--max-train-pairs", "800", "--config", str(tiny_config), "--threads", "1"]
    common = [*grid, *budget, "--results-dir", str(results)]
    assert pruning.main([*common, "--save-models", str(models)]) == 0

    rows = json.loads((results / "pruning.json").read_text())
    assert [(r["method"], r["sparsity"]) for r in rows] == [("dense", 0.0), ("dcil", 0.9), ("gmp", 0.9)]
    dense, dcil, gmp = rows
    assert dense["budget"] == {"epochs": 1, "max_train_pairs": 800, "config": dense["budget"]["config"]}
    for row in rows:
        assert 0.0 <= row["test"]["macro_f1"] <= 1.0 and row["test"]["n"] == 200
        assert row["git"]["commit"] and row["machine"]["cpu_count"] and row["machine"]["torch_threads"] == 1
        assert row["checkpoint_bytes"] > row["state_file_bytes"] > 0
    for row in (dcil, gmp):
        assert row["achieved_sparsity"] == pytest.approx(0.9, abs=1e-4)
        assert row["nonzero_parameters"] < 0.2 * row["parameters"]
        assert row["state_file_bytes"] < 0.5 * dense["state_file_bytes"]  # indices + values
        assert row["pruning"]["mask_change_history"] and 0.0 <= row["pruning"]["revived_fraction"] <= 1.0
    assert gmp["pruning"]["revived_fraction"] == 0.0  # GMP never brings a weight back

    # The same command again runs nothing (resume); a different budget would be a new series.
    monkeypatch.setattr(pruning, "run_job", lambda *a, **k: pytest.fail("a finished run was run again"))
    assert pruning.main(common) == 0
    assert len(json.loads((results / "pruning.json").read_text())) == 3

    summary = json.loads((results / "pruning_summary.json").read_text())["summaries"]
    assert len(summary) == 1
    entries = {(e["method"], e["sparsity"]): e for e in summary[0]["entries"]}
    assert set(entries) == {("dense", 0.0), ("dcil", 0.9), ("gmp", 0.9)}
    assert entries[("dcil", 0.9)]["drop_points"]["macro_f1"] == pytest.approx(
        100 * (dense["test"]["macro_f1"] - dcil["test"]["macro_f1"])
    )
    checks = summary[0]["targets"]["s0"]
    assert checks["dcil_drop_at_95"]["met"] is None  # 95 % was not run
    measured = [c for c in checks["dcil_beats_dpf_gmp"]["comparisons"] if c["met"] is not None]
    assert [(c["sparsity"], c["rival"], c["seeds_compared"]) for c in measured] == [(0.9, "gmp", 1)]
    assert "| s0 | dcil | 90% | 1 |" in capsys.readouterr().out

    (results / "pruning.png").unlink()
    assert pruning.main([*budget, "--results-dir", str(results), "--plot-only"]) == 0
    assert (results / "pruning.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pruning.main([*budget, "--results-dir", str(results), "--plot-only", "--plot-file", "s1.png"]) == 0
    assert (results / "s1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # a second curve beside the first

    dense_dir, sparse_dir = models / "s0-dense-0-seed0", models / "s0-dcil-90-seed0"
    args = ["--size-speed", str(dense_dir), str(sparse_dir), "--speed-repeats", "1", "--results-dir", str(results)]
    assert pruning.main([*args, "--threads", "1"]) == 0
    measured_models = json.loads((results / "pruning_size_speed.json").read_text())["models"]
    assert [m["pruning"] for m in measured_models] == ["none", "dcil"]
    small, large = measured_models[1], measured_models[0]
    assert small["parameters"] == large["parameters"] and small["nonzero_parameters"] < large["nonzero_parameters"]
    assert small["state_file_bytes"] < large["state_file_bytes"]
    for m in measured_models:
        assert m["pairs"] == 200 and m["sparse_inference_off"]["pairs_per_s"] > 0
        assert m["max_abs_probability_difference"] < 1e-4


def fake_row(method: str, sparsity: float, seed: int, f1: float, setting: str = "s0") -> dict:
    """A finished run as ``run_job`` would write it, with only the fields the summary reads."""
    return {
        "setting": setting,
        "method": method,
        "sparsity": sparsity,
        "seed": seed,
        "budget": {"epochs": 8, "max_train_pairs": None, "config": "abc"},
        "test": {"macro_f1": f1, "accuracy": f1, "kappa": f1},
        "achieved_sparsity": sparsity,
        "nonzero_parameters": 100,
        "checkpoint_bytes": 1000,
        "train_seconds": 60.0,
        "pruning": {"method": method, "mask_changes": 10, "mask_churn_after_ramp": 0.001, "revived_fraction": 0.1},
    }


def test_summary_and_targets_on_known_rows(pruning):
    rows = [fake_row("dense", 0.0, seed, f1) for seed, f1 in ((0, 0.90), (1, 0.92))]
    rows += [fake_row("dcil", 0.95, seed, f1) for seed, f1 in ((0, 0.898), (1, 0.914))]
    rows += [fake_row("gmp", 0.95, seed, f1) for seed, f1 in ((0, 0.899), (1, 0.90))]
    rows += [fake_row("dpf", 0.95, 0, 0.5), fake_row("dpf", 0.95, 0, 0.85)]  # measured twice: the latest counts
    (block,) = pruning.summarise(rows)
    entries = {(e["method"], e["sparsity"]): e for e in block["entries"]}
    assert entries[("dense", 0.0)]["macro_f1"]["mean"] == pytest.approx(0.91)
    assert entries[("dense", 0.0)]["macro_f1"]["std"] == pytest.approx(0.0141421, rel=1e-4)
    assert entries[("dcil", 0.95)]["drop_points"]["macro_f1"] == pytest.approx(0.4)
    assert entries[("dpf", 0.95)]["seeds"] == [0] and entries[("dpf", 0.95)]["macro_f1"]["std"] is None
    assert entries[("dpf", 0.95)]["macro_f1"]["mean"] == pytest.approx(0.85)

    checks = block["targets"]["s0"]
    assert checks["dcil_drop_at_95"]["met"] is True
    by_rival = {
        c["rival"]: c for c in checks["dcil_beats_dpf_gmp"]["comparisons"] if c["sparsity"] == 0.95 and c["met"]
    }
    assert by_rival["gmp"]["seeds_won"] == 1 and by_rival["gmp"]["seeds_compared"] == 2  # 0.898 < 0.899 at seed 0
    assert by_rival["dpf"]["seeds_compared"] == 1
    assert checks["dcil_beats_dpf_gmp"]["met"] is None  # 90 % and 98 % are missing
    assert "s0: DCIL drop at 95 % <= 0.5 points: 0.40 points (met)" in pruning.markdown([block])


def test_plan_shares_the_dense_run_and_resume_ids_include_the_budget(pruning):
    jobs = pruning.plan(["s0", "s1"], ["dcil", "gmp"], [0.0, 0.9], [0, 1])
    assert len(jobs) == 2 * 2 * (1 + 2)
    assert [j.name for j in jobs[:3]] == ["s0-dense-0-seed0", "s0-dcil-90-seed0", "s0-gmp-90-seed0"]
    small = pruning.budget_of(pruning.base_config(None, 1, 800))
    large = pruning.budget_of(pruning.base_config(None, 8, None))
    assert pruning.job_id(jobs[0], small) != pruning.job_id(jobs[0], large)
    assert small["config"] != large["config"]
    # the per-run fields do not change the budget: every run of one invocation shares it
    run = pruning.run_config(jobs[-1], pruning.base_config(None, 1, 800), threads=1)
    assert (run.split, run.split_seed, run.train.seed, run.train.prune_method) == ("s1", 1, 0, "gmp")
    assert pruning.budget_of(run) == small
