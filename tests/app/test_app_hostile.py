"""The app against hostile and careless input: markup in drug names and file names, tables that are not what they
seem, links edited by hand, and a large upload that must not stall everyone else."""

from __future__ import annotations

import sys
import threading

import pandas as pd
import pytest
from app_testing import APP_DIR, app, assert_no_exception, texts
from streamlit.testing.v1 import AppTest


@pytest.fixture
def plain():
    sys.path.insert(0, str(APP_DIR))
    try:
        from appkit import plain
    finally:
        sys.path.remove(str(APP_DIR))
    return plain


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("**bold**", r"\*\*bold\*\*"),
        ("[link](javascript:alert(1))", r"\[link\](javascript\:alert(1))"),
        ("<script>alert(1)</script>", r"\<script\>alert(1)\</script\>"),
        (":red[x] :material/home:", r"\:red\[x\] \:material/home:"),
        ("$x^2$ a_b ~c~ `d` #e |f| &amp;", r"\$x^2\$ a\_b \~c\~ \`d\` \#e \|f\| \&amp;"),
        # A web or e-mail address would become a link even escaped: an invisible word joiner breaks it.
        (
            "https://evil.example www.evil.example me@evil.example",
            "https\\:\u2060//evil.example www\u2060.evil.example me\u2060\\@evil.example",
        ),
        ("1. first", r"1\. first"),
        ("- item", r"\- item"),
        # What a message says of its own stays as it is: a colon before a space, parentheses, quotes.
        ("Drug 2: invalid SMILES: syntax error in 'C1CC('", "Drug 2: invalid SMILES: syntax error in 'C1CC('"),
        ("وارفارين 💊", "وارفارين 💊"),
    ],
)
def test_plain_escapes_every_markup_a_user_could_type(plain, text, shown):
    assert plain(text) == shown


def test_markup_typed_as_a_drug_is_shown_as_typed_not_rendered(served_model):
    """Before: the error rendered "**bold**" bold and "[x](javascript:...)" as a link."""
    at = app().run()
    at.selectbox(key="pick1").select("Warfarin (DB00682)")
    at.text_input(key="free2").input("**bold** [x](javascript:alert(1))").run()
    assert_no_exception(at)
    [error] = texts(at.error)
    assert error.startswith("Drug 2: ")
    assert r"\*\*bold\*\*" in error and r"\[x\](javascript\:alert(1))" in error
    assert "**bold**" not in error and "[x](" not in error


def test_a_hand_edited_link_with_markup_and_odd_parameters_does_not_crash(served_model):
    at = app()
    at.query_params["drug1"] = "<script>alert(1)</script>"
    at.query_params["drug2"] = ["warfarin", "aspirin"]  # a repeated parameter
    at.query_params["junk"] = "x" * 5000
    at.run()
    assert_no_exception(at)
    [error] = texts(at.error)
    assert error.startswith("Drug 1: ") and r"\<script\>" in error


def test_regimen_notes_show_a_drug_name_as_typed(served_model):
    """Before: the note about an unusable drug "**x**" rendered it bold inside its own bold label."""
    at = app()
    at.query_params["drug"] = ["warfarin", "clarithromycin", "**x**"]
    at.switch_page("pages/1_Regimen.py").run()
    assert_no_exception(at)
    [warning] = texts(at.warning)
    assert warning.startswith(r"**\*\*x\*\***: unknown drug '\*\*x\*\*'")


def test_a_regimen_link_past_the_limit_says_which_drugs_are_not_checked(served_model):
    """Before: a hand-edited link of 70 drugs silently checked the first 60."""
    from ddi.serve.regimen import MAX_REGIMEN_DRUGS

    at = app()
    at.query_params["drug"] = ["warfarin", "clarithromycin"] + [f"drug{i}" for i in range(MAX_REGIMEN_DRUGS + 8)]
    at.switch_page("pages/1_Regimen.py").run()
    assert_no_exception(at)
    assert len(at.multiselect(key="regimen").value) == MAX_REGIMEN_DRUGS
    assert any(
        t.startswith(f"The link lists {MAX_REGIMEN_DRUGS + 10} drugs; only the first {MAX_REGIMEN_DRUGS}")
        for t in texts(at.warning)
    ), texts(at.warning)


