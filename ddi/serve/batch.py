"""Score a table of drug pairs: every input row comes back, in order, with its prediction or its error.

``score_table`` scores a DataFrame in memory; ``score_file`` streams a CSV, TSV or Parquet file in chunks
into a file of any of those formats, so memory stays bounded whatever the input size.

Columns appended to the input (an input column of the same name makes the appended one ``ddi_<name>``):

========================  =============================================================================
``drug1_id``/``drug2_id``  DrugBank id of each drug (``structure:<key>`` for a structure with no DrugBank match)
``drug1_name``/``..._name`` its name
``predicted_type``        the most probable interaction type id (1..86), empty for a failed row
``sentence``              that type's template with the two names in their roles
``probability``           its probability among the types (the types sum to 1; given that the pair interacts)
``top{k}_types``          the k most probable types as ``type:probability`` joined by ``|``, best first,
                          e.g. ``73:0.9134|6:0.0312|47:0.0101``
``exists_score``          the model's probability that the pair interacts at all
``known_type``            the DrugBank type(s) when the unordered pair is listed in the data (``|``-joined)
``known_sentence``        their sentences, in DrugBank's orientation (``|``-joined)
``paths``                 with ``explain=True``: the knowledge-graph paths the model weighed most
``rules``                 with ``explain=True``: the pharmacology rules that fire for the pair, written out
                          (``|``-joined; empty when none fires or a drug is known only by its structure)
``basis``                 ``graph`` (both drugs are model drugs) or ``structure`` (at least one was scored by
                          its molecule alone: less certain)
``error``                 why a row could not be scored (unknown drug with suggestions, invalid SMILES, empty
                          cell, same drug twice, a file row that could not be read cleanly with its line
                          number, ...); empty for scored rows
========================  =============================================================================
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ddi.atomic_files import temporary_beside
from ddi.data.tables import DRUGBANK_ID
from ddi.errors import UserInputError
from ddi.predict.sentences import interaction_sentence
from ddi.serve.known import KnownPairs
from ddi.serve.resolve import STRUCTURE_PREFIXES, DrugResolver

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ddi.predict.predictor import Predictor

log = logging.getLogger(__name__)

#: Pairs scored per call of the model: bounds the ``B x 2T`` probability tensors to a few tens of MB.
SCORE_CHUNK = 16_384
#: Distinct drug texts remembered between chunks; a hostile file of unique strings cannot grow it further.
MAX_CACHED_DRUGS = 200_000
#: Paths listed per pair with ``explain=True``.
EXPLAIN_PATHS = 3

#: Workbooks a user may try first: named, with how to get a CSV out of them.
SPREADSHEET_SUFFIXES = (".xlsx", ".xls", ".xlsm", ".ods", ".numbers")
FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": "tsv", ".parquet": "parquet", ".pq": "parquet"}
_SEPARATORS = {"csv": ",", "tsv": "\t"}
#: The separator hint Excel writes as a CSV's first line (``sep=;``), quoted or not.
_SEPARATOR_HINT = re.compile(r'"?sep=([,;\t|])"?')
# Drug-column names after ``column_key`` (lower case, letters and digits only), best first for each side:
# an id column wins over a name column when a file has both.
_SIDE_TAGS = (("1", "a"), ("2", "b"))
DRUG_COLUMN_PATTERNS = (
    "drug{t}id",
    "drugbankid{t}",
    "drugid{t}",
    "drug{t}",
    "drug{t}name",
    "drugname{t}",
    "name{t}",
    "drug{t}smiles",
    "smiles{t}",
    "drug{t}structure",
    "drug{t}inchi",
    "medication{t}",
    "med{t}",
    "compound{t}",
)
# Pharmacology's names for the two sides of an interaction ("precipitant drug" acts on "object drug"), each with
# the suffixes after ``column_key``; the acting drug is read as drug 1.
_ROLE_NAMES = (("precipitant", "perpetrator"), ("object", "victim"))
_ROLE_SUFFIXES = ("", "drug", "drugname", "drugid", "name")
# Bytes read to sniff a text table's separator and encoding.
_HEAD_BYTES = 64 * 1024
#: ``DataFrame.attrs`` key of a chunk from ``read_chunks``: ``{index label: why that row was not read cleanly}``.
ROW_ERRORS = "ddi_row_errors"
#: How the header of a CSV/TSV of pairs is read (pandas names blank and repeated column names): cells as text,
#: "NA" kept as text, a BOM dropped, and no index column.
TEXT_TABLE_OPTIONS: dict[str, Any] = {
    "dtype": str,
    "keep_default_na": False,
    "encoding": "utf-8-sig",
    # A stray byte that is not UTF-8 becomes U+FFFD in that one cell (whose drug is then unknown) instead of
    # failing the whole file.
    "encoding_errors": "replace",
    "index_col": False,
}


class BatchInputError(UserInputError):
    """The table to score cannot be read or has no drug columns; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class _Side:
    """One distinct drug text, resolved once: its graph node (-1 if it failed) and what to print."""

    node: int
    drug_id: str
    name: str
    error: str
    in_graph: bool


@dataclass
class BatchSummary:
    """What ``score_file`` did."""

    rows: int
    scored: int
    failed: int
    seconds: float
    out_path: Path | None = None

    @property
    def pairs_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("nan")


def output_columns(top_k: int = 3, explain: bool = False) -> list[str]:
    """Names of the appended columns, in order (before renaming clashes with input columns)."""
    cols = ["drug1_id", "drug1_name", "drug2_id", "drug2_name", "predicted_type", "sentence", "probability"]
    cols += [f"top{top_k}_types", "exists_score", "known_type", "known_sentence"]
    return [*cols, *(["paths", "rules"] if explain else []), "basis", "error"]


