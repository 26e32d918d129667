"""A regimen check: every pair among the drugs one patient takes, scored and ranked.

Interactions bite in polypharmacy, and a list of n drugs holds n (n - 1) / 2 pairs. ``check_regimen`` builds the
pairs, scores them with the batch scorer (each pair gets the columns and error messages of ``ddi predict``) and
ranks them: the pairs DrugBank lists first, then the others by the model's interaction score, then the pairs
that could not be scored, with the reason in their ``error`` column.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from ddi.errors import UserInputError
from ddi.serve.batch import BatchScorer
from ddi.serve.resolve import CombinationDrugError

if TYPE_CHECKING:
    from ddi.predict.predictor import Predictor
    from ddi.serve.resolve import DrugResolver

#: Most drugs in one regimen: 60 drugs are 1,770 pairs, scored in seconds on a laptop CPU.
MAX_REGIMEN_DRUGS = 60


class RegimenError(UserInputError):
    """A regimen that cannot be checked: fewer than two drugs, or too many."""


def regimen_drugs(drugs: Sequence[str]) -> list[str]:
    """The distinct drug texts of a regimen, in the order given.

    Blank entries are dropped, and so are repeats of the same text (letter case and surrounding spaces aside).

    Raises
    ------
    RegimenError
        If fewer than two drugs remain, or more than ``MAX_REGIMEN_DRUGS``.
    """
    texts: dict[str, str] = {}
    for drug in drugs:
        text = str(drug).strip() if drug is not None else ""
        if text:
            texts.setdefault(text.casefold(), text)
    if len(texts) < 2:
        raise RegimenError(f"a regimen needs at least two different drugs; got {len(texts)}")
    if len(texts) > MAX_REGIMEN_DRUGS:
        raise RegimenError(
            f"a regimen of {len(texts)} drugs is too large (limit {MAX_REGIMEN_DRUGS}); "
            "score a table of pairs with `ddi predict` instead"
        )
    return list(texts.values())


@dataclass
class RegimenCheck:
    """The checked regimen.

    Attributes
    ----------
    pairs: every pair of the regimen's drugs, ranked (see ``check_regimen``).
    notes: each drug text not checked as given -> why: it cannot be used (its pairs say the same in their
        ``error`` column), it names a drug listed before it (left out of the pairs), or it is a combination
        product (checked as its drugs).
    """

    pairs: pd.DataFrame
    notes: dict[str, str]


def check_regimen(
    predictor: Predictor, resolver: DrugResolver, drugs: Sequence[str], top_k: int = 3, explain: bool = False
) -> RegimenCheck:
    """Score every pair of ``drugs`` and rank the pairs: listed by DrugBank first, then by interaction score,
    failed pairs last. The columns are those of ``ddi.serve.batch.score_table`` (``top_k`` and ``explain`` as
    there), with ``drug1`` and ``drug2`` the texts given (a combination product's drugs by their ids).

    Raises
    ------
    RegimenError
        As ``regimen_drugs``. A drug that cannot be used never raises: it is in ``notes``.
    """
    texts = regimen_drugs(drugs)
    notes: dict[str, str] = {}
    expanded: list[str] = []
    for text in texts:
        try:
            resolver.resolve(text)
        except CombinationDrugError as exc:
            # "amoxicillin/clavulanate" in a patient's list means both drugs: each is checked with the others.
            notes[text] = "a combination product: checked as " + ", ".join(f"{n} ({d})" for d, n in exc.candidates)
            expanded.extend(drug_id for drug_id, _ in exc.candidates)
            continue
        except UserInputError:
            pass  # the scorer says why, in the notes and in the pairs' error column
        expanded.append(text)
    scorer = BatchScorer(predictor, resolver, top_k=top_k, explain=explain)
    first_of_drug: dict[int, str] = {}
    kept = []
    for text in expanded:
        # The scorer remembers each text it resolves, so scoring the pairs below resolves none twice.
        side = scorer.side(text)
        if side.error:
            notes[text] = side.error
        elif side.node in first_of_drug:
            notes.setdefault(text, f"the same drug as {first_of_drug[side.node]!r} ({side.name}); checked once")
            continue
        else:
            first_of_drug[side.node] = text
        kept.append(text)
    if len(first_of_drug) < 2:
        why = "; ".join(f"{text}: {note}" for text, note in notes.items())
        raise RegimenError(f"a regimen needs at least two different drugs it can use; got {len(first_of_drug)} ({why})")
    pairs = pd.DataFrame(list(itertools.combinations(kept, 2)), columns=["drug1", "drug2"])
    scored = scorer.score(pairs)
    order = pd.DataFrame(
        {
            "failed": scored["error"].astype(bool),
            "unlisted": scored["known_type"].fillna("").astype(str) == "",
            "exists": -pd.to_numeric(scored["exists_score"], errors="coerce").fillna(0.0),
        }
    )
    ranked = order.sort_values(["failed", "unlisted", "exists"], kind="stable").index
    return RegimenCheck(scored.loc[ranked].reset_index(drop=True), notes)
