"""``run_search``: results, state files, and resuming without spending the budget twice."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ddi.errors import UserInputError
from ddi.search.runner import run_search


class Interrupting:
    """An objective that raises KeyboardInterrupt on its ``stop_after + 1``-th call and counts its calls."""

    def __init__(self, objective, stop_after: int | None = None) -> None:
        self.objective = objective
        self.stop_after = stop_after
        self.calls = 0

    def __call__(self, arch) -> float:
        if self.stop_after is not None and self.calls >= self.stop_after:
            raise KeyboardInterrupt
        self.calls += 1
        return self.objective(arch)


@pytest.mark.parametrize("method", ["random", "walk", "local", "evolution", "rl"])
def test_an_interrupted_search_resumes_without_re_spending_its_budget(
    tmp_path, toy_space, toy_objective, toy_agent, method
):
    state = tmp_path / "state.json"
    agent = toy_agent if method == "rl" else None
    reference = run_search(method, toy_space, toy_objective, 30, seed=4, agent=agent)

    first = Interrupting(toy_objective, stop_after=12)
    with pytest.raises(KeyboardInterrupt):
        run_search(method, toy_space, first, 30, seed=4, state_path=state, agent=agent)
    saved = json.loads(state.read_text())
    assert len(saved["trajectory"]) == 12 and not saved["done"]

    second = Interrupting(toy_objective)
    resumed = run_search(method, toy_space, second, 30, seed=4, state_path=state, agent=agent)
    assert second.calls == 30 - 12  # the first 12 came from the state file
    assert [e.key for e in resumed.trajectory] == [e.key for e in reference.trajectory]
    assert resumed.best_score == reference.best_score
    assert np.array_equal(resumed.curve, reference.curve)

    third = Interrupting(toy_objective)
    again = run_search(method, toy_space, third, 30, seed=4, state_path=state, agent=agent)
    assert third.calls == 0 and again.best_key == reference.best_key


def test_result_holds_the_best_architecture_and_curve(toy_space, toy_objective):
    result = run_search("evolution", toy_space, toy_objective, 25, seed=0)
    assert result.evaluations == 25 and len(result.curve) == 25
    assert result.best_score == max(e.score for e in result.trajectory) == result.curve[-1]
    assert toy_space.key(result.best_arch) == result.best_key
    assert np.all(np.diff(result.curve) >= 0)
    assert json.loads(json.dumps(result.to_dict()))["best"]["key"] == result.best_key


def test_a_state_file_of_another_search_is_refused(tmp_path, toy_space, toy_objective):
    state = tmp_path / "state.json"
    run_search("random", toy_space, toy_objective, 5, seed=0, state_path=state)
    with pytest.raises(UserInputError, match="different seed"):
        run_search("random", toy_space, toy_objective, 5, seed=1, state_path=state)
    state.write_text("{not json")
    with pytest.raises(UserInputError, match="not valid JSON"):
        run_search("random", toy_space, toy_objective, 5, seed=0, state_path=state)
    state.write_text('["a list"]')
    with pytest.raises(UserInputError, match="not a search state file"):
        run_search("random", toy_space, toy_objective, 5, seed=0, state_path=state)


def test_unknown_method_and_bad_budget_are_user_errors(toy_space, toy_objective):
    with pytest.raises(UserInputError, match="unknown search method"):
        run_search("annealing", toy_space, toy_objective, 5, seed=0)
    with pytest.raises(UserInputError, match="budget"):
        run_search("random", toy_space, toy_objective, 0, seed=0)


def test_a_state_of_another_objective_is_refused(tmp_path, toy_space, toy_objective):
    state = tmp_path / "state.json"
    run_search("random", toy_space, toy_objective, 5, seed=0, state_path=state, objective_id="surrogate:a")
    assert json.loads(state.read_text())["objective_id"] == "surrogate:a"
    with pytest.raises(UserInputError, match="different objective"):
        run_search("random", toy_space, toy_objective, 5, seed=0, state_path=state, objective_id="surrogate:b")
    again = run_search("random", toy_space, toy_objective, 5, seed=0, state_path=state, objective_id="surrogate:a")
    assert again.evaluations == 5
