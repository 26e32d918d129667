"""``Pruner``: one object that drives sparse training of any model with one of five methods.

=========  ==========================  =========================================================================
method     forward paths per step      what happens to the masks
=========  ==========================  =========================================================================
"none"     ``off``                     nothing: the model is trained dense (no parametrizations at all)
"dcil"     ``sparse`` + ``dense``      cubic ramp to the target, re-ranked every ``update_every`` steps; the
                                       sparse path trains kept weights, the dense path trains pruned ones
                                       (refined gradients), plus mutual distillation after ``warmup_steps``
"dpf"      ``ste``                     as dcil, one pruned forward whose gradient updates all weights (STE)
"gmp"      ``sparse``                  as dcil, but pruned weights get no gradient and are held at 0: a pruned
                                       weight never comes back (Zhu & Gupta gradual magnitude pruning)
"oneshot"  ``sparse``                  dense until ``prune_at * total_steps``, then pruned to the target once
                                       and fine-tuned with the mask fixed
=========  ==========================  =========================================================================

A training step with a pruner::

    per_path = {}
    for name in pruner.paths():
        with pruner.path(name):
            logits = model(x)
            per_path[name] = (logits, F.cross_entropy(logits, y))
    loss = pruner.combine({k: v[0] for k, v in per_path.items()}, {k: v[1] for k, v in per_path.items()}, step)
    loss.backward(); pruner.before_step(); optimiser.step(); pruner.after_step(step)

and at the end ``pruner.finalize()`` leaves the plain sparse model (the sparse path is what is shipped). See
``docs/dcil.md`` for every choice the papers leave open.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import torch
from torch import Tensor, nn

from ddi.sparse.distill import Logits, mutual_distillation, one_way_distillation
from ddi.sparse.masks import CRITERIA, POLICIES, MaskedWeights, Selector, default_policy
from ddi.sparse.schedule import ConstantSchedule, CubicSchedule

log = logging.getLogger(__name__)

METHODS = ("none", "dcil", "dpf", "gmp", "oneshot")
#: forward paths of each method; a path's name is also the mask mode it runs in.
PATHS: dict[str, tuple[str, ...]] = {
    "none": ("off",),
    "dcil": ("sparse", "dense"),
    "dpf": ("ste",),
    "gmp": ("sparse",),
    "oneshot": ("sparse",),
}
_GRADUAL = ("dcil", "dpf", "gmp")
#: methods whose pruned weights are trained (and can come back)
_REVIVING = ("dcil", "dpf")
#: default distillation warm-up as a fraction of training (the DCIL authors' scripts: 70 of ~300 epochs).
DEFAULT_WARMUP_FRACTION = 0.25
#: who learns from whom in DCIL's distillation: both paths from each other (the paper) or the sparse path only
DISTILL_DIRECTIONS = ("mutual", "dense_to_sparse")


#: the module types whose parameters (and running statistics) DCIL keeps per path
NORM_TYPES: tuple[type[nn.Module], ...] = (nn.LayerNorm, nn.GroupNorm, nn.modules.batchnorm._BatchNorm)


class PathNorms(nn.Module):
    """Private copies of every normalisation layer's parameters and buffers, for DCIL's dense path.

    The DCIL authors keep a separate normalisation layer per path: the dense path computes with all weights, the
    sparse path with a twentieth of them, so their activations differ in scale and shared affine parameters would
    be pulled between the two. The copies are not registered on the model (a container such as ``nn.Sequential``
    would call them): the optimiser gets them from ``Pruner.extra_parameters()``, and the shipped model keeps the
    sparse path's own layers.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.slots: list[tuple[nn.Module, str, str]] = []  # (module, "_parameters" or "_buffers", name)
        self.copies = nn.ParameterList()
        for module in model.modules():
            if not isinstance(module, NORM_TYPES):
                continue
            for name, param in module.named_parameters(recurse=False):
                self.copies.append(nn.Parameter(param.detach().clone()))
                self.slots.append((module, "_parameters", name))
            for name, buffer in module.named_buffers(recurse=False):
                self.register_buffer(f"buffer{len(self.slots)}", buffer.detach().clone())
                self.slots.append((module, "_buffers", name))

    def _tensors(self) -> list[Tensor]:
        params, out = iter(self.copies), []
        for i, (_, kind, _) in enumerate(self.slots):
            out.append(next(params) if kind == "_parameters" else getattr(self, f"buffer{i}"))
        return out

    @contextmanager
    def swapped_in(self) -> Iterator[None]:
        """Run a block with the copies in place of the originals (the autograd graph keeps the copies)."""
        originals = []
        for (module, kind, name), tensor in zip(self.slots, self._tensors(), strict=True):
            store = getattr(module, kind)
            originals.append(store[name])
            store[name] = tensor
        try:
            yield
        finally:
            for (module, kind, name), original in zip(self.slots, originals, strict=True):
                getattr(module, kind)[name] = original


