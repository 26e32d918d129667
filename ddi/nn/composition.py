"""Message functions that compose a relation vector with a node vector (CompGCN-style), by name.

Each takes ``... x d`` tensors and returns ``... x d``. A registry keeps the choice a config string that the
architecture search can vary.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


def mult(node: Tensor, rel: Tensor) -> Tensor:
    return node * rel


def sub(node: Tensor, rel: Tensor) -> Tensor:
    return node - rel


def ccorr(node: Tensor, rel: Tensor) -> Tensor:
    """Circular correlation, computed in the Fourier domain."""
    n = node.shape[-1]
    if node.numel() == 0 or rel.numel() == 0:  # MKL's FFT refuses empty batches (e.g. pairs without paths)
        return (node * rel)[..., :n]
    return torch.fft.irfft(torch.conj(torch.fft.rfft(node, dim=-1)) * torch.fft.rfft(rel, dim=-1), n=n, dim=-1)


def rotate(node: Tensor, rel: Tensor) -> Tensor:
    """Rotation in the complex plane (RotatE): halves of the vector are the real and imaginary parts."""
    re, im = node.chunk(2, dim=-1)
    phase = rel[..., : rel.shape[-1] // 2]
    cos, sin = torch.cos(phase), torch.sin(phase)
    return torch.cat([re * cos - im * sin, re * sin + im * cos], dim=-1)


COMPOSITIONS: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "mult": mult,
    "sub": sub,
    "ccorr": ccorr,
    "rotate": rotate,
}
