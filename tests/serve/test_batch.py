"""Batch scoring: every row comes back in order with its prediction or its error, in any file format."""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd
import pytest
import torch

from ddi.errors import UserInputError
from ddi.predict.predictor import Predictor
from ddi.serve.batch import BatchInputError, find_drug_columns, output_columns, score_file, score_table

needs_structures = pytest.mark.skipif(
    not hasattr(Predictor, "register_structure"), reason="Predictor.register_structure is not available yet"
)

ROWS = [
    # (drug1, drug2, note, bad?)
    ("Simvastatin", "clarithromycin", "known pair", False),
    ("warfarin", "DB00945", "id and name", False),
    ("simvastatinn", "warfarin", "typo", True),
    ("C1CC(", "warfarin", "broken SMILES", True),
    ("", "warfarin", "empty cell", True),
    ("aspirin", "Acetylsalicylic acid", "same drug twice", True),
    ("DB00641", "DB01211", "known pair by id", False),
    ("xyzzy", "qqqq", "both unknown", True),
]


@pytest.fixture
def pairs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": [str(i) for i in range(len(ROWS))],
            "Drug 1": [r[0] for r in ROWS],
            "comment": [r[2] for r in ROWS],
            "Drug 2": [r[1] for r in ROWS],
        }
    )


def test_every_row_comes_back_in_order_with_its_columns(predictor, resolver, pairs):
    out = score_table(pairs, predictor, resolver)
    assert len(out) == len(pairs)
    assert list(out.columns) == [*pairs.columns, *output_columns(3)]
    pd.testing.assert_frame_equal(out[pairs.columns], pairs)
    bad = np.array([r[3] for r in ROWS])
    assert (out["error"] != "").tolist() == bad.tolist()
    assert out.loc[~bad, "predicted_type"].notna().all()
    assert out.loc[bad, "predicted_type"].isna().all()
    assert out.loc[bad, "probability"].isna().all()
    assert (out.loc[~bad, "basis"] == "graph").all()


def test_errors_say_which_cell_and_why(predictor, resolver, pairs):
    errors = score_table(pairs, predictor, resolver)["error"].tolist()
    assert errors[2].startswith("Drug 1: unknown drug 'simvastatinn'; did you mean Simvastatin (DB00641)")
    assert errors[3] == "Drug 1: invalid SMILES: syntax error in 'C1CC('"
    assert errors[4] == "Drug 1: empty cell"
    assert errors[5] == "Drug 1 and Drug 2 are the same drug (Acetylsalicylic acid)"
    assert errors[7] == "Drug 1: unknown drug 'xyzzy'; Drug 2: unknown drug 'qqqq'"


def test_the_good_side_of_a_bad_row_is_still_named(predictor, resolver, pairs):
    row = score_table(pairs, predictor, resolver).iloc[2]
    assert (row["drug1_id"], row["drug2_id"], row["drug2_name"]) == ("", "DB00682", "Warfarin")


def test_predictions_match_the_predictor(predictor, resolver, pairs):
    out = score_table(pairs, predictor, resolver, top_k=4)
    for i in (0, 1, 6):
        row = out.iloc[i]
        expected = predictor.predict_pairs([(row["drug1_id"], row["drug2_id"])], top_k=4)[0]
        assert row["predicted_type"] == expected.type_id
        assert row["probability"] == pytest.approx(expected.probability, abs=1e-4)
        assert row["exists_score"] == pytest.approx(expected.exists, abs=1e-4)
        assert row["sentence"] == expected.sentence
        assert row["top4_types"] == "|".join(f"{t}:{p:.4f}" for t, p, _ in expected.top)
    assert re.fullmatch(r"(\d+:0\.\d{4}\|){3}\d+:0\.\d{4}", out["top4_types"].iloc[0])


def test_known_pairs_show_the_drugbank_type_in_its_orientation(predictor, resolver, pairs):
    out = score_table(pairs, predictor, resolver)
    sentence = "The serum concentration of Simvastatin can be increased when it is combined with Clarithromycin."
    for i in (0, 6):
        assert (out["known_type"].iloc[i], out["known_sentence"].iloc[i]) == ("73", sentence)
    # The other order of the same pair is the same DrugBank fact.
    flipped = score_table(pd.DataFrame({"drug1": ["clarithromycin"], "drug2": ["simvastatin"]}), predictor, resolver)
    assert flipped["known_sentence"].iloc[0] == sentence


