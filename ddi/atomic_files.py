"""Files replaced whole: written to a temporary file beside the target, renamed over it only when complete.

A reader (another process, the app, a user's shell) then sees the old file or the new one, never half of one, and
a failed write leaves the old file as it was. The temporary file is hidden (``.name.…``) and in the target's own
directory, since a rename is atomic only within one file system.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def file_mode(path: Path) -> int:
    """The permission bits of ``path`` if it exists, else those a new file gets under the process's umask."""
    with contextlib.suppress(OSError):
        return path.stat().st_mode & 0o777
    return 0o666 & ~_umask()


def _umask() -> int:
    # Read, not set and reset with os.umask: that would race with the app's other threads.
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


def temporary_beside(target: Path, suffix: str = ".tmp", mode: int | None = None) -> Path:
    """A new, empty temporary file in ``target``'s directory (created if missing), with permission bits ``mode``
    (default: those the target has, or a new file would get; mkstemp alone makes it private)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    try:
        if hasattr(os, "fchmod"):  # not on Windows before Python 3.13, where mkstemp's file is not private anyway
            os.fchmod(fd, file_mode(target) if mode is None else mode)
    finally:
        os.close(fd)
    return Path(name)


@contextlib.contextmanager
def replacing(target: Path, suffix: str = ".tmp", mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path to write ``target``'s new contents to; renamed over ``target`` when the block ends
    without an error, removed otherwise."""
    tmp = temporary_beside(target, suffix, mode)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
