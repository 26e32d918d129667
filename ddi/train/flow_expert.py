"""The second training stage of a model with a flow expert (``ModelConfig.flow_expert``).

The rest of the model trains first, on random batches, and is then frozen. The flow and its classifier learn
alone, on batches of pairs that share a head drug (one propagation per head, ``ddi.train.batches``); each step
propagates over that step's leak-free graph (the batch's own pairs cut out, drugs hidden as in the first stage).
Trained apart, the flow errs on other pairs than the heads do, which is what adding the two gains from; trained
together, it added nothing (BENCHMARKS.md). Last, the weight of its logits in the model's type decision is
fitted on the validation pairs.
"""

from __future__ import annotations

import copy
import logging
import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ddi.evaluate import type_metrics
from ddi.models.config import TrainConfig
from ddi.models.ddi_model import DDIModel
from ddi.train.batches import head_grouped_batches
from ddi.train.context import TrainingContext
from ddi.train.negatives import own_pair_keys
from ddi.train.trainer import (
    FLOW_MODULES,
    encode,
    hidden_drugs,
    learning_rate_schedule,
    new_drug_rate,
    orders_to_probs,
    pair_type_logits,
    reversed_rows,
    training_rows,
)

log = logging.getLogger(__name__)

#: Weights of the flow expert's logits tried on validation (0 = the heads alone).
FLOW_WEIGHTS = tuple(round(0.1 * i, 1) for i in range(21))


def expert_parameters(model: DDIModel) -> list[torch.nn.Parameter]:
    """The weights a flow expert trains: its flow, classifier and drug vectors."""
    assert model.flow_classifier is not None, "the model has no flow expert"
    return [p for name in FLOW_MODULES for p in getattr(model, name).parameters()]


