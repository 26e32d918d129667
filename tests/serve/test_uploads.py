"""Reading a table uploaded to the app: the same rules as the batch command, messages naming the upload."""

import pytest

from ddi.serve.uploads import BatchInputError, read_upload


def test_an_upload_error_names_the_file_not_a_temporary_path():
    with pytest.raises(BatchInputError) as caught:
        read_upload("my pairs.csv", b"drug1,drug2\nsimvastatin,warfarin,extra\n")
    message = str(caught.value)
    assert message.startswith("my pairs.csv: the first data row has more cells")
    assert "ddi-upload-" not in message


def test_a_windows_1252_upload_keeps_its_accents():
    table = read_upload("pairs.csv", "drug1;drug2\nsimvastatin;café\n".encode("cp1252"))
    assert table.to_dict("records") == [{"drug1": "simvastatin", "drug2": "café"}]


def test_an_upload_is_read_as_text():
    table = read_upload("pairs.csv", b"drug1,drug2\nNA,00123\n")
    assert table.to_dict("records") == [{"drug1": "NA", "drug2": "00123"}]
