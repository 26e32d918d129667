"""``Predictor``: load a saved model once, then score and explain any number of drug pairs.

The graph encoding (molecules, proteins, context layers, slot vectors, and each drug's share of the heads' first
layer) is computed once at load time, so scoring a pair only gathers its rows and runs the path block and heads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

from ddi.data.splits import load_split, pairs_in
from ddi.data.tables import drugbank_id_of
from ddi.data.templates import SameEffect, same_effect_types
from ddi.errors import UnknownDrugError, UserInputError
from ddi.models.checkpoint import CheckpointError, load_weights, read_checkpoint
from ddi.models.config import RunConfig
from ddi.models.ddi_model import DDIModel, Encoded
from ddi.predict.sentences import interaction_sentence
from ddi.sparse.inference import sparse_linear_inference
from ddi.train.context import TrainingContext
from ddi.train.trainer import build_model, encode, pair_features, predict_type_probs

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The model the app and the batch command load when none is named.
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "default"
# Batch on which a pruned layer is timed dense vs CSR at load: large enough to rank the two as batch scoring
# would (the ratio held from 1,024 to 4,096 rows), small enough to add well under a second to loading.
SPARSE_TIMING_BATCH = 1024
#: The other wording of the top type's effect is named once it has this much of the probability.
SAME_EFFECT_MIN_SHARE = 0.05


def count_option(name: str, value: object) -> int:
    """``value`` as a count of at least 1 (``top_k``, ``max_paths``). A slice by 0 or -1 would silently list
    nothing or all but one, and a float fails deep in torch, so both are refused here with the option's name."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise UserInputError(f"{name} must be a whole number of at least 1, not {value!r}")
    return int(value)


def serve_sparse_layers(model: DDIModel) -> list[str]:
    """Swap, in place, ``model``'s very sparse linear layers for CSR ones where that measures faster on this machine,
    as ``Predictor`` does on load; returns their names (``ddi.sparse.sparse_linear_inference``).

    The heads' first layer is left out: serving folds it into per-drug terms (``DDIModel.project_drugs``) and
    never calls its forward, so timing it would only slow loading."""
    first = model.heads.trunk[0]
    return sparse_linear_inference(model, batch=SPARSE_TIMING_BATCH, repeats=3, exclude=[first])


@dataclass
class PathExplanation:
    text: str
    weight: float
    nodes: tuple[int, ...]


@dataclass
class SameEffectTotal:
    """The top type and the other wording of its effect (``SameEffect``), together.

    A model split between "The metabolism of B can be decreased" (60 %) and "The serum concentration of B can be
    increased" (37 %) is sure (97 %) that the first drug raises B's levels; only DrugBank's wording is in doubt."""

    sentence: str
    probability: float
    #: the top type first, then the other wording
    type_ids: tuple[int, int]


@dataclass
class PairPrediction:
    """The model's answer for one ordered pair (drug1, drug2)."""

    drug1_id: str
    drug2_id: str
    type_id: int
    probability: float
    sentence: str
    exists: float
    top: list[tuple[int, float, str]] = field(default_factory=list)
    #: where the top type is one wording of an effect DrugBank words two ways and the other has a share too
    same_effect: SameEffectTotal | None = None
    paths: list[PathExplanation] = field(default_factory=list)
    #: known interactions of look-alike drugs that voted (models with neighbour votes); ``nodes`` is the known pair
    look_alikes: list[PathExplanation] = field(default_factory=list)


