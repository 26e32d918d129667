"""Sparse checkpoints: exact round trip, ``weights_only`` loading, smaller files."""

from __future__ import annotations

import pytest
import torch
from sparse_toy import toy_model

from ddi.sparse import Pruner, is_sparse_state, load_sparse_state, save_sparse_state, unpack_sparse_state
from ddi.sparse.compress import FORMAT


def pruned_state(sparsity: float = 0.9) -> dict[str, torch.Tensor]:
    model = toy_model(hidden=128)
    pruner = Pruner(model, "gmp", sparsity, total_steps=1, ramp_fraction=0.0, policy="layer")
    pruner.after_step(0)
    pruner.finalize()
    state = model.state_dict()
    state["step"] = torch.tensor(7)  # a non-float entry
    state["flags"] = torch.tensor([True, False, False, False])  # a bool buffer that is mostly zero
    return state


def test_round_trip_is_exact_and_the_file_is_smaller(tmp_path):
    state = pruned_state()
    report = save_sparse_state(state, tmp_path / "sparse.pt")
    torch.save(state, tmp_path / "dense.pt")
    loaded = load_sparse_state(tmp_path / "sparse.pt")
    assert list(loaded) == list(state)
    for name, tensor in state.items():
        assert loaded[name].dtype == tensor.dtype and torch.equal(loaded[name], tensor), name
    dense_size = (tmp_path / "dense.pt").stat().st_size
    assert report.file_bytes == (tmp_path / "sparse.pt").stat().st_size
    assert report.file_bytes < 0.4 * dense_size  # 90 % zeros: ~8 bytes per kept weight instead of 4 per weight
    assert report.sparse_tensors == 3  # the three weight matrices; biases and small tensors stay dense


def test_file_is_plain_data_for_weights_only_loading(tmp_path):
    state = pruned_state()
    save_sparse_state(state, tmp_path / "s.pt")
    raw = torch.load(tmp_path / "s.pt", weights_only=True)
    assert raw["format"] == FORMAT and is_sparse_state(raw)
    assert all(torch.equal(a, b) for a, b in zip(unpack_sparse_state(raw).values(), state.values(), strict=True))
    record = raw["sparse"]["0.weight"]
    assert record["indices"].dtype == torch.int32 and record["values"].dtype == torch.float32
    assert not (record["values"] == 0).any()


def test_half_values_are_smaller_and_close(tmp_path):
    state = pruned_state()
    full = save_sparse_state(state, tmp_path / "f.pt")
    half = save_sparse_state(state, tmp_path / "h.pt", half=True)
    loaded = load_sparse_state(tmp_path / "h.pt")
    assert half.file_bytes < full.file_bytes
    assert loaded["2.weight"].dtype == torch.float32
    assert torch.allclose(loaded["2.weight"], state["2.weight"], atol=1e-3, rtol=1e-3)
    assert (loaded["2.weight"] == 0).sum() == (state["2.weight"] == 0).sum()


def test_tensors_that_are_not_sparse_enough_stay_dense(tmp_path):
    g = torch.Generator().manual_seed(0)
    half_zero = torch.randn(20, 20, generator=g) * (torch.arange(400).view(20, 20) % 2)  # exactly 50 % zeros
    state = {"dense": torch.randn(10, 10, generator=g), "half_zero": half_zero}
    report = save_sparse_state(state, tmp_path / "s.pt")
    # int32 + float32 per kept entry = 8 bytes: no saving at 50 %, so it is kept dense
    assert report.sparse_tensors == 0
    loaded = load_sparse_state(tmp_path / "s.pt")
    assert all(torch.equal(loaded[name], tensor) for name, tensor in state.items())


def test_a_foreign_file_is_refused(tmp_path):
    torch.save({"weight": torch.zeros(3)}, tmp_path / "plain.pt")
    assert not is_sparse_state(torch.load(tmp_path / "plain.pt", weights_only=True))
    with pytest.raises(ValueError, match="not a sparse state file"):
        load_sparse_state(tmp_path / "plain.pt")
