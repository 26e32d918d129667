"""Temperature-scaled distillation between two sets of logits (DCIL's "collective intelligence" term)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

Logits = Tensor | Sequence[Tensor]


def _as_classes(logits: Tensor) -> Tensor:
    """``B x C`` logits as they are; binary logits ``B`` as the two-class logits ``[0, z]`` (softmax = sigmoid)."""
    if logits.dim() == 1:
        return torch.stack([torch.zeros_like(logits), logits], dim=-1)
    return logits


def distillation_loss(student: Tensor, teacher: Tensor, temperature: float = 2.0) -> Tensor:
    """``T^2 * KL(softmax(teacher / T) || softmax(student / T))``, averaged over rows; the teacher is detached.

    The ``T^2`` factor keeps the gradient scale independent of ``T`` (Hinton et al. 2015).

    Shapes
    ------
    student, teacher: ``B x C`` class logits, or ``B`` binary logits; output: scalar.
    """
    if student.shape != teacher.shape:
        raise ValueError(f"student and teacher logits differ in shape: {tuple(student.shape)} vs {teacher.shape}")
    t = float(temperature)
    log_student = F.log_softmax(_as_classes(student) / t, dim=-1)
    log_teacher = F.log_softmax(_as_classes(teacher.detach()) / t, dim=-1)
    return F.kl_div(log_student, log_teacher, reduction="batchmean", log_target=True) * (t * t)


def _paired(a: Logits, b: Logits) -> list[tuple[Tensor, Tensor]]:
    parts_a = [a] if isinstance(a, Tensor) else list(a)
    parts_b = [b] if isinstance(b, Tensor) else list(b)
    if len(parts_a) != len(parts_b) or not parts_a:
        raise ValueError("both sides need the same, non-zero number of logits tensors")
    return list(zip(parts_a, parts_b, strict=True))


def mutual_distillation(a: Logits, b: Logits, temperature: float = 2.0) -> Tensor:
    """Each side learns from the other, detached: ``KD(a <- b) + KD(b <- a)``, summed over paired outputs.

    ``a`` and ``b`` are one logits tensor each, or equally long sequences of them (e.g. a model's type logits and
    its exists logits).
    """
    terms = [distillation_loss(x, y, temperature) + distillation_loss(y, x, temperature) for x, y in _paired(a, b)]
    return torch.stack(terms).sum()


def one_way_distillation(student: Logits, teacher: Logits, temperature: float = 2.0) -> Tensor:
    """Only ``student`` learns: ``KD(student <- teacher)`` with the teacher detached, summed over paired outputs."""
    return torch.stack([distillation_loss(x, y, temperature) for x, y in _paired(student, teacher)]).sum()
