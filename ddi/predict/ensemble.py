"""Several trained models as one: their probabilities averaged pair by pair (``ddi evaluate --with``).

Averaging the class probabilities of models trained with different seeds cancels part of each one's errors; each
member keeps its own prior correction and vote blend, so the ensemble averages the members' full decisions.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from ddi.errors import UserInputError
from ddi.predict.comparison import require_same_pairs
from ddi.predict.predictor import Predictor
from ddi.train.pipeline import PartPredictions, PartScores, part_scores, report_of_scores

log = logging.getLogger(__name__)


def ensemble_report(
    members: Sequence[Predictor], part: str = "test", seed: int = 0
) -> tuple[dict[str, Any], PartPredictions]:
    """The ``test_report`` of ``members`` as one model (their ``PartScores`` averaged), and its predicted types of
    the pairs of ``part``; ``report["ensemble"]`` names the members' directories.

    Raises
    ------
    UserInputError
        If fewer than two members are given, or the members were loaded with other data or other ``part`` pairs
        (their scores of a pair could not be averaged).
    """
    if len(members) < 2:
        raise UserInputError(f"an ensemble needs at least two models, not {len(members)}")
    first = members[0]
    for other in members[1:]:
        require_same_pairs(first, other, part, use="average models")
        if other.ctx.fingerprint() != first.ctx.fingerprint():  # same pairs, other graph or other drugs' data
            raise UserInputError(
                f"{other.model_dir} was loaded with other data than {first.model_dir}; average models on the same "
                "data directory (--data-dir)"
            )
    directories = [member.model_dir.resolve() for member in members]
    if len(set(directories)) < len(directories):
        log.warning("a model is named twice in the ensemble: it counts once per time it is named")
    start = time.time()
    scores = []
    for member in members:
        log.info("scoring the %s pairs with %s", part, member.model_dir)
        scores.append(part_scores(member.model, member.ctx, part, seed))
    report, predicted = report_of_scores(first.ctx, part, PartScores.mean(scores))
    report["ensemble"] = [str(member.model_dir) for member in members]
    report["seconds"] = time.time() - start
    return report, predicted