#: Column names (case, spaces, ``_`` and ``-`` ignored) of the drug column of a medication list, one drug per row.
# fmt: off
MEDICATION_COLUMN_NAMES = (
    "drug", "drugname", "drugid", "drugbankid", "medication", "medicationname", "medicine", "med", "drugs",
    "medications", "substance", "ingredient", "name", "smiles", "inchi",
)
# fmt: on


#: How each interface lets a user choose a table's drug columns, and where it checks a medication list: the
#: messages of a file without drug columns give the advice of the interface the file came through.
COLUMN_ADVICE = {
    "cli": ("choose them with --cols A B", "`ddi regimen --file`"),
    "app": ("rename them in the file", "the Regimen page"),
}


def find_drug_columns(
    columns: Sequence[Any], cols: Sequence[str] | None = None, interface: str = "cli"
) -> tuple[Any, Any]:
    """The two drug columns of a table: ``cols`` if given, else found by name (``interface``: whose advice a
    failure gives, ``COLUMN_ADVICE``).

    Recognised names (case, spaces, ``_`` and ``-`` ignored) are ``drug1``/``drug2``, ``drug_a``/``drug_b``,
    ``drug1_id``, ``drug1_name``, ``drug1_smiles``, ``smiles1``, ``medication1`` and similar, and the
    interaction's roles (``precipitant drug``/``object drug``, ``perpetrator``/``victim``); an id column is
    preferred over a name column when a file has both. A header that names one drug column twice ("Drug,Drug")
    gives the pair in order.

    Raises
    ------
    BatchInputError
        If a named column is missing or no pair of drug columns is found; the message lists the columns.
    """
    listed = ", ".join(repr(str(c)) for c in columns) or "none"
    if cols is not None:
        if len(cols) != 2:
            raise BatchInputError(f"give exactly two drug columns, not {len(cols)}")
        found = [column_named(columns, wanted) for wanted in cols]
        if found[0] == found[1]:
            raise BatchInputError(f"the two drug columns must differ (both are {str(found[0])!r})")
        return found[0], found[1]
    keys: dict[str, Any] = {}
    for c in columns:
        keys.setdefault(column_key(c), c)
    found = []
    for tags, roles in zip(_SIDE_TAGS, _ROLE_NAMES, strict=True):
        names = [p.format(t=t) for p in DRUG_COLUMN_PATTERNS for t in tags]
        names += [role + suffix for role in roles for suffix in _ROLE_SUFFIXES]
        column = next((keys[n] for n in names if n in keys), None)
        if column is None:
            if repeated := _repeated_drug_column(columns):
                log.info("the header names one drug column twice; reading %r and %r as the pair", *repeated)
                return repeated
            one_per_row = any(key in MEDICATION_COLUMN_NAMES for key in keys)
            choose, medication_lists = COLUMN_ADVICE[interface]
            raise BatchInputError(
                f"no drug columns found; the columns are {listed}. Name them drug1 and drug2 in a header row "
                f"(or drug_a/drug_b, drug1_id, drug1_name, ...), or {choose}"
                + (f"; a medication list, one drug per row, is checked with {medication_lists}" if one_per_row else "")
            )
        found.append(column)
    return found[0], found[1]


def column_named(columns: Sequence[Any], wanted: str) -> Any:
    """The column called ``wanted`` (exactly, else ignoring case and surrounding spaces).

    Raises
    ------
    BatchInputError
        If there is none; the message lists the columns.
    """
    exact = [c for c in columns if str(c) == wanted]
    loose = [c for c in columns if str(c).strip().casefold() == str(wanted).strip().casefold()]
    match = exact or loose
    if not match:
        listed = ", ".join(repr(str(c)) for c in columns) or "none"
        raise BatchInputError(f"no column {wanted!r}; the columns are {listed}")
    return match[0]


#: how pandas renames the second of two columns with one name ("Drug,Drug" is read as 'Drug', 'Drug.1')
_RENAMED_REPEAT = re.compile(r"\.\d+$")


def _repeated_drug_column(columns: Sequence[Any]) -> tuple[Any, Any] | None:
    """The two columns of a header that names one drug column twice ("Drug,Drug"), in order, or None."""
    by_key: dict[str, list[Any]] = {}
    for c in columns:
        by_key.setdefault(column_key(_RENAMED_REPEAT.sub("", str(c))), []).append(c)
    for key, group in by_key.items():
        if key in MEDICATION_COLUMN_NAMES and len(group) == 2:
            return group[0], group[1]
    return None


def column_key(column: Any) -> str:
    """What a column name is matched by: its letters and digits, lower case (``"Drug 1_ID"`` -> ``"drug1id"``)."""
    return re.sub(r"[^0-9a-z]", "", str(column).casefold())


