"""``ddi search`` on a synthetic architecture table: one search, resuming, the quick pipeline, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ddi.cli.main import main
from ddi.search.pipeline import sample_distinct
from ddi.search.proxy import ProxyConfig, config_hash
from ddi.search.rl_agent import AgentConfig, train_agent
from ddi.search.space import SearchSpace
from ddi.search.table import ArchitectureTable

pytestmark = pytest.mark.usefixtures("restore_root_logging")


@pytest.fixture(scope="module")
def space() -> SearchSpace:
    return SearchSpace()


def synthetic_score(space: SearchSpace):
    weights = np.random.default_rng(0).normal(scale=0.03, size=space.num_features)
    return lambda arch: 0.5 + float(space.features(arch) @ weights)


@pytest.fixture(scope="module")
def table(tmp_path_factory, space: SearchSpace) -> Path:
    """40 architectures scored by a synthetic objective, filed under the quick proxy's configuration hash."""
    path = tmp_path_factory.mktemp("search-cli") / "table.jsonl"
    table = ArchitectureTable(path)
    score = synthetic_score(space)
    digest = config_hash(ProxyConfig.quick(), space.base)
    for arch in sample_distinct(space, 40, seed=0):
        table.append({"key": space.key(arch), "arch": list(arch), "config_hash": digest, "score": score(arch)})
    return path


def test_one_search_prints_its_best_and_resumes(tmp_path, capsys, table):
    args = ["search", "--method", "evolution", "--budget", "12", "--seed", "1", "--quick", "--no-progress"]
    args += ["--table", str(table), "--out", str(tmp_path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["evaluations"] == 12 and summary["method"] == "evolution"
    assert "holdout Spearman" in out
    state = Path(summary["state"])
    assert json.loads(state.read_text())["done"]
    assert main(args) == 0  # the finished state answers at once, with the same result
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["best_score"] == summary["best_score"]


def test_a_state_scored_on_another_table_is_refused_not_replayed(tmp_path, capsys, table):
    """Same method, seed and budget but another table: the saved scores are another surrogate's, so resuming
    from them would print the old search's best as this one's."""
    args = ["search", "--method", "local", "--budget", "6", "--quick", "--no-progress", "--out", str(tmp_path)]
    assert main([*args, "--table", str(table)]) == 0
    capsys.readouterr()
    fewer = tmp_path / "fewer.jsonl"
    fewer.write_text("".join(table.read_text().splitlines(keepends=True)[:30]))
    assert main([*args, "--table", str(fewer)]) == 2
    assert "state of another search (different objective" in capsys.readouterr().err
    assert main([*args, "--table", str(table)]) == 0  # the same table still resumes


def test_rl_search_with_a_saved_agent(tmp_path, capsys, table, space):
    score = synthetic_score(space)
    agent = train_agent(space, lambda _: score, AgentConfig.quick(total_steps=100, warmup=50), seed=0)
    agent.save(tmp_path / "agent")
    args = ["search", "--method", "rl", "--budget", "10", "--quick", "--no-progress", "--table", str(table)]
    args += ["--agent", str(tmp_path / "agent"), "--out", str(tmp_path / "out")]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["evaluations"] == 10


def test_quick_pipeline_on_a_synthetic_table(tmp_path, capsys, table):
    args = ["search", "--pipeline", "--quick", "--no-confirm", "--no-progress", "--architectures", "40"]
    args += ["--table", str(table), "--out", str(tmp_path), "--budget", "10"]
    assert main(args) == 0
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "pipeline.json").read_text())
    assert report["table"]["rows"] == 40
    assert set(report["comparison"]) == {"random", "walk", "local", "evolution", "rl"}
    for summary in report["comparison"].values():
        assert summary["seeds"] == 2 and set(summary["budgets"]) == {"10"}
    assert -1 <= report["surrogate"]["holdout"]["spearman"] <= 1
    assert (tmp_path / "agent" / "agent.pt").is_file() and (tmp_path / "surrogate.json").is_file()
    assert "rl" in out and "report:" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "annealing"], "invalid choice: 'annealing'"),
        (["--method", "random", "--budget", "0"], "must be at least 1"),
        (["--method", "random", "--budget", "ten"], "not a whole number"),
        (["--method", "random", "--objective", "oracle"], "invalid choice: 'oracle'"),
        (["--pipeline", "--final-settings", "s3"], "invalid choice: 's3'"),
    ],
)
def test_bad_arguments_exit_2_with_usage_and_no_traceback(capsys, args, message):
    with pytest.raises(SystemExit) as info:
        main(["search", *args])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "choose a --method"),
        (["--method", "local", "--table", "/nonexistent/table.jsonl"], "no architecture table at"),
        (["--method", "rl", "--agent", "/nonexistent/agent"], "no trained agent in /nonexistent/agent"),
    ],
)
def test_bad_inputs_are_one_clear_error_line(tmp_path, capsys, table, args, message):
    if "--table" not in args:
        args = [*args, "--table", str(table)]
    assert main(["search", "--quick", "--out", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert f"ddi: error: {message}" in err and "Traceback" not in err


def test_the_pipeline_ends_with_full_trainings_that_resume(tmp_path, capsys, table, monkeypatch):
    # Stage 6 wiring, with the full training replaced by a recorder (a real one takes tens of minutes): the
    # searched architecture and the default each run once per setting and seed with the benchmark's seed rule,
    # and a rerun finds every run done and trains nothing.
    import ddi.train.pipeline as train_pipeline

    calls = []

    def fake_train_and_test(run, tables=None, progress=False, save_to=None):
        calls.append((run.split, run.split_seed, run.train.seed, run.model.hidden_dim))
        score = 0.5 + 0.1 * (run.split == "s0") + 0.001 * run.model.hidden_dim
        test = {"macro_f1": score, "accuracy": score, "kappa": score}
        return {"test": test, "parameters": 1000 * run.model.hidden_dim, "train_seconds": 1.0}

    monkeypatch.setattr(train_pipeline, "train_and_test", fake_train_and_test)
    args = ["search", "--pipeline", "--quick", "--no-confirm", "--no-progress", "--architectures", "40"]
    args += ["--table", str(table), "--out", str(tmp_path), "--budget", "10", "--method", "random"]
    args += ["--final-settings", "s0", "s1", "--final-seeds", "2"]
    assert main(args) == 0
    out = capsys.readouterr().out
    final = json.loads((tmp_path / "pipeline.json").read_text())["final"]
    keys = {final["roles"][role]["key"] for role in ("searched", "default")}
    assert len(calls) == len(keys) * 2 * 2 == len((tmp_path / "final.jsonl").read_text().splitlines())
    # S0: the seed varies training on the one split; S1: it picks the drug split, training seed 0.
    assert {c[:3] for c in calls} == {("s0", 0, 0), ("s0", 0, 1), ("s1", 0, 0), ("s1", 1, 0)}
    for role in ("searched", "default"):
        assert final["roles"][role]["settings"]["s1"]["runs"] == 2
    delta = final["macro_f1_delta"]["s1"]
    searched_hidden = final["roles"]["searched"]["settings"]["s1"]["parameters"] // 1000
    default_hidden = final["roles"]["default"]["settings"]["s1"]["parameters"] // 1000
    assert delta == pytest.approx(0.001 * (searched_hidden - default_hidden))
    assert final["searched_beats_default"] == (delta > 0)
    assert "test macro-F1: s0" in out and "the default" in out
    calls.clear()
    assert main(args) == 0
    assert calls == []