def test_a_row_scores_the_same_alone_or_in_a_crowd(predictor, resolver, benchmark_tables):
    ids = benchmark_tables.drugs["drugbank_id"].sample(60, random_state=1).tolist()
    crowd = pd.DataFrame({"drug1": ids[:30] * 2, "drug2": ids[30:] * 2})  # every pair twice
    out = score_table(crowd, predictor, resolver)
    for column in ("predicted_type", "top3_types", "sentence"):
        assert out[column].iloc[:30].tolist() == out[column].iloc[30:].tolist()
    alone = score_table(crowd.iloc[[7]], predictor, resolver)
    assert alone["top3_types"].iloc[0] == out["top3_types"].iloc[7]
    assert alone.index.tolist() == [7]


@needs_structures
def test_smiles_of_a_new_molecule_is_scored_by_its_structure(predictor, resolver):
    df = pd.DataFrame({"drug1": ["c1ccc2c(c1)oc1ccccc12", "CC(=O)OC1=CC=CC=C1C(O)=O"], "drug2": ["warfarin"] * 2})
    out = score_table(df, predictor, resolver)
    assert out["error"].tolist() == ["", ""]
    assert out["drug1_id"].iloc[0].startswith("structure:")
    assert out["basis"].tolist() == ["structure", "graph"]  # aspirin's SMILES is the model's aspirin
    assert out["drug1_id"].iloc[1] == "DB00945"
    assert 0 < out["probability"].iloc[0] <= 1


@needs_structures
def test_a_smiles_column_reads_short_chains_as_molecules(predictor, resolver):
    # In a column named "drug1" the text "CCO" is read as a name (and is unknown); in a SMILES column it is ethanol.
    smiles = ["CCO", "smiles:CCO", "C1CC", "", "DB00898"]  # a DrugBank id stays an id
    out = score_table(pd.DataFrame({"drug1_smiles": smiles, "drug2": ["warfarin"] * 5}), predictor, resolver)
    assert out["drug1_id"].tolist()[:2] == ["DB00898", "DB00898"] and out["drug1_id"].iloc[4] == "DB00898"
    assert out["error"].tolist()[:2] == ["", ""] and out["error"].iloc[4] == ""
    assert "invalid SMILES" in out["error"].iloc[2] and out["error"].iloc[3] == "drug1_smiles: empty cell"
    assert out["drug1_smiles"].tolist() == smiles  # the input cells come back as given
    named = score_table(pd.DataFrame({"drug1": ["CCO"], "drug2": ["warfarin"]}), predictor, resolver)
    assert "write it as 'smiles:CCO'" in named["error"].iloc[0]


@needs_structures
def test_a_catalogue_drug_outside_the_model_is_scored_by_its_inchi(predictor, resolver):
    out = score_table(pd.DataFrame({"drug1": ["Phenol", "Lepirudin"], "drug2": ["warfarin"] * 2}), predictor, resolver)
    assert (out["drug1_id"].iloc[0], out["basis"].iloc[0], out["error"].iloc[0]) == ("DB03255", "structure", "")
    assert out["error"].iloc[1] == "drug1: Lepirudin (DB00001) is not a drug of the model and has no structure"


