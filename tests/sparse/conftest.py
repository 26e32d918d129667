"""Fixtures of the sparsity tests: one thread (the machine is shared), the toy training run of ``sparse_toy``."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import torch
from sparse_toy import ToyRun, toy_data, train_toy_run
from torch import Tensor


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Keep the tests light on a shared machine; restore the caller's setting."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def train_toy() -> Callable[..., ToyRun]:
    return train_toy_run


@pytest.fixture
def test_data() -> tuple[Tensor, Tensor]:
    return toy_data(1000, seed=3)