class BatchScorer:
    """Scores tables of drug pairs with one predictor, remembering each drug text it has resolved.

    Parameters
    ----------
    predictor
        A loaded ``Predictor``.
    resolver
        The ``DrugResolver`` of the same data (``DrugResolver.for_predictor(predictor)``).
    top_k
        Types listed in the ``top{k}_types`` column.
    explain
        Add a ``paths`` column with the knowledge-graph paths behind each prediction (slow: one model call
        per pair).
    """

    def __init__(self, predictor: Predictor, resolver: DrugResolver, top_k: int = 3, explain: bool = False) -> None:
        if top_k < 1:
            raise BatchInputError(f"top_k must be at least 1, not {top_k}")
        self.predictor = predictor
        self.resolver = resolver
        self.top_k = min(top_k, predictor.ctx.labels.num_types)
        self.explain = explain
        self._sides: dict[str, _Side] = {}
        labels = predictor.ctx.labels
        types = predictor.ctx.tables.interaction_types
        self._templates = dict(zip(types["type"].astype(int), types["template"], strict=True))
        self._type_ids = np.asarray(labels.type_ids)
        self._symmetric = labels.symmetric.numpy()
        self._num_graph_drugs = predictor.ctx.graph.num_drugs
        # Built once per loaded model: it reads every listed interaction, more than one patient's regimen takes.
        self._known = predictor.derived(KnownPairs)
        #: Seconds spent inside ``predictor.score_ids`` so far (the rest is resolution and formatting).
        self.model_seconds = 0.0

    # ------------------------------------------------------------------------------------------ resolution

    def side(self, value: Any) -> _Side:
        """Resolve one cell (cached by its text)."""
        if isinstance(value, _NotText):
            return _Side(-1, "", "", f"the cell holds a {value.kind}, not a drug name, id or structure", False)
        text = "" if is_missing(value) else str(value).strip()
        cached = self._sides.get(text)
        if cached is None:
            cached = self._resolve(text)
            if len(self._sides) >= MAX_CACHED_DRUGS:
                self._sides.clear()
            self._sides[text] = cached
        return cached

    def _resolve(self, text: str) -> _Side:
        if not text:
            return _Side(-1, "", "", "empty cell", False)
        if "\n" in text or "\r" in text:
            return _Side(-1, "", "", 'the cell spans several lines (is a quote (") unbalanced?)', False)
        try:
            drug = self.resolver.resolve(text)
        except UserInputError as exc:
            return _Side(-1, "", "", str(exc), False)
        drug_id, name = drug.drugbank_id or "", drug.name
        if drug.in_model and drug_id in self.predictor.node_of:
            node = self.predictor.node_of[drug_id]
            return _Side(node, drug_id, name, "", node < self._num_graph_drugs)
        if not drug.structure:
            return _Side(
                -1, drug_id, name, f"{name} ({drug_id}) is not a drug of the model and has no structure", False
            )
        if not hasattr(self.predictor, "register_structure"):
            return _Side(-1, drug_id, name, "this predictor cannot score drugs by their structure", False)
        try:
            pseudo = self.predictor.register_structure(drug.structure, name=name)
        except UserInputError as exc:
            return _Side(-1, drug_id, name, str(exc), False)
        except Exception as exc:  # one odd molecule must not stop a run of a million rows
            log.warning(
                "could not score the structure of %r: %s", text[:80], exc, exc_info=log.isEnabledFor(logging.DEBUG)
            )
            return _Side(-1, drug_id, name, f"could not score this structure ({type(exc).__name__})", False)
        return _Side(self.predictor.node_of[pseudo], drug_id or pseudo, name, "", False)

    # ------------------------------------------------------------------------------------------- scoring

    def score(self, df: pd.DataFrame, cols: Sequence[str] | None = None) -> pd.DataFrame:
        """``df`` with the prediction columns appended (see the module docstring); rows and order kept."""
        col_a, col_b = find_drug_columns(list(df.columns), cols)
        n = len(df)
        values = pd.concat([_cells(df[col_a]), _cells(df[col_b])], ignore_index=True)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        # One entry per distinct text, plus a last one for missing cells (factorize's code -1).
        sides = [self.side(u) for u in uniques] + [self.side(None)]
        node = np.array([s.node for s in sides], dtype=np.int64)[codes]
        in_graph = np.array([s.in_graph for s in sides], dtype=bool)[codes]
        ids = np.array([s.drug_id for s in sides], dtype=object)[codes]
        names = np.array([s.name for s in sides], dtype=object)[codes]
        side_errors = np.array([s.error for s in sides], dtype=object)[codes]
        head, tail = node[:n], node[n:]

        errors = np.full(n, "", dtype=object)
        bad = (head < 0) | (tail < 0) | (head == tail)
        for i in np.flatnonzero(bad).tolist():
            errors[i] = self._row_error(str(col_a), str(col_b), side_errors[i], side_errors[n + i], names[i])
        # Rows the file reader could not read cleanly: their cells may sit in the wrong columns, so not scored.
        unread = df.attrs.get(ROW_ERRORS) or {}
        for i in np.flatnonzero(df.index.isin(list(unread))).tolist():
            errors[i] = unread[df.index[i]]
            bad[i] = True
            ids[i] = ids[n + i] = names[i] = names[n + i] = ""
        ok = ~bad

        out = {
            "drug1_id": ids[:n],
            "drug1_name": names[:n],
            "drug2_id": ids[n:],
            "drug2_name": names[n:],
        }
        out.update(self._predict(head, tail, ok, names[:n], names[n:]))
        out["known_type"], out["known_sentence"] = self._known.lookup(head, tail, ok & in_graph[:n] & in_graph[n:])
        if self.explain:
            out["paths"] = self._paths(head, tail, ok)
            out["rules"] = self._rules(head, tail, ok & in_graph[:n] & in_graph[n:])
        out["basis"] = np.where(ok, np.where(in_graph[:n] & in_graph[n:], "graph", "structure"), "").astype(object)
        out["error"] = errors
        scored = _append(df, out)
        scored.attrs.pop(ROW_ERRORS, None)  # reported in the error column; not carried into output files
        return scored

    @staticmethod
    def _row_error(col_a: str, col_b: str, err_a: str, err_b: str, name: str) -> str:
        parts = [f"{col}: {err}" for col, err in ((col_a, err_a), (col_b, err_b)) if err]
        return "; ".join(parts) or f"{col_a} and {col_b} are the same drug ({name})"

    def _predict(
        self, head: np.ndarray, tail: np.ndarray, ok: np.ndarray, first: np.ndarray, second: np.ndarray
    ) -> dict[str, np.ndarray]:
        n = len(head)
        predicted = pd.arrays.IntegerArray(np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool))
        probability = np.full(n, np.nan)
        exists = np.full(n, np.nan)
        sentence = np.full(n, "", dtype=object)
        top = np.full(n, "", dtype=object)
        rows = np.flatnonzero(ok)
        if len(rows):
            # Each distinct ordered pair is scored once, however often the table repeats it.
            stride = int(max(head[rows].max(), tail[rows].max())) + 1
            pair_key = head[rows] * stride + tail[rows]
            unique_keys, inverse = np.unique(pair_key, return_inverse=True)
            u_head, u_tail = unique_keys // stride, unique_keys % stride
            u_type, u_prob, u_first_is_1, u_exists, u_top = self._score_unique(u_head, u_tail)
            type_ids = u_type[inverse]
            predicted[rows] = type_ids
            probability[rows] = u_prob[inverse]
            exists[rows] = u_exists[inverse]
            top[rows] = u_top[inverse]
            first_is_1 = u_first_is_1[inverse]
            templates = self._templates
            sentence[rows] = [
                interaction_sentence(templates[t], a, b, "#Drug1" if r else "#Drug2")
                for t, a, b, r in zip(
                    type_ids.tolist(), first[rows].tolist(), second[rows].tolist(), first_is_1.tolist(), strict=True
                )
            ]
        return {
            "predicted_type": predicted,
            "sentence": sentence,
            "probability": probability,
            f"top{self.top_k}_types": top,
            "exists_score": exists,
        }

    def _score_unique(self, heads: np.ndarray, tails: np.ndarray) -> tuple[np.ndarray, ...]:
        """Top type, its probability, whether the first drug fills #Drug1, exists score, top-k string."""
        import torch

        labels = self.predictor.ctx.labels
        parts: list[tuple[np.ndarray, ...]] = []
        for start in range(0, len(heads), SCORE_CHUNK):
            h, t = heads[start : start + SCORE_CHUNK], tails[start : start + SCORE_CHUNK]
            start_time = time.perf_counter()
            class_probs, exists = self.predictor.score_ids(h, t)
            self.model_seconds += time.perf_counter() - start_time
            type_probs = labels.type_probs(class_probs)
            top_p, top_i = type_probs.topk(self.top_k, dim=-1)
            best = top_i[:, 0]
            rows = torch.arange(len(h))
            orientation = class_probs.view(len(h), labels.num_types, 2)[rows, best].argmax(-1).numpy()
            best_np = best.numpy()
            first_is_1 = self._symmetric[best_np] | (orientation == 0)
            top_ids = self._type_ids[top_i.numpy()]
            top_p_np = top_p.numpy()
            top_text = np.array(
                [
                    "|".join(f"{t}:{p:.4f}" for t, p in zip(ti, pi, strict=True))
                    for ti, pi in zip(top_ids.tolist(), top_p_np.tolist(), strict=True)
                ],
                dtype=object,
            )
            probability = top_p_np[:, 0].astype(np.float64).round(4)
            parts.append((top_ids[:, 0], probability, first_is_1, exists.numpy().astype(np.float64).round(4), top_text))
        return tuple(np.concatenate(column) for column in zip(*parts, strict=True))

    def _paths(self, head: np.ndarray, tail: np.ndarray, ok: np.ndarray) -> np.ndarray:
        def paths_text(pair: tuple[int, int]) -> str:
            paths = self.predictor.explain_paths(*pair, EXPLAIN_PATHS)
            return " | ".join(f"{p.text} ({p.weight:.2f})" for p in paths)

        return _text_per_pair(head, tail, ok, paths_text)

    def _rules(self, head: np.ndarray, tail: np.ndarray, in_graph: np.ndarray) -> np.ndarray:
        from ddi.kg.rules import fired_rules

        kg = self.predictor.ctx.kg
        return _text_per_pair(
            head, tail, in_graph, lambda pair: " | ".join(match.describe(kg) for match in fired_rules(kg, *pair))
        )


