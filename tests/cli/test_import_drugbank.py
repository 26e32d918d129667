"""``ddi import-drugbank``: writes a layout the rest of ``ddi`` reads, and fails with one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddi.cli.main import main
from ddi.data.benchmark import load_benchmark
from ddi.data.tables import OTHER_TYPE

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "xml"
DRUGBANK_5 = FIXTURES / "drugbank_5_small.xml"

pytestmark = pytest.mark.usefixtures("restore_root_logging")


def test_writes_a_layout_load_benchmark_reads_back(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "imported"
    assert main(["import-drugbank", str(DRUGBANK_5), "--out", str(out)]) == 0

    tables, report = load_benchmark(out)
    assert tables.counts() == {
        "drugs": 5,
        "interaction_types": 86,
        "interactions": 10,
        "drug_protein": 10,
        "proteins": 8,
    }
    assert report.dropped() == 0
    # "Other" interactions are left out by default: the models predict the 86 benchmark types.
    assert OTHER_TYPE not in set(tables.interactions["type"])
    simvastatin_clarithromycin = tables.interactions.iloc[0]
    assert tuple(simvastatin_clarithromycin) == ("DB00641", "DB01211", 73)
    assert tables.drugs.set_index("drugbank_id").loc["DB00641", "inchi"].startswith("InChI=1S/C25H38O5/")

    printed = capsys.readouterr().out
    assert "21 read, 20 matched a template, 1 matched none" in printed
    assert f"wrote {out}" in printed
    assert "left out 1 interaction(s) of no benchmark type; --keep-other keeps them" in printed


def test_keep_other_writes_unmatched_interactions_as_type_0(tmp_path: Path) -> None:
    out = tmp_path / "imported"
    assert main(["-q", "import-drugbank", str(DRUGBANK_5), "--out", str(out), "--keep-other"]) == 0
    tables, _ = load_benchmark(out)
    other = tables.interactions[tables.interactions["type"] == OTHER_TYPE]
    assert [tuple(r) for r in other.itertuples(index=False)] == [("DB00682", "DB01045", OTHER_TYPE)]
    assert len(tables.interactions) == 11


def test_types_option_chooses_the_templates(tmp_path: Path) -> None:
    types = tmp_path / "types.tsv"
    types.write_text(
        "type\ttemplate\tsubject\n"
        "73\tThe serum concentration of #Drug2 can be increased when it is combined with #Drug1.\t2\n"
    )
    out = tmp_path / "imported"
    assert main(["-q", "import-drugbank", str(DRUGBANK_5), "--out", str(out), "--types", str(types)]) == 0
    tables, _ = load_benchmark(out)
    assert [tuple(r) for r in tables.interactions.itertuples(index=False)] == [("DB00641", "DB01211", 73)]
    assert list(tables.interaction_types["type"]) == [73]


@pytest.mark.parametrize(
    ("xml", "out_under_file", "message"),
    [
        (FIXTURES / "missing.xml", False, "missing.xml: file not found"),
        (FIXTURES / "billion_laughs.xml", False, "refusing a document type declaration (DTD)"),
        (FIXTURES / "xxe_local_file.xml", False, "refusing a document type declaration (DTD)"),
        (FIXTURES / "truncated.xml", False, "not well-formed XML at line 18"),
        (FIXTURES / "empty.xml", False, "the file is empty"),
        (DRUGBANK_5, True, "not a writable directory"),
    ],
    ids=["missing", "billion-laughs", "xxe", "truncated", "empty", "out-not-writable"],
)
def test_errors_exit_2_with_one_line_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture, xml: Path, out_under_file: bool, message: str
) -> None:
    out = tmp_path / "out"
    if out_under_file:
        blocker = tmp_path / "a_file"
        blocker.write_text("not a directory")
        out = blocker / "out"
    assert main(["import-drugbank", str(xml), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    errors = [line for line in captured.err.splitlines() if line.startswith("ddi: error:")]
    assert len(errors) == 1
    assert message in errors[0]
    assert captured.out == ""


def test_the_zip_drugbank_ships_imports_and_a_damaged_one_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    import zipfile

    archive = tmp_path / "drugbank_all_full_database.xml.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.write(DRUGBANK_5, "full database.xml")
    assert main(["-q", "import-drugbank", str(archive), "--out", str(tmp_path / "out")]) == 0
    assert len(load_benchmark(tmp_path / "out")[0].drugs) == 5
    capsys.readouterr()
    damaged = tmp_path / "damaged.xml.zip"
    damaged.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])  # a download cut short
    assert main(["import-drugbank", str(damaged), "--out", str(tmp_path / "out2")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "ddi: error: " in err and "damaged.xml.zip: not a readable zip archive" in err


DUPLICATE_TEMPLATES = (
    "type\ttemplate\tsubject\n"
    "1\t#Drug1 may increase the sedative activities of #Drug2.\t1\n"
    "2\t#Drug1 may increase the Sedative activities of #Drug2\t1\n"
)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "file not found"),
        ("type\ttemplate\n1\t#Drug1 and #Drug2\n", "missing column(s) subject"),
        (DUPLICATE_TEMPLATES, "interaction types 1 and 2 have the same template"),
    ],
    ids=["missing", "no-subject-column", "duplicate-templates"],
)
def test_bad_types_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture, content: str | None, message: str
) -> None:
    types = tmp_path / "types.tsv"
    if content is not None:
        types.write_text(content)
    code = main(["import-drugbank", str(DRUGBANK_5), "--out", str(tmp_path / "out"), "--types", str(types)])
    assert code == 2
    err = capsys.readouterr().err
    assert f"ddi: error: {types}: {message}" in err
    assert "Traceback" not in err


def test_out_is_checked_before_the_import(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A bad --out must not cost the minutes a full export takes: it fails before the XML is opened."""
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert main(["import-drugbank", str(FIXTURES / "missing.xml"), "--out", str(blocker)]) == 2
    assert "--out" in capsys.readouterr().err


