"""One configuration object for a model and its training: every architectural choice is a field here.

The architecture search (``ddi.search``) varies exactly the fields of ``ModelConfig``; ``TrainConfig`` holds
the optimisation settings. Both are saved as JSON beside every checkpoint so a model can always be rebuilt.
"""

from __future__ import annotations

import json
import math
import typing
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ddi.errors import UserInputError
from ddi.json_input import read_json, type_mismatch

RELATION_GROUPS = ("enzyme", "transporter", "carrier", "target", "interaction")
MESSAGE_FUNCTIONS = ("mult", "sub", "ccorr", "rotate", "mlp")
AGGREGATIONS = ("attention", "sum", "mean", "max")
COMBINATIONS = ("concat", "concat_product")
PRUNE_METHODS = ("none", "dcil", "dpf", "gmp", "oneshot")
PRUNE_POLICIES = ("lamp", "global", "layer")
PRUNE_CRITERIA = ("magnitude", "input")
DISTILL_DIRECTIONS = ("mutual", "dense_to_sparse")
#: Label annotations the look-alike votes compare drugs by by default (``ddi.models.drug_annotations``).
VOTE_ANNOTATIONS = ("atc", "categories")
#: Everything they may compare drugs by: those, and "interactions", the drugs' typed interaction profiles in
#: the graph (``ddi.models.neighbour_votes.interaction_profiles``).
VOTE_VIEWS = (*VOTE_ANNOTATIONS, "interactions")


#: Model fields added after checkpoints were first saved, with the value those older checkpoints were trained
#: with: a checkpoint's config that lacks one means that value, whatever today's default is.
CHECKPOINT_LEGACY_MODEL_FIELDS: dict[str, Any] = {
    "neighbour_votes": 0,
    "vote_annotations": (),
    "vote_pool": 0,
    "drug_id_embedding": False,
    "flow_layers": 0,
}


class ConfigError(UserInputError):
    """A configuration file or value is invalid."""


