"""A user's own split directory (``--split-dir``) written the many ways users write one: each is read as meant
or refused with a message naming the file and the problem, and what is dropped or doubtful is said."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from logged import messages

from ddi.data.benchmark import DataFormatError, load_benchmark
from ddi.data.splits import SPLIT_FILES, SUMGNN_DIR, split_from_dir
from ddi.data.tables import Tables

TABLES_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tables"
HEADER = "drug1_id\tdrug2_id\ttype\n"


@pytest.fixture(scope="module")
def small_tables() -> Tables:
    return load_benchmark(TABLES_FIXTURES / "layout")[0]


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    """A copy of the fixture split (train 4 rows, valid 1, test 3 of which one names an unknown drug)."""
    return Path(shutil.copytree(TABLES_FIXTURES / "user_split", tmp_path / "mine"))


# --- read as meant ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("bom", b"\xef\xbb\xbf" + HEADER.encode() + b"DB00004\tDB00002\t2\n"),
        ("crlf", (HEADER + "DB00004\tDB00002\t2\n").replace("\n", "\r\n").encode()),
        ("blank lines", (HEADER + "DB00004\tDB00002\t2\n\n\n").encode()),
        ("quoted", b'"drug1_id"\t"drug2_id"\t"type"\n"DB00004"\t"DB00002"\t"2"\n'),
        ("commas", b"drug1_id,drug2_id,type\nDB00004,DB00002,2\n"),
        ("reordered", b"type\tdrug2_id\tdrug1_id\n2\tDB00002\tDB00004\n"),
        ("extra column", b"drug1_id\tdrug2_id\ttype\tscore\nDB00004\tDB00002\t2\t0.5\n"),
        ("spaces", HEADER.encode() + b" DB00004 \t DB00002\t 2 \n"),
        ("type 2.0", HEADER.encode() + b"DB00004\tDB00002\t2.0\n"),
    ],
)
def test_a_part_written_another_usual_way_reads_as_the_plain_one(
    small_tables: Tables, user_dir: Path, name: str, valid: bytes
) -> None:
    (user_dir / "valid.tsv").write_bytes(valid)
    split = split_from_dir(user_dir, small_tables)
    assert [tuple(r) for r in split.valid.itertuples(index=False)] == [("DB00004", "DB00002", 2)], name


def test_drug_ids_in_lower_case_are_read_as_the_drugs_tables_ids(
    small_tables: Tables, user_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    expected = split_from_dir(user_dir, small_tables)
    caplog.clear()
    for filename in SPLIT_FILES:  # DrugBank ids are case-insensitive: a whole file in lower case loses nothing
        path = user_dir / filename
        path.write_text(path.read_text().replace("DB", "db"))
    with caplog.at_level("INFO", logger="ddi.data.splits"):
        split = split_from_dir(user_dir, small_tables)
    for part in ("train", "valid", "test"):
        pd.testing.assert_frame_equal(split.parts()[part], expected.parts()[part], obj=part)
    assert "mine/train.tsv: 8 drug id(s) written in another letter case, read as the drugs table writes them " in (
        " ".join(messages(caplog, "INFO"))
    )
    # the unknown drug stays unknown, and is named as the user wrote it
    assert messages(caplog, "WARNING") == [
        "dropped mine/test.tsv: 1 row(s) naming a drug not in the drugs table (e.g. db99999)"
    ]


def test_rows_of_empty_cells_are_ignored_as_blank_lines_are(
    small_tables: Tables, user_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (user_dir / "valid.tsv").write_text(HEADER + "DB00004\tDB00002\t2\n\t\t\n \t \t \n")  # a spreadsheet's export
    with caplog.at_level("INFO", logger="ddi.data.splits"):
        split = split_from_dir(user_dir, small_tables)
    assert len(split.valid) == 1
    assert not [w for w in messages(caplog, "WARNING") if "valid.tsv" in w]  # no "(e.g. )" drop warning
    assert "mine/valid.tsv: 2 blank row(s) ignored" in messages(caplog, "INFO")


def test_a_split_dir_given_as_dot_names_its_files_by_the_directory(
    small_tables: Tables, user_dir: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(user_dir)
    with caplog.at_level("WARNING", logger="ddi.data.splits"):
        split_from_dir(".", small_tables)
    # not "dropped /test.tsv", which names a file at the root of the file system
    assert messages(caplog, "WARNING") == [
        "dropped mine/test.tsv: 1 row(s) naming a drug not in the drugs table (e.g. DB99999)"
    ]


# --- doubtful splits are said ---------------------------------------------------------------------------------


@pytest.mark.parametrize("part", ["valid", "test"])
def test_a_valid_or_test_part_with_no_usable_pair_is_warned_about_when_loaded(
    small_tables: Tables, user_dir: Path, caplog: pytest.LogCaptureFixture, part: str
) -> None:
    (user_dir / f"{part}.tsv").write_text(HEADER)
    with caplog.at_level("WARNING", logger="ddi.data.splits"):
        split = split_from_dir(user_dir, small_tables)
    assert split.parts()[part].empty
    said = [w for w in messages(caplog, "WARNING") if w.startswith(f"{user_dir / part}.tsv has no usable pairs")]
    assert len(said) == 1, messages(caplog, "WARNING")
    if part == "valid":  # training scores each epoch on it: without it, it cannot choose its best epoch
        assert "best epoch" in said[0]


def test_a_test_row_repeating_a_validation_row_is_warned(
    small_tables: Tables, user_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (user_dir / "test.tsv").write_text(HEADER + "DB00005\tDB00003\t3\nDB00002\tDB00004\t2\n")  # valid's row, turned
    with caplog.at_level("WARNING", logger="ddi.data.splits"):
        split_from_dir(user_dir, small_tables)
    assert messages(caplog, "WARNING") == [
        f"split {user_dir}: 1 test row(s) repeat a validation row (the model is chosen on rows it is tested on)"
    ]


def test_a_train_test_leak_is_warned(small_tables: Tables, user_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    (user_dir / "test.tsv").write_text(HEADER + "DB00005\tDB00003\t3\nDB00002\tDB00001\t1\n")
    with caplog.at_level("WARNING", logger="ddi.data.splits"):
        split_from_dir(user_dir, small_tables)
    assert messages(caplog, "WARNING") == [f"split {user_dir}: 1 test row(s) repeat a training row (label leak)"]


def test_pairs_of_drugs_absent_from_training_are_counted(
    small_tables: Tables, user_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # a test part that shares no drug with train: a new-drug (S2-like) test, whether meant or not
    (user_dir / "test.tsv").write_text(HEADER + "DB00005\tDB00006\t1\nDB00005\tDB00003\t3\n")
    with caplog.at_level("INFO", logger="ddi.data.splits"):
        split_from_dir(user_dir, small_tables)
    assert (
        f"split {user_dir}: 2 test pair(s) name a drug absent from every training pair "
        "(1 with both drugs absent): they test new drugs, as S1/S2 do" in messages(caplog, "INFO")
    )


# --- refused, by name ---------------------------------------------------------------------------------------


def test_the_data_directory_given_as_split_dir_is_named_as_such(tmp_path: Path, small_tables: Tables) -> None:
    data = Path(shutil.copytree(TABLES_FIXTURES / "layout", tmp_path / "data"))
    with pytest.raises(DataFormatError) as info:
        split_from_dir(data, small_tables)
    said = str(info.value)
    assert f"{data}: train.tsv, valid.tsv, test.tsv: files not found" in said
    assert f"{data} is a data directory, not a split directory" in said
    shutil.copytree(TABLES_FIXTURES / "user_split", data / SUMGNN_DIR)
    with pytest.raises(DataFormatError, match=f"its shipped split is {data / SUMGNN_DIR}"):
        split_from_dir(data, small_tables)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("drug1_id\tdrug2_id\tlabel\nDB00004\tDB00002\t2\n", "missing column(s) type"),
        ("drug1_id;drug2_id;type\nDB00004;DB00002;2\n", "separated by semicolons"),
        (b"\xff\xfed\x00r\x00", "not a readable tab-separated file"),
        ("", "the file is empty: a header row naming drug1_id, drug2_id, type is expected"),
    ],
)
def test_an_unreadable_part_is_refused_naming_the_file(
    small_tables: Tables, user_dir: Path, content: str | bytes, problem: str
) -> None:
    path = user_dir / "valid.tsv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(DataFormatError) as info:
        split_from_dir(user_dir, small_tables)
    assert str(info.value).startswith(f"{path}: ") and problem in str(info.value)


def test_a_file_given_as_split_dir_is_refused(small_tables: Tables, user_dir: Path) -> None:
    with pytest.raises(DataFormatError, match="is not a directory"):
        split_from_dir(user_dir / "train.tsv", small_tables)


def test_a_header_written_with_spaces_or_capitals_names_the_columns_and_an_empty_file_is_called_empty(tmp_path):
    from ddi.data.benchmark import DataFormatError, read_pair_file

    spreadsheet = tmp_path / "train.tsv"
    spreadsheet.write_text("Drug1_ID \tdrug2_id\t TYPE\nDB00001\tDB00002\t1\n")
    assert read_pair_file(spreadsheet).to_dict("records") == [
        {"drug1_id": "DB00001", "drug2_id": "DB00002", "type": "1"}
    ]
    empty = tmp_path / "valid.tsv"
    empty.write_text("")
    with pytest.raises(DataFormatError, match=r"valid\.tsv: the file is empty: a header row naming drug1_id, drug2_id"):
        read_pair_file(empty)
