"""The tiny model served to the app tests (trained once per session by ``tests/conftest.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def predictor(tiny_model_dir, data_dir):
    from ddi.predict.predictor import Predictor

    return Predictor.load(tiny_model_dir, data_dir=str(data_dir))


@pytest.fixture(scope="session")
def resolver(predictor):
    from ddi.serve.resolve import DrugResolver

    return DrugResolver.for_predictor(predictor)


@pytest.fixture
def served_model(tiny_model_dir, monkeypatch) -> Path:
    """``DDI_MODEL_DIR`` pointing at the tiny model for the app under test.

    ``DDI_TORCH_THREADS`` keeps the thread count the session already has: the app sets it process-wide.
    """
    import torch

    monkeypatch.setenv("DDI_MODEL_DIR", str(tiny_model_dir))
    monkeypatch.setenv("DDI_TORCH_THREADS", str(torch.get_num_threads()))
    return tiny_model_dir
