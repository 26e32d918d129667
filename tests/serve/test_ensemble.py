"""``ddi.predict.ensemble``: several models scored as one, their probabilities averaged pair by pair."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ddi.errors import UserInputError
from ddi.predict.ensemble import ensemble_report
from ddi.train import pipeline
from ddi.train.pipeline import PartScores, part_scores


def test_part_scores_mean_averages_every_field_member_by_member() -> None:
    a = PartScores(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]]), torch.tensor([0.2]), torch.tensor([0.4]))
    b = PartScores(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.0, 1.0]]), torch.tensor([0.6]), torch.tensor([0.0]))
    mean = PartScores.mean([a, b])
    assert torch.equal(mean.both, torch.tensor([[0.5, 0.5]])) and torch.equal(mean.listed, torch.tensor([[0.0, 1.0]]))
    assert mean.exists.tolist() == pytest.approx([0.4]) and mean.unlisted_exists.tolist() == pytest.approx([0.2])


def test_an_ensemble_decides_on_the_members_averaged_probabilities(predictor, leaning_predictor) -> None:
    report, predicted = ensemble_report([predictor, leaning_predictor])
    assert report["ensemble"] == [str(predictor.model_dir), str(leaning_predictor.model_dir)]
    ours = part_scores(predictor.model, predictor.ctx)
    theirs = part_scores(leaning_predictor.model, leaning_predictor.ctx)
    labels = predictor.ctx.labels
    assert (predicted.both == labels.predicted_types((ours.both + theirs.both) / 2)).all()
    # The members disagree on some pairs, so the average is neither member's decision.
    own = labels.predicted_types(ours.both)
    assert (own != labels.predicted_types(theirs.both)).any()
    types = predictor.ctx.rows(predictor.ctx.split.test)[2]
    assert report["accuracy"] == pytest.approx(float(np.mean(predicted.both == types)))
    assert (predicted.listed == labels.predicted_types((ours.listed + theirs.listed) / 2)).all()
    assert report["as_listed"]["accuracy"] == pytest.approx(float(np.mean(predicted.listed == types)))
    assert 0.0 <= report["roc_auc"] <= 1.0


def test_an_ensemble_of_a_model_with_itself_is_the_model(predictor) -> None:
    alone, predicted = pipeline.test_report_with_predictions(predictor.model, predictor.ctx)
    twice, twice_predicted = ensemble_report([predictor, predictor])
    assert (twice_predicted.both == predicted.both).all() and (twice_predicted.listed == predicted.listed).all()
    for key in ("macro_f1", "accuracy", "kappa", "roc_auc", "pr_auc"):
        assert twice[key] == pytest.approx(alone[key])
    assert twice["as_listed"] == pytest.approx(alone["as_listed"])


def test_an_ensemble_refuses_a_lone_model_and_members_loaded_with_other_pairs(
    predictor, predictor_with_fewer_test_pairs
) -> None:
    with pytest.raises(UserInputError, match="an ensemble needs at least two models, not 1"):
        ensemble_report([predictor])
    with pytest.raises(UserInputError, match=r"other test pairs \(150\) than .* \(200\); average models on the same"):
        ensemble_report([predictor, predictor_with_fewer_test_pairs])
