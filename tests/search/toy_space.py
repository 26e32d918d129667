"""A small synthetic search space with a known optimum, implementing ``SearchSpace``'s interface.

The objective is additive per-choice scores, plus pairwise interactions between neighbouring choices, plus a
fixed pseudo-random term per architecture (seeded): rugged enough that single-edit searches can get stuck,
structured enough that a learner can do better than random. ``interactions=0, noise=0, forbidden=()`` makes
it unimodal (every non-optimal architecture has an improving single edit), which the local-search test uses.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ddi.search.space import single_edits

Architecture = tuple[int, ...]


@dataclass(frozen=True)
class ToyChoice:
    name: str
    options: tuple


class ToySpace:
    """``sizes[i]`` options for choice i; ``forbidden`` lists ((choice, option), (choice, option)) pairs that
    make an architecture invalid."""

    def __init__(
        self,
        sizes: Sequence[int] = (5, 4, 3, 3, 4, 2, 3),
        forbidden: Sequence[tuple[tuple[int, int], tuple[int, int]]] = (((2, 2), (5, 1)), ((0, 4), (1, 0))),
    ) -> None:
        self.choices = tuple(ToyChoice(f"c{i}", tuple(range(n))) for i, n in enumerate(sizes))
        self.forbidden = tuple(forbidden)
        self._offsets = np.cumsum([0, *sizes])

    @property
    def num_tokens(self) -> int:
        return int(self._offsets[-1])

    def is_valid(self, arch: Architecture) -> bool:
        if len(arch) != len(self.choices):
            raise ValueError("wrong length")
        return not any(arch[a] == oa and arch[b] == ob for (a, oa), (b, ob) in self.forbidden)

    def all_architectures(self) -> Iterator[Architecture]:
        for arch in itertools.product(*(range(len(c.options)) for c in self.choices)):
            if self.is_valid(arch):
                yield arch

    def size(self) -> int:
        return sum(1 for _ in self.all_architectures())

    def sample(self, rng: np.random.Generator) -> Architecture:
        while True:
            arch = tuple(int(rng.integers(len(c.options))) for c in self.choices)
            if self.is_valid(arch):
                return arch

    def neighbours(self, arch: Architecture) -> list[Architecture]:
        return single_edits(arch, [len(c.options) for c in self.choices], self.is_valid)

    def encode(self, arch: Architecture) -> np.ndarray:
        return np.asarray(arch, dtype=np.int64) + self._offsets[:-1]

    def features(self, arch: Architecture) -> np.ndarray:
        out = np.zeros(self.num_tokens, dtype=np.float32)
        out[self.encode(arch)] = 1.0
        return out

    def key(self, arch: Architecture) -> str:
        return "|".join(f"c{i}={o}" for i, o in enumerate(arch))

    def to_model_config(self, arch: Architecture):  # pragma: no cover - not a model space
        raise NotImplementedError("the toy space has no model configs")


class ToyObjective:
    """Additive + pairwise + per-architecture noise, all drawn from ``seed``; ``optimum`` by enumeration."""

    def __init__(self, space: ToySpace, seed: int = 0, interactions: float = 0.5, noise: float = 0.2) -> None:
        rng = np.random.default_rng(seed)
        self.space = space
        self.unary = [rng.normal(size=len(c.options)) for c in space.choices]
        self.pairs = [
            interactions * rng.normal(size=(len(a.options), len(b.options)))
            for a, b in zip(space.choices, space.choices[1:], strict=False)
        ]
        self.noise = noise
        self.seed = seed
        self.calls = 0

    def __call__(self, arch: Architecture) -> float:
        self.calls += 1
        value = sum(u[o] for u, o in zip(self.unary, arch, strict=True))
        value += sum(p[a, b] for p, a, b in zip(self.pairs, arch, arch[1:], strict=False))
        if self.noise:
            h = np.random.default_rng([self.seed, *arch]).normal()
            value += self.noise * h
        return float(value)

    def optimum(self) -> tuple[Architecture, float]:
        best = max(self.space.all_architectures(), key=self.__call__)
        return best, self(best)
