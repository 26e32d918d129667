"""``ddi ask DRUG1 DRUG2``: what happens if two drugs are combined, and why, in the terminal.

The command-line twin of the app's pair page: the same ``ddi.serve.answer.answer_pair``, printed as text or, with
``--json``, as ``answer_record``.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from ddi.cli.main import add_data_dir_argument, json_errors, non_blank, positive_int

if TYPE_CHECKING:
    from ddi.serve.answer import PairAnswer

DRUG_HELP = "a name, synonym, DrugBank id, InChIKey, SMILES or InChI (quote SMILES for the shell)"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ask",
        help="predict and explain the interaction of two drugs",
        description=(
            "Predict what happens when DRUG1 is combined with DRUG2: the interaction as a sentence, its "
            "probability, the model's interaction score, whether DrugBank lists the pair, and why (the relation "
            "paths the model weighed, the pharmacology rules that fire, the look-alike drugs' known "
            "interactions). A drug outside the model's data is scored from its structure."
        ),
    )
    parser.add_argument("drug1", metavar="DRUG1", help=DRUG_HELP)
    parser.add_argument("drug2", metavar="DRUG2", help=DRUG_HELP)
    parser.add_argument("--model", type=non_blank, default=None, help="model directory (default: models/default)")
    parser.add_argument("--top-k", type=positive_int, default=3, help="interaction types listed (default 3)")
    parser.add_argument("--paths", type=positive_int, default=5, help="relation paths listed (default 5)")
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")
    add_data_dir_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ddi.predict.predictor import Predictor
    from ddi.serve.answer import answer_pair, answer_record
    from ddi.serve.resolve import DrugResolver

    with json_errors(args.json):
        predictor = Predictor.load(args.model, data_dir=args.data_dir)
        resolver = DrugResolver.for_predictor(predictor)
        # A drug it cannot use raises PairInputError, whose message already names the closest drugs.
        answer = answer_pair(predictor, resolver, args.drug1, args.drug2, top_k=args.top_k, max_paths=args.paths)
        print(json.dumps(answer_record(answer), indent=2) if args.json else answer_text(answer))
    return 0


def answer_text(answer: PairAnswer) -> str:
    """The answer as the terminal shows it."""
    lines = [
        f"{answer.drug1_name} ({answer.drug1_id}) + {answer.drug2_name} ({answer.drug2_id})",
        "",
    ]
    if answer.interaction_likely:
        lines.append(answer.sentence)
        lines.append(f"probability of this type {answer.probability:.0%}; interaction score {answer.exists:.0%}")
    else:
        lines += [answer.verdict, f"  {answer.sentence}", f"probability of this type {answer.probability:.0%}"]
    if answer.same_effect_note:
        lines.append(answer.same_effect_note)
    if answer.known:
        verdict = "agrees" if answer.agrees_with_known else "does NOT agree"
        lines.append(f"DrugBank lists this pair ({verdict} with the prediction):")
        lines += [f"  - {k.sentence} (type {k.type_id})" for k in answer.known]
    elif not answer.less_certain:
        lines.append("DrugBank does not list this pair; an unlisted pair is not a confirmed safe combination.")
    if answer.less_certain:
        lines.append(f"less certain: {answer.less_certain_reason}.")
    lines += ["", "most probable types:"]
    lines += [f"  {p:6.1%}  type {t:>2}: {text}" for t, p, text in answer.top]
    lines += ["", "relation paths the model weighed most:"]
    lines += [f"  {p.weight:.3f}  {p.text}" for p in answer.paths] or ["  none"]
    if answer.paths_note:
        lines.append(f"  ({answer.paths_note})")
    lines += ["", "pharmacology rules that fire:"]
    lines += [f"  - {r.text}" for r in answer.rules] or ["  none"]
    if answer.rules_note:
        lines.append(f"  ({answer.rules_note})")
    if answer.look_alikes:
        lines += ["", f"known interactions of look-alike drugs (similar {answer.look_alike_basis}):"]
        lines += [f"  {e.weight:4.0%}  {e.text}" for e in answer.look_alikes]
        if answer.look_alike_note:
            lines.append(f"  (note: {answer.look_alike_note}.)")
    return "\n".join(lines)
