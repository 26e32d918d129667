"""Architecture search methods compared on the surrogate: best score vs evaluations, targets, agent sensitivity.

Run from the repository root (after a proxy table exists, e.g. from ``ddi search --pipeline``)::

    OMP_NUM_THREADS=1 DDI_TORCH_THREADS=1 PYTHONPATH=. .venv/bin/python benchmarks/nas.py \
        [--table benchmarks/results/nas_table.jsonl] [--seeds 10] [--no-sweep] [--quick]

Fits the surrogate on the table (and reports its held-out rank correlation), predicts the whole space once,
trains the RL agent on it (or loads ``--agent DIR``), then runs every method with ``--seeds`` seeds at 200
evaluations. A method's runs do not depend on the budget, so the best score at 10/25/50/100 evaluations is
read off the same runs. Writes ``nas.json`` and ``nas_curves.png`` to ``--out-dir`` (default
``benchmarks/results``) with:

- per method and budget: mean, std and median of the best score over seeds, and the regret to the
  surrogate's optimum;
- the targets: "RL reaches the median best score of random search at budget 200 in at most 100
  evaluations" (first budget where RL's median best-so-far reaches it) and "RL not worse than local search
  at any budget" (mean and median at every budget 1..200 and at the checkpoints);
- a transfer check: an agent trained on a surrogate fitted on half the table, searching the full-table
  surrogate (the agent otherwise searches the very landscape it was trained on);
- a sensitivity sweep of the agent's hyper-parameters (learning rate, exploration schedule, reward shaping,
  action set, network), each trained with ``--sweep-train-seeds`` seeds and searched with ``--seeds``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from run_info import command_line

from ddi.search.methods import METHODS
from ddi.search.pipeline import compare_methods, fit_surrogate, select_rows, surrogate_objective
from ddi.search.rl_agent import AgentConfig, QAgent, train_agent
from ddi.search.space import SearchSpace
from ddi.search.table import ArchitectureTable

log = logging.getLogger("benchmarks.nas")

RESULTS = Path(__file__).resolve().parent / "results"
BUDGET = 200
CHECKPOINTS = (10, 25, 50, 100, 200)

#: Agent settings of the sensitivity sweep: name -> AgentConfig overrides.
SWEEP: dict[str, dict] = {
    "default": {},
    "lr 2.5e-4": {"lr": 2.5e-4},
    "lr 1e-3": {"lr": 1e-3},
    "epsilon narrow (0.2, alpha 3)": {"epsilon_base": 0.2, "epsilon_alpha": 3.0},
    "epsilon constant 0.1": {"epsilon_base": 0.1, "epsilon_alpha": 0.0},
    "no shaping": {"shaping_weight": 0.0},
    "strong shaping (0.5)": {"shaping_weight": 0.5},
    "edit current only": {"edit_from_best": False},
    "mlp network": {"network": "mlp"},
}


def curves_of(results) -> np.ndarray:
    """Seeds x BUDGET best-so-far matrix of one method's runs."""
    return np.stack([r.curve for r in results])


def stats(curves: np.ndarray, optimum: float) -> dict[str, dict[str, float]]:
    out = {}
    for b in CHECKPOINTS:
        column = curves[:, b - 1]
        out[str(b)] = {
            "mean": float(column.mean()),
            "std": float(column.std()),
            "median": float(np.median(column)),
            "mean_regret": float(optimum - column.mean()),
            "reached_optimum": float(np.mean(column >= optimum - 1e-12)),
        }
    return out


def targets(curves: dict[str, np.ndarray]) -> dict[str, object]:
    """The two targets of the issue, measured on the median (and mean) best-so-far curves."""
    out: dict[str, object] = {}
    if "rl" not in curves:
        return out
    rl_median = np.median(curves["rl"], axis=0)
    rl_mean = curves["rl"].mean(axis=0)
    if "random" in curves:
        goal = float(np.median(curves["random"][:, BUDGET - 1]))
        reached = np.flatnonzero(rl_median >= goal)
        first = int(reached[0]) + 1 if reached.size else None
        out["rl_reaches_random_median_at_200_within_100"] = {
            "random_median_at_200": goal,
            "rl_first_budget_reaching_it": first,
            "holds": first is not None and first <= 100,
        }
    if "local" in curves:
        local_median = np.median(curves["local"], axis=0)
        local_mean = curves["local"].mean(axis=0)
        worse_mean = np.flatnonzero(rl_mean < local_mean - 1e-12) + 1
        worse_median = np.flatnonzero(rl_median < local_median - 1e-12) + 1
        out["rl_not_worse_than_local_at_any_budget"] = {
            "holds_on_mean": bool(worse_mean.size == 0),
            "holds_on_median": bool(worse_median.size == 0),
            "budgets_where_mean_is_worse": worse_mean.tolist()[:50],
            "budgets_where_median_is_worse": worse_median.tolist()[:50],
            "holds_at_checkpoints_on_mean": bool(all(rl_mean[b - 1] >= local_mean[b - 1] - 1e-12 for b in CHECKPOINTS)),
        }
    return out