def _text_per_pair(
    head: np.ndarray, tail: np.ndarray, rows: np.ndarray, text_of: Callable[[tuple[int, int]], str]
) -> np.ndarray:
    """``text_of((head, tail))`` for the ``rows`` selected (bool), "" elsewhere; each distinct pair computed once."""
    out = np.full(len(head), "", dtype=object)
    done: dict[tuple[int, int], str] = {}
    for i in np.flatnonzero(rows).tolist():
        pair = (int(head[i]), int(tail[i]))
        if pair not in done:
            done[pair] = text_of(pair)
        out[i] = done[pair]
    return out


def _append(df: pd.DataFrame, out: dict[str, Any]) -> pd.DataFrame:
    """``df`` with ``out``'s columns appended; a name that clashes with an input column gets a ``ddi_`` prefix."""
    taken = {str(c) for c in df.columns}
    renamed = {}
    for name in out:
        new = name
        while new in taken:
            new = f"ddi_{new}"
        renamed[name] = new
        taken.add(new)
    extra = pd.DataFrame({renamed[k]: v for k, v in out.items()}, index=df.index)
    return pd.concat([df, extra], axis=1)


def _cells(column: pd.Series) -> pd.Series:
    """A drug column's cells as objects; in a column named for SMILES (``smiles1``, ``drug1_smiles``) every cell
    is read as a structure, so that short chains such as ``CCO``, otherwise read as names, are molecules too. A
    DrugBank id there is still read as an id: no SMILES looks like one."""
    cells = column.astype(object).map(_cell_value)
    if "smiles" not in column_key(column.name):
        return cells

    def as_structure(value: Any) -> Any:
        if is_missing(value) or isinstance(value, _NotText):
            return value
        text = str(value).strip()
        if not text or text[:7].lower() in STRUCTURE_PREFIXES or text.startswith("InChI=") or DRUGBANK_ID.match(text):
            return text
        return f"smiles:{text}"

    return cells.map(as_structure)


