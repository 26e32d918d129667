"""The search's pick, fully trained, against the hand-designed default: the confirmation stage of ``ddi search
--pipeline``, one setting at a time, reusing the default's runs of the accuracy benchmark.

``ddi search --pipeline --final-settings s0 s1 s2`` trains both architectures on every setting and seed. The
default's runs already exist in ``results/accuracy.json`` (same recipe: ``setting_run`` of the shipped training
defaults, S0 seeds vary training, S1/S2 seeds the drug split), so this script trains only the searched
architecture (``ddi.search.final.final_runs``, resumable: finished runs are kept in ``results/nas_final.jsonl``) and
compares it with the default's rows of the same settings and seeds. Run from the repository root::

    python benchmarks/nas_final.py --settings s0 s1 s2 [--seeds 0 1 2 3 4] [--s0-seeds 0 1 2] [--config C]
        [--arch KEY] [--summary FILE]

``--seeds`` are the S1 / S2 drug splits, ``--s0-seeds`` the S0 training seeds. ``--arch`` defaults to the
surrogate's optimum in ``results/nas.json``. Writes ``--summary`` (default ``results/nas_final.json``; give
another file per architecture confirmed): per setting the mean and std of both architectures over the seeds
both have, and the verdict of ``ddi.search.final.summarise_final``.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from accuracy import POOL_VOTES, RESULTS, votes_of
from run_info import command_line

from ddi.models.config import RunConfig
from ddi.search.final import final_runs, summarise_final
from ddi.search.space import SearchSpace

HERE = Path(__file__).parent / "results"
RUNS = HERE / "nas_final.jsonl"
SUMMARY = HERE / "nas_final.json"


def default_rows(space: SearchSpace, accuracy_rows: list[dict], settings: list[str], seeds: list[int]) -> list[dict]:
    """The default's latest run per (setting, seed) among the accuracy benchmark's rows, as ``final_runs`` rows."""
    latest: dict[tuple[str, int], dict] = {}
    for row in accuracy_rows:
        if row["variant"] == "full" and votes_of(row) == POOL_VOTES and row.get("epochs") == 16:
            latest[row["setting"], row["seed"]] = row
    key = space.key(space.from_model_config(space.base))
    return [
        {"key": key, "setting": s, "seed": seed, **latest[s, seed]}
        for s in settings
        for seed in seeds
        if (s, seed) in latest
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--settings", nargs="+", default=["s2"], choices=["s0", "s1", "s2"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4], help="S1 / S2 drug splits")
    parser.add_argument("--s0-seeds", nargs="+", type=int, default=[0, 1, 2], help="S0 training seeds")
    parser.add_argument("--config", type=Path, help="base RunConfig JSON (default: the shipped defaults)")
    parser.add_argument("--arch", help="architecture key to confirm (default: the surrogate's optimum)")
    parser.add_argument("--summary", type=Path, default=SUMMARY, help="where to write the comparison")
    parser.add_argument("--keep-models", type=Path, help="save each new run's checkpoint under this folder")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    base = RunConfig.from_dict(json.loads(args.config.read_text())) if args.config else RunConfig()
    space = SearchSpace(base=base.model)
    key = args.arch or json.loads((HERE / "nas.json").read_text())["surrogate"]["optimum"]["key"]
    searched = space.from_key(key)
    seeds_of = {s: args.s0_seeds if s == "s0" else args.seeds for s in args.settings}
    rows, defaults = [], []
    for setting, seeds in seeds_of.items():
        # final_runs returns every row of the file; keep this setting's, so no run is counted once per setting.
        rows += [
            row
            for row in final_runs(
                space, {"searched": searched}, [setting], seeds, RUNS, base, progress=True, keep_models=args.keep_models
            )
            if row["setting"] == setting
        ]
        defaults += default_rows(space, json.loads(RESULTS.read_text()), [setting], seeds)
    # Compare over the seeds both architectures have, so a missing run of either cannot tilt a mean.
    both = {(r["setting"], r["seed"]) for r in defaults} & {
        (r["setting"], r["seed"]) for r in rows if r["key"] == space.key(searched)
    }
    mine = [r for r in rows if r["key"] == space.key(searched) and (r["setting"], r["seed"]) in both]
    defaults = [r for r in defaults if (r["setting"], r["seed"]) in both]
    candidates = {"searched": searched, "default": space.from_model_config(space.base)}
    summary = summarise_final(space, candidates, [*mine, *defaults], args.settings)
    seeds = {s: sorted(seed for setting, seed in both if setting == s) for s in args.settings}
    summary.update(command=command_line(), seeds=seeds)
    args.summary.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
