"""The training loop of ``ddi train``: seeded, with a progress bar, early stopping on validation macro-F1.

Each step encodes the whole graph once (molecules, proteins, context layers), then scores a batch of training
rows in both orders (the 2 x T oriented classes) and as many sampled unlisted pairs (exists head). The
interactions of the batch's own pairs are removed from the context graph for that step, so no pair sees its
label; with ``new_drug_rate`` > 0 some drugs also lose all their interactions for the step, which teaches the
model to answer for drugs it has never seen interacting.
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ddi.errors import UserInputError
from ddi.evaluate import exists_metrics, type_metrics
from ddi.models.config import ModelConfig, RunConfig, TrainConfig
from ddi.models.ddi_model import DDIModel, Encoded
from ddi.models.neighbour_votes import vote_width
from ddi.sparse import Pruner
from ddi.sparse.distill import distillation_loss
from ddi.train.batches import head_grouped_batches
from ddi.train.context import TrainingContext
from ddi.train.negatives import own_pair_keys, pair_keys, sample_negatives

log = logging.getLogger(__name__)

DEFAULT_NEW_DRUG_RATE = {"s0": 0.0, "s1": 0.25, "s2": 0.5}


#: Pairs scored at a time: small enough that each intermediate (paths x width, pairs x nodes) stays well under
#: 32 MB, where allocations turn into fresh page-faulted memory; 2,048 measured 18 % faster than 8,192 (2 threads).
SCORING_CHUNK = 2048


def num_rules() -> int:
    from ddi.kg.rules import RULES

    return len(RULES)


def rule_features(ctx: TrainingContext, heads: torch.Tensor, tails: torch.Tensor) -> torch.Tensor:
    """``B x n_rules`` pharmacology-rule features of ordered pairs."""
    return ctx.rule_table.lookup(heads, tails)


def pair_features(
    model: DDIModel,
    ctx: TrainingContext,
    heads: torch.Tensor,
    tails: torch.Tensor,
    hidden: torch.Tensor | None = None,
) -> torch.Tensor | None:
    """``B x model.pair_feature_width`` precomputed features of ordered pairs (rules, then neighbour votes), or
    None when the model reads none. ``hidden``: drugs whose interactions the votes must not read."""
    parts = []
    if model.num_rules:
        parts.append(rule_features(ctx, heads, tails))
    if model.num_votes:
        parts.append(ctx.model_votes(model.config).lookup(heads, tails, hidden))
    return torch.cat(parts, dim=1) if parts else None


def pair_features_both_orders(
    model: DDIModel, ctx: TrainingContext, heads: torch.Tensor, tails: torch.Tensor
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """``pair_features`` of (heads, tails) and of (tails, heads); the votes of the second order are read from
    those of the first (``NeighbourVotes.reverse``, exact), which halves their cost."""
    forward = pair_features(model, ctx, heads, tails)
    if forward is None or not model.num_votes:
        return forward, pair_features(model, ctx, tails, heads)
    votes = ctx.model_votes(model.config).reverse(forward[:, model.num_rules :])
    return forward, torch.cat([rule_features(ctx, tails, heads), votes], dim=1) if model.num_rules else votes


def build_model(ctx: TrainingContext, run: RunConfig) -> DDIModel:
    return DDIModel(
        run.model,
        num_drugs=ctx.graph.num_drugs,
        num_nodes=ctx.graph.num_nodes,
        num_relations=ctx.graph.num_relations,
        atom_dim=ctx.molecules.atom_dim,
        bond_dim=ctx.molecules.bond_dim,
        num_classes=ctx.labels.num_classes,
        num_rules=num_rules() if run.model.use_rules else 0,
        num_votes=vote_width(ctx.labels.num_classes) if run.model.neighbour_votes else 0,
    )


def load_initial_weights(model: DDIModel, ctx: TrainingContext, run: RunConfig, model_dir: str) -> None:
    """Start ``model`` from a trained checkpoint of the same architecture, trained on the same data and split;
    or of the same architecture without the flow expert this run adds (with ``epochs`` 0, only the expert trains).

    The split must match (the data fingerprint covers the training interactions): a model trained on another
    split has seen this split's validation or test pairs, and starting from it would leak them.
    """
    from ddi.models.checkpoint import CheckpointError, load_weights, read_checkpoint

    state, source_run, vocab, _ = read_checkpoint(model_dir)
    adds_expert = run.model.flow_expert and source_run.model == without_flow(run.model)
    if source_run.model != run.model and not adds_expert:
        raise CheckpointError(
            f"{model_dir} has another architecture than this run's model config (other than a flow expert "
            "added to it); cannot start from it"
        )
    if adds_expert:  # the expert starts fresh: its weights are this model's initial ones
        state = {**{k: v for k, v in model.state_dict().items() if k.split(".")[0] in FLOW_MODULES}, **state}
    ctx.require_same_data(vocab, model_dir, "starting from")
    load_weights(model, state, model_dir)
    model.set_prior_adjustment(torch.zeros_like(model.class_log_prior), 0.0)  # refitted after this training
    log.info("starting from the weights of %s", model_dir)


#: The modules of a flow expert (``ModelConfig.flow_expert``), which a model without one lacks.
FLOW_MODULES = ("flow", "flow_classifier", "flow_drug_embedding")


def without_flow(config: ModelConfig) -> ModelConfig:
    """``config`` without a flow (the model a flow expert can be added to)."""
    defaults = ModelConfig()
    return replace(config, flow_layers=0, flow_dim=defaults.flow_dim, flow_expert=False)


def learning_rate_schedule(optimiser: torch.optim.Optimizer, lr: float, total_steps: int):
    """One-cycle warm-up and cosine decay; a constant rate for runs too short to warm up (under 20 steps, where
    a 10 % warm-up would round to zero steps)."""
    if total_steps < 20:
        return torch.optim.lr_scheduler.LambdaLR(optimiser, lambda _: 1.0)
    return torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=lr, total_steps=total_steps, pct_start=0.1, anneal_strategy="cos"
    )


def training_rows(
    ctx: TrainingContext, cfg: TrainConfig
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(heads, tails, class of each row, class of each row read in the other order) of the training pairs, a
    seeded sample of ``max_train_pairs`` of them where set."""
    train_part = ctx.split.train
    if cfg.max_train_pairs and len(train_part) > cfg.max_train_pairs:
        train_part = train_part.sample(cfg.max_train_pairs, random_state=cfg.seed).reset_index(drop=True)
    heads, tails, types = ctx.rows(train_part)
    forward = torch.as_tensor(ctx.labels.encode(types))
    return heads, tails, forward, torch.as_tensor(ctx.labels.encode(types, reverse=True))


