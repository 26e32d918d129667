"""Metrics of ``ddi evaluate``: macro-F1, accuracy and Cohen's kappa over interaction types, per-type F1, and
ROC-AUC / PR-AUC of the interaction-exists score against sampled non-interacting pairs."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from itertools import pairwise
from typing import Any, NamedTuple

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    cohen_kappa_score,
    f1_score,
    roc_auc_score,
)

#: Entries of a test report that are per type or per type pair rather than one figure: benchmark rows and the
#: model card leave them out.
DETAIL_KEYS = ("per_type_f1", "confusions")


def type_metrics(y_true: np.ndarray, y_pred: np.ndarray, labels: np.ndarray | None = None) -> dict[str, float]:
    """Multi-class figures over the types present in ``y_true`` (the convention of the DDI literature)."""
    present = np.unique(y_true) if labels is None else labels
    with warnings.catch_warnings():  # one type only: kappa is undefined (NaN), said in the figure, not in a warning
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.filterwarnings("ignore", message="A single label was found", category=UserWarning)
        kappa = float(cohen_kappa_score(y_true, y_pred))
    return {
        "macro_f1": float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "kappa": kappa,
        "n": len(y_true),
    }


def per_type_f1(y_true: np.ndarray, y_pred: np.ndarray) -> dict[int, float]:
    present = np.unique(y_true)
    scores = f1_score(y_true, y_pred, labels=present, average=None, zero_division=0)
    return {int(t): float(s) for t, s in zip(present, scores, strict=True)}


def top_confusions(y_true: np.ndarray, y_pred: np.ndarray, limit: int = 10) -> list[dict[str, int]]:
    """The ``limit`` commonest mistakes as ``{"true", "predicted", "pairs"}``, most pairs first (ties: by type ids):
    where a model's errors concentrate, e.g. between two wordings of one mechanism."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    wrong = y_true != y_pred
    if not wrong.any():
        return []
    pairs, counts = np.unique(np.stack([y_true[wrong], y_pred[wrong]], axis=1), axis=0, return_counts=True)
    order = np.lexsort((pairs[:, 1], pairs[:, 0], -counts))[:limit]
    return [{"true": int(pairs[i, 0]), "predicted": int(pairs[i, 1]), "pairs": int(counts[i])} for i in order]


def same_effect_metrics(y_true: np.ndarray, y_pred: np.ndarray, wordings: list[tuple[int, int]]) -> dict[str, Any]:
    """``type_metrics`` with each pair of ``wordings`` (two types that word one effect,
    ``ddi.data.templates.same_effect_types``) read as one type, and how many errors were only a choice of wording."""
    as_one = {second: first for first, second in wordings}
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    one_true = np.array([as_one.get(int(t), int(t)) for t in y_true], dtype=np.int64)
    one_pred = np.array([as_one.get(int(t), int(t)) for t in y_pred], dtype=np.int64)
    metrics: dict[str, Any] = type_metrics(one_true, one_pred)
    metrics["errors_between_wordings"] = int(((y_true != y_pred) & (one_true == one_pred)).sum())
    metrics["wordings"] = [list(pair) for pair in wordings]
    return metrics


def exists_metrics(positive_scores: np.ndarray, negative_scores: np.ndarray) -> dict[str, float]:
    """ROC-AUC and PR-AUC of known pairs against sampled pairs not listed as interacting.

    Unlisted pairs are not confirmed negatives: DrugBank lists what is known, so these figures are a lower bound.
    """
    if len(positive_scores) == 0 or len(negative_scores) == 0:
        return {"roc_auc": float("nan"), "pr_auc": float("nan")}
    y = np.concatenate([np.ones(len(positive_scores)), np.zeros(len(negative_scores))])
    s = np.concatenate([positive_scores, negative_scores])
    return {"roc_auc": float(roc_auc_score(y, s)), "pr_auc": float(average_precision_score(y, s))}


#: Upper ends of the training-frequency bands of ``f1_by_type_frequency``: rare (<= 20 training pairs), uncommon,
#: common, and frequent (the rest).
FREQUENCY_BANDS = (20, 100, 500)


def f1_by_type_frequency(
    per_type: dict[int, float],
    reference: dict[int, float],
    train_counts: dict[int, int],
    bands: tuple[int, ...] = FREQUENCY_BANDS,
) -> list[dict[str, Any]]:
    """Per-type test F1 of a model against a reference model, grouped by how many training pairs a type has.

    Each band gives its types' mean F1 under both models and ``points_lost``: the band's share of the macro-F1
    difference (reference minus model, in points), so the bands add up to the whole macro-F1 gap. It tells a
    capacity loss (every band) from a rare-type loss (the first band only). Types are those both reports scored.
    """
    types = sorted(set(per_type) & set(reference))
    # band i holds the types with bands[i-1] < count <= bands[i]; the last one, every count above bands[-1]
    band_of = np.searchsorted(np.asarray(bands), [train_counts.get(t, 0) for t in types], side="left")
    names = [f"<= {bands[0]}", *(f"{low + 1}-{high}" for low, high in pairwise(bands)), f"> {bands[-1]}"]
    rows = []
    for band, name in enumerate(names):
        members = [t for t, b in zip(types, band_of, strict=True) if b == band]
        if not members:
            continue
        model_f1 = np.array([per_type[t] for t in members])
        reference_f1 = np.array([reference[t] for t in members])
        rows.append(
            {
                "band": name,
                "types": len(members),
                "mean_f1": float(model_f1.mean()),
                "reference_mean_f1": float(reference_f1.mean()),
                "points_lost": float((reference_f1 - model_f1).sum() / len(types) * 100),
            }
        )
    return rows


