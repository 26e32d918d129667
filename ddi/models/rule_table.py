"""Pharmacology-rule features of every ordered drug pair, computed once per graph and looked up per batch.

The rule catalogue (``ddi.kg.rules``) reads only drug-protein edges, so its features never change during
training. Only about one pair in seven fires any rule; the table keeps those pairs' rows (sorted by pair
index) and answers a batch by binary search.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ddi.kg.graph import KnowledgeGraph
from ddi.kg.rules import RULES, rule_features

_CHUNK = 1 << 22  # pairs per rule_features call: bounds memory on exports with many drugs


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
        keys, values = [], []
        flat = torch.arange(d * d)
        for start in range(0, d * d, _CHUNK):
            chunk = flat[start : start + _CHUNK]
            feats = rule_features(kg, torch.stack([chunk // d, chunk % d], dim=1))
            fired = (feats > 0).any(dim=1)
            keys.append(chunk[fired])
            values.append(feats[fired])
        self.keys = torch.cat(keys)
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
