"""Metrics of ``ddi evaluate``: macro-F1, accuracy and Cohen's kappa over interaction types, per-type F1, and
ROC-AUC / PR-AUC of the interaction-exists score against sampled non-interacting pairs."""

from __future__ import annotations

import numpy as np
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
    return {
        "macro_f1": float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "kappa": float(cohen_kappa_score(y_true, y_pred)),
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


def exists_metrics(positive_scores: np.ndarray, negative_scores: np.ndarray) -> dict[str, float]:
    """ROC-AUC and PR-AUC of known pairs against sampled pairs not listed as interacting.

    Unlisted pairs are not confirmed negatives: DrugBank lists what is known, so these figures are a lower bound.
    """
    if len(positive_scores) == 0 or len(negative_scores) == 0:
        return {"roc_auc": float("nan"), "pr_auc": float("nan")}
    y = np.concatenate([np.ones(len(positive_scores)), np.zeros(len(negative_scores))])
    s = np.concatenate([positive_scores, negative_scores])
    return {"roc_auc": float(roc_auc_score(y, s)), "pr_auc": float(average_precision_score(y, s))}
