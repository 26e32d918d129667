"""The predictor and resolver the scoring tests use (the tiny model comes from ``tests/conftest.py``)."""

from __future__ import annotations

import pytest

from ddi.serve.resolve import DrugResolver


@pytest.fixture(scope="session")
def predictor(tiny_model_dir, data_dir):
    from ddi.predict.predictor import Predictor

    return Predictor.load(tiny_model_dir, data_dir=str(data_dir))


@pytest.fixture(scope="session")
def resolver(benchmark_tables) -> DrugResolver:
    """The resolver of the real data with its catalogues (no model needed)."""
    return DrugResolver.from_tables(benchmark_tables)
