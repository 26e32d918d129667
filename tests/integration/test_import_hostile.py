"""``ddi import-drugbank`` against hostile and unlucky inputs: bombs, disguised files, foreign XML, interruptions."""

from __future__ import annotations

import errno
import gzip
import re
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from ddi.cli.main import main
from ddi.data.drugbank_xml import XmlImportError, import_drugbank_xml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "xml"
DRUGBANK_5 = FIXTURES / "drugbank_5_small.xml"

pytestmark = pytest.mark.usefixtures("restore_root_logging")


def run_cli(xml: Path, out: Path, capsys: pytest.CaptureFixture) -> tuple[int, str]:
    """Exit status and the one ``ddi: error:`` line (or "")."""
    status = main(["-q", "import-drugbank", str(xml), "--out", str(out)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("ddi: error:")]
    assert len(errors) <= 1
    return status, errors[0] if errors else ""


def assert_refused_within_seconds(bomb: Path) -> None:
    """The import of ``bomb`` fails as a decompression bomb, naming the file, in seconds (not minutes)."""
    start = time.monotonic()
    with pytest.raises(XmlImportError, match=re.escape(bomb.name) + r": .*expands .* times"):
        import_drugbank_xml(bomb, progress=False)
    assert time.monotonic() - start < 5


def test_a_zip_member_declaring_gigabytes_is_refused_before_inflating(tmp_path: Path) -> None:
    """Before: the blanks were inflated and parsed for minutes (4 GB of them: over 2) before anything was said."""
    bomb = tmp_path / "bomb.zip"
    with (
        zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("export.xml", "w", force_zip64=True) as member,
    ):
        member.write(b'<drugbank xmlns="http://www.drugbank.ca"><!--')
        blanks = b" " * (1 << 24)
        for _ in range(16):  # 256 MB, 256 kB deflated
            member.write(blanks)
        member.write(b"--></drugbank>")
    assert_refused_within_seconds(bomb)


def test_a_gzip_bomb_is_stopped_while_inflating(tmp_path: Path) -> None:
    """gzip declares no size (its trailer holds it modulo 4 GB): the ratio is checked while reading."""
    bomb = tmp_path / "bomb.xml.gz"
    blanks = b" " * (1 << 24)
    with gzip.open(bomb, "wb") as packed:
        packed.write(b"<drug><drugbank-id>DB00001</drugbank-id><description>")  # rootless: read to its end too
        for _ in range(16):
            packed.write(blanks)
    assert_refused_within_seconds(bomb)


def test_a_small_gzipped_export_that_compresses_well_is_still_read(tmp_path: Path) -> None:
    packed = tmp_path / "export.xml.gz"
    packed.write_bytes(gzip.compress(DRUGBANK_5.read_bytes() + b" " * 1_000_000))
    tables, _ = import_drugbank_xml(packed, progress=False)
    assert len(tables.drugs) == 5


@pytest.mark.parametrize(("name", "content"), [("export.zip", b"<drugbank/>"), ("export.xml.gz", b"plain text")])
def test_a_file_named_as_an_archive_that_is_not_one_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture, name: str, content: bytes
) -> None:
    """Before: a .zip that was not a zip was called "not well-formed XML at line 1"."""
    fake = tmp_path / name
    fake.write_bytes(content)
    status, error = run_cli(fake, tmp_path / "out", capsys)
    assert status == 2
    assert f"{fake}: not a " in error
    assert "well-formed XML" not in error


def test_a_traversing_member_name_is_read_in_memory_never_extracted(tmp_path: Path) -> None:
    archive_path = tmp_path / "deep" / "er" / "export.zip"
    archive_path.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.writestr("../../x.xml", DRUGBANK_5.read_bytes())
    tables, _ = import_drugbank_xml(archive_path, progress=False)
    assert len(tables.drugs) == 5
    assert not (tmp_path / "x.xml").exists()


@pytest.mark.parametrize(
    ("xml", "found"),
    [
        (b"<catalog><drug><drugbank-id>DB00001</drugbank-id><name>A</name></drug></catalog>", "<catalog>"),
        (
            b'<drugbank xmlns="http://example.com/other"><drug><drugbank-id>DB00001</drugbank-id></drug></drugbank>',
            "http://example.com/other",
        ),
    ],
)
def test_xml_of_another_root_or_namespace_is_refused(tmp_path: Path, xml: bytes, found: str) -> None:
    """Before: any root holding <drug> children was imported as if it were DrugBank's."""
    other = tmp_path / "other.xml"
    other.write_bytes(xml)
    with pytest.raises(XmlImportError, match=f"other.xml: .*{found}.*not a DrugBank XML export"):
        import_drugbank_xml(other, progress=False)


def failing_on_second_table(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    """Make the second table written fail with ``error``, after the first was written whole."""
    to_csv = pd.DataFrame.to_csv
    calls = []

    def flaky(self: pd.DataFrame, *args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise error
        return to_csv(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(pd.DataFrame, "to_csv", flaky)


@pytest.mark.parametrize(
    ("error", "status"), [(OSError(errno.ENOSPC, "No space left on device"), 2), (KeyboardInterrupt(), 130)]
)
def test_a_write_cut_short_leaves_no_half_written_layout(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, error: BaseException, status: int
) -> None:
    """Before: the tables written before a full disk or a Ctrl-C stayed in --out, beside a missing or partial one."""
    failing_on_second_table(monkeypatch, error)
    out = tmp_path / "new" / "out"
    assert run_cli(DRUGBANK_5, out, capsys)[0] == status
    assert not (tmp_path / "new").exists()

    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "drugs.tsv").write_text("earlier import\n")
    failing_on_second_table(monkeypatch, error)
    code, message = run_cli(DRUGBANK_5, earlier, capsys)
    assert code == status
    if status == 2:
        assert "No space left on device" in message
    assert [p.name for p in earlier.iterdir()] == ["drugs.tsv"]
    assert (earlier / "drugs.tsv").read_text() == "earlier import\n"


def test_an_import_replaces_an_earlier_one_whole(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "ddi.tsv").write_text("stale\n")
    # An import killed mid-write (SIGKILL) leaves its staging folder: the next import is not refused, and removes it.
    (out / ".import-killed").mkdir()
    (out / ".import-killed" / "ddi.tsv").write_text("half\n")
    assert run_cli(DRUGBANK_5, out, capsys) == (0, "")
    assert sorted(p.name for p in out.iterdir()) == [
        "ddi.tsv",
        "drug_protein.tsv",
        "drugs.tsv",
        "interaction_types.tsv",
        "proteins.tsv",
    ]
    assert (out / "ddi.tsv").read_text().startswith("drug1_id\t")


def test_an_out_inside_the_input_directory_is_fine(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    xml = tmp_path / "export.xml"
    xml.write_bytes(DRUGBANK_5.read_bytes())
    assert run_cli(xml, tmp_path / "imported", capsys) == (0, "")
    assert xml.read_bytes() == DRUGBANK_5.read_bytes()
