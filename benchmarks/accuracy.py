"""Accuracy benchmark: the model, its ablations and two baselines (a fingerprint MLP, and the untrained vote of
each drug's look-alikes, ``look_alike_vote``) on S0, S1 and S2.

Results are appended to ``benchmarks/results/accuracy.json`` after every run (an interrupted benchmark keeps
what it measured). Example, the full table (many hours on 2 CPU cores):

    python benchmarks/accuracy.py --settings s0 s1 s2 --variants full molecule_only graph_only no_rules fingerprint

one quick row:

    python benchmarks/accuracy.py --settings s0 --variants full --seeds 0

and the mean ± std of every (setting, variant, epochs) group measured so far, as a Markdown table and
``benchmarks/results/accuracy_summary.json`` (the latest row of each seed counts):

    python benchmarks/accuracy.py --summary

A model trained with ``ddi train`` on the benchmark's recipe (``ddi train --split s1 --split-seed 3 --config C
--out M``) is recorded as a row of its own without training again:

    python benchmarks/accuracy.py --record M --variants full --config C
"""

from __future__ import annotations

import argparse
import fcntl
import json
import logging
import platform
import statistics
import time
from pathlib import Path

import torch

from ddi.data.benchmark import load_benchmark
from ddi.evaluate import DETAIL_KEYS, type_metrics
from ddi.models.config import RunConfig
from ddi.models.fingerprint_baseline import train_fingerprint_baseline
from ddi.models.neighbour_votes import vote_types
from ddi.train.context import TrainingContext
from ddi.train.pipeline import setting_run, train_and_test

RESULTS = Path(__file__).parent / "results" / "accuracy.json"
SUMMARY = Path(__file__).parent / "results" / "accuracy_summary.json"
METRICS = ("macro_f1", "accuracy", "kappa", "roc_auc")
# Runs per setting: S0 training seeds, S1/S2 drug splits (each also the default --seeds).
SETTING_RUNS = {"s0": 3, "s1": 5, "s2": 5}

# Ablations of the shipped configuration (which has look-alike votes). "molecule_only" removes everything the
# knowledge graph gives (paths, rules, and the votes, which read proteins and known interactions); the others
# remove one part each. Rows made before the votes were the default carry ``neighbour_votes`` 0 in their config,
# rows made before the votes read label annotations carry no ``vote_annotations``, and the summary keeps them
# apart by those fields (``votes_of``).
VARIANTS = {
    "full": {},
    "molecule_only": {
        "kg_layers": 0,
        "path_length": 0,
        "use_rules": False,
        "neighbour_votes": 0,
        "drug_id_embedding": False,
    },
    "graph_only": {"use_molecule": False},
    "no_rules": {"use_rules": False},
    "no_votes": {"neighbour_votes": 0},
    "neighbour_votes": {"neighbour_votes": 16},
    "with_flow": {"flow_layers": 3},
    "with_flow_expert": {"flow_layers": 3, "flow_expert": True},
}


def machine() -> dict:
    return {"platform": platform.platform(), "processor": platform.machine(), "cpus": torch.get_num_threads()}


