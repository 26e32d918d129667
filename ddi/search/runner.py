"""Run one search method under a budget, with a state file that lets an interrupted search resume.

Resuming works by replay, not by pickling the method: every method is deterministic given its seed and the
scores it receives, so a resumed search simply runs again from the start with the same seed, and each
architecture already in the saved trajectory is answered from the state file (charged to the budget as
before, but never evaluated again). The run therefore retraces its steps for free and continues exactly
where it stopped. The state is rewritten (atomically) after every evaluation, so an interruption loses at
most the evaluation in progress; with the proxy objective that one is also in the proxy's own table.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ddi.atomic_files import replacing
from ddi.errors import UserInputError
from ddi.json_input import read_json
from ddi.search.budget import Architecture, BudgetedObjective, Evaluation, best_so_far_curve
from ddi.search.methods import METHODS, run_method

log = logging.getLogger(__name__)

STATE_FORMAT = 1


@dataclass
class SearchResult:
    """The outcome of one search: its trajectory, the best-so-far curve and the best architecture."""

    method: str
    seed: int
    budget: int
    trajectory: list[Evaluation]
    curve: np.ndarray = field(repr=False)

    @property
    def best(self) -> Evaluation:
        return max(self.trajectory, key=lambda e: (e.score, -e.index))

    @property
    def best_arch(self) -> Architecture:
        return self.best.arch

    @property
    def best_score(self) -> float:
        return self.best.score

    @property
    def best_key(self) -> str:
        return self.best.key

    @property
    def evaluations(self) -> int:
        return len(self.trajectory)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "seed": self.seed,
            "budget": self.budget,
            "evaluations": self.evaluations,
            "best": self.best.to_dict(),
            "curve": [None if np.isnan(v) else float(v) for v in self.curve],
            "trajectory": [e.to_dict() for e in self.trajectory],
        }


def _write_state(path: Path, state: dict[str, Any]) -> None:
    with replacing(path) as tmp:  # an interrupted write keeps the previous state, which resume reads
        tmp.write_text(json.dumps(state) + "\n")


def load_state(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    state = read_json(path)
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise UserInputError(f"{path} is not a search state file")
    return state


def run_search(
    method: str,
    space,
    objective: Callable[[Architecture], float],
    budget: int,
    seed: int,
    state_path: str | Path | None = None,
    agent: Any | None = None,
    progress: bool = False,
    objective_id: str | None = None,
) -> SearchResult:
    """Spend ``budget`` distinct evaluations of ``objective`` with ``method`` (a ``METHODS`` name).

    Parameters
    ----------
    method: "random", "walk", "local", "evolution" or "rl" (then ``agent`` is the trained ``QAgent``).
    space: the ``SearchSpace``.
    objective: architecture -> score, higher is better (the surrogate, the proxy, ...).
    budget: distinct architectures to evaluate.
    seed: seeds the method's random generator: same seed, same objective -> same search.
    state_path: JSON file saved after every evaluation; if it exists the search resumes from it (it must be
        of the same method, seed, budget and ``objective_id``).
    objective_id: what ``objective`` is (e.g. a digest of the surrogate's table, or the proxy's configuration
        hash), saved in the state: a state scored by another objective is refused rather than replayed, since
        its saved scores would be passed off as this objective's.
    """
    if method not in METHODS:
        raise UserInputError(f"unknown search method {method!r}; choose from {', '.join(METHODS)}")
    if budget < 1:
        raise UserInputError("--budget must be >= 1")
    header = {"format": STATE_FORMAT, "method": method, "seed": int(seed), "budget": int(budget)}
    header["choices"] = [c.name for c in space.choices]
    if objective_id is not None:
        header["objective_id"] = objective_id
    replay: list[Evaluation] = []
    path = Path(state_path) if state_path is not None else None
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    if path is not None and path.is_file():
        state = load_state(path)
        different = [k for k in ("method", "seed", "budget", "choices") if state.get(k) != header[k]]
        if objective_id is not None and state.get("objective_id", objective_id) != objective_id:
            different.append("objective: another table, agent or proxy configuration")
        elif objective_id is not None and "objective_id" not in state:
            log.warning("%s does not say which objective scored it (an older state file): resuming it as is", path)
        if different:
            raise UserInputError(
                f"{path} is the state of another search (different {', '.join(different)}); "
                "use a new --out or the same settings"
            )
        replay = [Evaluation.from_dict(e) for e in state["trajectory"]]
        log.info("resuming %s from %s: %d of %d evaluations done", method, path, len(replay), budget)
        if state.get("done"):
            trajectory = replay
            return SearchResult(method, seed, budget, trajectory, best_so_far_curve(trajectory, budget))

    bar = tqdm(total=budget, desc=f"{method} seed {seed}", unit="eval", disable=not progress, leave=False)

    def on_evaluate(evaluation: Evaluation) -> None:
        bar.update(1)
        if path is not None:
            _write_state(path, {**header, "done": False, "trajectory": [e.to_dict() for e in budgeted.trajectory]})

    budgeted = BudgetedObjective(objective, budget, key=space.key, replay=replay, on_evaluate=on_evaluate)
    kwargs = {"agent": agent} if method == "rl" else {}
    try:
        run_method(method, space, budgeted, np.random.default_rng(seed), **kwargs)
    finally:
        bar.close()
    if budgeted.replayed < len(replay):
        log.warning("the resumed search did not revisit %d saved evaluation(s)", len(replay) - budgeted.replayed)
    trajectory = budgeted.trajectory
    if path is not None:
        _write_state(path, {**header, "done": True, "trajectory": [e.to_dict() for e in trajectory]})
    if not trajectory:
        raise UserInputError("the search evaluated nothing")
    return SearchResult(method, seed, budget, trajectory, best_so_far_curve(trajectory, budget))
