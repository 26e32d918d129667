"""Everything a model is trained or served on, built once from tables and a split.

``TrainingContext`` joins the validated tables, the split, the knowledge graph of the training interactions,
its tensors, the molecule graphs and the label encoding, and knows how to turn drug ids into node ids.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import torch

from ddi.chem.graphs import MoleculeGraphs, featurize_drugs
from ddi.data.benchmark import load_benchmark
from ddi.data.splits import Split, load_split
from ddi.data.tables import Tables
from ddi.kg.graph import KnowledgeGraph
from ddi.models.config import RELATION_GROUPS, ModelConfig, RunConfig
from ddi.models.drug_annotations import annotation_incidence
from ddi.models.graph_tensors import ModelGraph, drug_protein_incidence
from ddi.models.labels import TypeOrientation
from ddi.models.neighbour_votes import NeighbourVotes
from ddi.models.rule_table import RuleTable

#: Fingerprint the neighbour votes compare drugs by (fixed, so votes do not depend on the model's own input).
VOTE_FINGERPRINT_BITS = 2048

log = logging.getLogger(__name__)


@dataclass
class TrainingContext:
    tables: Tables
    split: Split
    kg: KnowledgeGraph
    graph: ModelGraph
    molecules: MoleculeGraphs
    labels: TypeOrientation

    @classmethod
    def build(
        cls, run: RunConfig, tables: Tables | None = None, progress: bool = True, split: Split | None = None
    ) -> TrainingContext:
        """Build from ``run`` (its data directory and split) or from the given ``tables`` and ``split``."""
        if tables is None:
            tables, _ = load_benchmark(run.data_dir)
        if split is None:
            split = load_split(run.split, tables, seed=run.split_seed, split_dir=run.split_dir)
        kg = KnowledgeGraph.build(tables, split.train)
        graph = ModelGraph.from_kg(kg, run.model.relation_groups, similarity=run.model.path_length >= 3)
        molecules = featurize_drugs(tables.drugs, progress=progress)  # logs what it built, and warns if few
        return cls(tables, split, kg, graph, molecules, TypeOrientation(tables.interaction_types))

    @cached_property
    def rule_table(self) -> RuleTable:
        """Rule features of every ordered drug pair (built on first use)."""
        return RuleTable(self.kg)

    def model_votes(self, config: ModelConfig) -> NeighbourVotes:
        """The neighbour votes a model of ``config`` reads (its look-alikes per drug and label annotations)."""
        return self.neighbour_votes(config.neighbour_votes, config.vote_annotations, config.vote_pool)

    def neighbour_votes(self, k: int, annotations: tuple[str, ...] = (), pool: int = 0) -> NeighbourVotes:
        """Neighbour votes from the training interactions with ``k`` look-alikes per drug, compared by structure,
        proteins and the label ``annotations`` named (``ddi.models.drug_annotations``; built on first use)."""
        cache = self.__dict__.setdefault("_neighbour_votes", {})
        if (k, annotations, pool) not in cache:
            heads, tails, types = self.rows(self.split.train)
            known = torch.zeros(len(self.drug_ids), dtype=torch.bool)
            known[heads] = True
            known[tails] = True
            proteins = drug_protein_incidence(self.kg, RELATION_GROUPS)  # every protein group (not interactions)
            cache[k, annotations, pool] = NeighbourVotes(
                self.molecules.fingerprints(VOTE_FINGERPRINT_BITS),
                torch.as_tensor(proteins.toarray(), dtype=torch.float32),
                heads,
                tails,
                torch.as_tensor(self.labels.encode(types)),
                self.labels.reverse_class(),
                known,
                self.labels.num_classes,
                k,
                [annotation_incidence(self.tables.drugs, name) for name in annotations if name != "interactions"],
                pool,
                compare_interactions="interactions" in annotations,
            )
            log.info(
                "neighbour votes: %d look-alikes per drug among %d drugs with interactions, compared by structure, "
                "proteins%s%s",
                k,
                int(known.sum()),
                "".join(f", {name}" for name in annotations),
                f"; one drug's look-alikes with the other: the {k} closest with evidence among {pool}"
                if pool > k
                else "",
            )
        return cache[k, annotations, pool]

    @property
    def drug_ids(self) -> list[str]:
        return list(self.tables.drugs["drugbank_id"])

    def node_ids(self, drug_ids: pd.Series) -> np.ndarray:
        """Drug node ids of DrugBank ids (all must be known drugs)."""
        index = {d: i for i, d in enumerate(self.drug_ids)}
        return np.array(drug_ids.map(index).to_numpy(dtype=np.int64))  # a writable copy for torch

    def rows(self, part: pd.DataFrame) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
        """(heads, tails, type ids) of a split part."""
        return (
            torch.as_tensor(self.node_ids(part["drug1_id"])),
            torch.as_tensor(self.node_ids(part["drug2_id"])),
            part["type"].to_numpy(dtype=np.int64),
        )

    def require_same_data(self, vocab: dict, model_dir: str, use: str) -> None:
        """Refuse a model (``vocab``: its vocab.json) trained on other data or another split: it has seen this
        split's validation or test pairs, so ``use`` (e.g. "starting from") it would leak them into this run."""
        from ddi.models.checkpoint import CheckpointError

        if vocab.get("drug_ids") != self.drug_ids or vocab.get("data_fingerprint") != self.fingerprint():
            raise CheckpointError(
                f"{model_dir} was trained on other data or another split; {use} it could leak this split's "
                "validation and test pairs"
            )

    def fingerprint(self) -> str:
        """Hash of the data the graph was built from (drugs, proteins, training interactions)."""
        h = hashlib.sha256()
        for frame in (
            self.tables.drugs[["drugbank_id", "smiles"]],
            self.tables.drug_protein,
            self.split.train,
        ):
            h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        return h.hexdigest()[:16]
