"""Building the knowledge graph on the hand-made ``kg_tiny`` data (see tests/fixtures/kg_tiny/README.md)."""

import logging
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import torch

from ddi.data.tables import empty_table
from ddi.errors import UserInputError
from ddi.kg.graph import DRUG, PROTEIN, KnowledgeGraph, UnknownDrugError, _protein_labels

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "kg_tiny"
INHIBITOROL, SUBSTRATIN, INDUCERIN, LONELYN, AGONISTOL, UNNAMED = range(6)


def edges_of(kg: KnowledgeGraph) -> set[tuple[int, int, str]]:
    src, dst = kg.edge_index.tolist()
    return {(s, d, kg.vocab.names[t]) for s, d, t in zip(src, dst, kg.edge_type.tolist(), strict=True)}


def test_nodes_are_drugs_in_table_order_then_linked_proteins(kg, tables):
    assert kg.node_ids[: kg.num_drugs] == tuple(tables.drugs["drugbank_id"])
    # Sorted UniProt ids; P99998 is in the proteins table but linked to no drug, DB99999 is no drug node.
    assert kg.node_ids[kg.num_drugs :] == (
        "P02768",
        "P08183",
        "P08684",
        "P10635",
        "P22309",
        "P35372",
        "Q99999",
    )
    assert kg.node_kind.tolist() == [DRUG] * 6 + [PROTEIN] * 7
    assert kg.stats()["nodes"] == {"drug": 6, "protein": 7}


def test_labels_fall_back_from_gene_to_protein_name_to_id(kg):
    labels = dict(zip(kg.node_ids, kg.node_names, strict=True))
    assert labels["P08684"] == "CYP3A4"
    assert labels["Q99999"] == "Made-up receptor"  # no gene name
    # Not in the fixture's proteins table: named from ddi's reference of drug-handling proteins (UGT1A1)
    assert labels["P22309"] == "UGT1A1"
    assert labels["DB90006"] == "DB90006"  # drug without a name
    assert labels["DB90001"] == "Inhibitorol"


def test_a_protein_named_nowhere_is_labelled_by_its_accession(tables):
    assert _protein_labels(["Q00001", "P08684"], tables.proteins) == ("Q00001", "CYP3A4")


def test_protein_edges_follow_the_action_mapping(kg):
    edges = edges_of(kg)
    p = {uniprot: kg.num_drugs + i for i, uniprot in enumerate(kg.node_ids[kg.num_drugs :])}
    assert (SUBSTRATIN, p["P22309"], "enzyme:substrate") in edges
    assert (SUBSTRATIN, p["P22309"], "enzyme:inhibitor") in edges
    assert (INDUCERIN, p["P22309"], "enzyme:inducer") in edges  # "Inducer|Cofactor"
    assert (AGONISTOL, p["P35372"], "target:agonist") in edges  # "partial agonist|potentiator": one edge
    assert (AGONISTOL, p["P10635"], "enzyme:other") in edges  # empty actions
    assert (UNNAMED, p["P35372"], "target:antagonist") in edges  # "binder|antagonist"
    assert (INDUCERIN, p["Q99999"], "target:other") in edges  # unknown action word
    counts = kg.stats()["forward_edges_per_relation"]
    assert counts["target:agonist"] == 2  # DB99999, outside the drugs table, adds none
    assert sum(counts[r] for r in counts if not r.startswith("ddi:")) == 16
    assert kg.num_forward_edges == 16 + 5
    assert kg.num_edges == 2 * kg.num_forward_edges


def test_interaction_edges_run_from_the_acting_drug(kg):
    edges = edges_of(kg)
    # Row (DB90002, DB90001, 73) has subject 2: Inhibitorol is #Drug1, the acting drug.
    assert (INHIBITOROL, SUBSTRATIN, "ddi:73") in edges
    assert (SUBSTRATIN, INHIBITOROL, "ddi:73") not in edges
    assert (INDUCERIN, SUBSTRATIN, "ddi:1") in edges  # subject 1: row order kept
    assert (AGONISTOL, INHIBITOROL, "ddi:49") in edges  # subject 3 (symmetric): row order kept


def test_every_edge_has_its_inverse(kg):
    forward = kg.num_forward_edges
    assert torch.equal(kg.edge_index[:, forward:], kg.edge_index[:, :forward].flip(0))
    assert torch.equal(kg.edge_type[forward:], kg.edge_type[:forward] + kg.vocab.num_forward)
    assert torch.equal(kg.edge_pair[forward:], kg.edge_pair[:forward])
    assert (kg.edge_type[:forward] < kg.vocab.num_forward).all()


def test_edge_pair_holds_unordered_pair_keys(kg):
    src, dst = kg.edge_index
    is_interaction = (src < kg.num_drugs) & (dst < kg.num_drugs)
    expected = torch.minimum(src, dst) * kg.num_drugs + torch.maximum(src, dst)
    assert torch.equal(kg.edge_pair[is_interaction], expected[is_interaction])
    assert (kg.edge_pair[~is_interaction] == -1).all()
    assert kg.pair_keys(torch.tensor([[SUBSTRATIN, INHIBITOROL]])).tolist() == [INHIBITOROL * 6 + SUBSTRATIN]


