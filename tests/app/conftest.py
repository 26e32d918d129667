"""The tiny model the app tests serve, trained once per session (shared with ``tests/serve`` when both run).

It is trained into the session's base temp directory under the same name as ``tests/serve/conftest.py`` uses,
so a session that runs both trains it once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ddi.data.tables import Tables


def train_tiny_model(root: Path, tables: Tables) -> Path:
    """Train (once per ``root``) a one-epoch, 16-wide model on 1,000 training pairs; return its directory."""
    from ddi.data.splits import load_split
    from ddi.models.config import ModelConfig, RunConfig, TrainConfig
    from ddi.train.pipeline import train_and_save

    model_dir = root / "tiny-model"
    if (model_dir / "model.pt").is_file():
        return model_dir
    split_dir = root / "tiny-split"
    split_dir.mkdir(parents=True, exist_ok=True)
    split = load_split("s0", tables)
    for part, n in (("train", 1000), ("valid", 200), ("test", 200)):
        getattr(split, part).sample(n, random_state=0).to_csv(split_dir / f"{part}.tsv", sep="\t", index=False)
    run = RunConfig(
        model=ModelConfig(hidden_dim=16, mol_layers=1, max_paths=8),
        train=TrainConfig(epochs=1, batch_size=256),
        split_dir=str(split_dir),
    )
    train_and_save(run, model_dir, tables=tables, progress=False)
    return model_dir


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, benchmark_tables) -> Path:
    return train_tiny_model(tmp_path_factory.getbasetemp(), benchmark_tables)


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
