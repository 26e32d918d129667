"""Prediction heads: the oriented interaction type and the interaction-exists score."""

from __future__ import annotations

from torch import Tensor, nn


class InteractionHeads(nn.Module):
    """An MLP trunk over the pair features, then two linear heads.

    Shapes
    ------
    pair_features: ``B x in_dim``; output: ``B x num_classes`` type-orientation logits and ``B`` exists logits.
    """

    def __init__(self, in_dim: int, width: int, num_classes: int, dropout: float) -> None:
        super().__init__()
        self.in_dim = in_dim
        self.trunk = nn.Sequential(
            nn.Linear(in_dim, width),
            nn.LayerNorm(width),
            nn.ReLU(inplace=True),  # in place: the layer norm's fresh output; saves a large allocation per batch
            nn.Dropout(dropout),
            nn.Linear(width, width),
            nn.LayerNorm(width),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
        )
        self.type_head = nn.Linear(width, num_classes)
        self.exists_head = nn.Linear(width, 1)

    def forward(self, pair_features: Tensor) -> tuple[Tensor, Tensor]:
        return self.from_first_layer(self.trunk[0](pair_features))

    def from_first_layer(self, first: Tensor) -> tuple[Tensor, Tensor]:
        """The heads' outputs given the first linear layer's output ``B x width`` (see ``DrugProjection``)."""
        h = self.trunk[1:](first)
        return self.type_head(h), self.exists_head(h).squeeze(-1)
