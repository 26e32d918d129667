"""Pharmacology-rule features of every ordered drug pair, computed once per graph and looked up per batch.

The rule catalogue (``ddi.kg.rules``) reads only drug-protein edges, so its features never change during
training. Only about one pair in seven fires any rule; the table keeps those pairs' rows (sorted by pair
index) and answers a batch by binary search.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ddi.kg.graph import KnowledgeGraph
from ddi.kg.rules import RULES, RuleCounts


class RuleTable:
    """``rule_features`` of all ``D x D`` ordered pairs, stored sparsely.

    Shapes
    ------
    keys: ``K`` sorted flat pair indices ``head * D + tail`` with at least one rule; values: ``K x n_rules``.
    """

    def __init__(self, kg: KnowledgeGraph) -> None:
        d = kg.num_drugs
        self.num_drugs = d
        self.width = len(RULES)
        counts = RuleCounts(kg)
        keys, values = [], []
        for start in range(0, d, RuleCounts.BLOCK):
            heads = np.arange(start, min(start + RuleCounts.BLOCK, d))
            per_rule = [m.tocoo() for m in counts.rows(heads)]
            # The block's pairs where any rule fires, then each rule's count at those pairs.
            flat = [(m.row.astype(np.int64) + start) * d + m.col for m in per_rule]
            block_keys, where = np.unique(np.concatenate(flat), return_inverse=True)
            block_values = np.zeros((len(block_keys), self.width), dtype=np.float32)
            offset = 0
            for r, m in enumerate(per_rule):
                block_values[where[offset : offset + m.nnz], r] = m.data
                offset += m.nnz
            keys.append(torch.from_numpy(block_keys))
            values.append(torch.log1p(torch.from_numpy(block_values)))
        self.keys = torch.cat(keys) if keys else torch.zeros(0, dtype=torch.long)
        self.values = torch.cat(values) if values else torch.zeros(0, self.width)

    def lookup(self, heads: Tensor, tails: Tensor) -> Tensor:
        """``B x n_rules`` features of the ordered pairs (heads[i], tails[i]); zeros where no rule fires."""
        out = torch.zeros(len(heads), self.width)
        if self.keys.numel() == 0:
            return out
        inside = (heads < self.num_drugs) & (tails < self.num_drugs)  # drugs known only by structure fire none
        query = torch.where(inside, heads * self.num_drugs + tails, torch.full_like(heads, -1))
        pos = torch.searchsorted(self.keys, query).clamp(max=self.keys.numel() - 1)
        hit = (self.keys[pos] == query) & inside
        out[hit] = self.values[pos[hit]]
        return out
