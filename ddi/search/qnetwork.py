"""Q-networks of the search agent: state -> one Q-value per action ``(source, choice, option)``.

``TransformerQNet`` (the paper's choice) reads the state as a sequence of tokens: the current architecture's
choice tokens, the incumbent's choice tokens (each with a segment embedding saying which is which) and one
score token built from the standardised scores. A small pre-norm transformer encoder mixes them; the
Q-value of "set choice c to option o in source s" is the dot product of the encoded token at position c of
source s with a learned output vector of (s, c, o), plus a state value read from the score token. Every
action is scored from the place in the sequence it edits, so the network has the same size for any number
of options and learns how each choice interacts with the others through attention.

``MLPQNet`` is the plain baseline: one-hot of both architectures and the scores -> two hidden layers ->
all Q-values.

Shapes: current, best ``(B, C)`` int64 tokens; scalars ``(B, NUM_SCALARS)``; output ``(B, A)``, ``A =
sources x num_tokens``.
"""

from __future__ import annotations

import torch
from torch import nn

from ddi.search.mdp import NUM_SCALARS


class TransformerQNet(nn.Module):
    """Transformer encoder over ``2C + 1`` tokens (current choices, incumbent choices, scores).

    Parameters
    ----------
    num_tokens: vocabulary size (one token per (choice, option)).
    token_choice: ``(num_tokens,)`` the choice each token belongs to.
    sources: 1 (edit the current architecture) or 2 (also the incumbent).
    d_model, layers, heads, ff: encoder width, depth, attention heads and feed-forward width.
    """

    def __init__(
        self,
        num_tokens: int,
        token_choice: torch.Tensor,
        sources: int,
        d_model: int = 64,
        layers: int = 2,
        heads: int = 4,
        ff: int = 128,
    ) -> None:
        super().__init__()
        self.num_tokens = num_tokens
        self.sources = sources
        self.register_buffer("token_choice", torch.as_tensor(token_choice, dtype=torch.long), persistent=False)
        self.embed = nn.Embedding(num_tokens, d_model)
        self.segment = nn.Embedding(3, d_model)  # 0 current, 1 incumbent, 2 score token
        self.score_in = nn.Linear(NUM_SCALARS, d_model)
        layer = nn.TransformerEncoderLayer(
            d_model, heads, ff, dropout=0.0, batch_first=True, norm_first=True, activation="gelu"
        )
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.out_vectors = nn.Parameter(torch.empty(sources, num_tokens, d_model))
        self.out_bias = nn.Parameter(torch.zeros(sources, num_tokens))
        self.value = nn.Linear(d_model, 1)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.embed.weight, std=0.1)
        nn.init.normal_(self.segment.weight, std=0.1)
        nn.init.normal_(self.out_vectors, std=0.05)
        nn.init.zeros_(self.out_bias)

    def forward(self, current: torch.Tensor, best: torch.Tensor, scalars: torch.Tensor) -> torch.Tensor:
        choices = current.shape[1]
        seg = self.segment.weight
        x = torch.cat(
            [
                self.embed(current) + seg[0],
                self.embed(best) + seg[1],
                (self.score_in(scalars) + seg[2]).unsqueeze(1),
            ],
            dim=1,
        )
        h = self.norm(self.encoder(x))  # (B, 2C + 1, d)
        q = []
        for s in range(self.sources):
            at_choice = h[:, s * choices : (s + 1) * choices][:, self.token_choice]  # (B, T, d)
            q.append((at_choice * self.out_vectors[s]).sum(-1) + self.out_bias[s])
        return torch.cat(q, dim=1) + self.value(h[:, -1])


class MLPQNet(nn.Module):
    """One-hot current and incumbent architectures plus scores -> two ReLU layers -> ``A`` Q-values."""

    def __init__(self, num_tokens: int, sources: int, hidden: int = 256) -> None:
        super().__init__()
        self.num_tokens = num_tokens
        self.net = nn.Sequential(
            nn.Linear(2 * num_tokens + NUM_SCALARS, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, sources * num_tokens),
        )

    def forward(self, current: torch.Tensor, best: torch.Tensor, scalars: torch.Tensor) -> torch.Tensor:
        one_hot = torch.zeros(current.shape[0], 2 * self.num_tokens, device=current.device)
        one_hot.scatter_(1, current, 1.0)
        one_hot.scatter_(1, best + self.num_tokens, 1.0)
        return self.net(torch.cat([one_hot, scalars], dim=1))
