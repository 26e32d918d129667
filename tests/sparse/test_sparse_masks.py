"""``MaskedWeights``: which tensors get masks, exact magnitude pruning, the four gradient paths, apply / remove."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize
from torch_geometric.nn import GINEConv

from ddi.sparse.masks import MaskedWeights, keep_mask, lamp_scores


class Mixed(nn.Module):
    """A model with every kind of layer the DDI model has."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 6)
        self.inp = nn.Linear(6, 12)
        self.conv = GINEConv(nn.Sequential(nn.Linear(12, 12), nn.ReLU(), nn.Linear(12, 12)), edge_dim=3)
        self.norm = nn.LayerNorm(12)
        self.scale = nn.Parameter(torch.ones(12))
        self.out = nn.Linear(12, 5)

    def forward(self, ids, edge_index, edge_attr):
        h = self.inp(self.embed(ids))
        h = self.norm(self.conv(h, edge_index, edge_attr)) * self.scale
        return self.out(h)


def mixed_inputs():
    g = torch.Generator().manual_seed(0)
    ids = torch.arange(7)
    edge_index = torch.randint(0, 7, (2, 15), generator=g)
    return ids, edge_index, torch.randn(15, 3, generator=g)


def linear_with_mask(sparsity=0.5, seed=0):
    torch.manual_seed(seed)
    layer = nn.Linear(8, 5)
    masks = MaskedWeights(layer)
    masks.update_masks(sparsity)
    return layer, masks


def test_default_policy_masks_linear_embedding_and_pyg_weights_only():
    masks = MaskedWeights(Mixed())
    assert {e.name for e in masks.entries} == {
        "embed.weight",
        "inp.weight",
        "conv.nn.0.weight",
        "conv.nn.2.weight",
        "conv.lin.weight",  # PyG's own Linear inside GINEConv
        "out.weight",
    }


def test_exclude_patterns_leave_tensors_dense():
    model = Mixed()
    masks = MaskedWeights(model, exclude=["out.*", "conv.nn.*"])
    assert {e.name for e in masks.entries} == {"embed.weight", "inp.weight", "conv.lin.weight"}
    assert not parametrize.is_parametrized(model.out)


def test_masking_twice_is_refused():
    model = nn.Linear(3, 3)
    MaskedWeights(model)
    with pytest.raises(ValueError, match="already parametrized"):
        MaskedWeights(model)


@pytest.mark.parametrize("sparsity", [0.0, 0.3, 0.5, 0.9, 0.97])
def test_global_policy_prunes_exactly_round_sn_smallest(sparsity):
    torch.manual_seed(1)
    masks = MaskedWeights(Mixed())
    masks.update_masks(sparsity, "global")
    assert masks.num_pruned() == round(sparsity * masks.numel)
    if sparsity > 0:
        pruned = torch.cat([e.original.detach().abs()[~e.mask] for e in masks.entries])
        kept = torch.cat([e.original.detach().abs()[e.mask] for e in masks.entries])
        assert pruned.max() <= kept.min()  # one ranking across all tensors


@pytest.mark.parametrize("sparsity", [0.3, 0.9])
def test_layer_policy_prunes_each_tensor_to_the_same_fraction(sparsity):
    torch.manual_seed(1)
    masks = MaskedWeights(Mixed())
    masks.update_masks(sparsity, "layer")
    for e in masks.entries:
        assert int((~e.mask).sum()) == round(sparsity * e.mask.numel())
        w = e.original.detach().abs()
        assert w[~e.mask].max() <= w[e.mask].min()
    assert masks.num_pruned() == masks.expected_pruned(sparsity, "layer")


def test_global_ranking_differs_from_layer_ranking_when_scales_differ():
    model = nn.Sequential(nn.Linear(10, 10), nn.Linear(10, 10))
    with torch.no_grad():
        model[1].weight.abs_().add_(10.0)  # the second layer is all large: global ranking prunes the first one
    masks = MaskedWeights(model)
    masks.update_masks(0.5, "global")
    assert int((~masks.entries[0].mask).sum()) == 100 and int((~masks.entries[1].mask).sum()) == 0


