"""The regimen check: every pair among several drugs, ranked, each bad or repeated drug reported once."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from ddi.errors import UserInputError
from ddi.serve.batch import score_table
from ddi.serve.regimen import (
    MAX_REGIMEN_DRUGS,
    RegimenError,
    check_regimen,
    check_regimens,
    drugs_from_regimen_link,
    find_regimen_columns,
    regimen_drugs,
    regimen_link_parameters,
)

PHENOL = "CC(C)(C)c1ccc(O)cc1"  # 4-tert-butylphenol: in no drug table


def test_every_pair_is_scored_as_the_batch_scores_it_and_ranked(predictor, resolver):
    drugs = ["Clarithromycin", "Simvastatin", "Warfarin", "Aspirin", PHENOL]
    check = check_regimen(predictor, resolver, drugs)
    pairs = check.pairs
    assert check.notes == {}
    assert len(pairs) == 10
    assert {frozenset(p) for p in zip(pairs["drug1"], pairs["drug2"], strict=True)} == {
        frozenset((a, b)) for i, a in enumerate(drugs) for b in drugs[i + 1 :]
    }
    # The same figures as a batch of the same pairs.
    batch = score_table(pairs[["drug1", "drug2"]], predictor, resolver)
    assert pairs["predicted_type"].tolist() == batch["predicted_type"].tolist()
    assert pairs["exists_score"].tolist() == pytest.approx(batch["exists_score"].tolist())
    # Listed pairs first, then by interaction score.
    listed = (pairs["known_type"] != "").tolist()
    assert listed == sorted(listed, reverse=True)
    assert any(listed), "clarithromycin + simvastatin is listed by DrugBank"
    unlisted = pairs.loc[~pairs["known_type"].astype(bool), "exists_score"].tolist()
    assert unlisted == sorted(unlisted, reverse=True)


def test_a_bad_or_repeated_drug_is_reported_once_and_its_pairs_say_why(predictor, resolver):
    drugs = ["Simvastatin", "aspirin", "Acetylsalicylic acid", "xyzzy", "C1CC(", " simvastatin "]
    check = check_regimen(predictor, resolver, drugs)
    assert list(check.notes) == ["Acetylsalicylic acid", "xyzzy", "C1CC("]
    assert check.notes["Acetylsalicylic acid"].startswith("the same drug as 'aspirin'")
    assert "unknown drug 'xyzzy'" in check.notes["xyzzy"]
    assert "invalid SMILES" in check.notes["C1CC("]
    pairs = check.pairs
    assert len(pairs) == 6, "4 distinct usable-or-not drugs: the repeated name is left out"
    failed = pairs["error"].astype(bool)
    assert failed.tolist() == [False] + [True] * 5, "failed pairs come last"
    assert all("xyzzy" in e or "C1CC(" in e for e in pairs.loc[failed, "error"])


@pytest.mark.parametrize(
    ("drugs", "message"),
    [
        (["aspirin"], "at least two different drugs; got 1"),
        (["aspirin", " Aspirin ", ""], "at least two different drugs; got 1 ('aspirin', listed 2 times)"),
        ([f"drug{i}" for i in range(MAX_REGIMEN_DRUGS + 1)], f"too large (limit {MAX_REGIMEN_DRUGS})"),
    ],
)
def test_a_regimen_too_small_or_too_large_is_refused(drugs, message):
    with pytest.raises(RegimenError, match=message.replace("(", r"\(").replace(")", r"\)")):
        regimen_drugs(drugs)


def test_a_combination_product_is_checked_as_its_drugs(predictor, resolver):
    check = check_regimen(predictor, resolver, ["Warfarin", "trimethoprim/sulfamethoxazole 800/160 mg"])
    [note] = check.notes.values()
    assert note == "a combination product: checked as Trimethoprim (DB00440), Sulfamethoxazole (DB01015)"
    assert len(check.pairs) == 3
    assert set(check.pairs["drug1_id"]) | set(check.pairs["drug2_id"]) == {"DB00682", "DB00440", "DB01015"}
    assert not check.pairs["error"].astype(bool).any()


def test_a_regimen_of_one_usable_drug_is_refused_with_why(predictor, resolver):
    with pytest.raises(RegimenError, match=r"it can use; got 1 .*unknown drug 'xyzzy'"):
        check_regimen(predictor, resolver, ["Warfarin", "xyzzy", "warfarin sodium"])


def test_a_medication_list_is_checked_patient_by_patient(predictor, resolver):
    meds = pd.DataFrame(
        {
            "Patient ID": ["p1", "p1", "p1", "p2", "p2", "p2", "p3", "p3", None, "p1"],
            "medication": [
                "Simvastatin 40mg tablet",
                "Clarithromycin 500 mg",
                "warfarin sodium",
                "metformin HCl",
                "xyzzy",
                "Lisinopril",
                "aspirin",
                "Aspirin 81 mg",
                "omeprazole",
                "",
            ],
        }
    )
    drug_col, group_col = find_regimen_columns(list(meds.columns))
    assert (drug_col, group_col) == ("medication", "Patient ID")
    rows = check_regimens(predictor, resolver, meds, drug_col, group_col)
    assert list(rows.columns[:3]) == ["Patient ID", "drug1", "drug2"] and rows.columns[-1] == "note"
    assert rows["Patient ID"].tolist() == ["p1"] * 3 + ["p2"] * 4 + ["p3", ""], "regimens in the table's order"
    p1 = rows[rows["Patient ID"] == "p1"]
    assert set(p1["drug1_id"]) | set(p1["drug2_id"]) == {"DB00641", "DB01211", "DB00682"}
    assert (p1["error"] == "").all() and (p1["note"] == "").all()
    # Within a regimen the ranking of check_regimen: the same pairs, the same order.
    alone = check_regimen(predictor, resolver, ["Simvastatin 40mg tablet", "Clarithromycin 500 mg", "warfarin sodium"])
    assert p1["drug1"].tolist() == alone.pairs["drug1"].tolist()
    assert p1["exists_score"].tolist() == pytest.approx(alone.pairs["exists_score"].tolist())
    p2 = rows[rows["Patient ID"] == "p2"]
    assert p2["error"].tolist()[:3] == ["", "drug2: unknown drug 'xyzzy'", "drug1: unknown drug 'xyzzy'"]
    assert p2["note"].tolist() == ["", "", "", "unknown drug 'xyzzy'"], "the bad drug's note follows its pairs"
    [p3] = rows.loc[rows["Patient ID"] == "p3", "note"]
    assert p3.startswith("a regimen needs at least two different drugs it can use; got 1")
    [orphan] = rows.loc[rows["Patient ID"] == "", "note"]
    assert orphan.startswith("no Patient ID: the drug belongs to no regimen")


def test_missing_cells_of_a_typed_table_are_blank_not_text(predictor, resolver):
    meds = pd.DataFrame(
        {"patient": pd.array(["p1", "p1", pd.NA], dtype="string"), "drug": ["Warfarin", "Aspirin", "Omeprazole"]}
    )
    rows = check_regimens(predictor, resolver, meds, "drug", "patient")
    assert rows["patient"].tolist() == ["p1", ""], "no regimen called '<NA>'"
    assert rows["note"].iloc[1].startswith("no patient: the drug belongs to no regimen")


def test_without_a_group_column_the_list_is_one_regimen(predictor, resolver):
    meds = pd.DataFrame({"drug": ["Warfarin", "Aspirin", "Omeprazole"]})
    assert find_regimen_columns(list(meds.columns)) == ("drug", None)
    rows = check_regimens(predictor, resolver, meds, "drug")
    assert len(rows) == 3 and "group" not in rows.columns


@pytest.mark.parametrize(
    ("columns", "drug", "group", "message"),
    [
        (["a", "b"], None, None, "no drug column found; the columns are 'a', 'b'"),
        (["drug", "patient"], "med", None, "no column 'med'; the columns are 'drug', 'patient'"),
        (["drug", "patient"], None, "visit", "no column 'visit'"),
        (["drug", "patient"], None, "drug", "'drug' cannot be both the drug column and the column of whose regimen"),
    ],
)
def test_medication_list_columns_that_are_missing_are_named(columns, drug, group, message):
    with pytest.raises(UserInputError, match=re.escape(message)):
        find_regimen_columns(columns, drug, group)


def test_a_regimen_link_carries_its_drugs_in_order():
    link = regimen_link_parameters(["DB00682", "aspirin"])
    assert drugs_from_regimen_link(link) == ["DB00682", "aspirin"]
    assert drugs_from_regimen_link({"drug": " warfarin "}) == ["warfarin"]
    assert drugs_from_regimen_link({"drug": ["", None, "x"] + ["y"] * 100}) == ["x"] + ["y"] * (MAX_REGIMEN_DRUGS - 1)
    assert drugs_from_regimen_link({}) == []


def test_regimen_checks_hold_the_model_as_the_app_s_other_pages_do(predictor, resolver, monkeypatch):
    # Resolving may register a new molecule with the shared model, which the pair page and uploads read from other
    # threads under MODEL_LOCK; a regimen check scored without it could race them.
    import ddi.serve.regimen as regimen

    held = []

    class RecordingLock:
        def __enter__(self):
            held.append(True)

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(regimen, "MODEL_LOCK", RecordingLock())
    regimen.check_regimen(predictor, resolver, ["DB00641", "DB01211", "CCO"])
    assert held
    held.clear()
    table = pd.DataFrame({"patient": ["p1", "p1"], "drug": ["DB00641", "DB01211"]})
    regimen.check_regimens(predictor, resolver, table, "drug", "patient")
    assert len(held) >= 2  # building the pairs and scoring them
