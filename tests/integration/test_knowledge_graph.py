"""The knowledge graph, its paths and its rules on the real DrugBank benchmark (S0 training split)."""

from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
import torch

from ddi.data.splits import load_split
from ddi.kg.graph import KnowledgeGraph
from ddi.kg.paths import relation_paths
from ddi.kg.relations import protein_relations
from ddi.kg.rules import RULE_NAMES, RULES, fired_rules, rule_features

CLARITHROMYCIN, SIMVASTATIN = "DB01211", "DB00641"
FLUCONAZOLE, WARFARIN = "DB00196", "DB00682"


@pytest.fixture(scope="session")
def benchmark(benchmark_tables):
    return benchmark_tables, load_split("s0", benchmark_tables)


@pytest.fixture(scope="session")
def kg(benchmark) -> KnowledgeGraph:
    tables, split = benchmark
    return KnowledgeGraph.build(tables, split.train)


def node_pairs(kg: KnowledgeGraph, interactions: pd.DataFrame) -> torch.Tensor:
    index = {d: i for i, d in enumerate(kg.node_ids[: kg.num_drugs])}
    return torch.tensor(np.stack([interactions["drug1_id"].map(index), interactions["drug2_id"].map(index)], axis=1))


def test_sizes_match_the_tables(kg, benchmark):
    tables, split = benchmark
    assert kg.node_ids[: kg.num_drugs] == tuple(tables.drugs["drugbank_id"])
    rows = tables.drug_protein[tables.drug_protein["drugbank_id"].isin(set(tables.drugs["drugbank_id"]))]
    expected_protein_edges = sum(
        len(protein_relations(c, a)) for c, a in zip(rows["category"], rows["actions"], strict=True)
    )
    assert kg.num_proteins == rows["uniprot_id"].nunique()
    stats = kg.stats()
    per_group = stats["forward_edges_per_group"]
    assert per_group["enzyme"] + per_group["transporter"] + per_group["carrier"] + per_group["target"] == (
        expected_protein_edges
    )
    assert per_group["interaction"] == len(split.train.drop_duplicates())
    assert stats["edges"] == 2 * sum(per_group.values())
    assert kg.node_names[kg.node_ids.index("P08684")] == "CYP3A4"


def test_every_edge_has_its_inverse(kg):
    n = kg.num_nodes
    src, dst = kg.edge_index
    keys = (src * n + dst) * len(kg.vocab) + kg.edge_type
    inverse_keys = (dst * n + src) * len(kg.vocab) + kg.vocab.inverse_index[kg.edge_type]
    assert np.isin(inverse_keys.numpy(), keys.numpy()).all()
    assert keys.unique().numel() == kg.num_edges


def test_only_training_interactions_are_edges(kg, benchmark):
    _, split = benchmark
    train_pairs = node_pairs(kg, split.train)
    test_pairs = node_pairs(kg, split.test)
    held_out = torch.from_numpy(~np.isin(kg.pair_keys(test_pairs).numpy(), kg.pair_keys(train_pairs).numpy()))
    assert held_out.sum() > 30_000
    assert not kg.pair_edge_mask(test_pairs[held_out]).any()
    # The training pairs' edges are exactly the interaction edges.
    is_interaction = kg.vocab.group_index[kg.edge_type] == 4
    assert torch.equal(kg.pair_edge_mask(train_pairs), is_interaction)


def test_pair_edge_mask_matches_a_plain_loop(kg, benchmark):
    _, split = benchmark
    pairs = node_pairs(kg, split.train.sample(500, random_state=0))
    wanted = {frozenset(p) for p in pairs.tolist()}
    src, dst = kg.edge_index.tolist()
    expected = [dst_node < kg.num_drugs and {s, dst_node} in wanted for s, dst_node in zip(src, dst, strict=True)]
    assert kg.pair_edge_mask(pairs).tolist() == expected


