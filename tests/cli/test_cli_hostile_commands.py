"""``ddi ask``, ``paths``, ``predict`` and ``regimen`` given hostile arguments: a bad ``--out`` or a blank drug is
named before anything loads, the input file is never overwritten, and ``--json`` prints JSON even on failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ddi.cli.main import main

pytestmark = pytest.mark.usefixtures("restore_root_logging")

# A model directory that does not exist: where its error is the one seen, the model was loaded first.
NO_MODEL = ["--model", "/nonexistent-model"]


def _error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("ddi INFO")]
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith("ddi: error: "), err
    return lines[0]


@pytest.fixture
def pairs_csv(tmp_path: Path) -> Path:
    path = tmp_path / "pairs.csv"
    path.write_text("drug1,drug2\nwarfarin,aspirin\n")
    return path


@pytest.mark.parametrize(
    ("out_name", "message"),
    [
        ("scored.xlsx", "unsupported file type"),
        ("dir.csv", "is a directory; give a file name such as"),
        ("pairs.csv", "the output would overwrite the input; choose another --out"),
    ],
)
def test_predict_refuses_a_bad_out_before_the_model_loads(capsys, tmp_path, pairs_csv, out_name, message):
    (tmp_path / "dir.csv").mkdir()
    assert main(["predict", str(pairs_csv), "--out", str(tmp_path / out_name), *NO_MODEL]) == 2
    assert message in _error_line(capsys.readouterr().err)
    assert pairs_csv.read_text() == "drug1,drug2\nwarfarin,aspirin\n"


def test_regimen_file_never_overwrites_the_medication_list(capsys, tmp_path):
    meds = tmp_path / "meds.csv"
    meds.write_text("patient,drug\n1,warfarin\n1,aspirin\n")
    link = tmp_path / "link.csv"
    link.symlink_to(meds)  # the same file under another name
    for out in (meds, link):
        assert main(["regimen", "--file", str(meds), "--out", str(out), *NO_MODEL]) == 2
        assert "the output would overwrite the input" in _error_line(capsys.readouterr().err)
    assert meds.read_text() == "patient,drug\n1,warfarin\n1,aspirin\n"


def test_regimen_out_that_is_a_directory_is_refused_before_the_model_loads(capsys, tmp_path):
    out = tmp_path / "pairs.csv"
    out.mkdir()
    assert main(["regimen", "warfarin", "aspirin", "--out", str(out), *NO_MODEL]) == 2
    assert "is a directory" in _error_line(capsys.readouterr().err)


@pytest.mark.parametrize(("drugs", "label"), [(["", "warfarin"], "DRUG1"), (["warfarin", " \t"], "DRUG2")])
def test_paths_names_a_blank_drug_before_loading_the_data(capsys, drugs, label):
    assert main(["paths", *drugs, "--data-dir", "/nonexistent-data"]) == 2
    assert _error_line(capsys.readouterr().err) == f"ddi: error: {label} is empty"


@pytest.mark.parametrize(
    "argv",
    [
        ["ask", "warfarin", "aspirin", "--json", *NO_MODEL],
        ["regimen", "warfarin", "--json", *NO_MODEL],
        ["regimen", "warfarin", "aspirin", "--json", "--out", "x.xlsx", *NO_MODEL],
    ],
)
def test_json_errors_are_json_on_stdout_and_one_line_on_stderr(capsys, argv):
    assert main(argv) == 2
    captured = capsys.readouterr()
    line = _error_line(captured.err)
    assert json.loads(captured.out) == {"error": line.removeprefix("ddi: error: ")}


def test_an_unexpected_error_with_json_is_json_too(capsys, monkeypatch):
    import ddi.serve.regimen

    def boom(texts):
        raise RuntimeError("boom")

    monkeypatch.setattr(ddi.serve.regimen, "regimen_drugs", boom)
    assert main(["regimen", "a", "b", "--json", *NO_MODEL]) == 1
    assert json.loads(capsys.readouterr().out) == {"error": "unexpected error: RuntimeError: boom"}


@pytest.fixture(scope="module")
def model_args(tiny_model_dir, data_dir) -> list[str]:
    return ["--model", str(tiny_model_dir), "--data-dir", str(data_dir)]


def test_regimen_json_with_a_pair_not_scored_is_valid_json(capsys, model_args):
    assert main(["regimen", "warfarin", "aspirin", "xyzzy", "--json", *model_args]) == 0
    out = capsys.readouterr().out
    assert "NaN" not in out
    pairs = json.loads(out)["pairs"]
    failed = [p for p in pairs if p["error"]]
    assert len(pairs) == 3 and len(failed) == 2
    assert all(p["probability"] is None and p["exists_score"] is None for p in failed)


def test_regimen_file_json_prints_the_summary_as_json(capsys, model_args, tmp_path):
    meds = tmp_path / "meds.csv"
    meds.write_text("patient,drug\n1,warfarin\n1,aspirin\n2,simvastatin\n")
    out = tmp_path / "pairs.csv"
    assert main(["regimen", "--file", str(meds), "--out", str(out), "--json", *model_args]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["regimens"] == 2 and summary["pairs"] == 1 and summary["notes"] == 1
    assert summary["out"] == str(out) and out.is_file()


@pytest.mark.parametrize(
    "argv",
    [
        ["ask", "warfarin", "aspirin", "--model", ""],
        ["predict", "pairs.csv", "--out", "o.csv", "--model", " "],
        ["regimen", "warfarin", "aspirin", "--model", ""],
        ["featurize", "--cache-dir", ""],
    ],
)
def test_a_blank_path_option_is_refused_not_read_as_the_default(capsys, argv):
    # --data-dir makes a run that went ahead fail fast instead of loading the shipped model.
    with pytest.raises(SystemExit) as info:
        main([*argv, "--data-dir", "/nonexistent-data"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "empty; leave the option out for its default" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [["info", "--model", ""], ["evaluate", "--model", " "], ["ask", "warfarin", "aspirin", "--data-dir", ""]],
)
def test_a_blank_model_or_data_directory_is_refused_by_every_command(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "empty; leave the option out for its default" in capsys.readouterr().err
