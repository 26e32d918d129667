"""Validation of the typed tables: what is kept, what is dropped, and that every drop is reported."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from ddi.data.tables import (
    OTHER_TYPE,
    SCHEMAS,
    DropRecord,
    DropReport,
    TableError,
    Tables,
    empty_table,
    normalise_actions,
    validate_drug_protein,
    validate_drugs,
    validate_interaction_types,
    validate_interactions,
    validate_proteins,
)

DRUGS = {"DB1", "DB2", "DB3", "DB4"}
TYPES = {1, 2, 3}


def reasons(report: DropReport, table: str) -> dict[str, int]:
    """reason -> rows dropped for it, for one table."""
    out: dict[str, int] = {}
    for record in report.records:
        if record.table == table:
            out[record.reason] = out.get(record.reason, 0) + record.count
    return out


def rows(df: pd.DataFrame) -> list[tuple]:
    return [tuple(r) for r in df.itertuples(index=False)]


def interactions(*triples: tuple) -> pd.DataFrame:
    return pd.DataFrame(list(triples), columns=["drug1_id", "drug2_id", "type"])


# --- interactions ---------------------------------------------------------------------------------------------


def test_bad_interaction_rows_are_dropped_each_with_its_reason_and_count() -> None:
    raw = interactions(
        ("DB1", "DB2", "1"),  # kept
        ("DB1", "DB3", "2"),  # kept
        ("", "DB2", "1"),  # missing id
        ("DB3", None, "1"),  # missing id
        ("DB1", "DB99", "1"),  # unknown drug
        ("DB98", "DB2", "2"),  # unknown drug
        ("DB2", "DB3", "77"),  # unknown type
        ("DB4", "DB4", "1"),  # self pair
        ("DB1", "DB2", "1"),  # exact repeat
        ("DB2", "DB1", "1"),  # repeat in the other order
        ("DB3", "DB1", "2"),  # repeat in the other order
    )
    report = DropReport()
    out = validate_interactions(raw, report, DRUGS, TYPES)

    assert rows(out) == [("DB1", "DB2", 1), ("DB1", "DB3", 2)]
    assert reasons(report, "interactions") == {
        "with a missing drug id": 2,
        "naming a drug not in the drugs table": 2,
        "with an unknown interaction type": 1,
        "pairing a drug with itself": 1,
        "repeating a pair and type already listed (first kept)": 3,
    }
    assert report.dropped("interactions") == len(raw) - len(out) == 9
    assert report.notes == []


def test_a_pair_listed_with_two_types_is_kept_and_noted() -> None:
    raw = interactions(("DB1", "DB2", 1), ("DB2", "DB1", 3), ("DB3", "DB4", 2))
    report = DropReport()
    out = validate_interactions(raw, report, DRUGS, TYPES)
    assert rows(out) == [("DB1", "DB2", 1), ("DB2", "DB1", 3), ("DB3", "DB4", 2)]
    assert report.records == []
    assert report.notes == ["interactions: 1 pair(s) are listed with a second interaction type (kept)"]


@pytest.mark.parametrize("bad", ["abc", "1.5", "", None, np.nan, "one"])
def test_a_missing_or_non_integer_type_is_dropped(bad: object) -> None:
    raw = interactions(("DB1", "DB2", "1"), ("DB1", "DB3", bad))
    report = DropReport()
    out = validate_interactions(raw, report)
    assert rows(out) == [("DB1", "DB2", 1)]
    assert reasons(report, "interactions") == {"with a missing or non-integer type": 1}


def test_integer_types_written_as_text_or_floats_are_read_as_int64() -> None:
    raw = interactions(("DB1", "DB2", " 3 "), ("DB1", "DB3", "2.0"), ("DB2", "DB3", 1.0), ("DB3", "DB4", 2))
    report = DropReport()
    out = validate_interactions(raw, report, DRUGS, TYPES)
    assert out["type"].dtype == np.int64
    assert out["type"].tolist() == [3, 2, 1, 2]
    assert report.dropped() == 0


def test_ids_are_stripped_before_they_are_checked() -> None:
    report = DropReport()
    out = validate_interactions(interactions((" DB1", "DB2 ", 1)), report, DRUGS, TYPES)
    assert rows(out) == [("DB1", "DB2", 1)]
    assert report.dropped() == 0


def test_a_self_pair_hidden_by_whitespace_is_still_a_self_pair() -> None:
    report = DropReport()
    out = validate_interactions(interactions(("DB1", " DB1 ", 1)), report, DRUGS, TYPES)
    assert out.empty
    assert reasons(report, "interactions") == {"pairing a drug with itself": 1}


def test_without_drug_or_type_sets_only_structural_checks_apply() -> None:
    report = DropReport()
    out = validate_interactions(interactions(("DBX", "DBY", 500), ("DBX", "DBX", 1)), report)
    assert rows(out) == [("DBX", "DBY", 500)]
    assert reasons(report, "interactions") == {"pairing a drug with itself": 1}


def test_extra_columns_are_dropped_and_missing_ones_make_the_rows_unusable() -> None:
    raw = interactions(("DB1", "DB2", 1)).assign(comment="from a paper")
    report = DropReport()
    assert list(validate_interactions(raw, report).columns) == ["drug1_id", "drug2_id", "type"]

    no_type = pd.DataFrame({"drug1_id": ["DB1"], "drug2_id": ["DB2"]})
    out = validate_interactions(no_type, report)
    assert out.empty and list(out.columns) == ["drug1_id", "drug2_id", "type"]
    assert reasons(report, "interactions") == {"with a missing or non-integer type": 1}


def test_drugbank_ids_in_another_letter_case_are_read_upper_case_and_noted() -> None:
    # Before: "db1"-style ids in one file and "DB1" in another lost every pair as "naming an unknown drug".
    report = DropReport()
    raw = interactions(("db00001", "Db00002", 1), ("DB00001", "X-7", 1))
    out = validate_interactions(raw, report, {"DB00001", "DB00002", "X-7"}, TYPES)
    assert rows(out) == [("DB00001", "DB00002", 1), ("DB00001", "X-7", 1)]  # ids of another kind stay as written
    assert report.dropped() == 0
    assert report.notes == [
        "interactions: 2 DrugBank id(s) not written in upper case, read upper-case (e.g. db00001 as DB00001)"
    ]


def test_blank_rows_are_noted_not_dropped_as_bad_rows() -> None:
    raw = interactions(("DB1", "DB2", 1), ("", " ", None), (None, None, None))
    report = DropReport()
    out = validate_interactions(raw, report, DRUGS, TYPES)
    assert rows(out) == [("DB1", "DB2", 1)]
    assert report.records == []
    assert report.notes == ["interactions: 2 blank row(s) ignored"]


def test_the_table_name_given_labels_the_report() -> None:
    report = DropReport()
    validate_interactions(interactions(("DB1", "DB1", 1)), report, table="mysplit/test.tsv")
    assert [r.table for r in report.records] == ["mysplit/test.tsv"]
    assert str(report.records[0]) == "mysplit/test.tsv: 1 row(s) pairing a drug with itself (e.g. DB1)"


def test_an_empty_interactions_frame_validates_to_an_empty_frame() -> None:
    report = DropReport()
    out = validate_interactions(empty_table("interactions"), report, DRUGS, TYPES)
    assert out.empty
    assert list(out.columns) == list(SCHEMAS["interactions"])
    assert str(report) == "nothing dropped"


# --- drugs ----------------------------------------------------------------------------------------------------


def test_drugs_missing_columns_are_added_empty_and_strings_are_never_nan() -> None:
    raw = pd.DataFrame({"drugbank_id": ["DB1", "DB2"], "name": ["Alpha", None], "smiles": ["CCO", np.nan]})
    report = DropReport()
    out = validate_drugs(raw, report)
    assert list(out.columns) == list(SCHEMAS["drugs"])
    assert not out.isna().any().any()
    assert out.loc[1, "name"] == ""
    assert set(out["synonyms"]) == {""}
    assert report.records == []


def test_drugs_without_an_id_or_with_a_repeated_id_are_dropped() -> None:
    raw = pd.DataFrame(
        {
            "drugbank_id": ["DB1", "", None, " DB1 ", "DB2"],
            "name": ["Alpha", "Nameless", "Nothing", "Alpha again", "Beta"],
            "smiles": ["CCO", "C", "C", "CCN", "CCC"],
        }
    )
    report = DropReport()
    out = validate_drugs(raw, report)
    assert out["drugbank_id"].tolist() == ["DB1", "DB2"]
    assert out["name"].tolist() == ["Alpha", "Beta"]  # the first of a repeated id is kept
    assert reasons(report, "drugs") == {"without a drugbank_id": 2, "with a duplicate drugbank_id (first kept)": 1}
    nameless = next(r for r in report.records if r.reason == "without a drugbank_id")
    assert nameless.examples == ("Nameless", "Nothing")  # rows without an id are named by their name


def test_drugs_without_structure_are_kept_and_noted() -> None:
    raw = pd.DataFrame(
        {
            "drugbank_id": ["DB1", "DB2", "DB3", "DB4"],
            "smiles": ["CCO", "", "", None],
            "inchi": ["", "InChI=1S/CH4/h1H4", "", ""],
        }
    )
    report = DropReport()
    out = validate_drugs(raw, report)
    assert out["drugbank_id"].tolist() == ["DB1", "DB2", "DB3", "DB4"]
    assert report.dropped() == 0
    assert len(report.notes) == 1
    note = report.notes[0]
    assert note.startswith("drugs: 2 drug(s) have no SMILES or InChI (kept")
    assert note.endswith("DB3, DB4")


# --- interaction types, drug-protein relations, proteins ------------------------------------------------------


def test_interaction_types_need_both_placeholders_a_known_subject_and_a_unique_id() -> None:
    raw = pd.DataFrame(
        {
            "type": ["1", "2", "3", "4", "1", "x"],
            "template": [
                "#Drug1 increases #Drug2.",
                "#Drug1 increases something.",
                "#Drug2 is decreased by #Drug1.",
                "#Drug1 and #Drug2.",
                "#Drug1 duplicates #Drug2.",
                "#Drug1 x #Drug2.",
            ],
            "subject": ["1", "1", "2", "4", "3", "1"],
        }
    )
    report = DropReport()
    out = validate_interaction_types(raw, report)
    assert out["type"].tolist() == [1, 3]
    assert out["subject"].tolist() == [1, 2]
    assert reasons(report, "interaction_types") == {
        "with a missing or non-integer type/subject": 1,
        "whose template lacks #Drug1 or #Drug2": 1,
        "with subject not in 1/2/3": 1,
        "with a duplicate type id": 1,
    }
    assert "deepddi_name" in out.columns


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("type", ["0", "1"], "interaction_types: type 0 is reserved for interactions that match no template"),
        ("subject", ["2", "0"], "interaction_types: type 2 has subject 0; subject is 1"),
    ],
)
def test_interaction_types_numbered_from_0_are_refused_as_a_whole(column: str, values: list, message: str) -> None:
    # Before: type 0 read as "no benchmark type" (its pairs in no split); subjects 0/1/2 read as directions 1/2.
    raw = pd.DataFrame({"type": ["1", "2"], "template": ["#Drug1 up #Drug2."] * 2, "subject": ["1", "1"]})
    raw[column] = values
    with pytest.raises(TableError, match=message) as info:
        validate_interaction_types(raw, DropReport())
    assert info.value.table == "interaction_types"


def test_template_placeholders_are_read_in_any_letter_case() -> None:
    raw = pd.DataFrame({"type": [1, 2], "template": ["#drug1 up #DRUG2.", "#Drug2 down by #dRuG1."], "subject": [1, 2]})
    report = DropReport()
    out = validate_interaction_types(raw, report)
    assert out["template"].tolist() == ["#Drug1 up #Drug2.", "#Drug2 down by #Drug1."]
    assert report.dropped() == 0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Inhibitor, competitive|SUBSTRATE", "inhibitor|substrate"),
        ("inhibitor;Inducer | inducer||", "inhibitor|inducer"),
        ("Antagonist|antagonist|Agonist", "antagonist|agonist"),
        ("inhibitor (weak)|Negative Modulator", "inhibitor|negative modulator"),
        ("", ""),
        ("  |  ", ""),
    ],
)
def test_actions_are_normalised(raw: str, expected: str) -> None:
    assert normalise_actions(raw) == expected


def test_drug_protein_rows_are_normalised_and_bad_ones_dropped() -> None:
    raw = pd.DataFrame(
        {
            "drugbank_id": ["DB1", "DB1", "DB2", "DB2", "", "DB3", "DB9"],
            "category": ["Enzyme", "enzyme", "TARGET", "receptor", "target", "carrier", "transporter"],
            "uniprot_id": ["P1", "P1", "P2", "P3", "P4", "", "P5"],
            "entrez_gene_id": ["0123", "0123", "", "", "", "", ""],
            "actions": ["Inhibitor, competitive|SUBSTRATE", "inhibitor", "Agonist", "", "", "", "substrate"],
        }
    )
    report = DropReport()
    out = validate_drug_protein(raw, report, drug_ids={"DB1", "DB2", "DB3"})
    assert rows(out[["drugbank_id", "category", "uniprot_id", "actions"]]) == [
        ("DB1", "enzyme", "P1", "inhibitor|substrate"),
        ("DB2", "target", "P2", "agonist"),
        ("DB9", "transporter", "P5", "substrate"),
    ]
    assert out["entrez_gene_id"].tolist() == ["0123", "", ""]  # ids stay strings
    assert reasons(report, "drug_protein") == {
        "with a missing id": 2,
        "with an unknown category": 1,
        "repeating a relation": 1,
    }
    assert report.notes == ["drug_protein: 1 relation(s) concern drugs outside the drugs table (kept)"]


def test_proteins_without_an_id_or_with_a_repeated_id_are_dropped() -> None:
    raw = pd.DataFrame({"uniprot_id": ["P1", "", "P1", "P2"], "protein_name": ["a", "b", "c", "d"]})
    report = DropReport()
    out = validate_proteins(raw, report)
    assert rows(out[["uniprot_id", "protein_name"]]) == [("P1", "a"), ("P2", "d")]
    assert reasons(report, "proteins") == {"without a uniprot_id": 1, "with a duplicate uniprot_id": 1}
    assert list(out.columns) == list(SCHEMAS["proteins"])


# --- Tables.validated -----------------------------------------------------------------------------------------


def make_tables() -> Tables:
    return Tables(
        drugs=pd.DataFrame(
            {
                "drugbank_id": ["DB1", "DB2", "DB3", "", "DB2"],
                "name": ["Alpha", "Beta", "Gamma", "Nameless", "Beta again"],
                "smiles": ["CCO", "CCN", "", "C", "C"],
            }
        ),
        interaction_types=pd.DataFrame(
            {"type": [1, 2], "template": ["#Drug1 up #Drug2.", "#Drug2 down by #Drug1."], "subject": [1, 2]}
        ),
        interactions=interactions(
            ("DB1", "DB2", 1),
            ("DB2", "DB3", 2),
            ("DB1", "DB3", OTHER_TYPE),  # no benchmark type, kept
            ("DB1", "DB2", 99),  # unknown type
            ("DB3", "DB7", 1),  # unknown drug
            ("DB2", "DB1", 1),  # repeat
        ),
        drug_protein=pd.DataFrame(
            {"drugbank_id": ["DB1"], "category": ["enzyme"], "uniprot_id": ["P1"], "actions": ["SUBSTRATE"]}
        ),
        proteins=pd.DataFrame({"uniprot_id": ["P1"], "gene_name": ["CYP3A4"]}),
        source="hand-made",
    )


def test_validated_checks_interactions_against_the_validated_drugs_and_types() -> None:
    raw = make_tables()
    tables, report = raw.validated()
    assert tables.counts() == {
        "drugs": 3,
        "interaction_types": 2,
        "interactions": 3,
        "drug_protein": 1,
        "proteins": 1,
    }
    assert rows(tables.interactions) == [("DB1", "DB2", 1), ("DB2", "DB3", 2), ("DB1", "DB3", OTHER_TYPE)]
    assert reasons(report, "drugs") == {"without a drugbank_id": 1, "with a duplicate drugbank_id (first kept)": 1}
    assert reasons(report, "interactions") == {
        "naming a drug not in the drugs table": 1,
        "with an unknown interaction type": 1,
        "repeating a pair and type already listed (first kept)": 1,
    }
    assert report.dropped() == 5
    assert any(n.startswith("drugs: 1 drug(s) have no SMILES or InChI") and "DB3" in n for n in report.notes)
    assert tables.drug_protein.loc[0, "actions"] == "substrate"
    assert tables.source == "hand-made"
    assert tables.drug_index == {"DB1": 0, "DB2": 1, "DB3": 2}


def test_validated_notes_the_pairs_of_type_0_that_no_split_uses() -> None:
    _, report = make_tables().validated()
    assert "interactions: 1 pair(s) of type 0 (no benchmark type; kept, left out of every split)" in report.notes


def test_validated_leaves_the_input_tables_untouched() -> None:
    raw = make_tables()
    before = {name: getattr(raw, name).copy() for name in SCHEMAS}
    raw.validated()
    for name, df in before.items():
        pd.testing.assert_frame_equal(getattr(raw, name), df)


def test_validating_twice_changes_nothing_more() -> None:
    tables, _ = make_tables().validated()
    again, report = tables.validated()
    assert report.dropped() == 0
    for name in SCHEMAS:
        pd.testing.assert_frame_equal(getattr(again, name), getattr(tables, name))


# --- Tables.restricted_to_drugs ------------------------------------------------------------------------------


def test_restricting_to_a_drug_subset_keeps_only_its_drugs_pairs_and_relations() -> None:
    tables, _ = make_tables().validated()
    tables = replace(
        tables,
        drug_protein=pd.concat(
            [tables.drug_protein, tables.drug_protein.assign(drugbank_id="DB2", uniprot_id="P2")], ignore_index=True
        ),
    )
    sub, report = tables.restricted_to_drugs(["DB3", "DB1"])
    assert sub.drugs["drugbank_id"].tolist() == ["DB1", "DB3"]  # the tables' order, not the argument's
    assert rows(sub.interactions) == [("DB1", "DB3", OTHER_TYPE)]
    assert sub.drug_protein["drugbank_id"].tolist() == ["DB1"]  # DB2's relation is gone
    pd.testing.assert_frame_equal(sub.proteins, tables.proteins)
    pd.testing.assert_frame_equal(sub.interaction_types, tables.interaction_types)
    assert sub.source == tables.source
    assert reasons(report, "drugs") == {"outside the drug subset": 1}
    assert reasons(report, "interactions") == {"with a drug outside the drug subset": 2}
    assert reasons(report, "drug_protein") == {"of a drug outside the drug subset": 1}
    assert report.notes == ["drug subset: 2 of 3 drugs"]
    assert len(tables.drugs) == 3 and len(tables.interactions) == 3  # the input is untouched


def test_restricting_to_every_drug_removes_nothing_and_an_unknown_drug_is_an_error() -> None:
    tables, _ = make_tables().validated()
    same, report = tables.restricted_to_drugs(tables.drugs["drugbank_id"])
    assert report.dropped() == 0
    for name in SCHEMAS:
        pd.testing.assert_frame_equal(getattr(same, name), getattr(tables, name))
    with pytest.raises(ValueError, match="DB7"):
        tables.restricted_to_drugs(["DB1", "DB7"])


# --- the report -----------------------------------------------------------------------------------------------


def test_the_report_reads_as_one_line_per_drop_then_the_notes() -> None:
    report = DropReport()
    report.add("drugs", "without a name", ["DB1", "DB2", "DB3", "DB4"])
    report.add("drugs", "never recorded", [])
    report.add("proteins", "odd", pd.DataFrame({"uniprot_id": ["P1"]}), key="uniprot_id")
    report.notes.append("a note")
    assert report.records == [
        DropRecord("drugs", "without a name", 4, ("DB1", "DB2", "DB3")),
        DropRecord("proteins", "odd", 1, ("P1",)),
    ]
    assert str(report) == (
        "drugs: 4 row(s) without a name (e.g. DB1, DB2, DB3)\nproteins: 1 row(s) odd (e.g. P1)\na note"
    )
    assert report.dropped() == 5
    assert report.dropped("proteins") == 1
    assert report.dropped("interactions") == 0


def test_the_report_logs_drops_as_warnings_and_exact_repeats_as_information(caplog: pytest.LogCaptureFixture) -> None:
    report = DropReport()
    report.add("drugs", "without a name", ["DB1"])
    report.add("drug_protein", "repeating a relation", ["DB2"], repeat=True)
    report.notes.append("a note")
    with caplog.at_level("INFO", logger="ddi.data.tables"):
        report.log()
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "dropped drugs: 1 row(s) without a name (e.g. DB1)"),
        ("INFO", "dropped drug_protein: 1 row(s) repeating a relation (e.g. DB2)"),
        ("INFO", "a note"),
    ]


def test_repeated_rows_are_marked_as_repeats_and_other_drops_are_not() -> None:
    report = DropReport()
    validate_drug_protein(
        pd.DataFrame(
            {
                "drugbank_id": ["DB1", "DB1", ""],
                "category": ["target", "target", "enzyme"],
                "uniprot_id": ["P1", "P1", "P2"],
                "actions": ["", "", ""],
            }
        ),
        report,
    )
    repeats = {(r.reason, r.repeat) for r in report.records}
    assert repeats == {("repeating a relation", True), ("with a missing id", False)}


def test_empty_tables_have_the_schema_columns_and_integer_id_columns() -> None:
    for name, schema in SCHEMAS.items():
        df = empty_table(name)
        assert list(df.columns) == list(schema)
        for col, kind in schema.items():
            assert (df[col].dtype == np.int64) == (kind == "int")


def test_a_bad_type_is_named_as_written_and_a_huge_one_does_not_overflow():
    # Before: the example was the row's drug id, and "1e30" overflowed into "unknown type -9223372036854775808".
    from ddi.data.tables import DropReport, validate_interactions

    raw = pd.DataFrame(
        {"drug1_id": ["DB1", "DB2", "DB3", "DB4"], "drug2_id": ["DB5"] * 4, "type": ["3", "abc", "1e30", None]}
    )
    report = DropReport()
    kept = validate_interactions(raw, report, {"DB1", "DB2", "DB3", "DB4", "DB5"}, {3})
    assert kept["type"].tolist() == [3]
    [record] = report.records
    assert (record.reason, record.count) == ("with a missing or non-integer type", 3)
    assert record.examples == ("type='abc'", "type='1e30'", "type=''")
