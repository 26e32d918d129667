"""Two wordings of one effect: a model split between "The metabolism of B can be increased" and "The serum
concentration of B can be decreased" is sure that A lowers B's levels, and the answer says so."""

from __future__ import annotations

import pytest
import torch

from ddi.cli.ask import answer_text
from ddi.data.templates import same_effect_types, same_effect_wordings
from ddi.serve.answer import answer_pair, answer_record

LUMACAFTOR, IMIQUIMOD = "DB09280", "DB00724"
METABOLISM_INCREASED, CONCENTRATION_DECREASED, ADVERSE_EFFECTS = 4, 75, 49


def test_the_benchmark_words_two_effects_two_ways(benchmark_tables):
    groups = {same.types: same.template for same in same_effect_types(benchmark_tables.interaction_types).values()}
    assert groups == {
        (47, 73): "#Drug1 can raise the blood levels of #Drug2.",
        (4, 75): "#Drug1 can lower the blood levels of #Drug2.",
    }
    assert same_effect_wordings(benchmark_tables.interaction_types) == [(4, 75), (47, 73)]


def test_wordings_whose_first_drug_plays_another_part_are_not_one_effect(benchmark_tables):
    types = benchmark_tables.interaction_types.copy()
    types.loc[types["type"] == 73, "subject"] = 1  # 47 keeps subject 2: the drugs swap parts between the two
    assert {same.types for same in same_effect_types(types).values()} == {(4, 75)}
    assert same_effect_types(types.iloc[0:0]) == {}


def _scored_as(predictor, monkeypatch, shares: dict[tuple[int, int], float]) -> None:
    """Make the predictor score every pair with these (type, orientation) probabilities."""
    labels = predictor.ctx.labels
    probs = torch.full((1, labels.num_classes), 0.0)
    for (type_id, orientation), p in shares.items():
        probs[0, 2 * labels.index_of[type_id] + orientation] = p
    rest = 1.0 - float(probs.sum())
    probs[0, 2 * labels.index_of[ADVERSE_EFFECTS]] += rest
    monkeypatch.setattr(
        predictor, "score_ids", lambda heads, tails: (probs.repeat(len(heads), 1), torch.ones(len(heads)))
    )


def test_a_split_between_two_wordings_is_summed_with_the_drugs_in_their_parts(predictor, monkeypatch):
    # Subject 1: orientation 0 puts the first drug (Lumacaftor) in #Drug1, the drug that does it.
    _scored_as(predictor, monkeypatch, {(METABOLISM_INCREASED, 0): 0.55, (CONCENTRATION_DECREASED, 0): 0.35})
    prediction = predictor.predict_pairs([(LUMACAFTOR, IMIQUIMOD)])[0]
    assert prediction.type_id == METABOLISM_INCREASED
    same = prediction.same_effect
    assert same is not None
    assert same.type_ids == (METABOLISM_INCREASED, CONCENTRATION_DECREASED)
    assert same.probability == pytest.approx(0.90)
    assert same.sentence == "Lumacaftor can lower the blood levels of Imiquimod."


@pytest.mark.parametrize(
    "shares",
    [
        # the other wording has the drugs the other way round: another effect
        {(METABOLISM_INCREASED, 0): 0.55, (CONCENTRATION_DECREASED, 1): 0.35},
        # the other wording has too little to mention
        {(METABOLISM_INCREASED, 0): 0.96, (CONCENTRATION_DECREASED, 0): 0.02},
        # the top type has no other wording
        {(ADVERSE_EFFECTS, 0): 0.0, (CONCENTRATION_DECREASED, 0): 0.2},
    ],
)
def test_no_effect_total_where_the_two_wordings_do_not_say_one_thing(predictor, monkeypatch, shares):
    _scored_as(predictor, monkeypatch, shares)
    assert predictor.predict_pairs([(LUMACAFTOR, IMIQUIMOD)])[0].same_effect is None


def test_the_answer_says_the_effect_and_its_total(predictor, resolver, monkeypatch):
    _scored_as(predictor, monkeypatch, {(METABOLISM_INCREASED, 0): 0.55, (CONCENTRATION_DECREASED, 0): 0.35})
    answer = answer_pair(predictor, resolver, "lumacaftor", "imiquimod", explain=False)
    note = "Types 4 and 75 are DrugBank's two wordings of one effect, together 90%: "
    assert answer.same_effect_note == note + "Lumacaftor can lower the blood levels of Imiquimod."
    assert answer.same_effect_note in answer_text(answer)
    assert answer_record(answer)["same_effect"] == {
        "sentence": "Lumacaftor can lower the blood levels of Imiquimod.",
        "probability": 0.9,
        "types": [4, 75],
    }
    _scored_as(predictor, monkeypatch, {(ADVERSE_EFFECTS, 0): 0.9})
    answer = answer_pair(predictor, resolver, "lumacaftor", "imiquimod", explain=False)
    assert answer.same_effect_note == "" and answer_record(answer)["same_effect"] is None
