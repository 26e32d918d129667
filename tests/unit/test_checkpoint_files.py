"""A model directory whose files load but hold the wrong things is refused with one line naming the file."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import torch

from ddi.models.checkpoint import CheckpointError, check_model_out, load_weights, read_checkpoint, state_mismatch

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "default"


@pytest.fixture
def model(tmp_path: Path) -> Path:
    copy = tmp_path / "model"
    shutil.copytree(SHIPPED, copy)
    return copy


@pytest.mark.parametrize(
    ("vocab", "message"),
    [
        ([1, 2], "vocab.json is malformed: not a JSON object"),
        ({"num_nodes": 5}, "vocab.json is malformed: drug_ids is missing"),
        ({"drug_ids": "DB00945", "num_nodes": 5}, "drug_ids must be a list of strings (got 'DB00945')"),
    ],
)
def test_a_vocab_without_what_loading_reads_is_named(model: Path, vocab: object, message: str) -> None:
    (model / "vocab.json").write_text(json.dumps(vocab))
    with pytest.raises(CheckpointError) as caught:
        read_checkpoint(model)
    assert message in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ([torch.zeros(2)], "model.pt holds a list, not a state dict of named tensors"),
        ({"weight": 5}, "model.pt: entries that are not named tensors: 1 (e.g. 'weight')"),
    ],
)
def test_a_weights_file_that_is_not_a_state_dict_is_named(model: Path, state: object, message: str) -> None:
    torch.save(state, model / "model.pt")
    with pytest.raises(CheckpointError) as caught:
        read_checkpoint(model)
    assert message in str(caught.value)


def test_a_file_given_as_model_directory_is_not_said_to_be_missing(model: Path) -> None:
    with pytest.raises(CheckpointError, match=r"model directory .*config\.json is not a directory"):
        read_checkpoint(model / "config.json")
    with pytest.raises(CheckpointError, match=r"model directory .*nowhere does not exist"):
        read_checkpoint(model / "nowhere")


def test_state_mismatch_is_one_line_with_counts_and_an_example() -> None:
    expected = {"a": torch.zeros(64), "b": torch.zeros(64, 2), "c": torch.zeros(1)}
    state = {"a": torch.zeros(32), "b": torch.zeros(32, 2), "d": torch.zeros(1)}
    text = state_mismatch(expected, state)
    assert text == (
        "2 tensor(s) of another shape (e.g. a: [32] in the file, [64] in the model its config.json describes); "
        "1 tensor(s) missing (e.g. c); 1 unexpected tensor(s) (e.g. d)"
    )


def test_weights_that_do_not_fit_the_model_are_one_line_naming_the_directory() -> None:
    """The same message for ``--model`` and ``--init-from``: both load a directory's weights into its config's model."""
    model = torch.nn.Linear(4, 2)
    with pytest.raises(CheckpointError) as caught:
        load_weights(model, {"weight": torch.zeros(2, 3), "bias": torch.zeros(2)}, Path("models/edited"))
    assert str(caught.value) == (
        f"{Path('models/edited')}: the weights do not fit the configured model: 1 tensor(s) of another shape "
        "(e.g. weight: [2, 3] in the file, [2, 4] in the model its config.json describes)"
    )
    load_weights(model, {"weight": torch.ones(2, 4), "bias": torch.ones(2)}, Path("models/fine"))
    assert torch.equal(model.weight, torch.ones(2, 4))


def test_a_model_output_that_saving_would_destroy_is_refused_before_anything_runs(tmp_path: Path) -> None:
    from ddi.models.config import RunConfig
    from ddi.train.pipeline import train_and_save

    papers = tmp_path / "papers"
    papers.mkdir()
    (papers / "thesis.txt").write_text("years of work")
    note = tmp_path / "note.txt"
    note.write_text("keep")
    cases = [
        (papers, "a directory that is not a ddi model (no config.json)"),
        (note, "is a file, not a model directory"),
        (note / "model", "not a writable directory"),
    ]
    for out, message in cases:
        # The check runs before the data loads: an unreadable data directory would fail later, not first.
        run = RunConfig.from_dict({"data_dir": str(tmp_path / "no data")})
        with pytest.raises(CheckpointError, match=re.escape(message)):
            train_and_save(run, out, progress=False)
    assert (papers / "thesis.txt").read_text() == "years of work" and note.read_text() == "keep"
    check_model_out(tmp_path / "new")  # new, empty or a model: fine
    (tmp_path / "empty").mkdir()
    check_model_out(tmp_path / "empty")
    check_model_out(SHIPPED)