@dataclass(frozen=True, slots=True)
class _NotText:
    """A cell that holds a list, array or mapping (a Parquet column of lists): not a drug, and not hashable."""

    kind: str


def _cell_value(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):  # a Parquet column of binary strings
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, dict):
        return _NotText("mapping")
    if isinstance(value, list | tuple | set | np.ndarray):
        return _NotText("list")
    return value


def is_missing(value: Any) -> bool:
    """Whether a table cell holds nothing: None, NaN or ``pd.NA`` (an array or other odd value is not missing)."""
    if value is None or value is pd.NA:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # arrays and other odd cell values are not "missing"
        return False


def score_table(
    df: pd.DataFrame,
    predictor: Predictor,
    resolver: DrugResolver,
    cols: Sequence[str] | None = None,
    top_k: int = 3,
    explain: bool = False,
) -> pd.DataFrame:
    """Score every row of ``df``; return it with the prediction columns appended (see the module docstring).

    Parameters
    ----------
    df
        A table with two drug columns (DrugBank ids, names, synonyms, InChIKeys, SMILES or InChI).
    predictor, resolver
        A loaded ``Predictor`` and the ``DrugResolver`` of its data.
    cols
        The two drug columns; default: found by name (``find_drug_columns``).
    top_k
        Types listed per row in ``top{k}_types``.
    explain
        Add the ``paths`` column (one model call per distinct pair: slow for large tables).

    Raises
    ------
    BatchInputError
        If the drug columns cannot be found. Bad rows never raise: their ``error`` column says why.
    """
    return BatchScorer(predictor, resolver, top_k=top_k, explain=explain).score(df, cols)


# ------------------------------------------------------------------------------------------------ files


def file_format(path: str | Path) -> str:
    """``csv``, ``tsv`` or ``parquet`` from the file extension (a ``.gz`` after csv/tsv is allowed)."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz" and len(suffixes) >= 2:
        suffixes = suffixes[:-1]
        if FORMATS.get(suffixes[-1]) == "parquet":
            suffixes = []
    fmt = FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        raise BatchInputError(f"{path}: unsupported file type; use .csv, .tsv or .parquet (CSV/TSV may be .gz)")
    return fmt


def refuse_workbook(path: str | Path) -> None:
    """Raise ``BatchInputError`` saying how to get a CSV out of a spreadsheet workbook (.xlsx, .ods, ...)."""
    if Path(path).suffix.lower() in SPREADSHEET_SUFFIXES:
        raise BatchInputError(
            f"{path}: a spreadsheet workbook; save the sheet as CSV (in Excel: File > Save As > 'CSV UTF-8') and "
            "use the .csv file"
        )


@dataclass
class InputFile:
    """A checked input table: its path, format, header, CSV separator, row count (Parquet only) and text encoding."""

    path: Path
    fmt: str
    columns: list[Any]
    sep: str
    rows: int | None
    encoding: str = "utf-8-sig"
    #: lines before the first data row: Excel's ``sep=;`` separator hint, blank lines and the header
    skip_lines: int = 1
    #: positions of the drug columns, whose cells never span lines (a record where they do has a stray quote)
    drug_positions: tuple[int, ...] = ()
    #: a text header's cells as written: pandas renames blank and repeated ones ("Unnamed: 2", "note.1"), and a
    #: text output gives them back under the names the user wrote
    header: tuple[str, ...] = ()

    def header_names(self) -> dict[Any, str]:
        """Each column's header cell as written, by the name pandas gave the column; empty where the header was
        not kept (Parquet)."""
        return dict(zip(self.columns, self.header, strict=False))


def written_header(columns: Iterable[Any], names: Mapping[Any, str]) -> list[str]:
    """The header of a text output: each column under its name in ``names`` (the input's header as written, see
    ``InputFile.header_names``), else its own."""
    return [names.get(c, str(c)) for c in columns]


def inspect_input(
    path: str | Path, cols: Sequence[str] | None = None, max_bytes: int | None = None, interface: str = "cli"
) -> InputFile:
    """Check that ``path`` is a readable table with two drug columns before anything is loaded or scored
    (``interface``: whose advice a failure gives, as ``find_drug_columns``).

    Raises
    ------
    BatchInputError
        As ``open_table``, or if the table has no drug columns.
    """
    source = open_table(path, max_bytes)
    drug_columns = find_drug_columns(source.columns, cols, interface)
    source.drug_positions = tuple(source.columns.index(c) for c in drug_columns)
    return source


def open_table(path: str | Path, max_bytes: int | None = None) -> InputFile:
    """The format, columns and text encoding of the table at ``path``, for ``read_chunks``.

    Raises
    ------
    BatchInputError
        If the file is missing, empty, too large, binary (for CSV/TSV) or not Parquet (for .parquet).
    """
    path = Path(path)
    refuse_workbook(path)
    fmt = file_format(path)
    if path.is_dir():
        raise BatchInputError(f"{path}: a directory, not a file")
    if not path.is_file():
        raise BatchInputError(f"{path}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise BatchInputError(f"{path}: the file is empty")
    if max_bytes is not None and size > max_bytes:
        raise BatchInputError(f"{path}: {size / 1e6:,.1f} MB is over the {max_bytes / 1e6:,.1f} MB limit")
    if fmt == "parquet":
        columns, rows = _parquet_header(path)
        source = InputFile(path, fmt, columns, "", rows)
    else:
        source = _text_header(path, fmt)
    return source


def _parquet_header(path: Path) -> tuple[list[Any], int]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise BatchInputError(f"{path}: not a readable Parquet file ({first_line(exc)})") from exc
    return list(meta.schema_arrow.names), meta.metadata.num_rows


def _open_text(path: Path):
    return gzip.open(path, "rb") if path.suffix.lower() == ".gz" else path.open("rb")


def _utf16_without_mark(head: bytes) -> str:
    """The codec of ``head`` if it reads as mostly-ASCII UTF-16 without a byte-order mark (``utf-16-le`` or
    ``utf-16-be``), else an empty string."""
    even, odd = head[0:256:2], head[1:256:2]
    if len(odd) < 2:
        return ""
    if odd.count(0) == len(odd) and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) == len(even) and odd.count(0) == 0:
        return "utf-16-be"
    return ""


def _text_encoding(head: bytes, whole_file: bool) -> str:
    """UTF-8 (BOM or not), unless the start of the file is not UTF-8: then Windows-1252, what Excel writes in
    western locales ("Ácido acetilsalicílico"), which decodes any byte."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if whole_file or exc.start < len(head) - 3:  # not just a character cut at the end of the read
            return "cp1252"
    return "utf-8-sig"


