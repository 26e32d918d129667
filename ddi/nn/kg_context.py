"""Knowledge-graph context layer: every node gathers relation-composed messages from its neighbours.

Run over the whole graph once per batch (one sparse scatter), it gives each drug a summary of its targets,
enzymes and known interactions, and each protein a summary of its drugs.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.utils import scatter

from ddi.nn.composition import COMPOSITIONS


class RelationalContextLayer(nn.Module):
    """One residual step ``h_v <- h_v + relu(norm(mean_{(u, r, v)} compose(W h_u, e_r)))``.

    Shapes
    ------
    node_state: ``N x d``; edge_index: ``2 x E``; edge_type: ``E``; rel_emb: ``R x d``; output ``N x d``.
    """

    def __init__(self, hidden_dim: int, message: str) -> None:
        super().__init__()
        # mlp paths have no CompGCN analogue; compose by multiplication then.
        self.compose = COMPOSITIONS.get(message, COMPOSITIONS["mult"])
        self.lin = nn.Linear(hidden_dim, hidden_dim)
        self.norm = nn.LayerNorm(hidden_dim)

    def forward(self, node_state: Tensor, edge_index: Tensor, edge_type: Tensor, rel_emb: Tensor) -> Tensor:
        src, dst = edge_index
        # index_select rather than tensor[index]: several times faster for large row gathers on a CPU.
        msg = self.compose(self.lin(node_state).index_select(0, src), rel_emb.index_select(0, edge_type))
        agg = scatter(msg, dst, 0, dim_size=node_state.shape[0], reduce="mean")
        return node_state + torch.relu(self.norm(agg))
