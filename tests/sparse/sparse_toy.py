"""Toy problem and training loop for the sparsity tests: small tensors, well under a second a run.

The task (4 classes = two XOR bits of input signs) is not linearly separable (a linear model scores chance), so
a model that scores well above chance must be using its hidden layers: a broken mask (everything pruned, wrong
gradients) shows up as accuracy near 25 %.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ddi.sparse import Pruner

IN_DIM = 8


def toy_data(n: int, seed: int) -> tuple[Tensor, Tensor]:
    """``n x IN_DIM`` inputs and labels ``n`` in 0..3: two XOR bits, ``2 * [x0 * x1 > 0] + [x2 * x3 > 0]``."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, IN_DIM, generator=g)
    y = 2 * (x[:, 0] * x[:, 1] > 0).long() + (x[:, 2] * x[:, 3] > 0).long()
    return x, y


def toy_model(seed: int = 0, hidden: int = 64) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(IN_DIM, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 4)
    )


@dataclass
class ToyRun:
    model: nn.Module
    pruner: Pruner
    #: accuracy of the sparse path on held-out data, before finalize
    accuracy: float
    #: mask entries that went from pruned to kept, counted by the test from mask snapshots (not by the pruner)
    revived: int
    #: masks after every step that changed them
    mask_history: list[dict[str, Tensor]] = field(default_factory=list)


def accuracy(model: nn.Module, x: Tensor, y: Tensor) -> float:
    model.eval()
    with torch.no_grad():
        return float((model(x).argmax(-1) == y).float().mean())


def train_toy_run(method: str, sparsity: float = 0.9, steps: int = 300, **pruner_kwargs) -> ToyRun:
    """Train the toy MLP with ``method`` for ``steps`` Adam steps of 64 rows; snapshot masks as they change."""
    model = toy_model()
    settings = {"update_every": 8, "warmup_steps": 60}
    settings.update(pruner_kwargs)
    pruner = Pruner(model, method, sparsity, steps, **settings)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, y = toy_data(2048, seed=1)
    gen = torch.Generator().manual_seed(2)
    history: list[dict[str, Tensor]] = []
    revived = 0
    previous = pruner.masks.masks() if pruner.masks is not None else {}
    for step in range(steps):
        model.train()
        idx = torch.randint(0, len(x), (64,), generator=gen)
        logits, losses = {}, {}
        for name in pruner.paths():
            with pruner.path(name):
                logits[name] = model(x[idx])
                losses[name] = F.cross_entropy(logits[name], y[idx])
        loss = pruner.combine(logits, losses, step)
        optimiser.zero_grad()
        loss.backward()
        pruner.before_step()
        optimiser.step()
        pruner.after_step(step)
        if pruner.masks is not None:
            current = pruner.masks.masks()
            if any(not torch.equal(current[k], previous[k]) for k in current):
                revived += sum(int((current[k] & ~previous[k]).sum()) for k in current)
                history.append(current)
            previous = current
    xt, yt = toy_data(1000, seed=3)
    return ToyRun(model, pruner, accuracy(model, xt, yt), revived, history)
