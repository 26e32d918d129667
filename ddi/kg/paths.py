"""Relation paths between two drugs: the walks through the knowledge graph that explain a pair.

Paths are simple (no node twice) and at most three edges long. Every edge has its inverse in the graph, so a
walk may follow either; a walked inverse relation means the stored edge points backwards, which ``describe``
draws as ``<-verb-``. Enumeration is vectorised over the cached CSR adjacency: length-2 paths join the head's
out-edges with the tail's in-edges on the middle node, and length-3 paths meet in the middle, keeping only the
edges that leave a neighbour of the head *and* reach a neighbour of the tail, so hub drugs with hundreds of
neighbours stay fast.

Ranking (best first): fewer interaction edges (paths through proteins before generic DDI paths), then
shorter, then a higher rule score, then more informative relations (``RelationVocab.rank``), then node and
relation ids, so the order is deterministic. The rule score adds, for each hop ``x -> protein <- y``, how well
it matches a pharmacology rule (``ddi.kg.rules``): 3 when x acts on y's protein ("x inhibits CYP3A4 <- y is a
substrate of it"), 2 for the reverse or a specific shared action (both agonists), 1 for a catch-all rule
(both substrates, any shared target), 0 otherwise ("both inhibit CYP3A4").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ddi.kg.graph import KnowledgeGraph
from ddi.kg.relations import RelationVocab
from ddi.kg.rules import RULES

log = logging.getLogger(__name__)

MAX_PATH_LENGTH = 3
#: Candidate paths kept before ranking; past it the lowest-priority middle edges are dropped (logged).
MAX_CANDIDATES = 1_000_000


@dataclass(frozen=True, slots=True)
class RelationPath:
    """One walk from a head drug to a tail drug.

    Attributes
    ----------
    nodes : tuple of int
        ``(L + 1,)`` node ids, head first.
    relations : tuple of int
        ``(L,)`` walked relation ids; ``relations[i]`` leads from ``nodes[i]`` to ``nodes[i + 1]``.
    """

    nodes: tuple[int, ...]
    relations: tuple[int, ...]

    @property
    def length(self) -> int:
        return len(self.relations)

    def describe(self, kg: KnowledgeGraph) -> str:
        """E.g. ``"Fluconazole -inhibits-> CYP2C9 <-is a substrate of- Warfarin"``.

        The arrow shows the stored edge's direction; the verb always reads the stored edge forwards.
        """
        vocab = kg.vocab
        parts = [kg.node_names[self.nodes[0]]]
        for rel, node in zip(self.relations, self.nodes[1:], strict=True):
            if vocab.is_inverse(rel):
                parts.append(f"<-{vocab.verb(vocab.inverse_of(rel))}-")
            else:
                parts.append(f"-{vocab.verb(rel)}->")
            parts.append(kg.node_names[node])
        return " ".join(parts)


def relation_paths(
    kg: KnowledgeGraph,
    head: str | int,
    tail: str | int,
    max_length: int = MAX_PATH_LENGTH,
    limit: int = 50,
    include_direct: bool = False,
    max_candidates: int = MAX_CANDIDATES,
) -> list[RelationPath]:
    """The best-ranked simple paths from ``head`` to ``tail`` of 1..``max_length`` edges.

    Parameters
    ----------
    kg
        The knowledge graph.
    head, tail
        Drugs as node ids, DrugBank ids or names (see ``KnowledgeGraph.drug_node``).
    max_length
        Longest path, 1 to 3 edges.
    limit
        How many paths to return, best first.
    include_direct
        Also return the head-tail edges themselves. Off by default: explaining a pair by its own
        interaction label is leakage.
    max_candidates
        Cap on the paths enumerated before ranking.

    Raises
    ------
    ValueError
        If ``head`` and ``tail`` are the same drug or ``max_length`` is not 1..3.
    UnknownDrugError
        If a drug is not in the graph.
    """
    h, t = kg.drug_node(head), kg.drug_node(tail)
    if h == t:
        raise ValueError("head and tail are the same drug")
    if not 1 <= max_length <= MAX_PATH_LENGTH:
        raise ValueError(f"max_length must be 1..{MAX_PATH_LENGTH}, got {max_length}")
    adjacency = kg.adjacency
    head_next, head_rel = adjacency.out_edges(h)
    # In-edges of the tail are its out-edges reversed: every edge has its inverse in the graph.
    tail_prev, tail_out_rel = adjacency.out_edges(t)
    tail_rel = (tail_out_rel + kg.vocab.num_forward) % len(kg.vocab)

    found: list[tuple[np.ndarray, np.ndarray]] = []
    if include_direct:
        direct = head_next == t
        found.append((np.array([[h, t]] * int(direct.sum()), dtype=np.int64).reshape(-1, 2), head_rel[direct, None]))
    if max_length >= 2:
        found.append(_length_two(h, t, head_next, head_rel, tail_prev, tail_rel))
    if max_length >= 3:
        found.append(_length_three(kg, h, t, head_next, head_rel, tail_prev, tail_rel, max_candidates))
    return _ranked(kg, found, limit)


def _length_two(
    h: int, t: int, head_next: np.ndarray, head_rel: np.ndarray, tail_prev: np.ndarray, tail_rel: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Paths h -> x -> t: ``n x 3`` nodes and ``n x 2`` relations."""
    keep = head_next != t
    i, j = _join(head_next[keep], tail_prev)
    x = head_next[keep][i]
    nodes = np.stack([np.full_like(x, h), x, np.full_like(x, t)], axis=1)
    return nodes, np.stack([head_rel[keep][i], tail_rel[j]], axis=1)


