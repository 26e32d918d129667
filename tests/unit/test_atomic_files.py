"""Files replaced whole: the old contents survive a failed write, and no temporary file is left behind."""

from __future__ import annotations

import os

import pytest

from ddi.atomic_files import file_mode, replacing, temporary_beside


def test_a_completed_write_replaces_the_file_and_leaves_nothing_beside_it(tmp_path):
    target = tmp_path / "state.json"
    target.write_text("old")
    with replacing(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".state.json.")
        tmp.write_text("new")
        assert target.read_text() == "old"  # readers see the old file until the write is complete
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary_one(tmp_path):
    target = tmp_path / "state.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), replacing(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


@pytest.mark.skipif(not hasattr(os, "fchmod"), reason="permission bits are POSIX")
def test_the_new_file_keeps_the_old_one_s_mode_or_the_one_asked_for(tmp_path):
    target = tmp_path / "shared.csv"
    target.write_text("x")
    target.chmod(0o640)
    assert file_mode(target) == 0o640
    tmp = temporary_beside(target)
    assert tmp.stat().st_mode & 0o777 == 0o640  # not mkstemp's private 0600
    with replacing(tmp_path / "sub" / "cache.pt", mode=0o644) as cache:  # the directory is created
        cache.write_bytes(b"\0")
    assert (tmp_path / "sub" / "cache.pt").stat().st_mode & 0o777 == 0o644
