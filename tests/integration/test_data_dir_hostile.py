"""A user's own data directory (``--data-dir``) in the benchmark layout, written the many ways users write one:
each is read as meant, or refused with one message naming the file, the value and what to do, and what is
dropped or doubtful is said."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from logged import messages

from ddi.data.benchmark import DataFormatError, load_benchmark
from ddi.data.drugbank_xml import import_drugbank_xml
from ddi.data.splits import load_split
from ddi.data.tables import SCHEMAS, Tables

LAYOUT = Path(__file__).resolve().parents[1] / "fixtures" / "tables" / "layout"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A copy of the fixture layout: 6 drugs, 3 types (1..3), 7 pairs, 3 drug-protein rows, 2 proteins."""
    return Path(shutil.copytree(LAYOUT, tmp_path / "mine"))


@pytest.fixture(scope="module")
def plain() -> Tables:
    return load_benchmark(LAYOUT)[0]


def rewrite(path: Path, change) -> None:
    """Apply ``change`` to every row of a tab-separated file (header included: ``change(cells, is_header)``)."""
    lines = path.read_text().splitlines()
    path.write_text("".join("\t".join(change(line.split("\t"), i == 0)) + "\n" for i, line in enumerate(lines)))


def assert_same_tables(tables: Tables, expected: Tables) -> None:
    for name in SCHEMAS:
        pd.testing.assert_frame_equal(getattr(tables, name), getattr(expected, name), obj=name)


# --- read as meant ------------------------------------------------------------------------------------------


def _bom(root: Path) -> None:
    for path in root.glob("*.tsv"):
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())


def _crlf(root: Path) -> None:
    for path in root.glob("*.tsv"):
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))


def _reordered_with_extra_columns(root: Path) -> None:
    for path in root.glob("*.tsv"):  # through pandas: drugs.tsv quotes cells that hold a tab
        df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
        df[df.columns[::-1]].assign(note="x").to_csv(path, sep="\t", index=False)


def _headers_in_other_case(root: Path) -> None:
    # A spreadsheet's header: "SMILES", "Name", "Drug1_ID". Before: every drug lost its SMILES, without a word.
    for path in root.glob("*.tsv"):
        rewrite(
            path,
            lambda cells, header: (
                [c.upper() if c in ("smiles", "type") else c.title() for c in cells] if header else cells
            ),
        )


def _placeholders_in_other_case(root: Path) -> None:
    # Before: "#drug1 ... #DRUG2" dropped every type, and with them every pair.
    rewrite(
        root / "interaction_types.tsv",
        lambda cells, header: (
            cells
            if header
            else [cells[0], cells[1].replace("#Drug1", "#drug1").replace("#Drug2", "#DRUG2"), *cells[2:]]
        ),
    )


@pytest.mark.parametrize(
    "change", [_bom, _crlf, _reordered_with_extra_columns, _headers_in_other_case, _placeholders_in_other_case]
)
def test_a_layout_written_another_usual_way_reads_as_the_plain_one(root: Path, plain: Tables, change) -> None:
    change(root)
    tables, report = load_benchmark(root)
    assert_same_tables(tables, plain)
    assert report.dropped() == 0


def test_drugbank_ids_in_lower_case_are_read_upper_case_and_said(
    root: Path, plain: Tables, caplog: pytest.LogCaptureFixture
) -> None:
    # Before: a lower-case ddi.tsv (or drugs.tsv) lost every pair as "naming a drug not in the drugs table".
    rewrite(root / "drugs.tsv", lambda cells, header: cells if header else [cells[0].lower(), *cells[1:]])
    rewrite(root / "ddi.tsv", lambda cells, header: cells if header else [cells[0], cells[1].lower(), cells[2]])
    rewrite(root / "drug_protein.tsv", lambda cells, header: cells if header else [cells[0].lower(), *cells[1:]])
    with caplog.at_level(logging.INFO, logger="ddi"):
        tables, report = load_benchmark(root)
    assert_same_tables(tables, plain)  # the catalogue's InChI included
    assert report.dropped() == 0
    said = messages(caplog, "INFO")
    assert "drugs: 6 DrugBank id(s) not written in upper case, read upper-case (e.g. db00001 as DB00001)" in said
    assert "interactions: 7 DrugBank id(s) not written in upper case, read upper-case (e.g. db00002 as DB00002)" in said
    assert any(m.startswith("drug_protein: 3 DrugBank id(s) not written in upper case") for m in said)