def plot(curves: dict[str, np.ndarray], optimum: float, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.arange(1, BUDGET + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for method, c in curves.items():
        median = np.median(c, axis=0)
        q1, q3 = np.percentile(c, [25, 75], axis=0)
        (line,) = left.plot(x, median, label=method, lw=2 if method == "rl" else 1.2)
        left.fill_between(x, q1, q3, color=line.get_color(), alpha=0.15)
        right.plot(x, np.maximum(optimum - c.mean(axis=0), 1e-6), label=method, color=line.get_color())
    left.axhline(optimum, color="grey", ls="--", lw=0.8, label="surrogate optimum")
    left.set(xscale="log", xlabel="distinct architectures evaluated", ylabel="best score so far (median, IQR)")
    right.set(xscale="log", yscale="log", xlabel="distinct architectures evaluated", ylabel="mean regret to optimum")
    left.legend(fontsize=8)
    left.set_title(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def agent_runs(space, objective, agent, seeds, optimum) -> dict:
    runs = compare_methods(space, objective, ["rl"], seeds, BUDGET, agent)["rl"]
    return {"budgets": stats(curves_of(runs), optimum), "train": agent.history}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", type=Path, default=RESULTS / "nas_table.jsonl", help="proxy table (JSON Lines)")
    parser.add_argument("--config-hash", help="proxy configuration of the rows to use (default: the commonest)")
    parser.add_argument("--seeds", type=int, default=10, help="search seeds per method (>= 10 for the record)")
    parser.add_argument("--agent", type=Path, help="a trained agent directory instead of training one")
    parser.add_argument("--agent-steps", type=int, help="override AgentConfig.total_steps of the main agent")
    parser.add_argument("--save-agent", type=Path, help="also save the trained main agent to this directory")
    parser.add_argument("--no-sweep", action="store_true", help="skip the hyper-parameter sensitivity sweep")
    parser.add_argument("--sweep-steps", type=int, default=10_000, help="training steps of each sweep agent")
    parser.add_argument("--sweep-train-seeds", type=int, default=2, help="agents trained per sweep setting")
    parser.add_argument("--quick", action="store_true", help="small agents and sweep: a smoke run")
    parser.add_argument("--out-dir", type=Path, default=RESULTS, help="where nas.json and nas_curves.png go")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s: %(message)s")
    torch.set_num_threads(int(os.environ.get("DDI_TORCH_THREADS", "1")))
    if not args.table.is_file():
        parser.error(f"no table at {args.table}: run `ddi search --pipeline --table {args.table}` first")
    started = time.perf_counter()
    load_before = os.getloadavg()

    space = SearchSpace()
    rows, digest = select_rows(ArchitectureTable(args.table), args.config_hash)
    surrogate, holdout = fit_surrogate(space, rows, seed=0)
    log.info("surrogate on %d rows (%s): holdout %s", len(rows), digest, holdout)
    objective = surrogate_objective(space, surrogate)
    optimum_arch, optimum = objective.optimum()
    seeds = list(range(args.seeds))
    base = AgentConfig.quick() if args.quick else AgentConfig()

    if args.agent is not None:
        agent = QAgent.load(args.agent, space)
    else:
        config = AgentConfig(**{**base.to_dict(), **({"total_steps": args.agent_steps} if args.agent_steps else {})})
        agent = train_agent(space, lambda _: objective, config, seed=0, progress=True)
        if args.save_agent is not None:
            agent.save(args.save_agent)
    log.info("agent: %s", agent.history)

    results = compare_methods(space, objective, list(METHODS), seeds, BUDGET, agent, progress=True)
    curves = {m: curves_of(r) for m, r in results.items()}
    report: dict[str, object] = {
        "what": "best surrogate score vs distinct architectures evaluated; every method runs each seed once at "
        f"{BUDGET} evaluations and smaller budgets are read off the same runs (methods ignore the budget)",
        "table": {"path": str(args.table), "rows": len(rows), "config_hash": digest},
        "surrogate": {"holdout": holdout, "optimum": {"key": space.key(optimum_arch), "score": optimum}},
        "space_size": len(objective.scores),
        "seeds": len(seeds),
        "agent": {"config": agent.config.to_dict(), "history": agent.history},
        "methods": {m: stats(c, optimum) for m, c in curves.items()},
        "targets": targets(curves),
    }

    half = np.random.default_rng(1).permutation(len(rows))[: len(rows) // 2]
    half_surrogate, _ = fit_surrogate(space, [rows[i] for i in half], seed=1)
    half_objective = surrogate_objective(space, half_surrogate)
    transfer_agent = train_agent(space, lambda _: half_objective, agent.config, seed=0, progress=True)
    report["transfer"] = {
        "what": "agent trained on a surrogate fitted on a random half of the table, searching the full-table "
        "surrogate: how much of RL's result survives a landscape it was not trained on",
        **agent_runs(space, objective, transfer_agent, seeds, optimum),
    }

    if not args.no_sweep:
        sweep = {}
        steps = 1_500 if args.quick else args.sweep_steps
        for name, overrides in SWEEP.items():
            per_seed = []
            for train_seed in range(args.sweep_train_seeds):
                config = AgentConfig(**{**base.to_dict(), "total_steps": steps, **overrides})
                trained = train_agent(space, lambda _: objective, config, seed=train_seed)
                per_seed.append(agent_runs(space, objective, trained, seeds, optimum))
                log.info("sweep %s seed %d: %s", name, train_seed, per_seed[-1]["budgets"]["50"])
            sweep[name] = {
                "overrides": overrides,
                "mean_over_agents": {
                    b: float(np.mean([s["budgets"][b]["mean"] for s in per_seed])) for b in map(str, CHECKPOINTS)
                },
                "per_agent": per_seed,
            }
        report["sensitivity"] = {"total_steps": steps, "train_seeds": args.sweep_train_seeds, "settings": sweep}

    report["seconds"] = round(time.perf_counter() - started, 1)
    report["machine"] = {
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "load_average_1min_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
    }
    report["command"] = command_line()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "nas.json").write_text(json.dumps(report, indent=2) + "\n")
    plot(curves, optimum, args.out_dir / "nas_curves.png", f"{len(rows)}-architecture table, {len(seeds)} seeds")
    summary = {m: {b: round(s[b]["median"], 4) for b in ("25", "100", "200")} for m, s in report["methods"].items()}
    print(json.dumps({"median best": summary, "targets": report["targets"]}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
