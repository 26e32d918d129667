"""Sampled non-interacting pairs for the interaction-exists head.

DrugBank lists the interactions that are known; a pair it does not list is *unlisted*, not a confirmed
negative. Negatives are drawn uniformly among ordered pairs of the given drugs that are not listed, a
standard but optimistic choice: some sampled pairs may in truth interact.
"""

from __future__ import annotations

import numpy as np
import torch


def pair_keys(heads: np.ndarray, tails: np.ndarray, num_drugs: int) -> np.ndarray:
    """Unordered pair keys ``min * N + max`` for fast membership tests."""
    lo, hi = np.minimum(heads, tails), np.maximum(heads, tails)
    return lo.astype(np.int64) * num_drugs + hi.astype(np.int64)


def own_pair_keys(heads: torch.Tensor, tails: torch.Tensor, num_drugs: int) -> torch.Tensor:
    """The distinct ``pair_keys`` of a batch's pairs: taken out of the context graph while the batch is scored,
    so no pair sees its own label (``encode``'s ``drop_pair_keys``)."""
    return torch.as_tensor(np.unique(pair_keys(heads.numpy(), tails.numpy(), num_drugs)))


def sample_negatives(
    drugs: np.ndarray,
    known_keys: np.ndarray,
    count: int,
    num_drugs: int,
    rng: np.random.Generator,
    heads: np.ndarray | None = None,
) -> np.ndarray:
    """Return ``count x 2`` drug indices of unlisted pairs drawn from ``drugs``.

    ``known_keys`` must be sorted (``np.unique`` output); it holds the unordered keys of listed pairs.
    ``heads``: draw the first drug of each pair from these instead (a head-grouped batch's heads, so its
    negatives need no propagation of their own; ``ddi.train.batches``).
    """
    if count <= 0 or len(drugs) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    out: list[np.ndarray] = []
    have = 0
    for _ in range(100):  # a dense graph may need a few rounds; 100 bounds a pathological input
        n = int((count - have) * 1.5) + 16
        h = drugs[rng.integers(0, len(drugs), n)] if heads is None else heads[rng.integers(0, len(heads), n)]
        t = drugs[rng.integers(0, len(drugs), n)]
        keys = pair_keys(h, t, num_drugs)
        ok = (h != t) & ~np.isin(keys, known_keys, assume_unique=False)
        pairs = np.stack([h[ok], t[ok]], axis=1)
        out.append(pairs)
        have += len(pairs)
        if have >= count:
            break
    return np.concatenate(out)[:count]
