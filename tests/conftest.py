"""Fixtures shared by the whole test suite.

The real DrugBank benchmark is read from the resolved data directory (``DDI_DATA_DIR``, else
``../shared/data/drugbank``) and loaded once per session; tests that need it are skipped, with the reason,
where no data directory exists.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from ddi.data.benchmark import load_benchmark
from ddi.data.location import DataDirError, resolve_data_dir
from ddi.data.tables import Tables

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared DrugBank benchmark directory, resolved as the ``ddi`` command resolves it."""
    try:
        return resolve_data_dir().resolve()
    except DataDirError as exc:
        pytest.skip(f"no benchmark data: {exc}")


@pytest.fixture(scope="session")
def benchmark_tables(data_dir: Path) -> Tables:
    """The validated benchmark tables, loaded once. Shared: never modify its DataFrames in place."""
    return load_benchmark(data_dir)[0]


@pytest.fixture
def restore_root_logging() -> Iterator[None]:
    """Undo ``ddi.cli.main.configure_logging`` after a test that runs ``main`` in-process.

    ``logging.basicConfig(force=True)`` leaves a stderr handler on the root logger that would outlive the
    test's captured stderr; remove it and restore the root level.
    """
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if type(handler) is logging.StreamHandler and handler not in before:
            root.removeHandler(handler)
    root.setLevel(level)
