"""Weight sharing: kept values become at most 256 shared ones, the mask and signs stay, the checkpoint shrinks
to a byte per kept value and reads back exactly, and a pruned network still does its task."""

from __future__ import annotations

import pytest
import torch
from sparse_toy import accuracy

from ddi.sparse import load_sparse_state, save_sparse_state, unpack_sparse_state
from ddi.sparse.weight_sharing import share_model_weights, share_values


def pruned_weight(rows: int = 300, cols: int = 200, keep: float = 0.1, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    weight = torch.randn(rows, cols, generator=g)
    weight[weight.abs() < weight.abs().quantile(1 - keep)] = 0.0  # magnitude pruning: kept values are large
    return weight


def test_kept_values_take_at_most_256_values_with_their_signs_and_zeros_kept():
    weight = pruned_weight()
    shared = share_values(weight)
    kept = weight != 0
    assert torch.equal(shared != 0, kept)  # no kept weight becomes zero, no zero is filled
    assert torch.equal(torch.sign(shared), torch.sign(weight))
    assert shared[kept].unique().numel() <= 256
    assert torch.equal(shared[kept].half().float(), shared[kept])  # float16 holds them exactly
    # 6,000 values in 256 levels: each within a small fraction of the spread of the kept values
    assert float((shared - weight).abs().max()) < 0.02 * float(weight.abs().max())


def test_few_levels_give_the_closest_centroids_and_one_level_per_sign_is_the_mean():
    weight = torch.tensor([[1.0, 1.1, 5.0, 5.2, 0.0, -2.0, -2.2, 0.0]])
    four = share_values(weight, levels=4)
    expected = torch.tensor([[1.05, 1.05, 5.1, 5.1, 0.0, -2.1, -2.1, 0.0]])
    # 4 positive and 2 negative values: two levels for the positives, one for the negatives
    assert torch.equal(four, expected.half().float())
    two = share_values(weight, levels=2)
    assert two[0, :4].unique().numel() == 1 and two[0, 5:7].unique().numel() == 1
    with pytest.raises(ValueError, match="at least 2 levels"):
        share_values(weight, levels=1)


def test_a_shared_tensor_is_stored_as_codes_and_reads_back_exactly(tmp_path):
    weight = pruned_weight()
    plain = save_sparse_state({"w": weight.half()}, tmp_path / "plain.pt")
    shared = share_values(weight).half()
    report = save_sparse_state({"w": shared}, tmp_path / "shared.pt")
    raw = torch.load(tmp_path / "shared.pt", weights_only=True)
    record = raw["sparse"]["w"]
    assert "values" not in record and record["codes"].dtype == torch.uint8 and record["codebook"].numel() <= 256
    assert torch.equal(load_sparse_state(tmp_path / "shared.pt")["w"], shared)
    # a byte per kept value instead of two (the positions cost the same)
    assert report.file_bytes < plain.file_bytes - 0.8 * int((weight != 0).sum())
    assert "values" in torch.load(tmp_path / "plain.pt", weights_only=True)["sparse"]["w"]  # not shared: as before


def test_codes_past_the_codebook_are_refused(tmp_path):
    save_sparse_state({"w": share_values(pruned_weight())}, tmp_path / "w.pt")
    raw = torch.load(tmp_path / "w.pt", weights_only=True)
    raw["sparse"]["w"]["codebook"] = raw["sparse"]["w"]["codebook"][:3]
    with pytest.raises(ValueError, match="malformed: a code points past its codebook"):
        unpack_sparse_state(raw)


def test_sharing_a_pruned_network_keeps_its_accuracy_and_leaves_dense_tensors_alone(train_toy, test_data):
    run = train_toy("gmp", sparsity=0.9)
    run.pruner.finalize()
    before = accuracy(run.model, *test_data)
    biases = {n: p.detach().clone() for n, p in run.model.named_parameters() if n.endswith("bias")}
    shared = share_model_weights(run.model, levels=16)
    assert shared == ["0.weight", "2.weight", "4.weight"]
    for name, param in run.model.named_parameters():
        if name in biases:
            assert torch.equal(param, biases[name]), name
        else:
            assert param[param != 0].unique().numel() <= 16, name
    assert before > 0.8
    assert accuracy(run.model, *test_data) >= before - 0.03
