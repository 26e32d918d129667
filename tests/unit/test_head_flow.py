"""The head-conditioned flow on toy graphs: only walks of up to L edges reach the tail, relations matter, and
the answer does not depend on how heads are batched."""

from __future__ import annotations

import numpy as np
import torch

from ddi.nn.head_flow import FlowGraph, HeadFlow
from ddi.train.batches import head_grouped_batches
from ddi.train.negatives import pair_keys, sample_negatives

NUM_RELATIONS = 4


def chain_graph(relation_of_middle_edge: int = 1) -> FlowGraph:
    """0 - 1 - 2 - 3 as edges in both directions (relation r one way, r + 2 back), and node 4 with no edges."""
    forward = torch.tensor([[0, 1, 2], [1, 2, 3]])
    kinds = torch.tensor([0, relation_of_middle_edge, 0])
    edge_index = torch.cat([forward, forward.flip(0)], dim=1)
    edge_type = torch.cat([kinds, kinds + 2])
    return FlowGraph.from_edges(edge_index, edge_type, num_nodes=5, num_relations=NUM_RELATIONS)


def flow_model(layers: int = 2, heads_per_pass: int = 64) -> HeadFlow:
    torch.manual_seed(0)
    return HeadFlow(in_dim=6, dim=8, num_relations=NUM_RELATIONS, layers=layers, heads_per_pass=heads_per_pass).eval()


def test_only_walks_of_up_to_l_edges_reach_the_tail():
    """The head's own state reaches a tail two edges away with two layers, one three edges away not at all."""
    flow, graph = flow_model(layers=2), chain_graph()
    states = torch.randn(5, 6)
    changed = states.clone()
    changed[0] += 1.0
    heads, tails = torch.tensor([0, 0]), torch.tensor([2, 3])
    with torch.no_grad():
        before, after = flow(states, graph, heads, tails), flow(changed, graph, heads, tails)
    assert not torch.allclose(before[0], after[0])
    assert torch.equal(before[1], after[1])


def test_the_relations_on_the_walk_change_the_flow():
    flow, states = flow_model(), torch.randn(5, 6)
    heads, tails = torch.tensor([0]), torch.tensor([2])
    with torch.no_grad():
        one = flow(states, chain_graph(relation_of_middle_edge=1), heads, tails)
        other = flow(states, chain_graph(relation_of_middle_edge=0), heads, tails)
    assert not torch.allclose(one, other)


def test_heads_batched_together_or_alone_give_the_same_flow():
    states, graph = torch.randn(5, 6), chain_graph()
    heads, tails = torch.tensor([0, 1, 3, 0, 2]), torch.tensor([2, 3, 0, 1, 2])
    with torch.no_grad():
        together = flow_model(heads_per_pass=64)(states, graph, heads, tails)
        alone = flow_model(heads_per_pass=1)(states, graph, heads, tails)
    assert torch.allclose(together, alone, atol=1e-6)


def test_drugs_outside_the_graph_get_no_flow():
    """Rows past the graph's nodes are drugs known only by structure: a zero vector, not an index error."""
    states = torch.randn(7, 6)
    with torch.no_grad():
        out = flow_model()(states, chain_graph(), torch.tensor([5, 0, 0]), torch.tensor([0, 6, 1]))
    assert torch.equal(out[:2], torch.zeros(2, 8)) and out[2].abs().sum() > 0


def test_a_graph_without_edges_still_flows():
    empty = FlowGraph.from_edges(torch.zeros(2, 0, dtype=torch.long), torch.zeros(0, dtype=torch.long), 3, 2)
    flow = HeadFlow(in_dim=6, dim=8, num_relations=2, layers=2)
    assert flow(torch.randn(3, 6), empty, torch.tensor([0]), torch.tensor([1])).shape == (1, 8)


def test_head_grouped_batches_cover_every_row_once_in_runs_of_one_head():
    rng = np.random.default_rng(0)
    heads = rng.integers(0, 30, 1000)
    batches = head_grouped_batches(heads, num_batches=8, pairs_per_head=16, rng=np.random.default_rng(1))
    assert len(batches) == 8
    assert np.array_equal(np.sort(np.concatenate(batches)), np.arange(1000))
    for batch in batches:  # a few heads per batch, each in runs of at most 16 rows
        _, counts = np.unique(heads[batch], return_counts=True)
        assert len(counts) < len(batch) / 4
    again = head_grouped_batches(heads, num_batches=8, pairs_per_head=16, rng=np.random.default_rng(1))
    assert all(np.array_equal(a, b) for a, b in zip(batches, again, strict=True))


def test_head_grouped_batches_cap_a_hub_drugs_run():
    heads = np.zeros(100, dtype=np.int64)  # one hub drug: its rows spread over batches
    batches = head_grouped_batches(heads, num_batches=10, pairs_per_head=10, rng=np.random.default_rng(0))
    assert [len(b) for b in batches] == [10] * 10


def test_negatives_drawn_for_given_heads_start_at_those_heads_and_are_unlisted():
    drugs = np.arange(20)
    known = np.unique(pair_keys(np.array([0, 1]), np.array([5, 6]), 20))
    negatives = sample_negatives(drugs, known, 200, 20, np.random.default_rng(0), heads=np.array([0, 1]))
    assert len(negatives) == 200 and set(negatives[:, 0]) == {0, 1}
    assert not np.isin(pair_keys(negatives[:, 0], negatives[:, 1], 20), known).any()
    assert (negatives[:, 0] != negatives[:, 1]).all()
