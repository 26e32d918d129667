"""Search methods: exact budgets in distinct evaluations, determinism per seed, local search on a unimodal
space, and the budget wrapper itself."""

from __future__ import annotations

import numpy as np
import pytest
from toy_space import ToyObjective, ToySpace

from ddi.search.budget import BudgetedObjective, BudgetExhausted, best_so_far_curve
from ddi.search.methods import METHODS, run_method
from ddi.search.space import SearchSpace

BASELINES = [name for name in METHODS if name != "rl"]


class CountingObjective:
    """Wraps an objective and counts its calls, to prove re-evaluations are free."""

    def __init__(self, objective) -> None:
        self.objective = objective
        self.calls = 0

    def __call__(self, arch) -> float:
        self.calls += 1
        return self.objective(arch)


def linear_objective(space, seed: int = 0):
    weights = np.random.default_rng(seed).normal(size=space.num_tokens)
    return lambda arch: float(weights[space.encode(arch)].sum())


def run(method, space, objective, budget, seed):
    budgeted = BudgetedObjective(objective, budget, key=space.key)
    run_method(method, space, budgeted, np.random.default_rng(seed))
    return budgeted


@pytest.mark.parametrize("method", BASELINES)
@pytest.mark.parametrize("budget", [1, 7, 60])
def test_every_method_spends_exactly_the_budget_in_distinct_evaluations(toy_space, method, budget):
    objective = CountingObjective(ToyObjective(toy_space, seed=1))
    budgeted = run(method, toy_space, objective, budget, seed=3)
    keys = [e.key for e in budgeted.trajectory]
    assert len(keys) == budget == len(set(keys)) == objective.calls
    assert all(toy_space.is_valid(e.arch) for e in budgeted.trajectory)
    assert [e.index for e in budgeted.trajectory] == list(range(budget))


@pytest.mark.parametrize("method", BASELINES)
def test_methods_work_on_the_real_search_space(method):
    space = SearchSpace()
    objective = CountingObjective(linear_objective(space))
    budgeted = run(method, space, objective, 40, seed=0)
    assert budgeted.spent == objective.calls == 40
    assert len({e.key for e in budgeted.trajectory}) == 40
    assert all(space.is_valid(e.arch) for e in budgeted.trajectory)


@pytest.mark.parametrize("method", BASELINES)
def test_a_budget_larger_than_the_space_ends_after_every_architecture(method):
    tiny = ToySpace(sizes=(2, 3, 2), forbidden=(((0, 1), (1, 2)),))
    budgeted = run(method, tiny, ToyObjective(tiny, seed=0), 50, seed=0)
    assert budgeted.spent == tiny.size() == 10


@pytest.mark.parametrize("method", BASELINES)
def test_same_seed_same_search_and_other_seeds_differ(toy_space, toy_objective, method):
    a = [e.key for e in run(method, toy_space, toy_objective, 40, seed=5).trajectory]
    b = [e.key for e in run(method, toy_space, toy_objective, 40, seed=5).trajectory]
    c = [e.key for e in run(method, toy_space, toy_objective, 40, seed=6).trajectory]
    assert a == b
    assert a != c


def test_local_search_finds_the_optimum_of_a_unimodal_space():
    space = ToySpace(sizes=(4, 3, 3, 3, 2), forbidden=())
    objective = ToyObjective(space, seed=2, interactions=0.0, noise=0.0)
    optimum, best = objective.optimum()
    for seed in range(5):
        budgeted = run("local", space, objective, 80, seed)
        assert budgeted.best.arch == optimum
        assert budgeted.best_score == pytest.approx(best)


def test_evolution_beats_random_walk_on_average(toy_space, toy_objective):
    """A sanity check of the implementations: selection must help on a structured landscape."""
    evo = np.mean([run("evolution", toy_space, toy_objective, 100, s).best_score for s in range(8)])
    walk = np.mean([run("walk", toy_space, toy_objective, 100, s).best_score for s in range(8)])
    assert evo > walk


def test_budgeted_objective_caches_repeats_and_stops_at_the_budget():
    objective = CountingObjective(lambda arch: float(sum(arch)))
    budgeted = BudgetedObjective(objective, 2)
    assert budgeted((1, 2)) == 3.0
    assert budgeted((1, 2)) == 3.0  # free
    assert budgeted((0, 0)) == 0.0
    assert budgeted.exhausted and budgeted.remaining == 0
    assert budgeted((0, 0)) == 0.0  # still free after the budget
    with pytest.raises(BudgetExhausted):
        budgeted((5, 5))
    assert objective.calls == 2
    assert [(e.index, e.key, e.score, e.best) for e in budgeted.trajectory] == [
        (0, "1-2", 3.0, 3.0),
        (1, "0-0", 0.0, 3.0),
    ]
    assert budgeted.best.arch == (1, 2)


def test_best_so_far_curve_is_monotone_and_padded():
    objective = BudgetedObjective(lambda arch: float(arch[0]), 10)
    for value in (3, 1, 5, 4):
        objective((value,))
    curve = best_so_far_curve(objective.trajectory, 6)
    assert curve.tolist() == [3, 3, 5, 5, 5, 5]
    assert np.isnan(best_so_far_curve([], 3)).all()


def test_rl_without_an_agent_is_a_clear_error(toy_space, toy_objective):
    from ddi.errors import UserInputError

    with pytest.raises(UserInputError, match="trained agent"):
        run("rl", toy_space, toy_objective, 5, seed=0)
