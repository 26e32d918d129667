"""The Morgan-fingerprint + MLP baseline, trained like the main model (both orders, oriented classes).

A strong reference: a graph model that does not beat it clearly has a bug or a design problem.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from ddi.evaluate import type_metrics
from ddi.train.context import TrainingContext

log = logging.getLogger(__name__)

FP_BITS = 2048


def morgan_fingerprints(ctx: TrainingContext, radius: int = 2, bits: int = FP_BITS) -> torch.Tensor:
    """``D x bits`` Morgan fingerprints in drug-table order (zeros for drugs without a structure)."""
    return ctx.molecules.fingerprints(bits, radius)


class FingerprintMLP(nn.Module):
    """``[fp(A), fp(B)] -> MLP -> 2T`` oriented class logits."""

    def __init__(self, bits: int, num_classes: int, hidden: int = 1024, dropout: float = 0.3) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2 * bits, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden // 2),
            nn.BatchNorm1d(hidden // 2),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden // 2, num_classes),
        )

    def forward(self, fp_a: torch.Tensor, fp_b: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([fp_a, fp_b], dim=-1))


def train_fingerprint_baseline(
    ctx: TrainingContext,
    epochs: int = 20,
    batch_size: int = 512,
    lr: float = 1e-3,
    seed: int = 0,
    progress: bool = True,
    patience: int | None = 3,
) -> dict[str, float]:
    """Train on the split's training pairs and return test metrics.

    Early stopping as ``ddi train`` does it: the epoch with the best validation macro-F1 is kept, and training
    stops after ``patience`` epochs without a better one (None: run all ``epochs``). The metrics carry
    ``epochs_run`` and ``best_epoch``.
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    fps = morgan_fingerprints(ctx)
    labels = ctx.labels
    model = FingerprintMLP(fps.shape[1], labels.num_classes)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    heads, tails, types = ctx.rows(ctx.split.train)
    fwd, rev = torch.as_tensor(labels.encode(types)), torch.as_tensor(labels.encode(types, reverse=True))

    def predict(part) -> np.ndarray:
        model.eval()
        h, t, _ = ctx.rows(part)
        with torch.no_grad():
            p = model(fps[h], fps[t]).softmax(-1)
            q = model(fps[t], fps[h]).softmax(-1)
        return labels.predicted_types((p + labels.flip(q)) / 2)

    best, best_state, best_epoch, epochs_run, start = -1.0, None, 0, 0, time.time()
    for epoch in tqdm(range(epochs), desc="fingerprint MLP", disable=not progress):
        if patience is not None and epochs_run - best_epoch >= patience:
            break
        epochs_run = epoch + 1
        model.train()
        order = torch.as_tensor(rng.permutation(len(heads)))
        for i in range(0, len(order), batch_size):
            idx = order[i : i + batch_size]
            if len(idx) < 2:
                continue
            h, t = heads[idx], tails[idx]
            logits = model(torch.cat([fps[h], fps[t]]), torch.cat([fps[t], fps[h]]))
            loss = F.cross_entropy(logits, torch.cat([fwd[idx], rev[idx]]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        f1 = type_metrics(ctx.split.valid["type"].to_numpy(), predict(ctx.split.valid))["macro_f1"]
        log.info("fingerprint MLP epoch %d: valid macro-F1 %.4f", epoch + 1, f1)
        if f1 > best:
            best, best_epoch = f1, epoch + 1
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
    if best_state is not None:
        model.load_state_dict(best_state)
    metrics = type_metrics(ctx.split.test["type"].to_numpy(), predict(ctx.split.test))
    metrics["train_seconds"] = time.time() - start
    metrics["epochs_run"], metrics["best_epoch"] = epochs_run, best_epoch
    return metrics
