"""Molecule encoder: GIN-E message passing over RDKit atom/bond graphs, pooled to one vector per drug.

It is what makes the model inductive: any valid molecule, seen in training or not, gets an embedding.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import GINEConv, global_add_pool, global_mean_pool


class MoleculeEncoder(nn.Module):
    """GIN-E layers with residual connections, then sum and mean pooling.

    Parameters
    ----------
    atom_dim, bond_dim: input feature sizes of atoms and bonds.
    hidden_dim: width of the atom states.
    num_layers: message-passing steps.
    out_dim: width of the drug embedding (default ``hidden_dim``).

    Shapes
    ------
    x: ``V x atom_dim``; edge_index: ``2 x E``; edge_attr: ``E x bond_dim``; batch: ``V`` (molecule of each
    atom); output: ``M x out_dim`` for M molecules.
    """

    def __init__(
        self, atom_dim: int, bond_dim: int, hidden_dim: int, num_layers: int = 3, out_dim: int | None = None
    ) -> None:
        super().__init__()
        self.atom_in = nn.Linear(atom_dim, hidden_dim)
        self.convs = nn.ModuleList(
            GINEConv(
                nn.Sequential(nn.Linear(hidden_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, hidden_dim)),
                edge_dim=bond_dim,
            )
            for _ in range(num_layers)
        )
        self.norms = nn.ModuleList(nn.LayerNorm(hidden_dim) for _ in range(num_layers))
        self.readout = nn.Linear(2 * hidden_dim, out_dim or hidden_dim)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor, batch: Tensor, num_molecules: int) -> Tensor:
        h = self.atom_in(x)
        for conv, norm in zip(self.convs, self.norms, strict=True):
            h = h + torch.relu(norm(conv(h, edge_index, edge_attr)))
        pooled = torch.cat(
            [global_add_pool(h, batch, num_molecules) / 10.0, global_mean_pool(h, batch, num_molecules)],
            dim=-1,
        )
        return self.readout(pooled)

    def atom_states(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        """Final atom states ``V x hidden_dim`` (used to attribute a prediction to atoms)."""
        h = self.atom_in(x)
        for conv, norm in zip(self.convs, self.norms, strict=True):
            h = h + torch.relu(norm(conv(h, edge_index, edge_attr)))
        return h