@dataclass
class ModelConfig:
    """Architecture of ``DDIModel``.

    Attributes
    ----------
    hidden_dim: width of every embedding (drugs, proteins, relations, paths).
    mol_hidden_dim: width of the atom states inside the molecule encoder (its output is ``hidden_dim``).
    mol_layers: message-passing layers of the molecule encoder (0 = no molecule GNN).
    fingerprint_bits: width of the Morgan fingerprint projected into each drug's first state (0 = none). With
        ``mol_layers`` = 0 and no fingerprint there is no structure input: drugs get learned per-drug vectors.
    fingerprint_pair_dim: width of a second fingerprint projection per drug that goes straight to the heads
        (0 = none). It bypasses the narrow node state, so the heads can read drug-specific substructure patterns
        as a fingerprint MLP does, while the graph parts stay small and cheap.
    head_dim: width of the heads' MLP trunk.
    kg_layers: knowledge-graph context layers run over all nodes before the path block.
    relation_groups: which relation groups the graph and the paths may use.
    path_length: 0 = no path block, 2 = head-x-tail paths (x a protein or a drug), 3 = also paths through
        a drug that shares a protein with the head or tail (the protein step folded into one edge).
    message: how a path composes its head-side relation, middle node and tail-side relation.
    aggregation: how the paths of one pair are pooled.
    attention: learn a weight per path (kept for explanations); without it paths are weighted equally.
    combine: how drug and path representations are joined before the heads.
    use_molecule / use_rules: ablation switches.
    relation_profile: add to each node's first state a projection of how many edges of each relation it has
        in the (leak-free) context graph: a cheap, strong summary of a drug's known pharmacology.
    drug_id_embedding: add a learned vector per drug to the first state of each drug that has interactions in the
        (leak-free) context graph: transductive memory of known drugs; a new drug (no interactions) gets none.
    max_paths: paths kept per pair (a seeded sample beyond that) to bound time on hub drugs.
    neighbour_votes: look-alike drugs per drug (mean Tanimoto of Morgan fingerprints, of protein sets and of the
        ``vote_annotations``) whose known interactions vote on the pair's class, given to the heads as features
        and blended into the decision (0 = none; see ``ddi.models.neighbour_votes``).
    vote_annotations: label annotations the look-alikes are also compared by (ATC codes with their hierarchy,
        DrugBank categories): drugs of one pharmacological class interact alike, and a new drug's class is on
        its label before its interactions are known. "interactions" also compares drugs by their typed
        interaction profiles in the graph (off by default: it sharpens the untrained S0 vote, not the trained
        model; see BENCHMARKS.md).
    vote_pool: where one drug of a pair votes through its look-alikes' interactions with the other drug, take
        the ``neighbour_votes`` most alike among those that interacted with it, searched in this many
        look-alikes per drug (0 = only among the ``neighbour_votes`` most alike, whether they interacted or not,
        as before this field existed).
        A new drug's closest look-alikes often never met the other drug; its closest ones that did are the
        classic neighbour-based evidence.
    flow_layers: steps of the head-conditioned flow (``ddi.nn.head_flow``): a state started at the head drug,
        propagated over the whole typed graph and read at the tail, so every walk of up to this many edges
        counts, where the path block lists at most ``max_paths`` (0 = no flow). Training then groups each batch
        by head drug (``TrainConfig.pairs_per_head``).
    flow_dim: width of the flow's states (each head carries one per node, so it stays small).
    flow_expert: the flow answers as an expert of its own instead of feeding the heads: a classifier reads the
        flow and the two drugs' states, and its type logits are added to the heads', weighted by a factor fitted
        on validation. The rest of the model trains first on random batches; then it stays frozen while the flow
        and its classifier train on batches grouped by head (``TrainConfig.flow_epochs``), so the two learn
        apart and err on different pairs (trained together, the flow added nothing; BENCHMARKS.md).
    """

    hidden_dim: int = 64
    mol_hidden_dim: int = 32
    mol_layers: int = 3
    fingerprint_bits: int = 2048
    fingerprint_pair_dim: int = 256
    head_dim: int = 512
    kg_layers: int = 1
    relation_groups: tuple[str, ...] = RELATION_GROUPS
    path_length: int = 3
    message: str = "mult"
    aggregation: str = "attention"
    attention: bool = True
    combine: str = "concat_product"
    use_molecule: bool = True
    use_rules: bool = True
    relation_profile: bool = True
    drug_id_embedding: bool = True
    dropout: float = 0.1
    max_paths: int = 32
    neighbour_votes: int = 16
    vote_annotations: tuple[str, ...] = VOTE_ANNOTATIONS
    vote_pool: int = 256
    flow_layers: int = 0
    flow_dim: int = 32
    flow_expert: bool = False

    def __post_init__(self) -> None:
        self.relation_groups = tuple(self.relation_groups)
        self.vote_annotations = tuple(self.vote_annotations)
        checks = [
            (self.hidden_dim >= 4, "hidden_dim must be >= 4"),
            (self.mol_hidden_dim >= 4, "mol_hidden_dim must be >= 4"),
            (0 <= self.mol_layers <= 8, "mol_layers must be 0..8"),
            (0 <= self.fingerprint_bits <= 16384, "fingerprint_bits must be 0..16384"),
            (0 <= self.fingerprint_pair_dim <= 4096, "fingerprint_pair_dim must be 0..4096"),
            (self.head_dim >= 4, "head_dim must be >= 4"),
            (0 <= self.kg_layers <= 4, "kg_layers must be 0..4"),
            (self.path_length in (0, 2, 3), "path_length must be 0, 2 or 3"),
            (self.message in MESSAGE_FUNCTIONS, f"message must be one of {MESSAGE_FUNCTIONS}"),
            (self.aggregation in AGGREGATIONS, f"aggregation must be one of {AGGREGATIONS}"),
            (self.combine in COMBINATIONS, f"combine must be one of {COMBINATIONS}"),
            (
                set(self.relation_groups) <= set(RELATION_GROUPS),
                f"relation_groups must be within {RELATION_GROUPS}",
            ),
            (
                len(set(self.relation_groups)) == len(self.relation_groups),
                f"relation_groups names a group twice: {list(self.relation_groups)}",
            ),
            (0.0 <= self.dropout < 1.0, "dropout must be in [0, 1)"),
            (self.max_paths >= 1, "max_paths must be >= 1"),
            (0 <= self.neighbour_votes <= 64, "neighbour_votes must be 0..64"),
            (0 <= self.vote_pool <= 4096, "vote_pool must be 0..4096"),
            (0 <= self.flow_layers <= 6, "flow_layers must be 0..6"),
            (4 <= self.flow_dim <= 256, "flow_dim must be 4..256"),
            (not self.flow_expert or self.flow_layers > 0, "flow_expert needs flow_layers > 0"),
            (
                set(self.vote_annotations) <= set(VOTE_VIEWS),
                f"vote_annotations must be within {VOTE_VIEWS}",
            ),
            (
                self.message != "rotate" or self.hidden_dim % 2 == 0,
                "message 'rotate' needs an even hidden_dim",
            ),
            (
                self.aggregation != "attention" or self.attention,
                "aggregation 'attention' needs attention=True",
            ),
        ]
        errors = [msg for ok, msg in checks if not ok]
        if errors:
            raise ConfigError("invalid model config: " + "; ".join(errors))