def new_drug_rate(ctx: TrainingContext, cfg: TrainConfig) -> float:
    """The fraction of a batch's drugs hidden as if new: the config's, else the setting's default."""
    return cfg.new_drug_rate if cfg.new_drug_rate is not None else DEFAULT_NEW_DRUG_RATE.get(ctx.split.name, 0.0)


def reversed_rows(count: int, gen: torch.Generator, listed_order: bool = False) -> torch.Tensor:
    """``count`` bool: which rows a step reads in the other order. Each row is read in a random order (its class
    says which drug fills #Drug1), so over the epochs the model sees both orders of every pair at the cost of one;
    with ``listed_order`` none is (the draw is made all the same, so the generator's stream does not change)."""
    flips = torch.rand(count, generator=gen) < 0.5
    return torch.zeros_like(flips) if listed_order else flips


def hidden_drugs(
    heads: torch.Tensor, tails: torch.Tensor, num_drugs: int, rate: float, gen: torch.Generator
) -> torch.Tensor | None:
    """``num_drugs`` bool: each drug of the batch hidden with probability ``rate`` (None when the rate is 0)."""
    if rate <= 0:
        return None
    hidden = torch.zeros(num_drugs, dtype=torch.bool)
    batch_drugs = torch.unique(torch.cat([heads, tails]))
    hidden[batch_drugs[torch.rand(len(batch_drugs), generator=gen) < rate]] = True
    return hidden