def upload(page: str, name: str, data: bytes) -> AppTest:
    at = app().run()
    at.switch_page(page).run()
    at.get("file_uploader")[0].set_value((name, data, "text/csv"))
    return at.run()


@pytest.mark.parametrize("page", ["pages/2_Batch.py", "pages/1_Regimen.py"])
def test_a_table_with_a_header_only_is_an_error_not_zero_rows_scored(served_model, page):
    """Before: the batch page said "All 0 rows scored." in green, the regimen page "0 regimen(s), 0 pairs"."""
    header = b"drug1,drug2\n" if "Batch" in page else b"patient,drug\n"
    at = upload(page, "pairs.csv", header)
    assert_no_exception(at)
    assert texts(at.error) == [
        f"pairs.csv: a header but no rows; put one {'pair' if 'Batch' in page else 'drug'} per row under it"
    ]
    assert not at.success and not at.subheader and not at.get("download_button")


@pytest.mark.parametrize("magic", [b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"])
def test_a_workbook_renamed_csv_is_named_for_what_it_is(served_model, magic):
    """Before: "binary content, not a CSV text file", which does not say how to get one."""
    at = upload("pages/2_Batch.py", "pairs.csv", magic + b"\x00" * 200)
    assert_no_exception(at)
    [error] = texts(at.error)
    assert error.startswith("pairs.csv: a spreadsheet workbook") and "CSV UTF-8" in error


def test_a_third_drug_column_is_said_not_to_be_checked(served_model):
    """Before: drug3 was silently ignored and the page said every row was scored."""
    csv = b"drug1,drug2,drug3\nwarfarin,clarithromycin,simvastatin\n"
    at = upload("pages/2_Batch.py", "pairs.csv", csv)
    assert_no_exception(at)
    [warning] = texts(at.warning)
    assert warning.startswith("**Not every drug is checked:** each row is scored as one pair, drug1 with drug2: drug3")
    assert "Regimen page" in warning
    assert at.dataframe[0].value["drug3"].tolist() == ["simvastatin"], "the row is still scored and shown"


def test_a_file_name_with_markup_is_shown_as_written(served_model):
    at = upload("pages/2_Batch.py", "**x**.csv", b"")
    assert_no_exception(at)
    assert texts(at.error) == [r"\*\*x\*\*.csv: the file is empty"]


def test_a_large_upload_lets_other_answers_through_between_chunks(predictor, resolver):
    """Before: ``score_upload`` held the model lock for the whole upload: a 2-million-row file kept every other
    user's pair waiting for minutes."""
    from ddi.serve.answer import MODEL_LOCK
    from ddi.serve.uploads import score_upload

    free: list[bool] = []

    def other_user(done: int, total: int) -> None:
        probe = threading.Thread(target=lambda: free.append(MODEL_LOCK.acquire(timeout=5) and not MODEL_LOCK.release()))
        probe.start()
        probe.join()

    table = pd.DataFrame({"drug1": ["warfarin", "clarithromycin"] * 3, "drug2": ["clarithromycin", "warfarin"] * 3})
    scored = score_upload(table, predictor, resolver, on_progress=other_user, chunk_rows=2)
    assert scored.rows == 6
    assert free == [True, True, True]


def test_the_preview_of_a_table_with_a_failed_row_converts_for_the_browser(predictor, resolver):
    """Before: a failed row's "" beside the scored rows' numbers made Streamlit log a pyarrow traceback."""
    import pyarrow as pa

    from ddi.serve.uploads import score_upload

    table = pd.DataFrame({"drug1": ["warfarin", "xyzzy"], "drug2": ["clarithromycin", "warfarin"]})
    preview = score_upload(table, predictor, resolver).preview()
    pa.Table.from_pandas(preview)
    assert preview["predicted_type"].tolist()[1] == "" and preview["predicted_type"].tolist()[0] != ""
