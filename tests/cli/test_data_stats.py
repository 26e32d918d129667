"""``ddi data stats``: what a user sees about the loaded data, as text and as JSON, and its errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ddi.cli.main import main
from ddi.data.location import DATA_DIR_ENV
from ddi.data.splits import load_split
from ddi.data.tables import Tables

pytestmark = pytest.mark.usefixtures("restore_root_logging")

LAYOUT = Path(__file__).resolve().parents[1] / "fixtures" / "tables" / "layout"


def fmt(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in counts.items())


def test_stats_of_the_real_benchmark_as_text(
    capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, data_dir: Path, benchmark_tables: Tables
) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(data_dir))
    assert main(["data", "stats"]) == 0
    captured = capsys.readouterr()
    lines = [line.split() for line in captured.out.splitlines()]
    assert f"data directory: {data_dir}" in captured.out
    for table, count in [
        ("drugs", "1,710"),
        ("interaction_types", "86"),
        ("interactions", "192,284"),
        ("proteins", "4,130"),  # 4,041 in proteins.tsv, 89 named from the protein reference
    ]:
        assert [table, count] in lines, table
    assert "interaction types: 86 used" in captured.out
    assert "  s0: train 134,641, valid 19,224, test 38,419\n" in captured.out
    for setting in ("s1", "s2"):
        counts = load_split(setting, benchmark_tables, seed=0).counts()
        assert f"  {setting}: {fmt(counts)}\n" in captured.out
    assert "splits (seed 0 for s1/s2):" in captured.out
    assert "knowledge graph" in captured.out
    # Progress goes to stderr as log lines, never to stdout.
    assert "ddi INFO: loaded" in captured.err
    assert "INFO" not in captured.out


def test_stats_as_json(capsys: pytest.CaptureFixture, data_dir: Path, benchmark_tables: Tables) -> None:
    assert main(["-q", "data", "stats", "--data-dir", str(data_dir), "--json", "--split-seed", "1"]) == 0
    captured = capsys.readouterr()
    stats = json.loads(captured.out)
    assert set(stats) == {
        "data_dir",
        "tables",
        "dropped",
        "notes",
        "interactions_per_type",
        "splits",
        "knowledge_graph_s0",
    }
    assert stats["data_dir"] == str(data_dir)
    assert stats["tables"] == benchmark_tables.counts()
    assert stats["tables"]["interactions"] == 192_284
    per_type = stats["interactions_per_type"]
    assert sorted(int(t) for t in per_type) == list(range(1, 87))
    assert sum(per_type.values()) == 192_284
    assert stats["splits"]["s0"] == {"train": 134_641, "valid": 19_224, "test": 38_419}
    for setting in ("s1", "s2"):
        assert stats["splits"][setting] == load_split(setting, benchmark_tables, seed=1).counts()
    assert stats["splits"]["s1"] != load_split("s1", benchmark_tables, seed=0).counts()
    assert all(isinstance(line, str) for line in stats["dropped"] + stats["notes"])
    assert {"nodes", "edges"} <= set(stats["knowledge_graph_s0"])
    assert "INFO" not in captured.err  # -q: warnings only


def test_stats_of_a_small_layout_without_a_shipped_split(capsys: pytest.CaptureFixture) -> None:
    assert main(["-q", "data", "stats", "--data-dir", str(LAYOUT), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["tables"] == {
        "drugs": 6,
        "interaction_types": 3,
        "interactions": 7,
        "drug_protein": 3,
        "proteins": 2,
    }
    assert sum(stats["splits"]["s0"].values()) == 7  # the random pair split covers every pair
    assert stats["dropped"] == []
    assert stats["notes"] == ["drugs: 1 drug(s) have no SMILES or InChI (kept; they get no molecule graph): DB00006"]


def assert_one_line_user_error(captured, *fragments: str) -> None:
    assert captured.out == ""
    assert "Traceback" not in captured.err
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("ddi: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_a_missing_data_dir_exits_2_with_one_line(capsys: pytest.CaptureFixture) -> None:
    assert main(["data", "stats", "--data-dir", "/nonexistent"]) == 2
    assert_one_line_user_error(capsys.readouterr(), "/nonexistent", "does not exist")


def test_a_data_dir_that_is_a_file_is_not_said_to_be_missing(capsys: pytest.CaptureFixture) -> None:
    a_file = LAYOUT / "drugs.tsv"
    assert main(["data", "stats", "--data-dir", str(a_file)]) == 2
    assert_one_line_user_error(capsys.readouterr(), str(a_file), "is not a directory")


def test_a_negative_split_seed_exits_2_with_one_line(capsys: pytest.CaptureFixture) -> None:
    """numpy refuses a negative seed with a bare ValueError; the user gets a message naming the seed."""
    assert main(["-q", "data", "stats", "--data-dir", str(LAYOUT), "--split-seed", "-1"]) == 2
    assert_one_line_user_error(capsys.readouterr(), "split seed must be a whole number of at least 0, not -1")


def test_a_missing_environment_data_dir_exits_2_with_one_line(
    capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "gone"))
    assert main(["data", "stats"]) == 2
    assert_one_line_user_error(capsys.readouterr(), DATA_DIR_ENV, "gone")


@pytest.mark.parametrize(
    ("filename", "content", "fragment"),
    [
        ("ddi.tsv", None, "required file ddi.tsv is missing"),
        ("ddi.tsv", b"\xff\xfe\x00garbage", "not a readable tab-separated file"),
        ("drugs.tsv", b"id\tname\nDB00001\tAlphanol\n", "missing column(s) drugbank_id"),
    ],
    ids=["missing-file", "garbage", "missing-column"],
)
def test_a_malformed_layout_exits_2_naming_the_file(
    capsys: pytest.CaptureFixture, tmp_path: Path, filename: str, content: bytes | None, fragment: str
) -> None:
    root = tmp_path / "layout"
    shutil.copytree(LAYOUT, root)
    if content is None:
        (root / filename).unlink()
    else:
        (root / filename).write_bytes(content)
    assert main(["-q", "data", "stats", "--data-dir", str(root)]) == 2
    assert_one_line_user_error(capsys.readouterr(), fragment, str(root))
