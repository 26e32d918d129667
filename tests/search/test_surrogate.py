"""The surrogate: learns a known objective from a table, ranks held-out architectures, saves without pickle."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ddi.errors import UserInputError
from ddi.search.space import SearchSpace
from ddi.search.surrogate import Surrogate, SurrogateObjective
from ddi.search.table import ArchitectureTable


@pytest.fixture(scope="module")
def space() -> SearchSpace:
    return SearchSpace()


@pytest.fixture(scope="module")
def rows(space: SearchSpace) -> list[dict]:
    """300 table rows of an additive objective (one weight per choice and option) plus a little noise."""
    rng = np.random.default_rng(0)
    weights = rng.normal(scale=0.05, size=space.num_tokens)
    out, seen = [], set()
    while len(out) < 300:
        arch = space.sample(rng)
        if arch in seen:
            continue
        seen.add(arch)
        score = 0.5 + float(weights[space.encode(arch)].sum()) + float(rng.normal(scale=0.005))
        out.append({"key": space.key(arch), "arch": list(arch), "config_hash": "h", "score": score})
    return out


@pytest.fixture(scope="module")
def fitted(space: SearchSpace, rows: list[dict]) -> Surrogate:
    return Surrogate(space, members=3, n_estimators=150).fit(rows)


def test_holdout_ranking_of_a_known_additive_objective(space: SearchSpace, rows: list[dict]) -> None:
    report = Surrogate(space, members=3, n_estimators=150).evaluate_holdout(rows, fraction=0.2, seed=0)
    assert report["n_train"] == 240 and report["n_test"] == 60
    assert report["spearman"] > 0.8
    assert report["kendall"] > 0.6


def test_save_and_load_predict_identically(fitted: Surrogate, space: SearchSpace, tmp_path: Path) -> None:
    path = tmp_path / "surrogate.json"
    fitted.save(path)
    assert json.loads(path.read_text())["format"] == "ddi-surrogate/1"  # plain JSON, nothing pickled
    loaded = Surrogate.load(path)
    archs = [space.sample(np.random.default_rng(i)) for i in range(20)]
    assert loaded.space.names == space.names
    assert np.array_equal(loaded.predict(archs), fitted.predict(archs))
    for text, problem in (("{cut", "not valid JSON"), ('["rows"]', "is not a ddi-surrogate/1 file")):
        path.write_text(text)
        with pytest.raises(UserInputError, match=problem):
            Surrogate.load(path)


def test_spread_and_objective(fitted: Surrogate, space: SearchSpace) -> None:
    archs = [space.sample(np.random.default_rng(i)) for i in range(5)]
    mean, spread = fitted.predict_spread(archs)
    assert np.allclose(mean, fitted.predict(archs)) and (spread >= 0).all()
    objective = SurrogateObjective(fitted, space)
    assert [objective(a) for a in archs] == pytest.approx(list(mean))
    assert objective.calls == 5


def test_fit_from_a_table_file(space: SearchSpace, rows: list[dict], tmp_path: Path) -> None:
    table = ArchitectureTable(tmp_path / "t.jsonl")
    for row in rows[:40]:
        table.append(row)
    surrogate = Surrogate(space, members=1, n_estimators=20).fit(ArchitectureTable(tmp_path / "t.jsonl"))
    assert len(surrogate.rows) == 40
    table.append({**rows[41], "config_hash": "other"})
    with pytest.raises(ValueError, match="mixes"):
        Surrogate(space, members=1).fit(table)


def test_rows_from_another_space_are_refused(space: SearchSpace, rows: list[dict]) -> None:
    wrong = [{**row, "key": "message=mult"} for row in rows[:5]]
    with pytest.raises(ValueError, match="does not match"):
        Surrogate(space).fit(wrong)
    with pytest.raises(RuntimeError):
        Surrogate(space).predict([space.sample(np.random.default_rng(0))])
