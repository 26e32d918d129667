"""``name_variants``: the names a prescription line may stand for, least trimmed first."""

from __future__ import annotations

import pytest

from ddi.serve.drug_names import name_variants


@pytest.mark.parametrize(
    ("text", "variants"),
    [
        ("Simvastatin 40mg tablet", ["Simvastatin"]),
        ("metformin HCl 500 mg ER", ["metformin HCl", "metformin"]),
        ("Losartan potassium 50 mg tab", ["Losartan potassium", "Losartan"]),
        ("Warfarin (Coumadin)", ["Warfarin", "Coumadin"]),
        ("Insulin glargine 100 units/ml", ["Insulin glargine"]),
        ("Nitroglycerin 0.4 mg sublingual", ["Nitroglycerin"]),
        ("  aspirin   81 mg ", ["aspirin"]),
        ("Aspirin EC 81", ["Aspirin EC", "Aspirin"]),
    ],
)
def test_dose_form_salt_and_notes_are_taken_away(text, variants):
    assert name_variants(text) == variants


@pytest.mark.parametrize("text", ["Simvastatin", "Vitamin B12", "HCl", "tablet", "500 mg", "5-fluorouracil"])
def test_nothing_to_take_away_gives_no_variant(text):
    assert name_variants(text) == []
