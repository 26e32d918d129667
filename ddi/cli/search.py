"""``ddi search``: search the model's architecture space, or run the whole search pipeline.

One search: ``ddi search --method local --budget 50 --seed 0 --table runs/search/table.jsonl`` spends 50
evaluations of the surrogate fitted on the table (``--objective proxy``: 50 real short trainings instead) and
prints the best architecture. The search's state is saved after every evaluation; the same command resumes it.
``--method rl`` uses the agent in ``--agent DIR``, or trains one on the surrogate first.

The pipeline: ``ddi search --pipeline`` scores random architectures with the proxy, fits the surrogate, trains
the agent, compares every method over several seeds and confirms the winners with the proxy (see
``docs/search.md``). ``--quick`` shrinks every stage to a run of a minute or two.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ddi.cli.main import add_data_dir_argument, positive_int

if TYPE_CHECKING:
    from ddi.search.budget import Objective

METHOD_NAMES = ("rl", "random", "walk", "local", "evolution")
DEFAULT_OUT = "runs/search"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("search", help="architecture search (one method, or the whole pipeline)", description=__doc__)
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--method", choices=METHOD_NAMES, help="search method (required without --pipeline)")
    p.add_argument("--budget", type=positive_int, help="distinct architectures to evaluate (default 100; quick 20)")
    p.add_argument("--seed", type=int, default=0, help="seed of the search (default 0)")
    p.add_argument(
        "--objective",
        choices=("surrogate", "proxy"),
        default="surrogate",
        help="surrogate: fitted on --table (instant); proxy: a real short training per architecture",
    )
    p.add_argument("--table", help="architecture table, JSON Lines (default: OUT/table.jsonl)")
    p.add_argument("--agent", help="directory of a trained agent (agent.json + agent.pt) for --method rl")
    p.add_argument("--out", default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    p.add_argument("--quick", action="store_true", help="tiny proxy, agent and pipeline: a smoke run")
    p.add_argument("--pipeline", action="store_true", help="run the whole pipeline: table, surrogate, agent, compare")
    p.add_argument("--architectures", type=positive_int, help="pipeline: architectures in the proxy table (200)")
    p.add_argument("--seeds", type=positive_int, help="pipeline: seeds per method (default 10; quick 2)")
    p.add_argument("--no-confirm", action="store_true", help="pipeline: skip the proxy check of the winners")
    p.add_argument(
        "--final-settings",
        nargs="+",
        choices=("s0", "s1", "s2"),
        help="pipeline: also train the best architecture and the default in full on these settings (hours)",
    )
    p.add_argument("--final-seeds", type=positive_int, help="pipeline: seeds per final setting (default 3)")
    p.add_argument("--final-epochs", type=positive_int, help="pipeline: epochs of the final trainings")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    add_data_dir_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.pipeline:
        return run_pipeline(args)
    if args.method is None:
        from ddi.errors import UserInputError

        raise UserInputError("choose a --method (rl, random, walk, local, evolution) or run --pipeline")
    return run_one(args)


def run_pipeline(args: argparse.Namespace) -> int:
    from ddi.search.pipeline import PipelineConfig
    from ddi.search.pipeline import run_pipeline as pipeline

    overrides: dict[str, Any] = {
        name: value
        for name, value in (
            ("architectures", args.architectures),
            ("budget", args.budget),
            ("seeds", args.seeds),
            ("table", args.table),
            ("agent_dir", args.agent),
            ("final_settings", tuple(args.final_settings) if args.final_settings else None),
            ("final_seeds", args.final_seeds),
            ("final_epochs", args.final_epochs),
        )
        if value is not None
    }
    overrides.update(seed=args.seed, confirm=not args.no_confirm, data_dir=args.data_dir)
    if args.method is not None:
        overrides["methods"] = (args.method,)
    out = Path(args.out)
    config = PipelineConfig.quick_config(out, **overrides) if args.quick else PipelineConfig(out=out, **overrides)
    report = pipeline(config, progress=not args.no_progress)
    lines = [
        f"surrogate holdout Spearman {report['surrogate']['holdout']['spearman']:.3f} ({report['table']['rows']} archs)"
    ]
    for method, summary in report["comparison"].items():
        final = summary["budgets"][str(config.budget)]
        line = f"{method:10s} best after {config.budget}: median {final['median']:.4f}, mean {final['mean']:.4f}"
        if "confirmed" in report:
            line += f", proxy of its best {report['confirmed'][method]['proxy']:.4f}"
        lines.append(line)
    final = report.get("final")
    if final:
        for role, summary in final["roles"].items():
            settings = summary["settings"].items()
            figures = ", ".join(f"{s} {v['macro_f1']['mean']:.4f} ({v['runs']} run(s))" for s, v in settings)
            lines.append(f"{role:10s} test macro-F1: {figures}  [{summary['key']}]")
        if "searched_beats_default" in final:
            verdict = "beats" if final["searched_beats_default"] else "does not beat"
            lines.append(f"the searched architecture {verdict} the default")
    print("\n".join(lines))
    print(f"report: {out / 'pipeline.json'}")
    return 0


def run_one(args: argparse.Namespace) -> int:
    from ddi.errors import UserInputError
    from ddi.search.pipeline import fit_surrogate, rows_digest, select_rows, surrogate_objective
    from ddi.search.proxy import ProxyConfig, ProxyEvaluator
    from ddi.search.rl_agent import AgentConfig, QAgent, train_agent
    from ddi.search.runner import run_search
    from ddi.search.space import SearchSpace

    out = Path(args.out)
    table_path = Path(args.table) if args.table else out / "table.jsonl"
    budget = args.budget or (20 if args.quick else 100)
    space = SearchSpace()
    proxy_config = ProxyConfig.quick(data_dir=args.data_dir) if args.quick else ProxyConfig(data_dir=args.data_dir)
    evaluator = ProxyEvaluator(space, proxy_config, table=str(table_path), progress=False)

    surrogate = None
    surrogate_id = ""
    needs_surrogate = args.objective == "surrogate" or (args.method == "rl" and args.agent is None)
    if needs_surrogate:
        if not table_path.is_file():
            raise UserInputError(
                f"no architecture table at {table_path}: the surrogate learns from one "
                "(run `ddi search --pipeline`, or pass --table)"
            )
        rows, _ = select_rows(evaluator.table, evaluator.config_hash)
        surrogate_id = rows_digest(rows, args.quick)
        fitted, holdout = fit_surrogate(space, rows, quick=args.quick)
        print(f"surrogate on {len(rows)} architectures, holdout Spearman {holdout['spearman']:.3f}")
        surrogate = surrogate_objective(space, fitted, fill=False)
    objective: Objective = evaluator
    objective_id = f"proxy:{evaluator.config_hash}"
    if args.objective == "surrogate":
        assert surrogate is not None  # needs_surrogate
        objective = surrogate
        objective_id = surrogate_id

    agent = None
    if args.method == "rl":
        if args.agent:
            agent = QAgent.load(args.agent, space)
            objective_id += f"+agent:{file_digest(Path(args.agent) / 'agent.pt')}"
        else:
            config = AgentConfig.quick() if args.quick else AgentConfig()
            assert surrogate is not None  # needs_surrogate
            surrogate.fill()  # the agent's training queries the surrogate tens of thousands of times
            agent = train_agent(space, lambda _: surrogate, config, seed=args.seed, progress=not args.no_progress)
            agent.save(out / "agent")
            objective_id += f"+agent trained on {surrogate_id}, seed {args.seed}, {'quick' if args.quick else 'full'}"
            print(f"agent trained in {agent.history['train_seconds']} s, saved to {out / 'agent'}")

    state = out / f"search-{args.method}-{args.objective}-seed{args.seed}-budget{budget}.json"
    result = run_search(
        args.method,
        space,
        objective,
        budget,
        args.seed,
        state_path=state,
        agent=agent,
        progress=not args.no_progress,
        objective_id=objective_id,
    )
    summary = {
        "method": args.method,
        "objective": args.objective,
        "budget": budget,
        "evaluations": result.evaluations,
        "best_score": round(result.best_score, 6),
        "found_at": result.best.index + 1,
        "best": space.values(result.best_arch),
        "state": str(state),
    }
    print(json.dumps(summary, default=lambda v: list(v) if isinstance(v, tuple) else str(v)))
    return 0


def file_digest(path: Path) -> str:
    """A short digest of a file's bytes (``""`` when it cannot be read)."""
    import hashlib

    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return ""
