"""Neighbour votes: look-alikes' known interactions vote, never the pair's own label, never a hidden drug's."""

from __future__ import annotations

import pytest
import torch

from ddi.models import neighbour_votes as nv
from ddi.models.neighbour_votes import NeighbourVotes, look_alike_table

C = 6  # classes
# Drugs 0 and 1 share a structure; 1 and 2 are half alike; 3 is unlike them; 4 has no structure.
FINGERPRINTS = torch.tensor(
    [[1, 1, 1, 0, 0, 0], [1, 1, 1, 0, 0, 0], [0, 1, 1, 1, 0, 0], [0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0]],
    dtype=torch.float32,
)
PROTEINS = FINGERPRINTS[:, :4].clone()  # the protein sets mirror the structures (drug 4: no proteins either)


REVERSE = torch.tensor([1, 0, 3, 2, 4, 5])  # classes 0-3: two directed types; 4: a symmetric type (5 unused)


def votes_of(pairs: list[tuple[int, int, int]], k: int = 2, pool: int = 0) -> NeighbourVotes:
    """Vote table of interactions (head, tail, class); the reverse order gets ``REVERSE[class]``."""
    h = torch.tensor([p[0] for p in pairs])
    t = torch.tensor([p[1] for p in pairs])
    c = torch.tensor([p[2] for p in pairs])
    known = torch.ones(5, dtype=torch.bool)
    return NeighbourVotes(FINGERPRINTS, PROTEINS, h, t, c, REVERSE, known, C, k, pool=pool)


def single(features: torch.Tensor) -> torch.Tensor:
    return features[:, :C]


def double(features: torch.Tensor) -> torch.Tensor:
    return features[:, C + 1 : 2 * C + 1]


def test_look_alikes_rank_by_similarity_and_skip_self():
    self_index = torch.arange(5)
    index, weights = look_alike_table([FINGERPRINTS, PROTEINS], [FINGERPRINTS, PROTEINS], 2, self_index)
    assert index[0, 0] == 1 and weights[0, 0] == pytest.approx(1.0)
    assert index[1, 0] == 0
    assert index[2, 0] in (0, 1) and weights[2, 0] == pytest.approx(0.5)
    assert torch.all(weights[4] == 0)  # no structure, no proteins: like nothing
    assert not torch.any(index == self_index.unsqueeze(1))


def test_shared_proteins_make_look_alikes_across_structures():
    # Drugs 2 and 3 share no substructure bit, but hit the same proteins: they become each other's look-alikes.
    proteins = torch.tensor([[1, 0, 0], [1, 0, 0], [0, 1, 1], [0, 1, 1], [0, 0, 0.0]])
    index, weights = look_alike_table([FINGERPRINTS, proteins], [FINGERPRINTS, proteins], 1, torch.arange(5))
    assert index[3, 0] == 2 and weights[3, 0] == pytest.approx(0.5)  # mean of 0 (structure) and 1 (proteins)
    # Computed in chunks, the table is the same.
    chunked = look_alike_table([FINGERPRINTS, proteins], [FINGERPRINTS, proteins], 1, torch.arange(5), chunk=2)
    assert torch.equal(chunked[0], index) and torch.equal(chunked[1], weights)


def test_a_look_alike_votes_its_known_class():
    table = votes_of([(1, 3, 2)])
    features = table.lookup(torch.tensor([0]), torch.tensor([3]))  # 0 looks like 1, and (1, 3) is class 2
    assert features.shape == (1, table.width)
    assert single(features)[0].tolist() == [0, 0, 1, 0, 0, 0]
    assert features[0, C] > 0  # the total vote is reported
    reverse = table.lookup(torch.tensor([3]), torch.tensor([0]))  # the other order votes the reverse class
    assert single(reverse)[0].argmax() == 3