def _text_header(path: Path, fmt: str) -> InputFile:
    try:
        with _open_text(path) as handle:
            head = handle.read(_HEAD_BYTES)
    except (OSError, EOFError) as exc:
        raise BatchInputError(f"{path}: cannot be read ({first_line(exc)})") from exc
    utf16 = "utf-16" if head.startswith((b"\xff\xfe", b"\xfe\xff")) else _utf16_without_mark(head)
    if utf16:
        # A spreadsheet's "Unicode text" export: UTF-16 with a byte-order mark, which the codec reads and drops
        # (or, from some tools, without one: then ASCII text has a zero byte beside every character).
        encoding = utf16
        log.info("%s is UTF-16 text; reading it as such", path)
        head = head[: len(head) - len(head) % 2]
    elif b"\x00" in head or head.startswith(b"PAR1"):
        raise BatchInputError(f"{path}: binary content, not a {fmt.upper()} text file")
    else:
        encoding = _text_encoding(head, whole_file=len(head) < _HEAD_BYTES)
        if encoding != "utf-8-sig":
            log.info("%s is not UTF-8; reading it as Windows-1252", path)
    text = head.decode(encoding, errors="replace")
    hint = _SEPARATOR_HINT.fullmatch(text.split("\n", 1)[0].strip(" \r"))
    # Excel's first line "sep=;" names the separator; the header comes after it.
    skip_lines = 1 if hint else 0
    first = next((line for line in text.splitlines()[skip_lines:] if line.strip()), "")
    if not first:
        raise BatchInputError(f"{path}: no header row (the file holds only blank lines)")
    sep = hint.group(1) if hint else _SEPARATORS[fmt]
    if not hint and sep not in first:
        # Spreadsheets in many locales save "CSV" with semicolons; a tab-separated .csv or a comma-separated .txt
        # also happens.
        sep = max((";", "\t", ","), key=first.count)
    columns, skip_lines, header = _header_columns(path, encoding, sep, skip_lines)
    return InputFile(path, fmt, columns, sep, None, encoding, skip_lines, header=header)


def _header_columns(path: Path, encoding: str, sep: str, skip_lines: int) -> tuple[list[Any], int, tuple[str, ...]]:
    """The column names of the header (the first non-blank line after ``skip_lines``), named as pandas names
    blank and repeated ones, how many lines lead to the data rows, and the header's cells as written. Only the
    header line is parsed: a stray quote in a data row is that row's problem, not the file's."""
    with _open_text(path) as raw, io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="") as text:
        for number, line in enumerate(text, start=1):
            if number > skip_lines and line.strip():
                break
        else:
            raise BatchInputError(f"{path}: no header row (the file holds only blank lines)")
    line = line.rstrip("\r\n")
    if line.count('"') % 2:
        raise BatchInputError(
            f'{path}: the header row (line {number}) has a quote (") that is not closed on its line; fix its quotes'
        )
    cells = next(csv.reader([line], delimiter=sep))
    header = io.StringIO()
    csv.writer(header, delimiter=sep).writerow(cells)
    options = {k: v for k, v in TEXT_TABLE_OPTIONS.items() if not k.startswith("encoding")}
    try:
        columns = list(pd.read_csv(io.StringIO(header.getvalue()), sep=sep, nrows=0, **options).columns)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise BatchInputError(f"{path}: not a readable header row ({first_line(exc)})") from exc
    return columns, number, tuple(cells) if len(cells) == len(columns) else ()


def read_chunks(source: InputFile, chunksize: int) -> Iterator[pd.DataFrame]:
    """The rows of a checked input file, ``chunksize`` at a time, every cell as text.

    A CSV/TSV row that could not be read cleanly (more cells than the header, an unclosed quote, an oversized
    cell) is still returned, with the cells that fit, and ``chunk.attrs[ROW_ERRORS]`` maps its index label to
    what went wrong; ``BatchScorer.score`` reports it in the row's error column instead of scoring it.
    """
    if source.fmt != "parquet":
        yield from _read_text_chunks(source, chunksize)
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        for batch in pq.ParquetFile(source.path).iter_batches(batch_size=chunksize):
            yield batch.to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise BatchInputError(f"{source.path}: corrupt Parquet data ({first_line(exc)})") from exc