def test_clarithromycin_simvastatin_explained_through_cyp3a4(kg):
    paths = relation_paths(kg, CLARITHROMYCIN, SIMVASTATIN, limit=20)
    assert paths[0].describe(kg) == "Clarithromycin -inhibits-> CYP3A4 <-is a substrate of- Simvastatin"
    assert all(p.length > 1 for p in paths)
    direct = relation_paths(kg, "clarithromycin", "simvastatin", include_direct=True, max_length=1)
    assert [p.describe(kg) for p in direct] == ["Clarithromycin -increases the serum concentration of-> Simvastatin"]
    matches = {m.rule.name: m for m in fired_rules(kg, CLARITHROMYCIN, SIMVASTATIN)}
    assert "CYP3A4" in [kg.node_names[p] for p in matches["cyp_inhibition"].proteins]


def test_fluconazole_warfarin_explained_through_cyp2c9(kg):
    top = [p.describe(kg) for p in relation_paths(kg, FLUCONAZOLE, WARFARIN, limit=5)]
    assert "Fluconazole -inhibits-> CYP2C9 <-is a substrate of- Warfarin" in top
    matches = {m.rule.name: m for m in fired_rules(kg, FLUCONAZOLE, WARFARIN)}
    assert "CYP2C9" in [kg.node_names[p] for p in matches["cyp_inhibition"].proteins]
    assert "cyp_inhibition" not in {m.rule.name for m in fired_rules(kg, WARFARIN, FLUCONAZOLE)}


def test_paths_are_simple_real_and_complete_for_a_pair(kg):
    # Brute force over the edge list for a pair whose drugs have modest degree.
    head, tail = kg.drug_node("Tacrolimus"), kg.drug_node("Ketoconazole")
    out_edges = defaultdict(list)
    for s, d, r in zip(*kg.edge_index.tolist(), kg.edge_type.tolist(), strict=True):
        out_edges[s].append((d, r))
    into_tail = defaultdict(list)
    for d, r in out_edges[tail]:
        into_tail[d].append(kg.vocab.inverse_of(r))
    expected = set()
    for x, r1 in out_edges[head]:
        if x == tail:
            continue
        expected.update(((head, x, tail), (r1, r2)) for r2 in into_tail[x])
        for y, r2 in out_edges[x]:
            if y not in (head, tail):
                expected.update(((head, x, y, tail), (r1, r2, r3)) for r3 in into_tail[y])
    listed = {(p.nodes, p.relations) for p in relation_paths(kg, head, tail, limit=10**7)}
    assert len(expected) > 1000
    assert listed == expected


def test_rule_features_agree_with_fired_rules(kg, benchmark):
    _, split = benchmark
    pairs = node_pairs(kg, split.test.sample(100, random_state=1))
    pairs = torch.cat([pairs, pairs.flip(1)])  # both directions
    features = rule_features(kg, pairs)
    for row, (head, tail) in zip(features, pairs.tolist(), strict=True):
        expected = torch.zeros(len(RULES))
        for match in fired_rules(kg, head, tail):
            expected[RULE_NAMES.index(match.rule.name)] = len(match.proteins)
        assert torch.allclose(row, torch.log1p(expected)), (head, tail)
    assert (features > 0).any(dim=0).sum() >= 10  # most rules fire somewhere in the sample


def test_swapping_a_pair_swaps_directional_rules(kg, benchmark):
    _, split = benchmark
    twin = {rule.name: (f"{rule.name}_reverse" if not rule.reverse else rule.name.removesuffix("_reverse"))
            for rule in RULES if rule.directional}  # fmt: skip
    for head, tail in node_pairs(kg, split.train.sample(100, random_state=2)).tolist():
        forward = {m.rule.name for m in fired_rules(kg, head, tail)}
        backward = {m.rule.name for m in fired_rules(kg, tail, head)}
        assert backward == {twin.get(name, name) for name in forward}


def test_omeprazole_clopidogrel_named_through_cyp2c19(kg):
    # The shared proteins table lacks CYP2C19; ddi's protein reference names it, so the best-known clinical
    # interaction through it reads as one and counts as a CYP rule, not as an anonymous "other enzyme".
    matches = {m.rule.name: m for m in fired_rules(kg, "omeprazole", "clopidogrel")}
    assert "CYP2C19" in [kg.node_names[p] for p in matches["cyp_inhibition"].proteins]
    assert "enzyme_inhibition" not in matches
