"""Uploaded tables for the app's batch page: read the bytes safely, score in chunks with progress.

Reading goes through ``ddi.serve.batch.inspect_input`` (so a bad file gets the same clear message as in
``ddi predict``), scoring through one ``BatchScorer`` (so each distinct drug text is resolved once).
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ddi.serve.answer import MODEL_LOCK
from ddi.serve.batch import (
    DRUG_COLUMN_PATTERNS,
    SPREADSHEET_SUFFIXES,
    BatchInputError,
    BatchScorer,
    column_key,
    empty_frame,
    file_format,
    find_drug_columns,
    first_line,
    inspect_input,
    open_table,
    read_chunks,
    refuse_workbook,
    written_header,
)

if TYPE_CHECKING:
    from ddi.predict.predictor import Predictor
    from ddi.serve.resolve import DrugResolver

log = logging.getLogger(__name__)

#: Largest upload the app scores (bytes).
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
#: What the upload widgets accept: the tables read, and workbooks, so that ``read_upload`` can say how to get a CSV.
UPLOAD_TYPES = ["csv", "tsv", "txt", "parquet", "gz", *(s.lstrip(".") for s in SPREADSHEET_SUFFIXES)]
#: ``DataFrame.attrs`` key of ``read_upload``: the header's names as written, by the column names pandas gave.
HEADER_NAMES = "header_names"
#: Rows scored between two progress updates.
CHUNK_ROWS = 2_000
#: How a workbook starts: a zip archive (.xlsx, .ods, .numbers) or an OLE2 compound file (.xls).
WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
#: Names (after ``column_key``) of a third, fourth, ... drug column: ``drug3``, ``drug_c``, ``smiles3``, ...
_MORE_DRUG_COLUMNS = frozenset(p.format(t=t) for p in DRUG_COLUMN_PATTERNS for t in (*"3456789", *"cdefgh"))


@dataclass
class ScoredTable:
    """An uploaded table with the prediction columns appended, and what happened."""

    table: pd.DataFrame
    rows: int
    failed: int
    seconds: float
    #: the header names of input columns that pandas renamed (``read_upload``), restored in the CSV download
    names: dict[Any, str] = field(default_factory=dict)

    def to_csv(self) -> bytes:
        return self.table.to_csv(index=False, header=written_header(self.table.columns, self.names)).encode("utf-8")

    def preview(self, rows: int = 200) -> pd.DataFrame:
        """The first ``rows`` rows as the page shows them: a missing value is an empty cell, as in the downloaded
        CSV, not the word "None" (a failed row has no predicted type). A column with such a cell is text throughout:
        numbers and "" in one column cannot be sent to the browser as they are (Streamlit logs a traceback)."""
        head = self.table.head(rows).astype(object)
        missing = head.isna()
        return head.where(~missing, "").astype({c: str for c in head.columns[missing.any().to_numpy()]})

    def failures(self, limit: int = 100) -> pd.DataFrame:
        """The first ``limit`` rows that could not be scored: ``row`` (1 = the first data row) and ``error``.

        ``error`` is the last of a wide table's columns, off screen; this puts the reasons next to the warning.
        """
        errors = self.table.iloc[:, -1].fillna("").astype(str).to_numpy()
        rows = np.flatnonzero(errors != "")[:limit]
        return pd.DataFrame({"row": rows + 1, "error": errors[rows]})


def read_upload(filename: str, data: bytes, max_bytes: int = MAX_UPLOAD_BYTES, pairs: bool = True) -> pd.DataFrame:
    """Read an uploaded CSV, TSV or Parquet file (by its extension) with every cell as text, and at least one row.

    ``pairs``: the table must have two drug columns (a table of pairs); else any table is read (a medication
    list, whose columns ``ddi.serve.regimen.find_regimen_columns`` finds).

    Raises
    ------
    BatchInputError
        If the type is unsupported (a workbook, whatever its name), the file is empty, too large, not a table, has
        no rows, or (``pairs``) has no drug columns.
    """
    name = Path(filename or "upload.csv").name
    refuse_workbook(name)
    fmt = file_format(name)
    if fmt != "parquet" and data.startswith(WORKBOOK_MAGIC):
        # An .xlsx renamed .csv would otherwise be "binary content": say what it is and how to get a CSV.
        raise BatchInputError(
            f"{name}: a spreadsheet workbook (or another zip archive), not a {fmt.upper()} text file; save the sheet "
            "as CSV (in Excel: File > Save As > 'CSV UTF-8') and upload the .csv file"
        )
    with tempfile.TemporaryDirectory(prefix="ddi-upload-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            source = inspect_input(path, max_bytes=max_bytes, interface="app") if pairs else open_table(path, max_bytes)
        except BatchInputError as exc:
            # The user knows the file by its name, not by this temporary path.
            raise BatchInputError(str(exc).replace(str(path), name)) from exc
        try:
            if fmt == "parquet":
                table = pd.read_parquet(path).astype(object)
            else:
                # A file of n bytes has at most n rows, so its rows come back as one chunk (with their read problems).
                chunks = list(read_chunks(source, chunksize=max(len(data), 1)))
                table = chunks[0] if chunks else empty_frame(source.columns)
                table.attrs[HEADER_NAMES] = source.header_names()
        except (ValueError, OSError) as exc:
            raise BatchInputError(f"{name}: not a readable {fmt.upper()} table ({first_line(exc)})") from exc
    if table.empty:  # scored, it would be "all 0 rows scored": say what is missing
        raise BatchInputError(f"{name}: a header but no rows; put one {'pair' if pairs else 'drug'} per row under it")
    return table


def unscored_drug_columns(columns: list[Any]) -> str:
    """A note when a table of pairs has more drug columns (``drug3``, ``drug_c``, ``smiles3``, ...) than the two
    each row is scored with, naming what is and is not checked; ``""`` when it has not."""
    first, second = find_drug_columns(columns, interface="app")
    more = [str(c) for c in columns if column_key(c) in _MORE_DRUG_COLUMNS and c not in (first, second)]
    if not more:
        return ""
    return (
        f"each row is scored as one pair, {first} with {second}: {', '.join(more)} "
        f"{'is' if len(more) == 1 else 'are'} not checked. To check every pair among several drugs, upload a "
        "medication list (one drug per row, with a patient column) on the Regimen page"
    )


def score_upload(
    df: pd.DataFrame,
    predictor: Predictor,
    resolver: DrugResolver,
    top_k: int = 3,
    explain: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ScoredTable:
    """Score ``df`` like ``score_table``, ``chunk_rows`` at a time (holding ``MODEL_LOCK`` for one chunk at a time),
    calling ``on_progress(done, total)``.

    Raises
    ------
    BatchInputError
        If the table has no drug columns (bad rows never raise: their ``error`` column says why).
    """
    start = time.perf_counter()
    scorer = BatchScorer(predictor, resolver, top_k=top_k, explain=explain)
    total = len(df)
    parts = []
    if total == 0:
        with MODEL_LOCK:
            parts.append(scorer.score(df))
    for begin in range(0, total, max(chunk_rows, 1)):
        # The lock is held one chunk at a time: a large upload must not stall every other user's answer for
        # minutes (a structure registered between two chunks only adds to the model's drugs).
        with MODEL_LOCK:
            parts.append(scorer.score(df.iloc[begin : begin + chunk_rows]))
        if on_progress is not None:
            on_progress(min(begin + chunk_rows, total), total)
    table = pd.concat(parts) if len(parts) > 1 else parts[0]
    # The error column is the last one appended (``ddi_error`` if the input had an ``error`` column).
    failed = int((table.iloc[:, -1].astype(str) != "").sum())
    seconds = time.perf_counter() - start
    log.info("scored an upload of %d rows (%d failed) in %.1f s", total, failed, seconds)
    return ScoredTable(table, total, failed, seconds, dict(df.attrs.get(HEADER_NAMES, {})))


__all__ = ["MAX_UPLOAD_BYTES", "BatchInputError", "ScoredTable", "read_upload", "score_upload", "unscored_drug_columns"]