@dataclass
class TrainResult:
    model: DDIModel
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    seconds: float = 0.0
    #: Pruner.summary() plus the (step, changed entries) of every mask update; empty for dense training
    pruning: dict = field(default_factory=dict)
    #: a flow expert's training (its epochs' validation figures) and the fitted weight; empty without one
    flow_expert: dict = field(default_factory=dict)


def encode(model: DDIModel, ctx: TrainingContext, drop_pair_keys=None, hidden=None) -> Encoded:
    batch = ctx.molecules.full_batch() if model.molecule_encoder is not None else None
    has_graph = ctx.molecules.has_graph if model.uses_structure else None
    bits = model.config.fingerprint_bits
    fingerprints = ctx.molecules.fingerprints(bits) if model.fingerprint_encoder is not None else None
    return model.encode(ctx.graph, batch, has_graph, drop_pair_keys, hidden, fingerprints)


class OrderLogits(NamedTuple):
    """Type logits of ``B`` pairs in both orders (``B x 2T`` for (head, tail) and for (tail, head)), exists
    probabilities ``B`` (both orders averaged) and each order's look-alike vote (``B x 2T`` or None)."""

    forward: torch.Tensor
    backward: torch.Tensor
    exists: torch.Tensor
    forward_votes: torch.Tensor | None = None
    backward_votes: torch.Tensor | None = None


@torch.no_grad()
def pair_type_logits(
    model: DDIModel,
    ctx: TrainingContext,
    heads: torch.Tensor,
    tails: torch.Tensor,
    chunk: int = SCORING_CHUNK,
    encoded: Encoded | None = None,
) -> OrderLogits:
    """Both orders' logits and votes; the prior correction and vote blend are not applied yet (``orders_to_probs``)."""
    model.eval()
    enc = encoded if encoded is not None else encode(model, ctx)
    # One flow call for all pairs in both orders: each distinct drug propagates once, not once per chunk it
    # appears in, nor once as a head and again as a tail.
    forward_flow, backward_flow = None, None
    if model.flow_in_use:
        both = model.pair_flows(enc, torch.cat([heads, tails]), torch.cat([tails, heads]))
        assert both is not None
        forward_flow, backward_flow = both[: len(heads)], both[len(heads) :]
    parts: dict[str, list[torch.Tensor]] = {"forward": [], "backward": [], "exists": [], "fv": [], "bv": []}
    for start in range(0, len(heads), chunk):
        h, t = heads[start : start + chunk], tails[start : start + chunk]
        features, reverse_features = pair_features_both_orders(model, ctx, h, t)
        flows = None
        if forward_flow is not None and backward_flow is not None:
            flows = (forward_flow[start : start + chunk], backward_flow[start : start + chunk])
        forward, backward = model.score_both_orders(enc, ctx.graph, h, t, (features, reverse_features), flows)
        parts["forward"].append(forward.type_logits)
        parts["backward"].append(backward.type_logits)
        parts["exists"].append((torch.sigmoid(forward.exists_logits) + torch.sigmoid(backward.exists_logits)) / 2)
        # The vote's own class distribution of each order, for the blend in ``orders_to_probs``.
        forward_votes, backward_votes = model.vote_probs(features), model.vote_probs(reverse_features)
        if forward_votes is not None and backward_votes is not None:
            parts["fv"].append(forward_votes)
            parts["bv"].append(backward_votes)
    votes = (torch.cat(parts["fv"]), torch.cat(parts["bv"])) if parts["fv"] else (None, None)
    return OrderLogits(torch.cat(parts["forward"]), torch.cat(parts["backward"]), torch.cat(parts["exists"]), *votes)


