"""Drug label annotations (ATC codes with their hierarchy, DrugBank categories) as 0/1 sets."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from ddi.models.drug_annotations import annotation_incidence, annotation_tokens


def test_an_atc_code_brings_every_level_of_its_hierarchy():
    assert annotation_tokens("C10AA05", "atc") == {"C", "C10", "C10A", "C10AA", "C10AA05"}
    # Two codes, odd spacing and case, an empty item: one set, the shared levels once.
    assert annotation_tokens(" c10aa05 | C10AB01||", "atc") == {
        "C",
        "C10",
        "C10A",
        "C10AA",
        "C10AA05",
        "C10AB",
        "C10AB01",
    }
    assert annotation_tokens("", "atc") == set()


def test_statins_share_more_of_their_class_than_a_statin_and_an_anticoagulant():
    drugs = pd.DataFrame(
        {
            "atc_codes": ["C10AA05", "C10AA01", "B01AA03", ""],
            "categories": [
                "Anticholesteremic Agents|Cytochrome P-450 CYP3A4 Substrates",
                "anticholesteremic agents",
                "",
                "",
            ],
        }
    )
    atc = annotation_incidence(drugs, "atc")
    assert atc.shape == (4, 11)  # C C10 C10A C10AA C10AA05 C10AA01, B B01 B01A B01AA B01AA03
    shared = atc @ atc.t()
    assert shared[0, 1] == 4 and shared[0, 2] == 0
    assert torch.all(atc[3] == 0)  # not annotated: an empty set
    categories = annotation_incidence(drugs, "categories")
    assert categories.shape == (4, 2) and (categories[0] @ categories[1]) == 1  # case does not split a category


def test_a_missing_column_is_no_annotation_and_an_unknown_name_is_refused():
    drugs = pd.DataFrame({"drugbank_id": ["DB1", "DB2"]})
    assert annotation_incidence(drugs, "categories").shape == (2, 0)
    with pytest.raises(ValueError, match="unknown drug annotation"):
        annotation_incidence(drugs, "colour")
