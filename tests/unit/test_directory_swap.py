"""Installing a model directory never leaves a half-written or mixed directory behind."""

from __future__ import annotations

from ddi.train.retrain import replace_directory


def test_replace_directory_swaps_whole_directories_and_leaves_no_leftovers(tmp_path):
    new, target = tmp_path / "new", tmp_path / "models" / "default"
    new.mkdir()
    (new / "model.pt").write_text("new weights")
    target.mkdir(parents=True)
    (target / "model.pt").write_text("old weights")
    (target / "stale.json").write_text("only in the old model")
    replace_directory(new, target)
    assert (target / "model.pt").read_text() == "new weights"
    assert not (target / "stale.json").exists()  # the old directory is replaced, not merged into
    assert sorted(p.name for p in target.parent.iterdir()) == ["default"]  # no staging or .old leftovers
    assert (new / "model.pt").is_file()  # the source stays


def test_replace_directory_installs_where_nothing_was(tmp_path):
    new = tmp_path / "new"
    new.mkdir()
    (new / "config.json").write_text("{}")
    replace_directory(new, tmp_path / "models" / "fresh")
    assert (tmp_path / "models" / "fresh" / "config.json").read_text() == "{}"