def test_out_holding_other_files_is_refused_but_an_earlier_import_is_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A stale ``splits/`` left in --out would be read as the imported data's own split."""
    out = tmp_path / "data"
    (out / "splits" / "sumgnn").mkdir(parents=True)
    (out / "splits" / "sumgnn" / "train.tsv").write_text("drug1_id\tdrug2_id\ttype\nDB1\tDB2\t3\n")
    assert main(["import-drugbank", str(DRUGBANK_5), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "holds other files than an import writes (splits)" in err
    assert not (out / "ddi.tsv").exists()

    again = tmp_path / "again"
    assert main(["-q", "import-drugbank", str(DRUGBANK_5), "--out", str(again)]) == 0
    assert main(["-q", "import-drugbank", str(DRUGBANK_5), "--out", str(again)]) == 0


def test_an_empty_ddi_tsv_is_explained_by_what_emptied_it(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Before: "no interaction has both drugs in the export", though both drugs were exported."""
    xml = tmp_path / "nothing_matches.xml"
    listing = (
        "<drug-interaction><drugbank-id>{}</drugbank-id><name>{}</name><description>{}</description></drug-interaction>"
    )
    drug = (
        '<drug type="small molecule"><drugbank-id primary="true">{}</drugbank-id><name>{}</name>'
        "<drug-interactions>{}</drug-interactions></drug>"
    )
    xml.write_text(
        '<drugbank xmlns="http://www.drugbank.ca">'
        + drug.format("DB00001", "Alpha", listing.format("DB00002", "Beta", "Alpha and Beta go together."))
        + drug.format("DB00002", "Beta", listing.format("DB00001", "Alpha", "Beta and Alpha go together."))
        + "</drugbank>"
    )
    assert main(["-q", "import-drugbank", str(xml), "--out", str(tmp_path / "out")]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "WARNING" in line]
    assert warnings == [
        "ddi WARNING: no interaction of two exported drugs matches a benchmark template: ddi.tsv is empty"
    ]
