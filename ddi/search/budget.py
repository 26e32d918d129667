"""A budget of distinct evaluations around any objective, and the record of how a search spent it.

Search methods are compared at equal cost, and the cost of architecture search is the number of distinct
architectures trained. ``BudgetedObjective`` is the only way a method reaches its objective: it charges one
unit per architecture it has not seen before, answers a repeated architecture from its cache for free, and
raises ``BudgetExhausted`` when a method asks for a new one after the budget is spent. Every charged
evaluation is recorded (index, architecture, key, score, best so far), so the trajectory of any method is
comparable with any other's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

import numpy as np

log = logging.getLogger(__name__)

Architecture = tuple[int, ...]
Objective = Callable[[Architecture], float]


class BudgetExhausted(Exception):
    """A method asked for a new architecture after the budget was spent (the normal way a search ends)."""


class SpaceExhausted(Exception):
    """No architecture is left to evaluate (a budget larger than the space): the search is over."""


@dataclass(frozen=True)
class Evaluation:
    """One charged evaluation: the ``index``-th distinct architecture, its score and the best score so far."""

    index: int
    key: str
    arch: Architecture
    score: float
    best: float

    def to_dict(self) -> dict:
        out = asdict(self)
        out["arch"] = list(self.arch)
        return out

    @classmethod
    def from_dict(cls, raw: dict) -> Evaluation:
        return cls(
            index=int(raw["index"]),
            key=str(raw["key"]),
            arch=tuple(int(i) for i in raw["arch"]),
            score=float(raw["score"]),
            best=float(raw["best"]),
        )


def default_key(arch: Architecture) -> str:
    return "-".join(str(int(i)) for i in arch)


class BudgetedObjective:
    """``objective`` behind a budget of ``budget`` distinct evaluations (higher scores are better).

    Parameters
    ----------
    objective: architecture -> score; called at most once per distinct architecture.
    budget: number of distinct architectures that may be evaluated.
    key: architecture -> readable key for the trajectory (pass ``space.key``).
    replay: evaluations of an earlier run of the same search (a resumed run): an architecture found there is
        charged as usual but its score is taken from the record instead of calling ``objective`` again.
    on_evaluate: called with each new ``Evaluation`` (the runner saves its state there).
    """

    def __init__(
        self,
        objective: Objective,
        budget: int,
        key: Callable[[Architecture], str] = default_key,
        replay: Iterable[Evaluation] = (),
        on_evaluate: Callable[[Evaluation], None] | None = None,
    ) -> None:
        if budget < 1:
            raise ValueError("budget must be >= 1")
        self.objective = objective
        self.budget = int(budget)
        self.key = key
        self.on_evaluate = on_evaluate
        self._replay = {tuple(e.arch): e.score for e in replay}
        self._replay_order = [tuple(e.arch) for e in replay]
        self._cache: dict[Architecture, float] = {}
        self.trajectory: list[Evaluation] = []
        self.replayed = 0

    def __call__(self, arch: Architecture) -> float:
        arch = tuple(int(i) for i in arch)
        cached = self._cache.get(arch)
        if cached is not None:
            return cached
        if self.exhausted:
            raise BudgetExhausted(f"budget of {self.budget} evaluations spent")
        if arch in self._replay:
            score = self._replay[arch]
            position = len(self.trajectory)
            if position >= len(self._replay_order) or self._replay_order[position] != arch:
                log.warning("resumed search departs from its saved trajectory at evaluation %d", position + 1)
            self.replayed += 1
        else:
            score = float(self.objective(arch))
            if not np.isfinite(score):
                raise ValueError(f"objective returned {score} for {self.key(arch)}")
        self._cache[arch] = score
        best = max(score, self.best_score) if self.trajectory else score
        evaluation = Evaluation(len(self.trajectory), self.key(arch), arch, score, best)
        self.trajectory.append(evaluation)
        if self.on_evaluate is not None:
            self.on_evaluate(evaluation)
        return score

    def seen(self, arch: Architecture) -> bool:
        """Whether ``arch`` was evaluated already (asking for it again is free)."""
        return tuple(int(i) for i in arch) in self._cache

    @property
    def spent(self) -> int:
        return len(self.trajectory)

    @property
    def remaining(self) -> int:
        return self.budget - self.spent

    @property
    def exhausted(self) -> bool:
        return self.spent >= self.budget

    @property
    def best(self) -> Evaluation | None:
        """The best evaluation so far (the first one reaching the best score), or None before any."""
        if not self.trajectory:
            return None
        return max(self.trajectory, key=lambda e: (e.score, -e.index))

    @property
    def best_score(self) -> float:
        return self.trajectory[-1].best if self.trajectory else float("-inf")


def best_so_far_curve(trajectory: Iterable[Evaluation], budget: int) -> np.ndarray:
    """Best score after 1..``budget`` evaluations (``budget`` long); a run that stopped early (a space
    smaller than the budget) keeps its last best, and positions before any evaluation are NaN."""
    curve = np.full(budget, np.nan)
    best = float("-inf")
    last = -1
    for e in trajectory:
        if e.index >= budget:
            break
        best = max(best, e.score)
        curve[e.index] = best
        last = e.index
    if last >= 0:
        curve[last + 1 :] = best
    return curve
