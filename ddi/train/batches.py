"""Training batches grouped by head drug, for models with a flow.

The flow (``ddi.nn.head_flow``) propagates once per distinct head drug of a batch, so a batch of 1,024 random
pairs (about 1,000 distinct heads) would cost a thousand propagations; runs of pairs that share a head cost one
each. Runs are capped (``pairs_per_head``) so a hub drug's pairs spread over many batches, as random batches do.
"""

from __future__ import annotations

import numpy as np


def head_grouped_batches(
    heads: np.ndarray, num_batches: int, pairs_per_head: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Row indices of ``num_batches`` batches covering every row once.

    The rows (``heads``: each row's head drug) are shuffled, cut into runs of up to ``pairs_per_head`` rows of
    one head, and the runs, shuffled, are dealt out in order: each batch gets about the same number of runs.
    """
    order = rng.permutation(len(heads))
    order = order[np.argsort(heads[order], kind="stable")]  # by head, shuffled within each head
    sorted_heads = heads[order]
    head_starts = np.flatnonzero(np.r_[True, sorted_heads[1:] != sorted_heads[:-1]])
    rank_in_head = np.arange(len(order)) - np.repeat(head_starts, np.diff(np.r_[head_starts, len(order)]))
    run_starts = np.flatnonzero(rank_in_head % pairs_per_head == 0)
    runs = np.split(order, run_starts[1:])
    runs = [runs[i] for i in rng.permutation(len(runs))]
    dealt = np.array_split(np.arange(len(runs)), max(min(num_batches, len(runs)), 1))
    return [np.concatenate([runs[i] for i in part]) for part in dealt if len(part)]