#: Test pairs a type needs to count in ``macro_f1_of_tested_types``: below this, one pair moves its F1 by 0.2-1.
MIN_TEST_PAIRS = 5


def pairs_per_type(types: Iterable[int] | np.ndarray) -> dict[int, int]:
    """How many pairs of each interaction type ``types`` (one type id per pair) holds."""
    values, counts = np.unique(np.fromiter(types, dtype=np.int64), return_counts=True)
    return {int(t): int(n) for t, n in zip(values, counts, strict=True)}


class MacroF1OfTestedTypes(NamedTuple):
    """Macro-F1 over the types with enough test pairs, and how many types that is."""

    macro_f1: float
    types: int


def macro_f1_of_tested_types(
    per_type: dict[int, float], test_counts: dict[int, int], minimum: int = MIN_TEST_PAIRS
) -> MacroF1OfTestedTypes:
    """Macro-F1 over the types with at least ``minimum`` test pairs (``test_counts``: ``pairs_per_type`` of the
    test part), and the number of those types.

    On the DrugBank benchmark 11 of the 86 types have 1-4 test pairs (22 pairs in all), yet they weigh 13 % of
    macro-F1: one pair more or less right moves it by up to 1.2 points, more than most differences between two
    pruning methods. This figure leaves them out, so that it moves with what a model learned, not with a
    handful of pairs. It complements macro-F1; it does not replace it.
    """
    kept = [f1 for t, f1 in per_type.items() if test_counts.get(t, 0) >= minimum]
    return MacroF1OfTestedTypes(float(np.mean(kept)) if kept else float("nan"), len(kept))


#: The figures ``paired_bootstrap`` compares, in the order of ``type_metrics``.
BOOTSTRAP_METRICS = ("macro_f1", "accuracy", "kappa")


class BootstrapDifference(NamedTuple):
    """One figure of model B minus model A on the same test pairs, and how sure that difference is.

    ``low``/``high`` bound the central 95 % of the resampled differences; ``b_better`` is the share of resamples in
    which B scored strictly higher (near 1 or 0: a margin the test set supports; near 0.5: a coin toss)."""

    difference: float
    low: float
    high: float
    b_better: float


def _bootstrap_figures(y_true: np.ndarray, y_pred: np.ndarray, types: int) -> tuple[float, float, float]:
    """Macro-F1 (over the types present in ``y_true``), accuracy and Cohen's kappa of type codes ``0..types-1``,
    the same figures as ``type_metrics`` computed with counts alone, fast enough to run a thousand times."""
    n = len(y_true)
    correct = y_true == y_pred
    true_per_type = np.bincount(y_true, minlength=types)
    predicted_per_type = np.bincount(y_pred, minlength=types)
    hits = np.bincount(y_true[correct], minlength=types)
    present = true_per_type > 0
    f1 = 2 * hits[present] / (true_per_type[present] + predicted_per_type[present])
    accuracy = correct.sum() / n
    chance = float(true_per_type @ predicted_per_type) / (n * n)
    kappa = (accuracy - chance) / (1 - chance) if chance < 1 else 0.0
    return float(f1.mean()), float(accuracy), float(kappa)


def paired_bootstrap(
    y_true: np.ndarray,
    pred_a: np.ndarray,
    pred_b: np.ndarray,
    resamples: int = 1000,
    seed: int = 0,
) -> dict[str, BootstrapDifference]:
    """Macro-F1, accuracy and kappa of predictions B minus predictions A on the same test pairs, with a paired
    bootstrap over the pairs: each resample draws the test pairs with replacement and scores both models on the
    same draw, so what the two share (easy and hard pairs) cancels and only their disagreements count.

    One training seed per model says nothing about the spread between seeds; this says whether the test set
    itself supports a difference, e.g. that 0.5 points of macro-F1 made by three pairs of a rare type is noise.
    """
    y_true, pred_a, pred_b = (np.asarray(a, dtype=np.int64) for a in (y_true, pred_a, pred_b))
    if not len(y_true) == len(pred_a) == len(pred_b) or len(y_true) == 0:
        raise ValueError("paired_bootstrap needs the same, non-empty list of test pairs for both models")
    if resamples < 1:
        raise ValueError("paired_bootstrap needs at least one resample")
    _, codes = np.unique(np.concatenate([y_true, pred_a, pred_b]), return_inverse=True)
    n = len(y_true)
    true_codes, a_codes, b_codes = codes[:n], codes[n : 2 * n], codes[2 * n :]
    types = int(codes.max()) + 1
    observed = np.subtract(
        _bootstrap_figures(true_codes, b_codes, types), _bootstrap_figures(true_codes, a_codes, types)
    )
    rng = np.random.default_rng(seed)
    differences = np.empty((resamples, len(BOOTSTRAP_METRICS)))
    for r in range(resamples):
        draw = rng.integers(0, n, size=n)
        differences[r] = np.subtract(
            _bootstrap_figures(true_codes[draw], b_codes[draw], types),
            _bootstrap_figures(true_codes[draw], a_codes[draw], types),
        )
    low, high = np.percentile(differences, [2.5, 97.5], axis=0)
    better = (differences > 0).mean(axis=0)
    return {
        name: BootstrapDifference(float(observed[i]), float(low[i]), float(high[i]), float(better[i]))
        for i, name in enumerate(BOOTSTRAP_METRICS)
    }