def append_result(row: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    # Several benchmark processes may share the 2 cores; the lock keeps their read-append-write from racing.
    with open(RESULTS.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        rows = json.loads(RESULTS.read_text()) if RESULTS.is_file() else []
        rows.append(row)
        RESULTS.write_text(json.dumps(rows, indent=2) + "\n")


def votes_of(row: dict) -> str:
    """Look-alike votes of a row's model: ``"0"`` (none, or a row written before the field existed), ``"16"``
    (16 look-alikes by structure and proteins), ``"16+atc+categories"`` (also by those label annotations), and
    ``"+pool256"`` after it where the first block searches 256 look-alikes for those with evidence; then ``"+ids"``
    where the model adds a learned vector per known drug (``drug_id_embedding``)."""
    model = (row.get("config") or {}).get("model", {})
    if row.get("variant") == "fingerprint":
        return "0"  # the baseline reads no votes, whatever its config says
    # The untrained vote always asks 16 look-alikes (its older rows recorded the default's 0 then).
    k = 16 if row.get("variant") == "look_alike_vote" else int(model.get("neighbour_votes", 0))
    pool = int(model.get("vote_pool", 0))
    label = str(k) + "".join(f"+{name}" for name in model.get("vote_annotations", ()))
    votes = "0" if k == 0 else label + (f"+pool{pool}" if pool > k else "")
    # Per-drug vectors are another model, kept apart too; rows before the field existed have none.
    ids = model.get("drug_id_embedding") and row.get("variant") != "look_alike_vote"
    return votes + ("+ids" if ids else "")


def recorded_row(model_dir: Path, variant: str, config_name: str | None) -> dict:
    """A row for a model that ``ddi train`` trained and tested, as ``main`` writes for a run of its own: the
    same figures (the test after the prior correction fitted on validation) from the directory's metrics."""
    metrics = json.loads((model_dir / "metrics.json").read_text())
    run = RunConfig.load(model_dir / "config.json", checkpoint=True)
    setting = run.split
    seed = run.train.seed if setting == "s0" else run.split_seed
    if setting not in SETTING_RUNS or run.split_dir or (setting != "s0" and run.train.seed != 0):
        raise SystemExit(f"{model_dir}: not a run of the benchmark's recipe (setting_run): {setting}, seed {seed}")
    prior = metrics.get("prior_adjustment") or {}
    seeds = f"--split-seed {seed}" if setting != "s0" else f"--seed {seed}"
    return {
        "setting": setting,
        "seed": seed,
        "variant": variant,
        "machine": {**machine(), "cpus": metrics.get("torch_threads", run.train.threads)},  # the run's threads
        "command": f"ddi train --split {setting} {seeds} --config {config_name or 'C'} --out {model_dir} "
        "(recorded with benchmarks/accuracy.py --record)",
        "test": {k: v for k, v in metrics["test"].items() if k not in (*DETAIL_KEYS, "seconds")},
        "best_epoch": metrics.get("best_epoch"),
        "epochs_run": len(metrics.get("history", [])),
        "parameters": metrics.get("parameters"),
        "prior_tau": prior.get("tau"),
        "vote_blend": prior.get("vote_blend", 0.0),
        "train_seconds": metrics.get("train_seconds"),
        "epochs": run.train.epochs,
        "config": run.to_dict(),
    }


def summarise(rows: list[dict]) -> list[dict]:
    """Mean and population std of the test metrics per (setting, variant, epochs, votes), latest row of each seed."""
    latest: dict[tuple, dict] = {}
    for row in rows:  # later rows replace earlier ones of the same group and seed
        latest[(row["setting"], row["variant"], row.get("epochs"), votes_of(row), row["seed"])] = row
    groups: dict[tuple, list[dict]] = {}
    for (*group, _), row in sorted(latest.items(), key=lambda item: str(item[0])):
        groups.setdefault(tuple(group), []).append(row)
    out = []
    for (setting, variant, epochs, votes), members in groups.items():
        entry: dict = {
            "setting": setting,
            "variant": variant,
            "epochs": epochs,
            "neighbour_votes": votes,
            "seeds": [r["seed"] for r in members],
        }
        for metric in METRICS:
            values = [r["test"][metric] for r in members if metric in r.get("test", {})]
            if values:
                entry[metric] = {
                    "mean": statistics.fmean(values),
                    "std": statistics.pstdev(values),  # population std, as the tables in BENCHMARKS.md
                    "values": values,
                }
        out.append(entry)
    return out


def summary_table(summary: list[dict]) -> str:
    header = "| setting | variant | epochs | votes | seeds | " + " | ".join(METRICS) + " |"
    lines = [header, "|---" * (5 + len(METRICS)) + "|"]
    for entry in summary:
        cells = [f"{entry[m]['mean']:.3f} ± {entry[m]['std']:.3f}" if m in entry else "" for m in METRICS]
        seeds = " ".join(map(str, entry["seeds"]))
        lines.append(
            f"| {entry['setting']} | {entry['variant']} | {entry['epochs']} | {entry['neighbour_votes']} | {seeds} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines)


# The one table of the issue: each row a model, each column a setting. A row lists the (variant, votes) groups
# that are the same model (the default was run as "neighbour_votes" before votes became the default).
LABEL_VOTES = "16+atc+categories"  # look-alikes also by label class (the default of 2026-11-24)
POOL_VOTES = LABEL_VOTES + "+pool256"  # and the first block searched in a pool of 256 (the default of 2026-11-25)
DEFAULT_VOTES = POOL_VOTES + "+ids"  # and a learned vector per known drug (today's default, 2026-12-05)
#: The shipped training budget: the one table shows runs of this many epochs where it has them.
DEFAULT_EPOCHS = RunConfig().train.epochs

TABLE_ROWS = (
    (
        "ddi model (the default: look-alikes by structure, proteins, ATC class and categories; vote pool 256; "
        "a learned vector per known drug)",
        (("full", DEFAULT_VOTES),),
    ),
    (
        "the default with the head-conditioned flow (`flow_layers` 3, `flow_dim` 32; batches grouped by head)",
        (("with_flow", DEFAULT_VOTES),),
    ),
    (
        "the default with a flow expert (`flow_layers` 3, `flow_expert`; trained after the rest, which is frozen)",
        (("with_flow_expert", DEFAULT_VOTES),),
    ),
    ("the same without per-drug vectors (the default of 2026-11-25)", (("full", POOL_VOTES),)),
    ("the same without the vote pool either (the default of 2026-11-24)", (("full", LABEL_VOTES),)),
    ("look-alikes by structure and proteins only, no pool", (("full", "16"), ("neighbour_votes", "16"))),
    ("without the look-alike votes", (("full", "0"), ("no_votes", "0"))),
    ("ablation: molecule only (no knowledge graph: no paths, rules or votes)", (("molecule_only", "0"),)),
    ("ablation: graph only (no molecule encoder or fingerprints)", (("graph_only", DEFAULT_VOTES),)),
    ("ablation: graph only (no molecule encoder or fingerprints; no per-drug vectors)", (("graph_only", POOL_VOTES),)),
    ("ablation: graph only, no vote pool", (("graph_only", LABEL_VOTES),)),
    ("ablation: graph only, look-alikes by structure and proteins", (("graph_only", "16"),)),
    ("ablation: no rule features (with per-drug vectors)", (("no_rules", DEFAULT_VOTES),)),
    ("ablation: no rule features (no per-drug vectors)", (("no_rules", POOL_VOTES),)),
    ("ablation: no rule features, no vote pool", (("no_rules", LABEL_VOTES),)),
    ("ablation: no rule features, look-alikes by structure and proteins", (("no_rules", "16"),)),
    ("ablation: no rule features, without votes", (("no_rules", "0"),)),
    ("baseline: Morgan fingerprint + MLP", (("fingerprint", "0"),)),
    (
        "baseline: look-alike vote alone (untrained, as the default compares drugs)",
        (("look_alike_vote", POOL_VOTES),),
    ),
    ("baseline: look-alike vote alone, no vote pool", (("look_alike_vote", LABEL_VOTES),)),
    ("baseline: look-alike vote alone, by structure and proteins", (("look_alike_vote", "16"),)),
)


def settings_table(summary: list[dict]) -> str:
    """Models x settings: macro-F1 ± std / accuracy / kappa of the group trained for the shipped number of epochs
    if there is one, else of the group with the most seeds (then epochs)."""
    lines = ["| model | S0 (3 seeds) | S1 (5 drug splits) | S2 (5 drug splits) |", "|---|---|---|---|"]
    for label, keys in TABLE_ROWS:
        cells = []
        for setting, wanted in SETTING_RUNS.items():
            groups = [e for e in summary if e["setting"] == setting and (e["variant"], e["neighbour_votes"]) in keys]
            if not groups:
                cells.append("")
                continue
            # The shipped recipe's budget first: a longer trial run of one seed must not stand in for the default.
            best = max(groups, key=lambda e: (e["epochs"] == DEFAULT_EPOCHS, len(e["seeds"]), e["epochs"] or 0))
            n = len(best["seeds"])
            spread = f" ± {best['macro_f1']['std']:.3f}" if n > 1 else ""
            partial = "" if n >= wanted else f" ({n} of {wanted}: {' '.join(map(str, best['seeds']))})"
            cells.append(
                f"{best['macro_f1']['mean']:.3f}{spread} / {best['accuracy']['mean']:.3f} / "
                f"{best['kappa']['mean']:.3f}{partial}"
            )
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--settings", nargs="+", default=["s0"], choices=["s0", "s1", "s2"])
    parser.add_argument(
        "--variants", nargs="+", default=["full"], choices=[*VARIANTS, "fingerprint", "look_alike_vote"]
    )
    parser.add_argument("--seeds", nargs="+", type=int, help="default: 0 1 2 for s0, 0..4 for s1/s2")
    parser.add_argument("--config", help="base RunConfig JSON (default: the shipped defaults)")
    parser.add_argument("--epochs", type=int, help="override train.epochs")
    parser.add_argument("--summary", action="store_true", help="summarise the measured rows instead of training")
    parser.add_argument(
        "--record",
        nargs="+",
        metavar="MODEL_DIR",
        help="record directories written by `ddi train --split ... --out DIR` as rows of the first --variants "
        "(their setting and seed from their config) instead of training",
    )
    args = parser.parse_args()
    if args.summary:
        summary = summarise(json.loads(RESULTS.read_text()) if RESULTS.is_file() else [])
        SUMMARY.write_text(json.dumps(summary, indent=2) + "\n")
        print(summary_table(summary))
        print()
        print(settings_table(summary))
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.record:
        for model_dir in args.record:
            row = recorded_row(Path(model_dir), args.variants[0], args.config)
            append_result(row)
            logging.info("%s seed %d %s (recorded from %s): %s", row["setting"], row["seed"], row["variant"],
                         model_dir, json.dumps(row["test"]))  # fmt: skip
        return
    tables, _ = load_benchmark()
    base = RunConfig.load(args.config) if args.config else RunConfig()
    if args.epochs:
        base.train.epochs = args.epochs
    for setting in args.settings:
        seeds = args.seeds or list(range(SETTING_RUNS[setting]))
        for seed in seeds:
            for variant in args.variants:
                run = setting_run(base, setting, seed)
                for key, value in VARIANTS.get(variant, {}).items():
                    setattr(run.model, key, value)
                if variant == "look_alike_vote":  # untrained: the vote of 16 look-alikes, compared as the model does
                    ctx = TrainingContext.build(run, tables, progress=False)
                    start = time.time()
                    heads, tails, types = ctx.rows(ctx.split.test)
                    commonest = int(ctx.split.train["type"].mode().iloc[0])
                    votes = ctx.neighbour_votes(16, run.model.vote_annotations, run.model.vote_pool)
                    predicted = vote_types(votes.lookup(heads, tails), ctx.labels, commonest)
                    extra = {"test": type_metrics(types, predicted), "train_seconds": time.time() - start, "epochs": 0}
                elif variant == "fingerprint":
                    ctx = TrainingContext.build(run, tables, progress=False)
                    start = time.time()
                    test = train_fingerprint_baseline(
                        ctx, epochs=run.train.epochs, seed=run.train.seed, progress=False, patience=run.train.patience
                    )
                    extra = {"test": test, "train_seconds": time.time() - start, "epochs": run.train.epochs}
                    extra["best_epoch"] = test.pop("best_epoch")
                    extra["epochs_run"] = test.pop("epochs_run")
                else:
                    extra = train_and_test(run, tables)
                row = {
                    "setting": setting,
                    "seed": seed,
                    "variant": variant,
                    "machine": machine(),
                    "command": "python benchmarks/accuracy.py "
                    + " ".join(
                        ["--settings", setting, "--variants", variant, "--seeds", str(seed)]
                        + (["--epochs", str(args.epochs)] if args.epochs else [])
                        + (["--config", args.config] if args.config else [])
                    ),
                    **extra,
                    "config": run.to_dict(),
                }
                append_result(row)
                logging.info("%s seed %d %s: %s", setting, seed, variant, json.dumps(row["test"]))


if __name__ == "__main__":
    main()
