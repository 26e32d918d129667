"""Inference with sparse weight matrices: a CSR ``nn.Linear`` replacement, used only where it measures faster.

Unstructured sparsity saves disk (``ddi.sparse.compress``) but rarely time on a CPU: a sparse matrix product
streams indices as well as values and vectorises poorly, so it beats a dense GEMM only at very high sparsity
and large matrices. ``sparse_linear_inference`` therefore times both forms of each candidate layer on a
representative batch and swaps a layer only if the sparse form wins; ``benchmark_linear`` is the
micro-benchmark behind it.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

log = logging.getLogger(__name__)


class SparseLinear(nn.Module):
    """``y = x W^T + b`` with ``W`` stored as a CSR matrix (inference only: it has no trainable weight).

    Shapes
    ------
    x: ``... x in_features``; output: ``... x out_features``.
    """

    weight_csr: Tensor  # registered buffers
    bias: Tensor | None

    def __init__(self, weight: Tensor, bias: Tensor | None) -> None:
        super().__init__()
        self.out_features, self.in_features = weight.shape
        with warnings.catch_warnings():  # "sparse CSR support is in beta": known, and this use is covered by tests
            warnings.simplefilter("ignore", UserWarning)
            csr = weight.detach().to_sparse_csr()
        self.register_buffer("weight_csr", csr)
        self.register_buffer("bias", None if bias is None else bias.detach().clone())

    @classmethod
    def from_linear(cls, linear: nn.Linear) -> SparseLinear:
        return cls(linear.weight, linear.bias)

    def forward(self, x: Tensor) -> Tensor:
        flat = x.reshape(-1, self.in_features)
        # (out x in) CSR @ (in x N) dense is the product sparse kernels support; transposes are views.
        out = torch.sparse.mm(self.weight_csr, flat.t()).t()
        if self.bias is not None:
            out = out + self.bias
        return out.reshape(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        nnz = self.weight_csr.values().numel()
        return f"{self.in_features}, {self.out_features}, nnz={nnz}, bias={self.bias is not None}"


@dataclass
class LinearTiming:
    """Best-of-n milliseconds of one forward of a dense and of a CSR linear layer.

    ``kernel_ms`` is the CSR product alone on an input already laid out feature-major (``in x batch``): what a
    chain of sparse layers that kept that layout would pay, without ``SparseLinear``'s two transposes.
    """

    out_features: int
    in_features: int
    sparsity: float
    batch: int
    dense_ms: float
    sparse_ms: float
    kernel_ms: float

    @property
    def speedup(self) -> float:
        """Dense time over ``SparseLinear`` time (> 1: sparse is faster)."""
        return self.dense_ms / self.sparse_ms


def _interleaved_min_ms(fns: list[Callable[[], Tensor]], repeats: int) -> list[float]:
    """Minimum ms of each function over ``repeats`` rounds that run them one after the other.

    Interleaving exposes all of them to the same background load; the minimum is the run least disturbed by
    it (the usual estimator on a shared machine).
    """
    for fn in fns:  # warm-up: allocations, kernel selection
        fn()
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return [1000.0 * b for b in best]


@torch.no_grad()
def time_linear(linear: nn.Linear, x: Tensor, repeats: int = 10) -> tuple[float, float]:
    """Best ms of ``linear(x)`` dense and as a ``SparseLinear``."""
    sparse = SparseLinear.from_linear(linear)
    dense_ms, sparse_ms = _interleaved_min_ms(
        [lambda: F.linear(x, linear.weight, linear.bias), lambda: sparse(x)], repeats
    )
    return dense_ms, sparse_ms


@torch.no_grad()
def benchmark_linear(
    out_features: int,
    in_features: int,
    sparsity: float,
    batch: int = 4096,
    repeats: int = 10,
    seed: int = 0,
) -> LinearTiming:
    """Time a random ``in_features -> out_features`` layer with ``sparsity`` of its weights zero, dense vs CSR.

    Uses the current ``torch.get_num_threads()``; set it before calling.
    """
    gen = torch.Generator().manual_seed(seed)
    linear = nn.Linear(in_features, out_features)
    linear.weight.mul_(torch.rand(linear.weight.shape, generator=gen) >= sparsity)
    x = torch.randn(batch, in_features, generator=gen)
    x_feature_major = x.t().contiguous()
    sparse = SparseLinear.from_linear(linear)
    dense_ms, sparse_ms, kernel_ms = _interleaved_min_ms(
        [
            lambda: F.linear(x, linear.weight, linear.bias),
            lambda: sparse(x),
            lambda: torch.sparse.mm(sparse.weight_csr, x_feature_major),
        ],
        repeats,
    )
    return LinearTiming(out_features, in_features, sparsity, batch, dense_ms, sparse_ms, kernel_ms)


def sparse_linear_inference(
    model: nn.Module,
    threshold: float = 0.8,
    batch: int = 4096,
    min_speedup: float = 1.1,
    repeats: int = 10,
) -> list[str]:
    """Swap, in place, every ``nn.Linear`` with at least ``threshold`` zero weights for a ``SparseLinear`` —
    only where the CSR form measures at least ``min_speedup`` times faster on a random ``batch`` of inputs.

    Returns the names of the swapped layers. Call it on a finalized (plain) model that is used for inference
    only; the swapped layers have no trainable weight.
    """
    swapped = []
    candidates = [
        (name, module)
        for name, module in model.named_modules()
        if type(module) is nn.Linear and float((module.weight == 0).float().mean()) >= threshold
    ]
    for name, linear in candidates:
        x = torch.randn(batch, linear.in_features, dtype=linear.weight.dtype, device=linear.weight.device)
        dense_ms, sparse_ms = time_linear(linear, x, repeats)
        faster = dense_ms / sparse_ms >= min_speedup
        log.info(
            "%s (%dx%d): dense %.3f ms, sparse %.3f ms -> %s",
            name,
            linear.out_features,
            linear.in_features,
            dense_ms,
            sparse_ms,
            "sparse" if faster else "kept dense",
        )
        if faster:
            parent_name, _, child = name.rpartition(".")
            parent = model.get_submodule(parent_name) if parent_name else model
            setattr(parent, child, SparseLinear.from_linear(linear))
            swapped.append(name)
    return swapped
