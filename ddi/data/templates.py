"""Map DrugBank interaction descriptions to the benchmark's interaction types, and back.

Every benchmark interaction type is a sentence template with the placeholders ``#Drug1`` and ``#Drug2``
(``interaction_types.tsv``). A DrugBank export describes each interaction as such a sentence with the two
drug names filled in, listed under one drug (the *record* drug) about another (the *partner*). Matching a
description therefore yields a type and which placeholder the record drug fills; ``TemplateMatch.oriented``
then orders the pair by the benchmark convention, where the ``subject`` column says which placeholder the
*first* drug of a row fills (1: ``#Drug1``; 2: ``#Drug2``; 3: symmetric, ``#Drug1`` first).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

import pandas as pd

DRUG1_PLACEHOLDER = "#Drug1"
DRUG2_PLACEHOLDER = "#Drug2"
#: Whatever identifies a drug in ``TemplateMatch.oriented`` (a DrugBank id, an integer code, ...).
DrugKey = TypeVar("DrugKey")

# Control characters cannot occur in a drug name or a template, so they stand in for the placeholders
# inside normalised text without any chance of colliding with real words.
_SLOT1 = "\x01"
_SLOT2 = "\x02"
_SWAP_SLOTS = str.maketrans({_SLOT1: _SLOT2, _SLOT2: _SLOT1})


def normalise_name(name: str) -> str:
    """Case-fold, collapse whitespace and compose accents, so "Acetylsalicylic  Acid" and "acetylsalicylic acid"
    agree, and so do an "é" written as one character and as "e" plus a combining accent (NFC)."""
    return " ".join(unicodedata.normalize("NFC", name).split()).casefold()


# An export names the same few thousand drugs millions of times.
_cached_normalise_name = lru_cache(maxsize=1 << 16)(normalise_name)


def normalise_sentence(text: str) -> str:
    """``normalise_name`` and drop a trailing period, so cosmetic differences never matter."""
    return normalise_name(text).rstrip(".").rstrip()


@dataclass(frozen=True, slots=True)
class TemplateMatch:
    """A description recognised as one interaction type.

    Attributes
    ----------
    type_id
        The benchmark interaction type.
    subject
        The template's ``subject`` (1, 2 or 3).
    drug_placeholder
        Which placeholder the record drug fills (1 for ``#Drug1``, 2 for ``#Drug2``); the partner fills
        the other.
    """

    type_id: int
    subject: int
    drug_placeholder: int

    def oriented(self, drug: DrugKey, partner: DrugKey) -> tuple[DrugKey, DrugKey]:
        """Return the pair as ``(drug1, drug2)``, ordered by the benchmark's ``subject`` convention.

        ``drug`` and ``partner`` are whatever identifies the record drug and the partner (ids, codes).
        """
        # subject 2: the row's first drug fills #Drug2; subjects 1 and 3 (symmetric): it fills #Drug1.
        first_placeholder = 2 if self.subject == 2 else 1
        if self.drug_placeholder == first_placeholder:
            return drug, partner
        return partner, drug


@dataclass(frozen=True, slots=True)
class _CompiledTemplate:
    type_id: int
    subject: int
    pattern: re.Pattern[str]
    #: Longest fixed stretch of the template: a cheap substring test that rules most templates out.
    anchor: str


class TemplateMatcher:
    """Recognise interaction descriptions as benchmark interaction types.

    Templates are compiled once. ``match`` first substitutes the two known drug names into placeholders
    and looks the result up (exact, and fast enough for millions of descriptions); only when that fails
    does it try each template's regular expression, which tolerates a description naming a drug
    differently from its record as long as the other drug's name is recognised.

    Parameters
    ----------
    interaction_types
        A table with the columns ``type``, ``template`` and ``subject`` (validated
        ``interaction_types.tsv``).

    Raises
    ------
    ValueError
        If two templates read the same once normalised (a description could not be told apart).
    """

    def __init__(self, interaction_types: pd.DataFrame) -> None:
        self._by_key: dict[str, tuple[int, int]] = {}
        self._compiled: list[_CompiledTemplate] = []
        for type_id, template, subject in zip(
            interaction_types["type"],
            interaction_types["template"],
            interaction_types["subject"],
            strict=True,
        ):
            type_id, subject = int(type_id), int(subject)
            key = _template_key(template)
            if key in self._by_key:
                raise ValueError(f"interaction types {self._by_key[key][0]} and {type_id} have the same template")
            self._by_key[key] = (type_id, subject)
            self._compiled.append(_compile(type_id, subject, template))

    def __len__(self) -> int:
        return len(self._compiled)

    def match(self, description: str, drug_name: str, partner_name: str) -> TemplateMatch | None:
        """Find the template ``description`` instantiates, with the record drug in either placeholder.

        Parameters
        ----------
        description
            The interaction sentence as the export gives it.
        drug_name, partner_name
            Names of the record drug and of the partner drug.

        Returns
        -------
        TemplateMatch or None
            None when the description instantiates no template with these two drugs.
        """
        text = normalise_sentence(description)
        drug, partner = _cached_normalise_name(drug_name), _cached_normalise_name(partner_name)
        if drug and partner and drug != partner:
            found = self._lookup(text, drug, partner)
            if found is not None:
                return found
        return self._search(text, drug, partner)

    def _lookup(self, text: str, drug: str, partner: str) -> TemplateMatch | None:
        # Replace the longer name first so a name contained in the other ("insulin" in "insulin lispro")
        # does not split it.
        if len(drug) >= len(partner):
            slotted = text.replace(drug, _SLOT1).replace(partner, _SLOT2)
        else:
            slotted = text.replace(partner, _SLOT2).replace(drug, _SLOT1)
        for drug_placeholder, key in ((1, slotted), (2, slotted.translate(_SWAP_SLOTS))):
            hit = self._by_key.get(key)
            if hit is not None:
                return TemplateMatch(hit[0], hit[1], drug_placeholder)
        return None

    def _search(self, text: str, drug: str, partner: str) -> TemplateMatch | None:
        for template in self._compiled:
            if template.anchor not in text:
                continue
            found = template.pattern.fullmatch(text)
            if found is None:
                continue
            at_drug1, at_drug2 = found["drug1"].strip(), found["drug2"].strip()
            if at_drug1 == drug or at_drug2 == partner:
                return TemplateMatch(template.type_id, template.subject, 1)
            if at_drug1 == partner or at_drug2 == drug:
                return TemplateMatch(template.type_id, template.subject, 2)
        return None


def _template_key(template: str) -> str:
    slotted = template.replace(DRUG1_PLACEHOLDER, _SLOT1).replace(DRUG2_PLACEHOLDER, _SLOT2)
    return normalise_sentence(slotted)


def _compile(type_id: int, subject: int, template: str) -> _CompiledTemplate:
    """A regex over normalised text, one named group per placeholder (a repeat must repeat the name)."""
    key = _template_key(template)
    parts: list[str] = []
    seen: set[str] = set()
    for piece in re.split(f"([{_SLOT1}{_SLOT2}])", key):
        if piece in (_SLOT1, _SLOT2):
            group = "drug1" if piece == _SLOT1 else "drug2"
            parts.append(f"(?P={group})" if group in seen else f"(?P<{group}>.+)")
            seen.add(group)
        else:
            parts.append(re.escape(piece))
    if seen != {"drug1", "drug2"}:
        raise ValueError(f"interaction type {type_id}: template lacks {DRUG1_PLACEHOLDER} or {DRUG2_PLACEHOLDER}")
    literals = re.split(f"[{_SLOT1}{_SLOT2}]", key)
    return _CompiledTemplate(type_id, subject, re.compile("".join(parts)), max(literals, key=len))


def render_description(template: str, subject: int, drug1_name: str, drug2_name: str) -> str:
    """The sentence a benchmark row ``(drug1, drug2, type)`` stands for, e.g. for explanations.

    ``subject`` is the template's column of the same name: with 2, drug1 fills ``#Drug2``.
    """
    at_drug1, at_drug2 = (drug2_name, drug1_name) if subject == 2 else (drug1_name, drug2_name)
    # A single pass, so a drug whose name contains a placeholder cannot be substituted twice.
    return re.sub(
        f"{DRUG1_PLACEHOLDER}|{DRUG2_PLACEHOLDER}",
        lambda m: at_drug1 if m.group(0) == DRUG1_PLACEHOLDER else at_drug2,
        template,
    )


@dataclass(frozen=True, slots=True)
class SameEffect:
    """Two interaction types whose templates word one effect two ways, with the same drug in each placeholder.

    DrugBank says that one drug raises another's exposure either as "The metabolism of #Drug2 can be decreased"
    or as "The serum concentration of #Drug2 can be increased"; which wording a pair got is DrugBank's choice, not
    something the drugs show, so a model split between the two is sure of the effect. ``template`` says the effect
    in the placeholders of both types."""

    types: tuple[int, int]
    template: str


#: An effect in plain words, and the patterns of the two templates that word it (both with ``#Drug2`` affected).
SAME_EFFECT_WORDINGS: tuple[tuple[str, tuple[str, str]], ...] = (
    (
        "#Drug1 can raise the blood levels of #Drug2.",
        (r"The metabolism of #Drug2 can be decreased\b", r"The serum concentration of #Drug2 can be increased\b"),
    ),
    (
        "#Drug1 can lower the blood levels of #Drug2.",
        (r"The metabolism of #Drug2 can be increased\b", r"The serum concentration of #Drug2 can be decreased\b"),
    ),
)


def same_effect_types(interaction_types: pd.DataFrame) -> dict[int, SameEffect]:
    """Each type that is one of two wordings of an effect in ``SAME_EFFECT_WORDINGS`` -> that ``SameEffect``.

    An effect counts only where exactly one type matches each wording and both types have the same ``subject``
    (so the first drug of a row plays the same part in both); other data (a DrugBank export with other
    templates) simply has fewer or none."""
    rows = [(int(row.type), str(row.template), int(row.subject)) for row in interaction_types.itertuples()]
    out: dict[int, SameEffect] = {}
    for effect, patterns in SAME_EFFECT_WORDINGS:
        matches = [[(t, s) for t, template, s in rows if re.match(p, template)] for p in patterns]
        if any(len(m) != 1 for m in matches):
            continue
        (first, subject1), (second, subject2) = matches[0][0], matches[1][0]
        if subject1 == subject2 and first != second:
            same = SameEffect((first, second), effect)
            out[first] = out[second] = same
    return out


def same_effect_wordings(interaction_types: pd.DataFrame) -> list[tuple[int, int]]:
    """The pairs of types of ``same_effect_types``, each once, in type order: ``[(4, 75), (47, 73)]`` on the
    benchmark."""
    return sorted({same.types for same in same_effect_types(interaction_types).values()})
