"""``ddi import-drugbank``: convert a DrugBank XML export into the benchmark TSV layout.

The output directory can then be used wherever the benchmark is (``--data-dir OUT``). Interactions whose
description matches none of the benchmark templates are typed "other" (0); they are left out of
``ddi.tsv`` by default because the models predict the 86 benchmark types, and ``--keep-other`` keeps them.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ddi.cli.main import add_data_dir_argument
from ddi.errors import UserInputError, nearest_existing

if TYPE_CHECKING:
    from ddi.data.tables import Tables

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import-drugbank",
        help="convert a DrugBank XML export (4.x or 5.x) into the benchmark TSV layout",
        description="Read a DrugBank XML export (e.g. 'full database.xml', streamed, any size), map each "
        "interaction description to a benchmark interaction type, and write drugs.tsv, ddi.tsv, "
        "interaction_types.tsv, drug_protein.tsv and proteins.tsv into OUT.",
    )
    parser.add_argument(
        "xml",
        type=Path,
        help="the DrugBank XML export: the .xml, or the .zip DrugBank distributes (one .xml inside), or a .gz",
    )
    parser.add_argument("--out", type=Path, required=True, help="directory to write the layout into")
    parser.add_argument(
        "--types",
        type=Path,
        default=None,
        help="interaction_types.tsv with the type templates (default: the one in the data directory)",
    )
    add_data_dir_argument(parser)
    parser.add_argument(
        "--keep-other",
        action="store_true",
        help="keep interactions that match no benchmark template in ddi.tsv, as type 0",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ddi.data.drugbank_xml import INTERACTION_TYPES_FILE, check_layout_out, import_drugbank_xml
    from ddi.data.location import resolve_data_dir
    from ddi.data.tables import OTHER_TYPE

    # Checked first: an import of a full export takes minutes, a typo in --out should not.
    check_layout_out(args.out)
    types_path = args.types or resolve_data_dir(args.data_dir) / INTERACTION_TYPES_FILE
    # The tables come back validated (Tables.validated()); dropping rows below cannot invalidate them.
    tables, stats = import_drugbank_xml(args.xml, types_path, progress=not args.quiet)
    other = tables.interactions["type"] == OTHER_TYPE
    if not args.keep_other:
        tables = replace(tables, interactions=tables.interactions[~other].reset_index(drop=True))
    try:
        _write_whole(tables, args.out)
    except OSError as exc:
        raise UserInputError(f"cannot write to {args.out}: {exc.strerror or exc}; it is left as it was") from exc

    print(stats)
    counts = ", ".join(f"{name} {count:,}" for name, count in tables.counts().items())
    print(f"wrote {args.out}: {counts}")
    if other.any() and not args.keep_other:
        print(f"left out {int(other.sum()):,} interaction(s) of no benchmark type; --keep-other keeps them")
    if tables.interactions.empty:
        if stats.listings_read == 0:
            why = "the export lists no interactions"
        elif other.any() and not args.keep_other:
            why = "no interaction of two exported drugs matches a benchmark template"
        else:
            why = "no interaction has both drugs in the export"
        log.warning("%s: ddi.tsv is empty", why)
    return 0


def _write_whole(tables: Tables, out: Path) -> None:
    """Write the layout into a hidden directory inside ``out``, then rename its files into ``out`` only once all
    are written: a full disk or a Ctrl-C while writing leaves ``out`` as it was (or absent), never with a
    half-written table or some tables of this import beside an earlier one's."""
    from ddi.data.benchmark import write_benchmark_layout
    from ddi.data.drugbank_xml import STAGING_PREFIX

    existing = nearest_existing(out)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))  # inside out: os.replace needs one file system
    try:
        write_benchmark_layout(tables, staging)
        for written in staging.iterdir():
            os.replace(written, out / written.name)
        for leftover in out.glob(f"{STAGING_PREFIX}*"):  # an import killed mid-write left it (and this one's)
            shutil.rmtree(leftover, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # before out's removal below, which needs it gone
        # Remove the directories this import created (check_layout_out promised nothing is created on failure).
        with contextlib.suppress(OSError):
            for created in [out, *out.parents]:
                if created == existing:
                    break
                created.rmdir()
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
