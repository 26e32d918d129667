"""Two models on the same pairs, and whether one's margin over the other is real (``ddi evaluate --against``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ddi.errors import UserInputError
from ddi.evaluate import BootstrapDifference, paired_bootstrap, type_metrics
from ddi.predict.predictor import Predictor
from ddi.train.pipeline import PartPredictions, reading_probs
from ddi.train.trainer import pair_type_logits

#: what makes two split parts the same list of pairs
PAIR_COLUMNS = ["drug1_id", "drug2_id", "type"]


@dataclass
class Comparison:
    """Macro-F1 / accuracy / kappa of a model and of a reference on the same pairs, and the model's differences
    from the reference with their paired-bootstrap intervals: of the answers (both orders averaged), and in
    ``as_listed`` the same with each pair read as its row lists it (the reading of models trained so)."""

    figures: dict[str, float]
    reference_figures: dict[str, float]
    differences: dict[str, BootstrapDifference]
    as_listed: Comparison | None = None


def part_predictions(predictor: Predictor, part: str = "test") -> tuple[np.ndarray, PartPredictions]:
    """True and predicted interaction types of the pairs of a split part, in both readings (the model's full
    decision: prior correction and vote blend included)."""
    ctx = predictor.ctx
    heads, tails, types = ctx.rows(ctx.split.pairs_to_evaluate(part))
    logits = pair_type_logits(predictor.model, ctx, heads, tails, encoded=predictor.encoded)
    return np.asarray(types), PartPredictions.of(ctx.labels, *reading_probs(predictor.model, ctx, logits))


def _figures(types: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    return {k: v for k, v in type_metrics(types, predicted).items() if k != "n"}


def require_same_pairs(model: Predictor, other: Predictor, part: str, use: str = "compare models") -> None:
    """Refuse two predictors loaded with different pairs of ``part`` (other data or another split): figures over
    them would not be comparable, nor could their scores be averaged pair by pair."""
    ours = getattr(model.ctx.split, part)[PAIR_COLUMNS].reset_index(drop=True)
    theirs = getattr(other.ctx.split, part)[PAIR_COLUMNS].reset_index(drop=True)
    if not ours.equals(theirs):
        raise UserInputError(
            f"{other.model_dir} was loaded with other {part} pairs ({len(theirs):,}) than {model.model_dir} "
            f"({len(ours):,}); {use} on the same data and split (--data-dir, --split, --split-dir)"
        )


def compare_predictors(
    model: Predictor,
    reference: Predictor,
    part: str = "test",
    resamples: int = 1000,
    seed: int = 0,
    predicted: PartPredictions | None = None,
) -> Comparison:
    """Score ``model`` and ``reference`` on the same split part and bootstrap their differences.

    Both must have loaded the same pairs (same data and split); otherwise the figures would not be comparable.
    ``predicted``: the model's predicted types of the part's pairs where the caller has them already (e.g. from
    ``test_report_with_predictions``), so they are not scored twice."""
    require_same_pairs(model, reference, part)
    if predicted is None:
        types, predicted = part_predictions(model, part)
    else:
        types = np.asarray(model.ctx.rows(model.ctx.split.pairs_to_evaluate(part))[2])
    _, theirs = part_predictions(reference, part)
    comparison = _compare(types, predicted.both, theirs.both, resamples, seed)
    comparison.as_listed = _compare(types, predicted.listed, theirs.listed, resamples, seed)
    return comparison


def _compare(types: np.ndarray, ours: np.ndarray, theirs: np.ndarray, resamples: int, seed: int) -> Comparison:
    return Comparison(
        figures=_figures(types, ours),
        reference_figures=_figures(types, theirs),
        differences=paired_bootstrap(types, theirs, ours, resamples, seed),
    )