@pytest.mark.parametrize("pool", [0, 4])
def test_a_pair_never_reads_its_own_label(pool: int):
    table = votes_of([(1, 2, 4)], pool=pool)  # 1 and 2 are each other's look-alikes
    features = table.lookup(torch.tensor([1, 2]), torch.tensor([2, 1]))
    assert torch.all(single(features) == 0)
    assert torch.all(double(features) == 0)  # (2, 1) is the pair itself read in reverse
    assert torch.all(features[:, [C, 2 * C + 1]] == 0)


def test_two_new_drugs_vote_through_a_look_alike_of_each():
    fingerprints = torch.cat([FINGERPRINTS, torch.tensor([[0, 0, 0, 0, 1, 1.0]])])
    proteins = torch.cat([PROTEINS, torch.zeros(1, 4)])
    h, t = torch.tensor([1, 3]), torch.tensor([5, 1])
    table = NeighbourVotes(
        fingerprints, proteins, h[:1], t[:1], torch.tensor([0]), REVERSE, torch.ones(6, dtype=torch.bool), C, 2
    )
    features = table.lookup(torch.tensor([0]), torch.tensor([3]))  # 0 ~ 1, 3 ~ 5, and (1, 5) is class 0
    assert double(features)[0, 0] == 1
    assert torch.all(single(features) == 0)  # neither (1, 3) nor (0, 5) is known


def test_only_known_drugs_are_look_alikes():
    known = torch.tensor([True, False, True, True, True])
    table = NeighbourVotes(
        FINGERPRINTS, PROTEINS, torch.tensor([2]), torch.tensor([3]), torch.tensor([0]), REVERSE, known, C, 2
    )
    assert 1 not in table.neighbours.flatten().tolist()
    assert table.neighbours[1, 0] == 0  # drug 1 itself still has look-alikes: its identical twin 0


def test_hidden_drugs_have_no_interactions_to_read():
    table = votes_of([(1, 3, 2)])
    hidden = torch.zeros(5, dtype=torch.bool)
    hidden[1] = True
    features = table.lookup(torch.tensor([0]), torch.tensor([3]), hidden)
    assert torch.all(features == 0)


def test_a_drug_outside_the_graph_votes_through_its_look_alikes():
    table = votes_of([(1, 3, 2)])
    table.add_drugs(torch.tensor([17]), torch.tensor([[1, 1, 1, 0, 0, 0.0]]))
    features = table.lookup(torch.tensor([17]), torch.tensor([3]))
    assert single(features)[0].argmax() == 2
    with pytest.raises(KeyError):
        table.lookup(torch.tensor([18]), torch.tensor([3]))


def test_dense_and_searched_tables_agree(monkeypatch):
    gen = torch.Generator().manual_seed(0)
    pairs = [(int(a), int(b), int(c)) for a, b, c in torch.randint(0, 5, (12, 3), generator=gen) if a != b]
    pairs = [(a, b, c % (C - 1)) for a, b, c in pairs]
    heads, tails = torch.randint(0, 5, (50,), generator=gen), torch.randint(0, 5, (50,), generator=gen)
    dense = votes_of(pairs, k=3).lookup(heads, tails)
    monkeypatch.setattr(nv, "DENSE_TABLE_MAX_DRUGS", 0)
    searched = votes_of(pairs, k=3)
    assert searched._dense is None
    assert torch.equal(searched.lookup(heads, tails), dense)


def test_the_vote_alone_predicts_the_look_alikes_type_and_falls_back_where_none_votes():
    import pandas as pd

    from ddi.models.labels import TypeOrientation
    from ddi.models.neighbour_votes import vote_types

    labels = TypeOrientation(pd.DataFrame({"type": [10, 20, 30], "subject": [1, 1, 3]}))  # 6 classes
    table = votes_of([(1, 3, 2)])  # class 2 = type 20, drug 1 first
    features = table.lookup(torch.tensor([0, 4]), torch.tensor([3, 2]))  # 0 looks like 1; 4 looks like nobody
    assert vote_types(features, labels, fallback_type=30).tolist() == [20, 30]


