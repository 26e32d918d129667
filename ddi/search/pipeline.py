"""The whole architecture search, end to end (``ddi search --pipeline``).

1. **Table**: ``architectures`` distinct random architectures are scored by the real proxy (short trainings),
   each appended to the ``ArchitectureTable`` as it finishes; a rerun skips those already there.
2. **Surrogate**: a ``Surrogate`` is fitted on the table; its rank correlation on a held-out fifth says how
   far it can be trusted. It is then evaluated once over the whole space (``LookupObjective``), which makes
   every later surrogate query a dictionary lookup.
3. **Agent**: the RL agent is trained on the surrogate.
4. **Comparison**: every method runs ``seeds`` times with ``budget`` surrogate evaluations each (resumable
   state files under ``out/runs``); best score vs evaluations is summarised per method.
5. **Confirmation**: the best architecture each method found is scored by the real proxy, so the surrogate's
   favourites are checked against the quantity it imitates.
6. **Final training** (only with ``final_settings``): the best confirmed architecture and the hand-designed
   default are trained in full on each setting and seed and compared on test (``ddi.search.final``).

Everything is written under ``out``: ``pipeline.json`` (the report), ``surrogate.json``, ``agent/``,
``runs/`` and ``final.jsonl``.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ddi.errors import UserInputError
from ddi.search.budget import Architecture
from ddi.search.methods import METHODS
from ddi.search.rl_agent import AgentConfig, QAgent, train_agent
from ddi.search.runner import SearchResult, run_search

log = logging.getLogger(__name__)

#: Budgets at which the comparison reports best scores (those up to the run's budget).
CHECKPOINTS = (10, 25, 50, 100, 200)


class LookupObjective:
    """A deterministic predictor (the surrogate) as a memoised objective, optionally filled for the whole space.

    A surrogate's prediction for one architecture costs milliseconds (an ensemble of boosted trees), which the
    agent's training and thousands of search runs would pay tens of thousands of times; ``fill`` predicts the
    whole space in one batch (seconds) so that every later call is a dictionary lookup. Values are the same
    either way.
    """

    def __init__(self, space, predict: Callable[[list[Architecture]], np.ndarray]) -> None:
        self.space = space
        self.predict = predict
        self.scores: dict[Architecture, float] = {}
        self.calls = 0
        self.filled = False

    def fill(self) -> LookupObjective:
        if not self.filled:
            archs = [tuple(a) for a in self.space.all_architectures() if tuple(a) not in self.scores]
            if archs:
                self.scores.update(zip(archs, map(float, self.predict(archs)), strict=True))
            self.filled = True
        return self

    def __call__(self, arch: Architecture) -> float:
        self.calls += 1
        arch = tuple(int(i) for i in arch)
        score = self.scores.get(arch)
        if score is None:
            if not self.space.is_valid(arch):
                raise ValueError(f"architecture {list(arch)} is not a valid point of the space")
            score = self.scores[arch] = float(self.predict([arch])[0])
        return score

    def optimum(self) -> tuple[Architecture, float]:
        """The best architecture of the space under this objective (fills the table first)."""
        self.fill()
        arch = max(self.scores, key=self.scores.__getitem__)
        return arch, self.scores[arch]


def select_rows(table, config_hash: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """Rows of one proxy configuration: ``config_hash`` if it has rows, else the most frequent one."""
    rows = list(table)
    if not rows:
        raise UserInputError(f"the architecture table {getattr(table, 'path', '')} is empty or missing")
    if config_hash is not None and table.rows(config_hash):
        return table.rows(config_hash), config_hash
    counts = Counter(row.get("config_hash") for row in rows)
    chosen = counts.most_common(1)[0][0]
    if config_hash is not None:
        log.warning("no rows of proxy configuration %s; using the %d rows of %s", config_hash, counts[chosen], chosen)
    return table.rows(chosen), chosen


def rows_digest(rows: Sequence[dict[str, Any]], quick: bool = False) -> str:
    """What a surrogate fitted on ``rows`` is (their keys and scores, and ``quick``), as a short hex digest: a
    search state records it so that a search is never resumed on another table's scores."""
    import hashlib

    pairs = sorted((str(row["key"]), float(row["score"])) for row in rows)
    text = json.dumps({"rows": pairs, "quick": bool(quick)})
    return "surrogate:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def fit_surrogate(space, rows: Sequence[dict[str, Any]], seed: int = 0, quick: bool = False, holdout: float = 0.2):
    """Fit the surrogate on all rows and measure its held-out rank correlation on a seeded split."""
    from ddi.search.surrogate import Surrogate

    params = {"members": 2, "n_estimators": 100} if quick else {}
    surrogate = Surrogate(space, seed=seed, **params)
    try:
        report = surrogate.evaluate_holdout(rows, fraction=holdout, seed=seed)
        surrogate.fit(rows)
    except ValueError as exc:
        raise UserInputError(f"cannot fit the surrogate: {exc}") from exc
    return surrogate, report