@dataclass
class TrainConfig:
    """Optimisation settings of ``ddi train``."""

    #: the learning rate is one cycle over all epochs; 10 epochs run to the end of it (patience 10: no early stop)
    #: score as 16 with early stopping did, in 19 min instead of 34 (S0 3 seeds, S1/S2 5 splits; BENCHMARKS.md)
    epochs: int = 10
    batch_size: int = 1024
    lr: float = 3e-3
    weight_decay: float = 1e-5
    patience: int = 10
    seed: int = 0
    negative_ratio: float = 0.5
    exists_weight: float = 0.5
    label_smoothing: float = 0.05
    #: fraction of a batch's drugs whose interactions are hidden, to teach the model about unseen drugs;
    #: None = by setting (0 for s0, 0.25 for s1, 0.5 for s2 and user splits with new drugs).
    new_drug_rate: float | None = None
    max_train_pairs: int | None = None
    threads: int | None = None
    #: sparse training (``ddi.sparse``): none, dcil (dual-path), dpf (straight-through), gmp, oneshot
    prune_method: str = "none"
    prune_sparsity: float = 0.9
    prune_ramp: float = 0.5
    prune_every: int = 16
    #: "lamp" ranks weights within their own tensor; plain "global" magnitude can empty whole layers
    prune_policy: str = "lamp"
    #: "magnitude" ranks |w| (the DCIL paper); "input" ranks |w| times the RMS of the input feature it multiplies
    prune_criterion: str = "magnitude"
    #: dcil: the dense path keeps its own normalisation layers (as the DCIL authors' code); False shares them
    prune_separate_norms: bool = False
    #: dcil/dpf: a pruned weight moves by this fraction of the optimiser's step (1 = the papers, who use SGD;
    #: under Adam every pruned weight moves by ~lr and the kept set churns; see docs/dcil.md)
    prune_pruned_step: float = 1.0
    distill_weight: float = 1.0
    distill_temperature: float = 2.0
    #: dcil: "mutual" (the paper) or "dense_to_sparse" (only the shipped sparse path learns from the dense one)
    distill_direction: str = "mutual"
    #: dcil: fraction of training before the distillation starts (the authors' scripts: about 0.23)
    distill_start: float = 0.25
    #: models with a flow (``ModelConfig.flow_layers``): a batch is made of runs of up to this many training
    #: pairs that share a head drug, because the flow propagates once per distinct head
    pairs_per_head: int = 32
    #: models with a flow expert (``ModelConfig.flow_expert``): epochs of its own training after the rest's
    flow_epochs: int = 6
    #: pairs per step of a flow expert's training: an epoch costs one propagation per run of pairs that share a
    #: head whatever the batch, so smaller batches give more steps at about the same cost
    flow_batch_size: int = 512
    #: read every training row in the order the data lists it, never reversed (both the model and a flow
    #: expert): that order says which drug's entry lists the pair, which tells the type, so the figures of
    #: pairs read as listed (``as_listed`` in the test report, the protocol of published benchmarks) rise; the
    #: answers, which average both orders, may not (BENCHMARKS.md). The kept epoch and the prior correction are
    #: then chosen on that reading too
    listed_order: bool = False
    #: build batches from runs of pairs that share a head drug: None = when the model has a flow that feeds
    #: the heads (it needs them; a flow expert trains on its own grouped batches);
    #: True for a model without one measures what the grouping alone does
    batch_by_head: bool | None = None
    #: tau of the prior correction of the type decision (``ddi.train.prior``); None = fit it on validation
    prior_adjustment: float | None = None
    #: start from this trained model's weights (same architecture, data and split), e.g. to prune a dense model
    init_from: str | None = None
    #: learn also from this trained model's type logits (any architecture, same data and split): the loss adds
    #: ``teacher_weight`` x the temperature-scaled KL divergence to them (``ddi.train.teacher``), e.g. to keep a
    #: pruned model close to the dense one
    teacher: str | None = None
    teacher_weight: float = 1.0
    #: 1, not the papers' 2: a teacher trained with label smoothing gives its class 0.93 at T 1 and 0.28 at T 2,
    #: the rest spread flat over the other classes; T 1 lost less macro-F1 at 95 % (BENCHMARKS.md, Pruning)
    teacher_temperature: float = 1.0

    def __post_init__(self) -> None:
        checks = [
            # 0: no training of the model itself, only of a flow expert added to the init_from model
            (self.epochs >= 1 or self.init_from is not None, "epochs must be >= 1 (0 only with init_from)"),
            (self.epochs >= 0, "epochs must be >= 0"),
            (self.flow_epochs >= 1, "flow_epochs must be >= 1"),
            (self.flow_batch_size >= 2, "flow_batch_size must be >= 2"),
            (self.batch_size >= 2, "batch_size must be >= 2"),
            (self.pairs_per_head >= 1, "pairs_per_head must be >= 1"),
            # a finite lr: an infinite one passes "> 0" and trains to NaN weights without a word
            (math.isfinite(self.lr) and self.lr > 0, "lr must be a finite number > 0"),
            (self.weight_decay >= 0, "weight_decay must be >= 0"),
            (self.patience >= 1, "patience must be >= 1"),
            (self.seed >= 0, "seed must be >= 0"),  # numpy's generator refuses a negative seed mid-run
            (self.negative_ratio >= 0, "negative_ratio must be >= 0"),
            (self.exists_weight >= 0, "exists_weight must be >= 0"),
            (0 <= self.label_smoothing <= 1, "label_smoothing must be in [0, 1]"),
            # 0 would not mean "no pairs": the trainer reads it as "all pairs", silently
            (self.max_train_pairs is None or self.max_train_pairs >= 1, "max_train_pairs must be >= 1 or null"),
            (self.threads is None or self.threads >= 1, "threads must be >= 1 or null"),
            (self.new_drug_rate is None or 0 <= self.new_drug_rate < 1, "new_drug_rate must be in [0, 1)"),
            (self.prune_method in PRUNE_METHODS, f"prune_method must be one of {PRUNE_METHODS}"),
            (0 <= self.prune_sparsity < 1, "prune_sparsity must be in [0, 1)"),
            (0 < self.prune_ramp <= 1, "prune_ramp must be in (0, 1]"),
            (self.prune_every >= 1, "prune_every must be >= 1"),
            (0 <= self.prune_pruned_step <= 1, "prune_pruned_step must be in [0, 1]"),
            (self.prune_policy in PRUNE_POLICIES, f"prune_policy must be one of {PRUNE_POLICIES}"),
            (self.prune_criterion in PRUNE_CRITERIA, f"prune_criterion must be one of {PRUNE_CRITERIA}"),
            (self.distill_direction in DISTILL_DIRECTIONS, f"distill_direction must be one of {DISTILL_DIRECTIONS}"),
            (0 <= self.distill_start <= 1, "distill_start must be in [0, 1]"),
            (self.distill_weight >= 0, "distill_weight must be >= 0"),
            (self.distill_temperature > 0, "distill_temperature must be > 0"),  # the logits are divided by it
            (self.teacher_weight >= 0, "teacher_weight must be >= 0"),
            (self.teacher_temperature > 0, "teacher_temperature must be > 0"),
            (self.prior_adjustment is None or 0 <= self.prior_adjustment <= 1, "prior_adjustment must be in [0, 1]"),
        ]
        errors = [msg for ok, msg in checks if not ok]
        if errors:
            raise ConfigError("invalid train config: " + "; ".join(errors))