def test_blank_rows_at_the_end_are_ignored_with_a_note_not_dropped_with_a_warning(
    root: Path, plain: Tables, caplog: pytest.LogCaptureFixture
) -> None:
    # Before: "dropped interactions: 2 row(s) with a missing or non-integer type (e.g. type='', type='')".
    with (root / "ddi.tsv").open("a") as file:
        file.write("\t\t\n \t\t\n")
    with (root / "drugs.tsv").open("a") as file:
        file.write("\t" * 8 + "\n")
    with caplog.at_level(logging.INFO, logger="ddi"):
        tables, report = load_benchmark(root)
    assert_same_tables(tables, plain)
    assert report.dropped() == 0
    assert messages(caplog, "WARNING") == []
    assert "interactions: 2 blank row(s) ignored" in report.notes
    assert "drugs: 1 blank row(s) ignored" in report.notes


def test_a_drug_listed_twice_keeps_its_first_row_and_says_so(root: Path) -> None:
    with (root / "drugs.tsv").open("a") as file:
        file.write("DB00001\tCCCCCC\tAlphanol again\n")
    tables, report = load_benchmark(root)
    assert tables.drugs.set_index("drugbank_id").loc["DB00001", "smiles"] == "CCO"
    assert [str(r) for r in report.records] == [
        "drugs: 1 row(s) with a duplicate drugbank_id (first kept) (e.g. DB00001)"
    ]


def test_pairs_of_type_0_are_kept_and_said_to_be_in_no_split(root: Path) -> None:
    with (root / "ddi.tsv").open("a") as file:
        file.write("DB00005\tDB00006\t0\n")
    tables, report = load_benchmark(root)
    assert len(tables.interactions) == 8
    assert "interactions: 1 pair(s) of type 0 (no benchmark type; kept, left out of every split)" in report.notes
    assert sum(load_split("s0", tables).counts().values()) == 7


def test_a_ddi_tsv_with_only_its_header_loads_empty(root: Path) -> None:
    # Legal: an import whose interactions match no template writes one (and says so); training then says why.
    (root / "ddi.tsv").write_text("drug1_id\tdrug2_id\ttype\n")
    tables, _ = load_benchmark(root)
    assert tables.interactions.empty and len(tables.drugs) == 6


@pytest.mark.parametrize("optional", ["drug_protein.tsv", "proteins.tsv"])
def test_an_optional_file_left_empty_is_refused_with_the_way_out(root: Path, optional: str) -> None:
    (root / optional).write_bytes(b"")
    with pytest.raises(DataFormatError, match=rf"{optional} is optional: delete it if the data has no"):
        load_benchmark(root)


# --- refused, naming the file, the value and what to do -----------------------------------------------------


def test_interaction_types_numbered_from_0_are_refused(root: Path) -> None:
    # Before: type 0 was read as "no benchmark type", so its pairs silently left every split.
    rewrite(
        root / "interaction_types.tsv", lambda cells, header: cells if header else [str(int(cells[0]) - 1), *cells[1:]]
    )
    rewrite(root / "ddi.tsv", lambda cells, header: cells if header else [*cells[:2], str(int(cells[2]) - 1)])
    with pytest.raises(DataFormatError) as info:
        load_benchmark(root)
    message = str(info.value)
    assert message.startswith(f"{root / 'interaction_types.tsv'}: type 0 is reserved")
    assert "add 1 to every type in interaction_types.tsv and ddi.tsv" in message


def test_subjects_numbered_from_0_are_refused(root: Path) -> None:
    # Before: subjects 0/1/2 lost the 0 rows and read 1/2 as 1/2: every other direction silently reversed.
    rewrite(
        root / "interaction_types.tsv",
        lambda cells, header: cells if header else [*cells[:2], str(int(cells[2]) - 1), *cells[3:]],
    )
    with pytest.raises(DataFormatError) as info:
        load_benchmark(root)
    message = str(info.value)
    assert message.startswith(f"{root / 'interaction_types.tsv'}: type 1 has subject 0; subject is 1")
    assert message.endswith("if the subjects count from 0, add 1 to each")


def test_an_import_with_interaction_types_numbered_from_0_is_refused(root: Path, tmp_path: Path) -> None:
    rewrite(
        root / "interaction_types.tsv", lambda cells, header: cells if header else [str(int(cells[0]) - 1), *cells[1:]]
    )
    with pytest.raises(DataFormatError, match=re.escape(f"{root / 'interaction_types.tsv'}: type 0 is reserved")):
        import_drugbank_xml(tmp_path / "never-read.xml", root / "interaction_types.tsv", progress=False)


