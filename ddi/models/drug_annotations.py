"""Drug label annotations as 0/1 sets, for comparing drugs by their pharmacology class.

Two annotations a drug's label gives before any of its interactions are known (DrugBank's ``atc_codes`` and
``categories`` columns):

- ``atc``: its ATC codes, each with every level of the hierarchy (``C10AA05`` gives ``C``, ``C10``, ``C10A``,
  ``C10AA`` and ``C10AA05``), so two statins (``C10AA``) share four tokens and a statin and a fibrate
  (``C10AB``) share three;
- ``categories``: its DrugBank categories ("Cytochrome P-450 CYP3A4 Inhibitors", "Anticoagulants", ...).

Drugs of one class interact alike, so the look-alike votes (``ddi.models.neighbour_votes``) compare drugs by
these sets too. A drug without an annotation is an all-zero row, compared by its other views only.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import torch
from torch import Tensor

#: The annotations a model can compare drugs by, and the drugs-table column each one reads.
ANNOTATION_COLUMNS = {"atc": "atc_codes", "categories": "categories"}
#: Each annotation in words, for explanations ("look-alikes by structure, proteins and ATC class").
ANNOTATION_WORDS = {"atc": "ATC class", "categories": "DrugBank categories", "interactions": "known interactions"}
#: Lengths of the ATC code prefixes kept: anatomical group, therapeutic, pharmacological and chemical
#: subgroups, substance.
ATC_LEVELS = (1, 3, 4, 5, 7)


def annotation_tokens(value: str, annotation: str) -> set[str]:
    """The tokens of one drug's ``|``-separated annotation cell (case and surrounding spaces ignored)."""
    items = {item.strip().upper() for item in value.split("|") if item.strip()}
    if annotation == "atc":
        return {code[:length] for code in items for length in ATC_LEVELS if len(code) >= length}
    return items


def token_incidence(token_sets: Iterable[set[str]]) -> Tensor:
    """``D x T`` 0/1 matrix of ``D`` token sets over their ``T`` distinct tokens (in sorted order)."""
    sets = list(token_sets)
    vocabulary = {token: i for i, token in enumerate(sorted(set().union(*sets)))}
    matrix = torch.zeros(len(sets), len(vocabulary))
    for row, tokens in enumerate(sets):
        if tokens:
            matrix[row, [vocabulary[token] for token in tokens]] = 1.0
    return matrix


def annotation_incidence(drugs: pd.DataFrame, annotation: str) -> Tensor:
    """``D x T`` 0/1 annotation sets of the rows of ``drugs`` (a validated drugs table), in its row order."""
    if annotation not in ANNOTATION_COLUMNS:
        raise ValueError(f"unknown drug annotation {annotation!r}; known: {', '.join(ANNOTATION_COLUMNS)}")
    column = drugs.get(ANNOTATION_COLUMNS[annotation])
    cells = [""] * len(drugs) if column is None else column.fillna("").astype(str)
    return token_incidence(annotation_tokens(cell, annotation) for cell in cells)