def _length_three(
    kg: KnowledgeGraph,
    h: int,
    t: int,
    head_next: np.ndarray,
    head_rel: np.ndarray,
    tail_prev: np.ndarray,
    tail_rel: np.ndarray,
    max_candidates: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Paths h -> x -> y -> t (meet in the middle): ``n x 4`` nodes and ``n x 3`` relations."""
    adjacency = kg.adjacency
    keep = head_next != t
    head_next, head_rel = head_next[keep], head_rel[keep]
    keep = tail_prev != h
    tail_prev, tail_rel = tail_prev[keep], tail_rel[keep]

    # Middle edges x -> y: out-edges of the head's neighbours that land on a neighbour of the tail.
    firsts = np.unique(head_next)
    starts = adjacency.rowptr[firsts]
    counts = adjacency.degree(firsts)
    positions = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    mid_x = np.repeat(firsts, counts)
    mid_y, mid_rel = adjacency.col[positions], adjacency.rel[positions]
    reaches_tail = np.zeros(kg.num_nodes, dtype=bool)
    reaches_tail[tail_prev] = True
    keep = reaches_tail[mid_y] & (mid_y != h) & (mid_y != mid_x)
    mid_x, mid_y, mid_rel = mid_x[keep], mid_y[keep], mid_rel[keep]

    # Each middle edge stands for (#edges h -> x) x (#edges y -> t) paths.
    paths_per_edge = (
        np.bincount(head_next, minlength=kg.num_nodes)[mid_x] * np.bincount(tail_prev, minlength=kg.num_nodes)[mid_y]
    )
    if paths_per_edge.sum() > max_candidates:
        # Keep middle edges through proteins first (they make the better paths), then by node and relation.
        order = np.lexsort((mid_rel, mid_y, mid_x, (mid_x < kg.num_drugs) & (mid_y < kg.num_drugs)))
        kept = order[np.cumsum(paths_per_edge[order]) <= max_candidates]
        log.debug("paths %d -> %d: %d length-3 candidates, kept %d", h, t, paths_per_edge.sum(), kept.size)
        mid_x, mid_y, mid_rel = mid_x[kept], mid_y[kept], mid_rel[kept]

    i, m = _join(head_next, mid_x)
    m2, j = _join(mid_y[m], tail_prev)
    i, m = i[m2], m[m2]
    x, y = mid_x[m], mid_y[m]
    nodes = np.stack([np.full_like(x, h), x, y, np.full_like(x, t)], axis=1)
    return nodes, np.stack([head_rel[i], mid_rel[m], tail_rel[j]], axis=1)


def _join(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every index pair ``(i, j)`` with ``left[i] == right[j]``, ordered by ``i`` then ``j``."""
    order = np.argsort(right, kind="stable")
    sorted_right = right[order]
    lo = np.searchsorted(sorted_right, left, side="left")
    counts = np.searchsorted(sorted_right, left, side="right") - lo
    i = np.repeat(np.arange(left.size), counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return i, order[np.repeat(lo, counts) + within]


def _ranked(kg: KnowledgeGraph, found: list[tuple[np.ndarray, np.ndarray]], limit: int) -> list[RelationPath]:
    """The ``limit`` best paths of all lengths, in ranking order."""
    width = MAX_PATH_LENGTH
    nodes = np.concatenate([_pad(n, width + 1) for n, _ in found]) if found else np.empty((0, width + 1), int)
    rels = np.concatenate([_pad(r, width) for _, r in found]) if found else np.empty((0, width), int)
    if not len(rels):
        return []
    is_step = rels >= 0
    # Padding (-1) indexes the trailing neutral entry of each lookup.
    is_interaction = np.array([r.group == "interaction" for r in kg.vocab.relations] + [False])
    rank = np.array([r.rank for r in kg.vocab.relations] + [0])
    hop_score = _rule_hop_scores(kg.vocab)
    rule_score = sum(hop_score[rels[:, k], rels[:, k + 1]] for k in range(width - 1))
    order = np.lexsort(
        (
            *(rels[:, k] for k in reversed(range(width))),
            *(nodes[:, k] for k in reversed(range(width + 1))),
            rank[rels].sum(axis=1),
            -rule_score,
            is_step.sum(axis=1),
            is_interaction[rels].sum(axis=1),
        )
    )[:limit]
    return [
        RelationPath(tuple(int(v) for v in nodes[k, : n + 1]), tuple(int(r) for r in rels[k, :n]))
        for k, n in zip(order, is_step[order].sum(axis=1), strict=True)
    ]


def _rule_hop_scores(vocab: RelationVocab) -> np.ndarray:
    """``(R_total + 1) x (R_total + 1)`` int: the score of walking ``r_in`` into a protein, then ``r_out``
    out of it (see the module docstring); the extra last row and column are for padding."""
    table = np.zeros((len(vocab) + 1, len(vocab) + 1), dtype=np.int64)
    for rule in RULES:
        score = 1 + rule.specific + (rule.directional and not rule.reverse)
        for head in rule.head_relations:
            for tail in rule.tail_relations:
                cell = vocab.index(head), vocab.inverse_of(tail)
                table[cell] = max(table[cell], score)
    return table


def _pad(array: np.ndarray, width: int) -> np.ndarray:
    out = np.full((array.shape[0], width), -1, dtype=np.int64)
    out[:, : array.shape[1]] = array
    return out
