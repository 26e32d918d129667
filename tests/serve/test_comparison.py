"""``ddi.predict.comparison``: two models compared only on the same pairs."""

from __future__ import annotations

import pytest

from ddi.errors import UserInputError
from ddi.predict.comparison import compare_predictors, part_predictions


def test_compare_predictors_refuses_models_loaded_with_other_pairs(predictor, predictor_with_fewer_test_pairs) -> None:
    with pytest.raises(UserInputError, match=r"other test pairs \(150\) than .* \(200\); compare models on the same"):
        compare_predictors(predictor, predictor_with_fewer_test_pairs)
    # The same model on the same pairs: identical figures, every difference zero.
    same = compare_predictors(predictor, predictor, resamples=10)
    assert same.figures == same.reference_figures
    assert all(d.difference == 0.0 for d in same.differences.values())
    types, predicted = part_predictions(predictor)
    assert len(types) == len(predicted) == 200
    assert same.figures["accuracy"] == pytest.approx(float((types == predicted).mean()))


def test_the_report_s_predictions_are_the_predictor_s_and_are_not_scored_again(predictor, monkeypatch) -> None:
    from ddi.predict import comparison
    from ddi.train.pipeline import test_report_with_predictions

    report, predicted = test_report_with_predictions(predictor.model, predictor.ctx)
    types, scored = part_predictions(predictor)
    assert (predicted == scored).all()
    assert report["accuracy"] == pytest.approx(float((types == predicted).mean()))
    calls = []
    original = comparison.part_predictions
    monkeypatch.setattr(comparison, "part_predictions", lambda *a: calls.append(a) or original(*a))
    given = compare_predictors(predictor, predictor, resamples=10, predicted=predicted)
    assert len(calls) == 1  # the reference only
    assert given.figures == compare_predictors(predictor, predictor, resamples=10).figures