def test_the_other_order_reads_the_reversed_classes():
    table = votes_of([(1, 3, 2), (2, 3, 4), (0, 2, 1)], k=3)
    gen = torch.Generator().manual_seed(1)
    heads, tails = torch.randint(0, 5, (40,), generator=gen), torch.randint(0, 5, (40,), generator=gen)
    forward, backward = table.lookup(heads, tails), table.lookup(tails, heads)
    assert torch.allclose(table.reverse(forward), backward)
    assert single(table.lookup(torch.tensor([3]), torch.tensor([0])))[0].argmax() == 3  # (0 ~ 1, 3): class 2 reversed


def test_a_pair_listed_with_two_types_votes_the_same_one_in_both_orders():
    table = votes_of([(1, 3, 2), (3, 1, 0)])  # listed twice, once in each order, with different types
    assert single(table.lookup(torch.tensor([0]), torch.tensor([3])))[0].argmax() == 2  # the first listing
    assert single(table.lookup(torch.tensor([3]), torch.tensor([0])))[0].argmax() == 3  # its reverse, not 0


def test_a_shared_label_class_makes_look_alikes_of_unlike_structures():
    # Drug 3 is unlike 0-2 by structure and proteins, but shares its ATC class with drug 2 (and nothing with 0):
    # with the annotation as a third view, 2 becomes its closest look-alike and 2's interactions vote for it.
    atc = torch.tensor([[1, 0], [1, 0], [0, 1], [0, 1], [0, 0.0]])
    h, t, c = torch.tensor([2]), torch.tensor([0]), torch.tensor([3])
    known = torch.ones(5, dtype=torch.bool)
    plain = NeighbourVotes(FINGERPRINTS, PROTEINS, h, t, c, REVERSE, known, C, 1)
    annotated = NeighbourVotes(FINGERPRINTS, PROTEINS, h, t, c, REVERSE, known, C, 1, annotations=[atc])
    assert plain.weights[3, 0] == 0  # like nothing without the label
    # Drug 3 has no known proteins: the mean of its structure (0) and ATC (1) similarities.
    assert annotated.neighbours[3, 0] == 2 and annotated.weights[3, 0] == pytest.approx(0.5)
    assert single(annotated.lookup(torch.tensor([3]), torch.tensor([0])))[0].argmax() == 3
    assert torch.all(single(plain.lookup(torch.tensor([3]), torch.tensor([0]))) == 0)
    # A drug known only by its structure has no label: it is compared by structure alone, as before.
    annotated.add_drugs(torch.tensor([9]), torch.tensor([[1, 1, 1, 0, 0, 0.0]]))
    ids, weights = annotated.look_alikes(torch.tensor([9]))
    assert ids[0, 0] in (0, 1) and weights[0, 0] == pytest.approx(1.0)


def test_a_pool_finds_the_closest_look_alike_that_met_the_other_drug():
    # Drug 0's closest look-alike (1) never met 3; the next one (2, half alike) did.
    pairs = [(2, 3, 2)]
    plain = votes_of(pairs, k=1)
    assert torch.all(single(plain.lookup(torch.tensor([0]), torch.tensor([3]))) == 0)
    pooled = votes_of(pairs, k=1, pool=4)
    features = pooled.lookup(torch.tensor([0, 3]), torch.tensor([3, 0]))
    assert single(features)[0].tolist() == [0, 0, 1, 0, 0, 0]
    assert single(features)[1].argmax() == 3  # the other order: the reverse class
    assert torch.equal(pooled.reverse(features[:1]), features[1:])
    assert pooled.look_alikes(torch.tensor([0]))[0].tolist() == [[1]]  # look-alikes stay the k closest
    evidence = pooled.evidence(0, 3)
    assert [(e.known_head, e.known_tail, e.cls) for e in evidence] == [(2, 3, 2)]
    assert evidence[0].head_similarity == pytest.approx(0.5)
    # A hidden look-alike's interactions are not read, however far the pool reaches.
    hidden = torch.tensor([False, False, True, False, False])
    assert torch.all(single(pooled.lookup(torch.tensor([0]), torch.tensor([3]), hidden)) == 0)


