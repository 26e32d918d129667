"""CSR linear layers for inference, swapped in only where they measure faster."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ddi.sparse import SparseLinear, benchmark_linear, sparse_linear_inference


def sparse_linear(out_features: int, in_features: int, sparsity: float, seed: int = 0) -> nn.Linear:
    torch.manual_seed(seed)
    layer = nn.Linear(in_features, out_features)
    with torch.no_grad():
        layer.weight.mul_(torch.rand(layer.weight.shape) >= sparsity)
    return layer


@torch.no_grad()
def test_sparse_linear_matches_the_dense_layer_for_any_leading_shape(monkeypatch):
    dense = sparse_linear(6, 10, 0.9)
    sparse = SparseLinear.from_linear(dense).eval()
    products = []
    real_mm = torch.sparse.mm
    monkeypatch.setattr(torch.sparse, "mm", lambda a, b: products.append(a.layout) or real_mm(a, b))
    for shape in ((5, 10), (2, 3, 10), (10,)):
        x = torch.randn(*shape)
        out = sparse(x)
        assert out.shape == (*shape[:-1], 6)
        assert torch.allclose(out, dense(x), atol=1e-6)
    assert products == [torch.sparse_csr] * 3  # the CSR product ran, not the dense fallback
    no_bias = nn.Linear(10, 6, bias=False)
    x = torch.randn(4, 10)
    assert torch.allclose(SparseLinear.from_linear(no_bias).eval()(x), no_bias(x), atol=1e-6)


def test_sparse_linear_is_a_linear_layer_to_checkpoints_and_training():
    dense = sparse_linear(6, 10, 0.9)
    sparse = SparseLinear.from_linear(dense)
    # Same parameters, same state dict keys: swapping it in changes no checkpoint, and it still trains.
    assert sparse.weight is dense.weight and sparse.state_dict().keys() == dense.state_dict().keys()
    x = torch.randn(4, 10)
    sparse(x).sum().backward()
    assert dense.weight.grad is not None and dense.weight.grad.abs().sum() > 0
    # A weight changed after the first inference call (a reloaded checkpoint) is what the next call multiplies.
    sparse.eval()
    with torch.no_grad():
        before = sparse(x)
        sparse.load_state_dict({"weight": 2 * dense.weight, "bias": dense.bias})
        assert torch.allclose(sparse(x), 2 * before - dense.bias, atol=1e-5)


def model_with_layers() -> nn.Module:
    return nn.Sequential(sparse_linear(16, 8, 0.9), nn.ReLU(), sparse_linear(4, 16, 0.2, seed=1))


def test_conversion_swaps_only_sparse_enough_layers_that_win(monkeypatch):
    import ddi.sparse.inference as inference

    x = torch.randn(3, 8)
    model = model_with_layers()
    expected = model(x)
    # Pretend the CSR form always wins: the sparse layer is swapped, the 20 % one is not even timed.
    timed = []
    monkeypatch.setattr(inference, "time_linear", lambda linear, x, repeats: timed.append(linear) or (2.0, 1.0))
    assert sparse_linear_inference(model, threshold=0.8, batch=4) == ["0"]
    assert isinstance(model[0], SparseLinear) and type(model[2]) is nn.Linear and len(timed) == 1
    assert torch.allclose(model(x), expected, atol=1e-6)


def test_conversion_keeps_layers_that_are_not_faster(monkeypatch):
    import ddi.sparse.inference as inference

    model = model_with_layers()
    monkeypatch.setattr(inference, "time_linear", lambda linear, x, repeats: (1.0, 1.05))
    assert sparse_linear_inference(model, threshold=0.8, batch=4) == []
    assert type(model[0]) is nn.Linear


def test_benchmark_reports_both_timings():
    timing = benchmark_linear(32, 16, 0.9, batch=64, repeats=5)
    assert timing.dense_ms > 0 and timing.sparse_ms > 0 and timing.kernel_ms > 0
    assert timing.speedup == pytest.approx(timing.dense_ms / timing.sparse_ms)
    assert (timing.out_features, timing.in_features, timing.sparsity, timing.batch) == (32, 16, 0.9, 64)


def test_excluded_layers_are_neither_timed_nor_swapped(monkeypatch):
    import ddi.sparse.inference as inference

    model = nn.Sequential(sparse_linear(16, 8, 0.9), nn.ReLU(), sparse_linear(4, 16, 0.9, seed=1))
    first, last = model[0], model[2]
    timed = []
    monkeypatch.setattr(inference, "time_linear", lambda linear, x, repeats: timed.append(linear) or (2.0, 1.0))
    assert sparse_linear_inference(model, threshold=0.8, batch=4, exclude=[first]) == ["2"]
    assert len(timed) == 1 and timed[0] is last and model[0] is first
