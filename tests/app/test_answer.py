"""``answer_pair`` and its pictures: what the app's result panel is built from."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch
from rdkit import Chem
from torch_geometric.data import Batch

from ddi.cli.ask import answer_text
from ddi.models.ddi_model import Encoded
from ddi.serve.answer import (
    PairInputError,
    answer_pair,
    answer_record,
    drug_choices,
    drugs_from_link,
    known_interactions,
    link_parameters,
    pair_link,
    picker_label,
)
from ddi.serve.atoms import atom_importance
from ddi.serve.drawing import molecule_svg, paths_dot
from ddi.train.trainer import pair_features

PHENOL = "CC(C)(C)c1ccc(O)cc1"  # 4-tert-butylphenol: not a drug of the data


def test_known_pair_is_read_in_drugbank_orientation_whichever_order_it_is_asked(predictor, resolver):
    for first, second in (("clarithromycin", "simvastatin"), ("Simvastatin", "DB01211")):
        answer = answer_pair(predictor, resolver, first, second)
        assert [(k.type_id, k.sentence) for k in answer.known] == [
            (73, "The serum concentration of Simvastatin can be increased when it is combined with Clarithromycin.")
        ]
        assert not answer.less_certain or "no interactions in the model's training data" in answer.less_certain_reason
    # Subject 1: drug1 fills #Drug1 (type 6, "#Drug1 may increase the anticoagulant activities of #Drug2").
    [known] = known_interactions(predictor, "DB00682", "DB00945")
    assert known.sentence == "Acetylsalicylic acid may increase the anticoagulant activities of Warfarin."


def test_answer_has_prediction_top_types_and_explanation(predictor, resolver):
    answer = answer_pair(predictor, resolver, "Clarithromycin", "Simvastatin", top_k=4)
    assert (answer.drug1_id, answer.drug2_id) == ("DB01211", "DB00641")
    assert len(answer.top) == 4
    assert answer.top[0][0] == answer.prediction.type_id and answer.top[0][2] == answer.sentence
    probs = [p for _, p, _ in answer.top]
    assert probs == sorted(probs, reverse=True) and 0 < answer.probability <= 1
    assert 0 <= answer.exists <= 1
    assert answer.paths and all(p.weight > 0 for p in answer.paths)
    assert any(r.name == "cyp_inhibition" and "CYP3A4" in r.text for r in answer.rules)
    # DrugBank lists clarithromycin as both inhibitor and inducer of CYP3A4: the induction rule fires beside the
    # inhibition rule, and the answer says why instead of leaving an apparent contradiction.
    assert any(r.name == "cyp_induction" and "Clarithromycin induces CYP3A4" in r.text for r in answer.rules)
    assert answer.rules_note.startswith(
        "DrugBank lists both an inhibiting and an inducing action of Clarithromycin on CYP3A4"
    )
    assert answer_record(answer)["rules_note"] == answer.rules_note
    assert answer_pair(predictor, resolver, "Warfarin", "Acetylsalicylic acid").rules_note == ""
    # What the look-alikes behind the votes are alike in, as the model compares drugs.
    assert answer.look_alike_basis == "structure, proteins, ATC class and DrugBank categories"
    for atoms in answer.atoms:
        assert atoms is not None
        assert len(atoms.scores) == Chem.MolFromSmiles(atoms.smiles).GetNumAtoms()
        assert atoms.scores.min() >= 0 and atoms.scores.max() == pytest.approx(1.0)


def test_structure_outside_the_graph_is_scored_and_less_certain(predictor, resolver):
    answer = answer_pair(predictor, resolver, "warfarin", PHENOL)
    assert answer.drug2_id.startswith("structure:")
    assert answer.less_certain
    assert "not in the model's knowledge graph" in answer.less_certain_reason
    assert answer.known == [] and answer.rules == [] and answer.paths == []
    assert answer.atoms[1] is not None and answer.atoms[1].smiles == predictor.structures[answer.drug2_id]
    # Its look-alikes are found by structure: the model's proteins and classes say nothing about it.
    assert answer.look_alike_basis.startswith("structure, proteins, ")
    assert answer.look_alike_basis.endswith(f"; {answer.drug2_name}, known only by its structure, by structure alone")


def test_a_low_interaction_score_comes_first_unless_drugbank_lists_the_pair(predictor, resolver):
    answer = answer_pair(predictor, resolver, "warfarin", PHENOL)
    unlikely = dataclasses.replace(answer, prediction=dataclasses.replace(answer.prediction, exists=0.03))
    assert not unlikely.interaction_likely
    assert unlikely.verdict.startswith("The model finds an interaction unlikely (interaction score 3%)")
    text = answer_text(unlikely).splitlines()
    assert text[2] == unlikely.verdict and text[3] == f"  {unlikely.sentence}", "the verdict, then the type"
    assert answer_record(unlikely)["interaction_likely"] is False
    likely = dataclasses.replace(unlikely, prediction=dataclasses.replace(answer.prediction, exists=0.5))
    assert likely.interaction_likely and answer_text(likely).splitlines()[2] == likely.sentence
    listed = answer_pair(predictor, resolver, "clarithromycin", "simvastatin")
    listed = dataclasses.replace(listed, prediction=dataclasses.replace(listed.prediction, exists=0.03))
    assert listed.interaction_likely, "a pair DrugBank lists interacts, whatever the score"
    assert listed.verdict.startswith("DrugBank lists an interaction for this pair")


def test_a_structure_like_no_drug_of_the_graph_says_its_look_alikes_are_weak_evidence(predictor, resolver):
    train = predictor.ctx.split.train
    busiest = pd.concat([train["drug1_id"], train["drug2_id"]]).value_counts().index[:10]
    # Methane against the tiny split's busiest drugs: its look-alikes (poor as they are) met some of them.
    answers = [answer_pair(predictor, resolver, "InChI=1S/CH4/h1H4", str(other)) for other in busiest]
    answer = next(a for a in answers if a.look_alikes)
    assert answer.look_alike_note.startswith("no drug of the model's graph looks much like Methane (the closest, ")
    assert answer_record(answer)["look_alike_note"] == answer.look_alike_note
    drug = answer_pair(predictor, resolver, "clarithromycin", "simvastatin")
    assert drug.look_alikes and drug.look_alike_note == "", "two drugs of the graph have close look-alikes"


def test_a_link_reopens_the_same_answer_for_a_named_drug_and_a_structure(predictor, resolver):
    answer = answer_pair(predictor, resolver, "clarithromycine", PHENOL)
    link = link_parameters(answer)
    assert link["drug1"] == "DB01211", "a DrugBank drug travels as its id, not as the synonym typed"
    assert link["drug2"] == answer.drug2.structure, "a structure outside DrugBank travels as itself"
    reopened = answer_pair(predictor, resolver, *drugs_from_link(link))
    assert (reopened.drug1_id, reopened.drug2_id) == (answer.drug1_id, answer.drug2_id)
    assert reopened.probability == pytest.approx(answer.probability)


def test_a_combination_product_is_an_error_offering_each_of_its_drugs(predictor, resolver):
    with pytest.raises(PairInputError) as caught:
        answer_pair(predictor, resolver, "amoxicillin/clavulanate 875/125 mg", "warfarin")
    assert caught.value.side == 1
    assert "combines 2 drugs" in str(caught.value)
    assert [text for _, text in caught.value.suggestions] == ["DB01060", "DB00766"]


def test_a_pair_link_is_relative_and_quotes_its_texts():
    assert pair_link("DB00682", "Omeprazole 20 mg") == "./?drug1=DB00682&drug2=Omeprazole+20+mg"
    assert drugs_from_link({"drug1": "DB00682", "drug2": "C(=O)O&x"}) == ("DB00682", "C(=O)O&x")
    assert pair_link("CC(=O)O", "a&b").endswith("drug1=CC%28%3DO%29O&drug2=a%26b")


def test_a_link_without_both_drugs_gives_empty_texts():
    assert drugs_from_link({"drug1": "  DB00682 ", "other": "x"}) == ("DB00682", "")
    assert drugs_from_link({"drug1": ["DB00682"], "drug2": None}) == ("", "")


def test_picker_label_finds_a_drug_by_id_under_its_name(predictor):
    choices = drug_choices(predictor)
    assert picker_label(choices, "db00641") == "Simvastatin (DB00641)"
    assert picker_label(choices, "simvastatin") is None
    assert picker_label(choices, "DB99999") is None


@pytest.mark.parametrize(
    ("first", "second", "side", "message"),
    [
        ("simvastatinn", "warfarin", 1, "Drug 1: unknown drug 'simvastatinn'; did you mean Simvastatin (DB00641)"),
        ("warfarin", "C1CC(", 2, "Drug 2: invalid SMILES: syntax error in 'C1CC('"),
        ("aspirin", "Acetylsalicylic acid", 2, "Drug 2: both inputs are the same drug (Acetylsalicylic acid)"),
        ("", "warfarin", 1, "Drug 1: empty drug name"),
    ],
)
def test_bad_input_says_which_drug_and_why(predictor, resolver, first, second, side, message):
    with pytest.raises(PairInputError) as caught:
        answer_pair(predictor, resolver, first, second)
    assert caught.value.side == side
    assert str(caught.value).startswith(message)


def test_unknown_drug_suggestions_resolve_to_the_suggested_drug(predictor, resolver):
    with pytest.raises(PairInputError) as caught:
        answer_pair(predictor, resolver, "warfarin", "simvastatinn")
    label, text = caught.value.suggestions[0]
    assert (label, text) == ("Simvastatin (DB00641)", "DB00641")
    assert answer_pair(predictor, resolver, "warfarin", text).drug2_id == "DB00641"


def test_atom_gradients_equal_a_full_recomputation_for_a_structure(predictor):
    """For a drug known only by its structure the cached-state substitution is exact: compare with autograd
    through ``encode_isolated_drugs`` itself."""
    from ddi.chem.fingerprints import bits_to_atoms, fingerprint_matrix
    from ddi.chem.graphs import structure_to_graph

    pseudo = predictor.register_structure(PHENOL)
    _, atoms = atom_importance(predictor, "DB00682", pseudo)
    model, labels = predictor.model, predictor.ctx.labels
    graph, _ = structure_to_graph(predictor.structures[pseudo])
    x = graph.x.clone().requires_grad_(True)
    molecules = Batch.from_data_list([graph])
    molecules.x = x
    row = predictor.node_of[pseudo]
    fingerprints = None
    if model.fingerprint_encoder is not None:
        fingerprints = fingerprint_matrix([predictor.structures[pseudo]], model.config.fingerprint_bits)
        fingerprints.requires_grad_(True)
    state = model.encode_isolated_drugs(molecules, fingerprints)
    cached = predictor.encoded.node_state.detach()
    node_state = torch.cat([cached[:row], state, cached[row + 1 :]])
    pair_structure = None
    if predictor.encoded.pair_structure is not None:
        structure = predictor.encoded.pair_structure.detach()
        pair_structure = torch.cat([structure[:row], model.pair_structure(fingerprints), structure[row + 1 :]])
    encoded = Encoded(node_state, predictor.encoded.path_inputs, pair_structure)
    h, t = torch.tensor([predictor.node_of["DB00682"], row]), torch.tensor([row, predictor.node_of["DB00682"]])
    features = pair_features(model, predictor.ctx, h, t)
    out = model.score_pairs(encoded, predictor.ctx.graph, h, t, features)
    # The class explained is the one predicted, after the look-alike vote is blended in.
    p = model.class_probs(out.type_logits.detach(), model.vote_probs(features))
    probs = (p[:1] + labels.flip(p[1:])) / 2
    ti = int(labels.type_probs(probs)[0].argmax())
    o = int(probs[0].view(-1, 2)[ti].argmax())
    back = 0 if bool(labels.symmetric[ti]) else 1 - o
    target = out.type_logits[0, 2 * ti + o] + out.type_logits[1, 2 * ti + back]
    grads = torch.autograd.grad(target, [x] if fingerprints is None else [x, fingerprints])
    expected = (grads[0] * x.detach()).sum(-1).numpy()
    if fingerprints is not None:  # each set bit's share goes to the atoms of the substructures that set it
        bit_scores = (grads[1] * fingerprints.detach())[0].numpy()
        expected = expected + bits_to_atoms(predictor.structures[pseudo], bit_scores)
    np.testing.assert_allclose(atoms.raw, expected, rtol=1e-4, atol=1e-6)


def test_molecule_drawing_highlights_the_top_atoms():
    scores = np.zeros(Chem.MolFromSmiles(PHENOL).GetNumAtoms())
    scores[[4, 8]] = [1.0, 0.6]
    svg = molecule_svg(PHENOL, scores, legend="phenol")
    assert svg.startswith("<?xml") and svg.rstrip().endswith("</svg>") and "class='legend'" in svg
    assert svg.count("<ellipse") == 2, "the two important atoms are drawn as filled circles"
    assert "fill:#E54C33" in svg, "the most important atom gets the full highlight colour"
    assert molecule_svg(PHENOL).count("<ellipse") == 0
    assert molecule_svg("C1CC(") == ""


def test_paths_graph_names_drugs_proteins_and_relations(predictor, resolver):
    answer = answer_pair(predictor, resolver, "Clarithromycin", "Simvastatin")
    dot = paths_dot(predictor.ctx.kg, answer.paths)
    assert dot.startswith("digraph paths {") and dot.rstrip().endswith("}")
    assert '"Clarithromycin"' in dot and '"Simvastatin"' in dot
    assert dot.count("->") >= len(answer.paths)
    assert paths_dot(predictor.ctx.kg, []).count("->") == 0


def test_picker_lists_names_then_synonyms_each_resolving_to_its_drug(predictor):
    choices = drug_choices(predictor)
    assert choices["Clarithromycin (DB01211)"] == "DB01211"
    assert choices["Clarithromycina → Clarithromycin (DB01211)"] == "DB01211"
    labels = list(choices)
    assert labels.index("Warfarin (DB00682)") < labels.index("Clarithromycina → Clarithromycin (DB01211)")


def test_path_note_says_why_a_model_names_no_path_or_how_it_weighs_them(predictor, resolver):
    from dataclasses import replace

    from ddi.serve.answer import paths_note

    answer = answer_pair(predictor, resolver, "Clarithromycin", "Simvastatin")
    assert answer.paths and "attention" in answer.paths_note
    outside = answer_pair(predictor, resolver, "warfarin", PHENOL)
    assert outside.paths == [] and outside.paths_note.startswith("No knowledge-graph path joins")
    # A model without a path block (path length 0, as the architecture search may pick) must not claim that no
    # path joins the drugs; one that pools by sum says its paths weigh the same.
    config = predictor.model.config
    assert "no relation-path block" in paths_note(replace(config, path_length=0), has_paths=False)
    assert "every path weighs the same" in paths_note(replace(config, aggregation="sum"), has_paths=True)