def test_a_pool_counts_only_the_k_closest_with_evidence():
    # Drugs 1 and 2 both met 3 (classes 0 and 2); with k = 1 only the closer one (1) votes for (0, 3).
    votes = votes_of([(1, 3, 0), (2, 3, 2)], k=1, pool=4)
    assert single(votes.lookup(torch.tensor([0]), torch.tensor([3])))[0].tolist() == [1, 0, 0, 0, 0, 0]
    assert [e.known_head for e in votes.evidence(0, 3)] == [1]


def test_interaction_profiles_list_each_known_interaction_once_from_both_sides():
    h, t, c = torch.tensor([0, 0, 2]), torch.tensor([1, 1, 1]), torch.tensor([2, 2, 4])  # (0, 1) listed twice
    profiles = nv.interaction_profiles(h, t, c, REVERSE, 5)
    assert profiles.shape == (5, 5 * C)
    ones = {(int(r), int(col)) for r, col in zip(*profiles.nonzero(), strict=True)}
    # Row h holds (t, class); row t holds (h, the reversed class).
    assert ones == {(0, 1 * C + 2), (1, 0 * C + 3), (1, 2 * C + 4), (2, 1 * C + 4)}
    assert set(profiles.data.tolist()) == {1.0}


def test_drugs_with_the_same_interactions_become_look_alikes_unless_hidden():
    # Drug 3 is unlike drug 0 by structure (and has no proteins), but both interact with drug 4 the same way:
    # compared by their interactions too, 0 is 3's closest look-alike, and 0's interaction with 2 votes for (3, 2).
    h, t, c = torch.tensor([3, 0, 0]), torch.tensor([4, 4, 2]), torch.tensor([0, 0, 1])
    known = torch.ones(5, dtype=torch.bool)
    plain = NeighbourVotes(FINGERPRINTS, PROTEINS, h, t, c, REVERSE, known, C, 1)
    profiled = NeighbourVotes(FINGERPRINTS, PROTEINS, h, t, c, REVERSE, known, C, 1, compare_interactions=True)
    weight = nv.INTERACTION_VIEW_WEIGHT
    assert profiled.neighbours[3, 0] == 0 and profiled.weights[3, 0] == pytest.approx(
        weight * 0.5 / (1 + weight)
    )  # profiles half alike
    assert plain.weights[3, 0] == 0
    pair = (torch.tensor([3]), torch.tensor([2]))
    assert single(profiled.lookup(*pair))[0].tolist() == [0, 1, 0, 0, 0, 0]
    assert torch.all(single(plain.lookup(*pair)) == 0)
    # A hidden drug (training's imitation of a new one) gets the look-alikes it would have without its
    # interactions, as a new drug does; the others keep theirs.
    hidden = torch.zeros(5, dtype=torch.bool)
    hidden[3] = True
    ids = torch.tensor([3, 0])
    blind_ids, blind_weights = profiled.look_alikes(ids, hidden)
    plain_ids, plain_weights = plain.look_alikes(ids)
    assert torch.equal(blind_ids[0], plain_ids[0]) and torch.equal(blind_weights[0], plain_weights[0])
    assert torch.equal(blind_ids[1], profiled.look_alikes(ids)[0][1])
    assert torch.all(single(profiled.lookup(*pair, hidden)) == 0)
    # A drug outside the graph has no known interactions: it is compared by structure alone (drug 3's twin).
    profiled.add_drugs(torch.tensor([9]), FINGERPRINTS[3:4])
    ids, weights = profiled.look_alikes(torch.tensor([9]))
    assert ids[0, 0] == 3 and weights[0, 0] == pytest.approx(1.0)
