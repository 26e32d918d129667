"""Typed, validated tables: the one format every loader produces and everything downstream reads.

Each table is a pandas DataFrame with a fixed set of columns (``SCHEMAS``). ``Tables.validated()`` coerces
types, drops rows that cannot be used and records every drop, with its reason, in a ``DropReport``, so a
user can see what was loaded and what was left out instead of rows vanishing silently.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from ddi.errors import UserInputError

log = logging.getLogger(__name__)

#: Column -> dtype for each table. String columns are never NaN after validation (missing = "").
SCHEMAS: dict[str, dict[str, str]] = {
    "drugs": {
        "drugbank_id": "str",
        "name": "str",
        "smiles": "str",
        "inchi": "str",
        "inchikey": "str",
        "type": "str",
        "groups": "str",
        "atc_codes": "str",
        "categories": "str",
        "synonyms": "str",
    },
    "interaction_types": {"type": "int", "template": "str", "subject": "int", "deepddi_name": "str"},
    "interactions": {"drug1_id": "str", "drug2_id": "str", "type": "int"},
    "drug_protein": {
        "drugbank_id": "str",
        "category": "str",
        "uniprot_id": "str",
        "entrez_gene_id": "str",
        "organism": "str",
        "known_action": "str",
        "actions": "str",
        "pubmed_ids": "str",
    },
    "proteins": {"uniprot_id": "str", "protein_name": "str", "gene_name": "str", "species": "str"},
}

PROTEIN_CATEGORIES = ("target", "enzyme", "transporter", "carrier")
#: Interaction-type id used for DrugBank descriptions that match none of the benchmark templates.
OTHER_TYPE = 0
#: A DrugBank drug id ("DB00641"), in any letter case: ids are case-insensitive, the tables write them upper-case.
DRUGBANK_ID = re.compile(r"^DB\d{5}$", re.IGNORECASE)


def drugbank_id_of(text: str) -> str | None:
    """``text`` as a DrugBank id is spelled in the data (``" db00641"`` -> ``"DB00641"``), or None if it is no id."""
    stripped = text.strip()
    return stripped.upper() if DRUGBANK_ID.match(stripped) else None


class TableError(UserInputError, ValueError):
    """A table is unusable as a whole, not row by row; ``table`` names it, so a loader can name its file."""

    def __init__(self, table: str, message: str) -> None:
        super().__init__(f"{table}: {message}")
        self.table = table
        self.message = message


@dataclass(frozen=True, slots=True)
class DropRecord:
    """Rows left out of one table for one reason."""

    table: str
    reason: str
    count: int
    examples: tuple[str, ...] = ()
    #: An exact repeat of a row that is kept: nothing is lost, so it is logged as information, not a warning.
    repeat: bool = False

    def __str__(self) -> str:
        ex = f" (e.g. {', '.join(self.examples)})" if self.examples else ""
        return f"{self.table}: {self.count} row(s) {self.reason}{ex}"


@dataclass(slots=True)
class DropReport:
    """Everything validation removed or flagged, table by table."""

    records: list[DropRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(
        self,
        table: str,
        reason: str,
        rows: pd.DataFrame | Iterable[str],
        key: str | None = None,
        repeat: bool = False,
    ) -> None:
        if isinstance(rows, pd.DataFrame):
            count = len(rows)
            ex_values = rows[key].astype(str).tolist()[:3] if key and count else []
        else:
            ex_values = [str(r) for r in rows]
            count = len(ex_values)
            ex_values = ex_values[:3]
        if count:
            self.records.append(DropRecord(table, reason, count, tuple(ex_values), repeat))

    def dropped(self, table: str | None = None) -> int:
        return sum(r.count for r in self.records if table is None or r.table == table)

    def log(self, logger: logging.Logger = log) -> None:
        for record in self.records:
            (logger.info if record.repeat else logger.warning)("dropped %s", record)
        for note in self.notes:
            logger.info("%s", note)

    def __str__(self) -> str:
        lines = [str(r) for r in self.records] + self.notes
        return "\n".join(lines) if lines else "nothing dropped"


def empty_table(name: str) -> pd.DataFrame:
    """An empty DataFrame with the columns of table ``name``."""
    return pd.DataFrame({c: pd.Series(dtype="int64" if t == "int" else "object") for c, t in SCHEMAS[name].items()})


def _coerce(df: pd.DataFrame, name: str, report: DropReport, table: str | None = None) -> pd.DataFrame:
    """Keep the schema's columns (adding missing ones empty) and coerce their types; drops are reported under
    ``table`` (default: the schema's name)."""
    schema = SCHEMAS[name]
    # A spreadsheet's export can end with rows of empty cells: they say nothing, so they are counted, not warned
    # about as dropped rows ("missing type") that the user would go looking for.
    blank = pd.Series(len(df.columns) > 0, index=df.index)
    for col in df.columns:
        blank &= df[col].isna() | (df[col].astype(str).str.strip() == "")
    if blank.any():
        report.notes.append(f"{table or name}: {int(blank.sum())} blank row(s) ignored")
        df = df[~blank]
    out = pd.DataFrame(index=df.index)
    for col, kind in schema.items():
        series = df[col] if col in df.columns else pd.Series([None] * len(df), index=df.index, dtype="object")
        if kind == "int":
            out[col] = pd.to_numeric(series, errors="coerce")
        else:
            out[col] = series.where(series.notna(), "").astype(str).str.strip()
    int_cols = [c for c, k in schema.items() if k == "int"]
    if int_cols:
        numbers = out[int_cols]
        # Beyond 2**53 a float holds no exact integer, and the cast to int64 would overflow ("1e30" as a type).
        bad_cell = numbers.isna() | (numbers % 1 != 0) | (numbers.abs() >= 2**53)
        bad = bad_cell.any(axis=1)
        # The example is the offending cell as written ("type='abc'"), not the row's drug id.
        examples = [f"{col}={_cell_text(df, i, col)!r}" for i, col in bad_cell[bad].idxmax(axis=1).items()]
        report.add(table or name, "with a missing or non-integer " + "/".join(int_cols), examples)
        out = out[~bad].copy()
        out[int_cols] = out[int_cols].astype("int64")
    return out.reset_index(drop=True)


def _cell_text(df: pd.DataFrame, row: Any, col: str) -> str:
    """A cell as the file wrote it ("" where it is empty or the column is missing)."""
    value = df.at[row, col] if col in df.columns else None
    return "" if pd.isna(value) else str(value)


def _canonical_ids(
    df: pd.DataFrame, columns: tuple[str, ...], table: str, report: DropReport, known: set[str] | None = None
) -> None:
    """Write DrugBank ids in another letter case ("db00641") upper-case, in place, as the other tables and every
    lookup write them: otherwise a lower-case drugs.tsv or ddi.tsv loses every pair to "unknown drug". With
    ``known``, only ids that are then known change (an unknown drug stays named as the user wrote it)."""
    count, example = 0, ""
    for column in columns:
        other_case = df[column].str.match(DRUGBANK_ID) & (df[column] != df[column].str.upper())
        if known is not None:
            other_case &= df[column].str.upper().isin(known)
        if other_case.any():
            count, example = count + int(other_case.sum()), example or df.loc[other_case, column].iloc[0]
            df.loc[other_case, column] = df.loc[other_case, column].str.upper()
    if count:
        report.notes.append(
            f"{table}: {count} DrugBank id(s) not written in upper case, read upper-case (e.g. {example} as "
            f"{example.upper()})"
        )


def _drop(
    df: pd.DataFrame, mask: pd.Series, name: str, reason: str, key: str, report: DropReport, repeat: bool = False
) -> pd.DataFrame:
    report.add(name, reason, df[mask], key=key, repeat=repeat)
    return df[~mask].reset_index(drop=True)


def validate_drugs(df: pd.DataFrame, report: DropReport) -> pd.DataFrame:
    out = _coerce(df, "drugs", report)
    _canonical_ids(out, ("drugbank_id",), "drugs", report)
    out = _drop(out, out["drugbank_id"] == "", "drugs", "without a drugbank_id", "name", report)
    # Which row is kept matters (its structure is the drug's): say so.
    repeated = out["drugbank_id"].duplicated()
    out = _drop(out, repeated, "drugs", "with a duplicate drugbank_id (first kept)", "drugbank_id", report)
    no_structure = out[(out["smiles"] == "") & (out["inchi"] == "")]
    if len(no_structure):
        report.notes.append(
            f"drugs: {len(no_structure)} drug(s) have no SMILES or InChI (kept; they get no molecule graph): "
            + ", ".join(no_structure["drugbank_id"].head(5))
        )
    return out


def validate_interaction_types(df: pd.DataFrame, report: DropReport) -> pd.DataFrame:
    """Drop types without both placeholders, with an unknown subject or a repeated id; raise ``TableError`` for
    a file numbered from 0 (its types or its subjects)."""
    out = _coerce(df, "interaction_types", report)
    # Numbered from 0, type 0 would be read as "no benchmark type" and its pairs left out of every split, and
    # subjects 0/1/2 would read as 1/2/3 with every direction reversed: refuse the file rather than mislabel it.
    if (out["type"] == OTHER_TYPE).any():
        raise TableError(
            "interaction_types",
            f"type {OTHER_TYPE} is reserved for interactions that match no template; number the types from 1 (if "
            "they count from 0, add 1 to every type in interaction_types.tsv and ddi.tsv)",
        )
    if (out["subject"] == 0).any():
        first = int(out.loc[out["subject"] == 0, "type"].iloc[0])
        raise TableError(
            "interaction_types",
            f"type {first} has subject 0; subject is 1 (a row's drug1 fills #Drug1), 2 (drug1 fills #Drug2) or 3 "
            "(symmetric): if the subjects count from 0, add 1 to each",
        )
    # "#drug1" or "#DRUG2" (hand-typed) is the placeholder all the same; sentences are filled in as "#Drug1".
    out["template"] = out["template"].str.replace(r"#drug([12])(?!\d)", r"#Drug\1", case=False, regex=True)
    bad_template = ~(out["template"].str.contains("#Drug1") & out["template"].str.contains("#Drug2"))
    out = _drop(out, bad_template, "interaction_types", "whose template lacks #Drug1 or #Drug2", "type", report)
    out = _drop(out, ~out["subject"].isin([1, 2, 3]), "interaction_types", "with subject not in 1/2/3", "type", report)
    out = _drop(out, out["type"].duplicated(), "interaction_types", "with a duplicate type id", "type", report)
    return out


def validate_interactions(
    df: pd.DataFrame,
    report: DropReport,
    drug_ids: set[str] | None = None,
    type_ids: set[int] | None = None,
    table: str = "interactions",
) -> pd.DataFrame:
    """Drop pairs with a missing or unknown drug, an unknown type, a self pair or a repeated unordered pair."""
    out = _coerce(df, "interactions", report, table)
    if drug_ids is not None:
        _canonical_ids(out, ("drug1_id", "drug2_id"), table, report, drug_ids)
    key = "drug1_id"
    out = _drop(out, (out["drug1_id"] == "") | (out["drug2_id"] == ""), table, "with a missing drug id", key, report)
    if drug_ids is not None:
        known1, known2 = out["drug1_id"].isin(drug_ids), out["drug2_id"].isin(drug_ids)
        unknown = ~(known1 & known2)
        # The examples name the unknown drug itself, not the pair's first drug.
        report.add(
            table, "naming a drug not in the drugs table", out["drug1_id"].where(~known1, out["drug2_id"])[unknown]
        )
        out = out[~unknown].reset_index(drop=True)
    if type_ids is not None:
        out = _drop(out, ~out["type"].isin(type_ids), table, "with an unknown interaction type", "type", report)
    out = _drop(out, out["drug1_id"] == out["drug2_id"], table, "pairing a drug with itself", key, report)
    pairs = pd.DataFrame(
        {"a": out[["drug1_id", "drug2_id"]].min(axis=1), "b": out[["drug1_id", "drug2_id"]].max(axis=1)}
    )
    dup = pd.concat([pairs, out["type"]], axis=1).duplicated()
    out = _drop(out, dup, table, "repeating a pair and type already listed (first kept)", key, report, repeat=True)
    # A few DrugBank pairs carry two types (one per direction); they are facts, not duplicates.
    multi = int(pairs[~dup].duplicated().sum())
    if multi:
        report.notes.append(f"{table}: {multi} pair(s) are listed with a second interaction type (kept)")
    return out


def validate_drug_protein(df: pd.DataFrame, report: DropReport, drug_ids: set[str] | None = None) -> pd.DataFrame:
    out = _coerce(df, "drug_protein", report)
    t = "drug_protein"
    if drug_ids is not None:
        _canonical_ids(out, ("drugbank_id",), t, report, drug_ids)
    out = _drop(
        out,
        (out["drugbank_id"] == "") | (out["uniprot_id"] == ""),
        t,
        "with a missing id",
        "drugbank_id",
        report,
    )
    out["category"] = out["category"].str.lower()
    out = _drop(out, ~out["category"].isin(PROTEIN_CATEGORIES), t, "with an unknown category", "category", report)
    out["actions"] = out["actions"].map(normalise_actions)
    out = _drop(
        out,
        out.duplicated(["drugbank_id", "category", "uniprot_id"]),
        t,
        "repeating a relation",
        "drugbank_id",
        report,
        repeat=True,
    )
    if drug_ids is not None:
        outside = ~out["drugbank_id"].isin(drug_ids)
        if outside.any():
            report.notes.append(f"{t}: {int(outside.sum())} relation(s) concern drugs outside the drugs table (kept)")
    return out


def validate_proteins(df: pd.DataFrame, report: DropReport) -> pd.DataFrame:
    out = _coerce(df, "proteins", report)
    out = _drop(out, out["uniprot_id"] == "", "proteins", "without a uniprot_id", "protein_name", report)
    return _drop(out, out["uniprot_id"].duplicated(), "proteins", "with a duplicate uniprot_id", "uniprot_id", report)


def normalise_actions(actions: str) -> str:
    """Lower-case, de-duplicated, ``|``-separated action words ("Inhibitor, competitive" -> "inhibitor")."""
    seen: list[str] = []
    for part in str(actions).replace(";", "|").split("|"):
        word = part.strip().lower()
        if word.startswith("inhibitor"):
            word = "inhibitor"
        if word and word not in seen:
            seen.append(word)
    return "|".join(seen)


@dataclass(frozen=True)
class Tables:
    """The five validated tables of one dataset.

    ``interactions`` is the full list of known pairs (``ddi.tsv``); splits live in ``ddi.data.splits``.
    """

    drugs: pd.DataFrame
    interaction_types: pd.DataFrame
    interactions: pd.DataFrame
    drug_protein: pd.DataFrame
    proteins: pd.DataFrame
    source: str = ""

    def validated(self) -> tuple[Tables, DropReport]:
        """Return validated copies of every table and the report of what was dropped."""
        report = DropReport()
        drugs = validate_drugs(self.drugs, report)
        types = validate_interaction_types(self.interaction_types, report)
        drug_ids = set(drugs["drugbank_id"])
        type_ids = set(types["type"].tolist()) | {OTHER_TYPE}
        interactions = validate_interactions(self.interactions, report, drug_ids, type_ids)
        other = int((interactions["type"] == OTHER_TYPE).sum())
        if other:  # kept (an import's --keep-other writes them), but no split trains or tests on them: say so
            report.notes.append(
                f"interactions: {other} pair(s) of type {OTHER_TYPE} (no benchmark type; kept, left out of every split)"
            )
        drug_protein = validate_drug_protein(self.drug_protein, report, drug_ids)
        proteins = validate_proteins(self.proteins, report)
        tables = replace(
            self,
            drugs=drugs,
            interaction_types=types,
            interactions=interactions,
            drug_protein=drug_protein,
            proteins=proteins,
        )
        return tables, report

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in SCHEMAS}

    def restricted_to_drugs(self, drug_ids: Iterable[str]) -> tuple[Tables, DropReport]:
        """The tables of a drug subset: a smaller dataset of the same kind, and what was removed to get it.

        ``drugs`` keeps the subset's rows (in their original order, so drug node ids follow the same order),
        ``interactions`` the pairs of two subset drugs and ``drug_protein`` the relations of subset drugs;
        ``proteins`` and ``interaction_types`` stay whole (a protein no kept drug reaches gets no graph node).
        ``source`` is kept: it names where the data came from, not what the subset holds. The report counts
        the removed rows per table (it is not logged: removing them is the point).

        Raises ``ValueError`` when an id is not in ``drugs``.
        """
        wanted = set(drug_ids)
        unknown = wanted - set(self.drugs["drugbank_id"])
        if unknown:
            raise ValueError(f"{len(unknown)} drug id(s) not in the drugs table: {', '.join(sorted(unknown)[:3])}")
        report = DropReport()
        reason = "outside the drug subset"
        drugs = _drop(self.drugs, ~self.drugs["drugbank_id"].isin(wanted), "drugs", reason, "drugbank_id", report)
        pairs = self.interactions
        outside = ~(pairs["drug1_id"].isin(wanted) & pairs["drug2_id"].isin(wanted))
        interactions = _drop(pairs, outside, "interactions", f"with a drug {reason}", "drug1_id", report)
        relations = self.drug_protein
        outside = ~relations["drugbank_id"].isin(wanted)
        drug_protein = _drop(relations, outside, "drug_protein", f"of a drug {reason}", "drugbank_id", report)
        report.notes.append(f"drug subset: {len(drugs):,} of {len(self.drugs):,} drugs")
        return replace(self, drugs=drugs, interactions=interactions, drug_protein=drug_protein), report

    @property
    def drug_index(self) -> dict[str, int]:
        """drugbank_id -> row position in ``drugs``."""
        return {d: i for i, d in enumerate(self.drugs["drugbank_id"])}
