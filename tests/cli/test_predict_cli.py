"""``ddi predict``: exit codes, the summary line, and one clear error line (never a traceback) for bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ddi.cli.main import main

pytestmark = pytest.mark.usefixtures("restore_root_logging")


@pytest.fixture(scope="module")
def model_dir(tiny_model_dir) -> str:
    return str(tiny_model_dir)


@pytest.fixture
def pairs_csv(tmp_path) -> Path:
    path = tmp_path / "pairs.csv"
    path.write_text("id,first,second\n1,simvastatin,clarithromycin\n2,xyzzy,warfarin\n3,DB00945,DB00682\n")
    return path


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith("ddi: error: "), err
    return lines[0]


def test_scores_a_file_and_prints_a_summary(capsys, model_dir, data_dir, pairs_csv, tmp_path):
    out_path = tmp_path / "scored.parquet"
    argv = ["predict", str(pairs_csv), "--out", str(out_path), "--cols", "first", "second", "--top-k", "2"]
    argv += ["--model", model_dir, "--data-dir", str(data_dir), "--no-progress", "--chunksize", "2"]
    assert main(argv) == 0
    summary = capsys.readouterr().out
    assert summary.startswith("3 rows: 2 scored, 1 failed (see the error column); ")
    assert summary.rstrip().endswith(f"pairs/s -> {out_path}")
    out = pd.read_parquet(out_path)
    assert out["id"].tolist() == ["1", "2", "3"]
    assert out["drug1_id"].tolist() == ["DB00641", "", "DB00945"]
    assert "top2_types" in out.columns
    assert out["error"].tolist()[1].startswith("first: unknown drug 'xyzzy'")


def test_quiet_shows_no_progress_bars(capsys, model_dir, data_dir, pairs_csv, tmp_path):
    """A script that asks for quiet gets its summary line and nothing on stderr but warnings."""
    argv = ["predict", str(pairs_csv), "--out", str(tmp_path / "o.csv"), "--cols", "first", "second"]
    argv += ["--model", model_dir, "--data-dir", str(data_dir)]
    assert main(["-q", *argv]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("3 rows: 2 scored, 1 failed")
    assert "scoring" not in captured.err and "featurising" not in captured.err
    assert main(argv) == 0  # without -q the bar is there
    assert "scoring" in capsys.readouterr().err


def test_bad_input_is_reported_before_the_model_loads(capsys, tmp_path, pairs_csv):
    missing_model = str(tmp_path / "no-model")
    assert main(["predict", str(pairs_csv), "--out", str(tmp_path / "o.csv"), "--model", missing_model]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "no drug columns found; the columns are 'id', 'first', 'second'" in line
    assert main(["predict", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o.csv")]) == 2
    assert _one_error_line(capsys.readouterr().err).endswith("nope.csv: no such file")


def test_a_missing_model_is_one_error_line(capsys, tmp_path, pairs_csv):
    argv = ["predict", str(pairs_csv), "--out", str(tmp_path / "o.csv"), "--cols", "first", "second"]
    assert main([*argv, "--model", str(tmp_path / "no-model")]) == 2
    assert "does not exist" in _one_error_line(capsys.readouterr().err)


def test_without_a_default_model_the_error_says_how_to_get_one(capsys, monkeypatch, tmp_path, pairs_csv):
    monkeypatch.setattr("ddi.predict.predictor.DEFAULT_MODEL_DIR", tmp_path / "models" / "default")
    assert main(["predict", str(pairs_csv), "--out", str(tmp_path / "o.csv"), "--cols", "first", "second"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "no default model at" in line
    assert "ddi train --out" in line


def test_bad_option_values_exit_2(capsys, pairs_csv, tmp_path):
    for option in (["--top-k", "0"], ["--chunksize", "ten"], ["--cols", "first"]):
        with pytest.raises(SystemExit) as caught:
            main(["predict", str(pairs_csv), "--out", str(tmp_path / "o.csv"), *option])
        assert caught.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_binary_garbage_from_a_real_process(tmp_path):
    garbage = tmp_path / "pairs.csv"
    garbage.write_bytes(bytes(range(256)) * 100)
    result = subprocess.run(
        [sys.executable, "-m", "ddi.cli.main", "predict", str(garbage), "--out", str(tmp_path / "o.csv")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert _one_error_line(result.stderr) == f"ddi: error: {garbage}: binary content, not a CSV text file"
    assert not (tmp_path / "o.csv").exists()
