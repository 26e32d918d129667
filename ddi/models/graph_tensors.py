"""The knowledge graph as the tensors the model needs: context edges and the drug x node slot tables.

A *slot* is one drug-rooted cell (u, x) of the graph: all edges from drug u to node x, whose relation
embeddings the model sums into one vector. That vector depends only on the slot's set of relations, its *slot
type*, and a graph has few of them (about 400 types for 335,000 slots on DrugBank), so the tables hold slot-type
ids: ``slot_all[u, x]`` over every relation, ``slot_protein[u, x]`` only over protein and similarity relations,
used for drugs whose interactions the model must not see (new drugs, or drugs hidden in training to imitate
them). Empty cells hold -1. The model computes one vector per type, and paths gather from that small table.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from ddi.kg.graph import KnowledgeGraph

#: Partners per drug of the "shares proteins with" relation (top Jaccard similarity of protein sets).
SIMILAR_DRUGS_PER_DRUG = 16


@dataclass
class ModelGraph:
    """Tensors of one knowledge graph, restricted to the configured relation groups.

    Shapes
    ------
    edge_index: ``2 x E``; edge_type: ``E``; edge_pair_key: ``E`` (unordered drug-pair key of interaction
    edges, -1 for others); slot_all / slot_protein: ``D x N`` int32 slot-type ids; slot_types: sparse ``U x R``
    0/1, the relations of each slot type.
    """

    num_nodes: int
    num_drugs: int
    num_relations: int
    edge_index: Tensor
    edge_type: Tensor
    edge_is_interaction: Tensor
    edge_pair_key: Tensor
    slot_all: Tensor
    slot_protein: Tensor
    slot_types: Tensor

    @classmethod
    def from_kg(cls, kg: KnowledgeGraph, relation_groups: tuple[str, ...], similarity: bool) -> ModelGraph:
        vocab = kg.vocab
        keep_rel = torch.zeros(len(vocab), dtype=torch.bool)
        keep_rel[vocab.ids_in_groups(relation_groups)] = True
        keep = keep_rel[kg.edge_type]
        edge_index = kg.edge_index[:, keep]
        edge_type = kg.edge_type[keep]
        is_interaction = torch.tensor([vocab.group_of(r) == "interaction" for r in range(len(vocab))])[edge_type]
        n, d = kg.num_nodes, kg.num_drugs
        src, dst = edge_index
        pair_key = kg.edge_pair[keep]  # min(u, v) * num_drugs + max(u, v) for interaction edges, else -1

        # Drug-rooted edges, plus the similarity relation (id = len(vocab)) when paths may be 3 steps long.
        rooted = src < d
        rel_src, rel_dst, rel_type = src[rooted], dst[rooted], edge_type[rooted]
        num_relations = len(vocab) + 1
        if similarity:
            sim = similar_drug_pairs(kg, relation_groups)
            rel_src = torch.cat([rel_src, sim[0]])
            rel_dst = torch.cat([rel_dst, sim[1]])
            rel_type = torch.cat([rel_type, torch.full((sim.shape[1],), len(vocab), dtype=torch.long)])
        rel_is_interaction = torch.cat(
            [is_interaction[rooted], torch.zeros(len(rel_src) - int(rooted.sum()), dtype=torch.bool)]
        )

        slot_all, ids_all = _slots(rel_src, rel_dst, d, n, offset=0)
        protein_only = ~rel_is_interaction
        slot_protein, ids_protein = _slots(rel_src[protein_only], rel_dst[protein_only], d, n, offset=_count(ids_all))
        slot_type, slot_types = _slot_types(
            torch.cat([ids_all, ids_protein]), torch.cat([rel_type, rel_type[protein_only]]), num_relations
        )
        return cls(
            num_nodes=n,
            num_drugs=d,
            num_relations=num_relations,
            edge_index=edge_index,
            edge_type=edge_type,
            edge_is_interaction=is_interaction,
            edge_pair_key=pair_key,
            slot_all=_as_types(slot_all, slot_type),
            slot_protein=_as_types(slot_protein, slot_type),
            slot_types=slot_types,
        )

    def interaction_relations(self) -> Tensor:
        """``R`` bool: which relation types are interactions (of any type, either direction)."""
        if getattr(self, "_interaction_relations", None) is None:
            flags = torch.zeros(self.num_relations, dtype=torch.bool)
            flags[self.edge_type[self.edge_is_interaction]] = True
            self._interaction_relations = flags
        return self._interaction_relations

    def context_edges(self, drop_pair_keys: Tensor | None, hidden_drugs: Tensor | None) -> tuple[Tensor, Tensor]:
        """Edges for the context layers, without the interactions of the pairs being predicted (no label leak)
        and without any interaction of a hidden drug."""
        keep = torch.ones(self.edge_type.shape[0], dtype=torch.bool)
        if drop_pair_keys is not None and drop_pair_keys.numel():
            keep &= ~sorted_membership(self.edge_pair_key, drop_pair_keys)
        if hidden_drugs is not None and bool(hidden_drugs.any()):
            src, dst = self.edge_index
            touches = torch.zeros_like(keep)
            touches |= (src < self.num_drugs) & hidden_drugs[src.clamp(max=self.num_drugs - 1)]
            touches |= (dst < self.num_drugs) & hidden_drugs[dst.clamp(max=self.num_drugs - 1)]
            keep &= ~(touches & self.edge_is_interaction)
        return self.edge_index[:, keep], self.edge_type[keep]

    def slot_mask_rows(self, drugs: Tensor, hidden: Tensor | None) -> Tensor:
        """``B x N`` bool: where each drug's row has a slot; the protein-only row for hidden drugs.

        Ids past the graph's nodes are drugs known only by structure (see ``Predictor.register_structure``):
        they have no edges, so their rows are empty.
        """
        if getattr(self, "_has_slot", None) is None:
            self._has_slot = (self.slot_all >= 0, self.slot_protein >= 0)
        has_all, has_protein = self._has_slot
        outside = drugs >= self.num_drugs
        if bool(outside.any()):
            rows = torch.zeros(len(drugs), self.num_nodes, dtype=torch.bool)
            rows[~outside] = self.slot_mask_rows(drugs[~outside], hidden)
            return rows
        rows = has_all.index_select(0, drugs)
        if hidden is not None and bool(hidden.any()):
            h = hidden[drugs]
            rows[h] = has_protein[drugs[h]]
        return rows

    def slot_ids(self, drugs: Tensor, middles: Tensor, hidden: Tensor | None) -> Tensor:
        """Slot-type id of each (drug, middle node) cell (every drug inside the graph, every cell non-empty)."""
        # A flat index_select: several times faster than table[drugs, middles] for many cells on a CPU.
        ids = self.slot_all.flatten().index_select(0, drugs * self.slot_all.shape[1] + middles)
        if hidden is not None and bool(hidden.any()):
            h = hidden[drugs]
            ids[h] = self.slot_protein[drugs[h], middles[h]]
        return ids.long()


def sorted_membership(values: Tensor, keys: Tensor) -> Tensor:
    """``values`` in ``keys``, by binary search (much faster than ``torch.isin`` for few keys, many values)."""
    keys = torch.sort(keys).values
    pos = torch.searchsorted(keys, values).clamp(max=keys.numel() - 1)
    return keys[pos] == values


def _count(ids: Tensor) -> int:
    """Number of ids ``0..max`` (0 for none)."""
    return int(ids.max()) + 1 if ids.numel() else 0


def _slots(src: Tensor, dst: Tensor, num_drugs: int, num_nodes: int, offset: int) -> tuple[Tensor, Tensor]:
    """Number each distinct (src, dst) cell; return the ``D x N`` table and the slot id of every edge."""
    table = torch.full((num_drugs, num_nodes), -1, dtype=torch.int32)
    if src.numel() == 0:
        return table, torch.zeros(0, dtype=torch.long)
    cell = src * num_nodes + dst
    unique, inverse = torch.unique(cell, return_inverse=True)
    ids = inverse + offset
    table.view(-1)[unique] = torch.arange(offset, offset + len(unique), dtype=torch.int32)
    return table, ids


def _slot_types(slot_id: Tensor, rel: Tensor, num_relations: int) -> tuple[Tensor, Tensor]:
    """The type (set of relations) of every slot, exactly: ``S`` type ids, and the sparse ``U x R`` 0/1 matrix
    of each type's relations, from the ``M`` (slot id, relation) entries."""
    if slot_id.numel() == 0:
        return torch.zeros(0, dtype=torch.long), _sparse_rows(torch.zeros(0, dtype=torch.long), rel, 0, num_relations)
    entry = np.unique(slot_id.numpy() * num_relations + rel.numpy())  # sorted by slot, then relation; no repeats
    slot, relation = entry // num_relations, entry % num_relations
    num_slots = int(slot.max()) + 1
    per_slot = np.bincount(slot, minlength=num_slots)
    rank = np.arange(len(entry)) - (np.cumsum(per_slot) - per_slot)[slot]  # position within the slot's list
    padded = np.full((num_slots, int(per_slot.max())), -1, dtype=np.int64)
    padded[slot, rank] = relation
    base, width = num_relations + 1, padded.shape[1]
    if base**width < 2**63:  # each padded row as one integer (digits: relation + 1): a fast 1-D unique
        keys = ((padded + 1) * (base ** np.arange(width, dtype=np.int64))).sum(axis=1)
        _, first, slot_type = np.unique(keys, return_index=True, return_inverse=True)
        types = padded[first]
    else:
        types, slot_type = np.unique(padded, axis=0, return_inverse=True)
    type_of, type_rel = np.nonzero(types >= 0)
    return torch.as_tensor(slot_type.reshape(-1)), _sparse_rows(
        torch.as_tensor(type_of), torch.as_tensor(types[type_of, type_rel]), len(types), num_relations
    )


