"""The interactions DrugBank lists, by unordered pair of drugs: one index per loaded model.

The pair page asks it for one pair (``known_interactions``), the batch and the regimen for whole columns
(``KnownPairs.lookup``). Built once per model through ``Predictor.derived``: it reads every listed interaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ddi.predict.sentences import interaction_sentence

if TYPE_CHECKING:
    from ddi.predict.predictor import Predictor


@dataclass(frozen=True, slots=True)
class KnownInteraction:
    """An interaction DrugBank lists for the pair: its type and sentence (DrugBank's orientation)."""

    type_id: int
    sentence: str


class KnownPairs:
    """The data's interactions sorted by unordered pair of graph drug nodes, written out on demand.

    A benchmark row (drug1, drug2, type) reads with drug1 as ``#Drug1`` when the type's subject is 1 or 3, as
    ``#Drug2`` when it is 2 (see the data README).
    """

    def __init__(self, predictor: Predictor) -> None:
        tables = predictor.ctx.tables
        inter = tables.interactions
        # Only graph drugs have listed interactions; a structure registered later gets a node at or past this.
        self._stride = predictor.ctx.graph.num_drugs
        a = inter["drug1_id"].map(predictor.node_of).to_numpy(dtype=np.int64)
        b = inter["drug2_id"].map(predictor.node_of).to_numpy(dtype=np.int64)
        keys = np.minimum(a, b) * self._stride + np.maximum(a, b)
        order = np.argsort(keys, kind="stable")
        self._keys = keys[order]
        self._rows = order
        self._drug1 = inter["drug1_id"].to_numpy(dtype=object)
        self._drug2 = inter["drug2_id"].to_numpy(dtype=object)
        self._type = inter["type"].to_numpy(dtype=np.int64)
        self._names = predictor.names
        types = tables.interaction_types
        self._templates = dict(zip(types["type"].astype(int), types["template"].astype(str), strict=True))
        self._subject = dict(zip(types["type"].astype(int), types["subject"].astype(int), strict=True))
        self._joined: dict[int, tuple[str, str]] = {}

    def _positions(self, head: np.ndarray, tail: np.ndarray) -> np.ndarray:
        """For each pair of nodes, the first sorted position of its rows, or -1 when it is not listed."""
        head, tail = np.asarray(head, dtype=np.int64), np.asarray(tail, dtype=np.int64)
        found = np.full(len(head), -1, dtype=np.int64)
        graph = (head >= 0) & (tail >= 0) & (head < self._stride) & (tail < self._stride)
        if not len(self._keys) or not graph.any():
            return found
        h, t = head[graph], tail[graph]
        keys = np.minimum(h, t) * self._stride + np.maximum(h, t)
        pos = np.searchsorted(self._keys, keys).clip(max=len(self._keys) - 1)
        found[graph] = np.where(self._keys[pos] == keys, pos, -1)
        return found

    def _at(self, pos: int) -> list[KnownInteraction]:
        """Every listed interaction of the pair whose rows start at ``pos`` (one per type and direction)."""
        out = []
        for end in range(pos, len(self._keys)):
            if self._keys[end] != self._keys[pos]:
                break
            row = int(self._rows[end])
            type_id = int(self._type[row])
            role = "#Drug2" if self._subject.get(type_id) == 2 else "#Drug1"
            template = self._templates.get(type_id)
            first, second = self._names[self._drug1[row]], self._names[self._drug2[row]]
            sentence = interaction_sentence(template, first, second, role) if template else ""
            out.append(KnownInteraction(type_id, sentence))
        return out

    def of_pair(self, head: int, tail: int) -> list[KnownInteraction]:
        """The interactions listed for the unordered pair of nodes (empty: not listed)."""
        pos = int(self._positions(np.array([head]), np.array([tail]))[0])
        return self._at(pos) if pos >= 0 else []

    def lookup(
        self, head: np.ndarray, tail: np.ndarray, mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Listed type ids (``"73"``, ``"47|73"``) and sentences of node pairs, ``""`` where a pair is not listed
        or ``mask`` is False."""
        types = np.full(len(head), "", dtype=object)
        sentences = np.full(len(head), "", dtype=object)
        positions = self._positions(head, tail)
        if mask is not None:
            positions[~np.asarray(mask, dtype=bool)] = -1
        for row in np.flatnonzero(positions >= 0).tolist():
            pos = int(positions[row])
            if pos not in self._joined:
                found = self._at(pos)
                joined_types = "|".join(str(k.type_id) for k in found)
                self._joined[pos] = (joined_types, " | ".join(k.sentence for k in found if k.sentence))
            types[row], sentences[row] = self._joined[pos]
        return types, sentences


def known_interactions(predictor: Predictor, drug1_id: str, drug2_id: str) -> list[KnownInteraction]:
    """The interactions DrugBank lists for the unordered pair of model drugs, each as its sentence."""
    return predictor.derived(KnownPairs).of_pair(predictor.node_of[drug1_id], predictor.node_of[drug2_id])
