"""Reading a table uploaded to the app: the same rules as the batch command, messages naming the upload."""

import pytest

from ddi.serve.uploads import BatchInputError, read_upload, score_upload


def test_an_upload_error_names_the_file_not_a_temporary_path():
    with pytest.raises(BatchInputError) as caught:
        read_upload("my pairs.csv", b"\n\n")
    message = str(caught.value)
    assert message.startswith("my pairs.csv: no header row")
    assert "ddi-upload-" not in message


def test_a_ragged_upload_row_is_kept_and_fails_alone_whatever_the_chunking(predictor, resolver):
    table = read_upload("pairs.csv", b"drug1,drug2\nsimvastatin,warfarin\naspirin,warfarin,extra\nibuprofen,warfarin\n")
    assert table["drug1"].tolist() == ["simvastatin", "aspirin", "ibuprofen"]
    for chunk_rows in (1, 2, 10):
        scored = score_upload(table, predictor, resolver, chunk_rows=chunk_rows)
        assert scored.failed == 1
        errors = scored.table["error"].tolist()
        assert errors[0] == errors[2] == ""
        assert errors[1].startswith("line 3 has 3 cells but the header has 2")


def test_a_windows_1252_upload_keeps_its_accents():
    table = read_upload("pairs.csv", "drug1;drug2\nsimvastatin;café\n".encode("cp1252"))
    assert table.to_dict("records") == [{"drug1": "simvastatin", "drug2": "café"}]


def test_an_upload_is_read_as_text():
    table = read_upload("pairs.csv", b"drug1,drug2\nNA,00123\n")
    assert table.to_dict("records") == [{"drug1": "NA", "drug2": "00123"}]


def test_a_gzipped_upload_is_read_and_a_workbook_says_how_to_get_a_csv():
    import gzip

    from ddi.serve.uploads import UPLOAD_TYPES

    table = read_upload("pairs.csv.gz", gzip.compress(b"drug1,drug2\nsimvastatin,warfarin\n"))
    assert table.to_dict("records") == [{"drug1": "simvastatin", "drug2": "warfarin"}]
    # The upload widget lets a workbook through, so that the user reads this rather than "type not allowed".
    assert {"gz", "xlsx", "ods"} <= set(UPLOAD_TYPES)
    with pytest.raises(BatchInputError, match=r"^Book1\.xlsx: a spreadsheet workbook; save the sheet as CSV"):
        read_upload("Book1.xlsx", b"PK\x03\x04 a zipped workbook")


def test_the_scored_download_repeats_the_upload_header_as_written(predictor, resolver):
    table = read_upload("pairs.csv", b"drug,drug,note,,note\nsimvastatin,warfarin,a,b,c\n")
    assert list(table.columns) == ["drug", "drug.1", "note", "Unnamed: 3", "note.1"]  # as pandas names them
    scored = score_upload(table, predictor, resolver)
    header = scored.to_csv().decode().splitlines()[0].split(",")
    assert header[:6] == ["drug", "drug", "note", "", "note", "drug1_id"]
    assert scored.table["drug2_id"].tolist() == ["DB00682"]


def test_the_preview_shows_a_failed_row_with_empty_cells_not_none(predictor, resolver):
    table = read_upload("pairs.csv", b"drug1,drug2\nsimvastatin,warfarin\nnot a drug,warfarin\n")
    scored = score_upload(table, predictor, resolver)
    assert scored.table["predicted_type"].isna().tolist() == [False, True]  # as scored: missing
    preview = scored.preview()
    assert preview["predicted_type"].tolist()[1] == "" and preview["predicted_type"].tolist()[0] != ""
    assert "None" not in preview.astype(str).to_numpy()


def test_a_web_upload_without_drug_columns_gets_the_web_s_advice_not_the_command_line_s():
    # "--cols A B" and "ddi regimen --file" mean nothing on a web page.
    from ddi.serve.regimen import RegimenError, find_regimen_columns

    with pytest.raises(BatchInputError) as caught:
        read_upload("meds.csv", b"patient,medication\np1,warfarin\n")
    message = str(caught.value)
    assert "rename them in the file" in message and "the Regimen page" in message
    assert "--cols" not in message and "ddi regimen" not in message
    with pytest.raises(RegimenError) as regimen_caught:
        find_regimen_columns(["patient", "note"], interface="app")
    assert str(regimen_caught.value).endswith("or rename them in the file")
    with pytest.raises(RegimenError, match="--drug-col and --group-col"):  # the command line keeps its own
        find_regimen_columns(["patient", "note"])