def _read_text_chunks(source: InputFile, chunksize: int) -> Iterator[pd.DataFrame]:
    # The csv module rather than pandas: pandas stops the whole file at the first ragged row, and silently
    # merges the lines after an unclosed quote into one cell. Here each record knows its lines.
    width = len(source.columns)
    rows: list[list[str]] = []
    problems: dict[int, str] = {}
    start = 0
    with (
        _open_text(source.path) as raw,
        io.TextIOWrapper(raw, encoding=source.encoding, errors="replace", newline="") as text,
    ):
        for _ in range(source.skip_lines):  # ``source.columns`` has the header, with pandas' names
            text.readline()
        records = _text_records(text, source.sep, width, source.drug_positions, source.skip_lines)
        for line, cells, problem in records:
            if len(cells) != width or problem:  # rare: keep the common row's path short
                if not problem and len(cells) > width:
                    problem = (
                        f"line {line} has {len(cells)} cells but the header has {width}; quote cells that "
                        "contain the separator, or remove the extra cells"
                    )
                if problem:
                    problems[start + len(rows)] = problem
                cells = (cells + [""] * width)[:width]
            rows.append(cells)
            if len(rows) == chunksize:
                yield _text_frame(rows, source.columns, start, problems)
                start += len(rows)
                rows, problems = [], {}
    if rows:
        yield _text_frame(rows, source.columns, start, problems)


def empty_frame(columns: Sequence[Any]) -> pd.DataFrame:
    """A table with ``columns`` (as text) and no rows: what a header-only input file reads as."""
    return pd.DataFrame({c: pd.Series(dtype=str) for c in columns})