def _sparse_rows(rows: Tensor, cols: Tensor, num_rows: int, num_cols: int) -> Tensor:
    """Sparse CSR ``num_rows x num_cols`` 0/1 matrix with ones at (rows[i], cols[i])."""
    with warnings.catch_warnings():  # torch flags sparse CSR as beta; the ops used here are stable
        warnings.simplefilter("ignore", UserWarning)
        matrix = torch.sparse_coo_tensor(
            torch.stack([rows, cols]), torch.ones(rows.shape[0]), (num_rows, num_cols), check_invariants=True
        )
        return matrix.coalesce().to_sparse_csr()


def _as_types(table: Tensor, slot_type: Tensor) -> Tensor:
    """A ``D x N`` slot-id table (-1 = empty) as slot-type ids."""
    filled = table >= 0
    out = table.clone()
    out[filled] = slot_type[table[filled].long()].to(table.dtype)
    return out


def drug_protein_incidence(kg: KnowledgeGraph, relation_groups: tuple[str, ...]) -> sp.csr_matrix:
    """``D x P`` 0/1 sparse matrix: which proteins each drug has an edge to, over the protein relation groups
    among ``relation_groups`` (any action counts once)."""
    vocab = kg.vocab
    shape = (kg.num_drugs, kg.num_nodes - kg.num_drugs)
    protein_groups = [g for g in relation_groups if g != "interaction"]
    if not protein_groups:
        return sp.csr_matrix(shape)
    rel_ok = torch.zeros(len(vocab), dtype=torch.bool)
    rel_ok[vocab.ids_in_groups(protein_groups)] = True
    src, dst = kg.edge_index
    mask = rel_ok[kg.edge_type] & (src < kg.num_drugs) & (dst >= kg.num_drugs)
    s, p = src[mask].numpy(), (dst[mask] - kg.num_drugs).numpy()
    incidence = sp.csr_matrix((np.ones(len(s)), (s, p)), shape=shape)
    incidence.sum_duplicates()
    incidence.data[:] = 1.0
    return incidence


