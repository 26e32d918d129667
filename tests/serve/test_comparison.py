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
    assert same.as_listed is not None
    for reading in (same, same.as_listed):
        assert reading.figures == reading.reference_figures
        assert all(d.difference == 0.0 for d in reading.differences.values())
    types, predicted = part_predictions(predictor)
    assert len(types) == len(predicted.both) == len(predicted.listed) == 200
    assert same.figures["accuracy"] == pytest.approx(float((types == predicted.both).mean()))
    assert same.as_listed.figures["accuracy"] == pytest.approx(float((types == predicted.listed).mean()))


def test_a_comparison_bootstraps_each_reading_on_its_own_predictions(predictor, leaning_predictor) -> None:
    """Answers (both orders averaged) and pairs read as listed are compared each on their own decisions."""
    from ddi.train.pipeline import PartPredictions

    types, ours = part_predictions(leaning_predictor)
    _, theirs = part_predictions(predictor)
    # Given listed answers that are all wrong, only the listed comparison may see them.
    wrong = PartPredictions(ours.both, types + 1000)
    comparison = compare_predictors(leaning_predictor, predictor, resamples=50, predicted=wrong)
    assert comparison.as_listed is not None
    assert comparison.figures["accuracy"] == pytest.approx(float((ours.both == types).mean()))
    assert comparison.as_listed.figures["accuracy"] == 0.0
    for reading, reference in ((comparison, theirs.both), (comparison.as_listed, theirs.listed)):
        assert reading.reference_figures["accuracy"] == pytest.approx(float((reference == types).mean()))
        difference = reading.differences["accuracy"].difference
        assert difference == pytest.approx(reading.figures["accuracy"] - reading.reference_figures["accuracy"])


def test_the_report_s_predictions_are_the_predictor_s_and_are_not_scored_again(predictor, monkeypatch) -> None:
    from ddi.predict import comparison
    from ddi.train.pipeline import test_report_with_predictions

    report, predicted = test_report_with_predictions(predictor.model, predictor.ctx)
    types, scored = part_predictions(predictor)
    assert (predicted.both == scored.both).all() and (predicted.listed == scored.listed).all()
    assert report["accuracy"] == pytest.approx(float((types == predicted.both).mean()))
    assert report["as_listed"]["accuracy"] == pytest.approx(float((types == predicted.listed).mean()))
    calls = []
    original = comparison.part_predictions
    monkeypatch.setattr(comparison, "part_predictions", lambda *a: calls.append(a) or original(*a))
    given = compare_predictors(predictor, predictor, resamples=10, predicted=predicted)
    assert len(calls) == 1  # the reference only
    assert given.figures == compare_predictors(predictor, predictor, resamples=10).figures
