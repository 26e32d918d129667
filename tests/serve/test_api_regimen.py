"""The regimen functions given odd input: one string, missing cells, odd link values, a bad option or column."""

from __future__ import annotations

import pandas as pd
import pytest

from ddi.errors import UserInputError
from ddi.serve.regimen import (
    RegimenError,
    check_regimen,
    check_regimens,
    drugs_from_regimen_link,
    regimen_drugs,
    regimen_link_parameters,
)


@pytest.mark.parametrize("drugs", ["simvastatin", b"DB00641", None])
def test_one_string_is_not_a_regimen_of_its_letters(drugs):
    with pytest.raises(RegimenError, match="a regimen is a list of drug texts"):
        regimen_drugs(drugs)
    with pytest.raises(RegimenError, match="a regimen is a list of drug texts"):
        regimen_link_parameters(drugs)


def test_missing_cells_are_no_drug_called_nan():
    assert regimen_drugs(["Simvastatin", float("nan"), pd.NA, None, "Warfarin"]) == ["Simvastatin", "Warfarin"]
    with pytest.raises(RegimenError, match="at least two different drugs; got 1"):
        regimen_drugs(["Simvastatin", float("nan")])


@pytest.mark.parametrize("value", [5, {"Simvastatin": 1}, None])
def test_a_link_value_no_link_carries_gives_no_drugs(value):
    assert drugs_from_regimen_link({"drug": value}) == []


def test_check_regimen_refuses_a_top_k_that_is_no_whole_number(predictor, resolver):
    with pytest.raises(UserInputError, match=r"top_k must be a whole number of at least 1, not 2\.5"):
        check_regimen(predictor, resolver, ["Simvastatin", "Warfarin"], top_k=2.5)


def test_check_regimens_names_a_column_the_table_lacks(predictor, resolver):
    table = pd.DataFrame({"drug": ["Simvastatin", "Warfarin"], "patient": [1, 1]})
    with pytest.raises(UserInputError, match="no column 'medication'; the columns are 'drug', 'patient'"):
        check_regimens(predictor, resolver, table, "medication")
    with pytest.raises(UserInputError, match="no column 'visit'"):
        check_regimens(predictor, resolver, table, "drug", "visit")
    # A column named in another letter case is that column, as the command line reads it.
    rows = check_regimens(predictor, resolver, table, "Drug", "Patient")
    assert len(rows) == 1 and set(rows[["drug1", "drug2"]].iloc[0]) == {"Simvastatin", "Warfarin"}
