"""``ddi predict PAIRS --out SCORED``: score a CSV, TSV or Parquet file of drug pairs with a saved model."""

from __future__ import annotations

import argparse
from pathlib import Path

from ddi.cli.main import add_data_dir_argument, non_blank, positive_int


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="score a file of drug pairs (CSV, TSV or Parquet)",
        description=(
            "Predict the interaction type of every drug pair in a table. The two drug columns are found by "
            "name (drug1/drug2, drug_a/drug_b, drug1_id, drug1_name, precipitant/object drug, ...) or chosen "
            "with --cols; a drug may be a DrugBank id, a name, a synonym, an InChIKey, a SMILES or an InChI. "
            "Every input row is written to --out with the input columns first; a row that cannot be scored says "
            "why in its 'error' column."
        ),
    )
    parser.add_argument("input", metavar="PAIRS", help="table of drug pairs: .csv, .tsv (or .csv.gz) or .parquet")
    parser.add_argument("--out", required=True, help="file to write: .csv, .tsv or .parquet")
    parser.add_argument("--model", type=non_blank, default=None, help="model directory (default: models/default)")
    parser.add_argument("--top-k", type=positive_int, default=3, help="types listed per pair (default 3)")
    parser.add_argument("--explain", action="store_true", help="add the knowledge-graph paths behind each prediction")
    parser.add_argument("--cols", nargs=2, metavar=("A", "B"), help="the two drug columns, if not found by name")
    parser.add_argument("--chunksize", type=positive_int, default=50_000, help="rows per chunk (default 50000)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_data_dir_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ddi.predict.predictor import Predictor
    from ddi.serve.batch import inspect_input, score_file
    from ddi.serve.resolve import DrugResolver

    # Check the input and the output before the model loads: a typo in a file name should not cost a minute.
    inspect_input(args.input, args.cols)
    check_output(args.out, args.input)
    predictor = Predictor.load(args.model, data_dir=args.data_dir, progress=not args.no_progress)
    resolver = DrugResolver.for_predictor(predictor)
    summary = score_file(
        args.input,
        args.out,
        predictor,
        resolver,
        cols=args.cols,
        top_k=args.top_k,
        explain=args.explain,
        chunksize=args.chunksize,
        progress=not args.no_progress,
    )
    failed = f"{summary.failed:,} failed (see the error column)" if summary.failed else "0 failed"
    print(
        f"{summary.rows:,} rows: {summary.scored:,} scored, {failed}; "
        f"{summary.seconds:.1f} s, {summary.pairs_per_second:,.0f} pairs/s -> {summary.out_path}"
    )
    return 0


def check_output(out: str, input_path: str | None = None) -> None:
    """Refuse an ``--out`` that the writer would refuse after the scoring (a directory, an unknown extension), or
    that is the input file itself (the input would be lost), before the model loads."""
    from ddi.serve.batch import BatchInputError, file_format

    path = Path(out)
    if path.is_dir():
        raise BatchInputError(f"{path} is a directory; give a file name such as {path / 'scored.csv'}")
    file_format(path)
    if input_path is not None and path.exists() and path.samefile(input_path):
        raise BatchInputError(f"{path}: the output would overwrite the input; choose another --out")
