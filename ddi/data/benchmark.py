"""Load and write the benchmark TSV layout (``ddi.tsv``, ``drugs.tsv``, ...), the one format on disk.

The shared DrugBank benchmark and every ``ddi import-drugbank`` output use this layout, so everything
downstream reads one format. See ``data/README.md`` for the files and their columns.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import pandas as pd

from ddi.data.location import resolve_data_dir
from ddi.data.protein_reference import complete_protein_names
from ddi.data.tables import DRUGBANK_ID, SCHEMAS, DropReport, TableError, Tables
from ddi.errors import UserInputError

log = logging.getLogger(__name__)

#: Table name -> file name in the layout.
LAYOUT_FILES = {
    "drugs": "drugs.tsv",
    "interaction_types": "interaction_types.tsv",
    "interactions": "ddi.tsv",
    "drug_protein": "drug_protein.tsv",
    "proteins": "proteins.tsv",
}
REQUIRED = ("drugs", "interaction_types", "interactions")

#: Optional catalogue whose InChI fills in drugs that have no SMILES.
ALL_DRUGS_FILE = "drugbank_all_drugs.tsv"


class DataFormatError(UserInputError, ValueError):
    """A data file is missing, unreadable, or lacks required columns."""


def read_tsv(
    path: Path,
    required_columns: tuple[str, ...] = (),
    sep: str = "\t",
    header: bool = True,
    known_columns: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Read a tab-separated file as strings; raise ``DataFormatError`` with the file named on any problem.

    Header cells that name a required or a known column in another letter case or with spaces around ("SMILES",
    "Drug1_ID ") are that column. ``header=False`` reads a file without a header row, its columns named
    ``required_columns`` in order.
    """
    try:
        # Default CSV quoting: some catalogue fields are quoted because they contain tabs.
        df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, header=0 if header else None)
        if not header:
            df.columns = [*required_columns, *(f"column_{i + 1}" for i in range(len(required_columns), df.shape[1]))]
    except FileNotFoundError as exc:
        raise DataFormatError(f"{path}: file not found") from exc
    except OSError as exc:  # a directory, no permission, ...
        raise DataFormatError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    except pd.errors.EmptyDataError as exc:
        expected = f": a header row naming {', '.join(required_columns)} is expected" if required_columns else ""
        raise DataFormatError(f"{path}: the file is empty{expected}") from exc
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{path}: not a readable tab-separated file: {_not_utf8(path)}") from exc
    except pd.errors.ParserError as exc:
        raise DataFormatError(f"{path}: not a readable tab-separated file ({exc})") from exc
    if header:  # "drug1_id " or "Drug1_ID" (a spreadsheet's header) names the column all the same
        written = [str(c).strip() for c in df.columns]
        # Unless the file also has the column as spelled: then the other spelling stays a column of its own.
        wanted = {c.lower(): c for c in (*required_columns, *known_columns) if c not in written}
        df.columns = [wanted.get(c.lower(), c) for c in written]
    missing = [c for c in required_columns if c not in df.columns]
    if missing:
        found = ", ".join(map(str, df.columns))
        only = str(df.columns[0]) if len(df.columns) == 1 else ""  # one column: maybe another separator
        other = "commas" if "," in only else "semicolons" if ";" in only else "spaces" if "  " in only else ""
        hint = f" (its header is separated by {other}; this file must be tab-separated)" if other else ""
        raise DataFormatError(f"{path}: missing column(s) {', '.join(missing)}; found {found}{hint}")
    return df


def read_pair_file(path: Path, columns: tuple[str, ...] = ("drug1_id", "drug2_id", "type")) -> pd.DataFrame:
    """Read a file of drug pairs (a split's ``train.tsv``, ...): tab-separated with a header row naming
    ``columns``, or, as split files elsewhere are often written, without a header row (its first cell is then a
    DrugBank id; the columns are read in order) or separated by commas. Says in the log which it read."""
    first = _first_line(path)
    sep = "," if "\t" not in first and "," in first else "\t"
    cells = [c.strip().strip('"') for c in first.split(sep)]
    # A header row that starts with a DrugBank id is data: a pair file written without its header.
    header = not (len(cells) >= len(columns) and DRUGBANK_ID.match(cells[0]))
    if sep != "\t" or not header:
        log.info(
            "%s: read as %s%s", path, "comma-separated" if sep == "," else "tab-separated",
            "" if header else f" without a header row (columns in order: {', '.join(columns)})",
        )  # fmt: skip
    return read_tsv(path, columns, sep=sep, header=header)


