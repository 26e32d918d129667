"""``Pruner``: paths, loss combination, schedules of mask updates, revivals, learning at 90 % and finalize."""

from __future__ import annotations

import copy
import logging

import pytest
import torch
import torch.nn.functional as F
from sparse_toy import IN_DIM, accuracy, toy_data, toy_model
from torch import nn
from torch.nn.utils import parametrize

from ddi.sparse import Pruner, distillation_loss, mutual_distillation


def make(method, **kwargs):
    settings = {"target_sparsity": 0.9, "total_steps": 100}
    settings.update(kwargs)
    return Pruner(toy_model(), method, **settings)


@pytest.mark.parametrize(
    ("method", "paths"),
    [("none", ["off"]), ("dcil", ["sparse", "dense"]), ("dpf", ["ste"]), ("gmp", ["sparse"]), ("oneshot", ["sparse"])],
)
def test_paths_of_each_method(method, paths):
    assert make(method).paths() == paths


def test_path_context_sets_the_mode_calls_the_hook_and_restores():
    calls = []
    pruner = make("dcil", on_path=calls.append)
    with pruner.path("dense"):
        assert pruner.masks.mode == "dense"
    assert pruner.masks.mode == "sparse"  # unmanaged forwards (evaluation) see the shipped sparse model
    assert calls == ["dense", None]
    with pytest.raises(ValueError), pruner.path("ste"):
        pass


def test_none_leaves_the_model_untouched():
    pruner = make("none")
    assert pruner.masks is None
    assert not any(parametrize.is_parametrized(m) for m in pruner.model.modules())
    with pruner.path("off"):
        pass
    for step in range(100):
        pruner.after_step(step)
    assert pruner.finalize() is pruner.model and pruner.sparsity() == 0.0


def test_invalid_settings_are_refused():
    with pytest.raises(ValueError, match="method"):
        make("lottery")
    with pytest.raises(ValueError, match="target_sparsity"):
        make("gmp", target_sparsity=1.0)


def test_single_path_methods_return_their_loss():
    loss = torch.tensor(1.5)
    for method, name in (("dpf", "ste"), ("gmp", "sparse"), ("oneshot", "sparse"), ("none", "off")):
        assert make(method).combine(None, {name: loss}, step=99) is loss
    with pytest.raises(KeyError):
        make("dcil").combine(None, {"sparse": loss}, step=0)


def test_dcil_combine_adds_mutual_distillation_after_warmup():
    pruner = make("dcil", warmup_steps=10, distill_weight=0.5, temperature=3.0)
    g = torch.Generator().manual_seed(0)
    sparse, dense = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g)
    losses = {"sparse": torch.tensor(1.0), "dense": torch.tensor(2.0)}
    logits = {"sparse": sparse, "dense": dense}
    assert pruner.combine(logits, losses, step=9).item() == pytest.approx(3.0)
    manual = 0.0
    for student, teacher in ((sparse, dense), (dense, sparse)):
        p_t = F.softmax(teacher / 3.0, -1)
        manual += float((p_t * (p_t.log() - F.log_softmax(student / 3.0, -1))).sum(-1).mean()) * 9.0
    assert pruner.combine(logits, losses, step=10).item() == pytest.approx(3.0 + 0.5 * manual, rel=1e-5)


def test_distillation_pulls_each_side_towards_the_detached_other():
    g = torch.Generator().manual_seed(1)
    a = torch.randn(5, 3, generator=g, requires_grad=True)
    b = torch.randn(5, 3, generator=g, requires_grad=True)
    mutual_distillation(a, b, 2.0).backward()
    # Only KD(a <- b) depends on a (b's copy in it is detached), and vice versa.
    a_ref = a.detach().clone().requires_grad_()
    distillation_loss(a_ref, b.detach(), 2.0).backward()
    assert torch.allclose(a.grad, a_ref.grad)
    assert distillation_loss(a, a, 2.0).item() == pytest.approx(0.0, abs=1e-7)


def test_dense_to_sparse_distillation_teaches_only_the_sparse_path():
    pruner = make("dcil", warmup_steps=0, distill_direction="dense_to_sparse")
    g = torch.Generator().manual_seed(2)
    sparse = torch.randn(6, 4, generator=g, requires_grad=True)
    dense = torch.randn(6, 4, generator=g, requires_grad=True)
    zero = {"sparse": torch.zeros((), requires_grad=True), "dense": torch.zeros((), requires_grad=True)}
    loss = pruner.combine({"sparse": sparse, "dense": dense}, zero, step=0)
    assert loss.item() == pytest.approx(distillation_loss(sparse, dense, 2.0).item())
    loss.backward()
    assert sparse.grad.abs().sum() > 0
    assert dense.grad is None  # the dense path learns from its task loss alone
    assert pruner.summary()["distill_direction"] == "dense_to_sparse"
    with pytest.raises(ValueError, match="distill_direction"):
        make("dcil", distill_direction="sparse_to_dense")


