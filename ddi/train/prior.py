"""The prior correction of the type decision, fitted on validation after training.

A model trained with cross-entropy learns the training split's type frequencies as part of its logits, so a
rare type loses close calls to a common one; macro-F1 weighs every type equally and pays for it. The post-hoc
logit adjustment of Menon et al. (ICLR 2021, "Long-tail learning via logit adjustment") subtracts
``tau * log prior`` from the logits. ``tau`` is chosen on the validation pairs of the split the model was trained
on (never the test pairs) from a small grid, the smallest value winning ties; ``tau = 0`` is no correction.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch

from ddi.evaluate import type_metrics
from ddi.models.ddi_model import DDIModel, Encoded
from ddi.train.context import TrainingContext
from ddi.train.trainer import encode, predict_type_probs

log = logging.getLogger(__name__)

#: candidate values of tau: 0 (none) to 0.5 (half-way to dividing by the prior)
TAU_GRID = tuple(round(0.05 * i, 2) for i in range(11))


def type_log_prior(ctx: TrainingContext) -> np.ndarray:
    """``T`` log frequencies of the types among the training pairs (add-one smoothed, so none is -inf)."""
    _, _, types = ctx.rows(ctx.split.train)
    counts = np.bincount(ctx.labels.type_index(types), minlength=ctx.labels.num_types) + 1.0
    return np.log(counts / counts.sum())


def fit_prior_adjustment(
    model: DDIModel,
    ctx: TrainingContext,
    tau: float | None = None,
    grid: tuple[float, ...] = TAU_GRID,
    encoded: Encoded | None = None,
) -> dict[str, Any]:
    """Set ``model``'s prior correction and say how it was chosen.

    ``tau=None`` fits it on the validation pairs (validation macro-F1 over ``grid``); a number is used as given.
    """
    prior = type_log_prior(ctx)
    class_prior = torch.as_tensor(np.repeat(prior, 2), dtype=torch.float32)  # both orientations of a type
    if tau is not None:
        model.set_prior_adjustment(class_prior, tau)
        return {"tau": float(tau), "fitted_on": "given"}
    if len(ctx.split.valid) == 0:
        model.set_prior_adjustment(class_prior, 0.0)
        log.warning("no validation pairs: the type decision gets no prior correction")
        return {"tau": 0.0, "fitted_on": "none (no validation pairs)"}
    heads, tails, types = ctx.rows(ctx.split.valid)
    encoded = encoded if encoded is not None else encode(model.eval(), ctx)
    scores = {}
    for t in grid:  # each candidate as it will be applied: per order, before the two orders are averaged
        model.set_prior_adjustment(class_prior, t)
        probs, _ = predict_type_probs(model, ctx, heads, tails, encoded=encoded)
        predicted = ctx.labels.type_ids[ctx.labels.type_probs(probs).argmax(-1).numpy()]
        scores[t] = type_metrics(types, predicted)["macro_f1"]
    best = max(grid, key=lambda t: (round(scores[t], 6), -t))
    model.set_prior_adjustment(class_prior, best)
    log.info(
        "prior correction: tau %.2f (validation macro-F1 %.4f, %.4f without; %d pairs)",
        best,
        scores[best],
        scores[0.0] if 0.0 in scores else float("nan"),
        len(types),
    )
    return {
        "tau": best,
        "fitted_on": "valid",
        "valid_pairs": len(types),
        "valid_macro_f1": {str(t): s for t, s in scores.items()},
    }