def test_explain_adds_paths_and_rules(predictor, resolver):
    pairs = pd.DataFrame({"drug1": ["simvastatin", "c1ccc2ccccc2c1", "xyzzy"], "drug2": ["clarithromycin"] * 3})
    out = score_table(pairs, predictor, resolver, explain=True)
    assert {"paths", "rules"} <= set(out.columns)
    expected = predictor.explain_paths(predictor.node_of["DB00641"], predictor.node_of["DB01211"], 3)
    assert out["paths"].iloc[0] == " | ".join(f"{p.text} ({p.weight:.2f})" for p in expected)
    rules = out["rules"].iloc[0].split(" | ")
    assert "Clarithromycin inhibits CYP3A4" in out["rules"].iloc[0] and len(rules) >= 2
    # a drug known only by its structure has no proteins in the graph, and a failed row has nothing to explain
    assert out["rules"].iloc[1:].tolist() == ["", ""]


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["drug1", "drug2"], ("drug1", "drug2")),
        (["Drug A", "Drug B"], ("Drug A", "Drug B")),
        (["x", "drug_1", "drug_2"], ("drug_1", "drug_2")),
        (["DRUG1_ID", "DRUG2_ID"], ("DRUG1_ID", "DRUG2_ID")),
        (["drug1_name", "drug2_name", "drug1_id", "drug2_id"], ("drug1_id", "drug2_id")),  # ids first
        (["smiles1", "smiles2"], ("smiles1", "smiles2")),
        (["Medication 1", "Medication 2"], ("Medication 1", "Medication 2")),
        # pharmacology's roles: the acting drug is drug 1, whichever column comes first
        (["Object drug", "Precipitant drug", "Severity"], ("Precipitant drug", "Object drug")),
        (["victim", "perpetrator"], ("perpetrator", "victim")),
        # a header naming one drug column twice ("Drug,Drug"), as pandas reads it
        (["Pair", "Drug", "Drug.1"], ("Drug", "Drug.1")),
        (["medication", "Medication.1", "dose"], ("medication", "Medication.1")),
    ],
)
def test_drug_columns_are_found_by_name(columns, expected):
    assert find_drug_columns(columns) == expected


def test_missing_drug_columns_list_the_columns():
    with pytest.raises(BatchInputError, match=r"no drug columns found; the columns are 'a', 'b'.*--cols A B$"):
        find_drug_columns(["a", "b"])
    # A medication list (one drug per row) is pointed to the regimen check.
    with pytest.raises(BatchInputError, match=r"'Patient', 'Medication'.*checked with `ddi regimen --file`$"):
        find_drug_columns(["Patient", "Medication"])
    with pytest.raises(BatchInputError, match="no column 'c'"):
        find_drug_columns(["a", "b"], ("a", "c"))
    with pytest.raises(BatchInputError, match="must differ"):
        find_drug_columns(["a", "b"], ("a", "A"))


def test_explicit_columns(predictor, resolver):
    df = pd.DataFrame({"first": ["simvastatin"], "second": ["clarithromycin"], "drug1": ["ignored"]})
    out = score_table(df, predictor, resolver, cols=("first", "second"))
    assert (out["drug1_id"].iloc[0], out["error"].iloc[0]) == ("DB00641", "")


def test_appended_columns_never_overwrite_input_columns(predictor, resolver):
    df = pd.DataFrame({"drug1_id": ["DB00641"], "drug2_id": ["DB01211"], "error": ["mine"]})
    out = score_table(df, predictor, resolver)
    assert out["error"].iloc[0] == "mine"
    assert (out["ddi_drug1_id"].iloc[0], out["ddi_error"].iloc[0]) == ("DB00641", "")


def test_non_text_cells_are_read_as_text(predictor, resolver):
    df = pd.DataFrame({"drug1": ["simvastatin", None, 12.5], "drug2": ["warfarin", "warfarin", np.nan]})
    out = score_table(df, predictor, resolver)
    assert out["error"].tolist() == ["", "drug1: empty cell", "drug1: unknown drug '12.5'; drug2: empty cell"]


# --------------------------------------------------------------------------------------------------- files


def _write(pairs: pd.DataFrame, path) -> None:
    if path.suffix == ".parquet":
        pairs.to_parquet(path, index=False)
    else:
        pairs.to_csv(path, sep="\t" if path.suffix == ".tsv" else ",", index=False)


def _read(path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, sep="\t" if path.suffix == ".tsv" else ",", dtype=str, keep_default_na=False)


@pytest.mark.parametrize(("source", "target"), [("csv", "csv"), ("tsv", "parquet"), ("parquet", "tsv")])
def test_files_round_trip_in_chunks(predictor, resolver, pairs, tmp_path, source, target):
    in_path, out_path = tmp_path / f"pairs.{source}", tmp_path / f"scored.{target}"
    _write(pairs, in_path)
    summary = score_file(in_path, out_path, predictor, resolver, chunksize=3, progress=False)
    assert (summary.rows, summary.scored, summary.failed) == (8, 3, 5)
    out = _read(out_path)
    expected = score_table(pairs, predictor, resolver)
    assert list(out.columns) == list(expected.columns)
    assert out[pairs.columns].astype(str).values.tolist() == pairs.values.tolist()
    assert out["error"].fillna("").tolist() == expected["error"].tolist()
    assert out["sentence"].fillna("").tolist() == expected["sentence"].tolist()
    assert pd.to_numeric(out["predicted_type"]).tolist()[:2] == expected["predicted_type"].tolist()[:2]
    assert not list(tmp_path.glob(".*partial"))