def scale_mismatched_model() -> nn.Module:
    """Like DDIModel: a large embedding table of larger weights next to small linear layers."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Embedding(400, 16), nn.Linear(16, 16), nn.Linear(16, 4))
    nn.init.normal_(model[0].weight, std=0.5)
    return model


def test_global_magnitude_can_empty_a_layer_and_says_so(caplog):
    masks = MaskedWeights(scale_mismatched_model())
    with caplog.at_level("WARNING", logger="ddi.sparse.masks"):
        masks.update_masks(0.9, "global")
    assert any(not e.mask.any() for e in masks.entries)
    assert "entirely pruned" in caplog.text


def test_lamp_prunes_exactly_and_never_empties_a_layer():
    masks = MaskedWeights(scale_mismatched_model())
    masks.update_masks(0.97, "lamp")
    assert masks.num_pruned() == round(0.97 * masks.numel)
    assert all(e.mask.any() for e in masks.entries)
    for e in masks.entries:  # within a tensor LAMP keeps magnitude order
        w = e.original.detach().abs()
        assert w[~e.mask].max() <= w[e.mask].min()


def test_lamp_scores_are_scale_free_and_top_out_at_one():
    w = torch.randn(6, 5)
    scores = lamp_scores(w)
    assert scores.max() == pytest.approx(1.0)
    assert torch.allclose(lamp_scores(w * 1000.0), scores)
    smallest = w.abs().flatten().argmin()
    assert scores[smallest] == pytest.approx(float(w.flatten()[smallest] ** 2 / (w**2).sum()))


def test_ties_are_deterministic_and_prefer_already_pruned_entries():
    scores = torch.zeros(8)
    first = keep_mask(scores, torch.ones(8, dtype=torch.bool), 3)
    assert first.tolist() == [False, False, False, True, True, True, True, True]  # lower index first
    # Already-pruned entries are pruned first among equals, whatever their index.
    kept = torch.tensor([True, True, True, True, True, False, False, True])
    assert keep_mask(scores, kept, 2).tolist() == kept.tolist()
    assert keep_mask(scores, kept, 3).tolist() == [False, True, True, True, True, False, False, True]


def test_equal_weights_do_not_churn_between_updates():
    layer = nn.Linear(6, 6)
    with torch.no_grad():
        layer.weight.fill_(0.5)
    masks = MaskedWeights(layer)
    assert masks.update_masks(0.5) == 18
    assert masks.update_masks(0.5) == 0
    before = masks.masks()["weight"]
    masks.update_masks(0.75)
    assert not (masks.entries[0].mask & ~before).any()  # nothing revived


def test_update_returns_the_number_of_changed_entries_and_revivals():
    _, masks = linear_with_mask(0.5)
    before = masks.entries[0].mask.clone()
    with torch.no_grad():  # swap magnitudes: the pruned half becomes the large half
        w = masks.entries[0].original
        w.copy_(torch.where(before, w * 1e-3, w.sign() * 10 + w))
    changed = masks.update_masks(0.5)
    after = masks.entries[0].mask
    assert changed == int((before != after).sum()) == 2 * int((~before).sum())
    assert masks.last_revived == int((after & ~before).sum()) == int((~before).sum())


def test_ever_revived_counts_each_weight_once_and_stays_out_of_the_state_dict():
    layer, masks = linear_with_mask(0.5)
    first = masks.entries[0].mask.clone()
    w = masks.entries[0].original
    revivals = 0
    for _ in range(3):  # make the pruned half the large half, three times: the two halves take turns
        kept = masks.entries[0].mask.clone()
        with torch.no_grad():
            w.copy_(torch.where(kept, w * 1e-3, w.sign() * 10 + w))
        masks.update_masks(0.5)
        revivals += masks.last_revived
    assert revivals == 3 * int((~first).sum())  # the per-update counts add up every flicker
    assert masks.num_ever_revived() == w.numel()  # each weight came back at least once, counted once
    assert not any("revived" in key for key in layer.state_dict())
    masks.remove()
    assert masks.num_ever_revived() == w.numel()  # still readable for a summary after finalize


def test_sparse_mode_gradient_reaches_only_kept_weights():
    layer, masks = linear_with_mask(0.5)
    x, r = torch.randn(4, 8), torch.randn(4, 5)
    with masks.use("sparse"):
        out = layer(x)
        (out * r).sum().backward()
    w, m = masks.entries[0].original, masks.entries[0].mask
    assert torch.allclose(out, F.linear(x, w.detach() * m, layer.bias))
    assert (w.grad[~m] == 0).all() and (w.grad[m] != 0).all()


def test_dense_mode_forward_is_the_full_weight_and_gradient_reaches_only_pruned_weights():
    layer, masks = linear_with_mask(0.5)
    x, r = torch.randn(4, 8), torch.randn(4, 5)
    with masks.use("dense"):
        out = layer(x)
        (out * r).sum().backward()
    w, m = masks.entries[0].original, masks.entries[0].mask
    assert torch.equal(out, F.linear(x, w.detach(), layer.bias))
    assert (w.grad[m] == 0).all() and (w.grad[~m] != 0).all()
    # The pruned entries get exactly the gradient a dense model would give them.
    dense_w = w.detach().clone().requires_grad_()
    (F.linear(x, dense_w, layer.bias) * r).sum().backward()
    assert torch.allclose(w.grad[~m], dense_w.grad[~m])


def test_ste_mode_forward_is_sparse_and_gradient_is_the_dense_one_at_the_sparse_point():
    layer, masks = linear_with_mask(0.5)
    x, r = torch.randn(4, 8), torch.randn(4, 5)
    with masks.use("ste"):
        out = layer(x)
        (out * r).sum().backward()
    w, m = masks.entries[0].original, masks.entries[0].mask
    sparse_w = (w.detach() * m).requires_grad_()
    ref = F.linear(x, sparse_w, layer.bias)
    (ref * r).sum().backward()
    assert torch.equal(out, ref)
    assert torch.allclose(w.grad, sparse_w.grad)  # every entry, pruned ones included
    assert (w.grad[~m] != 0).all()


def test_off_mode_is_the_plain_dense_layer():
    layer, masks = linear_with_mask(0.5)
    x = torch.randn(4, 8)
    with masks.use("off"):
        out = layer(x)
    assert torch.equal(out, F.linear(x, masks.entries[0].original.detach(), layer.bias))


def test_mode_context_restores_and_rejects_unknown_modes():
    _, masks = linear_with_mask()
    assert masks.mode == "sparse"
    with masks.use("dense"):
        assert masks.mode == "dense"
    assert masks.mode == "sparse"
    with pytest.raises(ValueError):
        masks.mode = "half"


def test_all_paths_train_the_same_parameter_objects():
    model = Mixed()
    before = {id(p) for p in model.parameters()}
    masks = MaskedWeights(model)
    masks.update_masks(0.5)
    assert {id(p) for p in model.parameters()} == before  # an optimiser made before masking still fits
    originals = {id(e.original) for e in masks.entries}
    assert originals <= before
    grads = {}
    for mode in ("sparse", "dense"):
        model.zero_grad(set_to_none=True)
        with masks.use(mode):
            model(*mixed_inputs()).sum().backward()
        grads[mode] = {id(p) for p in model.parameters() if p.grad is not None and (p.grad != 0).any()}
    assert originals <= grads["sparse"] and originals <= grads["dense"]


def test_a_weight_read_outside_forward_is_masked_too():
    model = Mixed()
    masks = MaskedWeights(model)
    masks.update_masks(0.5)
    table = model.embed.weight  # read directly, as DDIModel reads its embedding tables
    assert torch.equal(table, masks.entries[0].original.detach() * masks.entries[0].mask)
    with masks.use("dense"):
        assert torch.equal(model.embed.weight, masks.entries[0].original)


def test_state_dict_round_trip_restores_masks_strictly_including_pyg_layers():
    torch.manual_seed(0)
    model = Mixed()
    masks = MaskedWeights(model)
    masks.update_masks(0.7)
    state = copy.deepcopy(model.state_dict())
    assert "conv.lin.weight" not in state  # PyG's own computed copy is dropped
    assert "conv.lin.parametrizations.weight.0.mask" in state
    expected = model(*mixed_inputs())
    masks.update_masks(0.1)
    model.load_state_dict(state)  # strict
    assert masks.num_pruned() == round(0.7 * masks.numel)
    assert torch.equal(model(*mixed_inputs()), expected)


def test_deepcopy_keeps_one_shared_mode_per_copy():
    model = Mixed()
    MaskedWeights(model).update_masks(0.5)
    clone = copy.deepcopy(model)
    shared = {id(m._shared) for m in clone.modules() if hasattr(m, "_shared")}
    assert len(shared) == 1
    assert torch.equal(clone(*mixed_inputs()), model(*mixed_inputs()))


def test_sparsity_counts_zeros_of_the_sparse_view():
    _, masks = linear_with_mask(0.4)
    assert masks.sparsity() == pytest.approx(16 / 40)
    with torch.no_grad():
        w = masks.entries[0].original
        w[tuple(masks.entries[0].mask.nonzero()[0].tolist())] = 0.0  # one kept weight that is exactly zero
    assert masks.sparsity() == pytest.approx(17 / 40)
    assert masks.mask_sparsity() == pytest.approx(16 / 40)


def test_apply_zeroes_pruned_raw_weights_and_remove_leaves_plain_modules():
    model = Mixed()
    masks = MaskedWeights(model)
    masks.update_masks(0.8)
    with masks.use("sparse"):
        expected = model(*mixed_inputs())
    masks.apply_()
    for e in masks.entries:
        assert (e.original[~e.mask] == 0).all()
    param_ids = [id(p) for p in model.parameters()]
    masks.mode = "dense"  # remove() must bake the sparse view whatever the current mode
    masks.remove()
    assert not any(parametrize.is_parametrized(m) for m in model.modules())
    assert not any("parametrizations" in k for k in model.state_dict())
    assert [id(p) for p in model.parameters()] == param_ids
    assert torch.equal(model(*mixed_inputs()), expected)
    assert float((model.out.weight == 0).float().mean()) > 0.5
    with pytest.raises(RuntimeError):
        masks.update_masks(0.5)


def test_input_criterion_keeps_weights_on_busy_inputs_over_larger_weights_on_quiet_ones():
    layer = nn.Linear(4, 3)
    with torch.no_grad():  # columns 0-1: small weights; columns 2-3: ten times larger
        layer.weight.copy_(torch.tensor([[0.1, 0.1, 1.0, 1.0]] * 3))
    by_magnitude = MaskedWeights(copy.deepcopy(layer))
    by_input = MaskedWeights(layer, criterion="input")
    # Columns 0-1 carry inputs of size ~100, columns 2-3 of size ~0.01: their weights matter 1,000 times more.
    x = torch.cat([torch.full((16, 2), 100.0), torch.full((16, 2), 0.01)], dim=1)
    layer.train()
    layer(x)
    by_magnitude.update_masks(0.5)
    by_input.update_masks(0.5)
    assert by_magnitude.entries[0].mask[:, 2:].all() and not by_magnitude.entries[0].mask[:, :2].any()
    assert by_input.entries[0].mask[:, :2].all() and not by_input.entries[0].mask[:, 2:].any()
    assert by_input.input_moments == {}  # each update ranks by the inputs seen since the previous one


def test_input_criterion_ignores_eval_forwards_and_falls_back_to_magnitude_without_inputs():
    model = Mixed()
    masks = MaskedWeights(model, criterion="input")
    model.eval()
    model(*mixed_inputs())
    assert masks.input_moments == {}
    magnitude = MaskedWeights(copy.deepcopy(Mixed()))
    magnitude.model.load_state_dict(model.state_dict())
    masks.update_masks(0.6, "lamp")
    magnitude.update_masks(0.6, "lamp")
    for a, b in zip(masks.entries, magnitude.entries, strict=True):
        assert torch.equal(a.mask, b.mask)
    model.train()
    model(*mixed_inputs())  # the embedding has no input features: only linear layers record
    linear = {e.name for e in masks.entries} - {"embed.weight"}
    assert set(masks.input_moments) == linear and len(linear) == len(masks.entries) - 1
    assert "embed.weight" not in masks.input_moments
    masks.remove()  # the recording hooks go too
    masks.input_moments.clear()
    model(*mixed_inputs())
    assert masks.input_moments == {}
    with pytest.raises(ValueError, match="criterion must be one of"):
        MaskedWeights(Mixed(), criterion="gradient")
