"""Sparse checkpoints: exact round trip, ``weights_only`` loading, smaller files."""

from __future__ import annotations

import zlib

import pytest
import torch
from sparse_toy import toy_model

from ddi.sparse import Pruner, is_sparse_state, load_sparse_state, save_sparse_state, unpack_sparse_state
from ddi.sparse.compress import FORMAT

POSITION_KEYS = ("indices", "bitmask", "bitmask_deflate")


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
    # 90 % zeros: 4 bytes of value + 1.25 bytes of bitmask per kept weight instead of 4 bytes per weight
    assert report.file_bytes < 0.25 * dense_size
    # the three weight matrices and the mostly-false flags; biases and the scalar stay dense
    assert report.sparse_tensors == 4


@pytest.mark.parametrize(
    ("density", "position"),
    [(0.0002, "indices"), (0.02, "bitmask_deflate"), (0.1, "bitmask_deflate"), (0.45, "bitmask"), (1.0, "dense")],
)
def test_positions_are_stored_the_cheapest_way_and_read_back_exactly(tmp_path, density, position):
    """Very sparse tensors keep flat indices, sparse ones a deflated bitmask, half-full ones a plain bitmask (random
    bits do not deflate); all read back bit for bit, including sizes that are not a multiple of 8."""
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(333, 97, generator=generator)
    weight[torch.rand(weight.shape, generator=generator) > density] = 0.0
    save_sparse_state({"w": weight}, tmp_path / "w.pt")
    raw = torch.load(tmp_path / "w.pt", weights_only=True)
    stored = "dense" if "w" in raw["dense"] else next(k for k in raw["sparse"]["w"] if k in POSITION_KEYS)
    assert stored == position
    assert torch.equal(load_sparse_state(tmp_path / "w.pt")["w"], weight)


def test_a_deflated_bitmask_of_the_wrong_size_is_refused(tmp_path):
    """A crafted file whose deflated bitmask expands past its tensor is malformed, not a memory bomb."""
    weight = torch.zeros(100, 100)
    weight[::7, ::3] = 1.0
    save_sparse_state({"w": weight}, tmp_path / "w.pt")
    raw = torch.load(tmp_path / "w.pt", weights_only=True)
    assert "bitmask_deflate" in raw["sparse"]["w"]
    bomb = zlib.compress(bytes(10_000_000))
    raw["sparse"]["w"]["bitmask_deflate"] = torch.frombuffer(bytearray(bomb), dtype=torch.uint8)
    with pytest.raises(ValueError, match="deflated bitmask does not hold 1250 bytes"):
        unpack_sparse_state(raw)


def test_positions_outside_the_tensor_are_refused(tmp_path):
    weight = torch.zeros(10, 10)
    weight[0, :3] = 1.0
    save_sparse_state({"w": weight}, tmp_path / "w.pt")
    raw = torch.load(tmp_path / "w.pt", weights_only=True)
    record = raw["sparse"]["w"]
    for key in POSITION_KEYS:
        record.pop(key, None)
    record["indices"] = torch.tensor([0, 1, 500], dtype=torch.int32)
    with pytest.raises(ValueError, match="outside its shape"):
        unpack_sparse_state(raw)


def test_file_is_plain_data_for_weights_only_loading(tmp_path):
    state = pruned_state()
    save_sparse_state(state, tmp_path / "s.pt")
    raw = torch.load(tmp_path / "s.pt", weights_only=True)
    assert raw["format"] == FORMAT and is_sparse_state(raw)
    assert all(torch.equal(a, b) for a, b in zip(unpack_sparse_state(raw).values(), state.values(), strict=True))
    record = raw["sparse"]["0.weight"]
    assert record["bitmask_deflate"].dtype == torch.uint8 and record["values"].dtype == torch.float32  # 10 % dense
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
    third_zero = torch.randn(30, 30, generator=g) * (torch.arange(900).view(30, 30) % 3 != 0)  # 1/3 zeros
    state = {"dense": torch.randn(10, 10, generator=g), "third_zero": third_zero}
    report = save_sparse_state(state, tmp_path / "s.pt")
    assert report.sparse_tensors == 0  # below min_zero_fraction (50 %)
    loaded = load_sparse_state(tmp_path / "s.pt")
    assert all(torch.equal(loaded[name], tensor) for name, tensor in state.items())


def test_a_foreign_file_is_refused(tmp_path):
    torch.save({"weight": torch.zeros(3)}, tmp_path / "plain.pt")
    assert not is_sparse_state(torch.load(tmp_path / "plain.pt", weights_only=True))
    with pytest.raises(ValueError, match="not a sparse state file"):
        load_sparse_state(tmp_path / "plain.pt")