def test_a_semicolon_csv_from_a_spreadsheet_is_read(predictor, resolver, tmp_path):
    in_path = tmp_path / "pairs.csv"
    in_path.write_text("\ufeffdrug1;drug2\nsimvastatin;clarithromycin\n", encoding="utf-8")
    score_file(in_path, tmp_path / "out.csv", predictor, resolver, progress=False)
    out = _read(tmp_path / "out.csv")
    assert (out["drug1_id"].iloc[0], out["drug2_id"].iloc[0]) == ("DB00641", "DB01211")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        # Excel's "Unicode text" export: UTF-16 with a byte-order mark, tab-separated
        ("pairs.txt", "drug1\tdrug2\r\nsimvastatin\tclarithromycin\r\nwarfarin\tnot a drug\r\n".encode("utf-16")),
        # the same without the byte-order mark, as some tools write it, in either byte order
        ("pairs.csv", "drug1,drug2\nsimvastatin,clarithromycin\nwarfarin,not a drug\n".encode("utf-16-le")),
        ("pairs.csv", "drug1,drug2\nsimvastatin,clarithromycin\nwarfarin,not a drug\n".encode("utf-16-be")),
        ("pairs.csv", b"sep=;\n\n\ndrug1;drug2\nsimvastatin;clarithromycin\n\nwarfarin;not a drug\n"),
        # Excel's separator hint as the first line, before the header
        ("pairs.csv", b"sep=;\r\ndrug1;drug2\r\nsimvastatin;clarithromycin\r\nwarfarin;not a drug\r\n"),
        ("pairs.csv", b'"sep=,"\ndrug1,drug2\nsimvastatin,clarithromycin\nwarfarin,not a drug\n'),
        ("pairs.csv", b"sep=\t\ndrug1\tdrug2\nsimvastatin\tclarithromycin\nwarfarin\tnot a drug\n"),
        # a comma-separated text file
        ("pairs.txt", b"drug1,drug2\nsimvastatin,clarithromycin\nwarfarin,not a drug\n"),
    ],
)
def test_spreadsheet_exports_are_read_with_their_encoding_and_separator(predictor, resolver, tmp_path, name, content):
    in_path = tmp_path / name
    in_path.write_bytes(content)
    summary = score_file(in_path, tmp_path / "out.csv", predictor, resolver, progress=False)
    out = _read(tmp_path / "out.csv")
    assert (summary.rows, summary.failed) == (2, 1)
    assert list(out.columns[:2]) == ["drug1", "drug2"]
    assert out["drug1_id"].tolist() == ["DB00641", "DB00682"]
    assert out["drug2_id"].iloc[0] == "DB01211"
    assert out["error"].iloc[1] == "drug2: unknown drug 'not a drug'"


@pytest.mark.parametrize("header_only", [False, True])
def test_the_output_header_repeats_the_input_header_as_written(predictor, resolver, tmp_path, header_only):
    # pandas reads a blank or repeated name as "Unnamed: 3" or "note.1"; a user joins the output back on the
    # names they wrote. Parquet needs unique names, so there the renamed ones stay.
    in_path = tmp_path / "pairs.csv"
    in_path.write_text("Drug,Drug,note,,note\n" + ("" if header_only else "simvastatin,warfarin,a,b,c\n"))
    score_file(in_path, tmp_path / "out.csv", predictor, resolver, progress=False)
    header = (tmp_path / "out.csv").read_text().splitlines()[0].split(",")
    assert header[:6] == ["Drug", "Drug", "note", "", "note", "drug1_id"]
    if not header_only:
        assert _read(tmp_path / "out.csv")["drug2_id"].tolist() == ["DB00682"]
        score_file(in_path, tmp_path / "out.parquet", predictor, resolver, progress=False)
        assert list(pd.read_parquet(tmp_path / "out.parquet").columns[:5]) == [
            "Drug",
            "Drug.1",
            "note",
            "Unnamed: 3",
            "note.1",
        ]