def _text_frame(rows: list[list[str]], columns: list[Any], start: int, problems: dict[int, str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns, dtype=str, index=pd.RangeIndex(start, start + len(rows)))
    if problems:
        frame.attrs[ROW_ERRORS] = problems
    return frame


class _NumberedLines:
    """The lines of a text handed to ``csv.reader``, remembering which ones the current record used; lines can be
    handed back to be read again (after a record that swallowed them by a stray quote)."""

    def __init__(self, text: Iterable[str], number: int = 0) -> None:
        self._lines = iter(text)
        self._again: list[str] = []
        self.number = number
        self.record: list[str] = []
        self.exhausted = False

    def __iter__(self) -> _NumberedLines:
        return self

    def __next__(self) -> str:
        if self._again:
            line = self._again.pop()
        else:
            try:
                line = next(self._lines)
            except StopIteration:
                self.exhausted = True
                raise
        self.number += 1
        self.record.append(line)
        return line

    def read_again(self, lines: list[str]) -> None:
        """Hand ``lines`` (the end of the current record) back, to be read next."""
        self._again.extend(reversed(lines))
        self.number -= len(lines)
        self.exhausted = False


def _text_records(
    text: Iterable[str], sep: str, width: int, drug_cells: Sequence[int] = (), lines_before: int = 0
) -> Iterator[tuple[int, list[str], str]]:
    """Each non-blank record of a CSV/TSV text: (its first line's number, the text's first line being
    ``lines_before + 1``; its cells; a problem or "").

    A record over several lines that a stray quote has joined from rows of their own (``_joins_rows``) is not
    kept: its first line is returned alone, split as written with the problem named, and the lines after it
    are read again, so no row is lost."""
    lines = _NumberedLines(text, lines_before)
    reader = csv.reader(lines, delimiter=sep)
    while True:
        first = lines.number + 1
        lines.record = []
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a cell over the csv module's 128 kB limit: that record alone fails
            first += _leading_blank_lines(lines.record)
            yield first, [], f"line {first} cannot be read ({exc})"
            continue
        if not cells:
            continue
        if len(lines.record) == 1 and not lines.exhausted:  # the common case: one line, not the last
            yield first, cells, ""
            continue
        blank = _leading_blank_lines(lines.record)
        first += blank
        record = lines.record[blank:]
        unclosed = lines.exhausted and "".join(record).count('"') % 2 == 1
        # The line with the stray quote is split as written, quote kept, so its row shows what it holds.
        line_cells = _line_cells(record[0], sep, quotes_as_text=True)
        if not (unclosed or _joins_rows(record, cells, line_cells, sep, width, drug_cells)):
            yield first, cells, ""
            continue
        problem = f'line {first}: a quote (") opens here and is never closed'
        if not unclosed:
            problem = f'line {first}: a quote (") opens here and closes only on line {first + len(record) - 1}'
        yield first, line_cells, problem
        lines.read_again(record[1:])


def _joins_rows(
    record: list[str], cells: list[str], first_line_cells: list[str], sep: str, width: int, drug_cells: Sequence[int]
) -> bool:
    """Whether the lines of ``record`` (read as ``cells``) are rows of their own that a stray quote joined.

    A record over several lines is one row whose cells hold line breaks when it has as many cells as the header
    (``width``), no separator inside a cell of ``drug_cells`` (the drug columns), and not both its first line
    (``first_line_cells``) and a later one reading as whole rows."""
    return len(record) > 1 and (
        len(cells) != width
        or any(i < len(cells) and sep in cells[i] for i in drug_cells)
        or (len(first_line_cells) == width and any(len(_line_cells(line, sep)) == width for line in record[1:]))
    )


def _line_cells(line: str, sep: str, quotes_as_text: bool = False) -> list[str]:
    """The cells of one line read alone; with ``quotes_as_text`` a quote is a character like any other."""
    text = [line.rstrip("\r\n")]
    if quotes_as_text:
        return next(csv.reader(text, delimiter=sep, quoting=csv.QUOTE_NONE), [])
    return next(csv.reader(text, delimiter=sep), [])


def _leading_blank_lines(record: list[str]) -> int:
    count = 0
    for line in record:
        if line.strip("\r\n"):
            break
        count += 1
    return count


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (at most 200 characters), or its class name if it has none:
    enough to name the problem without a library's whole multi-line text."""
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


class _Writer:
    """Writes chunks to a temporary file beside ``path`` (beside the file it links to, for a link), renamed over
    it only when all went well."""

    def __init__(self, path: Path, input_schema: pa.Schema | None, names: Mapping[Any, str] | None = None) -> None:
        self.path = path
        self.fmt = file_format(path)
        self.input_schema = input_schema
        #: text outputs only: the header names of columns that pandas renamed (a Parquet schema needs unique names)
        self.names = dict(names or {})
        # An output that is a link is written through: the file it points to is replaced, the link is kept.
        target = Path(os.path.realpath(path)) if path.is_symlink() else path
        self.target = target
        # The result gets the mode any new file would (or the old one's), not mkstemp's private one.
        self.tmp = temporary_beside(target, ".partial")
        self._parquet: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self._first = True

    def write(self, df: pd.DataFrame) -> None:
        try:
            self._write(df)
        except OSError as exc:  # a full disk, a quota, a file size limit
            raise self._cannot_write(exc) from exc

    def _cannot_write(self, exc: OSError) -> BatchInputError:
        return BatchInputError(f"{self.path}: cannot write the output ({exc.strerror or exc}); nothing was written")

    def _write(self, df: pd.DataFrame) -> None:
        if self.fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            if self._parquet is None:
                self._schema = _parquet_schema(df, self.input_schema)
                self._parquet = pq.ParquetWriter(self.tmp, self._schema)
            self._parquet.write_table(pa.Table.from_pandas(df, schema=self._schema, preserve_index=False))
        else:
            compression = "gzip" if self.path.suffix.lower() == ".gz" else None
            df.to_csv(
                self.tmp,
                sep=_SEPARATORS[self.fmt],
                index=False,
                mode="w" if self._first else "a",
                header=written_header(df.columns, self.names) if self._first else False,
                compression=compression,
            )
        self._first = False

    def commit(self) -> None:
        try:
            if self._parquet is not None:
                self._parquet.close()
            os.replace(self.tmp, self.target)
        except OSError as exc:
            raise self._cannot_write(exc) from exc

    def abort(self) -> None:
        if self._parquet is not None:
            with contextlib.suppress(Exception):
                self._parquet.close()
        self.tmp.unlink(missing_ok=True)


def _parquet_schema(df: pd.DataFrame, input_schema: pa.Schema | None) -> pa.Schema:
    """Fixed column types, so a chunk whose column happens to be all empty still matches the first chunk's."""
    import pyarrow as pa

    known = {f.name: f.type for f in input_schema} if input_schema is not None else {}
    fields = []
    for name, dtype in df.dtypes.items():
        if str(name) in known:
            kind = known[str(name)]
        elif str(dtype) == "Int64":
            kind = pa.int64()
        elif pd.api.types.is_float_dtype(dtype):
            kind = pa.float64()
        elif pd.api.types.is_bool_dtype(dtype):
            kind = pa.bool_()
        else:
            kind = pa.string()
        fields.append(pa.field(str(name), kind))
    return pa.schema(fields)


def score_file(
    in_path: str | Path,
    out_path: str | Path,
    predictor: Predictor,
    resolver: DrugResolver,
    cols: Sequence[str] | None = None,
    top_k: int = 3,
    explain: bool = False,
    chunksize: int = 50_000,
    progress: bool = True,
    max_bytes: int | None = None,
) -> BatchSummary:
    """Score a CSV, TSV or Parquet file chunk by chunk into ``out_path`` (format from its extension).

    Every input row and column is written, in order, with the columns of ``score_table`` appended. The output
    appears only when the whole file has been scored (it is written beside ``out_path`` and renamed).

    Raises
    ------
    BatchInputError
        If the input cannot be read as a table or has no drug columns, or ``out_path`` is the input.
    """
    from tqdm.auto import tqdm

    if chunksize < 1:
        raise BatchInputError(f"chunksize must be at least 1, not {chunksize}")
    source = inspect_input(in_path, cols, max_bytes)
    out = Path(out_path)
    if out.exists() and out.resolve() == source.path.resolve():
        raise BatchInputError(f"{out}: the output would overwrite the input; choose another --out")
    scorer = BatchScorer(predictor, resolver, top_k=top_k, explain=explain)
    writer = _open_writer(out, _input_schema(source), source.header_names())
    rows = failed = 0
    start = time.perf_counter()
    bar = tqdm(total=source.rows, unit=" pairs", desc="scoring", disable=not progress)
    try:
        for chunk in read_chunks(source, chunksize):
            scored = scorer.score(chunk, cols)
            failed += int((scored.iloc[:, -1] != "").sum())
            rows += len(scored)
            writer.write(scored)
            bar.update(len(scored))
        if writer._first:  # a header and no rows: still write the header, with the appended columns
            writer.write(scorer.score(empty_frame(source.columns), cols))
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    summary = BatchSummary(rows, rows - failed, failed, seconds, out)
    log.info("scored %d rows (%d failed) in %.1f s -> %s", rows, failed, seconds, out)
    return summary


def write_table(df: pd.DataFrame, out_path: str | Path) -> Path:
    """Write a scored table as ``.csv``, ``.tsv`` (either may end in ``.gz``) or ``.parquet``, by its name; the
    file appears whole or not at all.

    Raises
    ------
    BatchInputError
        If the name has another extension, is a directory or cannot be written.
    """
    out = Path(out_path)
    writer = _open_writer(out, None)
    try:
        writer.write(df)
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    return out


def _open_writer(out: Path, input_schema: pa.Schema | None, names: Mapping[Any, str] | None = None) -> _Writer:
    if out.is_dir():
        raise BatchInputError(f"{out} is a directory; give a file name such as {out / 'scored.csv'}")
    file_format(out)
    try:
        return _Writer(out, input_schema, names)
    except OSError as exc:
        raise BatchInputError(f"{out}: cannot write there ({exc.strerror or exc})") from exc


def _input_schema(source: InputFile) -> pa.Schema:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if source.fmt == "parquet":
        return pq.ParquetFile(source.path).schema_arrow
    return pa.schema([pa.field(str(c), pa.string()) for c in source.columns])
