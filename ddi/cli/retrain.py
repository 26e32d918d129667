"""``ddi retrain``: import a DrugBank XML export, train a model on it, compare it with the current default."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("retrain", help="import a DrugBank XML export and train a model on it", description=__doc__)
    p.add_argument("xml", help='the export, e.g. "full database.xml" (or the .zip it came in)')
    p.add_argument("--out", required=True, help="model directory to write (e.g. models/drugbank-5.1)")
    p.add_argument("--data-out", help="where the imported tables go (default: data/<model name>)")
    p.add_argument("--config", help="JSON RunConfig (default: the shipped defaults)")
    p.add_argument("--epochs", type=int, help="override train.epochs")
    p.add_argument("--make-default", action="store_true", help="also install the new model as models/default")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ddi.models.config import RunConfig
    from ddi.train.retrain import retrain

    config = RunConfig.load(args.config) if args.config else RunConfig()
    if args.epochs is not None:
        config.train.epochs = args.epochs
    report = retrain(
        args.xml, args.out, args.data_out, config, make_default=args.make_default, progress=not args.no_progress
    )
    keys = ("macro_f1", "accuracy", "kappa", "roc_auc")
    new = {k: round(report["new"][k], 4) for k in keys if k in report["new"]}
    old = report.get("default")
    print(f"new model {report['model']} (data {report['data_dir']}): {json.dumps(new)}")
    if old:
        print(f"current default on the same test split: {json.dumps({k: round(old[k], 4) for k in keys if k in old})}")
    else:
        print(report.get("default_note", "no current default to compare"))
    if report.get("made_default"):
        print(f"installed as {report['made_default']}")
    return 0