def test_short_rows_are_scored_as_empty_cells(predictor, resolver, tmp_path):
    in_path = tmp_path / "pairs.csv"
    in_path.write_text("drug1,drug2,note\nsimvastatin\nsimvastatin,warfarin,ok\n")
    summary = score_file(in_path, tmp_path / "out.csv", predictor, resolver, progress=False)
    assert (summary.rows, summary.failed) == (2, 1)
    assert _read(tmp_path / "out.csv")["error"].tolist() == ["drug2: empty cell", ""]


def test_a_header_only_file_gives_a_header_only_output(predictor, resolver, tmp_path):
    in_path = tmp_path / "pairs.csv"
    in_path.write_text("drug1,drug2\n")
    summary = score_file(in_path, tmp_path / "out.csv", predictor, resolver, progress=False)
    assert summary.rows == 0
    assert (tmp_path / "out.csv").read_text().startswith("drug1,drug2,drug1_id,drug1_name,")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("pairs.csv", b"", "the file is empty"),
        ("pairs.csv", bytes(range(256)) * 40, "binary content, not a CSV text file"),
        ("pairs.csv", b"PAR1\x15\x04garbage", "binary content"),
        ("pairs.csv", b"\n\n\n", "no header row"),
        ("pairs.csv", b"a,b\n1,2\n", "no drug columns found; the columns are 'a', 'b'"),
        ("pairs.csv", b"DB00641,DB01211\nDB00945,DB00682\n", "no drug columns found"),
        ("pairs.parquet", b"drug1,drug2\nx,y\n", "not a readable Parquet file"),
        ("pairs.xlsx", b"PK\x03\x04whatever", "a spreadsheet workbook; save the sheet as CSV"),
        ("pairs.json", b"[]", "unsupported file type; use .csv, .tsv or .parquet"),
        ("pairs.csv", b'drug1,"drug2\nx,y\n', 'the header row (line 1) has a quote (") that is not closed'),
    ],
)
def test_unreadable_input_gives_one_clear_error(predictor, resolver, tmp_path, name, content, message):
    in_path = tmp_path / name
    in_path.write_bytes(content)
    with pytest.raises(BatchInputError, match=re.escape(message)):
        score_file(in_path, tmp_path / "out.csv", predictor, resolver, progress=False)
    assert not (tmp_path / "out.csv").exists()


def test_a_ragged_row_fails_alone_and_names_its_line(predictor, resolver, tmp_path):
    in_path = tmp_path / "pairs.csv"
    good = "simvastatin,warfarin\n" * 5
    in_path.write_text("drug1,drug2\n" + good + "aspirin,warfarin,extra,cells\n" + good)
    summary = score_file(in_path, tmp_path / "out.csv", predictor, resolver, chunksize=2, progress=False)
    out = _read(tmp_path / "out.csv")
    assert (summary.rows, summary.failed) == (11, 1)
    assert out["error"].tolist()[5].startswith("line 7 has 4 cells but the header has 2; quote cells")
    # Its cells may be in the wrong columns, so it is shown as read but not scored.
    assert out.loc[5, ["drug1", "drug2", "drug1_id", "predicted_type"]].fillna("").tolist() == [
        "aspirin",
        "warfarin",
        "",
        "",
    ]
    assert out.drop(index=5)["predicted_type"].notna().all()


def test_extra_cells_in_the_first_row_fail_that_row_without_shifting_the_others(predictor, resolver, tmp_path):
    # pandas would read the two extra cells as the header and the first two as an index, moving every cell of
    # the file one column over without a word.
    in_path = tmp_path / "pairs.csv"
    in_path.write_text("drug1,drug2\nsimvastatin,warfarin,extra,cells\naspirin,warfarin\n")
    score_file(in_path, tmp_path / "out.csv", predictor, resolver, progress=False)
    out = _read(tmp_path / "out.csv")
    assert out["drug1"].tolist() == ["simvastatin", "aspirin"]
    assert out["error"].tolist()[0].startswith("line 2 has 4 cells")
    assert out["error"].tolist()[1] == ""