def orders_to_probs(
    model: DDIModel, ctx: TrainingContext, logits: OrderLogits, as_listed: bool = False
) -> torch.Tensor:
    """Oriented class probabilities ``B x 2T``: each order's, with the model's prior correction and vote blend,
    averaged; with ``as_listed`` the (head, tail) order's alone, each pair read as its row lists it (the reading a
    model trained with ``TrainConfig.listed_order`` is for)."""
    forward = model.class_probs(logits.forward, logits.forward_votes)
    if as_listed:
        return forward
    backward = model.class_probs(logits.backward, logits.backward_votes)
    return (forward + ctx.labels.flip(backward)) / 2


def predict_type_probs(
    model: DDIModel,
    ctx: TrainingContext,
    heads: torch.Tensor,
    tails: torch.Tensor,
    chunk: int = SCORING_CHUNK,
    encoded: Encoded | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Oriented class probabilities ``B x 2T`` (both orders averaged) and exists probabilities ``B``."""
    logits = pair_type_logits(model, ctx, heads, tails, chunk, encoded)
    return orders_to_probs(model, ctx, logits), logits.exists


def evaluate_part(
    model: DDIModel, ctx: TrainingContext, part, negatives: np.ndarray | None = None, as_listed: bool = False
) -> dict:
    """Type figures of the pairs of ``part`` (both orders averaged, or ``as_listed``), and exists AUCs against
    ``negatives`` where given."""
    heads, tails, types = ctx.rows(part)
    logits = pair_type_logits(model, ctx, heads, tails)
    probs, exists = orders_to_probs(model, ctx, logits, as_listed), logits.exists
    pred = ctx.labels.predicted_types(probs)
    metrics = type_metrics(types, pred)
    if negatives is not None and len(negatives):
        metrics.update(exists_metrics(exists.numpy(), unlisted_exists(model, ctx, negatives).numpy()))
    return metrics


def unlisted_exists(
    model: DDIModel, ctx: TrainingContext, negatives: np.ndarray, encoded: Encoded | None = None
) -> torch.Tensor:
    """Exists probabilities ``K`` of sampled unlisted pairs (``negatives``: ``K x 2`` node ids); the flow expert
    is off, since only the exists score is read."""
    with model.flow_expert_off():
        _, exists = predict_type_probs(
            model, ctx, torch.as_tensor(negatives[:, 0]), torch.as_tensor(negatives[:, 1]), encoded=encoded
        )
    return exists


def pruner_of(model: DDIModel, cfg: TrainConfig, total_steps: int) -> Pruner:
    """The training's pruning method (``none`` included) as ``cfg`` sets it, over ``total_steps`` steps."""
    return Pruner(
        model,
        cfg.prune_method,
        cfg.prune_sparsity,
        total_steps,
        ramp_fraction=cfg.prune_ramp,
        update_every=cfg.prune_every,
        policy=cfg.prune_policy,
        criterion=cfg.prune_criterion,
        separate_norms=cfg.prune_separate_norms,
        pruned_step=cfg.prune_pruned_step,
        distill_weight=cfg.distill_weight,
        temperature=cfg.distill_temperature,
        warmup_steps=round(cfg.distill_start * total_steps),
        distill_direction=cfg.distill_direction,
    )


def epoch_record(
    model: DDIModel,
    ctx: TrainingContext,
    pruner: Pruner,
    epoch: int,
    loss: float,
    seconds: float,
    as_listed: bool = False,
) -> dict[str, Any]:
    """The history entry of an epoch (its loss, validation figures and sparsity), logged as one line; the
    figures read each pair as listed for a model trained so (``TrainConfig.listed_order``)."""
    valid = {"macro_f1": 0.0}
    if len(ctx.split.valid):
        valid = evaluate_part(model, ctx, ctx.split.valid, as_listed=as_listed)
    record: dict[str, Any] = {"epoch": epoch, "loss": loss, "seconds": seconds}
    record.update({f"valid_{k}": v for k, v in valid.items()})
    if pruner.method == "dcil" and len(ctx.split.valid):
        # DCIL's distillation assumes the dense path is the better teacher; record whether it is.
        with pruner.path("dense"):
            dense_valid = evaluate_part(model, ctx, ctx.split.valid, as_listed=as_listed)
        record.update({f"valid_dense_{k}": v for k, v in dense_valid.items() if k != "n"})
    log.info(
        "epoch %d: loss %.4f, valid macro-F1 %.4f, accuracy %.4f%s (%.0f s)",
        epoch,
        loss,
        valid["macro_f1"],
        valid.get("accuracy", 0.0),
        f"; dense path {record['valid_dense_macro_f1']:.4f}" if "valid_dense_macro_f1" in record else "",
        seconds,
    )
    record["sparsity"] = pruner.sparsity()
    return record


def train(ctx: TrainingContext, run: RunConfig, progress: bool = True) -> TrainResult:
    cfg = run.train
    if ctx.split.train.empty:
        raise UserInputError(
            f"split {ctx.split.name!r} has no training pairs left after validation (see the 'dropped' warnings "
            "above: unknown drugs, unknown types, missing cells); nothing to train on"
        )
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    model = build_model(ctx, run)
    if cfg.init_from:
        load_initial_weights(model, ctx, run, cfg.init_from)

    heads, tails, fwd_cls, rev_cls = training_rows(ctx, cfg)
    soft_targets = None
    if cfg.teacher:
        from ddi.train.teacher import load_teacher, teacher_logits

        soft_targets = teacher_logits(load_teacher(cfg.teacher, ctx), ctx, heads, tails, cfg.batch_size, progress)
    num_drugs = ctx.graph.num_drugs
    known = np.unique(pair_keys(heads.numpy(), tails.numpy(), num_drugs))
    train_drugs = np.unique(np.concatenate([heads.numpy(), tails.numpy()]))
    new_rate = new_drug_rate(ctx, cfg)
    steps_per_epoch = int(np.ceil(len(heads) / cfg.batch_size))
    total_steps = steps_per_epoch * cfg.epochs
    # Masks are registered in place; the raw weights stay the same Parameters, so the optimiser can come after.
    pruner = pruner_of(model, cfg, max(total_steps, 1))  # 0 epochs: only a flow expert trains
    trainable = [*model.parameters(), *pruner.extra_parameters()]
    optimiser = torch.optim.AdamW(trainable, lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = learning_rate_schedule(optimiser, cfg.lr, total_steps)
    log.info(
        "training on %d pairs (%d steps/epoch, up to %d epochs), new-drug rate %.2f, %d parameters",
        len(heads),
        steps_per_epoch,
        cfg.epochs,
        new_rate,
        sum(p.numel() for p in model.parameters()),
    )
    result = TrainResult(model)
    best_f1, best_state, stale = -1.0, None, 0
    has_valid = len(ctx.split.valid) > 0
    if not has_valid:
        log.warning("no validation pairs: every epoch is trained and the last one is kept (no early stopping)")
    # A flow propagates once per distinct head: its batches are runs of pairs that share a head (``batches``).
    grouped = cfg.batch_by_head
    if grouped is None:  # a flow expert trains later, on its own grouped batches
        grouped = model.flow is not None and model.flow_classifier is None
    start = time.time()
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        if grouped:
            epoch_flip = reversed_rows(len(heads), gen, cfg.listed_order)
            oriented = torch.where(epoch_flip, tails, heads).numpy()
            batches = head_grouped_batches(oriented, steps_per_epoch, cfg.pairs_per_head, rng)
        else:
            order = torch.as_tensor(rng.permutation(len(heads)))
        losses = []
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch}", disable=not progress, leave=False)
        for step in bar:
            if grouped:
                if step >= len(batches):
                    break
                idx = torch.as_tensor(batches[step])
                flip = epoch_flip[idx]
            else:
                idx = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
                flip = reversed_rows(len(idx), gen, cfg.listed_order)
            h, t = heads[idx], tails[idx]
            n = len(idx)
            ph, pt = torch.where(flip, t, h), torch.where(flip, h, t)
            neg_heads = np.unique(ph.numpy()) if grouped else None
            neg = sample_negatives(train_drugs, known, int(n * cfg.negative_ratio), num_drugs, rng, neg_heads)
            nh, nt = torch.as_tensor(neg[:, 0]), torch.as_tensor(neg[:, 1])
            all_h, all_t = torch.cat([ph, nh]), torch.cat([pt, nt])
            drop = own_pair_keys(h, t, num_drugs)
            hidden = hidden_drugs(h, t, num_drugs, new_rate, gen)
            global_step = (epoch - 1) * steps_per_epoch + step
            features = pair_features(model, ctx, all_h, all_t, hidden)
            target = torch.where(flip, rev_cls[idx], fwd_cls[idx])
            exists_target = torch.cat([torch.ones(n), torch.zeros(len(neg))])
            soft = soft_targets.rows(idx, flip) if soft_targets is not None else None  # the same for every path
            gen_state = gen.get_state()
            logits, task_losses = {}, {}
            for path in pruner.paths():  # dcil: sparse + dense; every other method: one
                gen.set_state(gen_state)  # both paths sample the same relation paths
                with pruner.path(path):
                    enc = encode(model, ctx, drop, hidden)
                    out = model.score_pairs(enc, ctx.graph, all_h, all_t, features, hidden, gen)
                type_loss = F.cross_entropy(out.type_logits[:n], target, label_smoothing=cfg.label_smoothing)
                if soft is not None:
                    type_loss = type_loss + cfg.teacher_weight * distillation_loss(
                        out.type_logits[:n], soft, cfg.teacher_temperature
                    )
                exists_loss = F.binary_cross_entropy_with_logits(out.exists_logits, exists_target)
                task_losses[path] = type_loss + cfg.exists_weight * exists_loss
                logits[path] = (out.type_logits[:n], out.exists_logits)
            loss = pruner.combine(logits, task_losses, global_step)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 5.0)
            pruner.before_step()
            optimiser.step()
            scheduler.step()
            pruner.after_step(global_step)
            losses.append(float(loss.detach()))
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
        seconds = time.time() - start
        record = epoch_record(model, ctx, pruner, epoch, float(np.mean(losses)), seconds, cfg.listed_order)
        result.history.append(record)
        if not pruner.at_target():  # a denser model than the one shipped: neither best nor stale
            continue
        # Without validation pairs there is no figure to choose by: each epoch is kept (the last wins), never stale.
        if record["valid_macro_f1"] > best_f1 or not has_valid:
            best_f1, best_state, stale = record["valid_macro_f1"], copy.deepcopy(model.state_dict()), 0
            result.best_epoch = epoch
        else:
            stale += 1
            if stale >= cfg.patience:
                log.info("early stop: no validation gain for %d epochs", cfg.patience)
                break
    if best_state is not None:
        model.load_state_dict(best_state)  # weights and masks of the best epoch
    result.pruning = {**pruner.summary(), "mask_change_history": pruner.mask_changes}
    pruner.finalize()  # plain modules, pruned weights exactly 0: the state dict loads into a fresh DDIModel
    if model.flow_classifier is not None:
        from ddi.train.flow_expert import fit_flow_weight, train_flow_expert

        result.flow_expert = {"history": train_flow_expert(model, ctx, cfg, progress)}
        result.flow_expert.update(fit_flow_weight(model, ctx, cfg.listed_order))
    result.seconds = time.time() - start
    return result
