"""Explanations written out: the relation paths the model weighed, as sentences over the knowledge graph."""

from __future__ import annotations

import numpy as np

from ddi.kg.graph import KnowledgeGraph

#: Verb of the model's extra relation linking drugs with alike protein sets (see ``graph_tensors``).
SIMILARITY_VERB = "shares proteins with"


def relations_between(kg: KnowledgeGraph, source: int, target: int) -> list[int]:
    """Relation ids of the edges from ``source`` to ``target`` (most informative first)."""
    cols, rels = kg.adjacency.out_edges(source)
    found = np.asarray(rels)[np.asarray(cols) == target]
    return sorted({int(r) for r in found}, key=lambda r: (kg.vocab.rank(r), r))


def step_text(kg: KnowledgeGraph, relations: list[int]) -> str:
    """One walked step as an arrow: ``-inhibits->`` for a stored edge, ``<-inhibits-`` against one."""
    if not relations:
        return f"-{SIMILARITY_VERB}->"
    rel, vocab = relations[0], kg.vocab
    if vocab.is_inverse(rel):
        return f"<-{vocab.verb(vocab.inverse_of(rel))}-"
    return f"-{vocab.verb(rel)}->"


def describe_model_path(kg: KnowledgeGraph, head: int, middle: int, tail: int) -> str:
    """``"Clarithromycin -inhibits-> CYP3A4 <-is a substrate of- Simvastatin"`` for a head-middle-tail path.

    A step with several relations names the most informative one; a step the graph has no edge for is the
    model's similarity relation (drugs whose protein sets are alike).
    """
    names = kg.node_names
    first = step_text(kg, relations_between(kg, head, middle))
    second = step_text(kg, relations_between(kg, middle, tail))
    return f"{names[head]} {first} {names[middle]} {second} {names[tail]}"