class Pruner:
    """Sparse training of ``model`` with ``method`` towards ``target_sparsity`` of the masked weights.

    Parameters
    ----------
    model: any ``nn.Module``; masks are registered on it in place (except for ``method="none"``).
    method: one of ``METHODS``.
    target_sparsity: final fraction of masked weights pruned, in ``[0, 1)``.
    total_steps: optimiser steps of the whole training run.
    ramp_fraction: length T of the cubic ramp as a fraction of ``total_steps`` (gradual methods).
    update_every: steps between mask re-rankings (gradual methods); the step at which the ramp reaches the
        target always updates.
    policy: ``"global"`` (one magnitude ranking over all masked tensors), ``"layer"`` (each tensor pruned to
        the same fraction) or ``"lamp"`` (one ranking of LAMP scores: scale-free, never empties a tensor).
    criterion: ``"magnitude"`` (rank |w|, the papers' choice) or ``"input"`` (rank |w| times the root mean square
        of the input feature it multiplies; see ``ddi.sparse.masks.CRITERIA``).
    distill_weight, temperature: weight and temperature T of DCIL's mutual distillation.
    distill_direction: ``"mutual"`` (the paper: each path learns from the other) or ``"dense_to_sparse"`` (only
        the sparse path, the one shipped, learns from the dense path; the dense path keeps its task loss alone).
    warmup_steps: DCIL steps before distillation starts (default ``DEFAULT_WARMUP_FRACTION * total_steps``).
    start_step: first step of the ramp (gradual methods).
    prune_at: fraction of ``total_steps`` at which ``"oneshot"`` prunes.
    select, exclude: which tensors are masked (see ``MaskedWeights``).
    on_path: optional ``callback(path_name)`` called on entering a path and ``callback(None)`` on leaving it,
        for models that keep per-path modules.
    separate_norms: dcil only: the dense path uses its own copy of every normalisation layer (``PathNorms``), as
        the DCIL authors' code does; False shares them between the paths.
    pruned_step: dcil and dpf: a pruned weight moves by this fraction of the optimiser's step (1 = the papers).
        Adam moves every weight by about the learning rate whatever the size of its gradient, so under Adam the
        pruned weights (trained by the dense path or the straight-through gradient) reach the threshold within
        tens of steps and the kept set keeps swapping; below 1 they need ``1 / pruned_step`` times as many steps
        of consistent pull to come back (a uniform slow-down, not SGD's proportion to the gradient's size).
        Needs ``before_step()`` before each optimiser step.
    """

    def __init__(
        self,
        model: nn.Module,
        method: str,
        target_sparsity: float,
        total_steps: int,
        ramp_fraction: float = 0.5,
        update_every: int = 16,
        policy: str = "global",
        criterion: str = "magnitude",
        distill_weight: float = 1.0,
        temperature: float = 2.0,
        warmup_steps: int | None = None,
        start_step: int = 0,
        prune_at: float = 0.5,
        select: Selector = default_policy,
        exclude: Sequence[str] = (),
        on_path: Callable[[str | None], Any] | None = None,
        separate_norms: bool = False,
        pruned_step: float = 1.0,
        distill_direction: str = "mutual",
    ) -> None:
        checks = [
            (method in METHODS, f"method must be one of {METHODS}, got {method!r}"),
            (0.0 <= target_sparsity < 1.0, "target_sparsity must be in [0, 1)"),
            (total_steps >= 1, "total_steps must be >= 1"),
            (0.0 <= ramp_fraction <= 1.0, "ramp_fraction must be in [0, 1]"),
            (update_every >= 1, "update_every must be >= 1"),
            (policy in POLICIES, f"policy must be one of {POLICIES}"),
            (criterion in CRITERIA, f"criterion must be one of {CRITERIA}"),
            (distill_weight >= 0.0, "distill_weight must be >= 0"),
            (temperature > 0.0, "temperature must be > 0"),
            (0.0 <= prune_at <= 1.0, "prune_at must be in [0, 1]"),
            (0.0 <= pruned_step <= 1.0, "pruned_step must be in [0, 1]"),
            (distill_direction in DISTILL_DIRECTIONS, f"distill_direction must be one of {DISTILL_DIRECTIONS}"),
        ]
        errors = [msg for ok, msg in checks if not ok]
        if errors:
            raise ValueError("invalid pruner settings: " + "; ".join(errors))
        self.model = model
        self.method = method
        self.target = float(target_sparsity)
        self.total_steps = total_steps
        self.update_every = update_every
        self.policy = policy
        self.distill_weight = distill_weight
        self.temperature = temperature
        self.distill_direction = distill_direction
        self.warmup_steps = round(DEFAULT_WARMUP_FRACTION * total_steps) if warmup_steps is None else warmup_steps
        self.on_path = on_path
        self.pruned_step = pruned_step if method in _REVIVING else 1.0
        self._before_step: list[Tensor] | None = None
        if method == "none":
            self.schedule: CubicSchedule | ConstantSchedule = ConstantSchedule(0.0)
        elif method == "oneshot":  # a ramp of 0 steps: a jump to the target
            self.schedule = CubicSchedule(self.target, 0, start_step=round(prune_at * total_steps))
        else:
            self.schedule = CubicSchedule(self.target, round(ramp_fraction * total_steps), start_step=start_step)
        self.criterion = criterion
        self.masks = (
            None if method == "none" else MaskedWeights(model, select=select, exclude=exclude, criterion=criterion)
        )
        self.dense_norms: PathNorms | None = None
        self.separate_norms = separate_norms and method == "dcil"
        if self.separate_norms:
            self.dense_norms = PathNorms(model)
        #: sparsity the masks were last updated to.
        self.level = 0.0
        #: (step, mask entries changed) at every mask update: the mask-stability statistic.
        self.mask_changes: list[tuple[int, int]] = []
        #: (step, entries pruned before and kept after) at every mask update.
        self.revivals: list[tuple[int, int]] = []
        self.finalized = False
        if self.masks is not None:
            log.info(
                "pruner %s: %d tensors, %d weights, target sparsity %.3f (%s ranking of %s), ramp to step %d of %d",
                method,
                len(self.masks.entries),
                self.masks.numel,
                self.target,
                policy,
                criterion,
                self.schedule.end_step,
                total_steps,
            )

    def extra_parameters(self) -> list[nn.Parameter]:
        """Trainable tensors the pruner adds beside the model's (the dense path's own norms); give them to the
        optimiser and the gradient clipping together with ``model.parameters()``."""
        return [] if self.dense_norms is None else list(self.dense_norms.parameters())

    # -- forward paths -----------------------------------------------------------------------------------------
    def paths(self) -> list[str]:
        """Names of the forward passes each training step runs (the mask mode of each)."""
        return list(PATHS[self.method])

    @contextmanager
    def path(self, name: str) -> Iterator[None]:
        """Run the forward pass (and build the graph) of path ``name``; the backward may happen outside."""
        if name not in PATHS[self.method]:
            raise ValueError(f"method {self.method!r} has paths {self.paths()}, not {name!r}")
        if self.on_path is not None:
            self.on_path(name)
        try:
            with ExitStack() as stack:
                if self.masks is not None:
                    stack.enter_context(self.masks.use(name))
                if name == "dense" and self.dense_norms is not None:
                    stack.enter_context(self.dense_norms.swapped_in())
                yield
        finally:
            if self.on_path is not None:
                self.on_path(None)

    def distill_active(self, step: int) -> bool:
        """Whether ``combine`` adds the mutual distillation term at ``step``."""
        return self.method == "dcil" and self.distill_weight > 0 and step >= self.warmup_steps

    def combine(self, logits: Mapping[str, Logits] | None, task_losses: Mapping[str, Tensor], step: int) -> Tensor:
        """The training loss of one step from each path's logits and task loss.

        dcil: ``loss_sparse + loss_dense`` plus, once ``step >= warmup_steps``,
        ``distill_weight * T^2 * [KL(p_dense || p_sparse) + KL(p_sparse || p_dense)]`` with the target side of
        each KL detached (``p = softmax(logits / T)``; binary logits ``B`` count as two classes). Other
        methods: the loss of their one path. ``logits[name]`` may be a tensor or a sequence of tensors (e.g.
        type and exists logits); it is only read by dcil.
        """
        missing = [name for name in self.paths() if name not in task_losses]
        if missing:
            raise KeyError(f"no task loss for path(s) {missing}")
        if self.method != "dcil":
            return task_losses[self.paths()[0]]
        loss = task_losses["sparse"] + task_losses["dense"]
        if self.distill_active(step):
            if logits is None or "sparse" not in logits or "dense" not in logits:
                raise KeyError("dcil distillation needs the logits of both the sparse and the dense path")
            if self.distill_direction == "mutual":
                distill = mutual_distillation(logits["sparse"], logits["dense"], self.temperature)
            else:
                distill = one_way_distillation(logits["sparse"], logits["dense"], self.temperature)
            loss = loss + self.distill_weight * distill
        return loss

    # -- masks -------------------------------------------------------------------------------------------------
    def before_step(self) -> None:
        """Call just before the optimiser step: with ``pruned_step < 1`` it remembers the masked weights, so that
        ``after_step`` can shorten the pruned ones' step. A no-op otherwise."""
        if self.masks is not None and self.pruned_step < 1.0 and self.level > 0:
            self._before_step = [e.original.detach().clone() for e in self.masks.entries]

    def _shorten_pruned_steps(self) -> None:
        assert self.masks is not None and self._before_step is not None
        with torch.no_grad():
            for e, before in zip(self.masks.entries, self._before_step, strict=True):
                moved = before + self.pruned_step * (e.original - before)
                e.original.copy_(torch.where(e.mask, e.original, moved))
        self._before_step = None

    def after_step(self, step: int) -> None:
        """Call after the optimiser step ``step`` (0-based, counted over the whole run)."""
        if self.masks is None:
            return
        if self._before_step is not None:
            self._shorten_pruned_steps()
        level = self.schedule(step)
        reaches_target = level >= self.target and self.level < self.target
        if self.method in _GRADUAL:
            if step % self.update_every == 0 or reaches_target:
                self._update(step, level)
            if self.method == "gmp":  # Adam's momentum and weight decay would move pruned weights off zero
                self.masks.apply_()
        elif self.method == "oneshot":
            if reaches_target:
                self._update(step, self.target)
            if self.level > 0:
                self.masks.apply_()

    def _update(self, step: int, level: float) -> None:
        assert self.masks is not None
        changed = self.masks.update_masks(level, self.policy)
        self.level = level
        self.mask_changes.append((step, changed))
        self.revivals.append((step, self.masks.last_revived))
        log.debug(
            "step %d: sparsity %.4f, %d mask entries changed (%d revived)",
            step,
            level,
            changed,
            self.masks.last_revived,
        )

    def at_target(self) -> bool:
        """Whether the masks prune exactly the target count (always True for ``"none"``).

        A training loop should only keep a "best" checkpoint, and only count early-stopping patience, once this
        holds: an earlier state is a denser model than the one that will be shipped.
        """
        if self.masks is None:
            return True
        return self.masks.num_pruned() == self.masks.expected_pruned(self.target, self.policy)

    def sparsity(self) -> float:
        """Fraction of zeros in the sparse view of the masked weights (0 for ``"none"``)."""
        return 0.0 if self.masks is None else self.masks.sparsity()

    def summary(self) -> dict[str, Any]:
        """Figures for logs and benchmarks: method, target, reached sparsity, mask changes and revivals.

        Mask stability, the statistic DCIL and DPF are judged by besides accuracy (the mask should settle, not
        keep swapping weights): ``ramp_end_step`` (first step at the target), ``mask_updates_after_ramp`` and
        ``mask_changes_after_ramp`` (updates at a constant sparsity, where every change is a swap),
        ``mask_churn_after_ramp`` (mean fraction of the masked weights flipped per such update) and
        ``revived_fraction`` (fraction of the masked weights revived at least once over the run).
        """
        out: dict[str, Any] = {"method": self.method, "target_sparsity": self.target}
        if self.masks is not None:
            out.update(
                policy=self.policy,
                criterion=self.criterion,
                separate_norms=self.separate_norms,
                pruned_step=self.pruned_step,
            )
        if self.method == "dcil":
            out.update(
                distill_weight=self.distill_weight,
                distill_direction=self.distill_direction,
                distill_start_step=self.warmup_steps,
            )
        if self.masks is not None and not self.finalized:
            out.update(
                masked_weights=self.masks.numel,
                mask_sparsity=self.masks.mask_sparsity(),
                weight_sparsity=self.masks.sparsity(),
                # where the kept weights went: the first thing to look at when a pruned model underperforms
                layer_sparsity={row["name"]: round(float(row["sparsity"]), 4) for row in self.masks.stats()},
            )
        out.update(
            mask_updates=len(self.mask_changes),
            mask_changes=sum(c for _, c in self.mask_changes),
            revivals=sum(r for _, r in self.revivals),
        )
        if self.masks is not None:
            end = self.schedule.end_step
            after = [c for step, c in self.mask_changes if step > end]
            numel = self.masks.numel
            out.update(
                ramp_end_step=end,
                mask_updates_after_ramp=len(after),
                mask_changes_after_ramp=sum(after),
                mask_churn_after_ramp=sum(after) / (len(after) * numel) if after else 0.0,
                revived_fraction=self.masks.num_ever_revived() / numel,
            )
        return out

    def finalize(self) -> nn.Module:
        """Leave the shipped model: masks at the target, weights ``w * m``, parametrizations removed.

        Masks already at the target count are kept as they are, so the returned model is exactly the sparse
        path that was last evaluated; only a run stopped before the ramp ended is pruned further here.
        """
        if self.masks is None or self.finalized:
            self.finalized = True
            return self.model
        if not self.at_target():
            log.warning(
                "masks are at sparsity %.4f, not the target %.4f: pruning to the target now, without fine-tuning",
                self.masks.mask_sparsity(),
                self.target,
            )
            self._update(self.total_steps, self.target)
        self.masks.apply_()
        sparsity = self.masks.sparsity()
        self.masks.remove()
        self.dense_norms = None  # the dense path's layers are not part of the shipped model
        self.finalized = True
        log.info("finalized %s model: %.4f of the masked weights are zero", self.method, sparsity)
        return self.model