def train_flow_expert(
    model: DDIModel, ctx: TrainingContext, cfg: TrainConfig, progress: bool = True
) -> list[dict[str, Any]]:
    """Train the flow expert of ``model`` for ``cfg.flow_epochs`` with everything else frozen; keeps the epoch of
    the best validation macro-F1 of the expert alone (the last without validation pairs). Returns each epoch's
    record. ``cfg.listed_order`` reads every row in the order the data lists it, never reversed, as
    ``benchmarks/listed_order.py`` measures."""
    expert = expert_parameters(model)
    expert_ids = {id(p) for p in expert}
    was_trainable = {name: p.requires_grad for name, p in model.named_parameters()}
    for p in model.parameters():
        p.requires_grad_(id(p) in expert_ids)
    rng = np.random.default_rng(cfg.seed + 1)  # not the first stage's stream: its batches are not repeated
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    heads, tails, forward_class, reverse_class = training_rows(ctx, cfg)
    num_drugs, rate = ctx.graph.num_drugs, new_drug_rate(ctx, cfg)
    steps = int(np.ceil(len(heads) / cfg.flow_batch_size))
    optimiser = torch.optim.AdamW(expert, lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = learning_rate_schedule(optimiser, cfg.lr, steps * cfg.flow_epochs)
    log.info(
        "training the flow expert (%d parameters; the other %d frozen) for %d epochs of batches grouped by head",
        sum(p.numel() for p in expert),
        sum(p.numel() for p in model.parameters()) - sum(p.numel() for p in expert),
        cfg.flow_epochs,
    )
    history: list[dict[str, Any]] = []
    best_f1, best_state = -1.0, None
    start = time.time()
    try:
        for epoch in range(1, cfg.flow_epochs + 1):
            model.eval()  # the frozen part: no dropout
            model.flow.train()  # type: ignore[union-attr]
            model.flow_classifier.train()  # type: ignore[union-attr]
            flip = reversed_rows(len(heads), gen, cfg.listed_order)  # as in the first stage
            oriented = torch.where(flip, tails, heads).numpy()
            losses = []
            batches = head_grouped_batches(oriented, steps, cfg.pairs_per_head, rng)
            bar = tqdm(batches, desc=f"flow expert, epoch {epoch}", disable=not progress, leave=False)
            for rows in bar:
                idx = torch.as_tensor(rows)
                h, t, f = heads[idx], tails[idx], flip[idx]
                drop = own_pair_keys(h, t, num_drugs)
                with torch.no_grad():
                    encoded = encode(model, ctx, drop, hidden_drugs(h, t, num_drugs, rate, gen))
                logits = model.flow_type_logits(encoded, torch.where(f, t, h), torch.where(f, h, t))
                target = torch.where(f, reverse_class[idx], forward_class[idx])
                loss = F.cross_entropy(logits, target, label_smoothing=cfg.label_smoothing)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(expert, 5.0)
                optimiser.step()
                scheduler.step()
                losses.append(float(loss.detach()))
                bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
            record: dict[str, Any] = {"epoch": epoch, "loss": float(np.mean(losses)), "seconds": time.time() - start}
            if len(ctx.split.valid):
                record.update({f"valid_{k}": v for k, v in expert_valid_figures(model, ctx).items()})
            log.info(
                "flow expert epoch %d: loss %.4f, valid macro-F1 %.4f, accuracy %.4f (the expert alone; %.0f s)",
                epoch,
                record["loss"],
                record.get("valid_macro_f1", float("nan")),
                record.get("valid_accuracy", float("nan")),
                record["seconds"],
            )
            history.append(record)
            if record.get("valid_macro_f1", 0.0) > best_f1 or not len(ctx.split.valid):
                best_f1 = record.get("valid_macro_f1", 0.0)
                best_state = copy.deepcopy([p.detach() for p in expert])
    finally:
        for name, p in model.named_parameters():
            p.requires_grad_(was_trainable[name])
    if best_state is not None:
        with torch.no_grad():
            for p, saved in zip(expert, best_state, strict=True):
                p.copy_(saved)
    return history


@torch.no_grad()
def expert_valid_figures(model: DDIModel, ctx: TrainingContext) -> dict[str, float]:
    """Macro-F1 / accuracy / kappa of the flow expert alone on the validation pairs, read in their listed order."""
    model.eval()
    heads, tails, types = ctx.rows(ctx.split.valid)
    logits = model.flow_type_logits(encode(model, ctx), heads, tails)
    return type_metrics(types, ctx.labels.predicted_types(logits.softmax(-1)))


@torch.no_grad()
def fit_flow_weight(model: DDIModel, ctx: TrainingContext, as_listed: bool = False) -> dict[str, Any]:
    """Set the weight of the flow expert's logits in the type decision to the one of ``FLOW_WEIGHTS`` with the
    lowest validation log-loss of the served type probabilities (both orders averaged, or each pair read as listed
    for a model trained so; before the prior correction and the look-alike vote, which are fitted after it).
    Without validation pairs the weight is 1."""
    if not len(ctx.split.valid):
        log.warning("no validation pairs to fit the flow expert's weight on: it is set to 1")
        model.set_flow_weight(1.0)
        return {"flow_weight": 1.0}
    model.eval()
    heads, tails, types = ctx.rows(ctx.split.valid)
    tau, blend = float(model.prior_adjustment), float(model.vote_blend)
    model.set_prior_adjustment(model.class_log_prior.clone(), 0.0)
    model.set_vote_blend(0.0)
    model.set_flow_weight(0.0)
    try:
        heads_only = pair_type_logits(model, ctx, heads, tails)
        encoded = encode(model, ctx)
        # both orders in one call: each drug propagates once
        both = model.flow_type_logits(encoded, torch.cat([heads, tails]), torch.cat([tails, heads]))
        forward, backward = both[: len(heads)], both[len(heads) :]
        target = torch.as_tensor(ctx.labels.type_index(types))
        log_loss = {}
        for weight in FLOW_WEIGHTS:
            logits = heads_only._replace(
                forward=heads_only.forward + weight * forward, backward=heads_only.backward + weight * backward
            )
            probs = ctx.labels.type_probs(orders_to_probs(model, ctx, logits, as_listed))
            log_loss[weight] = float(-probs[torch.arange(len(target)), target].clamp_min(1e-12).log().mean())
    finally:
        model.set_prior_adjustment(model.class_log_prior.clone(), tau)
        model.set_vote_blend(blend)
    best = min(FLOW_WEIGHTS, key=lambda w: (log_loss[w], w))
    model.set_flow_weight(best)
    log.info(
        "flow expert weight %.1f (validation log-loss %.4f; %.4f with the heads alone)",
        best,
        log_loss[best],
        log_loss[0.0],
    )
    return {"flow_weight": best, "valid_log_loss_by_weight": log_loss}
