"""The Python API of ``Predictor`` and ``answer_pair`` given odd input: each is refused with a message naming the
problem (a ``UserInputError``), never a traceback from torch or RDKit, and never answered silently wrong."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ddi.chem.molecule import InvalidStructureError
from ddi.errors import UserInputError
from ddi.serve.answer import PairInputError, answer_pair
from ddi.serve.resolve import UnknownDrugError

SIMVASTATIN, CLARITHROMYCIN = "DB00641", "DB01211"


def test_an_unknown_drug_id_is_an_unknown_drug_not_a_checkpoint_problem(predictor):
    with pytest.raises(UnknownDrugError, match="unknown drug 'DB99999'"):
        predictor.predict_pairs([(SIMVASTATIN, "DB99999")])
    with pytest.raises(UnknownDrugError, match="DB99999"):
        predictor.closest_look_alike("DB99999")


@pytest.mark.parametrize("bad", [641, None, b"DB00641"])
def test_a_drug_id_that_is_not_text_is_named_as_such(predictor, bad):
    with pytest.raises(UnknownDrugError, match="must be text"):
        predictor.predict_pairs([(bad, CLARITHROMYCIN)])


def test_drugbank_ids_are_read_in_any_letter_case_as_the_resolver_reads_them(predictor):
    [given] = predictor.predict_pairs([("db00641", f" {CLARITHROMYCIN.lower()} ")])
    [expected] = predictor.predict_pairs([(SIMVASTATIN, CLARITHROMYCIN)])
    assert (given.drug1_id, given.drug2_id) == (SIMVASTATIN, CLARITHROMYCIN)
    assert given.probability == pytest.approx(expected.probability)
    assert given.sentence == expected.sentence


def test_no_pairs_give_no_predictions(predictor):
    assert predictor.predict_pairs([]) == []
    probs, exists = predictor.score_ids(np.array([], dtype=np.int64), np.array([], dtype=np.int64))
    assert probs.shape == (0, 2 * predictor.ctx.labels.num_types) and exists.shape == (0,)


def test_a_drug_paired_with_itself_is_refused(predictor):
    # Not "Simvastatin ... when combined with Simvastatin", with a made-up probability.
    with pytest.raises(UserInputError, match="paired with itself"):
        predictor.predict_pairs([(SIMVASTATIN, "db00641")])


@pytest.mark.parametrize("pair", ["DB00641", (SIMVASTATIN,), (SIMVASTATIN, CLARITHROMYCIN, "DB00945")])
def test_an_item_that_is_not_a_pair_is_refused(predictor, pair):
    with pytest.raises(UserInputError, match=r"each pair must be a \(drug1, drug2\)"):
        predictor.predict_pairs([pair])


@pytest.mark.parametrize(
    ("option", "value"),
    [("top_k", 0), ("top_k", -1), ("top_k", 2.5), ("top_k", True), ("max_paths", 0), ("max_paths", -1)],
)
def test_counts_under_one_or_not_whole_are_refused(predictor, option, value):
    # top_k=-1 used to list every type but the last, max_paths=-1 every path but the last: silently wrong.
    with pytest.raises(UserInputError, match=f"{option} must be a whole number of at least 1"):
        predictor.predict_pairs([(SIMVASTATIN, CLARITHROMYCIN)], explain=True, **{option: value})


def test_top_k_past_the_number_of_types_lists_every_type_once(predictor):
    [prediction] = predictor.predict_pairs([(SIMVASTATIN, CLARITHROMYCIN)], top_k=10_000)
    assert len(prediction.top) == predictor.ctx.labels.num_types


@pytest.mark.parametrize(
    ("structure", "why"),
    [("*CC(=O)O", "wildcard atoms"), ("[1*]c1ccccc1", "wildcard atoms"), (None, "not NoneType"), (b"CCO", "not bytes")],
)
def test_a_structure_that_is_no_whole_molecule_is_not_registered(predictor, structure, why):
    before = len(predictor.node_of)
    with pytest.raises(InvalidStructureError, match=why):
        predictor.register_structure(structure)
    assert len(predictor.node_of) == before


def test_an_unknown_interaction_type_is_named(predictor):
    with pytest.raises(UserInputError, match="unknown interaction type 99999"):
        predictor.type_template(99999)


def test_score_ids_refuses_ids_that_are_no_drug_node(predictor):
    graph = predictor.ctx.graph
    protein = graph.num_drugs  # the first node after the drugs is not a drug
    for bad in (protein, -1, graph.num_nodes + 10_000):
        with pytest.raises(UserInputError, match=f"{bad} is not the node id of a drug"):
            predictor.score_ids(np.array([0]), np.array([bad]))
    with pytest.raises(UserInputError, match="must be integers"):
        predictor.score_ids(np.array([0.0]), np.array([1.0]))
    with pytest.raises(UserInputError, match="vectors of one length"):
        predictor.score_ids(torch.tensor([0, 1]), torch.tensor([1]))


def test_answer_pair_names_a_drug_that_is_not_text(predictor, resolver):
    with pytest.raises(PairInputError, match="Drug 2: a drug must be given as text") as caught:
        answer_pair(predictor, resolver, "Simvastatin", 641)
    assert caught.value.side == 2


@pytest.mark.parametrize(("option", "value"), [("top_k", 2.5), ("max_paths", 0), ("max_paths", -3)])
def test_answer_pair_refuses_counts_under_one(predictor, resolver, option, value):
    # max_paths=0 used to answer "no knowledge-graph path joins these two drugs": false for this pair.
    with pytest.raises(UserInputError, match=f"{option} must be a whole number of at least 1"):
        answer_pair(predictor, resolver, "Simvastatin", "Clarithromycin", **{option: value})
