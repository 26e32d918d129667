"""Relation paths on the hand-made ``kg_tiny`` graph, checked against a brute-force enumeration."""

from collections import defaultdict
from pathlib import Path

import pytest

from ddi.data.benchmark import load_benchmark
from ddi.kg.graph import KnowledgeGraph, UnknownDrugError
from ddi.kg.paths import RelationPath, relation_paths

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "kg_tiny"
INHIBITOROL, SUBSTRATIN, INDUCERIN, LONELYN, AGONISTOL, UNNAMED = range(6)


@pytest.fixture(scope="module")
def kg() -> KnowledgeGraph:
    tables = load_benchmark(TINY)[0]
    return KnowledgeGraph.build(tables, tables.interactions)


def brute_force_paths(kg: KnowledgeGraph, head: int, tail: int, max_length: int) -> set[tuple]:
    """Every simple path head -> tail of 2..max_length edges, by depth-first search over the edge list."""
    out_edges = defaultdict(list)
    for s, d, r in zip(*kg.edge_index.tolist(), kg.edge_type.tolist(), strict=True):
        out_edges[s].append((d, r))
    found = set()

    def walk(nodes: list[int], rels: list[int]) -> None:
        if nodes[-1] == tail:
            if len(rels) > 1:
                found.add((tuple(nodes), tuple(rels)))
            return
        if len(rels) < max_length:
            for d, r in out_edges[nodes[-1]]:
                if d not in nodes:
                    walk([*nodes, d], [*rels, r])

    walk([head], [])
    return found


def test_paths_equal_brute_force_for_every_pair(kg):
    for head in range(kg.num_drugs):
        for tail in range(kg.num_drugs):
            if head == tail:
                continue
            paths = relation_paths(kg, head, tail, max_length=3, limit=10_000)
            listed = [(p.nodes, p.relations) for p in paths]
            assert len(listed) == len(set(listed))
            assert set(listed) == brute_force_paths(kg, head, tail, 3), (head, tail)


def test_direct_edge_only_on_request(kg):
    assert all(p.length > 1 for p in relation_paths(kg, INHIBITOROL, SUBSTRATIN, limit=100))
    direct = [p for p in relation_paths(kg, INHIBITOROL, SUBSTRATIN, include_direct=True, limit=100) if p.length == 1]
    assert [p.describe(kg) for p in direct] == ["Inhibitorol -increases the serum concentration of-> Substratin"]
    backwards = relation_paths(kg, SUBSTRATIN, INHIBITOROL, max_length=1, include_direct=True)
    assert [p.describe(kg) for p in backwards] == ["Substratin <-increases the serum concentration of- Inhibitorol"]
    assert relation_paths(kg, INHIBITOROL, SUBSTRATIN, max_length=1) == []


def test_ranking_puts_protein_mechanisms_first(kg):
    paths = relation_paths(kg, "Inhibitorol", "DB90002", limit=100)
    assert [p.describe(kg) for p in paths[:3]] == [
        "Inhibitorol -inhibits-> ABCB1 <-is transported by- Substratin",
        "Inhibitorol -inhibits-> CYP3A4 <-is a substrate of- Substratin",
        "Inhibitorol -activates-> OPRM1 <-blocks- Substratin",
    ]
    groups = [[kg.vocab.group_of(r) for r in p.relations] for p in paths]
    keys = [(g.count("interaction"), len(g)) for g in groups]
    assert keys == sorted(keys)
    assert paths[-1].describe(kg) == (
        "Inhibitorol <-increases the risk or severity of adverse effects with- Agonistol "
        "-increases the photosensitizing activities of-> Substratin"
    )


def test_swapped_pair_reads_from_the_new_head_and_is_deterministic(kg):
    paths = relation_paths(kg, SUBSTRATIN, INHIBITOROL, limit=3)
    assert paths[0].describe(kg) == "Substratin -is transported by-> ABCB1 <-inhibits- Inhibitorol"
    assert relation_paths(kg, SUBSTRATIN, INHIBITOROL) == relation_paths(kg, SUBSTRATIN, INHIBITOROL)


def test_limit_max_length_and_candidate_cap(kg):
    assert len(relation_paths(kg, INHIBITOROL, SUBSTRATIN, limit=2)) == 2
    assert {p.length for p in relation_paths(kg, INHIBITOROL, SUBSTRATIN, max_length=2, limit=100)} == {2}
    capped = relation_paths(kg, INHIBITOROL, SUBSTRATIN, limit=100, max_candidates=0)
    assert capped == relation_paths(kg, INHIBITOROL, SUBSTRATIN, max_length=2, limit=100)


def test_drug_without_edges_has_no_paths(kg):
    assert relation_paths(kg, "Lonelyn", "Substratin") == []
    assert relation_paths(kg, "Substratin", "Lonelyn") == []


def test_bad_arguments(kg):
    with pytest.raises(ValueError, match="same drug"):
        relation_paths(kg, "Inhibitorol", "db90001")
    with pytest.raises(ValueError, match="max_length"):
        relation_paths(kg, INHIBITOROL, SUBSTRATIN, max_length=4)
    with pytest.raises(UnknownDrugError):
        relation_paths(kg, "Inhibitorol", "Nonexistol")


def test_describe_draws_stored_edge_direction(kg):
    vocab = kg.vocab
    cyp3a4 = kg.node_ids.index("P08684")
    path = RelationPath(
        (INDUCERIN, cyp3a4, SUBSTRATIN), (vocab.index("enzyme:inducer"), vocab.index("inv:enzyme:substrate"))
    )
    assert path.length == 2
    assert path.describe(kg) == "Inducerin -induces-> CYP3A4 <-is a substrate of- Substratin"