@pytest.mark.parametrize(
    ("filename", "content", "why"),
    [
        (
            "interaction_types.tsv",
            "type\ttemplate\tsubject\n",
            "no usable interaction types (the file has no rows below its header)",
        ),
        ("drugs.tsv", "drugbank_id\tsmiles\tname\n", "no usable drugs (the file has no rows below its header)"),
        (
            "interaction_types.tsv",
            "type\ttemplate\tsubject\nT1\t#Drug1 raises #Drug2.\t1\n",
            "no usable interaction types (every row was dropped: 1 row(s) with a missing or non-integer type/subject)",
        ),
        (
            "interaction_types.tsv",
            "type\ttemplate\tsubject\n1\tDrug A raises Drug B.\t1\n",
            "no usable interaction types (every row was dropped: 1 row(s) whose template lacks #Drug1 or #Drug2)",
        ),
    ],
    ids=["types-header-only", "drugs-header-only", "types-as-text", "no-placeholders"],
)
def test_a_layout_without_usable_drugs_or_types_is_refused_saying_why(
    root: Path, filename: str, content: str, why: str
) -> None:
    # Before: it loaded with every pair dropped, and training failed later with "no training pairs left".
    (root / filename).write_text(content)
    with pytest.raises(DataFormatError) as info:
        load_benchmark(root)
    assert str(info.value) == f"{root / filename}: {why}"


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (
            "drugbank_id\tname\nDB00001\tCafé\n".encode("cp1252"),
            "line 2 is not UTF-8 text (byte 0xe9); save the file as UTF-8",
        ),
        (
            "drugbank_id\tname\nDB00001\tCafé\n".encode("utf-16"),
            "it is UTF-16 text (a spreadsheet's 'Unicode text'); save it as UTF-8",
        ),
    ],
    ids=["windows-1252", "utf-16"],
)
def test_a_file_not_in_utf8_is_refused_naming_its_line(root: Path, content: bytes, why: str) -> None:
    # Before: "... ('utf-8' codec can't decode byte 0xe9 in position 16: ...)", a position in no file.
    (root / "drugs.tsv").write_bytes(content)
    with pytest.raises(DataFormatError) as info:
        load_benchmark(root)
    assert str(info.value) == f"{root / 'drugs.tsv'}: not a readable tab-separated file: {why}"


def test_a_file_separated_by_spaces_is_refused_saying_so(root: Path) -> None:
    # Before: "missing column(s) drug1_id, drug2_id, type; found drug1_id  drug2_id  type", without the why.
    (root / "ddi.tsv").write_text((root / "ddi.tsv").read_text().replace("\t", "  "))
    with pytest.raises(DataFormatError) as info:
        load_benchmark(root)
    assert str(info.value).endswith("(its header is separated by spaces; this file must be tab-separated)")


# --- a slice of the real benchmark, exported the way a spreadsheet does ------------------------------------


def test_a_spreadsheet_export_of_a_benchmark_slice_gives_the_same_stats(data_dir: Path, tmp_path: Path) -> None:
    """Twenty drugs of the real files, their ids lower-cased, headers capitalised, Windows line ends and a BOM:
    read as the plain slice, through ``ddi data stats`` (splits and knowledge graph)."""
    from ddi.cli.data import collect_stats

    pairs = pd.read_csv(data_dir / "ddi.tsv", sep="\t", dtype=str)
    drugs = set(pd.concat([pairs["drug1_id"], pairs["drug2_id"]]).value_counts().index[:20])
    plain, exported = tmp_path / "plain", tmp_path / "exported"
    plain.mkdir()
    for name, column in (("drugs.tsv", 0), ("ddi.tsv", None), ("drug_protein.tsv", 0), ("interaction_types.tsv", None)):
        lines = (data_dir / name).read_text().splitlines()
        keep = [lines[0]] + [
            line for line in lines[1:]
            if (column is None and name == "interaction_types.tsv")
            or (column is None and set(line.split("\t")[:2]) <= drugs)
            or (column is not None and line.split("\t")[column] in drugs)
        ]  # fmt: skip
        (plain / name).write_text("\n".join(keep) + "\n")
    shutil.copytree(plain, exported)
    for path in exported.glob("*.tsv"):
        rewrite(
            path,
            lambda cells, header: (
                [c.title() for c in cells] if header else [c.lower() if c.startswith("DB") else c for c in cells]
            ),
        )
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))

    expected = collect_stats(str(plain))
    got = collect_stats(str(exported))
    assert expected["tables"]["interactions"] > 50
    assert expected["knowledge_graph_s0"]["nodes"]["protein"] > 0
    for key in ("tables", "dropped", "interactions_per_type", "splits", "knowledge_graph_s0"):
        assert got[key] == expected[key], key
