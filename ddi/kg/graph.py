"""The pharmacology knowledge graph: drugs and proteins joined by typed, directed edges.

**Nodes.** Drugs first, in the row order of ``tables.drugs`` (drug node ``i`` is drug ``i`` of the drug
vocabulary), then every protein linked to one of them by a kept relation, sorted by UniProt id.

**Edges.** ``E = 2 F``. Edges ``0..F-1`` are the forward edges, sorted by (relation, source, target):
drug -> protein edges from ``drug_protein`` and ``ddi:<type>`` edges from the *training* interactions only,
from the acting drug to the affected one (see ``ddi.kg.relations``). Edge ``F + e`` is the inverse of edge
``e``: source and target swapped, relation ``r + R``. Interaction edges carry the key of their unordered
drug pair (``edge_pair``) so a model can hide the pairs it is predicting (``pair_edge_mask``).
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, TypedDict

import numpy as np
import pandas as pd
import torch

from ddi.data.tables import Tables
from ddi.errors import UnknownDrugError
from ddi.kg.relations import RELATION_GROUPS, RelationVocab, protein_relations

if TYPE_CHECKING:
    from torch_geometric.data import Data

log = logging.getLogger(__name__)

NODE_KINDS = ("drug", "protein")
DRUG, PROTEIN = 0, 1
#: ``subject`` value of interaction types whose row drug1 fills ``#Drug2`` (see the data README).
SUBJECT_IS_DRUG2 = 2


class GraphStats(TypedDict):
    """``KnowledgeGraph.stats()``: nodes per kind, all edges, and forward edges per group and per relation."""

    nodes: dict[str, int]
    edges: int
    forward_edges_per_group: dict[str, int]
    forward_edges_per_relation: dict[str, int]


@dataclass(frozen=True, eq=False)
class CSRAdjacency:
    """Out-edges grouped by source node (compressed sparse rows), for path enumeration.

    Attributes
    ----------
    rowptr : np.ndarray
        ``(N + 1,)``: the out-edges of node ``v`` are positions ``rowptr[v]:rowptr[v + 1]``.
    col, rel : np.ndarray
        ``(E,)``: target node and relation id of each edge, sorted by (source, target, relation).
    """

    rowptr: np.ndarray
    col: np.ndarray
    rel: np.ndarray

    @classmethod
    def from_edges(cls, edge_index: torch.Tensor, edge_type: torch.Tensor, num_nodes: int) -> CSRAdjacency:
        src, dst = edge_index.numpy()
        rel = edge_type.numpy()
        order = np.lexsort((rel, dst, src))
        rowptr = np.zeros(num_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=num_nodes), out=rowptr[1:])
        return cls(rowptr, dst[order], rel[order])

    def out_edges(self, node: int) -> tuple[np.ndarray, np.ndarray]:
        """Targets and relation ids of the edges leaving ``node``."""
        lo, hi = self.rowptr[node], self.rowptr[node + 1]
        return self.col[lo:hi], self.rel[lo:hi]

    def degree(self, nodes: np.ndarray) -> np.ndarray:
        return self.rowptr[nodes + 1] - self.rowptr[nodes]


@dataclass(frozen=True, eq=False)
class KnowledgeGraph:
    """Drugs and proteins joined by typed edges, as tensors for message passing and names for explanations.

    Attributes
    ----------
    vocab : RelationVocab
        Relation names, groups, inverses and verbs; ``edge_type`` indexes it. Always the full vocabulary, so
        relation ids do not depend on ``relation_groups``.
    edge_index : torch.Tensor
        ``2 x E`` long, source -> target.
    edge_type : torch.Tensor
        ``(E,)`` long relation ids.
    edge_pair : torch.Tensor
        ``(E,)`` long: for an interaction edge, the key ``min(u, v) * num_drugs + max(u, v)`` of its
        unordered drug pair (``pair_keys``); ``-1`` for drug-protein edges.
    node_ids : tuple of str
        ``(N,)`` DrugBank ids, then UniProt ids.
    node_names : tuple of str
        ``(N,)`` labels: drug names; protein gene names (CYP3A4), else protein names, else UniProt ids.
    node_kind : torch.Tensor
        ``(N,)`` long index into ``NODE_KINDS``.
    num_drugs : int
        Drug nodes are ``0..num_drugs-1``.
    relation_groups : frozenset of str
        The relation groups whose edges the graph holds.
    """

    vocab: RelationVocab
    edge_index: torch.Tensor
    edge_type: torch.Tensor
    edge_pair: torch.Tensor
    node_ids: tuple[str, ...]
    node_names: tuple[str, ...]
    node_kind: torch.Tensor
    num_drugs: int
    relation_groups: frozenset[str]

    @classmethod
    def build(
        cls,
        tables: Tables,
        train_interactions: pd.DataFrame,
        relation_groups: Iterable[str] | None = None,
    ) -> KnowledgeGraph:
        """Build the graph from validated tables and the interactions a model may see.

        Parameters
        ----------
        tables
            Validated tables; ``drugs`` fixes the drug nodes, ``drug_protein``/``proteins`` the protein side.
        train_interactions
            ``(drug1_id, drug2_id, type)`` rows, normally the training split: only these become interaction
            edges, so validation and test labels never leak into the graph. Rows naming an unknown drug are
            dropped with a warning.
        relation_groups
            Groups to keep (subset of ``RELATION_GROUPS``); default all.
        """
        groups = frozenset(RELATION_GROUPS if relation_groups is None else relation_groups)
        unknown = groups - set(RELATION_GROUPS)
        if unknown:
            raise ValueError(f"unknown relation group(s) {sorted(unknown)}; choose from {RELATION_GROUPS}")
        missing = {"drug1_id", "drug2_id", "type"} - set(train_interactions.columns)
        if missing:
            raise ValueError(f"train_interactions lacks column(s) {sorted(missing)}")
        train_types = pd.unique(train_interactions["type"]).astype(int).tolist()
        vocab = RelationVocab.from_interaction_types(tables.interaction_types, extra_types=train_types)
        drug_ids = tables.drugs["drugbank_id"].tolist()
        drug_index = {d: i for i, d in enumerate(drug_ids)}
        num_drugs = len(drug_ids)

        protein_ids, *protein_edges = _protein_edges(tables.drug_protein, drug_index, vocab, groups)
        edges: list[Sequence[np.ndarray]] = [protein_edges]
        if "interaction" in groups:
            edges.append(_interaction_edges(train_interactions, drug_index, tables.interaction_types, vocab))
        src, dst, rel = _sorted_unique(*(np.concatenate(part) for part in zip(*edges, strict=True)))
        # Drug nodes come first, so a target below num_drugs marks an interaction edge.
        edge_pair = np.where(dst < num_drugs, np.minimum(src, dst) * num_drugs + np.maximum(src, dst), -1)
        kg = cls(
            vocab=vocab,
            edge_index=torch.from_numpy(np.stack([np.concatenate([src, dst]), np.concatenate([dst, src])])),
            edge_type=torch.from_numpy(np.concatenate([rel, rel + vocab.num_forward])),
            edge_pair=torch.from_numpy(np.concatenate([edge_pair, edge_pair])),
            node_ids=tuple(drug_ids) + tuple(protein_ids),
            node_names=_drug_labels(tables.drugs) + _protein_labels(protein_ids, tables.proteins),
            node_kind=torch.tensor([DRUG] * num_drugs + [PROTEIN] * len(protein_ids), dtype=torch.long),
            num_drugs=num_drugs,
            relation_groups=groups,
        )
        log.info(
            "knowledge graph: %d drugs, %d proteins, %d edges (%d forward)",
            num_drugs,
            len(protein_ids),
            kg.num_edges,
            kg.num_forward_edges,
        )
        return kg

    @property
    def num_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def num_proteins(self) -> int:
        return self.num_nodes - self.num_drugs

    @property
    def num_edges(self) -> int:
        return int(self.edge_type.numel())

    @property
    def num_forward_edges(self) -> int:
        return self.num_edges // 2

    @cached_property
    def adjacency(self) -> CSRAdjacency:
        """Out-edges per node (built on first use, then kept)."""
        return CSRAdjacency.from_edges(self.edge_index, self.edge_type, self.num_nodes)

    def pair_keys(self, pairs: torch.Tensor) -> torch.Tensor:
        """``(n,)`` long keys of unordered drug pairs given as an ``n x 2`` tensor of drug node ids."""
        pairs = torch.as_tensor(pairs, dtype=torch.long)
        if pairs.ndim != 2 or pairs.shape[1] != 2:
            raise ValueError(f"pairs must be n x 2, got shape {tuple(pairs.shape)}")
        if pairs.numel() and (pairs.min() < 0 or pairs.max() >= self.num_drugs):
            raise ValueError(f"pairs must hold drug node ids in 0..{self.num_drugs - 1}")
        low, high = pairs.min(dim=1).values, pairs.max(dim=1).values
        return low * self.num_drugs + high

    def pair_edge_mask(self, pairs: torch.Tensor) -> torch.Tensor:
        """Which edges join one of ``pairs`` (either order, both edge directions).

        Parameters
        ----------
        pairs
            ``n x 2`` long drug node ids.

        Returns
        -------
        torch.Tensor
            ``(E,)`` bool; ``edge_index[:, ~mask]`` is the graph without those pairs' interaction edges.
        """
        keys = torch.sort(self.pair_keys(pairs)).values
        if not keys.numel():
            return torch.zeros_like(self.edge_pair, dtype=torch.bool)
        # Binary search of every edge's key among the few query keys: much faster than torch.isin here.
        position = torch.searchsorted(keys, self.edge_pair).clamp(max=keys.numel() - 1)
        return keys[position] == self.edge_pair

    def drug_node(self, query: str | int) -> int:
        """Node id of a drug given by node id, DrugBank id or exact name (both case-insensitive).

        Raises
        ------
        UnknownDrugError
            If no drug matches, with the closest names as suggestions.
        """
        if isinstance(query, (int, np.integer)) and not isinstance(query, bool):
            if 0 <= query < self.num_drugs:
                return int(query)
            raise UnknownDrugError(f"drug node id {query} is out of range 0..{self.num_drugs - 1}")
        key = str(query).strip().lower()
        if key in self._drug_lookup:
            return self._drug_lookup[key]
        close = difflib.get_close_matches(key, list(self._drug_lookup), n=3, cutoff=0.8)
        hint = f"; did you mean {', '.join(repr(self._display(c)) for c in close)}?" if close else ""
        raise UnknownDrugError(f"unknown drug {query!r}: not a DrugBank id or drug name of the data{hint}")

    @cached_property
    def _drug_lookup(self) -> dict[str, int]:
        lookup = {name.lower(): i for i, name in enumerate(self.node_names[: self.num_drugs])}
        lookup.update({d.lower(): i for i, d in enumerate(self.node_ids[: self.num_drugs])})
        return lookup

    def _display(self, key: str) -> str:
        return self.node_names[self._drug_lookup[key]]

    def stats(self) -> GraphStats:
        """Nodes per kind, and forward edges per relation and per group (each has as many inverses)."""
        forward = self.edge_type[: self.num_forward_edges]
        per_relation = torch.bincount(forward, minlength=self.vocab.num_forward)[: self.vocab.num_forward]
        per_group: dict[str, int] = dict.fromkeys(RELATION_GROUPS, 0)
        for rel_id, count in enumerate(per_relation.tolist()):
            per_group[self.vocab.group_of(rel_id)] += count
        return {
            "nodes": {kind: int((self.node_kind == k).sum()) for k, kind in enumerate(NODE_KINDS)},
            "edges": self.num_edges,
            "forward_edges_per_group": per_group,
            "forward_edges_per_relation": dict(
                zip(self.vocab.names[: self.vocab.num_forward], per_relation.tolist(), strict=True)
            ),
        }

    def to_data(self) -> Data:
        """The graph as a PyG ``Data`` (``edge_index``, ``edge_type``, ``node_kind``, ``num_nodes``)."""
        from torch_geometric.data import Data

        return Data(
            edge_index=self.edge_index,
            edge_type=self.edge_type,
            edge_pair=self.edge_pair,
            node_kind=self.node_kind,
            num_nodes=self.num_nodes,
        )


def _protein_edges(
    drug_protein: pd.DataFrame, drug_index: dict[str, int], vocab: RelationVocab, groups: frozenset[str]
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Protein ids (sorted) and the drug -> protein edges of the kept groups as (source, target, relation)."""
    rows = drug_protein.loc[
        drug_protein["drugbank_id"].map(drug_index).notna(),
        ["drugbank_id", "category", "uniprot_id", "actions"],
    ]
    # Few distinct (category, actions) combinations: map those, not every row.
    combos = rows[["category", "actions"]].drop_duplicates()
    combos["relation"] = [
        tuple(r for r in protein_relations(category, actions) if vocab.group_of(r) in groups)
        for category, actions in zip(combos["category"], combos["actions"], strict=True)
    ]
    links = rows.merge(combos, on=["category", "actions"]).explode("relation").dropna(subset=["relation"])
    protein_ids = sorted(links["uniprot_id"].unique())
    protein_index = {p: len(drug_index) + i for i, p in enumerate(protein_ids)}
    return (
        protein_ids,
        links["drugbank_id"].map(drug_index).to_numpy(np.int64),
        links["uniprot_id"].map(protein_index).to_numpy(np.int64),
        links["relation"].map(vocab.index).to_numpy(np.int64),
    )


