"""``ddi regimen DRUG DRUG [DRUG ...]``: check every pair among the drugs one patient takes;
``ddi regimen --file LIST --out PAIRS``: every regimen of a medication list.

A thin shell over ``ddi.serve.regimen``: the ranked pairs printed, and with ``--out`` the whole table written as
``ddi predict`` writes one.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from ddi.cli.main import add_data_dir_argument, json_errors, non_blank, positive_int
from ddi.cli.predict import check_output

if TYPE_CHECKING:
    from ddi.predict.predictor import Predictor
    from ddi.serve.regimen import RegimenCheck
    from ddi.serve.resolve import DrugResolver


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "regimen",
        help="check every pair among several drugs taken together",
        description=(
            "Score every pair among the DRUGs one patient takes and rank them: the pairs DrugBank lists first, "
            "then the others by the model's interaction score. A drug may be a name, synonym, DrugBank id, "
            "InChIKey, SMILES or InChI (quote SMILES for the shell); a pair that cannot be scored says why. "
            "With --file, check every regimen of a medication list (one drug per row, a column saying whose "
            "regimen: patient, visit, ...) into --out."
        ),
    )
    parser.add_argument("drugs", nargs="*", metavar="DRUG", help="two or more drugs")
    parser.add_argument("--file", help="a medication list instead: .csv, .tsv (or .gz) or .parquet, one drug per row")
    parser.add_argument("--drug-col", help="the --file column of drugs, if not found by name (drug, medication, ...)")
    parser.add_argument("--group-col", help="the --file column of whose regimen (patient, visit, ...), if not found")
    parser.add_argument("--model", type=non_blank, default=None, help="model directory (default: models/default)")
    parser.add_argument("--top-k", type=positive_int, default=3, help="types listed per pair in --out (default 3)")
    parser.add_argument("--out", help="write the whole table: .csv, .tsv (or .gz) or .parquet (needed with --file)")
    parser.add_argument("--json", action="store_true", help="print the pairs as JSON records")
    add_data_dir_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with json_errors(args.json):
        return _run_file(args) if args.file else _run_drugs(args)


def _run_drugs(args: argparse.Namespace) -> int:
    from ddi.serve.batch import write_table
    from ddi.serve.regimen import check_regimen, regimen_drugs

    regimen_drugs(args.drugs)  # a regimen of one drug, or a typo in --out, should not cost loading the model
    if args.out:
        check_output(args.out)
    predictor, resolver = _load(args)
    check = check_regimen(predictor, resolver, args.drugs, top_k=args.top_k)
    if args.out:
        write_table(check.pairs, args.out)
    if args.json:
        # A pair not scored has no probability: null, not the NaN that json.dumps writes and JSON has not.
        pairs = json.loads(check.pairs.to_json(orient="records"))
        print(json.dumps({"pairs": pairs, "notes": check.notes}, indent=2))
    else:
        print(regimen_text(check))
    if args.out:
        print(f"-> {args.out}")
    return 0


def _run_file(args: argparse.Namespace) -> int:
    import pandas as pd

    from ddi.errors import UserInputError
    from ddi.serve.batch import open_table, read_chunks, write_table
    from ddi.serve.regimen import MAX_MEDICATION_LIST_BYTES, check_regimens, find_regimen_columns

    if args.drugs:
        raise UserInputError("give either DRUGs or --file, not both")
    if not args.out:
        raise UserInputError("--file needs --out: the pairs of every regimen go to a table")
    # Check the list and the output name before the model loads: a typo should not cost a minute.
    check_output(args.out, args.file)
    source = open_table(args.file, max_bytes=MAX_MEDICATION_LIST_BYTES)
    drug_col, group_col = find_regimen_columns(source.columns, args.drug_col, args.group_col)
    table = pd.concat(list(read_chunks(source, 100_000)) or [pd.DataFrame(columns=source.columns)])
    predictor, resolver = _load(args)
    rows = check_regimens(predictor, resolver, table, drug_col, group_col, top_k=args.top_k)
    write_table(rows, args.out)
    is_pair = rows["drug2"] != ""
    failed = is_pair & (rows["error"] != "")
    listed = is_pair & ~failed & (rows["known_type"] != "")
    regimens = rows[group_col].nunique() if group_col is not None else 1
    counts = {
        "regimens": int(regimens),
        "pairs": int(is_pair.sum()),
        "listed": int(listed.sum()),
        "predicted": int((is_pair & ~failed & ~listed).sum()),
        "not_scored": int(failed.sum()),
        "notes": int((~is_pair).sum()),
    }
    if args.json:  # --json was silently ignored here: the summary, as JSON
        print(json.dumps({**counts, "out": args.out}, indent=2))
        return 0
    print(
        f"{counts['regimens']:,} regimen(s), {counts['pairs']:,} pairs: {counts['listed']:,} listed by DrugBank, "
        f"{counts['predicted']:,} predicted, {counts['not_scored']:,} not scored; {counts['notes']:,} note(s) "
        f"-> {args.out}"
    )
    return 0


def _load(args: argparse.Namespace) -> tuple[Predictor, DrugResolver]:
    from ddi.predict.predictor import Predictor
    from ddi.serve.resolve import DrugResolver

    predictor = Predictor.load(args.model, data_dir=args.data_dir)
    return predictor, DrugResolver.for_predictor(predictor)


def regimen_text(check: RegimenCheck) -> str:
    """The ranked pairs as the terminal shows them: a line per scored pair, DrugBank's listing under a listed
    one, and each drug not checked as given once, with why."""
    from ddi.serve.answer import LIKELY_INTERACTION, interaction_likely

    pairs = check.pairs
    failed = pairs["error"].astype(bool)
    listed = (pairs["known_type"].astype(str) != "") & ~failed
    lines = [
        f"{len(pairs)} pair(s): {int(listed.sum())} listed by DrugBank, {int((~listed & ~failed).sum())} "
        f"predicted, {int(failed.sum())} not scored; ranked by interaction score"
    ]
    unlikely_shown = False
    for row, is_listed in zip(pairs[~failed].itertuples(index=False), listed[~failed], strict=True):
        if not interaction_likely(row.exists_score, is_listed) and not unlikely_shown:
            unlikely_shown = True
            lines.append(
                f"  below {LIKELY_INTERACTION:.0%} the model finds an interaction unlikely; the sentence says what "
                "happens if they do interact:"
            )
        lines.append(
            f"  {row.exists_score:4.0%}  {row.drug1_name} + {row.drug2_name}: {row.sentence} "
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
