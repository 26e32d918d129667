"""Inference with sparse weight matrices: an ``nn.Linear`` that multiplies by a CSR copy of its weight, swapped in
only where it measures faster.

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
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

log = logging.getLogger(__name__)


class SparseLinear(nn.Linear):
    """An ``nn.Linear`` that, in inference (eval mode, no autograd), multiplies by a CSR copy of its weight.

    It keeps its dense ``weight`` and ``bias`` parameters: the state dict, parameter counts and gradients (training,
    attributions) are those of the ``nn.Linear`` it replaces, and swapping one in changes no checkpoint. The CSR
    copy is built on the first inference call and rebuilt whenever the weight changes in place through torch (its
    version counter moves, e.g. on ``load_state_dict``) or is replaced. A write through ``weight.data`` bypasses the
    counter: follow it with ``load_state_dict`` or replace the parameter.

    Shapes
    ------
    x: ``... x in_features``; output: ``... x out_features``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, **factory: Any) -> None:
        super().__init__(in_features, out_features, bias=bias, **factory)
        self._csr: Tensor | None = None
        self._csr_of: tuple[int, int] | None = None  # (weight version, storage address) the copy was made from

    @classmethod
    def from_linear(cls, linear: nn.Linear) -> SparseLinear:
        """A ``SparseLinear`` that shares ``linear``'s parameters (no copy) and its train/eval mode."""
        weight = linear.weight
        sparse = cls(linear.in_features, linear.out_features, linear.bias is not None, dtype=weight.dtype)
        sparse.weight, sparse.bias = weight, linear.bias
        return sparse.train(linear.training)

    def weight_csr(self) -> Tensor:
        """The weight as a CSR matrix ``out x in``, rebuilt if the weight changed since the last call."""
        key = (self.weight._version, self.weight.data_ptr())
        if self._csr is None or self._csr_of != key:
            with warnings.catch_warnings():  # "sparse CSR support is in beta": known; this use is covered by tests
                warnings.simplefilter("ignore", UserWarning)
                self._csr = self.weight.detach().to_sparse_csr()
            self._csr_of = key
        return self._csr

    def forward(self, x: Tensor) -> Tensor:
        if self.training or torch.is_grad_enabled():
            return F.linear(x, self.weight, self.bias)
        flat = x.reshape(-1, self.in_features)
        # (out x in) CSR @ (in x N) dense is the product sparse kernels support. The kernel copies the transposed
        # views into its own layout, and is still ~4x faster than the dense product at 97 % zeros (docs/dcil.md).
        out = torch.sparse.mm(self.weight_csr(), flat.t()).t()
        if self.bias is not None:
            out = out + self.bias
        return out.reshape(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        nnz = int((self.weight != 0).sum())
        return f"{super().extra_repr()}, nnz={nnz}"


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
    sparse = SparseLinear.from_linear(linear).eval()
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
    sparse = SparseLinear.from_linear(linear).eval()
    dense_ms, sparse_ms, kernel_ms = _interleaved_min_ms(
        [
            lambda: F.linear(x, linear.weight, linear.bias),
            lambda: sparse(x),
            lambda: torch.sparse.mm(sparse.weight_csr(), x_feature_major),
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
    exclude: Collection[nn.Module] = (),
) -> list[str]:
    """Swap, in place, every ``nn.Linear`` with at least ``threshold`` zero weights for a ``SparseLinear`` —
    only where the CSR form measures at least ``min_speedup`` times faster on a random ``batch`` of inputs.
    Layers in ``exclude`` (e.g. one whose forward inference never calls) are neither timed nor swapped.

    Returns the names of the swapped layers. Call it on a finalized (plain, unmasked) model. The swapped layers
    keep their parameters, so the state dict is unchanged, and they compute densely while training or under
    autograd.
    """
    swapped = []
    candidates = [
        (name, module)
        for name, module in model.named_modules()
        if type(module) is nn.Linear
        and not any(module is skipped for skipped in exclude)
        and float((module.weight == 0).float().mean()) >= threshold
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
