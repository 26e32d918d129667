"""The ``ddi`` entry point: version, help, and how errors reach the user (one line, the right exit code)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import ddi
from ddi.cli import data as data_cli
from ddi.cli.main import main
from ddi.errors import UserInputError

pytestmark = pytest.mark.usefixtures("restore_root_logging")


def test_version_is_printed_in_process(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"ddi {ddi.__version__}"


def test_version_from_a_real_process() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ddi.cli.main", "--version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ddi {ddi.__version__}"
    assert "Traceback" not in result.stderr


def test_no_arguments_prints_help_and_succeeds(capsys: pytest.CaptureFixture) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ddi")
    assert "drug-drug interaction" in out
    assert "data" in out and "--version" in out


def test_help_of_data_stats_lists_its_options(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        main(["data", "stats", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--data-dir", "--split-seed", "--json"):
        assert option in out


@pytest.mark.parametrize(
    "argv", [["no-such-command"], ["data"], ["data", "stats", "--split-seed", "one"], ["--no-such-flag"]]
)
def test_bad_usage_exits_2_with_a_usage_message(capsys: pytest.CaptureFixture, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "usage: ddi" in err and "error:" in err
    assert "Traceback" not in err


def failing_with(exc: BaseException):
    def run(args) -> int:
        raise exc

    return run


def test_a_user_input_error_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data_cli, "run_stats", failing_with(UserInputError("drugs.tsv: missing column(s) x")))
    assert main(["data", "stats"]) == 2
    captured = capsys.readouterr()
    assert captured.err == "ddi: error: drugs.tsv: missing column(s) x\n"
    assert captured.out == ""


def test_an_unexpected_error_is_one_line_and_exit_1_unless_debugging(
    capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data_cli, "run_stats", failing_with(RuntimeError("boom")))
    assert main(["data", "stats"]) == 1
    err = capsys.readouterr().err
    assert err == "ddi: unexpected error: RuntimeError: boom (run with --debug for details)\n"

    with pytest.raises(RuntimeError, match="boom"):
        main(["--debug", "data", "stats"])


def test_an_interrupt_exits_130(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data_cli, "run_stats", failing_with(KeyboardInterrupt()))
    assert main(["data", "stats"]) == 130
    assert capsys.readouterr().err == "ddi: interrupted\n"


def test_a_closed_output_pipe_is_not_an_error(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """``ddi info | head -1``: the reader left early; no "unexpected error", the exit status of SIGPIPE."""
    monkeypatch.setattr(data_cli, "run_stats", failing_with(BrokenPipeError(32, "Broken pipe")))
    assert main(["data", "stats"]) == 141
    assert capsys.readouterr().err == ""


def test_out_of_memory_is_a_one_line_error(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data_cli, "run_stats", failing_with(MemoryError()))
    assert main(["data", "stats"]) == 1
    assert capsys.readouterr().err.startswith("ddi: error: out of memory")


def test_the_command_exit_code_is_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data_cli, "run_stats", lambda args: 3)
    assert main(["data", "stats"]) == 3
    monkeypatch.setattr(data_cli, "run_stats", lambda args: None)
    assert main(["data", "stats"]) == 0


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("missing", "does not exist"),
        ("empty", "is not a ddi model: missing model.pt, config.json, vocab.json"),
        ("random", "model.pt is not a readable state dict of tensors: the file is corrupt, truncated"),
        ("truncated", "model.pt is not a readable state dict of tensors: the file is corrupt, truncated"),
    ],
)
def test_a_broken_model_directory_is_named_in_one_line(
    capsys: pytest.CaptureFixture, tmp_path, damage: str, message: str
) -> None:
    import shutil
    from pathlib import Path

    shipped = Path(__file__).parents[2] / "models" / "default"
    model = tmp_path / "model"
    if damage != "missing":
        model.mkdir()
    if damage in ("random", "truncated"):
        for name in ("config.json", "vocab.json"):
            shutil.copy(shipped / name, model / name)
        head = (shipped / "model.pt").read_bytes()[:200] if damage == "truncated" else bytes(range(256)) * 8
        (model / "model.pt").write_bytes(head)
    assert main(["info", "--model", str(model)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err and "weights_only" not in err
    assert len(err.strip().splitlines()) == 1


def test_info_describes_the_shipped_model_and_a_new_one(capsys: pytest.CaptureFixture, tiny_model_dir) -> None:
    from pathlib import Path

    shipped = Path(__file__).parents[2] / "models" / "default"
    assert main(["info", "--model", str(shipped)]) == 0
    out = capsys.readouterr().out
    assert "parameters: " in out and "trained on: split s0" in out and "test: macro_f1 0.9" in out
    assert "look-alike votes: 16 look-alikes per drug, by structure, proteins, ATC class and DrugBank categories" in out
    assert "per-drug vectors on" in out
    assert main(["info", "--model", str(tiny_model_dir)]) == 0
    out = capsys.readouterr().out
    assert "look-alike votes: 16 look-alikes per drug, by structure, proteins, ATC class and DrugBank categories" in out


def test_evaluate_on_another_split_counts_the_test_pairs_the_model_trained_on(
    capsys: pytest.CaptureFixture, tiny_model_dir, tmp_path
) -> None:
    """A researcher evaluating a model on a split it was not trained on is told which figures are not a test."""
    import json

    import pandas as pd

    trained = {
        part: pd.read_csv(tiny_model_dir.parent / "tiny-split" / f"{part}.tsv", sep="\t")
        for part in ("train", "valid", "test")
    }
    other = tmp_path / "other-split"
    other.mkdir()
    trained["train"].iloc[40:].to_csv(other / "train.tsv", sep="\t", index=False)
    trained["valid"].to_csv(other / "valid.tsv", sep="\t", index=False)
    # 40 of the model's training pairs, each in the other order, beside its own 200 test pairs
    swapped = trained["train"].iloc[:40].rename(columns={"drug1_id": "drug2_id", "drug2_id": "drug1_id"})
    pd.concat([trained["test"], swapped]).to_csv(other / "test.tsv", sep="\t", index=False)
    assert main(["evaluate", "--model", str(tiny_model_dir), "--split-dir", str(other), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["pairs_seen_in_training"] == 40
    assert f"40 of the 240 test pairs were training pairs of {tiny_model_dir} (trained on " in captured.err
    # on its own split nothing is said
    assert main(["evaluate", "--model", str(tiny_model_dir), "--json"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert "pairs_seen_in_training" not in report and "training pairs of" not in captured.err
    # the benchmark's types word two effects two ways: the figures with each pair as one type come along
    as_one = report["with_same_effect_wordings_as_one_type"]
    assert as_one["wordings"] == [[4, 75], [47, 73]] and as_one["accuracy"] >= report["accuracy"]


def test_evaluate_against_a_reference_says_whether_the_margin_is_real(
    capsys: pytest.CaptureFixture, tiny_model_dir, tmp_path, copy_leaning_to_first_type
) -> None:
    """A researcher comparing a retrained model with another learns whether its margin is more than chance."""
    import json

    # A reference that always leans to one type: clearly worse than the model on the same pairs.
    worse = copy_leaning_to_first_type(tiny_model_dir, tmp_path / "worse-model", 50.0)
    args = ["evaluate", "--model", str(tiny_model_dir), "--against", str(worse), "--resamples", "200"]
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    against = report["against"]
    assert against["reference"] == str(worse) and against["resamples"] == 200
    accuracy = against["difference"]["accuracy"]
    assert accuracy["difference"] == pytest.approx(report["accuracy"] - against["reference_figures"]["accuracy"])
    assert accuracy["low"] > 0 and accuracy["b_better"] == 1.0
    listed = against["as_listed"]["difference"]["accuracy"]  # the same, each pair read as listed
    assert listed["difference"] == pytest.approx(
        report["as_listed"]["accuracy"] - against["as_listed"]["reference_figures"]["accuracy"]
    )
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"against {worse} (this model minus it; paired bootstrap over the test pairs):" in out
    assert "the pairs support it" in out
    # The listed reading is printed where it is the one to compare by: a model trained on rows as listed.
    assert "each pair read only in the order its row lists it:" not in out
    listed = copy_leaning_to_first_type(tiny_model_dir, tmp_path / "worse-listed-model", 50.0, listed_order=True)
    assert main(["evaluate", "--model", str(tiny_model_dir), "--against", str(listed), "--resamples", "200"]) == 0
    out = capsys.readouterr().out
    block = out[out.index("  each pair read only in the order its row lists it:\n") :]
    assert block.count("points (95 % interval") == 3 and "    accuracy " in block
    # Against itself every difference is zero, and said to be chance.
    itself = ["evaluate", "--model", str(tiny_model_dir), "--against", str(tiny_model_dir), "--resamples", "20"]
    assert main(itself) == 0
    captured = capsys.readouterr()
    out = captured.out
    assert out.count("+0.00 points (95 % interval +0.00 to +0.00") == 3 and "the pairs support it" not in out
    assert "is the model itself" in captured.err and "20 resample(s)" in captured.err
    assert main(["evaluate", "--model", str(tiny_model_dir), "--against", str(worse), "--resamples", "0"]) == 2
    assert "--resamples must be between 1 and 100,000" in capsys.readouterr().err
    assert main(["evaluate", "--model", str(tiny_model_dir), "--against", str(worse), "--resamples", "10000000"]) == 2
    assert "--resamples must be between 1 and 100,000 (got 10,000,000)" in capsys.readouterr().err


def test_evaluate_with_other_models_scores_them_as_one_ensemble(
    capsys: pytest.CaptureFixture, tiny_model_dir, tmp_path, copy_leaning_to_first_type
) -> None:
    """A researcher averaging models trained with several seeds gets the ensemble's figures, both readings."""
    import json

    # A member sure of the first type on every pair outweighs the model: the ensemble's answers are not its own.
    # It was trained on rows as listed: its listed figures are the ones to compare it by.
    leaning = copy_leaning_to_first_type(tiny_model_dir, tmp_path / "leaning-model", 50.0, listed_order=True)
    assert main(["evaluate", "--model", str(tiny_model_dir), "--json"]) == 0
    alone = json.loads(capsys.readouterr().out)
    assert main(["evaluate", "--model", str(tiny_model_dir), "--with", str(leaning), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ensemble"] == [str(tiny_model_dir), str(leaning)] and report["n"] == alone["n"]
    assert "ensemble" not in alone and report["accuracy"] < alone["accuracy"]
    assert set(report["as_listed"]) == {"macro_f1", "accuracy", "kappa", "n"}
    assert main(["evaluate", "--model", str(tiny_model_dir), "--with", str(leaning)]) == 0
    out = capsys.readouterr().out
    assert f"an ensemble of 2 models, probabilities averaged: {tiny_model_dir}, {leaning}" in out
    assert f"accuracy  {report['accuracy']:.4f}" in out
    assert "trained on rows as listed (train.listed_order): these are the figures to compare it by" in out
    assert main(["evaluate", "--model", str(tiny_model_dir)]) == 0
    assert "trained on rows as listed" not in capsys.readouterr().out
    assert main(["evaluate", "--model", str(tiny_model_dir), "--with", str(tmp_path / "no-such-model")]) == 2
    assert "no-such-model" in capsys.readouterr().err


def test_evaluate_reports_the_figures_and_where_the_mistakes_are(capsys: pytest.CaptureFixture, tiny_model_dir) -> None:
    import json

    assert main(["evaluate", "--model", str(tiny_model_dir), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert 0.0 <= report["macro_f1"] <= 1.0 and report["n"] > 0
    mistakes = report["confusions"]
    assert mistakes and all(m["true"] != m["predicted"] for m in mistakes)
    assert [m["pairs"] for m in mistakes] == sorted((m["pairs"] for m in mistakes), reverse=True)
    # The listed mistakes are real errors: never more of them than the accuracy leaves.
    assert sum(m["pairs"] for m in mistakes) <= round((1 - report["accuracy"]) * report["n"])
    assert main(["evaluate", "--model", str(tiny_model_dir)]) == 0
    out = capsys.readouterr().out
    top = mistakes[0]
    assert f"commonest mistakes (true type as predicted type: pairs): {top['true']} as {top['predicted']}: " in out


@pytest.mark.parametrize(
    ("part", "rows"),
    [("test", "none"), ("test", "unknown drugs"), ("valid", "none")],
)
def test_evaluate_with_no_pairs_to_score_names_the_file(
    capsys: pytest.CaptureFixture, tiny_model_dir, tmp_path, part: str, rows: str
) -> None:
    """A split file with a header only, or whose every row is dropped, is a clear error, not a torch one."""
    import shutil

    split = tmp_path / "split"
    shutil.copytree(tiny_model_dir.parent / "tiny-split", split)
    body = "" if rows == "none" else "DB99999\tDB99998\t1\n"
    (split / f"{part}.tsv").write_text("drug1_id\tdrug2_id\ttype\n" + body)
    argv = ["evaluate", "--model", str(tiny_model_dir), "--split-dir", str(split), "--part", part]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"ddi: error: no {part} pairs to evaluate in {split / f'{part}.tsv'}: it has no rows" in err
    assert "unexpected error" not in err


def copy_of_shipped_model(tmp_path):
    """A copy of the shipped model directory, to damage one file of."""
    import shutil
    from pathlib import Path

    model = tmp_path / "model"
    shutil.copytree(Path(__file__).parents[2] / "models" / "default", model)
    return model


@pytest.mark.parametrize("name", ["config.json", "vocab.json", "metrics.json"])
def test_a_model_file_that_is_not_utf8_is_named(capsys: pytest.CaptureFixture, tmp_path, name: str) -> None:
    model = copy_of_shipped_model(tmp_path)
    (model / name).write_bytes((model / name).read_bytes().replace(b'"', b'"caf\xe9 ', 1))  # Latin-1 e-acute
    for argv in (["info"], ["ask", "aspirin", "warfarin"], ["evaluate"]):
        assert main([*argv, "--model", str(model)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"ddi: error: {model / name}: not UTF-8 text ('utf-8' codec can't decode byte 0xe9")
        assert len(err.strip().splitlines()) == 1


def test_info_shows_the_card_of_a_model_whose_metrics_have_wrong_types(capsys: pytest.CaptureFixture, tmp_path) -> None:
    """The metrics file reports on the model; fields of the wrong type are left out with a warning."""
    import json

    model = copy_of_shipped_model(tmp_path)
    (model / "metrics.json").write_text(json.dumps({"test": "high", "parameters": "many", "history": 5}))
    assert main(["info", "--model", str(model)]) == 0
    captured = capsys.readouterr()
    assert "parameters: " in captured.out and "trained on: split s0" in captured.out
    assert "test:" not in captured.out
    assert f"{model / 'metrics.json'} is malformed; left out: " in captured.err
    for problem in ("test must be an object (got 'high')", "parameters must be an integer (got 'many')"):
        assert problem in captured.err
    assert main(["info", "--model", str(model), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["test"] == {}


def test_info_names_a_listed_order_model_its_teacher_flow_expert_and_both_readings(
    capsys: pytest.CaptureFixture, tmp_path
) -> None:
    """The card of a model trained as listed says so, gives its test figures read as listed beside the answers',
    and names the model it was distilled from and its flow expert's weight; a wrong-typed weight is left out with
    a warning."""
    import json

    model = copy_of_shipped_model(tmp_path)
    config = json.loads((model / "config.json").read_text())
    config["model"].update(flow_layers=3, flow_dim=32, flow_expert=True)
    config["train"].update(listed_order=True, teacher="runs/dense", teacher_weight=0.5)
    (model / "config.json").write_text(json.dumps(config))
    metrics = json.loads((model / "metrics.json").read_text())
    metrics["test"]["as_listed"] = {"macro_f1": 0.9551, "accuracy": 0.9776, "kappa": 0.9734, "n": 38419}
    metrics["flow_expert"] = {"flow_weight": 0.4}
    (model / "metrics.json").write_text(json.dumps(metrics))
    assert main(["info", "--model", str(model)]) == 0
    out = capsys.readouterr().out
    assert "flow: 3 steps over the whole graph, dim 32, an expert of its own (weight 0.4)" in out
    assert "training order: rows as listed (train.listed_order)" in out
    assert "distilled from: runs/dense (weight 0.5, temperature 1.0)" in out
    assert "test: macro_f1 0.9" in out
    assert "test, each pair read as listed: macro_f1 0.9551, accuracy 0.9776, kappa 0.9734" in out
    metrics["flow_expert"] = {"flow_weight": "high"}
    (model / "metrics.json").write_text(json.dumps(metrics))
    assert main(["info", "--model", str(model)]) == 0
    captured = capsys.readouterr()
    assert "an expert of its own (weight not recorded)" in captured.out
    assert "flow_expert.flow_weight must be a number (got 'high')" in captured.err
    # the shipped model: trained in random orders, no flow
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "training order" not in out and "flow:" not in out and "distilled from" not in out


def test_info_rejects_a_config_that_loading_the_model_rejects(capsys: pytest.CaptureFixture, tmp_path) -> None:
    import json

    model = copy_of_shipped_model(tmp_path)
    config = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps({**config, "split": "s9"}))
    message = f"ddi: error: {model / 'config.json'}: invalid config: unknown split setting 's9'; choose one of"
    for argv in (["info"], ["ask", "aspirin", "warfarin"]):
        assert main([*argv, "--model", str(model)]) == 2
        assert capsys.readouterr().err.startswith(message)


def test_info_on_a_file_says_it_is_not_a_directory(capsys: pytest.CaptureFixture, tmp_path) -> None:
    model = copy_of_shipped_model(tmp_path)
    assert main(["info", "--model", str(model / "config.json")]) == 2
    assert capsys.readouterr().err == f"ddi: error: model directory {model / 'config.json'} is not a directory\n"


def test_info_on_a_model_whose_vocab_is_not_an_object_is_one_line(capsys: pytest.CaptureFixture, tmp_path) -> None:
    model = copy_of_shipped_model(tmp_path)
    (model / "vocab.json").write_text("[1, 2]")
    assert main(["info", "--model", str(model)]) == 2
    assert capsys.readouterr().err == f"ddi: error: {model / 'vocab.json'} is malformed: not a JSON object\n"


def test_evaluate_names_the_tested_types_line_without_a_nan() -> None:
    from ddi.cli.evaluate import tested_types_line

    few = tested_types_line({1: 1.0, 2: 0.5}, {1: 3, 2: 1}, "test")
    assert few == "  no type has >= 5 test pairs: each per-type F1 rests on a handful of pairs"
    some = tested_types_line({1: 1.0, 2: 0.0}, {1: 9, 2: 1}, "valid")
    assert some == "  macro-F1 over the 1 types with >= 5 valid pairs: 1.0000"
    assert tested_types_line({1: 1.0}, {1: 9}, "test") is None


def test_info_check_loads_the_model_and_names_weights_that_do_not_fit(
    capsys: pytest.CaptureFixture, tiny_model_dir, tmp_path
) -> None:
    import json
    import shutil

    assert main(["info", "--model", str(tiny_model_dir), "--check", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["check"].startswith("the weights load")
    # A config edited after training: the card (files only) still reads, the check names the mismatch.
    model = tmp_path / "edited"
    shutil.copytree(tiny_model_dir, model)
    config = json.loads((model / "config.json").read_text())
    config["model"]["head_dim"] = config["model"]["head_dim"] * 2
    (model / "config.json").write_text(json.dumps(config))
    assert main(["info", "--model", str(model)]) == 0
    capsys.readouterr()
    assert main(["info", "--model", str(model), "--check"]) == 2
    err = capsys.readouterr().err
    assert "the weights do not fit the configured model" in err and "Traceback" not in err


def test_train_saves_the_split_data_and_teacher_directories_as_absolute_paths(tmp_path, monkeypatch) -> None:
    # A model trained with `--split-dir mine` must find its split again when reloaded from elsewhere.
    from ddi.cli.main import build_parser
    from ddi.cli.train import build_run_config

    monkeypatch.chdir(tmp_path)
    argv = ["train", "--split-dir", "mine", "--data-dir", "data", "--teacher", "dense", "--out", "m"]
    run = build_run_config(build_parser().parse_args(argv))
    root = tmp_path.resolve()
    assert run.split_dir == str(root / "mine") and run.data_dir == str(root / "data")
    assert run.train.teacher == str(root / "dense")  # named by the model card wherever it is read
