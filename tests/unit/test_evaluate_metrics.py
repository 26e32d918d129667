"""``ddi.evaluate``: the figures ``ddi evaluate`` and the benchmarks report."""

from __future__ import annotations

import numpy as np
import pytest

from ddi.evaluate import (
    f1_by_type_frequency,
    macro_f1_of_tested_types,
    paired_bootstrap,
    pairs_per_type,
    same_effect_metrics,
    top_confusions,
    type_metrics,
)


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


def test_type_metrics_of_one_type_gives_nan_kappa_without_library_warnings() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # sklearn's warnings name its own files: noise on the user's terminal
        one = type_metrics(np.array([4]), np.array([4]))
    assert one["accuracy"] == 1.0 and np.isnan(one["kappa"])


def test_f1_by_type_frequency_splits_the_macro_f1_gap_by_how_common_the_type_is() -> None:
    reference = {1: 1.0, 2: 0.8, 3: 0.9, 4: 0.6}
    model = {1: 0.5, 2: 0.8, 3: 0.7, 4: 0.6}
    counts = {1: 5, 2: 20, 3: 21, 4: 10_000}  # 20 is the rare band's upper end; 21 starts the next band
    rows = f1_by_type_frequency(model, reference, counts)
    assert [(r["band"], r["types"]) for r in rows] == [("<= 20", 2), ("21-100", 1), ("> 500", 1)]
    assert rows[0]["mean_f1"] == pytest.approx(0.65) and rows[0]["reference_mean_f1"] == pytest.approx(0.9)
    # the bands add up to the difference of the two macro-F1s, in points
    gap = (np.mean(list(reference.values())) - np.mean(list(model.values()))) * 100
    assert sum(r["points_lost"] for r in rows) == pytest.approx(gap)
    assert [r["points_lost"] for r in rows] == pytest.approx([12.5, 5.0, 0.0])


def test_f1_by_type_frequency_reads_only_types_both_models_scored() -> None:
    rows = f1_by_type_frequency({1: 0.5, 2: 0.4}, {1: 0.7}, {1: 1000, 2: 1000})
    assert rows == [
        {"band": "> 500", "types": 1, "mean_f1": 0.5, "reference_mean_f1": 0.7, "points_lost": pytest.approx(20.0)}
    ]
    assert f1_by_type_frequency({}, {1: 0.7}, {}) == []


def test_macro_f1_of_tested_types_leaves_out_types_with_few_test_pairs() -> None:
    per_type = {1: 0.9, 2: 0.7, 3: 0.0}
    counts = {1: 100, 2: 5, 3: 2}  # type 3: two test pairs, both missed
    assert macro_f1_of_tested_types(per_type, counts) == (pytest.approx(0.8), 2)
    assert macro_f1_of_tested_types(per_type, counts, minimum=1) == (pytest.approx(1.6 / 3), 3)
    none_kept = macro_f1_of_tested_types(per_type, counts, minimum=1000)
    assert np.isnan(none_kept.macro_f1) and none_kept.types == 0


def test_pairs_per_type_counts_each_type() -> None:
    assert pairs_per_type(np.array([73, 47, 73, 73])) == {47: 1, 73: 3}
    assert pairs_per_type([]) == {}


def _noisy_predictions(rng: np.random.Generator, y: np.ndarray, error_rate: float) -> np.ndarray:
    wrong = rng.random(len(y)) < error_rate
    return np.where(wrong, rng.integers(1, 87, size=len(y)), y)


def test_paired_bootstrap_observed_differences_are_the_figures_of_type_metrics() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(1, 87, size=3000)
    a, b = _noisy_predictions(rng, y, 0.2), _noisy_predictions(rng, y, 0.1)
    result = paired_bootstrap(y, a, b, resamples=50)
    fa, fb = type_metrics(y, a), type_metrics(y, b)
    for name in ("macro_f1", "accuracy", "kappa"):
        assert result[name].difference == pytest.approx(fb[name] - fa[name], abs=1e-9)
        assert result[name].low <= result[name].difference <= result[name].high


def test_paired_bootstrap_tells_a_real_margin_from_a_few_lucky_pairs() -> None:
    rng = np.random.default_rng(2)
    y = rng.integers(1, 87, size=5000)
    a = _noisy_predictions(rng, y, 0.10)
    clearly_better = np.where(rng.random(len(y)) < 0.5, y, a)  # fixes half of A's mistakes
    barely_different = a.copy()
    barely_different[np.flatnonzero(a != y)[:2]] = y[np.flatnonzero(a != y)[:2]]  # two pairs
    clear = paired_bootstrap(y, a, clearly_better, resamples=200)
    assert clear["accuracy"].b_better == 1.0 and clear["accuracy"].low > 0.03
    tiny = paired_bootstrap(y, a, barely_different, resamples=200)
    assert tiny["accuracy"].low <= 0.0  # two pairs right: the interval reaches zero
    assert tiny["accuracy"].b_better < 0.95
    same = paired_bootstrap(y, a, a, resamples=20)
    assert same["macro_f1"] == (0.0, 0.0, 0.0, 0.0)


def test_paired_bootstrap_refuses_unpaired_predictions() -> None:
    with pytest.raises(ValueError, match="same, non-empty"):
        paired_bootstrap(np.array([1, 2]), np.array([1, 2]), np.array([1]))


def test_two_wordings_of_one_effect_count_as_one_type_only_between_each_other():
    truth = np.array([47, 73, 47, 4, 75, 49])
    predicted = np.array([73, 47, 4, 75, 75, 49])  # 47/73 and 4/75 swapped (3 errors), 47 as 4 is a real error
    figures = same_effect_metrics(truth, predicted, [(47, 73), (4, 75)])
    assert figures["errors_between_wordings"] == 3
    assert figures["accuracy"] == pytest.approx(5 / 6)
    assert figures["wordings"] == [[47, 73], [4, 75]]
    assert same_effect_metrics(truth, predicted, [])["accuracy"] == pytest.approx(2 / 6)