@dataclass
class RunConfig:
    """Everything ``ddi train`` needs: the model, the optimisation and the data it was trained on."""

    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    split: str = "s0"
    split_seed: int = 0
    split_dir: str | None = None
    data_dir: str | None = None

    def __post_init__(self) -> None:
        # Lazy: the data layer pulls in pandas, which a config alone does not need.
        from ddi.data.splits import split_seed, split_setting

        try:
            split_setting(self.split)  # the checks loading the split makes, so a config is valid everywhere or nowhere
            split_seed(self.split_seed)
        except UserInputError as exc:
            raise ConfigError(f"invalid config: {exc}") from exc

    def check(self) -> RunConfig:
        """Validate every section again and return self: fields set after construction (a command line's
        ``--epochs``, ``--split-seed``) skip the checks of ``__post_init__`` otherwise, and fail mid-run."""
        self.model.__post_init__()
        self.train.__post_init__()
        self.__post_init__()
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RunConfig:
        if not isinstance(raw, dict):
            raise ConfigError("a config must be a JSON object")
        unknown = set(raw) - {f.name for f in fields(cls)}
        if unknown:
            raise ConfigError(f"unknown config key(s): {', '.join(sorted(unknown))}")
        model = _build(ModelConfig, raw.get("model", {}), "model")
        train = _build(TrainConfig, raw.get("train", {}), "train")
        rest = {k: v for k, v in raw.items() if k not in ("model", "train")}
        _check_types(cls, rest, "")
        return cls(model=model, train=train, **rest)

    @classmethod
    def load(cls, path: str | Path, checkpoint: bool = False) -> RunConfig:
        """Read a config file; ``checkpoint``: it was saved beside a checkpoint, so a model field it lacks takes
        the value the checkpoint was trained with (``CHECKPOINT_LEGACY_MODEL_FIELDS``), not today's default."""
        raw = read_json(path, ConfigError)
        if checkpoint and isinstance(raw, dict) and isinstance(raw.get("model"), dict):
            raw["model"] = {**CHECKPOINT_LEGACY_MODEL_FIELDS, **raw["model"]}
        try:
            return cls.from_dict(raw)
        except ConfigError as exc:  # name the file: a model directory's config is not one the user named
            raise ConfigError(f"{path}: {exc}") from exc


def _build(kind: type, raw: Any, section: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"config section {section!r} must be an object")
    names = {f.name for f in fields(kind)}
    unknown = set(raw) - names
    if unknown:
        raise ConfigError(f"unknown {section} config key(s): {', '.join(sorted(unknown))}")
    _check_types(kind, raw, section)
    try:
        return kind(**raw)
    except TypeError as exc:
        raise ConfigError(f"invalid {section} config: {exc}") from exc


def _check_types(kind: type, raw: dict[str, Any], section: str) -> None:
    """Every value of ``raw`` fits the annotation of its field of the dataclass ``kind``, or one error naming each
    that does not (before the range checks of ``__post_init__``, which would fail on a wrong type unhelpfully)."""
    hints = typing.get_type_hints(kind)
    prefix = f"{section}." if section else ""
    problems = [
        f"{prefix}{f.name} {problem}"
        for f in fields(kind)  # in the order the fields are documented
        if f.name in raw and (problem := type_mismatch(hints[f.name], raw[f.name])) is not None
    ]
    if problems:
        raise ConfigError(f"invalid {section + ' ' if section else ''}config: " + "; ".join(problems))