def surrogate_objective(space, surrogate, fill: bool = True) -> LookupObjective:
    """The surrogate's predictions as an objective; ``fill`` predicts the whole space up front."""
    objective = LookupObjective(space, surrogate.predict)
    return objective.fill() if fill else objective


def sample_distinct(space, n: int, seed: int) -> list[Architecture]:
    """``n`` distinct random architectures, the same ones for the same seed."""
    rng = np.random.default_rng(seed)
    out: dict[Architecture, None] = {}
    for _ in range(100 * n + 1000):
        if len(out) >= n:
            break
        out[tuple(space.sample(rng))] = None
    return list(out)


def build_table(evaluator, space, n: int, seed: int, progress: bool = False) -> list[dict[str, Any]]:
    """Score ``n`` seeded random architectures with the proxy (those already in its table are free)."""
    archs = sample_distinct(space, n, seed)
    todo = [a for a in archs if evaluator.cached(a) is None]
    log.info(
        "table: %d architectures, %d already evaluated, %d to train", len(archs), len(archs) - len(todo), len(todo)
    )
    for arch in tqdm(todo, desc="proxy table", unit="arch", disable=not progress):
        evaluator.evaluate(arch)
    return [evaluator.cached(a) for a in archs]


def compare_methods(
    space,
    objective: Callable[[Architecture], float],
    methods: Sequence[str],
    seeds: Sequence[int],
    budget: int,
    agent: QAgent | None = None,
    state_dir: Path | None = None,
    progress: bool = False,
    objective_id: str | None = None,
) -> dict[str, list[SearchResult]]:
    """Every method with every seed at ``budget`` evaluations of ``objective`` (``objective_id``: what it is, so
    that saved states of another objective are refused; see ``run_search``)."""
    results: dict[str, list[SearchResult]] = {m: [] for m in methods}
    runs = [(m, s) for m in methods for s in seeds]
    for method, seed in tqdm(runs, desc="searches", unit="run", disable=not progress):
        state = state_dir / f"{method}-seed{seed}.json" if state_dir is not None else None
        result = run_search(
            method, space, objective, budget, seed, state_path=state, agent=agent, objective_id=objective_id
        )
        results[method].append(result)
    return results


def summarise(results: dict[str, list[SearchResult]], budget: int) -> dict[str, Any]:
    """Per method and checkpoint budget: mean, std and median of the best score over seeds."""
    checkpoints = [b for b in CHECKPOINTS if b <= budget] or [budget]
    if budget not in checkpoints:
        checkpoints.append(budget)
    out: dict[str, Any] = {}
    for method, runs in results.items():
        curves = np.stack([r.curve for r in runs])
        out[method] = {
            "seeds": len(runs),
            "budgets": {
                str(b): {
                    "mean": float(np.nanmean(curves[:, b - 1])),
                    "std": float(np.nanstd(curves[:, b - 1])),
                    "median": float(np.nanmedian(curves[:, b - 1])),
                }
                for b in checkpoints
            },
            "best": max((r.best.to_dict() for r in runs), key=lambda e: e["score"]),
        }
    return out


