"""Interaction labels with direction: an ordered pair (A, B) gets a type *and* an orientation.

A template has two roles, ``#Drug1`` and ``#Drug2``. For an ordered pair (A, B) the orientation says whether A
fills ``#Drug1`` (orientation 0) or ``#Drug2`` (orientation 1). A benchmark row (drug1, drug2, type) fills the
roles by the type's ``subject``: subject 1 or 3 -> drug1 is ``#Drug1``; subject 2 -> drug1 is ``#Drug2``.
Training on both orders of every row with ``2 x T`` classes lets the model answer a pair asked in any order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import Tensor

SYMMETRIC_SUBJECT = 3


class TypeOrientation:
    """Encode (type, orientation) as a class index ``2 * type_index + orientation`` and back."""

    def __init__(self, interaction_types: pd.DataFrame) -> None:
        ordered = interaction_types.sort_values("type")
        self.type_ids = ordered["type"].to_numpy(dtype=np.int64)
        self.subject = ordered["subject"].to_numpy(dtype=np.int64)
        self.index_of = {int(t): i for i, t in enumerate(self.type_ids)}
        self.symmetric = torch.as_tensor(self.subject == SYMMETRIC_SUBJECT)

    @property
    def num_types(self) -> int:
        return len(self.type_ids)

    @property
    def num_classes(self) -> int:
        return 2 * self.num_types

    def type_index(self, types: np.ndarray) -> np.ndarray:
        return np.array([self.index_of[int(t)] for t in types], dtype=np.int64)

    def encode(self, types: np.ndarray, reverse: bool = False) -> np.ndarray:
        """Class of each benchmark row (``reverse=False``) or of the row read as (drug2, drug1)."""
        idx = self.type_index(types)
        orientation = (self.subject[idx] == 2).astype(np.int64)
        if reverse:
            orientation = np.where(self.subject[idx] == SYMMETRIC_SUBJECT, 0, 1 - orientation)
        return 2 * idx + orientation

    def reverse_class(self) -> Tensor:
        """``2T``: the class of the pair read in the other order, for each class (``encode(reverse=True)`` of a
        row is ``reverse_class()[encode(row)]``): orientations swap, symmetric types keep orientation 0."""
        index = torch.arange(self.num_classes)
        swapped = index ^ 1  # 2i <-> 2i + 1
        return torch.where(self.symmetric.repeat_interleave(2), index, swapped)

    def type_probs(self, class_probs: Tensor) -> Tensor:
        """``B x 2T`` class probabilities -> ``B x T`` type probabilities."""
        return class_probs.view(-1, self.num_types, 2).sum(-1)

    def predicted_types(self, class_probs: Tensor) -> np.ndarray:
        """``B x 2T`` class probabilities -> ``B`` type ids of the most probable type."""
        return self.type_ids[self.type_probs(class_probs).argmax(-1).numpy()]

    def flip(self, class_probs: Tensor) -> Tensor:
        """Probabilities for (B, A) read as probabilities for (A, B): orientations swap, symmetric types stay."""
        p = class_probs.view(-1, self.num_types, 2)
        swapped = p.flip(-1)
        merged = torch.stack([p.sum(-1), torch.zeros_like(p[..., 0])], dim=-1)
        out = torch.where(self.symmetric.view(1, -1, 1), merged, swapped)
        return out.reshape(class_probs.shape)

    def first_drug_role(self, type_index: int, orientation: int) -> str:
        """The placeholder the first drug of the ordered pair fills."""
        if self.subject[type_index] == SYMMETRIC_SUBJECT:
            return "#Drug1"
        return "#Drug1" if orientation == 0 else "#Drug2"