def _not_utf8(path: Path) -> str:
    """Where ``path`` stops being UTF-8 and what to do: the decoder's own message gives a byte offset within a
    buffer, which points nowhere in the file."""
    data = path.read_bytes()
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "it is UTF-16 text (a spreadsheet's 'Unicode text'); save it as UTF-8"
    for number, line in enumerate(data.splitlines(), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            return f"line {number} is not UTF-8 text (byte 0x{line[exc.start]:02x}); save the file as UTF-8"
    return "it is not UTF-8 text; save it as UTF-8"


def _first_line(path: Path) -> str:
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as file:
            return file.readline().rstrip("\r\n")
    except OSError:
        return ""  # read_tsv then says what is wrong with the file


def load_benchmark(data_dir: str | Path | None = None, validate: bool = True) -> tuple[Tables, DropReport]:
    """Load the tables of a benchmark-layout directory (default: the resolved data directory).

    Returns the validated tables and the report of dropped rows (already logged).
    """
    root = resolve_data_dir(data_dir)
    frames: dict[str, pd.DataFrame] = {}
    for name, filename in LAYOUT_FILES.items():
        path = root / filename
        if not path.is_file():
            if name in REQUIRED:
                raise DataFormatError(f"{root}: required file {filename} is missing")
            log.info("%s: no %s, the %s table is empty", root, filename, name)
            frames[name] = pd.DataFrame(columns=list(SCHEMAS[name]))
            continue
        key_cols = {
            "drugs": ("drugbank_id",),
            "interaction_types": ("type", "template", "subject"),
            "interactions": ("drug1_id", "drug2_id", "type"),
            "drug_protein": ("drugbank_id", "category", "uniprot_id"),
            "proteins": ("uniprot_id",),
        }
        try:
            frames[name] = read_tsv(path, key_cols.get(name, ()), known_columns=tuple(SCHEMAS[name]))
        except DataFormatError as exc:
            if name in REQUIRED or path.stat().st_size:
                raise
            # Refused, not read as absent (an empty file may be one cut short), but the way out is named.
            raise DataFormatError(f"{exc}; {filename} is optional: delete it if the data has no {name} rows") from exc
    frames["drugs"] = _name_unnamed(_fill_inchi(frames["drugs"], root / ALL_DRUGS_FILE))
    frames["proteins"] = complete_protein_names(frames["proteins"], frames["drug_protein"])
    tables = Tables(**frames, source=str(root))
    report = DropReport()
    if validate:
        try:
            tables, report = tables.validated()
        except TableError as exc:
            raise DataFormatError(f"{root / LAYOUT_FILES[exc.table]}: {exc.message}") from exc
        report.log(log)
        _check_not_empty(tables, report, root)
    log.info("loaded %s: %s", root, ", ".join(f"{n} {c:,}" for n, c in tables.counts().items()))
    return tables, report


def _check_not_empty(tables: Tables, report: DropReport, root: Path) -> None:
    """Refuse a layout without drugs or without interaction types: nothing downstream works without them, and
    the drops that emptied them would otherwise show only as warnings before a later, unrelated failure."""
    for name in ("drugs", "interaction_types"):
        if getattr(tables, name).empty:
            drops = "; ".join(f"{r.count} row(s) {r.reason}" for r in report.records if r.table == name)
            why = f"every row was dropped: {drops}" if drops else "the file has no rows below its header"
            raise DataFormatError(f"{root / LAYOUT_FILES[name]}: no usable {name.replace('_', ' ')} ({why})")


def _fill_inchi(drugs: pd.DataFrame, catalogue: Path) -> pd.DataFrame:
    """Add InChI from the all-drugs catalogue so drugs without SMILES can still be featurised."""
    if "inchi" in drugs.columns and (drugs["inchi"] != "").any():
        return drugs
    if not catalogue.is_file():
        return drugs
    cat = read_tsv(catalogue, ("drugbank_id",), known_columns=("inchi",))
    if "inchi" not in cat.columns:
        return drugs
    inchi = dict(zip(cat["drugbank_id"], cat["inchi"], strict=True))
    drugs = drugs.copy()
    # Upper-case: a drugs.tsv may write its ids in lower case (validation reads them upper-case).
    drugs["inchi"] = drugs["drugbank_id"].str.strip().str.upper().map(inchi).fillna("")
    return drugs


def _name_unnamed(drugs: pd.DataFrame) -> pd.DataFrame:
    """Name a drug that the data leaves unnamed by its DrugBank id: an empty name would leave a hole in every
    sentence, path and table that shows it."""
    if "name" not in drugs.columns or drugs.empty:
        return drugs
    unnamed = drugs["name"].fillna("").astype(str).str.strip() == ""
    if not unnamed.any():
        return drugs
    drugs = drugs.copy()
    drugs.loc[unnamed, "name"] = drugs.loc[unnamed, "drugbank_id"]
    ids = drugs.loc[unnamed, "drugbank_id"].tolist()
    log.info("drugs: %d drug(s) have no name and are shown by their DrugBank id: %s", len(ids), ", ".join(ids[:5]))
    return drugs


def write_benchmark_layout(tables: Tables, out_dir: str | Path) -> Path:
    """Write ``tables`` as the benchmark TSV layout into ``out_dir`` (created if needed)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, filename in LAYOUT_FILES.items():
        df = getattr(tables, name)
        cols = [c for c in SCHEMAS[name] if c in df.columns] + [c for c in df.columns if c not in SCHEMAS[name]]
        df[cols].to_csv(out / filename, sep="\t", index=False, quoting=csv.QUOTE_MINIMAL)
    log.info("wrote %s: %s", out, ", ".join(f"{n} {c:,}" for n, c in tables.counts().items()))
    return out
