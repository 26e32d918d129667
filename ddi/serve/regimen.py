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
from typing import TYPE_CHECKING, Any

import pandas as pd

from ddi.errors import UserInputError
from ddi.serve.answer import MODEL_LOCK
from ddi.serve.batch import MEDICATION_COLUMN_NAMES, BatchScorer, column_key, column_named, is_missing
from ddi.serve.resolve import CombinationDrugError

if TYPE_CHECKING:
    from ddi.predict.predictor import Predictor
    from ddi.serve.resolve import DrugResolver

#: Most drugs in one regimen: 60 drugs are 1,770 pairs, scored in seconds on a laptop CPU.
MAX_REGIMEN_DRUGS = 60
#: Largest medication list read (bytes): it is held in memory whole, as a patient's rows may be anywhere in it.
MAX_MEDICATION_LIST_BYTES = 512 * 1024 * 1024
#: Column names (case, spaces, ``_`` and ``-`` ignored) of whose regimen a medication list's row is.
# fmt: off
GROUP_COLUMN_NAMES = (
    "patient", "patientid", "patientnumber", "mrn", "regimen", "regimenid", "person", "personid", "subject",
    "subjectid", "encounter", "encounterid", "visit", "visitid", "case", "caseid", "group", "id",
)
# fmt: on
#: The query parameter of a link to a regimen, once per drug: ``?drug=DB00682&drug=DB00945``.
REGIMEN_LINK_PARAMETER = "drug"


class RegimenError(UserInputError):
    """A regimen that cannot be checked: fewer than two drugs, or too many."""


def regimen_drugs(drugs: Sequence[str]) -> list[str]:
    """The distinct drug texts of a regimen, in the order given.

    Blank and missing entries (None, NaN) are dropped, and so are repeats of the same text (letter case and
    surrounding spaces aside).

    Raises
    ------
    RegimenError
        If ``drugs`` is not a list of drugs, or fewer than two drugs remain, or more than ``MAX_REGIMEN_DRUGS``.
    """
    texts: dict[str, str] = {}
    given = 0
    for drug in _drug_list(drugs):
        text = "" if is_missing(drug) else str(drug).strip()  # a NaN cell is no drug called "nan"
        if text:
            given += 1
            texts.setdefault(text.casefold(), text)
    if len(texts) < 2:
        got = str(len(texts))
        if texts:  # name the one drug (often a typo of the second) and whether it was listed more than once
            got += f" ({next(iter(texts.values()))[:80]!r}{f', listed {given} times' if given > 1 else ''})"
        raise RegimenError(f"a regimen needs at least two different drugs; got {got}")
    if len(texts) > MAX_REGIMEN_DRUGS:
        raise RegimenError(
            f"a regimen of {len(texts)} drugs is too large (limit {MAX_REGIMEN_DRUGS}); "
            "score a table of pairs with `ddi predict` instead"
        )
    return list(texts.values())


def _drug_list(drugs: Sequence[str]) -> Sequence[str]:
    """``drugs``, refused when it is one text (or None) rather than a list of them: a string is a sequence too,
    and "simvastatin" would be checked as the regimen s, i, m, v, a, t, n."""
    if drugs is None or isinstance(drugs, str | bytes):
        shown = "None" if drugs is None else f"{type(drugs).__name__} {str(drugs)[:80]!r}"
        raise RegimenError(f"a regimen is a list of drug texts, not {shown}")
    return drugs


def regimen_link_parameters(drugs: Sequence[str]) -> dict[str, list[str]]:
    """The query parameters of a link that reopens a regimen check of ``drugs`` (texts or DrugBank ids)."""
    return {REGIMEN_LINK_PARAMETER: [str(d) for d in _drug_list(drugs)]}