@pytest.mark.parametrize(
    ("content", "first_error"),
    [
        # the quote is never closed: the reader would take every later line into one cell
        ('drug1,drug2\nsimvastatin,warfarin\n"aspirin,warfarin\nibuprofen,warfarin\n', "line 3: a quote"),
        # closed two lines later: the merged cell names the likely cause
        ('drug1,drug2\nsimvastatin,warfarin\n"aspirin\nx",warfarin\n', "drug1: the cell spans several lines"),
    ],
)
def test_an_unbalanced_quote_fails_its_row_and_keeps_the_rest(predictor, resolver, tmp_path, content, first_error):
    in_path = tmp_path / "pairs.csv"
    in_path.write_text(content)
    summary = score_file(in_path, tmp_path / "out.csv", predictor, resolver, progress=False)
    out = _read(tmp_path / "out.csv")
    assert out["error"].iloc[0] == ""
    assert out["error"].iloc[1].startswith(first_error)
    assert summary.failed == 1
    if "ibuprofen" in content:  # the line after the unclosed quote is read and scored on its own
        assert out["drug1"].tolist() == ["simvastatin", '"aspirin', "ibuprofen"]
        assert out["error"].iloc[2] == ""


@pytest.mark.parametrize(
    ("content", "errors"),
    [
        # in the first data row: only the header is read before the rows, so the file is not refused
        ('drug1,drug2\nsimvastatin,"warfarin\naspirin,warfarin\n', ['line 2: a quote (") opens here and is never', ""]),
        # closed by the quote of a later row's note: the rows between are rows, not one cell
        (
            'drug1,drug2,note\nsimvastatin,"warfarin,a\naspirin,warfarin,b\nibuprofen,warfarin,"two\nlines"\n'
            "clopidogrel,omeprazole,c\n",
            ['line 2: a quote (") opens here and closes only on line 4', "", "", ""],
        ),
        # a note's line breaks and commas, quoted properly: one row
        ('drug1,drug2,note\nsimvastatin,warfarin,"take with food,\nthen check INR"\naspirin,warfarin,x\n', ["", ""]),
    ],
)
def test_a_stray_quote_loses_no_row(predictor, resolver, tmp_path, content, errors):
    in_path = tmp_path / "pairs.csv"
    in_path.write_text(content)
    summary = score_file(in_path, tmp_path / "out.csv", predictor, resolver, chunksize=2, progress=False)
    out = _read(tmp_path / "out.csv")
    assert summary.rows == len(out) == len(errors)
    for error, expected in zip(out["error"].tolist(), errors, strict=True):
        assert error.startswith(expected) if expected else error == ""


def test_an_oversized_cell_fails_its_row_only(predictor, resolver, tmp_path):
    in_path = tmp_path / "pairs.csv"
    in_path.write_text("drug1,drug2\n" + "x" * 200_000 + ",warfarin\naspirin,warfarin\n")
    summary = score_file(in_path, tmp_path / "out.csv", predictor, resolver, progress=False)
    out = _read(tmp_path / "out.csv")
    assert (summary.rows, summary.failed) == (2, 1)
    assert out["error"].iloc[0].startswith("line 2 cannot be read (field larger than field limit")
    assert out["error"].iloc[1] == ""


def test_a_windows_1252_csv_keeps_its_accents(predictor, resolver, tmp_path):
    in_path = tmp_path / "pairs.csv"
    in_path.write_bytes("drug1;drug2;note\nsimvastatin;clarithromycin;vérifié\n".encode("cp1252"))
    summary = score_file(in_path, tmp_path / "out.csv", predictor, resolver, progress=False)
    out = _read(tmp_path / "out.csv")
    assert (summary.rows, summary.failed) == (1, 0)
    assert out["note"].tolist() == ["vérifié"]
    assert (out["drug1_id"].iloc[0], out["drug2_id"].iloc[0]) == ("DB00641", "DB01211")


def test_missing_file_oversized_file_and_self_overwrite(predictor, resolver, tmp_path):
    with pytest.raises(BatchInputError, match="no such file"):
        score_file(tmp_path / "nope.csv", tmp_path / "out.csv", predictor, resolver, progress=False)
    in_path = tmp_path / "pairs.csv"
    in_path.write_text("drug1,drug2\nsimvastatin,warfarin\n")
    with pytest.raises(BatchInputError, match="over the"):
        score_file(in_path, tmp_path / "out.csv", predictor, resolver, progress=False, max_bytes=10)
    with pytest.raises(BatchInputError, match="would overwrite the input"):
        score_file(in_path, in_path, predictor, resolver, progress=False)
    with pytest.raises(UserInputError, match="unsupported file type"):
        score_file(in_path, tmp_path / "out.json", predictor, resolver, progress=False)
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(BatchInputError, match="is a directory"):
        score_file(in_path, tmp_path / "dir.csv", predictor, resolver, progress=False)