def _interaction_edges(
    interactions: pd.DataFrame,
    drug_index: dict[str, int],
    interaction_types: pd.DataFrame,
    vocab: RelationVocab,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interaction edges as (source, target, relation), from the acting to the affected drug."""
    d1 = interactions["drug1_id"].map(drug_index)
    d2 = interactions["drug2_id"].map(drug_index)
    known = d1.notna() & d2.notna() & (d1 != d2)
    if not known.all():
        log.warning(
            "knowledge graph: skipped %d interaction(s) naming a drug outside the drugs table or a self pair",
            int((~known).sum()),
        )
    d1 = d1[known].to_numpy(np.int64)
    d2 = d2[known].to_numpy(np.int64)
    types = interactions.loc[known, "type"].astype(np.int64)
    # Subject-2 templates put the row's drug1 in #Drug2: the acting drug is drug2.
    subject = dict(zip(interaction_types["type"], interaction_types["subject"], strict=True))
    swap = types.map(subject).to_numpy() == SUBJECT_IS_DRUG2
    relation = types.map({t: vocab.interaction_relation(t) for t in vocab.interaction_types})
    return np.where(swap, d2, d1), np.where(swap, d1, d2), relation.to_numpy(np.int64)


def _sorted_unique(src: np.ndarray, dst: np.ndarray, rel: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges without repeats, sorted by (relation, source, target) so the graph ignores input row order."""
    n = int(max(src.max(initial=0), dst.max(initial=0))) + 1
    key = np.unique((rel * n + src) * n + dst)
    return key // n % n, key % n, key // (n * n)


def _drug_labels(drugs: pd.DataFrame) -> tuple[str, ...]:
    return tuple(name or drug_id for drug_id, name in zip(drugs["drugbank_id"], drugs["name"], strict=True))


def _protein_labels(protein_ids: list[str], proteins: pd.DataFrame) -> tuple[str, ...]:
    info = proteins.drop_duplicates("uniprot_id").set_index("uniprot_id")
    gene = info["gene_name"].to_dict()
    name = info["protein_name"].to_dict()
    return tuple(gene.get(p) or name.get(p) or p for p in protein_ids)
