"""The prior correction of the type decision, fitted on validation after training.

A model trained with cross-entropy learns the training split's type frequencies as part of its logits, so a
rare type loses close calls to a common one; macro-F1 weighs every type equally and pays for it. The post-hoc
logit adjustment of Menon et al. (ICLR 2021, "Long-tail learning via logit adjustment") subtracts
``tau * log prior`` from the logits. ``tau`` is chosen on the validation pairs of the split the model was trained
on (never the test pairs) from a small grid, the smallest value winning ties, among the values that cost at most
half a point of validation accuracy; ``tau = 0`` is no correction.

A model with look-alike votes (``ModelConfig.neighbour_votes``) also gets the weight ``w`` of the vote in its
decision, ``(1 - w) p + w v``, chosen jointly with ``tau`` by the same rule. On drug-disjoint splits the validation
pairs involve drugs outside training, just as the test pairs do, so ``w`` is chosen on the kind of pair it is
for; on the given split (S0) validation tends to keep ``w`` small.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch

from ddi.evaluate import type_metrics
from ddi.models.ddi_model import DDIModel, Encoded
from ddi.train.context import TrainingContext
from ddi.train.trainer import encode, orders_to_probs, pair_type_logits

log = logging.getLogger(__name__)

#: candidate values of tau: 0 (none) to 1 (dividing by the prior), finer below 0.5 where dense models land;
#: heavily pruned models, biased further towards common types, need more
TAU_GRID = tuple(round(0.05 * i, 2) for i in range(10)) + tuple(round(0.1 * i, 1) for i in range(5, 11))
#: the most validation accuracy the correction may cost: a rare type's F1 is not bought with many wrong answers
MAX_ACCURACY_COST = 0.005
#: candidate weights of the look-alike vote in the type decision (models with votes)
VOTE_BLEND_GRID = tuple(round(0.1 * i, 1) for i in range(11))


def type_log_prior(ctx: TrainingContext) -> np.ndarray:
    """``T`` log frequencies of the types among the training pairs (add-one smoothed, so none is -inf)."""
    _, _, types = ctx.rows(ctx.split.train)
    counts = np.bincount(ctx.labels.type_index(types), minlength=ctx.labels.num_types) + 1.0
    return np.log(counts / counts.sum())


def choose_tau(scores: dict[float, dict[str, float]], max_accuracy_cost: float = MAX_ACCURACY_COST) -> float:
    """The tau with the best validation macro-F1 among those within ``max_accuracy_cost`` of the accuracy at
    tau 0; the smallest on ties. ``scores``: tau -> {"macro_f1", "accuracy"}, with an entry for 0."""
    floor = scores[0.0]["accuracy"] - max_accuracy_cost
    allowed = [t for t in sorted(scores) if scores[t]["accuracy"] >= floor]
    return max(allowed, key=lambda t: (round(scores[t]["macro_f1"], 6), -t))


def choose_correction(
    scores: dict[tuple[float, float], dict[str, float]], max_accuracy_cost: float = MAX_ACCURACY_COST
) -> tuple[float, float]:
    """``choose_tau`` over (tau, vote weight) pairs: the best validation macro-F1 within ``max_accuracy_cost`` of
    the accuracy with neither; ties go to the smaller vote weight, then the smaller tau."""
    floor = scores[(0.0, 0.0)]["accuracy"] - max_accuracy_cost
    allowed = [key for key in sorted(scores) if scores[key]["accuracy"] >= floor]
    return max(allowed, key=lambda key: (round(scores[key]["macro_f1"], 6), -key[1], -key[0]))


def fit_prior_adjustment(
    model: DDIModel,
    ctx: TrainingContext,
    tau: float | None = None,
    grid: tuple[float, ...] = TAU_GRID,
    encoded: Encoded | None = None,
    vote_blend: float | None = None,
    as_listed: bool = False,
) -> dict[str, Any]:
    """Set ``model``'s prior correction and say how it was chosen.

    ``tau=None`` fits it on the validation pairs, with the look-alike vote weight: the ``grid`` value with the
    best validation macro-F1 among those costing at most ``MAX_ACCURACY_COST`` of validation accuracy (``grid[0]``
    must be 0, no correction). A given ``tau`` is used as is, and so is ``vote_blend``; without one the model keeps
    the vote weight it has (setting tau by hand must not silently switch off a fitted vote). ``as_listed``: fit
    on the figures of each pair read as listed, for a model trained so (``TrainConfig.listed_order``).
    """
    prior = type_log_prior(ctx)
    class_prior = torch.as_tensor(np.repeat(prior, 2), dtype=torch.float32)  # both orientations of a type
    if tau is not None:
        model.set_prior_adjustment(class_prior, tau)
        if vote_blend is not None:
            model.set_vote_blend(vote_blend)
        given: dict[str, Any] = {"tau": float(tau), "fitted_on": "given"}
        if model.num_votes:
            given["vote_blend"] = round(float(model.vote_blend), 6)
        return given
    model.set_vote_blend(0.0)
    if len(ctx.split.valid) == 0:
        model.set_prior_adjustment(class_prior, 0.0)
        log.warning("no validation pairs: the type decision gets no prior correction")
        return {"tau": 0.0, "fitted_on": "none (no validation pairs)"}
    heads, tails, types = ctx.rows(ctx.split.valid)
    encoded = encoded if encoded is not None else encode(model.eval(), ctx)
    # The correction acts on the logits only: score the pairs once, then try each candidate on the logits.
    logits = pair_type_logits(model, ctx, heads, tails, encoded=encoded)
    blends = VOTE_BLEND_GRID if logits.forward_votes is not None else (0.0,)
    scores: dict[tuple[float, float], dict[str, float]] = {}
    for w in blends:
        model.set_vote_blend(w)
        for t in grid:  # each candidate as it will be applied: per order, before the two orders are averaged
            model.set_prior_adjustment(class_prior, t)
            probs = orders_to_probs(model, ctx, logits, as_listed)
            scores[(t, w)] = type_metrics(types, ctx.labels.predicted_types(probs))
    best, blend = choose_correction(scores)
    model.set_prior_adjustment(class_prior, best)
    model.set_vote_blend(blend)
    log.info(
        "type decision: tau %.2f, vote weight %.1f (validation macro-F1 %.4f, accuracy %.4f; without: %.4f, %.4f;"
        " %d pairs)",
        best,
        blend,
        scores[(best, blend)]["macro_f1"],
        scores[(best, blend)]["accuracy"],
        scores[(grid[0], 0.0)]["macro_f1"],
        scores[(grid[0], 0.0)]["accuracy"],
        len(types),
    )

    def brief(m: dict[str, float]) -> dict[str, float]:
        return {k: m[k] for k in ("macro_f1", "accuracy", "kappa")}

    out: dict[str, Any] = {
        "tau": best,
        "fitted_on": "valid, pairs read as listed" if as_listed else "valid",
        "valid_pairs": len(types),
        "max_accuracy_cost": MAX_ACCURACY_COST,
        # The decision with neither correction nor vote: its accuracy sets the floor the choice keeps to.
        "valid_uncorrected": brief(scores[(grid[0], 0.0)]),
        "valid": {str(t): brief(scores[(t, blend)]) for t in grid},  # each tau at the chosen vote weight
    }
    if len(blends) > 1:
        out["vote_blend"] = blend
        out["vote_blend_valid"] = {str(w): brief(scores[(best, w)]) for w in blends}  # each weight at that tau
    return out
