"""Weight sharing for pruned tensors: each kept weight becomes one of at most 256 shared values.

The second stage of Deep Compression (Han, Mao & Dally 2016, "pruning, trained quantization and Huffman coding"):
after pruning, the kept values of a tensor are clustered with 1-D k-means and every value is replaced by its
cluster's centroid. A sparse checkpoint then stores one byte per kept weight (its code) plus a 256-entry codebook
instead of two or four bytes (``compress`` notices a tensor with at most 256 distinct values and stores it that
way, losslessly). The sharing itself is lossy, so a model is shared *before* it is evaluated, and the figures
reported are those of the shared weights.

Choices where the paper leaves one open or where ours differs:
- Centroids start evenly spaced between the smallest and largest value (the paper's "linear" initialisation,
  which it found best because it keeps the rare large weights), then follow Lloyd's iterations to convergence.
- Positive and negative values are clustered apart, with levels shared in proportion to their counts, so a kept
  weight never changes sign or becomes zero (the mask, and so the sparsity, are unchanged).
- Centroids are rounded to float16, so a checkpoint stored as float16 holds them exactly.
- The centroids are not fine-tuned afterwards (the paper trains them for a few epochs); sharing is a step of
  ``ddi adjust-prior``, which does not train.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ddi.sparse.compress import MAX_CODEBOOK, MIN_ZERO_FRACTION

SHARED_LEVELS = MAX_CODEBOOK  # one byte per code
_ITERATIONS = 100


def _lloyd_1d(sorted_values: Tensor, levels: int) -> Tensor:
    """Centroids of 1-D k-means over ascending ``sorted_values`` (float64), from an evenly spaced start."""
    low, high = float(sorted_values[0]), float(sorted_values[-1])
    if levels <= 1 or low == high:
        return sorted_values.mean().reshape(1)
    centroids = torch.linspace(low, high, levels, dtype=torch.float64)
    prefix = torch.cat([torch.zeros(1, dtype=torch.float64), sorted_values.cumsum(0)])
    for _ in range(_ITERATIONS):
        # boundaries between neighbouring centroids split the sorted values into contiguous clusters
        cuts = torch.searchsorted(sorted_values, (centroids[1:] + centroids[:-1]) / 2)
        starts = torch.cat([torch.zeros(1, dtype=torch.long), cuts])
        ends = torch.cat([cuts, torch.tensor([sorted_values.numel()])])
        counts = ends - starts
        sums = prefix[ends] - prefix[starts]
        updated = torch.where(counts > 0, sums / counts.clamp(min=1), centroids)  # an empty cluster stays put
        if torch.equal(updated, centroids):
            break
        centroids = updated
    return centroids


def _nearest(values: Tensor, centroids: Tensor) -> Tensor:
    """Each of ``values`` replaced by its nearest of the ascending ``centroids``."""
    cuts = (centroids[1:] + centroids[:-1]) / 2
    return centroids[torch.searchsorted(cuts, values)]


def _share_one_sign(values: Tensor, levels: int) -> Tensor:
    """``values`` (all of one sign, float64) replaced by at most ``levels`` float16-representable centroids."""
    sorted_values = values.sort().values
    centroids = _lloyd_1d(sorted_values, levels)
    sign = 1.0 if float(sorted_values[0]) > 0 else -1.0
    tiny = torch.finfo(torch.float16).smallest_normal
    # float16 rounding must neither merge signs nor reach zero; sorted again since rounding may reorder ties
    centroids = (sign * (sign * centroids).clamp(min=tiny)).half().double().unique()
    return _nearest(values, centroids)


def share_values(tensor: Tensor, levels: int = SHARED_LEVELS) -> Tensor:
    """A copy of ``tensor`` whose non-zero entries take at most ``levels`` distinct values (k-means centroids,
    rounded to float16), each of the sign of the entry it replaces; zeros stay zero."""
    if levels < 2:
        raise ValueError(f"weight sharing needs at least 2 levels, got {levels}")
    out = torch.zeros_like(tensor)
    flat = tensor.detach().reshape(-1).double()
    kept = flat != 0
    values = flat[kept]
    signs = [values > 0, values < 0]
    counts = [int(s.sum()) for s in signs]
    total = sum(counts)
    if total == 0:
        return out
    shared = torch.zeros(total, dtype=torch.float64)
    for side, count in zip(signs, counts, strict=True):
        if count:
            side_levels = max(1, math.floor(levels * count / total)) if all(counts) else levels
            shared[side] = _share_one_sign(values[side], side_levels)
    out.view(-1)[kept] = shared.to(tensor.dtype)
    return out


def share_model_weights(
    model: nn.Module, levels: int = SHARED_LEVELS, min_zero_fraction: float = MIN_ZERO_FRACTION
) -> list[str]:
    """Share the values of every floating parameter of ``model`` that is at least ``min_zero_fraction`` zeros (the
    tensors a sparse checkpoint stores sparse), in place; returns their names. Other tensors are left alone."""
    shared = []
    with torch.no_grad():
        for name, param in model.named_parameters():
            if not param.is_floating_point() or param.numel() == 0:
                continue
            if float((param == 0).float().mean()) < min_zero_fraction:
                continue
            param.copy_(share_values(param, levels))
            shared.append(name)
    return shared
