"""``DDIModel``: molecule encoder + knowledge-graph context + relation-path block + heads.

Prediction runs in two stages so that serving is cheap: ``encode`` computes every node's state and every slot
vector once (the expensive part, shared by all pairs), then ``score_pairs`` handles any number of pairs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch

from ddi.models.config import ModelConfig
from ddi.models.graph_tensors import ModelGraph
from ddi.models.neighbour_votes import vote_distribution
from ddi.nn.head_flow import FlowGraph, HeadFlow
from ddi.nn.heads import InteractionHeads
from ddi.nn.kg_context import RelationalContextLayer
from ddi.nn.molecule_encoder import MoleculeEncoder
from ddi.nn.relation_paths import PathBatch, PathInputs, RelationPathBlock, common_middles

#: Hidden width of a flow expert's classifier (``ModelConfig.flow_expert``).
FLOW_CLASSIFIER_WIDTH = 256


@dataclass
class DrugProjection:
    """The heads' first layer applied once to each drug's own features, for inference.

    That layer is linear and its input concatenates per-drug blocks (the head's and the tail's state and
    fingerprint features) with per-pair blocks (their product, the paths, the rules). So for a pair its output is
    ``as_head[h] + as_tail[t] + pair_part @ pair_weight^T``, with the bias folded into ``as_head``: precomputing
    the per-drug terms leaves a fifth of the layer's columns to multiply per pair. Exact up to float rounding.

    Shapes
    ------
    as_head (bias included), as_tail: ``N x W``; head_weight, tail_weight: ``W x F`` (F = the per-drug feature width);
    pair_weight: ``W x P``; bias: ``W``; sparse_columns: how many of the last pair columns are mostly zero
    (the look-alike votes: about 9 of 346 are non-zero per pair) and are multiplied as a sparse matrix.
    """

    as_head: Tensor
    as_tail: Tensor
    head_weight: Tensor
    tail_weight: Tensor
    pair_weight: Tensor
    bias: Tensor | None
    sparse_columns: int = 0

    def __post_init__(self) -> None:
        split = self.pair_weight.shape[1] - self.sparse_columns
        self._dense_weight_t = self.pair_weight[:, :split].t().contiguous()  # P' x W
        self._sparse_weight_t = self.pair_weight[:, split:].t().contiguous()  # S x W

    def with_drugs(self, features: Tensor) -> DrugProjection:
        """This projection with rows for ``M`` more drugs (``features``: ``M x F``) appended."""
        as_head, as_tail = _drug_terms(features, self.head_weight, self.tail_weight, self.bias)
        return replace(self, as_head=torch.cat([self.as_head, as_head]), as_tail=torch.cat([self.as_tail, as_tail]))

    def first_layer(
        self, heads: Tensor, tails: Tensor, dense_part: Tensor | None, sparse_part: Tensor | None
    ) -> Tensor:
        """``B x W``: the first layer's output for the pairs (``heads``, ``tails``) with pair columns
        ``[dense_part, sparse_part]`` (``B x P'`` and ``B x sparse_columns``; None where there are none).

        Every step accumulates into the one fresh ``B x W`` tensor: at the widths served, allocating and
        reading a temporary per sum cost more than the sums themselves. The sparse (vote) columns go through a
        CSR product, several times faster than a dense one at their density."""
        out = self.as_head.index_select(0, heads)
        out += self.as_tail.index_select(0, tails)
        if dense_part is not None:
            out.addmm_(dense_part, self._dense_weight_t)
        if sparse_part is not None and sparse_part.shape[0]:
            out += sparse_part.to_sparse_csr() @ self._sparse_weight_t
        return out


def _drug_terms(
    features: Tensor, head_weight: Tensor, tail_weight: Tensor, bias: Tensor | None
) -> tuple[Tensor, Tensor]:
    """``DrugProjection``'s per-drug terms of ``N`` drugs (``N x F`` features): as head (bias included), as tail."""
    as_head = features @ head_weight.t()
    if bias is not None:
        as_head += bias
    return as_head, features @ tail_weight.t()


@dataclass
class Encoded:
    """Node states ``N x d`` of one graph, what the path block reads from it, the drugs' fingerprint features
    for the heads (``N x fingerprint_pair_dim``, zero rows for proteins; None when the model has none),
    optionally the precomputed per-drug part of the heads' first layer (``DDIModel.project_drugs``), the
    leak-free graph the flow propagates over (None without a flow) and, for a flow expert, which of its ``N``
    nodes are drugs with interactions in it (``N`` bool).
    """

    node_state: Tensor
    path_inputs: PathInputs | None
    pair_structure: Tensor | None = None
    projection: DrugProjection | None = None
    flow_graph: FlowGraph | None = field(default=None, kw_only=True)
    known_drugs: Tensor | None = field(default=None, kw_only=True)

    def drug_features(self, state: Tensor | None = None, pair_structure: Tensor | None = None) -> Tensor:
        """``N x F`` per-drug inputs of the heads, in their column order: state, then fingerprint features."""
        state = self.node_state if state is None else state
        pair_structure = self.pair_structure if pair_structure is None else pair_structure
        return state if pair_structure is None else torch.cat([state, pair_structure], dim=-1)

    def with_drugs(self, state: Tensor, pair_structure: Tensor | None) -> Encoded:
        """This encoding with ``M`` more drug rows appended (drugs known only by structure)."""
        extra = None
        if self.pair_structure is not None and pair_structure is not None:
            extra = torch.cat([self.pair_structure, pair_structure])
        projection = None
        if self.projection is not None:
            projection = self.projection.with_drugs(self.drug_features(state, pair_structure))
        return replace(
            self, node_state=torch.cat([self.node_state, state]), pair_structure=extra, projection=projection
        )


#: A batch's precomputed pair features (``score_pairs``) in both orders: (head, tail) and (tail, head).
PairFeatures = tuple[Tensor | None, Tensor | None]


@dataclass
class PairOutput:
    """Scores of ``B`` ordered pairs: ``type_logits`` (``B x C``), ``exists_logits`` (``B``), the paths used
    and their weights (``P``), for explanations."""

    type_logits: Tensor
    exists_logits: Tensor
    paths: PathBatch | None
    path_weights: Tensor | None


def relation_profile(source: Tensor, edge_type: Tensor, graph: ModelGraph) -> Tensor:
    """``N x R`` log-counts of each node's outgoing edges per relation (over the edges given, so the caller's
    leak-free context graph decides what is counted)."""
    counts = torch.zeros(graph.num_nodes * graph.num_relations)
    counts.index_add_(0, source * graph.num_relations + edge_type, torch.ones(source.shape[0]))
    return torch.log1p(counts.view(graph.num_nodes, graph.num_relations))


def drugs_with_interactions(edge_index: Tensor, edge_type: Tensor, graph: ModelGraph) -> Tensor:
    """``N`` bool: the nodes with an interaction edge among the edges given (the caller's context graph: a new
    drug, or one hidden in training, has none)."""
    known = torch.zeros(graph.num_nodes, dtype=torch.bool)
    known[edge_index[0][graph.interaction_relations()[edge_type]]] = True
    return known


def _default_prior(module: nn.Module, state_dict: dict, prefix: str, *args) -> None:
    """Load-state-dict pre-hook: a checkpoint without the prior-correction, vote-blend or flow-weight buffers gets
    "none"."""
    for name in ("class_log_prior", "prior_adjustment", "vote_blend", "flow_weight"):
        if prefix + name not in state_dict:
            state_dict[prefix + name] = torch.zeros_like(getattr(module, name))


class DDIModel(nn.Module):
    """Knowledge-aware DDI model; see ``ModelConfig`` for the choices it exposes.

    Parameters
    ----------
    config: architecture.
    num_drugs, num_nodes, num_relations: sizes of the graph it is built for.
    atom_dim, bond_dim: molecule feature widths.
    num_classes: oriented interaction classes (2 x types).
    num_rules: width of the pharmacology-rule features.
    num_votes: width of the neighbour-vote features (``NeighbourVotes.width``; used when the config asks).
    """

    class_log_prior: Tensor
    prior_adjustment: Tensor
    vote_blend: Tensor
    flow_weight: Tensor

    def __init__(
        self,
        config: ModelConfig,
        num_drugs: int,
        num_nodes: int,
        num_relations: int,
        atom_dim: int,
        bond_dim: int,
        num_classes: int,
        num_rules: int,
        num_votes: int = 0,
    ) -> None:
        super().__init__()
        self.config = config
        d = config.hidden_dim
        self.num_drugs = num_drugs
        self.molecule_encoder: MoleculeEncoder | None = None
        self.fingerprint_encoder: nn.Linear | None = None
        self.drug_embedding: nn.Embedding | None = None
        if config.use_molecule and config.mol_layers > 0:
            self.molecule_encoder = MoleculeEncoder(
                atom_dim, bond_dim, config.mol_hidden_dim, config.mol_layers, out_dim=d
            )
        self.fingerprint_pair: nn.Linear | None = None
        if config.use_molecule and config.fingerprint_bits > 0:
            self.fingerprint_encoder = nn.Linear(config.fingerprint_bits, d)
            if config.fingerprint_pair_dim > 0:
                self.fingerprint_pair = nn.Linear(config.fingerprint_bits, config.fingerprint_pair_dim)
        if self.uses_structure:
            self.no_structure = nn.Parameter(torch.zeros(d))
        else:
            self.drug_embedding = nn.Embedding(num_drugs, d)
        self.protein_embedding = nn.Embedding(max(num_nodes - num_drugs, 1), d)
        self.relation_embedding = nn.Embedding(num_relations, d)
        self.profile = nn.Linear(num_relations, d) if config.relation_profile else None
        self.drug_id_embedding = nn.Embedding(num_drugs, d) if config.drug_id_embedding else None
        self.context = nn.ModuleList(RelationalContextLayer(d, config.message) for _ in range(config.kg_layers))
        self.path_block = (
            RelationPathBlock(d, config.message, config.aggregation, config.attention, config.dropout)
            if config.path_length > 0
            else None
        )
        self.flow = HeadFlow(d, config.flow_dim, num_relations, config.flow_layers) if config.flow_layers > 0 else None
        # A flow expert has a classifier of its own over [flow, head state, tail state]; otherwise the flow is
        # one more block of the heads' pair columns.
        self.flow_classifier: nn.Sequential | None = None
        self.flow_drug_embedding: nn.Embedding | None = None
        if self.flow is not None and config.flow_expert:
            # The expert's own vector per known drug: its start state and its classifier learn what a drug's
            # partners share, which the frozen states were not trained to carry.
            self.flow_drug_embedding = nn.Embedding(num_drugs, config.flow_dim)
            self.flow_classifier = nn.Sequential(
                nn.Linear(3 * config.flow_dim + 2 * d, FLOW_CLASSIFIER_WIDTH),
                nn.ReLU(),
                nn.Dropout(config.dropout),
                nn.Linear(FLOW_CLASSIFIER_WIDTH, num_classes),
            )
        self.num_rules = num_rules if config.use_rules else 0
        self.num_votes = num_votes if config.neighbour_votes else 0
        pair_dim = (3 if config.combine == "concat_product" else 2) * d
        pair_dim += (d + 1 if self.path_block is not None else 0) + self.pair_feature_width
        pair_dim += 2 * config.fingerprint_pair_dim if self.fingerprint_pair is not None else 0
        pair_dim += config.flow_dim if self.flow is not None and self.flow_classifier is None else 0
        self.pair_dropout = nn.Dropout(config.dropout)
        self.heads = InteractionHeads(pair_dim, config.head_dim, num_classes, config.dropout)
        # Prior correction of the type decision (``class_probs``), fitted after training; zero = none. Saved with
        # the weights; checkpoints written before it existed load with the defaults (``_default_prior``).
        self.register_buffer("class_log_prior", torch.zeros(num_classes))
        self.register_buffer("prior_adjustment", torch.zeros(()))
        # Weight of the look-alike vote in the type decision (``class_probs``), fitted on validation like the
        # prior correction; zero = the heads alone.
        self.register_buffer("vote_blend", torch.zeros(()))
        # Weight of a flow expert's type logits, added to the heads' (fitted on validation; zero = none).
        self.register_buffer("flow_weight", torch.zeros(()))
        self.register_load_state_dict_pre_hook(_default_prior)
        self.reset_parameters()

    def class_probs(self, type_logits: Tensor, vote_probs: Tensor | None = None) -> Tensor:
        """``B x C`` class probabilities with the prior correction: ``softmax(logits - tau * log prior)``, blended
        with the look-alike vote where the model has one: ``(1 - w) p + w v`` (``vote_probs``: ``B x C`` from
        ``vote_probs``, NaN rows where no look-alike voted, which keep ``p``).

        Training fits the logits to the training split's type frequencies, so rare types lose close calls to
        common ones; dividing each class's probability by its training prior to the power ``tau`` (fitted on
        validation macro-F1, see ``ddi.train.prior``) is the post-hoc logit adjustment of Menon et al. 2021,
        "Long-tail learning via logit adjustment". ``tau = 0`` leaves the probabilities unchanged.
        """
        probs = (type_logits - self.prior_adjustment * self.class_log_prior).softmax(-1)
        if vote_probs is None or float(self.vote_blend) == 0.0:
            return probs
        votes = torch.where(vote_probs.isnan(), probs, vote_probs)
        return (1.0 - self.vote_blend) * probs + self.vote_blend * votes

    def vote_probs(self, pair_features: Tensor | None) -> Tensor | None:
        """``B x C`` class distribution of the look-alike vote in ``pair_features`` (``vote_distribution``: NaN
        rows where none voted); None for a model without votes."""
        if not self.num_votes or pair_features is None:
            return None
        return vote_distribution(pair_features[:, self.num_rules :], self.class_log_prior.shape[0])

    def set_vote_blend(self, weight: float) -> None:
        """Set the weight of the look-alike vote in ``class_probs`` (0 = none)."""
        with torch.no_grad():
            self.vote_blend.fill_(float(weight))

    def set_flow_weight(self, weight: float) -> None:
        """Set the weight of the flow expert's type logits (0 = the heads alone)."""
        with torch.no_grad():
            self.flow_weight.fill_(float(weight))

    @contextmanager
    def flow_expert_off(self) -> Iterator[None]:
        """Score without the flow expert inside the block (its weight set to 0, then restored): for answers that
        do not read the types, such as the exists score of sampled unlisted pairs."""
        weight = float(self.flow_weight)
        self.set_flow_weight(0.0)
        try:
            yield
        finally:
            self.set_flow_weight(weight)

    @property
    def flow_in_use(self) -> bool:
        """Whether scoring reads the flow: it feeds the heads, or it is an expert with a non-zero weight."""
        return self.flow is not None and (self.flow_classifier is None or float(self.flow_weight) != 0.0)

    def set_prior_adjustment(self, class_log_prior: Tensor, tau: float) -> None:
        """Set the correction ``class_probs`` applies (``class_log_prior``: ``C`` log frequencies)."""
        with torch.no_grad():
            self.class_log_prior.copy_(class_log_prior)
            self.prior_adjustment.fill_(float(tau))

    def reset_parameters(self) -> None:
        nn.init.normal_(self.protein_embedding.weight, std=0.1)
        nn.init.normal_(self.relation_embedding.weight, mean=0.0, std=0.5)
        if self.drug_embedding is not None:
            nn.init.normal_(self.drug_embedding.weight, std=0.1)
        if self.drug_id_embedding is not None:
            nn.init.zeros_(self.drug_id_embedding.weight)  # starts as the model without it
        if self.flow_drug_embedding is not None:
            nn.init.normal_(self.flow_drug_embedding.weight, std=1.0)

    @property
    def pair_feature_width(self) -> int:
        """Width of the precomputed pair features ``score_pairs`` takes: the rules, then the neighbour votes."""
        return self.num_rules + self.num_votes

    @property
    def uses_structure(self) -> bool:
        """Whether drugs start from their structure (GNN and/or fingerprint) rather than per-drug vectors."""
        return self.molecule_encoder is not None or self.fingerprint_encoder is not None

    def drug_states(
        self, molecules: Batch | None, has_graph: Tensor | None, fingerprints: Tensor | None = None
    ) -> Tensor:
        """Initial drug states ``D x d`` from structure (or learned per-drug vectors in the graph-only ablation).

        ``molecules`` holds ``D`` graphs (empty where a drug has no structure), ``has_graph`` is ``D`` bool and
        ``fingerprints`` is ``D x fingerprint_bits``; each is needed only when the part that reads it exists.
        """
        if not self.uses_structure:
            return self.drug_embedding.weight  # type: ignore[union-attr]
        assert has_graph is not None
        states = torch.zeros(has_graph.shape[0], self.config.hidden_dim)
        if self.molecule_encoder is not None:
            assert molecules is not None
            states = states + self.molecule_encoder(
                molecules.x, molecules.edge_index, molecules.edge_attr, molecules.batch, molecules.num_graphs
            )
        if self.fingerprint_encoder is not None:
            assert fingerprints is not None
            states = states + self.fingerprint_encoder(fingerprints)
        return torch.where(has_graph.unsqueeze(-1), states, self.no_structure.expand_as(states))

    def encode(
        self,
        graph: ModelGraph,
        molecules: Batch | None,
        has_graph: Tensor | None,
        drop_pair_keys: Tensor | None = None,
        hidden_drugs: Tensor | None = None,
        fingerprints: Tensor | None = None,
    ) -> Encoded:
        """States of all nodes after the context layers, and the slot vectors the paths use."""
        drugs = self.drug_states(molecules, has_graph, fingerprints)
        node_state = torch.cat([drugs, self.protein_embedding.weight], dim=0)
        node_state = node_state[: graph.num_nodes]
        if self.context or self.profile is not None or self.drug_id_embedding is not None or self.flow is not None:
            edge_index, edge_type = graph.context_edges(drop_pair_keys, hidden_drugs)
        if self.profile is not None:
            node_state = node_state + self.profile(relation_profile(edge_index[0], edge_type, graph))
        if self.drug_id_embedding is not None:
            node_state = node_state + self.known_drug_vectors(edge_index, edge_type, graph)
        for layer in self.context:
            node_state = layer(node_state, edge_index, edge_type, self.relation_embedding.weight)
        path_inputs = None
        if self.path_block is not None:
            path_inputs = self.path_block.prepare(self.relation_embedding.weight, graph.slot_types, node_state)
        pair_structure = self.pair_structure(fingerprints)
        if pair_structure is not None:
            proteins = pair_structure.new_zeros(graph.num_nodes - pair_structure.shape[0], pair_structure.shape[1])
            pair_structure = torch.cat([pair_structure, proteins])
        flow_graph, known = None, None
        if self.flow is not None:
            flow_graph = FlowGraph.from_edges(edge_index, edge_type, graph.num_nodes, graph.num_relations)
        if self.flow_drug_embedding is not None:
            known = drugs_with_interactions(edge_index, edge_type, graph)
        return Encoded(node_state, path_inputs, pair_structure, flow_graph=flow_graph, known_drugs=known)

    def known_drug_vectors(self, edge_index: Tensor, edge_type: Tensor, graph: ModelGraph) -> Tensor:
        """``N x d``: each drug's learned vector where it has an interaction edge in the context graph, else 0
        (proteins, new drugs, and hidden drugs in training, which imitate new ones)."""
        assert self.drug_id_embedding is not None
        known = drugs_with_interactions(edge_index, edge_type, graph)
        vectors = torch.zeros(graph.num_nodes, self.config.hidden_dim)
        vectors[: self.num_drugs] = self.drug_id_embedding.weight
        return vectors * known.unsqueeze(-1)

    def pair_structure(self, fingerprints: Tensor | None) -> Tensor | None:
        """``M x fingerprint_pair_dim`` fingerprint features the heads read directly (None if the model has none)."""
        if self.fingerprint_pair is None:
            return None
        assert fingerprints is not None
        return self.fingerprint_pair(fingerprints)

    def encode_isolated_drugs(self, molecules: Batch, fingerprints: Tensor | None = None) -> Tensor:
        """States ``M x d`` of drugs known only by structure: no edges, so context layers see no neighbours."""
        if not self.uses_structure:
            raise ValueError("this model has no structure input; it cannot score drugs outside its data")
        state = self.drug_states(molecules, torch.ones(molecules.num_graphs, dtype=torch.bool), fingerprints)
        if self.profile is not None:
            state = state + self.profile.bias  # no edges: an all-zero profile
        no_edges = torch.zeros(2, 0, dtype=torch.long)
        for layer in self.context:
            state = layer(state, no_edges, torch.zeros(0, dtype=torch.long), self.relation_embedding.weight)
        return state

    def find_paths(
        self,
        graph: ModelGraph,
        heads: Tensor,
        tails: Tensor,
        hidden_drugs: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> PathBatch:
        """The head - middle - tail paths of each ordered pair, capped at ``max_paths`` per pair."""
        pair, middle, counts = common_middles(
            graph.slot_mask_rows(heads, hidden_drugs),
            graph.slot_mask_rows(tails, hidden_drugs),
            self.config.max_paths,
            generator,
        )
        return PathBatch(
            pair,
            middle,
            graph.slot_ids(heads[pair], middle, hidden_drugs),
            graph.slot_ids(tails[pair], middle, hidden_drugs),
            counts,
        )

    def score_pairs(
        self,
        encoded: Encoded,
        graph: ModelGraph,
        heads: Tensor,
        tails: Tensor,
        pair_features: Tensor | None,
        hidden_drugs: Tensor | None = None,
        generator: torch.Generator | None = None,
        paths: PathBatch | None = None,
        flow: Tensor | None = None,
    ) -> PairOutput:
        """Logits for the ordered pairs (heads[i], tails[i]) (drug node ids).

        ``pair_features``: ``B x pair_feature_width`` (rule features, then neighbour votes), None when the width
        is 0. ``paths`` may be given when already known, e.g. ``swapped()`` paths of the same pairs in the other order,
        and ``flow`` (``B x flow_dim``, ``pair_flows``) when computed for more pairs at once.
        """
        zh, zt = encoded.node_state.index_select(0, heads), encoded.node_state.index_select(0, tails)
        pair_parts = self._product_columns(zh, zt)
        weights = None
        if self.path_block is not None:
            if paths is None:
                paths = self.find_paths(graph, heads, tails, hidden_drugs, generator)
            path_vec, weights = self.path_block(paths, encoded.path_inputs, zh + zt)
            pair_parts += self._path_columns(path_vec, paths)
        pair_parts += self._flow_columns(encoded, heads, tails, flow)
        projection = encoded.projection if not self.training else None
        if projection is not None:
            first = self._projected_first_layer(projection, heads, tails, pair_parts, pair_features)
            type_logits, exists_logits = self.heads.from_first_layer(first)
            type_logits = self._with_flow_expert(type_logits, encoded, heads, tails, flow)
            return PairOutput(type_logits, exists_logits, paths, weights)
        if self.pair_feature_width:
            assert pair_features is not None
            pair_parts.append(pair_features)
        parts = [zh, zt, *pair_parts]
        if encoded.pair_structure is not None:
            parts += [
                self.pair_dropout(encoded.pair_structure.index_select(0, heads)),
                self.pair_dropout(encoded.pair_structure.index_select(0, tails)),
            ]
        type_logits, exists_logits = self.heads(torch.cat(parts, dim=-1))
        type_logits = self._with_flow_expert(type_logits, encoded, heads, tails, flow)
        return PairOutput(type_logits, exists_logits, paths, weights)

    def score_both_orders(
        self,
        encoded: Encoded,
        graph: ModelGraph,
        heads: Tensor,
        tails: Tensor,
        features: PairFeatures,
        flows: tuple[Tensor, Tensor] | None = None,
    ) -> tuple[PairOutput, PairOutput]:
        """``score_pairs`` of (heads, tails) and of (tails, heads) (``features``: the pair features in each
        order; ``flows``: each order's ``pair_flows`` where already computed). For serving (eval mode with a
        ``DrugProjection``) the two orders share the drugs' states, their product, the paths and what the path
        block computes from the pair alone; otherwise this is two ``score_pairs`` calls."""
        projection = encoded.projection if not self.training else None
        forward_flow, backward_flow = flows if flows is not None else (None, None)
        if projection is None or self.path_block is None or encoded.path_inputs is None:
            forward = self.score_pairs(encoded, graph, heads, tails, features[0], flow=forward_flow)
            # The reverse order walks the same paths: reuse them instead of searching again.
            reverse_paths = forward.paths.swapped() if forward.paths is not None else None
            backward = self.score_pairs(
                encoded, graph, tails, heads, features[1], paths=reverse_paths, flow=backward_flow
            )
            return forward, backward
        zh, zt = encoded.node_state.index_select(0, heads), encoded.node_state.index_select(0, tails)
        paths = self.find_paths(graph, heads, tails)
        orders = self.path_block.both_orders(paths, encoded.path_inputs, zh + zt)
        product = self._product_columns(zh, zt)  # symmetric: shared by both orders
        outputs = []
        for (h, t), (path_vec, weights), order_paths, order_features, flow in zip(
            ((heads, tails), (tails, heads)),
            orders,
            (paths, paths.swapped()),
            features,
            (forward_flow, backward_flow),
            strict=True,
        ):
            pair_parts = product + self._path_columns(path_vec, paths) + self._flow_columns(encoded, h, t, flow)
            first = self._projected_first_layer(projection, h, t, pair_parts, order_features)
            type_logits, exists_logits = self.heads.from_first_layer(first)
            type_logits = self._with_flow_expert(type_logits, encoded, h, t, flow)
            outputs.append(PairOutput(type_logits, exists_logits, order_paths, weights))
        return outputs[0], outputs[1]

    def _product_columns(self, zh: Tensor, zt: Tensor) -> list[Tensor]:
        """The heads' pair columns from the two drugs' states (their product, when the config combines so)."""
        return [zh * zt] if self.config.combine == "concat_product" else []

    def pair_flows(self, encoded: Encoded, heads: Tensor, tails: Tensor) -> Tensor | None:
        """``B x flow_dim`` flow vectors of the ordered pairs (None without a flow). Each distinct head costs one
        propagation per call, so scoring many pairs is cheapest with one call for all of them."""
        if self.flow is None:
            return None
        assert encoded.flow_graph is not None
        extra = None
        if self.flow_drug_embedding is not None:  # an expert's heads also start from its own vectors
            extra = self._expert_drug_vectors(encoded, torch.arange(encoded.node_state.shape[0]))
        return self.flow(encoded.node_state, encoded.flow_graph, heads, tails, extra)

    def flow_type_logits(self, encoded: Encoded, heads: Tensor, tails: Tensor, flow: Tensor | None = None) -> Tensor:
        """``B x C`` type logits of the flow expert alone for the ordered pairs (``flow``: their ``pair_flows``,
        computed here if not given)."""
        assert self.flow_classifier is not None, "the model has no flow expert"
        if flow is None:
            flow = self.pair_flows(encoded, heads, tails)
            assert flow is not None
        zh, zt = encoded.node_state.index_select(0, heads), encoded.node_state.index_select(0, tails)
        eh, et = self._expert_drug_vectors(encoded, heads), self._expert_drug_vectors(encoded, tails)
        return self.flow_classifier(torch.cat([flow, zh, zt, eh, et], dim=-1))

    def _expert_drug_vectors(self, encoded: Encoded, nodes: Tensor) -> Tensor:
        """``B x flow_dim``: the flow expert's vector of each node where it is a drug with interactions in the
        encoded graph, else 0 (proteins, new or hidden drugs, drugs known only by structure)."""
        assert self.flow_drug_embedding is not None and encoded.known_drugs is not None
        known_drugs = encoded.known_drugs
        inside = nodes < known_drugs.shape[0]
        safe = torch.where(inside, nodes, torch.zeros_like(nodes))
        known = inside & known_drugs.index_select(0, safe) & (safe < self.num_drugs)
        vectors = self.flow_drug_embedding(safe.clamp(max=self.num_drugs - 1))
        return vectors * known.unsqueeze(-1)

    def _with_flow_expert(
        self, type_logits: Tensor, encoded: Encoded, heads: Tensor, tails: Tensor, flow: Tensor | None
    ) -> Tensor:
        """The heads' type logits plus the flow expert's, weighted by ``flow_weight`` (unchanged while that is
        zero: without an expert, and while the rest of the model trains, before the expert has learned)."""
        if self.flow_classifier is None or float(self.flow_weight) == 0.0:
            return type_logits
        return type_logits + self.flow_weight * self.flow_type_logits(encoded, heads, tails, flow)

    def _flow_columns(self, encoded: Encoded, heads: Tensor, tails: Tensor, flow: Tensor | None) -> list[Tensor]:
        """The heads' pair columns from the flow: ``B x flow_dim`` (``flow`` if given; none without a flow, or
        where the flow is an expert of its own)."""
        if self.flow_classifier is not None:
            return []
        if flow is None:
            flow = self.pair_flows(encoded, heads, tails)
        return [] if flow is None else [flow]

    @staticmethod
    def _path_columns(path_vec: Tensor, paths: PathBatch) -> list[Tensor]:
        """The heads' pair columns from the path block: its ``B x d`` vector and the scaled log path count."""
        return [path_vec, torch.log1p(paths.counts.to(path_vec.dtype)).unsqueeze(-1) / 5.0]

    def _projected_first_layer(
        self,
        projection: DrugProjection,
        heads: Tensor,
        tails: Tensor,
        pair_parts: list[Tensor],
        pair_features: Tensor | None,
    ) -> Tensor:
        """``B x W`` output of the heads' first layer through the drug projection: the per-drug terms looked up,
        the pair columns (``pair_parts``, then the rules and votes of ``pair_features``) multiplied."""
        sparse_part = None
        if self.pair_feature_width:
            assert pair_features is not None
            split = pair_features.shape[1] - projection.sparse_columns
            pair_parts = [*pair_parts, pair_features[:, :split]]
            sparse_part = pair_features[:, split:] if projection.sparse_columns else None
        dense_part = torch.cat(pair_parts, dim=-1) if pair_parts else None
        return projection.first_layer(heads, tails, dense_part, sparse_part)

    def head_input_columns(self) -> dict[str, Tensor]:
        """Column indices of the heads' input read from the head drug, the tail drug, and the pair (the order
        ``score_pairs`` concatenates them in)."""
        d, fp = self.config.hidden_dim, self.config.fingerprint_pair_dim if self.fingerprint_pair is not None else 0
        pair_width = self.heads.in_dim - 2 * d - 2 * fp
        blocks = [("head", d), ("tail", d), ("pair", pair_width), ("head", fp), ("tail", fp)]
        columns: dict[str, list[int]] = {"head": [], "tail": [], "pair": []}
        start = 0
        for role, width in blocks:
            columns[role] += range(start, start + width)
            start += width
        return {role: torch.tensor(cols, dtype=torch.long) for role, cols in columns.items()}

    @torch.no_grad()
    def project_drugs(self, encoded: Encoded) -> Encoded:
        """``encoded`` with its ``DrugProjection`` (faster scoring in eval mode); unchanged where the heads'
        first layer is not a plain (possibly masked) ``nn.Linear``, e.g. after sparse-inference swapping."""
        first = self.heads.trunk[0]
        if not isinstance(first, nn.Linear):
            return encoded
        weight = first.weight.detach()
        cols = self.head_input_columns()
        head_weight, tail_weight = weight[:, cols["head"]].contiguous(), weight[:, cols["tail"]].contiguous()
        bias = None if first.bias is None else first.bias.detach()
        projection = DrugProjection(
            *_drug_terms(encoded.drug_features(), head_weight, tail_weight, bias),
            head_weight,
            tail_weight,
            weight[:, cols["pair"]].contiguous(),
            bias,
            sparse_columns=self.num_votes,
        )
        return replace(encoded, projection=projection)
