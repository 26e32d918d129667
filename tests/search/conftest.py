"""Fixtures of the search tests: the toy space and objective, and one quickly trained agent per session."""

from __future__ import annotations

import pytest
import torch
from toy_space import ToyObjective, ToySpace

from ddi.search.rl_agent import AgentConfig, QAgent, train_agent


@pytest.fixture(autouse=True)
def one_thread():
    """Search tests train many small models: one thread each, as the searches themselves run."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def toy_space() -> ToySpace:
    return ToySpace()


@pytest.fixture(scope="session")
def toy_objective(toy_space: ToySpace) -> ToyObjective:
    return ToyObjective(toy_space, seed=0)


@pytest.fixture(scope="session")
def toy_agent(toy_space: ToySpace, toy_objective: ToyObjective) -> QAgent:
    """An agent trained for a few seconds on the toy objective (one thread, as on the shared machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return train_agent(toy_space, lambda episode: toy_objective, AgentConfig.quick(total_steps=2_000), seed=0)
    finally:
        torch.set_num_threads(threads)