class Predictor:
    def __init__(
        self,
        model: DDIModel,
        ctx: TrainingContext,
        run: RunConfig,
        model_dir: Path,
        metrics: dict,
        sparse_inference: bool = True,
        trained_split: tuple[str, int, str | None] | None = None,
    ) -> None:
        self.model = model.eval()
        # A pruned model multiplies its very sparse layers as CSR matrices where that measures faster here; the
        # state dict and the outputs (up to float rounding) are unchanged. A dense model has no candidate layers.
        self.sparse_layers: list[str] = serve_sparse_layers(model) if sparse_inference else []
        if self.sparse_layers:
            log.info("sparse inference: %d layers multiplied as CSR (%s)", len(self.sparse_layers), self.sparse_layers)
        self.ctx = ctx
        self.run = run
        #: (split, split seed, split directory) the model was trained on; ``run`` holds the one loaded now
        self.trained_split = trained_split or (run.split, run.split_seed, run.split_dir)
        self.model_dir = model_dir
        self.metrics = metrics
        with torch.no_grad():
            self.encoded: Encoded = model.project_drugs(encode(model, ctx))
        if model.num_rules:
            _ = ctx.rule_table  # built now, not on the first query
        if model.num_votes:
            _ = ctx.model_votes(model.config)
        self.node_of = {d: i for i, d in enumerate(ctx.drug_ids)}
        self.names = dict(zip(ctx.tables.drugs["drugbank_id"], ctx.tables.drugs["name"], strict=True))
        self.structures: dict[str, str] = {}
        self._derived: dict[Callable[[Predictor], Any], Any] = {}

    def derived(self, build: Callable[[Predictor], T]) -> T:
        """``build(self)``, computed on the first call and kept for the life of this predictor: indexes over its
        data that serving reads per request (the known pairs) are built once per loaded model."""
        if build not in self._derived:
            self._derived[build] = build(self)
        return self._derived[build]

    @classmethod
    def load(
        cls,
        model_dir: str | Path | None = None,
        data_dir: str | None = None,
        split: str | None = None,
        split_dir: str | None = None,
        split_seed: int | None = None,
        progress: bool = False,
        sparse_inference: bool = True,
    ) -> Predictor:
        """Load a model directory (default ``models/default``) and the data its graph is built from.

        ``sparse_inference``: multiply a pruned model's very sparse layers as CSR matrices where that measures
        faster (``ddi.sparse.sparse_linear_inference``); False keeps every layer dense."""
        root = Path(model_dir) if model_dir else DEFAULT_MODEL_DIR
        if not model_dir and not root.is_dir():
            raise CheckpointError(
                f"no default model at {root}; train one with 'ddi train --out {root}' or pass --model DIR"
            )
        state, run, vocab, metrics = read_checkpoint(root)
        if data_dir:
            run.data_dir = data_dir
        same_data = not (split or split_dir or split_seed is not None)
        trained_split = (run.split, run.split_seed, run.split_dir)
        if split:
            run.split, run.split_dir = split, None
        if split_dir:
            run.split_dir = split_dir
        if split_seed is not None:
            run.split_seed = split_seed
        ctx = TrainingContext.build(run, progress=progress)
        if ctx.drug_ids != vocab["drug_ids"] or ctx.graph.num_nodes != vocab["num_nodes"]:
            raise CheckpointError(
                f"{root} was trained on another drug set ({len(vocab['drug_ids'])} drugs, "
                f"{vocab['num_nodes']} nodes) than the data directory holds ({len(ctx.drug_ids)} drugs, "
                f"{ctx.graph.num_nodes} nodes); pass the --data-dir it was trained on"
            )
        if same_data and vocab.get("data_fingerprint") != ctx.fingerprint():
            log.warning("the data differs from the data %s was trained on; predictions may be off", root)
        model = build_model(ctx, run)
        load_weights(model, state, root)
        log.info("loaded model %s (%s split)", root, ctx.split.name)
        return cls(model, ctx, run, root, metrics, sparse_inference=sparse_inference, trained_split=trained_split)

    def load_beside(self, model_dir: str | Path) -> Predictor:
        """Another model directory loaded with the data and split this predictor loaded (to compare the two on
        the same pairs, or average them)."""
        run = self.run
        return Predictor.load(
            model_dir,
            data_dir=run.data_dir,
            split=None if run.split_dir else run.split,
            split_dir=run.split_dir,
            split_seed=run.split_seed,
        )

    def pairs_seen_in_training(self, part: str = "test") -> int:
        """How many pairs of the loaded split's ``part`` were training pairs of the model: 0 on the split it was
        trained on; on another split (``Predictor.load(split=...)``) its figures on those pairs are not a test."""
        if self.trained_split == (self.run.split, self.run.split_seed, self.run.split_dir):
            return 0
        split, seed, split_dir = self.trained_split
        try:
            trained = load_split(split, self.ctx.tables, seed=seed, split_dir=split_dir)
        except (UserInputError, OSError) as exc:
            log.warning("cannot rebuild the split the model was trained on (%s); its overlap is unknown", exc)
            return 0
        columns = ["drug1_id", "drug2_id", "type"]
        if trained.train[columns].equals(self.ctx.split.train[columns]):  # the same split, named another way
            return 0
        return pairs_in(getattr(self.ctx.split, part), trained.train)

    @torch.no_grad()
    def register_structure(self, structure: str, name: str | None = None) -> str:
        """Make a drug known only by its SMILES or InChI scorable; return its pseudo id ``structure:<key>``.

        The drug has no edges in the knowledge graph, so its prediction rests on its molecule alone: less
        certain than for a drug the model has seen (``PairPrediction`` says so through ``in_graph``).

        Raises
        ------
        InvalidStructureError
            If the structure cannot be parsed (the message says why).
        """
        from torch_geometric.data import Batch

        from ddi.chem.fingerprints import fingerprint_matrix
        from ddi.chem.graphs import structure_to_graph
        from ddi.chem.molecule import InvalidStructureError, structure_key
        from ddi.train.context import VOTE_FINGERPRINT_BITS

        if not isinstance(structure, str):  # bytes or a number would read as "empty structure", a wrong reason
            raise InvalidStructureError(f"a structure must be a SMILES or InChI string, not {type(structure).__name__}")
        graph, canonical = structure_to_graph(structure)
        if "*" in canonical:  # canonical SMILES writes a wildcard (atomic number 0) atom, and only it, as "*"
            # An attachment point or a polymer's repeat unit is a fragment, not a drug (as ``DrugResolver`` says).
            raise InvalidStructureError(f"{canonical[:80]!r} has wildcard atoms (*): give the whole molecule")
        drug_id = f"structure:{structure_key(canonical)[:16]}"
        if drug_id not in self.node_of:
            bits = self.model.config.fingerprint_bits
            fingerprints = fingerprint_matrix([canonical], bits) if self.model.fingerprint_encoder is not None else None
            state = self.model.encode_isolated_drugs(Batch.from_data_list([graph]), fingerprints)
            self.node_of[drug_id] = self.encoded.node_state.shape[0]
            if self.model.num_votes:  # its look-alikes' interactions vote, as for any drug
                votes = self.ctx.model_votes(self.model.config)
                votes.add_drugs(
                    torch.tensor([self.node_of[drug_id]]), fingerprint_matrix([canonical], VOTE_FINGERPRINT_BITS)
                )
            self.encoded = self.encoded.with_drugs(state, self.model.pair_structure(fingerprints))
            self.structures[drug_id] = canonical
        self.names[drug_id] = name or canonical
        return drug_id

    def node(self, drug_id: str) -> int:
        """The node id the model scores ``drug_id`` under: a DrugBank id (letter case and surrounding spaces
        aside, as ``DrugResolver`` reads one) or the ``structure:<key>`` id of a registered structure.

        Raises
        ------
        UnknownDrugError
            If the model has no such drug (or ``drug_id`` is not text).
        """
        return self.node_of[self.drug_key(drug_id)]

    def drug_key(self, drug_id: str) -> str:
        """``drug_id`` as this predictor's ids spell it (``"db00641 "`` -> ``"DB00641"``); see ``node``."""
        if not isinstance(drug_id, str):
            raise UnknownDrugError(
                f"a drug id must be text (a DrugBank id such as 'DB00641'), not {type(drug_id).__name__} {drug_id!r}"
            )
        key = drugbank_id_of(drug_id) or drug_id
        if key not in self.node_of:
            raise UnknownDrugError(
                f"unknown drug {drug_id[:80]!r}: not a drug of this model's data (give a DrugBank id of one of its "
                "drugs, or the id register_structure returned)",
                drug_id,
            )
        return key

    def in_graph(self, drug_id: str) -> bool:
        """Whether the drug is a node of the model's knowledge graph (not only a structure)."""
        return self.node_of.get(drug_id, self.ctx.graph.num_nodes) < self.ctx.graph.num_drugs

    def closest_look_alike(self, drug_id: str) -> tuple[str, float] | None:
        """The name of the drug's closest look-alike and their similarity, as its votes compare drugs (None for a
        model without neighbour votes, or a drug without a look-alike of similarity above 0)."""
        node = self.node(drug_id)  # an unknown id is an error whatever the model
        if not self.model.num_votes:
            return None
        ids, similarities = self.ctx.model_votes(self.model.config).look_alikes(torch.tensor([node]))
        drug_of = self.ctx.drug_ids
        if ids.shape[1] == 0 or float(similarities[0, 0]) <= 0 or int(ids[0, 0]) >= len(drug_of):
            return None
        return self.names[drug_of[int(ids[0, 0])]], float(similarities[0, 0])

    def type_template(self, type_id: int) -> str:
        types = self.ctx.tables.interaction_types
        template = types.loc[types["type"] == type_id, "template"]
        if template.empty:
            raise UserInputError(f"unknown interaction type {type_id!r}: not a type of this model's data")
        return str(template.iloc[0])

    def score_ids(
        self, heads: np.ndarray | torch.Tensor, tails: np.ndarray | torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Oriented class probabilities ``B x 2T`` and exists probabilities ``B`` of drug node id pairs.

        Raises
        ------
        UserInputError
            If ``heads`` and ``tails`` are not two integer vectors of one length, or hold an id that is no drug's
            node (a protein's node would be scored as if it were a drug).
        """
        h, t = torch.as_tensor(heads), torch.as_tensor(tails)
        if h.dim() != 1 or h.shape != t.shape:
            raise UserInputError(
                f"heads and tails must be vectors of one length, not of shapes {h.shape} and {t.shape}"
            )
        if len(h) == 0:  # the model's batching cannot take an empty batch (and ``[]`` reads as float)
            return torch.empty(0, 2 * self.ctx.labels.num_types), torch.empty(0)
        if h.dtype.is_floating_point or h.dtype.is_complex or h.dtype == torch.bool or t.dtype != h.dtype:
            raise UserInputError(f"drug node ids must be integers, not {h.dtype} and {t.dtype}")
        h, t = h.long(), t.long()
        # Drugs are the graph's first nodes; registered structures come after all of its nodes.
        graph = self.ctx.graph
        ids = torch.cat([h, t])
        drug = (ids >= 0) & (
            (ids < graph.num_drugs) | ((ids >= graph.num_nodes) & (ids < len(self.encoded.node_state)))
        )
        if not bool(drug.all()):
            raise UserInputError(f"{int(ids[~drug][0])} is not the node id of a drug of this model")
        return predict_type_probs(self.model, self.ctx, h, t, encoded=self.encoded)

    def predict_pairs(
        self, pairs: list[tuple[str, str]], top_k: int = 3, explain: bool = False, max_paths: int = 5
    ) -> list[PairPrediction]:
        """Predictions for (drug1, drug2) pairs of the model's drugs: DrugBank ids (any letter case) or ids that
        ``register_structure`` returned. ``top_k`` types are listed (all of them at most) and, with ``explain``,
        ``max_paths`` paths and look-alike interactions.

        Raises
        ------
        UnknownDrugError
            If an id is not a drug of the model.
        UserInputError
            If an item is not a pair, a pair is one drug twice, or ``top_k`` or ``max_paths`` is under 1.
        """
        top_k = min(count_option("top_k", top_k), self.ctx.labels.num_types)
        max_paths = count_option("max_paths", max_paths)
        pairs = [self._pair(pair) for pair in pairs]
        if not pairs:
            return []
        heads = np.array([self.node_of[a] for a, _ in pairs], dtype=np.int64)
        tails = np.array([self.node_of[b] for _, b in pairs], dtype=np.int64)
        probs, exists = self.score_ids(heads, tails)
        labels = self.ctx.labels
        type_probs = labels.type_probs(probs)
        out = []
        for i, (a, b) in enumerate(pairs):
            order = type_probs[i].argsort(descending=True)[:top_k].tolist()
            top = []
            for ti in order:
                orientation = int(probs[i].view(-1, 2)[ti].argmax())
                type_id = int(labels.type_ids[ti])
                role = labels.first_drug_role(ti, orientation)
                sentence = interaction_sentence(self.type_template(type_id), self.names[a], self.names[b], role)
                top.append((type_id, float(type_probs[i, ti]), sentence))
            pred = PairPrediction(a, b, top[0][0], top[0][1], top[0][2], float(exists[i]), top)
            pred.same_effect = self._same_effect_total(probs[i], type_probs[i], a, b)
            if explain:
                pred.paths = self.explain_paths(int(heads[i]), int(tails[i]), max_paths)
                pred.look_alikes = self.explain_look_alikes(int(heads[i]), int(tails[i]), max_paths)
            out.append(pred)
        return out

    def _same_effect_total(
        self, probs: torch.Tensor, type_probs: torch.Tensor, a: str, b: str
    ) -> SameEffectTotal | None:
        """The top type and its effect's other wording together, for one pair's ``2T`` class and ``T`` type
        probabilities; None unless the other wording has ``SAME_EFFECT_MIN_SHARE`` with the drugs in the same
        parts."""
        labels = self.ctx.labels
        first = int(type_probs.argmax())
        same = self.same_effects.get(int(labels.type_ids[first]))
        if same is None:
            return None
        other_id = same.types[1] if same.types[0] == int(labels.type_ids[first]) else same.types[0]
        other = labels.index_of[other_id]
        oriented = probs.view(-1, 2)
        role = labels.first_drug_role(first, int(oriented[first].argmax()))
        share = float(type_probs[other])
        if share < SAME_EFFECT_MIN_SHARE or labels.first_drug_role(other, int(oriented[other].argmax())) != role:
            return None
        sentence = interaction_sentence(same.template, self.names[a], self.names[b], role)
        return SameEffectTotal(sentence, float(type_probs[first]) + share, (int(labels.type_ids[first]), other_id))

    @property
    def same_effects(self) -> dict[int, SameEffect]:
        """``same_effect_types`` of this model's interaction types (found once)."""
        return self.derived(_same_effects)

    def _pair(self, pair: tuple[str, str]) -> tuple[str, str]:
        """A (drug1, drug2) pair of ``predict_pairs`` with its ids as the model spells them."""
        if isinstance(pair, str) or not isinstance(pair, tuple | list | np.ndarray) or len(pair) != 2:
            raise UserInputError(f"each pair must be a (drug1, drug2) tuple of two drug ids, not {str(pair)[:80]!r}")
        a, b = self.drug_key(pair[0]), self.drug_key(pair[1])
        if a == b:  # "X can increase ... when combined with X" would be a sentence about nothing
            raise UserInputError(f"{a} is paired with itself ({self.names[a]}); a pair needs two different drugs")
        return a, b

    def explain_look_alikes(self, head: int, tail: int, limit: int = 5) -> list[PathExplanation]:
        """The known interactions of look-alike drugs that voted for (head, tail), written out; ``weight`` is each
        one's share of the votes listed. Empty for a model without neighbour votes."""
        if not self.model.num_votes:
            return []
        votes = self.ctx.model_votes(self.model.config)
        evidence = votes.evidence(head, tail, limit)
        total = sum(e.vote for e in evidence) or 1.0
        name_of = {node: self.names[d] for d, node in self.node_of.items()}
        labels = self.ctx.labels
        out = []
        for e in evidence:
            type_index, orientation = divmod(e.cls, 2)
            known = interaction_sentence(
                self.type_template(int(labels.type_ids[type_index])),
                name_of[e.known_head],
                name_of[e.known_tail],
                labels.first_drug_role(type_index, orientation),
            )
            likeness = [
                f"{name_of[drug]} looks like {name_of[known]} (similarity {similarity:.2f})"
                for drug, known, similarity in (
                    (head, e.known_head, e.head_similarity),
                    (tail, e.known_tail, e.tail_similarity),
                )
                if drug != known
            ]
            out.append(
                PathExplanation(
                    f"{' and '.join(likeness)}; known: {known}", e.vote / total, (e.known_head, e.known_tail)
                )
            )
        return out

    @torch.no_grad()
    def explain_paths(self, head: int, tail: int, limit: int = 5) -> list[PathExplanation]:
        """The paths the model weighed most for (head, tail), written out."""
        if self.model.path_block is None:
            return []
        h, t = torch.tensor([head]), torch.tensor([tail])
        out = self.model.score_pairs(self.encoded, self.ctx.graph, h, t, pair_features(self.model, self.ctx, h, t))
        if out.paths is None or out.path_weights is None or out.paths.pair.numel() == 0:
            return []
        order = out.path_weights.argsort(descending=True)[:limit]
        from ddi.predict.explain import describe_model_path

        return [
            PathExplanation(
                describe_model_path(self.ctx.kg, head, int(out.paths.middle[j]), tail),
                float(out.path_weights[j]),
                (head, int(out.paths.middle[j]), tail),
            )
            for j in order.tolist()
        ]


def _same_effects(predictor: Predictor) -> dict[int, SameEffect]:
    return same_effect_types(predictor.ctx.tables.interaction_types)