def test_binary_logits_distil_as_bernoulli_kl():
    student, teacher = torch.tensor([0.3, -1.0]), torch.tensor([2.0, 0.5])
    ps, pt = torch.sigmoid(student), torch.sigmoid(teacher)
    kl = pt * (pt / ps).log() + (1 - pt) * ((1 - pt) / (1 - ps)).log()
    assert distillation_loss(student, teacher, 1.0).item() == pytest.approx(float(kl.mean()), rel=1e-5)


@pytest.mark.parametrize("method", ["dcil", "dpf", "gmp"])
def test_gradual_methods_follow_the_cubic_schedule(method):
    pruner = make(method, total_steps=200, ramp_fraction=0.5, update_every=16)
    for step in range(200):
        pruner.after_step(step)
        if step % 16 == 0 or step == 100:
            expected = pruner.masks.expected_pruned(pruner.schedule(step))
            assert pruner.masks.num_pruned() == expected
    assert pruner.at_target()
    updates = [s for s, _ in pruner.mask_changes]
    assert updates == sorted({*range(0, 200, 16), 100})  # every 16 steps, and the step the ramp ends
    assert pruner.masks.num_pruned() == round(0.9 * pruner.masks.numel)


def test_oneshot_prunes_once_then_keeps_the_mask(train_toy):
    run = train_toy("oneshot", steps=200, prune_at=0.5)
    assert [s for s, _ in run.pruner.mask_changes] == [100]
    assert len(run.mask_history) == 1  # no mask change after the one-shot prune
    for e in run.pruner.masks.entries:
        assert (e.original[~e.mask] == 0).all()


def test_dcil_revives_pruned_weights(train_toy):
    run = train_toy("dcil")
    assert run.revived > 0  # counted from mask snapshots by the test
    assert sum(r for _, r in run.pruner.revivals) == run.revived


def test_dpf_revives_pruned_weights(train_toy):
    assert train_toy("dpf").revived > 0


