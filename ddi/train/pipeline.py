"""``ddi train`` as a library call: build the context, train, evaluate on test, save the checkpoint."""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import torch

from ddi import __version__
from ddi.data.tables import Tables
from ddi.data.templates import same_effect_wordings
from ddi.evaluate import (
    DETAIL_KEYS,
    exists_metrics,
    per_type_f1,
    same_effect_metrics,
    top_confusions,
    type_metrics,
)
from ddi.models.checkpoint import check_model_out, save_checkpoint
from ddi.models.config import RunConfig
from ddi.models.ddi_model import DDIModel
from ddi.models.labels import TypeOrientation
from ddi.train.context import TrainingContext
from ddi.train.negatives import pair_keys, sample_negatives
from ddi.train.prior import fit_prior_adjustment
from ddi.train.trainer import (
    OrderLogits,
    TrainResult,
    encode,
    orders_to_probs,
    pair_type_logits,
    train,
    unlisted_exists,
)

if TYPE_CHECKING:  # the predictor imports this module
    from ddi.predict.predictor import Predictor

log = logging.getLogger(__name__)


def evaluation_negatives(ctx: TrainingContext, part: str, count: int, seed: int = 0) -> np.ndarray:
    """Unlisted pairs shaped like the positives of ``part``: any drugs for S0, one new drug for S1 (paired
    with a training drug), two new drugs for S2. Pairs listed anywhere in the data are excluded."""
    split = ctx.split
    num_drugs = ctx.graph.num_drugs
    all_pairs = ctx.tables.interactions
    known = np.unique(pair_keys(ctx.node_ids(all_pairs["drug1_id"]), ctx.node_ids(all_pairs["drug2_id"]), num_drugs))
    rng = np.random.default_rng(seed)
    new_drugs = split.test_drugs if part == "test" else split.valid_drugs
    if new_drugs is None:
        df = getattr(split, part)
        drugs = np.unique(np.concatenate([ctx.node_ids(df["drug1_id"]), ctx.node_ids(df["drug2_id"])]))
        return sample_negatives(drugs, known, count, num_drugs, rng)
    new = ctx.node_ids(_series(sorted(new_drugs)))
    if split.name == "s2":
        return sample_negatives(new, known, count, num_drugs, rng)
    old = ctx.node_ids(_series(sorted(split.train_drugs or ())))
    out = []
    for _ in range(50):
        h = new[rng.integers(0, len(new), count * 2)]
        t = old[rng.integers(0, len(old), count * 2)]
        ok = ~np.isin(pair_keys(h, t, num_drugs), known)
        out.append(np.stack([h[ok], t[ok]], 1))
        if sum(len(o) for o in out) >= count:
            break
    return np.concatenate(out)[:count]


def _series(values):
    import pandas as pd

    return pd.Series(list(values), dtype=object)


@torch.no_grad()
def test_report(model: DDIModel, ctx: TrainingContext, part: str = "test", seed: int = 0) -> dict[str, Any]:
    """Type metrics, per-type F1 and exists-head AUCs on a split part, with timing (graph encoded once)."""
    return test_report_with_predictions(model, ctx, part, seed)[0]


class PartPredictions(NamedTuple):
    """The predicted type ``B`` of each pair of a split part (``pairs_to_evaluate`` order), with both orders
    averaged (the answers) and with each pair read as its row lists it (the published protocol)."""

    both: np.ndarray
    listed: np.ndarray

    @classmethod
    def of(cls, labels: TypeOrientation, both: torch.Tensor, listed: torch.Tensor) -> PartPredictions:
        """The most probable type of each pair in each reading (``both``, ``listed``: ``B x 2T`` probabilities)."""
        return cls(labels.predicted_types(both), labels.predicted_types(listed))


def test_report_with_predictions(
    model: DDIModel, ctx: TrainingContext, part: str = "test", seed: int = 0
) -> tuple[dict[str, Any], PartPredictions]:
    """``test_report`` and the predicted types of the pairs of the part, for a caller that compares them with
    another model's without scoring the pairs again."""
    start = time.time()
    metrics, pred = report_of_scores(ctx, part, part_scores(model, ctx, part, seed))
    metrics["seconds"] = time.time() - start
    return metrics, pred


class PartScores(NamedTuple):
    """A model's scores of the pairs of a split part (``pairs_to_evaluate`` order): oriented class probabilities
    ``B x 2T`` with both orders averaged (``both``) and with each pair read as its row lists it (``listed``),
    exists probabilities ``B``, and the exists probabilities ``K`` of the sampled unlisted pairs
    (``evaluation_negatives``; empty where none could be drawn)."""

    both: torch.Tensor
    listed: torch.Tensor
    exists: torch.Tensor
    unlisted_exists: torch.Tensor

    @classmethod
    def mean(cls, members: Sequence[PartScores]) -> PartScores:
        """The scores of an ensemble: each field averaged over its members (scored on the same pairs)."""
        return cls(*(torch.stack(field).mean(0) for field in zip(*members, strict=True)))