@dataclass
class PipelineConfig:
    """Settings of ``run_pipeline`` (``quick()`` gives a run of a minute or two for tests).

    Attributes
    ----------
    out: output directory.
    table: the proxy's architecture table (default ``out/table.jsonl``).
    architectures: random architectures scored by the proxy for the surrogate.
    budget, seeds: evaluations per search and seeds per method in the comparison.
    methods: the methods compared.
    confirm: whether to score each method's best architecture with the real proxy.
    final_settings, final_seeds, final_epochs: stage 6, the full trainings (none by default: hours on a CPU);
        ``final_epochs`` overrides the training recipe's epochs.
    seed: seeds sampling, the surrogate's holdout split and the agent.
    agent_dir: a trained agent to use instead of training one.
    """

    out: Path
    table: Path | None = None
    architectures: int = 200
    budget: int = 100
    seeds: int = 10
    methods: tuple[str, ...] = tuple(METHODS)
    confirm: bool = True
    final_settings: tuple[str, ...] = ()
    final_seeds: int = 3
    final_epochs: int | None = None
    seed: int = 0
    quick: bool = False
    agent_dir: Path | None = None
    proxy: Any = None
    agent: AgentConfig = field(default_factory=AgentConfig)
    data_dir: str | None = None

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        self.table = Path(self.table) if self.table is not None else self.out / "table.jsonl"
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown:
            raise UserInputError(f"unknown search method(s) {unknown}; choose from {', '.join(METHODS)}")
        if self.architectures < 5:
            raise UserInputError("--architectures must be >= 5 (the surrogate needs a table to learn from)")
        if self.budget < 1 or self.seeds < 1:
            raise UserInputError("--budget and --seeds must be >= 1")
        self.final_settings = tuple(self.final_settings)
        unknown_settings = [s for s in self.final_settings if s not in ("s0", "s1", "s2")]
        if unknown_settings:
            raise UserInputError(f"unknown setting(s) {unknown_settings} for the final training; use s0, s1, s2")
        if self.final_seeds < 1 or (self.final_epochs is not None and self.final_epochs < 1):
            raise UserInputError("--final-seeds and --final-epochs must be >= 1")

    @classmethod
    def quick_config(cls, out: Path, **overrides: Any) -> PipelineConfig:
        values: dict[str, Any] = dict(
            architectures=12, budget=20, seeds=2, quick=True, agent=AgentConfig.quick(total_steps=600, warmup=200)
        )
        values.update(overrides)
        return cls(out=out, **values)


