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


@pytest.fixture(scope="session")
def predictor_with_fewer_test_pairs(tiny_model_dir, data_dir, tmp_path_factory):
    """The tiny model loaded on its split with 150 of its 200 test pairs: the same model on other pairs."""
    import pandas as pd

    from ddi.predict.predictor import Predictor

    split = tiny_model_dir.parent / "tiny-split"
    fewer = tmp_path_factory.mktemp("fewer-test-pairs")
    for part in ("train", "valid", "test"):
        table = pd.read_csv(split / f"{part}.tsv", sep="\t")
        (table.iloc[:150] if part == "test" else table).to_csv(fewer / f"{part}.tsv", sep="\t", index=False)
    return Predictor.load(tiny_model_dir, data_dir=str(data_dir), split_dir=str(fewer))


@pytest.fixture(scope="session")
def leaning_predictor(tiny_model_dir, data_dir, tmp_path_factory, copy_leaning_to_first_type):
    """The tiny model with its type head pushed towards the first type: another model with other answers."""
    from ddi.predict.predictor import Predictor

    leaning = copy_leaning_to_first_type(tiny_model_dir, tmp_path_factory.mktemp("leaning") / "leaning-model", 3.0)
    return Predictor.load(leaning, data_dir=str(data_dir))