def similar_drug_pairs(kg: KnowledgeGraph, relation_groups: tuple[str, ...], k: int = SIMILAR_DRUGS_PER_DRUG) -> Tensor:
    """``2 x S`` drug pairs (both directions) linking each drug to the k drugs whose protein sets are most alike
    (Jaccard), so a path can step from a drug to its pharmacological neighbours in one hop."""
    incidence = drug_protein_incidence(kg, relation_groups)
    if incidence.nnz == 0:
        return torch.zeros(2, 0, dtype=torch.long)
    shared = (incidence @ incidence.T).tocsr()
    sizes = np.asarray(incidence.sum(axis=1)).ravel()
    rows, cols = shared.nonzero()
    keep = rows != cols
    rows, cols = rows[keep], cols[keep]
    inter = np.asarray(shared[rows, cols]).ravel()
    jaccard = inter / (sizes[rows] + sizes[cols] - inter)
    # Top k per row: sort by (row, -jaccard, col) for a deterministic choice.
    order = np.lexsort((cols, -jaccard, rows))
    rows, cols = rows[order], cols[order]
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows)
    chosen = rank < k
    pairs = np.stack([rows[chosen], cols[chosen]])
    both = np.unique(np.concatenate([pairs, pairs[::-1]], axis=1), axis=1)
    return torch.as_tensor(both, dtype=torch.long)
