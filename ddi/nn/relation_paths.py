"""Relation-path block: the representation of a drug pair built from the typed paths that join the two drugs.

For a pair (head h, tail t) a path is h -[relations]- x -[relations]- t through a middle node x (a protein, or
a drug: through known interactions of the training split, or through a drug that shares proteins with the end
drug). Each drug-rooted cell (u, x) of the knowledge graph is a *slot* holding one or more relations (its set
of relations is its *slot type*); a path's message composes the head-side slot, the middle node's state and the
tail-side slot. The pair's own edge never
appears (x is never h or t), which is what keeps a training pair's label out of its input.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch_geometric.utils import scatter, softmax

from ddi.nn.composition import COMPOSITIONS


@dataclass
class PathBatch:
    """The paths of a batch of pairs.

    pair: ``P`` index of the pair each path belongs to; middle: ``P`` middle node id;
    head_slot / tail_slot: ``P`` slot-type ids of (head, middle) and (tail, middle); counts: ``B`` paths per
    pair before sampling.
    """

    pair: Tensor
    middle: Tensor
    head_slot: Tensor
    tail_slot: Tensor
    counts: Tensor

    def swapped(self) -> PathBatch:
        """The same paths read from the tail: the pairs (tail, head) share their middles with (head, tail)."""
        return PathBatch(self.pair, self.middle, self.tail_slot, self.head_slot, self.counts)


@dataclass
class PathInputs:
    """Per-graph tensors the block reads, computed once per encoding: head-side and tail-side vectors of each
    slot type (``U x d`` each) and projected node states (``N x d``)."""

    head_slots: Tensor
    tail_slots: Tensor
    nodes: Tensor


def common_middles(
    head_mask: Tensor, tail_mask: Tensor, max_paths: int, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    """Every middle node linked to both ends of each pair.

    Parameters
    ----------
    head_mask, tail_mask: ``B x N`` bool, True where the head (tail) drug has an edge to the node.
    max_paths: keep at most this many middles per pair (a random subset when ``generator`` is given, else the
        lowest node ids, which is the same set whichever drug is the head), so hub drugs do not dominate time.

    Returns
    -------
    pair, middle: ``P`` pair index and middle node of each path; counts: ``B`` middles per pair before the cap.
    """
    common = head_mask & tail_mask
    if generator is None:
        # Deterministic: the first max_paths middles by node id. nonzero lists them pair by pair in node order,
        # so each path's rank within its pair is its offset from the pair's first path: linear in the paths
        # found, where a running count over the B x N mask would touch every cell.
        pair, middle = common.nonzero(as_tuple=True)
        counts = torch.bincount(pair, minlength=common.shape[0])
        if pair.numel() and int(counts.max()) > max_paths:
            first = torch.cumsum(counts, 0) - counts
            keep = torch.arange(pair.numel()) - first[pair] < max_paths
            pair, middle = pair[keep], middle[keep]
        return pair, middle, counts
    counts = common.sum(dim=1)
    if counts.numel() and int(counts.max()) > max_paths:
        # Training: a random subset, ranked by random keys.
        keys = torch.rand(common.shape, generator=generator).masked_fill_(~common, 2.0)
        chosen = keys.topk(max_paths, dim=1, largest=False).indices
        keep = torch.zeros_like(common)
        keep.scatter_(1, chosen, True)
        common &= keep
    pair, middle = common.nonzero(as_tuple=True)
    return pair, middle, counts


class RelationPathBlock(nn.Module):
    """Encode and pool the paths of each pair; keep per-path weights for explanations.

    Projections are applied to the ``R`` relation vectors and the ``N`` node states *before* paths gather
    them (a slot vector is a sum of relation vectors, so projecting first is exact and far cheaper than
    projecting each of the ``P`` paths).

    Attention weights exist only where they pool (``aggregation`` "attention"): with sum, mean or max pooling a
    learned weight would never reach the prediction, stay untrained, and rank paths at random in explanations,
    so those blocks weigh every path of a pair equally, with or without ``attention``.

    Shapes
    ------
    rel_emb: ``R x d``; slot_types: sparse ``U x R``; node_state: ``N x d``; pair_query: ``B x d``;
    output: ``B x d`` pair vector and ``P`` per-path weights.
    """

    def __init__(self, hidden_dim: int, message: str, aggregation: str, attention: bool, dropout: float) -> None:
        super().__init__()
        self.message = message
        self.aggregation = aggregation
        self.attention = attention and aggregation == "attention"
        self.head_proj = nn.Linear(hidden_dim, hidden_dim)
        self.tail_proj = nn.Linear(hidden_dim, hidden_dim)
        self.node_proj = nn.Linear(hidden_dim, hidden_dim)
        if message == "mlp":
            self.mlp = nn.Sequential(nn.ReLU(), nn.Linear(hidden_dim, hidden_dim))
        if self.attention:
            self.att_query = nn.Linear(hidden_dim, hidden_dim)
            self.att_score = nn.Parameter(torch.empty(hidden_dim))
            nn.init.normal_(self.att_score, std=hidden_dim**-0.5)
        self.out = nn.Sequential(nn.Linear(hidden_dim, hidden_dim), nn.ReLU(), nn.Dropout(dropout))

    def prepare(self, rel_emb: Tensor, slot_types: Tensor, node_state: Tensor) -> PathInputs:
        head = torch.sparse.mm(slot_types, self.head_proj(rel_emb))
        tail = torch.sparse.mm(slot_types, self.tail_proj(rel_emb))
        return PathInputs(head, tail, self.node_proj(node_state))

    def messages(self, head_rel: Tensor, middle: Tensor, tail_rel: Tensor) -> Tensor:
        if self.message == "mlp":
            # Sum of the three projections through a small MLP: an additive (not multiplicative) composition.
            return self.mlp(head_rel + middle + tail_rel)
        compose = COMPOSITIONS[self.message]
        return compose(compose(middle, head_rel), tail_rel)

    def forward(self, paths: PathBatch, inputs: PathInputs, pair_query: Tensor) -> tuple[Tensor, Tensor]:
        middle, query = self._order_free_inputs(paths, inputs, pair_query)
        return self._pool(self._path_messages(paths, inputs, middle), paths, query, pair_query.shape[0])

    def both_orders(
        self, paths: PathBatch, inputs: PathInputs, pair_query: Tensor
    ) -> tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor]]:
        """``forward`` of the pairs and of the same pairs reversed (``paths.swapped()``), sharing what the two
        orders have in common: the middle nodes' states and the attention query (``pair_query`` is symmetric,
        head + tail)."""
        middle, query = self._order_free_inputs(paths, inputs, pair_query)
        num_pairs = pair_query.shape[0]
        return (
            self._pool(self._path_messages(paths, inputs, middle), paths, query, num_pairs),
            self._pool(self._path_messages(paths.swapped(), inputs, middle), paths, query, num_pairs),
        )

    def _order_free_inputs(
        self, paths: PathBatch, inputs: PathInputs, pair_query: Tensor
    ) -> tuple[Tensor, Tensor | None]:
        """What the paths read whichever drug is the head: ``P x d`` middle-node states and, when the block
        attends, the ``P x d`` attention query of each path's pair."""
        middle = inputs.nodes.index_select(0, paths.middle)
        query = self.att_query(pair_query).index_select(0, paths.pair) if self.attention else None
        return middle, query

    def _path_messages(self, paths: PathBatch, inputs: PathInputs, middle: Tensor) -> Tensor:
        """``P x d`` messages of the paths (``middle``: ``P x d``, the middle nodes' projected states)."""
        # index_select rather than tensor[index]: several times faster for these large row gathers on a CPU.
        head_rel = inputs.head_slots.index_select(0, paths.head_slot)
        return self.messages(head_rel, middle, inputs.tail_slots.index_select(0, paths.tail_slot))

    def _pool(self, msg: Tensor, paths: PathBatch, query: Tensor | None, num_pairs: int) -> tuple[Tensor, Tensor]:
        """``B x d`` pair vectors and ``P`` path weights from the ``P x d`` messages (``query``: ``P x d``, the
        attention query of each path's pair, when the block attends)."""
        if query is not None:
            logits = (torch.nn.functional.leaky_relu(msg + query, 0.2) * self.att_score).sum(-1)
            weight = softmax(logits, paths.pair, num_nodes=num_pairs)
        else:
            weight = 1.0 / paths.counts.clamp(min=1).to(msg.dtype).index_select(0, paths.pair)
        if self.aggregation == "attention":
            pooled = scatter(msg * weight.unsqueeze(-1), paths.pair, 0, dim_size=num_pairs, reduce="sum")
        else:
            pooled = scatter(msg, paths.pair, 0, dim_size=num_pairs, reduce=self.aggregation)
            if self.aggregation == "sum":
                pooled = pooled / 8.0  # keeps sums over dozens of paths in the range of the other inputs
        return self.out(pooled), weight
