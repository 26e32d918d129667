"""Fixtures shared by the unit tests: the hand-written tiny knowledge graph (``tests/fixtures/kg_tiny``)."""

from pathlib import Path

import pytest

from ddi.data.benchmark import load_benchmark
from ddi.kg.graph import KnowledgeGraph

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "kg_tiny"


@pytest.fixture(scope="module")
def tables():
    """The tiny graph's validated tables."""
    return load_benchmark(TINY)[0]


@pytest.fixture(scope="module")
def kg(tables) -> KnowledgeGraph:
    """The tiny graph with all of its interactions as edges."""
    return KnowledgeGraph.build(tables, tables.interactions)
