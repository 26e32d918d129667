"""``ddi.evaluate``: the figures ``ddi evaluate`` and the benchmarks report."""

from __future__ import annotations

import numpy as np

from ddi.evaluate import top_confusions, type_metrics


def test_top_confusions_counts_each_mistake_commonest_first() -> None:
    y_true = np.array([73, 73, 73, 47, 47, 4, 4, 9, 9, 9])
    y_pred = np.array([47, 47, 73, 73, 47, 75, 75, 9, 9, 9])
    assert top_confusions(y_true, y_pred) == [
        {"true": 4, "predicted": 75, "pairs": 2},  # ties broken by type id, so the order is stable
        {"true": 73, "predicted": 47, "pairs": 2},
        {"true": 47, "predicted": 73, "pairs": 1},
    ]
    assert top_confusions(y_true, y_pred, limit=1) == [{"true": 4, "predicted": 75, "pairs": 2}]
    assert top_confusions(y_true, y_true) == []


def test_type_metrics_of_a_perfect_and_a_constant_prediction() -> None:
    y = np.array([1, 1, 2, 3])
    assert type_metrics(y, y) == {"macro_f1": 1.0, "accuracy": 1.0, "kappa": 1.0, "n": 4}
    constant = type_metrics(y, np.array([1, 1, 1, 1]))
    assert constant["accuracy"] == 0.5 and constant["kappa"] == 0.0
    assert abs(constant["macro_f1"] - (2 / 3) / 3) < 1e-9  # F1 2/3 on type 1, 0 on types 2 and 3