def test_precomputed_drug_projection_scores_like_the_full_heads(predictor):
    """The per-drug share of the heads' first layer, computed once at load, changes no prediction."""
    from ddi.models.ddi_model import Encoded

    assert predictor.encoded.projection is not None
    extra = predictor.register_structure("CC(=O)Oc1ccccc1C(=O)O", "aspirin-like")  # rows appended to the projection
    enc = predictor.encoded
    plain = Encoded(enc.node_state, enc.path_inputs, enc.pair_structure)
    heads = np.array([0, 5, 17, 3, predictor.node_of[extra]], dtype=np.int64)
    tails = np.array([9, 5, 2, predictor.node_of[extra], 11], dtype=np.int64)
    fast, fast_exists = predictor.score_ids(heads, tails)
    predictor.encoded = plain
    try:
        slow, slow_exists = predictor.score_ids(heads, tails)
    finally:
        predictor.encoded = enc
    assert torch.allclose(fast, slow, atol=1e-5) and torch.allclose(fast_exists, slow_exists, atol=1e-5)


def test_write_table_writes_by_extension_or_says_why_not(tmp_path):
    from ddi.serve.batch import write_table

    df = pd.DataFrame({"drug1": ["a", "b"], "error": ["", "unknown drug 'b'"]})
    for name in ("t.csv", "t.tsv.gz", "t.parquet"):
        write_table(df, tmp_path / name)
    assert pd.read_parquet(tmp_path / "t.parquet").equals(df)
    assert pd.read_csv(tmp_path / "t.tsv.gz", sep="\t", keep_default_na=False).equals(df)
    with pytest.raises(BatchInputError, match="is a directory"):
        write_table(df, tmp_path)
    with pytest.raises(BatchInputError, match="unsupported file type"):
        write_table(df, tmp_path / "t.xlsx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.parquet", "t.tsv.gz"], "no partial files"


def test_write_table_keeps_links_and_the_usual_permissions(tmp_path):
    from ddi.serve.batch import write_table

    df = pd.DataFrame({"drug1": ["a"], "error": [""]})
    target = tmp_path / "results" / "scored.csv"
    target.parent.mkdir()
    link = tmp_path / "latest.csv"
    link.symlink_to(target)
    old_umask = os.umask(0o022)
    try:
        write_table(df, link)
    finally:
        os.umask(old_umask)
    assert link.is_symlink() and pd.read_csv(target, keep_default_na=False).equals(df)
    assert target.stat().st_mode & 0o777 == 0o644, "colleagues can read the results, as with any new file"


def test_a_failed_write_is_a_clear_error_and_leaves_no_partial_file(tmp_path, monkeypatch):
    from ddi.serve.batch import write_table

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", disk_full)
    with pytest.raises(BatchInputError, match=r"out\.csv: cannot write the output \(No space left on device\)"):
        write_table(pd.DataFrame({"drug1": ["a"]}), tmp_path / "out.csv")
    assert list(tmp_path.iterdir()) == []


def test_cells_that_are_lists_or_bytes_fail_or_read_as_text(predictor, resolver, tmp_path):
    in_path = tmp_path / "pairs.parquet"
    pd.DataFrame({"drug1": [["simvastatin"], ["aspirin"]], "drug2": ["warfarin", "warfarin"]}).to_parquet(in_path)
    score_file(in_path, tmp_path / "lists.csv", predictor, resolver, progress=False)
    errors = _read(tmp_path / "lists.csv")["error"].tolist()
    assert errors == ["drug1: the cell holds a list, not a drug name, id or structure"] * 2
    pd.DataFrame({"drug1": [b"simvastatin"], "drug2": [b"warfarin"]}).to_parquet(in_path)
    score_file(in_path, tmp_path / "bytes.csv", predictor, resolver, progress=False)
    assert _read(tmp_path / "bytes.csv")[["drug1_id", "error"]].fillna("").values.tolist() == [["DB00641", ""]]


def test_a_directory_given_as_the_input_is_named_as_such(predictor, resolver, tmp_path):
    (tmp_path / "pairs.csv").mkdir()
    with pytest.raises(BatchInputError, match=r"pairs\.csv: a directory, not a file"):
        score_file(tmp_path / "pairs.csv", tmp_path / "out.csv", predictor, resolver, progress=False)
