"""``ProxyEvaluator``: score one architecture by a short, seeded training on a fixed subset of the drugs.

A full training takes tens of minutes on a laptop CPU; a search needs hundreds of evaluations. Every training
step encodes the whole graph (every drug's molecule, the context layers over every edge), so sampling fewer
training *pairs* does not make a step cheaper: on all 1,710 drugs a step costs about 0.8 s whatever the batch,
and the 30-odd steps that fit in half a minute leave every architecture at the same near-zero macro-F1.

The proxy therefore shrinks the data instead: a **fixed drug subset** (``ProxyConfig.num_drugs``, drawn once by
``proxy_drugs``, uniformly among the drugs that have a structure and interactions) and the tables cut to it
(``Tables.restricted_to_drugs``: its drugs, the pairs among them, their protein relations). S0 is the given
pair split cut to the subset's pairs; S1 is the drug-disjoint split drawn within the subset (split seed
``split_seed``). The graph, the molecules and the rule table then cover only the subset, a step costs a fifth
as much, and each architecture trains for several epochs over all the subset's training pairs. The **score is
the mean of the settings' validation macro-F1** (each at the trainer's best epoch by macro-F1): one number
that rewards architectures that do well both on known drugs (S0) and on new ones (S1), the two things the
model is for. See docs/search.md for its measured cost, scores and noise.

What is shared: the benchmark tables are read and cut once; each setting's ``TrainingContext`` (split,
knowledge graph, molecule graphs, labels, rule table) is built once (about 1.5 s for S0, which reads the
given split, and 0.3 s for S1 on 400 drugs); the only part that depends on the architecture, the
``ModelGraph`` (relation groups, similarity edges when ``path_length`` is 3), is built per (setting, relation
groups, similarity) and the last ``max_graphs`` are kept.

Results are cached in an ``ArchitectureTable`` under the hash of the proxy configuration and of the base
``ModelConfig``, so an evaluated architecture is never trained twice and a search resumes from its table.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ddi.data.benchmark import load_benchmark
from ddi.data.splits import Split, load_split
from ddi.data.tables import OTHER_TYPE, DropReport, Tables
from ddi.models.config import ModelConfig, RunConfig, TrainConfig
from ddi.models.graph_tensors import ModelGraph
from ddi.search.space import Architecture, SearchSpace
from ddi.search.table import ArchitectureTable
from ddi.train.context import TrainingContext
from ddi.train.trainer import train

log = logging.getLogger(__name__)

#: Validation figures a proxy score may average.
PROXY_METRICS = ("macro_f1", "kappa", "accuracy")


@dataclass(frozen=True)
class ProxyConfig:
    """Budget and data of one proxy evaluation (every field enters ``digest``, so changing one starts a new
    cache).

    Attributes
    ----------
    num_drugs: size of the fixed drug subset the proxy trains and validates on (None = every drug, the whole
        graph). Drawn once by ``proxy_drugs``: uniformly at random, seeded by ``drug_seed``, among the drugs
        that have a structure and at least one interaction.
    drug_seed: seed of the drug subset (kept apart from ``seed`` so the training seed alone can be varied).
    train_pairs: training pairs per setting (a seeded sample, ``TrainConfig.max_train_pairs``; None = all
        the setting's training pairs within the subset).
    valid_pairs: validation pairs per setting (a seeded sample; None = all within the subset).
    epochs, batch_size, lr: optimisation (early stopping is off: ``patience`` = ``epochs``). The learning rate
        is above ``TrainConfig``'s 3e-3: with about a hundred steps per setting a higher peak learns more.
    settings: the splits scored; the score is the mean of their validation ``metric``.
    metric: the validation figure the score averages: macro_f1 (default), kappa or accuracy.
    seed: training seed (pair samples, initialisation, batches).
    split_seed: seed of the drug-disjoint splits (S1/S2) cut within the subset.
    data_dir: the benchmark directory (None = the default resolution of ``ddi``).
    """

    num_drugs: int | None = 400
    drug_seed: int = 0
    train_pairs: int | None = None
    valid_pairs: int | None = None
    epochs: int = 8
    batch_size: int = 512
    lr: float = 1e-2
    settings: tuple[str, ...] = ("s0", "s1")
    metric: str = "macro_f1"
    seed: int = 0
    split_seed: int = 0
    data_dir: str | None = None

    def __post_init__(self) -> None:
        if self.metric not in PROXY_METRICS:
            raise ValueError(f"metric must be one of {PROXY_METRICS}")
        if not self.settings:
            raise ValueError("a proxy needs at least one setting")
        if self.num_drugs is not None and self.num_drugs < 10:
            raise ValueError("num_drugs must be at least 10 (or None for every drug)")
        object.__setattr__(self, "settings", tuple(self.settings))

    @classmethod
    def quick(cls, **overrides: Any) -> ProxyConfig:
        """A few seconds per architecture: for tests and smoke runs, not for ranking architectures."""
        values: dict[str, Any] = {
            "num_drugs": 150,
            "train_pairs": 256,
            "valid_pairs": 256,
            "epochs": 1,
            "batch_size": 256,
        }
        values.update(overrides)
        return cls(**values)

    def train_config(self) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            patience=self.epochs,
            seed=self.seed,
            max_train_pairs=self.train_pairs,
        )


def proxy_drugs(tables: Tables, num_drugs: int | None, seed: int = 0) -> list[str]:
    """The proxy's drug subset: ``num_drugs`` drawn uniformly at random (seeded) among the drugs that have a
    SMILES or InChI and at least one usable interaction, in ``tables.drugs`` order; every such drug when
    ``num_drugs`` is None or not smaller than their number.

    Uniform, not by degree or by type: the subset is a smaller copy of the dataset, with the same mix of hub
    and rare drugs (a pair survives with probability about ``(num_drugs / D)^2`` whatever its type, so the
    type mix of the pairs is kept too, up to sampling noise on the rare types).
    """
    drugs = tables.drugs
    pairs = tables.interactions[tables.interactions["type"] != OTHER_TYPE]
    interacting = set(pairs["drug1_id"]) | set(pairs["drug2_id"])
    has_structure = (drugs["smiles"] != "") | (drugs["inchi"] != "")
    eligible = drugs["drugbank_id"][has_structure & drugs["drugbank_id"].isin(interacting)]
    if num_drugs is None or num_drugs >= len(eligible):
        return eligible.tolist()
    pool = np.sort(eligible.to_numpy())
    chosen = set(pool[np.random.default_rng(seed).choice(len(pool), size=num_drugs, replace=False)])
    return [d for d in drugs["drugbank_id"] if d in chosen]


def config_hash(proxy: ProxyConfig, base: ModelConfig) -> str:
    """12 hex digits identifying the proxy budget and the base model config the choices are applied to."""
    payload = json.dumps({"proxy": asdict(proxy), "base": asdict(base)}, sort_keys=True, default=list)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


class ProxyEvaluator:
    """Callable ``arch -> score`` for search methods, backed by a results table.

    Parameters
    ----------
    space: the search space the architectures come from.
    config: the proxy budget (default ``ProxyConfig()``).
    table: the results table, or the path of its JSON Lines file (None = an in-memory table).
    tables: benchmark tables already loaded (None = read ``config.data_dir`` on first use).
    progress: show the trainer's progress bars.
    max_graphs: model graphs kept in memory (rebuilt when needed again: a fraction of a second).

    Attributes
    ----------
    trainings: architectures actually trained by this evaluator (cache hits do not count).
    """

    def __init__(
        self,
        space: SearchSpace,
        config: ProxyConfig | None = None,
        table: ArchitectureTable | str | os.PathLike[str] | None = None,
        tables: Tables | None = None,
        progress: bool = False,
        max_graphs: int = 8,
    ) -> None:
        self.space = space
        self.config = config if config is not None else ProxyConfig()
        self.table = table if isinstance(table, ArchitectureTable) else ArchitectureTable(table)
        self.config_hash = config_hash(self.config, space.base)
        self.progress = progress
        self.trainings = 0
        self._tables = tables
        self._subset: Tables | None = None
        #: rows removed to cut the tables to the drug subset (empty until the data is first needed)
        self.subset_report = DropReport()
        self._contexts: dict[str, TrainingContext] = {}
        self._graphs: OrderedDict[tuple[str, tuple[str, ...], bool], ModelGraph] = OrderedDict()
        self.max_graphs = max(1, max_graphs)

    def __call__(self, arch: Architecture) -> float:
        """The architecture's score (mean validation ``config.metric`` over the settings), from the table if
        known."""
        return float(self.evaluate(arch)["score"])

    def cached(self, arch: Architecture) -> dict[str, Any] | None:
        """The table row of ``arch`` under this proxy configuration, or None."""
        return self.table.get(self.space.key(arch), self.config_hash)

    def evaluate(self, arch: Architecture) -> dict[str, Any]:
        """The full table row of ``arch``: trained and appended to the table unless already there."""
        arch = tuple(int(i) for i in arch)
        row = self.cached(arch)
        if row is not None:
            return row
        model = self.space.to_model_config(arch)  # raises ConfigError for an invalid architecture
        key = self.space.key(arch)
        valid: dict[str, dict[str, float]] = {}
        params = 0
        for setting in self.config.settings:
            ctx = self._context(setting, model)  # shared data: built once, not charged to the architecture
            setting_start, cpu_start = time.time(), time.process_time()
            result = train(ctx, self._run(setting, model), progress=self.progress)
            best = result.history[result.best_epoch - 1] if result.best_epoch else result.history[-1]
            params = sum(p.numel() for p in result.model.parameters())
            valid[setting] = {
                "macro_f1": float(best.get("valid_macro_f1", 0.0)),
                "accuracy": float(best.get("valid_accuracy", 0.0)),
                "kappa": float(best.get("valid_kappa", 0.0)),
                "best_epoch": int(best["epoch"]),
                "train_pairs": min(len(ctx.split.train), self.config.train_pairs or len(ctx.split.train)),
                "valid_pairs": len(ctx.split.valid),
                "seconds": round(time.time() - setting_start, 3),
                "cpu_seconds": round(time.process_time() - cpu_start, 3),
            }
        self.trainings += 1
        row = {
            "key": key,
            "arch": list(arch),
            "config_hash": self.config_hash,
            "score": sum(v[self.config.metric] for v in valid.values()) / len(valid),
            "valid": valid,
            "params": params,
            "seconds": round(sum(v["seconds"] for v in valid.values()), 3),
            "cpu_seconds": round(sum(v["cpu_seconds"] for v in valid.values()), 3),
        }
        self.table.append(row)
        log.info("proxy %.4f in %.1f s: %s", row["score"], row["seconds"], key)
        return self.table.get(key, self.config_hash) or row

    # -- shared data --------------------------------------------------------------------------------------

    def _run(self, setting: str, model: ModelConfig) -> RunConfig:
        return RunConfig(
            model=model,
            train=self.config.train_config(),
            split=setting,
            split_seed=self.config.split_seed,
            data_dir=self.config.data_dir,
        )

    def subset_tables(self) -> Tables:
        """The tables restricted to the proxy's drug subset (read and cut once; the whole tables when
        ``num_drugs`` is None)."""
        if self._subset is None:
            if self._tables is None:
                self._tables, _ = load_benchmark(self.config.data_dir)
            if self.config.num_drugs is None:
                self._subset = self._tables
            else:
                drugs = proxy_drugs(self._tables, self.config.num_drugs, self.config.drug_seed)
                self._subset, self.subset_report = self._tables.restricted_to_drugs(drugs)
                log.info("proxy drug subset: %s", "; ".join(str(r) for r in self.subset_report.records))
        return self._subset

    def _split(self, setting: str) -> Split:
        """S0: the given pair split cut to the subset's pairs (the same test pairs as the full benchmark, so no
        proxy training pair is a test pair of S0). S1/S2: drug-disjoint, cut within the subset."""
        tables = self.subset_tables()
        if setting.lower() == "s0" and self.config.num_drugs is not None:
            assert self._tables is not None
            split = load_split("s0", self._tables, seed=self.config.split_seed)
            return split.restricted_to_drugs(tables.drugs["drugbank_id"])
        return load_split(setting, tables, seed=self.config.split_seed)

    def base_context(self, setting: str) -> TrainingContext:
        """The setting's context (graph, molecules and rules of the subset), its validation part cut to the
        proxy's sample."""
        if setting not in self._contexts:
            run = self._run(setting, self.space.base)
            split = self._split(setting)
            valid = split.valid
            if self.config.valid_pairs is not None and len(valid) > self.config.valid_pairs:
                valid = valid.sample(self.config.valid_pairs, random_state=self.config.seed).reset_index(drop=True)
            split = dataclasses.replace(split, valid=valid)
            ctx = TrainingContext.build(run, self.subset_tables(), progress=False, split=split)
            _ = ctx.rule_table  # built once here, shared by every graph variant below
            self._contexts[setting] = ctx
        return self._contexts[setting]

    def _context(self, setting: str, model: ModelConfig) -> TrainingContext:
        """The setting's context with the ``ModelGraph`` this architecture needs (cached per graph kind)."""
        base = self.base_context(setting)
        graph_key = (setting, tuple(model.relation_groups), model.path_length >= 3)
        if graph_key in self._graphs:
            self._graphs.move_to_end(graph_key)
        else:
            self._graphs[graph_key] = ModelGraph.from_kg(base.kg, graph_key[1], similarity=graph_key[2])
            while len(self._graphs) > self.max_graphs:
                self._graphs.popitem(last=False)
        ctx = dataclasses.replace(base, graph=self._graphs[graph_key])
        # ``rule_table`` is a cached_property read from the instance dict: hand the copy the one already built
        # (it depends only on the knowledge graph) instead of rebuilding it per architecture.
        ctx.__dict__["rule_table"] = base.rule_table
        return ctx
