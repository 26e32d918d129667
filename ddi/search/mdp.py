"""Architecture search as a Markov decision process on the architecture graph (Cassimon et al. 2024).

The graph's nodes are the valid architectures and its edges join architectures that differ in one choice.
An agent stands on one node (the *current* architecture) and remembers the best node found so far (the
*incumbent*); each step it edits one choice and the edited architecture is evaluated.

State
    the current and the incumbent architecture as token sequences (``space.encode``), and three numbers:
    the current score, the best score and their difference, each standardised by ``ScoreNorm`` (mean and
    spread of random architectures' scores), so one agent works on objectives of any scale.
Action
    ``(source, choice, option)``: set ``choice`` to ``option`` in the current architecture (source 0) or in
    the incumbent (source 1, only with ``edit_from_best``; a jump back to the best node followed by one
    edit). The action set is fixed, ``sources x num_tokens`` with one token per (choice, option), and a mask
    removes the edits that keep the option, give an invalid architecture, or reach an architecture already
    evaluated in this search: so every step evaluates exactly one new architecture and a search can never
    loop. The edited architecture becomes the current one.
Reward
    ``improvement_weight * max(0, best' - best) + shaping_weight * (gamma * score' - score)``, in standardised
    units. The first term pays for raising the best score and sums over a search to the total improvement
    of the incumbent, which is what a search is judged on; the second is potential-based shaping with the
    current score as potential (Ng et al. 1999): it rewards climbing without changing which policy is
    optimal.
Episodes
    a fixed number of steps; the last transitions are bootstrapped rather than treated as terminal (partial
    episode bootstrapping), as the search after the cut-off would go on. A state whose every action is
    masked is terminal; the search then restarts from a random unseen architecture, keeping its incumbent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ddi.search.budget import Architecture
from ddi.search.methods import draw_unseen

#: Scalar features of a state: current score, best score, current - best (standardised).
NUM_SCALARS = 3


@dataclass(frozen=True)
class ScoreNorm:
    """Standardisation of scores: ``(score - mean) / std``; estimated on random architectures."""

    mean: float
    std: float

    def __call__(self, score: float) -> float:
        return (score - self.mean) / self.std

    @classmethod
    def estimate(cls, scores: np.ndarray) -> ScoreNorm:
        scores = np.asarray(scores, dtype=float)
        std = float(scores.std()) if scores.size > 1 else 0.0
        return cls(float(scores.mean()), std if std > 1e-12 else 1.0)


class ActionSpace:
    """Actions ``source * num_tokens + token``, token = the (choice, option) pair it sets.

    Parameters
    ----------
    space: a ``SearchSpace``; its ``encode`` must give one token per (choice, option) in ``[0, num_tokens)``.
    edit_from_best: also allow edits of the incumbent (two sources) instead of the current architecture only.
    """

    def __init__(self, space, edit_from_best: bool = True) -> None:
        self.space = space
        sizes = [len(c.options) for c in space.choices]
        self.num_choices = len(sizes)
        self.num_tokens = int(space.num_tokens)
        self.sources = 2 if edit_from_best else 1
        self.num_actions = self.sources * self.num_tokens
        # token of each (choice, option), read from the space's own encoding
        self.token_of: list[list[int]] = []
        self.token_choice = np.zeros(self.num_tokens, dtype=np.int64)
        self.token_option = np.zeros(self.num_tokens, dtype=np.int64)
        for c, n in enumerate(sizes):
            row = []
            for o in range(n):
                arch = [0] * self.num_choices
                arch[c] = o
                token = int(space.encode(tuple(arch))[c])
                row.append(token)
                self.token_choice[token] = c
                self.token_option[token] = o
            self.token_of.append(row)
        if sorted(t for row in self.token_of for t in row) != list(range(self.num_tokens)):
            raise ValueError("space.encode must give every (choice, option) its own token in [0, num_tokens)")
        self._neighbours: dict[Architecture, list[tuple[int, Architecture]]] = {}

    def edits(self, arch: Architecture) -> list[tuple[int, Architecture]]:
        """(token, neighbour) for every valid single-choice edit of ``arch`` (cached)."""
        found = self._neighbours.get(arch)
        if found is None:
            found = []
            for other in self.space.neighbours(arch):
                pos = next(i for i, (a, b) in enumerate(zip(arch, other, strict=True)) if a != b)
                found.append((self.token_of[pos][other[pos]], tuple(other)))
            if len(self._neighbours) > 200_000:
                self._neighbours.clear()
            self._neighbours[arch] = found
        return found

    def target(self, action: int, current: Architecture, best: Architecture) -> Architecture:
        """The architecture an action leads to."""
        source, token = divmod(int(action), self.num_tokens)
        base = best if source == 1 else current
        c, o = int(self.token_choice[token]), int(self.token_option[token])
        return (*base[:c], o, *base[c + 1 :])

    def mask(self, current: Architecture, best: Architecture, seen: Callable[[Architecture], bool]) -> np.ndarray:
        """Boolean ``A`` of the allowed actions (edits to valid architectures not evaluated yet)."""
        mask = np.zeros(self.num_actions, dtype=bool)
        bases = [current] if self.sources == 1 or best == current else [current, best]
        for source, base in enumerate(bases):
            for token, other in self.edits(base):
                if not seen(other):
                    mask[source * self.num_tokens + token] = True
        return mask


@dataclass
class Observation:
    """One state: tokens ``C`` of current and incumbent, scalars ``(NUM_SCALARS,)``, action mask ``A``."""

    current: np.ndarray
    best: np.ndarray
    scalars: np.ndarray
    mask: np.ndarray


@dataclass(frozen=True)
class RewardConfig:
    gamma: float = 0.9
    improvement_weight: float = 1.0
    shaping_weight: float = 0.1


class SearchEnv:
    """One search on the graph: ``restart`` places the agent, ``step`` edits and evaluates.

    Parameters
    ----------
    actions: the ``ActionSpace`` of the space.
    score: architecture -> score (a ``BudgetedObjective`` when searching; a cached cheap objective in
        training). It is called once per new architecture; ``BudgetExhausted`` passes through.
    norm: score standardisation.
    rng: draws restart points.
    """

    def __init__(
        self,
        actions: ActionSpace,
        score: Callable[[Architecture], float],
        norm: ScoreNorm,
        rewards: RewardConfig,
        rng: np.random.Generator,
    ) -> None:
        self.actions = actions
        self.space = actions.space
        self.score_fn = score
        self.norm = norm
        self.rewards = rewards
        self.rng = rng
        self.visited: set[Architecture] = set()
        self.current: Architecture = ()
        self.best: Architecture = ()
        self.current_score = self.best_score = float("-inf")

    def seen(self, arch: Architecture) -> bool:
        return arch in self.visited

    def _evaluate(self, arch: Architecture) -> float:
        score = float(self.score_fn(arch))
        self.visited.add(arch)
        return score

    def restart(self, start: Architecture | None = None) -> None:
        """Stand on ``start`` (default: a random unseen architecture) and evaluate it; the incumbent stays."""
        if start is None:
            start = draw_unseen(self.space, self.seen, self.rng)
        self.current, self.current_score = start, self._evaluate(start)
        if self.current_score > self.best_score:
            self.best, self.best_score = self.current, self.current_score

    def reset(self) -> None:
        """A new search: forget what was visited and the incumbent, then restart at random."""
        self.visited = set()
        self.best, self.best_score = (), float("-inf")
        self.restart()

    def observe(self) -> Observation:
        z_cur, z_best = self.norm(self.current_score), self.norm(self.best_score)
        return Observation(
            current=self.space.encode(self.current),
            best=self.space.encode(self.best),
            scalars=np.array([z_cur, z_best, z_cur - z_best], dtype=np.float32),
            mask=self.actions.mask(self.current, self.best, self.seen),
        )

    def step(self, action: int) -> float:
        """Apply an allowed action, evaluate the new architecture, return the reward."""
        arch = self.actions.target(action, self.current, self.best)
        if self.seen(arch) or not self.space.is_valid(arch):
            raise ValueError(f"action {action} is masked in this state")
        score = self._evaluate(arch)
        old_best, old_current = self.best_score, self.current_score
        self.current, self.current_score = arch, score
        if score > self.best_score:
            self.best, self.best_score = arch, score
        std = self.norm.std
        r = self.rewards
        improvement = max(0.0, self.best_score - old_best) / std
        shaping = (r.gamma * self.norm(score)) - self.norm(old_current)
        return float(r.improvement_weight * improvement + r.shaping_weight * shaping)