def _one_dcil_step(pruned_step: float) -> tuple[Pruner, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Prune a toy model to 90 % at once, take one Adam step of both DCIL paths; raw weights before and after."""
    torch.manual_seed(0)
    pruner = make("dcil", total_steps=10, ramp_fraction=0.0, pruned_step=pruned_step)
    pruner.after_step(0)  # a ramp of 0 steps: at the target at once
    optimiser = torch.optim.Adam(pruner.model.parameters(), lr=1e-2)
    x, y = toy_data(64, seed=1)
    before = {e.name: e.original.detach().clone() for e in pruner.masks.entries}
    losses = {}
    for name in pruner.paths():
        with pruner.path(name):
            losses[name] = F.cross_entropy(pruner.model(x), y)
    optimiser.zero_grad()
    pruner.combine(None, losses, 1).backward()
    pruner.before_step()
    optimiser.step()
    pruner.after_step(1)
    after = {e.name: e.original.detach().clone() for e in pruner.masks.entries}
    return pruner, before, after


def test_pruned_step_shortens_only_the_pruned_weights_step():
    _, before, after_full = _one_dcil_step(1.0)
    quarter, before_q, after_quarter = _one_dcil_step(0.25)
    for e in quarter.masks.entries:
        assert torch.equal(before[e.name], before_q[e.name])  # same start
        kept, pruned = e.mask, ~e.mask
        assert pruned.any() and kept.any()
        assert torch.equal(after_quarter[e.name][kept], after_full[e.name][kept])
        step_full = after_full[e.name][pruned] - before[e.name][pruned]
        step_quarter = after_quarter[e.name][pruned] - before[e.name][pruned]
        assert step_full.abs().max() > 0  # the dense path did move the pruned weights
        assert torch.allclose(step_quarter, 0.25 * step_full, atol=1e-7)


def test_pruned_weights_still_revive_with_a_shorter_step(train_toy):
    full = train_toy("dcil")
    short = train_toy("dcil", pruned_step=0.1)
    assert 0 < short.revived < full.revived
    assert short.pruner.summary()["pruned_step"] == 0.1
    assert make("gmp", pruned_step=0.1).pruned_step == 1.0  # gmp's pruned weights never move anyway
    with pytest.raises(ValueError, match="pruned_step"):
        make("dcil", pruned_step=1.5)


def test_gmp_never_revives_and_holds_pruned_weights_at_zero(train_toy):
    run = train_toy("gmp")
    assert run.revived == 0 and sum(r for _, r in run.pruner.revivals) == 0
    assert sum(c for _, c in run.pruner.mask_changes) == run.pruner.masks.num_pruned()  # only new prunes
    for e in run.pruner.masks.entries:
        assert (e.original[~e.mask] == 0).all()


@pytest.mark.parametrize("method", ["dcil", "gmp", "oneshot"])
def test_summary_reports_mask_stability(train_toy, method):
    run = train_toy(method, steps=200)
    pruner = run.pruner
    end = pruner.schedule.end_step
    after = [c for step, c in pruner.mask_changes if step > end]
    summary = pruner.summary()
    assert summary["ramp_end_step"] == end
    assert summary["mask_updates_after_ramp"] == len(after)
    assert summary["mask_changes_after_ramp"] == sum(after)
    expected_churn = sum(after) / (len(after) * pruner.masks.numel) if after else 0.0
    assert summary["mask_churn_after_ramp"] == pytest.approx(expected_churn)
    # distinct revived weights: at most the summed revivals (a weight can come back more than once)
    assert summary["revived_fraction"] * pruner.masks.numel <= run.revived
    if method == "dcil":
        assert summary["revived_fraction"] > 0 and summary["mask_changes_after_ramp"] > 0
    else:
        assert summary["revived_fraction"] == 0.0 and summary["mask_changes_after_ramp"] == 0
    pruner.finalize()
    assert pruner.summary()["revived_fraction"] == summary["revived_fraction"]


def test_the_toy_task_needs_the_hidden_layers(test_data):
    """A linear model cannot solve it, so high accuracy below means the sparse MLP really learned."""
    torch.manual_seed(0)
    linear = nn.Linear(IN_DIM, 4)
    optimiser = torch.optim.Adam(linear.parameters(), lr=1e-2)
    x, y = toy_data(2048, seed=1)
    for _ in range(300):
        optimiser.zero_grad()
        F.cross_entropy(linear(x), y).backward()
        optimiser.step()
    assert accuracy(linear, *test_data) < 0.4


@pytest.mark.parametrize("method", ["dcil", "dpf", "gmp", "oneshot"])
def test_learns_the_toy_task_at_90_percent_sparsity(train_toy, method):
    run = train_toy(method)
    assert run.pruner.masks.num_pruned() == round(0.9 * run.pruner.masks.numel)
    assert run.accuracy > 0.7  # chance is 0.25, and about what a linear model gets


def test_finalize_ships_exactly_the_sparse_path(train_toy, test_data):
    run = train_toy("dcil")
    x, _ = test_data
    run.model.eval()
    with torch.no_grad(), run.pruner.path("sparse"):
        expected = run.model(x)
    masked = run.pruner.masks.numel
    model = run.pruner.finalize()
    assert not any(parametrize.is_parametrized(m) for m in model.modules())
    assert type(model[0]) is nn.Linear
    with torch.no_grad():
        assert torch.equal(model(x), expected)
    zeros = sum(int((m.weight == 0).sum()) for m in model.modules() if isinstance(m, nn.Linear))
    assert zeros >= round(0.9 * masked)
    assert run.pruner.finalize() is model  # idempotent


def test_finalize_before_the_ramp_ends_prunes_to_target_and_warns(caplog):
    pruner = make("dcil", total_steps=100)
    for step in range(20):
        pruner.after_step(step)
    assert pruner.masks.num_pruned() < round(0.9 * pruner.masks.numel) and not pruner.at_target()
    numel = pruner.masks.numel
    with caplog.at_level(logging.WARNING, logger="ddi.sparse.pruner"):
        model = pruner.finalize()
    assert "not the target" in caplog.text
    zeros = sum(int((m.weight == 0).sum()) for m in model.modules() if isinstance(m, nn.Linear))
    assert zeros == round(0.9 * numel)


def test_restoring_a_best_state_mid_training_restores_its_masks():
    pruner = make("dcil", total_steps=100, update_every=4)
    for step in range(30):
        pruner.after_step(step)
    best = copy.deepcopy(pruner.model.state_dict())
    best_masks = pruner.masks.masks()
    for step in range(30, 100):
        pruner.after_step(step)
    pruner.model.load_state_dict(best)
    assert all(torch.equal(pruner.masks.masks()[k], v) for k, v in best_masks.items())


def test_dcil_dense_path_can_keep_its_own_normalisation_layers():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.ReLU(), nn.Linear(8, 3))
    norm = model[1]
    shared_weight = norm.weight
    pruner = Pruner(model, "dcil", 0.5, total_steps=10, separate_norms=True)
    copies = pruner.extra_parameters()  # for the optimiser, beside model.parameters()
    assert len(copies) == 2 and all(c is not shared_weight for c in copies)
    assert not any(p is copies[0] for p in model.parameters())  # the model itself is unchanged
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    losses = {}
    for path in pruner.paths():
        with pruner.path(path):
            losses[path] = F.cross_entropy(model(x), y)
        assert norm.weight is shared_weight  # swapped back on leaving the path
    losses["sparse"].backward(retain_graph=True)
    assert shared_weight.grad is not None and copies[0].grad is None  # the sparse path trains the originals
    model.zero_grad()
    losses["dense"].backward()
    assert shared_weight.grad is None and copies[0].grad is not None  # the dense path trains its copies
    assert pruner.summary()["separate_norms"] is True
    pruner.finalize()
    assert pruner.extra_parameters() == []
    # Other methods have one path: nothing to separate.
    assert (
        Pruner(nn.Sequential(nn.Linear(2, 2), nn.LayerNorm(2)), "gmp", 0.5, 10, separate_norms=True).summary()[
            "separate_norms"
        ]
        is False
    )
