"""Head-conditioned flow: a pair's state built from every typed walk of up to L steps between its two drugs.

The relation-path block pools at most ``max_paths`` listed head - x - tail paths. The flow (NBFNet, Zhu et al.
2021; EmerGNN, Zhang et al. 2023) instead starts a state at the head drug, propagates it over the whole typed
graph for L layers and reads it at the tail, so every walk of up to L edges counts, weighted by relation vectors
the model learns. It costs one propagation per distinct head drug; pairs that share a head share it, which is
why training batches are grouped by head when a model has a flow (``ddi.train.batches``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from torch import Tensor, nn


@dataclass
class FlowGraph:
    """The edges of one (leak-free) graph grouped by (destination node, relation), as ``HeadFlow`` reads them.

    DistMult messages ``h_u * r`` factor per group: the sources of a group are summed first, by one sparse
    product over all edges, then each group is multiplied once by its relation's vector. DrugBank's 288 k edges
    form about 21 k groups, so that product is the only step whose cost grows with the edges.

    Shapes
    ------
    adjacency: sparse CSR ``G x N``, entry ``1 / sqrt(deg(u) deg(v))`` per edge (u -> v) in group v's row;
    group_node, group_relation: ``G`` destination node and relation of each group.
    """

    adjacency: Tensor
    group_node: Tensor
    group_relation: Tensor
    num_nodes: int

    @classmethod
    def from_edges(cls, edge_index: Tensor, edge_type: Tensor, num_nodes: int, num_relations: int) -> FlowGraph:
        """Group ``E`` edges (``edge_index``: ``2 x E``, ``edge_type``: ``E``) of a graph of ``num_nodes`` nodes."""
        src, dst = edge_index
        degree = torch.zeros(num_nodes).index_add_(0, dst, torch.ones(dst.shape[0]))
        scale = degree.clamp(min=1.0).rsqrt()
        groups, edge_group = torch.unique(dst * num_relations + edge_type, return_inverse=True)
        adjacency = torch.sparse_coo_tensor(
            torch.stack([edge_group, src]), scale[src] * scale[dst], (groups.shape[0], num_nodes), check_invariants=True
        )
        with warnings.catch_warnings():  # "sparse CSR support is in beta": the product used here is long stable
            warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta", category=UserWarning)
            adjacency = adjacency.coalesce().to_sparse_csr()
        return cls(
            adjacency,
            groups // num_relations,
            groups % num_relations,
            num_nodes,
        )


class FlowLayer(nn.Module):
    """One step ``h_v <- h_v + relu(norm(W [sum_(u, r, v) h_u * e_r + boundary_v, h_v]))`` for ``B`` heads at once.

    Shapes
    ------
    state, boundary: ``N x B x d`` (``boundary`` is the heads' start states, zero elsewhere); output ``N x B x d``.
    """

    def __init__(self, dim: int, num_relations: int) -> None:
        super().__init__()
        self.relation = nn.Embedding(num_relations, dim)
        self.update = nn.Linear(2 * dim, dim)
        self.norm = nn.LayerNorm(dim)
        nn.init.normal_(self.relation.weight, std=1.0)

    def forward(self, state: Tensor, boundary: Tensor, graph: FlowGraph) -> Tensor:
        n, b, d = state.shape
        grouped = torch.sparse.mm(graph.adjacency, state.reshape(n, b * d)).view(-1, b, d)  # G x B x d
        message = grouped * self.relation(graph.group_relation).unsqueeze(1)
        incoming = torch.zeros_like(state).index_add_(0, graph.group_node, message) + boundary
        return state + torch.relu(self.norm(self.update(torch.cat([incoming, state], dim=-1))))


class HeadFlow(nn.Module):
    """``B x dim`` flow vectors of ordered pairs: the state at the tail of a propagation started at the head.

    Parameters
    ----------
    in_dim: width of the node states a head starts from (its drug state: structure, and its learned vector where
        it has one), projected to ``dim``.
    dim: width of the flow states; kept small because every head carries an ``N x dim`` state.
    num_relations: relation types of the graph.
    layers: propagation steps L (walks of up to L edges reach the tail).
    heads_per_pass: heads propagated together; bounds memory at ``N x heads_per_pass x dim`` per state.
    """

    def __init__(self, in_dim: int, dim: int, num_relations: int, layers: int, heads_per_pass: int = 64) -> None:
        super().__init__()
        self.dim = dim
        self.heads_per_pass = heads_per_pass
        self.start = nn.Linear(in_dim, dim)
        self.layers = nn.ModuleList(FlowLayer(dim, num_relations) for _ in range(layers))

    def propagate(self, graph: FlowGraph, start: Tensor, heads: Tensor) -> Tensor:
        """``N x B x dim`` states of a flow from each of ``B`` heads (node ids) with start states ``start``
        (``B x dim``)."""
        b = heads.shape[0]
        boundary = start.new_zeros(graph.num_nodes, b, self.dim).index_put((heads, torch.arange(b)), start)
        state = boundary
        for layer in self.layers:
            state = layer(state, boundary, graph)
        return state

    def forward(
        self, node_state: Tensor, graph: FlowGraph, heads: Tensor, tails: Tensor, start_extra: Tensor | None = None
    ) -> Tensor:
        """``B x dim`` for the pairs (heads[i], tails[i]); zero where a drug is outside the graph (a drug known
        only by its structure has no edges, so no flow reaches or leaves it).

        ``node_state``: ``M x in_dim`` (``M >= N``: rows past the graph's are such outside drugs);
        ``start_extra``: ``M x dim`` added to each head's projected start state (None: nothing)."""
        inside = ((heads < graph.num_nodes) & (tails < graph.num_nodes)).nonzero().squeeze(1)
        out = node_state.new_zeros(heads.shape[0], self.dim)
        if inside.numel() == 0:
            return out
        distinct, row = torch.unique(heads[inside], return_inverse=True)
        pairs, values = [], []
        for first in range(0, distinct.shape[0], self.heads_per_pass):
            chunk = distinct[first : first + self.heads_per_pass]
            start = self.start(node_state.index_select(0, chunk))
            if start_extra is not None:
                start = start + start_extra.index_select(0, chunk)
            states = self.propagate(graph, start, chunk)
            here = ((row >= first) & (row < first + chunk.shape[0])).nonzero().squeeze(1)
            pairs.append(inside[here])
            values.append(states[tails[inside[here]], row[here] - first])
        return out.index_copy(0, torch.cat(pairs), torch.cat(values))