@torch.no_grad()
def part_scores(model: DDIModel, ctx: TrainingContext, part: str = "test", seed: int = 0) -> PartScores:
    """``model``'s ``PartScores`` of the pairs of ``part`` (the graph encoded once)."""
    df = ctx.split.pairs_to_evaluate(part)
    model.eval()
    encoded = encode(model, ctx)
    heads, tails, _ = ctx.rows(df)
    logits = pair_type_logits(model, ctx, heads, tails, encoded=encoded)
    negatives = evaluation_negatives(ctx, part, len(df), seed)
    unlisted = unlisted_exists(model, ctx, negatives, encoded) if len(negatives) else torch.empty(0)
    return PartScores(*reading_probs(model, ctx, logits), logits.exists, unlisted)


def reading_probs(model: DDIModel, ctx: TrainingContext, logits: OrderLogits) -> tuple[torch.Tensor, torch.Tensor]:
    """Oriented class probabilities ``B x 2T`` of both orders averaged, and of each pair read as listed."""
    return orders_to_probs(model, ctx, logits), orders_to_probs(model, ctx, logits, as_listed=True)


def report_of_scores(ctx: TrainingContext, part: str, scores: PartScores) -> tuple[dict[str, Any], PartPredictions]:
    """Type metrics (both orders averaged, and as listed), exists AUCs, per-type F1 and the commonest mistakes of
    ``scores`` of the pairs of ``part``, and the predicted types of the pairs."""
    types = ctx.rows(ctx.split.pairs_to_evaluate(part))[2]
    predicted = PartPredictions.of(ctx.labels, scores.both, scores.listed)
    pred = predicted.both
    metrics: dict[str, Any] = type_metrics(types, pred)
    # Each pair read only in the order its row lists it, as published benchmarks score: that order says which
    # drug's entry lists the pair, which tells the type (BENCHMARKS.md); ddi answers in both orders.
    metrics["as_listed"] = type_metrics(types, predicted.listed)
    if len(scores.unlisted_exists):
        metrics.update(exists_metrics(scores.exists.numpy(), scores.unlisted_exists.numpy()))
    metrics["per_type_f1"] = per_type_f1(types, pred)
    metrics["confusions"] = top_confusions(types, pred)
    wordings = same_effect_wordings(ctx.tables.interaction_types)
    if wordings:  # how much of the error is only DrugBank's choice between two sentences of one effect
        metrics["with_same_effect_wordings_as_one_type"] = same_effect_metrics(types, pred, wordings)
    return metrics, predicted


def vocab_of(ctx: TrainingContext) -> dict[str, Any]:
    return {
        "drug_ids": ctx.drug_ids,
        "relations": list(ctx.kg.vocab.names),
        "type_ids": [int(t) for t in ctx.labels.type_ids],
        "num_nodes": ctx.graph.num_nodes,
        "data_fingerprint": ctx.fingerprint(),
    }


def checkpoint_metrics(
    ctx: TrainingContext, run: RunConfig, result: TrainResult, prior: dict, test: dict
) -> dict[str, Any]:
    """The ``metrics.json`` saved beside a checkpoint (the model card reads it)."""
    metrics = {
        "ddi_version": __version__,
        "split": ctx.split.name,
        "split_seed": run.split_seed,
        "split_counts": ctx.split.counts(),
        "train_seconds": result.seconds,
        "best_epoch": result.best_epoch,
        "parameters": sum(p.numel() for p in result.model.parameters()),
        "history": result.history,
        "prior_adjustment": prior,
        "test": test,
        "torch_threads": torch.get_num_threads(),
    }
    if result.pruning:
        metrics["pruning"] = result.pruning
    if result.flow_expert:
        metrics["flow_expert"] = result.flow_expert
    return metrics


def train_and_save(
    run: RunConfig, out_dir: str | Path, tables: Tables | None = None, progress: bool = True
) -> dict[str, Any]:
    """Train a model as ``run`` says, evaluate it on the test split and save it to ``out_dir``."""
    check_model_out(out_dir)  # before the training: saving replaces the directory whole
    ctx = TrainingContext.build(run, tables, progress=progress)
    result = train(ctx, run, progress=progress)
    prior = fit_prior_adjustment(result.model, ctx, run.train.prior_adjustment, as_listed=run.train.listed_order)
    test = test_report(result.model, ctx) if len(ctx.split.test) else {}
    metrics = checkpoint_metrics(ctx, run, result, prior, test)
    save_checkpoint(out_dir, result.model.state_dict(), run, vocab_of(ctx), metrics)
    if test:
        log.info(
            "test: macro-F1 %.4f, accuracy %.4f, kappa %.4f, exists ROC-AUC %.4f",
            test["macro_f1"],
            test["accuracy"],
            test["kappa"],
            test.get("roc_auc", float("nan")),
        )
    return metrics


