"""``Surrogate``: predict an architecture's proxy score from its choices, without training it.

As in NAS-Bench-301, a regression model is fitted on the evaluated architectures of an ``ArchitectureTable``
and then stands in for the proxy, so search methods can be compared over thousands of runs at no training
cost. The regressor is an ensemble of gradient-boosted trees (scikit-learn) on ``SearchSpace.features``;
members differ only in their seed (row subsampling), and their spread is a rough uncertainty.

A saved surrogate is plain JSON: the space, the hyper-parameters and the training rows. Loading refits the
ensemble deterministically (a second or two), so no pickle is ever read.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
from scipy import stats
from sklearn.ensemble import GradientBoostingRegressor

from ddi.errors import UserInputError
from ddi.json_input import read_json
from ddi.models.config import ModelConfig
from ddi.search.space import Architecture, Choice, SearchSpace
from ddi.search.table import ArchitectureTable

log = logging.getLogger(__name__)

FORMAT = "ddi-surrogate/1"


class SurrogateParams(TypedDict):
    """``Surrogate``'s constructor settings (all but the space), as saved."""

    members: int
    n_estimators: int
    max_depth: int
    learning_rate: float
    subsample: float
    seed: int


class Surrogate:
    """Ensemble of gradient-boosted regressors: architecture features -> score.

    Parameters
    ----------
    space: the space the architectures come from.
    members: ensemble size (the spread of their predictions is ``predict_spread``).
    n_estimators, max_depth, learning_rate, subsample: each member's ``GradientBoostingRegressor`` settings.
    seed: seed of member ``k`` is ``seed + k``.
    """

    def __init__(
        self,
        space: SearchSpace,
        members: int = 5,
        n_estimators: int = 200,
        max_depth: int = 3,
        learning_rate: float = 0.05,
        subsample: float = 0.8,
        seed: int = 0,
    ) -> None:
        if members < 1:
            raise ValueError("a surrogate needs at least one member")
        self.space = space
        self.params: SurrogateParams = {
            "members": members,
            "n_estimators": n_estimators,
            "max_depth": max_depth,
            "learning_rate": learning_rate,
            "subsample": subsample,
            "seed": seed,
        }
        self.rows: list[dict[str, Any]] = []
        self._models: list[GradientBoostingRegressor] = []

    # -- fitting ------------------------------------------------------------------------------------------

    def fit(self, rows: Iterable[dict[str, Any]] | ArchitectureTable) -> Surrogate:
        """Fit on rows with ``arch`` (option indices) and ``score``; a row's ``key``, when present, must be
        the key of its ``arch`` in this space (a guard against a table from another space).

        Pass ``table.rows(config_hash)`` to fit on one proxy configuration; a whole table is accepted only if
        all its rows share one.
        """
        if isinstance(rows, ArchitectureTable):
            hashes = {row.get("config_hash") for row in rows}
            if len(hashes) > 1:
                raise ValueError(f"the table mixes {len(hashes)} proxy configurations: pass table.rows(hash)")
            rows = rows.rows()
        clean = [self._clean(row) for row in rows]
        if len(clean) < 2:
            raise ValueError(f"a surrogate needs at least 2 evaluated architectures, got {len(clean)}")
        x = self._features([tuple(row["arch"]) for row in clean])
        y = np.array([row["score"] for row in clean], dtype=np.float64)
        p = self.params
        self._models = [
            GradientBoostingRegressor(
                n_estimators=p["n_estimators"],
                max_depth=p["max_depth"],
                learning_rate=p["learning_rate"],
                subsample=p["subsample"],
                random_state=p["seed"] + k,
            ).fit(x, y)
            for k in range(p["members"])
        ]
        self.rows = clean
        log.info("surrogate fitted on %d architectures (%d members)", len(clean), p["members"])
        return self

    def _clean(self, row: dict[str, Any]) -> dict[str, Any]:
        arch = tuple(int(i) for i in row["arch"])
        key = self.space.key(arch)
        if "key" in row and row["key"] != key:
            raise ValueError(f"row key {row['key']!r} does not match its arch {list(arch)} in this space ({key!r})")
        return {"key": key, "arch": list(arch), "score": float(row["score"])}

    def _features(self, archs: Sequence[Architecture]) -> np.ndarray:
        return np.stack([self.space.features(a) for a in archs]).astype(np.float64)

    # -- prediction ---------------------------------------------------------------------------------------

    def _member_predictions(self, archs: Sequence[Architecture]) -> np.ndarray:
        if not self._models:
            raise RuntimeError("the surrogate is not fitted")
        x = self._features([tuple(int(i) for i in a) for a in archs])
        return np.stack([m.predict(x) for m in self._models])  # members x A

    def predict(self, archs: Sequence[Architecture]) -> np.ndarray:
        """Predicted scores ``A`` (mean over the ensemble)."""
        return self._member_predictions(archs).mean(axis=0)

    def predict_spread(self, archs: Sequence[Architecture]) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation ``A`` over the ensemble members."""
        preds = self._member_predictions(archs)
        return preds.mean(axis=0), preds.std(axis=0)

    def evaluate_holdout(
        self, rows: Iterable[dict[str, Any]], fraction: float = 0.2, seed: int = 0
    ) -> dict[str, float | int]:
        """Fit a fresh surrogate (same settings) on a seeded ``1 - fraction`` of ``rows`` and rank the rest.

        Returns Spearman and Kendall rank correlations between predicted and true scores on the held-out
        rows (what matters for search: the order, not the values), their mean absolute error, and the sizes.
        """
        rows = list(rows)
        if not 0 < fraction < 1:
            raise ValueError("fraction must be in (0, 1)")
        order = np.random.default_rng(seed).permutation(len(rows))
        n_test = max(2, round(len(rows) * fraction))
        if len(rows) - n_test < 2:
            raise ValueError(f"too few rows ({len(rows)}) for a holdout of {fraction:.0%}")
        test = [rows[i] for i in order[:n_test]]
        train = [rows[i] for i in order[n_test:]]
        fresh = Surrogate(self.space, **self.params).fit(train)
        truth = np.array([float(r["score"]) for r in test])
        pred = fresh.predict([tuple(r["arch"]) for r in test])
        return {
            "spearman": float(stats.spearmanr(pred, truth).statistic),
            "kendall": float(stats.kendalltau(pred, truth).statistic),
            "mae": float(np.abs(pred - truth).mean()),
            "n_train": len(train),
            "n_test": len(test),
        }

    # -- persistence --------------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the space, settings and training rows as JSON (no pickle; ``load`` refits)."""
        if not self._models:
            raise RuntimeError("the surrogate is not fitted")
        payload = {
            "format": FORMAT,
            "space": {
                "choices": [{"name": c.name, "options": list(c.options)} for c in self.space.choices],
                "base": asdict(self.space.base),
            },
            "params": self.params,
            "rows": self.rows,
        }
        Path(path).write_text(json.dumps(payload, indent=1) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Surrogate:
        """Rebuild a saved surrogate: the same space, settings and rows, refitted (same predictions)."""
        payload = read_json(Path(path))
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise UserInputError(f"{path} is not a {FORMAT} file")
        choices = [Choice(c["name"], tuple(_from_json(o) for o in c["options"])) for c in payload["space"]["choices"]]
        space = SearchSpace(choices, base=ModelConfig(**payload["space"]["base"]))
        return cls(space, **payload["params"]).fit(payload["rows"])


def _from_json(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


class SurrogateObjective:
    """``arch -> predicted score``: the surrogate in the place of ``ProxyEvaluator`` for search methods.

    Attributes
    ----------
    calls: how many architectures were scored (a search method's budget counter).
    """

    def __init__(self, surrogate: Surrogate, space: SearchSpace | None = None) -> None:
        self.surrogate = surrogate
        self.space = space if space is not None else surrogate.space
        if self.space.names != surrogate.space.names:
            raise ValueError("the objective's space does not have the surrogate's choices")
        self.calls = 0

    def __call__(self, arch: Architecture) -> float:
        if not self.space.is_valid(arch):
            raise ValueError(f"invalid architecture {list(arch)}")
        self.calls += 1
        return float(self.surrogate.predict([arch])[0])
