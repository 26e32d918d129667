"""``ArchitectureTable``: every evaluated architecture, one JSON object per line.

The table is the cache of the proxy evaluation and the training set of the surrogate. A row is appended and
flushed to disk as soon as an architecture is scored, so an interrupted search loses at most the architecture
it was training; reopening the file resumes. Rows carry the hash of the proxy configuration that produced
them, and a lookup only returns rows of the hash asked for: scores from a different budget, subset or data
are never mixed.

Row format (``ProxyEvaluator`` writes these keys; a table accepts any JSON object with ``key``)::

    {"key": "relation_groups=enzyme+target|path_length=3|...", "arch": [14, 2, 1, 0, 0, 0, 1, 1, 1],
     "config_hash": "3f2a9c1d0b7e", "score": 0.61,
     "valid": {"s0": {"macro_f1": 0.75, "accuracy": 0.90, "kappa": 0.88, "best_epoch": 7, "train_pairs": 6827,
                "valid_pairs": 1028, "seconds": 18.1, "cpu_seconds": 17.9}, "s1": {...}},
     "params": 1520909, "seconds": 34.5, "cpu_seconds": 34.1}

``seconds`` is wall time; ``cpu_seconds`` is the process's CPU time (all threads), the fairer cost on a shared
machine, where wall time depends on what else runs.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class ArchitectureTable:
    """Rows of evaluated architectures, kept in memory and, when ``path`` is given, in a JSON Lines file.

    Parameters
    ----------
    path: the ``.jsonl`` file; read if it exists, created on the first append. None = in memory only.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._rows: list[dict[str, Any]] = []
        self._index: dict[tuple[str | None, str], dict[str, Any]] = {}
        if self.path is not None and self.path.is_file():
            self._read()

    def _read(self) -> None:
        assert self.path is not None
        bad = 0
        with self.path.open() as handle:
            for line in handle:
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    bad += 1  # e.g. the last line of a run killed while writing
                    continue
                if isinstance(row, dict) and "key" in row:
                    self._remember(row)
                else:
                    bad += 1
        if bad:
            log.warning("%s: skipped %d unreadable line(s)", self.path, bad)
        log.info("%s: %d evaluated architecture(s) read", self.path, len(self._rows))

    def _remember(self, row: dict[str, Any]) -> None:
        self._rows.append(row)
        self._index[(row.get("config_hash"), row["key"])] = row  # a later row of the same key wins

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._rows)

    def rows(self, config_hash: str | None = None) -> list[dict[str, Any]]:
        """All rows, or only those produced under ``config_hash`` (one per key, the latest)."""
        if config_hash is None:
            return list(self._rows)
        return [row for (h, _), row in self._index.items() if h == config_hash]

    def get(self, key: str, config_hash: str | None) -> dict[str, Any] | None:
        """The row of architecture ``key`` under ``config_hash``, or None if it was not evaluated so."""
        return self._index.get((config_hash, key))

    def append(self, row: dict[str, Any]) -> None:
        """Add a row and write it through to the file at once (flushed and synced)."""
        if "key" not in row:
            raise ValueError("a table row needs a 'key'")
        line = json.dumps(row, sort_keys=True)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a+b") as handle:
                if handle.tell() > 0:  # a run killed mid-line leaves no newline: start on a fresh line
                    handle.seek(-1, os.SEEK_END)
                    if handle.read(1) != b"\n":
                        handle.write(b"\n")
                handle.write((line + "\n").encode())
                handle.flush()
                os.fsync(handle.fileno())
        self._remember(json.loads(line))  # the stored form: tuples become lists, as after a reload