def drugs_from_regimen_link(parameters: Any) -> list[str]:
    """The drug texts a regimen link carries (at most ``MAX_REGIMEN_DRUGS``); ``parameters`` maps names to values
    as Streamlit's ``st.query_params`` does (``get_all`` for a repeated name) or as a plain dict of lists."""
    if hasattr(parameters, "get_all"):
        values = parameters.get_all(REGIMEN_LINK_PARAMETER)
    else:
        values = parameters.get(REGIMEN_LINK_PARAMETER, [])
    # A plain dict may hold anything: one text, a list of texts, or a value no link carries (a number).
    values = [values] if isinstance(values, str) else list(values) if isinstance(values, list | tuple) else []
    return [v.strip() for v in values if isinstance(v, str) and v.strip()][:MAX_REGIMEN_DRUGS]


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
        As ``regimen_drugs``, or if fewer than two of the drugs can be used (the message says why).
    UserInputError
        If ``top_k`` is not a whole number of at least 1.
    """
    from ddi.predict.predictor import count_option

    top_k = count_option("top_k", top_k)  # a float would fail deep in torch, after every drug was resolved
    scorer = BatchScorer(predictor, resolver, top_k=top_k, explain=explain)
    texts = regimen_drugs(drugs)
    # Resolving can register a new molecule with the model, and scoring reads it: the app's other pages do both
    # from other threads, so this holds the model as they do.
    with MODEL_LOCK:
        pairs, notes = _pairs_to_score(scorer, resolver, texts)
        scored = scorer.score(pairs)
    return RegimenCheck(_ranked(scored), notes)


def check_regimens(
    predictor: Predictor,
    resolver: DrugResolver,
    table: pd.DataFrame,
    drug_column: Any,
    group_column: Any | None = None,
    top_k: int = 3,
) -> pd.DataFrame:
    """Check every regimen of a medication list: one row per drug taken, ``group_column`` saying whose regimen
    (a patient, a visit), or one regimen for the whole table without it.

    Returns one row per pair within each regimen (the group column, ``drug1``, ``drug2``, the columns of
    ``ddi.serve.batch.score_table`` and a ``note`` column), regimens in the order of the table and pairs ranked
    as ``check_regimen`` ranks them; then, per regimen, one row per drug not checked as given (its text in
    ``drug1``, why in ``note``), or one row whose ``note`` says why the regimen could not be checked at all. A
    row with an empty ``group_column`` belongs to no regimen and gets a note. Every drug of the table is in a pair
    or a note.

    Raises
    ------
    BatchInputError
        If the table has no column ``drug_column`` or ``group_column`` (the message lists its columns).
    UserInputError
        If ``top_k`` is not a whole number of at least 1.
    """
    from ddi.predict.predictor import count_option

    top_k = count_option("top_k", top_k)
    # A column the table lacks is the caller's mistake, named with the columns there are, not a KeyError.
    columns = list(table.columns)
    drug_column = drug_column if drug_column in columns else column_named(columns, str(drug_column))
    if group_column is not None and group_column not in columns:
        group_column = column_named(columns, str(group_column))
    groups = table[group_column] if group_column is not None else pd.Series("", index=table.index)
    groups = groups.map(lambda g: "" if is_missing(g) else str(g).strip())
    drugs = table[drug_column].map(lambda d: "" if is_missing(d) else str(d))
    scorer = BatchScorer(predictor, resolver, top_k=top_k)
    frames: list[pd.DataFrame] = []
    notes: list[dict[str, str]] = []
    order: dict[str, int] = {}
    for group, texts in drugs.groupby(groups, sort=False):
        order[str(group)] = len(order)
        if group == "" and group_column is not None:
            # Rows of unknown regimen: joining them into one would pair drugs of different patients.
            why = f"no {group_column}: the drug belongs to no regimen, so it is not checked"
            notes.extend({"group": group, "drug1": text, "note": why} for text in texts)
            continue
        try:
            with MODEL_LOCK:  # as in check_regimen
                pairs, group_notes = _pairs_to_score(scorer, resolver, regimen_drugs(list(texts)))
        except RegimenError as exc:
            notes.append({"group": group, "drug1": "", "note": str(exc)})
            continue
        frames.append(pairs.assign(group=group))
        notes.extend({"group": group, "drug1": text, "note": note} for text, note in group_notes.items())
    pairs = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["drug1", "drug2", "group"])
    with MODEL_LOCK:
        scored = scorer.score(pairs.drop(columns="group"), cols=["drug1", "drug2"])
    scored = scored.assign(group=pairs["group"], note="")
    rows = pd.concat([_ranked(scored, by="group", order=order), pd.DataFrame(notes)], ignore_index=True)
    # The note rows' empty text cells; their numbers stay missing.
    text = [c for c in rows.columns if not pd.api.types.is_numeric_dtype(rows[c])]
    rows[text] = rows[text].fillna("")
    rows = rows.sort_values("group", key=lambda g: g.map(order), kind="stable")
    rows = rows[["group", *[c for c in rows.columns if c != "group"]]].reset_index(drop=True)
    if group_column is None:
        return rows.drop(columns="group")
    return rows.rename(columns={"group": group_column})


#: How each interface lets a user choose a medication list's columns (see ``ddi.serve.batch.COLUMN_ADVICE``).
REGIMEN_COLUMN_ADVICE = {"cli": "choose them with --drug-col and --group-col", "app": "rename them in the file"}


def find_regimen_columns(
    columns: Sequence[Any], drug: str | None = None, group: str | None = None, interface: str = "cli"
) -> tuple[Any, Any | None]:
    """The drug column of a medication list and the column saying whose regimen each row is (None: the whole
    table is one regimen): ``drug`` and ``group`` when given, else found by name (``MEDICATION_COLUMN_NAMES``,
    ``GROUP_COLUMN_NAMES``). ``interface``: whose advice a failure gives (``REGIMEN_COLUMN_ADVICE``).

    Raises
    ------
    RegimenError, BatchInputError
        If no drug column is found, a named column is missing (the message lists the columns), or the drug and
        the group column are one.
    """
    keys: dict[str, Any] = {}
    for column in columns:
        keys.setdefault(column_key(column), column)
    drug_column = (
        column_named(columns, drug) if drug else next((keys[n] for n in MEDICATION_COLUMN_NAMES if n in keys), None)
    )
    if drug_column is None:
        listed = ", ".join(repr(str(c)) for c in columns) or "none"
        raise RegimenError(
            f"no drug column found; the columns are {listed}. A medication list has one drug per row: name its "
            "column 'drug' (and the column of whose regimen it is 'patient') in a header row, or "
            f"{REGIMEN_COLUMN_ADVICE[interface]}"
        )
    if group:
        group_column = column_named(columns, group)
        if group_column == drug_column:
            raise RegimenError(
                f"{str(group_column)!r} cannot be both the drug column and the column of whose regimen each row is; "
                "choose another --group-col (or --drug-col)"
            )
        return drug_column, group_column
    group_column = next((keys[n] for n in GROUP_COLUMN_NAMES if n in keys and keys[n] != drug_column), None)
    return drug_column, group_column


def _pairs_to_score(
    scorer: BatchScorer, resolver: DrugResolver, texts: list[str]
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The pairs (``drug1``, ``drug2``) of a regimen's distinct texts, and a note for each text not checked as
    given: a combination product is replaced by its drugs, a second name of a drug is dropped, and a text that
    names no usable drug stays (its pairs fail with the reason) and is noted.

    Raises
    ------
    RegimenError
        If fewer than two drugs can be used.
    """
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
    first_of_drug: dict[int, str] = {}
    kept = []
    for text in expanded:
        # The scorer remembers each text it resolves, so scoring the pairs later resolves none twice.
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
        raise RegimenError(
            f"a regimen needs at least two different drugs it can use; got {len(first_of_drug)}"
            + (f" ({why})" if why else "")
        )
    return pd.DataFrame(list(itertools.combinations(kept, 2)), columns=["drug1", "drug2"]), notes


def _ranked(scored: pd.DataFrame, by: str | None = None, order: dict[str, int] | None = None) -> pd.DataFrame:
    """``scored`` ranked: within each ``by`` group (in ``order``), listed pairs first, then by interaction score,
    failed pairs last."""
    keys = pd.DataFrame(
        {
            "failed": scored["error"].astype(bool),
            "unlisted": scored["known_type"].fillna("").astype(str) == "",
            "exists": -pd.to_numeric(scored["exists_score"], errors="coerce").fillna(0.0),
        }
    )
    columns = ["failed", "unlisted", "exists"]
    if by is not None and order is not None:
        keys.insert(0, "group", scored[by].map(order))
        columns.insert(0, "group")
    ranked = keys.sort_values(columns, kind="stable").index
    return scored.loc[ranked].reset_index(drop=True)