def run_pipeline(config: PipelineConfig, space=None, tables=None, progress: bool = True) -> dict[str, Any]:
    """Run the five stages (module docstring) and write ``out/pipeline.json``; return its content."""
    from ddi.search.proxy import ProxyConfig, ProxyEvaluator
    from ddi.search.space import SearchSpace

    space = space if space is not None else SearchSpace()
    proxy_config = config.proxy
    if proxy_config is None:
        proxy_config = (
            ProxyConfig.quick(data_dir=config.data_dir) if config.quick else ProxyConfig(data_dir=config.data_dir)
        )
    config.out.mkdir(parents=True, exist_ok=True)
    evaluator = ProxyEvaluator(space, proxy_config, table=str(config.table), tables=tables, progress=False)
    report: dict[str, Any] = {"space": repr(space), "config_hash": evaluator.config_hash}
    timings: dict[str, float] = {}

    def stage(name: str, started: float) -> None:
        timings[name] = round(time.perf_counter() - started, 1)
        log.info("stage %s done in %.1f s", name, timings[name])

    started = time.perf_counter()
    log.info("stage 1/5: proxy table of %d architectures (%s)", config.architectures, config.table)
    build_table(evaluator, space, config.architectures, config.seed, progress)
    rows, _ = select_rows(evaluator.table, evaluator.config_hash)
    report["table"] = {
        "path": str(config.table),
        "rows": len(rows),
        "best": max(({"key": r["key"], "score": r["score"]} for r in rows), key=lambda r: r["score"]),
    }
    stage("table", started)

    started = time.perf_counter()
    log.info("stage 2/5: surrogate on %d architectures", len(rows))
    surrogate, holdout = fit_surrogate(space, rows, seed=config.seed, quick=config.quick)
    surrogate.save(config.out / "surrogate.json")
    # quick runs make a few thousand queries: cheaper one by one than predicting the whole space
    objective = surrogate_objective(space, surrogate, fill=not config.quick)
    report["surrogate"] = {"holdout": holdout}
    if objective.filled:
        optimum_arch, optimum_score = objective.optimum()
        report["space_size"] = len(objective.scores)
        report["surrogate"]["optimum"] = {"key": space.key(optimum_arch), "score": optimum_score}
    log.info("surrogate holdout: Spearman %.3f, Kendall %.3f", holdout["spearman"], holdout["kendall"])
    stage("surrogate", started)

    agent = None
    if "rl" in config.methods:
        started = time.perf_counter()
        if config.agent_dir is not None:
            log.info("stage 3/5: agent from %s", config.agent_dir)
            agent = QAgent.load(config.agent_dir, space)
        else:
            log.info("stage 3/5: training the agent on the surrogate (%d steps)", config.agent.total_steps)
            agent = train_agent(space, lambda _: objective, config.agent, seed=config.seed, progress=progress)
            agent.save(config.out / "agent")
        report["agent"] = {"config": agent.config.to_dict(), "history": agent.history}
        stage("agent", started)

    started = time.perf_counter()
    seeds = list(range(config.seeds))
    log.info("stage 4/5: %d methods x %d seeds x %d evaluations", len(config.methods), len(seeds), config.budget)
    results = compare_methods(
        space,
        objective,
        config.methods,
        seeds,
        config.budget,
        agent,
        config.out / "runs",
        progress,
        objective_id=rows_digest(rows, config.quick),
    )
    report["comparison"] = summarise(results, config.budget)
    stage("comparison", started)

    if config.confirm:
        started = time.perf_counter()
        log.info("stage 5/5: confirming each method's best architecture with the proxy")
        confirmed = {}
        for method, summary in tqdm(report["comparison"].items(), desc="confirm", unit="arch", disable=not progress):
            arch = tuple(summary["best"]["arch"])
            confirmed[method] = {
                "key": space.key(arch),
                "surrogate": summary["best"]["score"],
                "proxy": float(evaluator(arch)),
            }
        report["confirmed"] = confirmed
        stage("confirm", started)

    if config.final_settings:
        started = time.perf_counter()
        report["final"] = _final_stage(space, config, report, tables, progress)
        stage("final", started)
    report["seconds"] = timings
    (config.out / "pipeline.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def _final_stage(space, config: PipelineConfig, report: dict[str, Any], tables, progress: bool) -> dict[str, Any]:
    """Stage 6: the best architecture found (by the real proxy if confirmed, else by the surrogate) against the
    hand-designed default, each fully trained on every final setting and seed."""
    from ddi.models.config import RunConfig
    from ddi.search.final import final_runs, summarise_final

    if "confirmed" in report:
        best = max(report["confirmed"].values(), key=lambda c: c["proxy"])
        searched = space.from_key(best["key"])
    else:
        searched = tuple(max(report["comparison"].values(), key=lambda m: m["best"]["score"])["best"]["arch"])
    candidates = {"searched": searched, "default": space.from_model_config(space.base)}
    base = RunConfig(data_dir=config.data_dir)
    if config.quick:  # a tiny recipe, so that tests exercise the stage in seconds
        base.train.epochs, base.train.max_train_pairs = 1, 1_000
    if config.final_epochs is not None:
        base.train.epochs = config.final_epochs
    seeds = list(range(config.final_seeds))
    log.info(
        "stage 6: final training of %s and the default on %s x %d seed(s)",
        space.key(searched),
        "/".join(config.final_settings),
        len(seeds),
    )
    rows = final_runs(
        space, candidates, config.final_settings, seeds, config.out / "final.jsonl", base, tables, progress
    )
    return summarise_final(space, candidates, rows, config.final_settings)