def setting_run(base: RunConfig, setting: str, seed: int) -> RunConfig:
    """``base`` for one benchmark run: on S0 the seed varies training (one split); on S1/S2 it picks the drug
    split and training keeps seed 0, so that a spread across seeds is a spread across new-drug sets."""
    run = copy.deepcopy(base)
    run.split = setting
    run.split_seed = 0 if setting == "s0" else seed
    run.train.seed = seed if setting == "s0" else 0
    return run


def train_and_test(
    run: RunConfig, tables: Tables | None = None, progress: bool = False, save_to: str | Path | None = None
) -> dict[str, Any]:
    """Train as ``run`` says and report test figures: a benchmark row.

    ``test`` carries the prior correction fitted on validation (as ``ddi train`` reports it),
    ``test_without_prior_adjustment`` the raw decision; per-type F1 and the confusions are left out of both.
    ``save_to``: also save the checkpoint there, as ``ddi train`` would (so a confirmed run can be shipped).
    """
    ctx = TrainingContext.build(run, tables, progress=progress)
    start = time.time()
    result = train(ctx, run, progress=progress)
    uncorrected = test_report(result.model, ctx)
    prior = fit_prior_adjustment(result.model, ctx, run.train.prior_adjustment, as_listed=run.train.listed_order)
    corrected = test_report(result.model, ctx)
    if save_to is not None:
        metrics = checkpoint_metrics(ctx, run, result, prior, corrected)
        save_checkpoint(save_to, result.model.state_dict(), run, vocab_of(ctx), metrics)
    for report in (corrected, uncorrected):
        for key in DETAIL_KEYS:
            report.pop(key, None)
    return {
        "test": corrected,
        "test_without_prior_adjustment": uncorrected,
        "best_epoch": result.best_epoch,
        "parameters": sum(p.numel() for p in result.model.parameters()),
        "prior_tau": prior["tau"],
        "vote_blend": prior.get("vote_blend", 0.0),
        "train_seconds": time.time() - start,  # training and both test passes, as before this helper
        "epochs": run.train.epochs,
    }


def uncorrected_test_report(model: DDIModel, ctx: TrainingContext) -> dict[str, Any]:
    """Test figures of the raw type decision (no prior correction, no look-alike vote), without per-type detail;
    the model's own correction and vote weight are restored afterwards."""
    tau, blend = float(model.prior_adjustment), float(model.vote_blend)
    model.set_prior_adjustment(model.class_log_prior.clone(), 0.0)
    model.set_vote_blend(0.0)
    try:
        report = test_report(model, ctx)
    finally:
        model.set_prior_adjustment(model.class_log_prior.clone(), tau)
        model.set_vote_blend(blend)
    return {k: v for k, v in report.items() if k not in DETAIL_KEYS}


def round_to_float16(model: torch.nn.Module, buffers: bool = True) -> None:
    """Round every floating-point parameter (and buffer) of ``model`` to float16 precision, in place (the dtype
    stays): the model then computes what its float16 copy will compute once loaded."""
    with torch.no_grad():
        for tensor in [*model.parameters(), *(model.buffers() if buffers else ())]:
            if tensor.is_floating_point():
                tensor.copy_(tensor.half().to(tensor.dtype))


def readjust_decision(
    predictor: Predictor,
    tau: float | None,
    vote_weight: float | None,
    float16: bool = False,
    shared_values: bool = False,
) -> dict[str, Any]:
    """``ddi adjust-prior``: fit (or set) a saved model's prior correction and vote weight, re-evaluate and
    rewrite its directory atomically; returns the new metrics.

    With ``float16`` the figures are those of the float16 weights that are saved, not of the float32 ones they
    replace; ``shared_values`` (which implies ``float16``) first replaces the kept values of every sparse tensor
    by at most 256 shared ones (``ddi.sparse.weight_sharing``), which the checkpoint stores as one byte each.
    ``test_without_prior_adjustment`` is the raw decision (earlier ``test`` figures may carry a correction
    already)."""
    model, ctx = predictor.model, predictor.ctx
    float16 = float16 or shared_values
    metrics = dict(predictor.metrics)
    if shared_values:
        from ddi.sparse import SHARED_LEVELS, share_model_weights

        shared = share_model_weights(model)
        if shared:
            log.info("shared the values of %d sparse tensors (at most %d each)", len(shared), SHARED_LEVELS)
            metrics["shared_values"] = {"levels": SHARED_LEVELS, "tensors": shared}
        else:
            log.warning("%s has no sparse tensors: no values to share, stored as float16", predictor.model_dir)
    if float16:
        round_to_float16(model, buffers=False)  # tau and the vote weight: rounded once they are set
    if len(ctx.split.test):
        metrics["test_without_prior_adjustment"] = uncorrected_test_report(model, ctx)
    metrics["prior_adjustment"] = fit_prior_adjustment(
        model, ctx, tau, vote_blend=vote_weight, as_listed=predictor.run.train.listed_order
    )
    if float16:
        round_to_float16(model)
    if len(ctx.split.test):
        metrics["test"] = test_report(model, ctx)
    state = model.state_dict()
    if float16:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    save_checkpoint(predictor.model_dir, state, predictor.run, vocab_of(ctx), metrics)
    return metrics
