"""``ddi regimen DRUG DRUG [DRUG ...]``: check every pair among the drugs one patient takes.

A thin shell over ``ddi.serve.regimen.check_regimen``: the ranked pairs printed, and with ``--out`` the whole
table written as ``ddi predict`` writes one.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from ddi.cli.main import add_data_dir_argument, positive_int

if TYPE_CHECKING:
    from ddi.serve.regimen import RegimenCheck


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "regimen",
        help="check every pair among several drugs taken together",
        description=(
            "Score every pair among the DRUGs one patient takes and rank them: the pairs DrugBank lists first, "
            "then the others by the model's interaction score. A drug may be a name, synonym, DrugBank id, "
            "InChIKey, SMILES or InChI (quote SMILES for the shell); a pair that cannot be scored says why."
        ),
    )
    parser.add_argument("drugs", nargs="+", metavar="DRUG", help="two or more drugs")
    parser.add_argument("--model", default=None, help="model directory (default: models/default)")
    parser.add_argument("--top-k", type=positive_int, default=3, help="types listed per pair in --out (default 3)")
    parser.add_argument("--out", help="also write the whole table: .csv, .tsv (or .gz) or .parquet")
    parser.add_argument("--json", action="store_true", help="print the pairs as JSON records")
    add_data_dir_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ddi.predict.predictor import Predictor
    from ddi.serve.batch import write_table
    from ddi.serve.regimen import check_regimen, regimen_drugs
    from ddi.serve.resolve import DrugResolver

    regimen_drugs(args.drugs)  # a regimen of one drug should not cost loading the model
    predictor = Predictor.load(args.model, data_dir=args.data_dir)
    resolver = DrugResolver.for_predictor(predictor)
    check = check_regimen(predictor, resolver, args.drugs, top_k=args.top_k)
    if args.out:
        write_table(check.pairs, args.out)
    if args.json:
        print(json.dumps({"pairs": check.pairs.to_dict(orient="records"), "notes": check.notes}, indent=2))
    else:
        print(regimen_text(check))
    if args.out:
        print(f"-> {args.out}")
    return 0


def regimen_text(check: RegimenCheck) -> str:
    """The ranked pairs as the terminal shows them: a line per scored pair, DrugBank's listing under a listed
    one, and each drug not checked as given once, with why."""
    pairs = check.pairs
    failed = pairs["error"].astype(bool)
    listed = (pairs["known_type"].astype(str) != "") & ~failed
    lines = [
        f"{len(pairs)} pair(s): {int(listed.sum())} listed by DrugBank, {int((~listed & ~failed).sum())} "
        f"predicted, {int(failed.sum())} not scored; ranked by interaction score"
    ]
    for row, is_listed in zip(pairs[~failed].itertuples(index=False), listed[~failed], strict=True):
        lines.append(
            f"  {row.exists_score:4.0%}  {row.drug1} + {row.drug2}: {row.sentence} "
            f"(type {row.predicted_type}, {row.probability:.0%})"
        )
        if is_listed:
            lines.append(f"        DrugBank lists: {row.known_sentence}")
    if check.notes:
        lines.append("drugs not checked as given:")
        lines.extend(f"  {text}: {note}" for text, note in check.notes.items())
    lines.append(
        "(The score is the model's probability that the pair interacts; an unlisted pair is not confirmed safe.)"
    )
    return "\n".join(lines)