def test_a_held_out_pair_has_no_edge(tables):
    held_out = (tables.interactions["drug1_id"] == "DB90002") & (tables.interactions["drug2_id"] == "DB90001")
    assert held_out.sum() == 1
    kg = KnowledgeGraph.build(tables, tables.interactions[~held_out])
    joined = {(s, d) for s, d, _ in edges_of(kg)}
    assert (INHIBITOROL, SUBSTRATIN) not in joined and (SUBSTRATIN, INHIBITOROL) not in joined
    assert kg.num_forward_edges == 16 + 4
    assert not kg.pair_edge_mask(torch.tensor([[SUBSTRATIN, INHIBITOROL]])).any()


def test_pair_edge_mask_marks_both_directions_of_the_pairs(kg):
    mask = kg.pair_edge_mask(torch.tensor([[SUBSTRATIN, INHIBITOROL], [LONELYN, AGONISTOL]]))
    src, dst = kg.edge_index[:, mask]
    assert mask.sum() == 2
    assert {(int(s), int(d)) for s, d in zip(src, dst, strict=True)} == {
        (INHIBITOROL, SUBSTRATIN),
        (SUBSTRATIN, INHIBITOROL),
    }
    assert not kg.pair_edge_mask(torch.empty(0, 2, dtype=torch.long)).any()
    every_drug_pair = torch.combinations(torch.arange(kg.num_drugs), 2)
    assert kg.pair_edge_mask(every_drug_pair).sum() == 2 * 5  # exactly the interaction edges


def test_pair_edge_mask_rejects_bad_pairs(kg):
    with pytest.raises(ValueError, match="n x 2"):
        kg.pair_edge_mask(torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="drug node ids"):
        kg.pair_edge_mask(torch.tensor([[0, kg.num_drugs]]))  # a protein node


def test_relation_groups_filter(tables, kg):
    enzymes = KnowledgeGraph.build(tables, tables.interactions, relation_groups={"enzyme"})
    assert {kg.vocab.group_of(t) for t in enzymes.edge_type.tolist()} == {"enzyme"}
    assert enzymes.node_ids[enzymes.num_drugs :] == ("P08684", "P10635", "P22309")
    assert len(enzymes.vocab) == len(kg.vocab)  # relation ids stay stable
    assert enzymes.stats()["forward_edges_per_group"] == {
        "enzyme": 7,
        "transporter": 0,
        "carrier": 0,
        "target": 0,
        "interaction": 0,
    }
    with pytest.raises(ValueError, match="unknown relation group"):
        KnowledgeGraph.build(tables, tables.interactions, relation_groups={"enzymes"})


def test_build_ignores_row_order(tables, kg):
    shuffled = tables.interactions.sample(frac=1.0, random_state=3)
    again = KnowledgeGraph.build(tables, shuffled)
    assert torch.equal(again.edge_index, kg.edge_index)
    assert torch.equal(again.edge_type, kg.edge_type)


def test_unknown_drugs_in_interactions_are_skipped_with_a_warning(tables, kg, caplog):
    extra = pd.DataFrame({"drug1_id": ["DB00000"], "drug2_id": ["DB90001"], "type": [1]})
    with caplog.at_level(logging.WARNING, logger="ddi.kg.graph"):
        built = KnowledgeGraph.build(tables, pd.concat([tables.interactions, extra]))
    assert "skipped 1 interaction(s)" in caplog.text
    assert torch.equal(built.edge_index, kg.edge_index)


def test_drug_node_accepts_ids_names_and_node_ids(kg):
    assert kg.drug_node("db90002") == SUBSTRATIN
    assert kg.drug_node("SUBSTRATIN") == SUBSTRATIN
    assert kg.drug_node(" Inhibitorol ") == INHIBITOROL
    assert kg.drug_node(LONELYN) == LONELYN
    with pytest.raises(UnknownDrugError, match="did you mean 'Substratin'") as info:
        kg.drug_node("Substratine")
    assert isinstance(info.value, UserInputError)
    with pytest.raises(UnknownDrugError, match="out of range"):
        kg.drug_node(kg.num_drugs)  # the first protein node


def test_adjacency_lists_out_edges(kg):
    adjacency = kg.adjacency
    assert adjacency.rowptr[-1] == kg.num_edges
    assert adjacency.out_edges(LONELYN)[0].size == 0
    targets, relations = adjacency.out_edges(INHIBITOROL)
    from_edges = sorted(
        (d, t) for s, d, t in zip(*kg.edge_index.tolist(), kg.edge_type.tolist(), strict=True) if s == 0
    )
    assert sorted(zip(targets.tolist(), relations.tolist(), strict=True)) == from_edges


def test_to_data(kg):
    data = kg.to_data()
    assert data.num_nodes == kg.num_nodes
    assert torch.equal(data.edge_index, kg.edge_index)
    assert torch.equal(data.edge_type, kg.edge_type)


def test_data_without_protein_knowledge_or_interactions(tables):
    no_proteins = replace(tables, drug_protein=empty_table("drug_protein"), proteins=empty_table("proteins"))
    kg = KnowledgeGraph.build(no_proteins, tables.interactions)
    assert (kg.num_nodes, kg.num_edges) == (6, 10)
    empty = KnowledgeGraph.build(no_proteins, tables.interactions.iloc[:0])
    assert (empty.num_nodes, empty.num_edges) == (6, 0)
    assert empty.pair_edge_mask(torch.tensor([[0, 1]])).shape == (0,)
    assert empty.adjacency.out_edges(0)[0].size == 0
