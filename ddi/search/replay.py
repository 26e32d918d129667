"""Proportional prioritised experience replay (Schaul et al. 2016) on a sum tree.

Transitions with a large temporal-difference error are replayed more often: transition ``i`` is drawn with
probability ``p_i^alpha / sum_j p_j^alpha``, and its loss is weighted by ``(N * P(i))^-beta / max_j w_j`` to
undo the bias this sampling introduces (``beta`` is annealed to 1 over training). New transitions enter with
the largest priority seen so far, so each is replayed at least about once.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


class SumTree:
    """Binary tree whose internal nodes hold the sum of their children; leaves hold priorities.

    Sampling by prefix sum and updating a batch of leaves both take ``O(batch x log capacity)``, vectorised
    over the batch with numpy.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = int(capacity)
        size = 1
        while size < self.capacity:
            size *= 2
        self.leaves = size
        self.tree = np.zeros(2 * size, dtype=np.float64)  # node k has children 2k, 2k+1; root is 1

    @property
    def total(self) -> float:
        return float(self.tree[1])

    def update(self, index: np.ndarray, value: np.ndarray) -> None:
        nodes = np.asarray(index, dtype=np.int64) + self.leaves
        self.tree[nodes] = value
        nodes = np.unique(nodes // 2)
        while nodes[0] >= 1:
            self.tree[nodes] = self.tree[2 * nodes] + self.tree[2 * nodes + 1]
            if nodes[0] == 1:
                break
            nodes = np.unique(nodes // 2)

    def find(self, prefix: np.ndarray) -> np.ndarray:
        """Leaf index whose cumulative range contains each prefix sum."""
        prefix = np.asarray(prefix, dtype=np.float64).copy()
        nodes = np.ones(prefix.shape, dtype=np.int64)
        while nodes[0] < self.leaves:
            left = 2 * nodes
            go_right = prefix >= self.tree[left]
            prefix -= np.where(go_right, self.tree[left], 0.0)
            nodes = left + go_right
        return nodes - self.leaves

    def get(self, index: np.ndarray) -> np.ndarray:
        return self.tree[np.asarray(index, dtype=np.int64) + self.leaves]


class PrioritizedReplay:
    """A ring buffer of transitions (named numpy fields) with proportional prioritised sampling.

    Parameters
    ----------
    capacity: transitions kept; the oldest are overwritten.
    fields: name -> (shape of one entry, dtype).
    alpha: how strongly priorities skew sampling (0 = uniform).
    eps: added to |TD error| so no transition's priority is zero.
    """

    def __init__(self, capacity: int, fields: dict[str, tuple[tuple, type]], alpha: float = 0.6, eps: float = 1e-3):
        self.capacity = int(capacity)
        self.alpha = float(alpha)
        self.eps = float(eps)
        self.data = {name: np.zeros((self.capacity, *shape), dtype=dtype) for name, (shape, dtype) in fields.items()}
        self.tree = SumTree(self.capacity)
        self.max_priority = 1.0
        self.size = 0
        self.cursor = 0

    def __len__(self) -> int:
        return self.size

    def add(self, **entry: ArrayLike) -> None:
        """Store one transition with the largest priority so far."""
        i = self.cursor
        for name, array in self.data.items():
            array[i] = entry[name]
        self.tree.update(np.array([i]), np.array([self.max_priority**self.alpha]))
        self.cursor = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, beta: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Indices (stratified over the priority mass) and their normalised importance weights."""
        if self.size == 0:
            raise ValueError("cannot sample an empty replay")
        total = self.tree.total
        bounds = np.linspace(0.0, total, batch_size + 1)
        prefix = rng.uniform(bounds[:-1], bounds[1:])
        index = np.minimum(self.tree.find(np.minimum(prefix, total * (1 - 1e-12))), self.size - 1)
        probs = self.tree.get(index) / total
        weights = (self.size * np.maximum(probs, 1e-12)) ** (-beta)
        return index, (weights / weights.max()).astype(np.float32)

    def batch(self, index: np.ndarray) -> dict[str, np.ndarray]:
        return {name: array[index] for name, array in self.data.items()}

    def update_priorities(self, index: np.ndarray, td_error: np.ndarray) -> None:
        priority = np.abs(np.asarray(td_error, dtype=np.float64)) + self.eps
        self.max_priority = max(self.max_priority, float(priority.max()))
        self.tree.update(index, priority**self.alpha)
