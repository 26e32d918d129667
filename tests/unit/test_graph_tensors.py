"""Slot types: each drug-rooted cell of the graph is stored as the id of its set of relations, exactly."""

import pytest
import torch

from ddi.kg.relations import RELATION_GROUPS
from ddi.models.graph_tensors import ModelGraph, _slot_types


def type_relations(graph: ModelGraph) -> list[set[int]]:
    dense = graph.slot_types.to_dense()
    return [set(torch.nonzero(row).flatten().tolist()) for row in dense]


@pytest.mark.parametrize("num_relations", [5, 2**40])  # the second takes the row-wise unique (keys too wide)
def test_equal_relation_sets_share_one_type_whatever_the_entry_order(num_relations):
    # Slots 0 and 2 hold {1, 3} (listed in another order, one entry twice), slot 1 holds {2}, slot 3 holds {1}.
    slot_id = torch.tensor([2, 0, 1, 0, 2, 3, 2])
    rel = torch.tensor([3, 1, 2, 3, 1, 1, 3])
    slot_type, types = _slot_types(slot_id, rel, num_relations)
    assert slot_type[0] == slot_type[2]
    assert len({int(slot_type[0]), int(slot_type[1]), int(slot_type[3])}) == 3
    assert types.shape == (3, num_relations)
    rows, cols = types.crow_indices().tolist(), types.col_indices().tolist()
    relations = [cols[rows[i] : rows[i + 1]] for i in range(3)]
    assert relations[slot_type[0]] == [1, 3]
    assert relations[slot_type[1]] == [2]
    assert relations[slot_type[3]] == [1]


def test_every_cell_type_holds_exactly_the_relations_of_its_edges(kg):
    graph = ModelGraph.from_kg(kg, RELATION_GROUPS, similarity=False)
    relations = type_relations(graph)
    assert graph.slot_types.shape[0] < int((graph.slot_all >= 0).sum())  # types are shared, not one per cell
    src, dst = graph.edge_index
    rooted = src < graph.num_drugs
    expected: dict[tuple[int, int], set[int]] = {}
    for u, x, r in zip(src[rooted].tolist(), dst[rooted].tolist(), graph.edge_type[rooted].tolist(), strict=True):
        expected.setdefault((u, x), set()).add(r)
    filled = torch.nonzero(graph.slot_all >= 0).tolist()
    assert {(u, x) for u, x in filled} == set(expected)
    for u, x in filled:
        assert relations[int(graph.slot_all[u, x])] == expected[(u, x)]
    # The protein-only table: the same cells without their interaction relations (cells of interactions only
    # are empty there).
    interaction = set(graph.edge_type[graph.edge_is_interaction].tolist())
    for (u, x), rels in expected.items():
        proteins = rels - interaction
        cell = int(graph.slot_protein[u, x])
        assert (cell == -1) if not proteins else relations[cell] == proteins
