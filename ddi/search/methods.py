"""Search methods over a ``SearchSpace``, all with one signature: ``search(space, objective, rng) -> None``.

A method only ever talks to its ``BudgetedObjective``: it asks for scores until the objective raises
``BudgetExhausted`` (``run_method`` catches it) or until the whole space is evaluated. Asking again for a seen
architecture is free, so every method is compared at exactly the same number of distinct evaluations. Each
method draws all its randomness from ``rng``, so a seed fixes its run.

Methods (``METHODS``)
---------------------
random: uniform samples, never the same architecture twice.
walk: random walk on the architecture graph, one random single-choice edit per step.
local: best-improvement hill climbing: evaluate every neighbour, move to the best one if it improves, else
    restart from a random architecture (White et al. 2021, "local search is state of the art for NAS").
evolution: regularised (aging) evolution (Real et al. 2019): a population, tournament selection, one-choice
    mutations, the oldest member removed.
rl: the trained Q-learning agent of ``ddi.search.rl_agent`` walking the graph (needs ``agent=``).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from ddi.search.budget import Architecture, BudgetedObjective, BudgetExhausted, SpaceExhausted

log = logging.getLogger(__name__)

#: Draws spent looking for an architecture not evaluated yet before a method gives up on a (tiny) space.
MAX_DRAWS = 1_000
#: Consecutive free moves (onto seen architectures) a walk may make before it restarts elsewhere.
MAX_FREE_MOVES = 100


class Space(Protocol):
    """What the methods use of ``ddi.search.space.SearchSpace``."""

    choices: tuple

    def size(self) -> int: ...
    def is_valid(self, arch: Architecture) -> bool: ...
    def sample(self, rng: np.random.Generator) -> Architecture: ...
    def neighbours(self, arch: Architecture) -> list[Architecture]: ...
    def encode(self, arch: Architecture) -> np.ndarray: ...
    def key(self, arch: Architecture) -> str: ...


SearchMethod = Callable[..., None]


def draw_unseen(space: Space, seen: Callable[[Architecture], bool], rng: np.random.Generator) -> Architecture:
    """A random architecture for which ``seen`` is false.

    Rejection sampling first; when that keeps failing (a space nearly exhausted) and the space can list its
    architectures, a uniform pick among the unseen ones, so a budget larger than the space ends cleanly.
    """
    for _ in range(MAX_DRAWS):
        arch = tuple(space.sample(rng))
        if not seen(arch):
            return arch
    listing = getattr(space, "all_architectures", None)
    if listing is not None:
        unseen = [tuple(a) for a in listing() if not seen(tuple(a))]
        if unseen:
            return unseen[int(rng.integers(len(unseen)))]
    raise SpaceExhausted("every architecture was evaluated")


def sample_unseen(space: Space, objective: BudgetedObjective, rng: np.random.Generator) -> Architecture:
    """A random architecture the objective has not evaluated yet."""
    return draw_unseen(space, objective.seen, rng)


def random_search(space: Space, objective: BudgetedObjective, rng: np.random.Generator) -> None:
    """Evaluate uniformly random, distinct architectures."""
    while True:
        objective(sample_unseen(space, objective, rng))


def random_walk(space: Space, objective: BudgetedObjective, rng: np.random.Generator) -> None:
    """Move to a uniformly random neighbour at every step, whatever its score.

    Moving onto a seen architecture is free; after ``MAX_FREE_MOVES`` such moves in a row (a walk trapped in
    an explored region) the walk restarts from a random unseen architecture, so it always spends its budget.
    """
    current = sample_unseen(space, objective, rng)
    objective(current)
    free = 0
    while True:
        options = space.neighbours(current)
        if not options or free >= MAX_FREE_MOVES:
            current, free = sample_unseen(space, objective, rng), 0
        else:
            current = options[int(rng.integers(len(options)))]
            free = free + 1 if objective.seen(current) else 0
        objective(current)


def local_search(space: Space, objective: BudgetedObjective, rng: np.random.Generator) -> None:
    """Best-improvement hill climbing over single edits, with random restarts at local optima.

    All neighbours of the current architecture are evaluated in a random order (so a budget that runs out
    mid-neighbourhood does not favour the first choices); the search moves to the best neighbour if it beats
    the current architecture, else restarts from a random unseen one.
    """
    current = sample_unseen(space, objective, rng)
    score = objective(current)
    while True:
        options = space.neighbours(current)
        order = rng.permutation(len(options))
        scored = [(objective(options[i]), options[i]) for i in order]
        best_score, best = max(scored, key=lambda t: t[0], default=(float("-inf"), current))
        if best_score > score:
            current, score = best, best_score
        else:
            current = sample_unseen(space, objective, rng)
            score = objective(current)


def mutate(space: Space, arch: Architecture, rng: np.random.Generator) -> Architecture | None:
    """A random valid architecture differing from ``arch`` in one choice (None if it has no neighbour)."""
    options = space.neighbours(arch)
    return options[int(rng.integers(len(options)))] if options else None


def regularised_evolution(
    space: Space,
    objective: BudgetedObjective,
    rng: np.random.Generator,
    population_size: int = 10,
    tournament_size: int = 3,
) -> None:
    """Aging evolution: fill a population with random architectures; then repeatedly take the best of a
    random tournament, mutate one choice, add the child and drop the oldest member.

    A child that was evaluated before costs nothing but teaches nothing either, so up to 20 mutations are
    tried for an unseen child before a random unseen architecture is used instead. The defaults (10 and 3)
    suit budgets of 10-200 evaluations: the population is full after 10, leaving most of the budget to
    evolution.
    """
    population: deque[tuple[Architecture, float]] = deque()
    while len(population) < population_size:
        arch = sample_unseen(space, objective, rng)
        population.append((arch, objective(arch)))
    while True:
        picks = rng.choice(len(population), size=min(tournament_size, len(population)), replace=False)
        parent = max((population[int(i)] for i in picks), key=lambda t: t[1])[0]
        child = None
        for _ in range(20):
            candidate = mutate(space, parent, rng)
            if candidate is not None and not objective.seen(candidate):
                child = candidate
                break
        if child is None:
            child = sample_unseen(space, objective, rng)
        population.append((child, objective(child)))
        population.popleft()


def rl_search(space: Space, objective: BudgetedObjective, rng: np.random.Generator, agent: Any | None = None) -> None:
    """The trained agent's policy (``ddi.search.rl_agent.QAgent.search``)."""
    if agent is None:
        from ddi.errors import UserInputError

        raise UserInputError("method 'rl' needs a trained agent (train one, or pass --agent DIR)")
    agent.search(space, objective, rng)


METHODS: dict[str, SearchMethod] = {
    "random": random_search,
    "walk": random_walk,
    "local": local_search,
    "evolution": regularised_evolution,
    "rl": rl_search,
}


def run_method(
    method: str | SearchMethod,
    space: Space,
    objective: BudgetedObjective,
    rng: np.random.Generator,
    **kwargs: Any,
) -> None:
    """Run ``method`` until its budget is spent or the space is exhausted."""
    fn = METHODS[method] if isinstance(method, str) else method
    try:
        fn(space, objective, rng, **kwargs)
    except BudgetExhausted:
        return
    except SpaceExhausted as exc:
        log.info("search stopped after %d of %d evaluations: %s", objective.spent, objective.budget, exc)
