"""Soft targets from a trained model (``TrainConfig.teacher``): knowledge distillation into the model in training.

DCIL's own distillation reads its dense path, which shares its weights with the sparse path it teaches. A sparse
network then has to learn both its task and a moving target. A trained dense model as the teacher gives fixed
targets that carry what the dense network knows about how close the types are (Hinton et al. 2015). Its logits are
computed once, before training, for every training row in both orders. Each chunk of rows is scored with its own
pairs removed from the context graph, as the training step does, so the teacher does not just repeat the label
that the graph shows it.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import torch
from tqdm import tqdm

from ddi.models.ddi_model import DDIModel
from ddi.train.context import TrainingContext
from ddi.train.negatives import own_pair_keys

log = logging.getLogger(__name__)


class TeacherLogits(NamedTuple):
    """Type logits ``N x 2T`` of the ``N`` training rows read as listed (``forward``) and reversed (``backward``),
    stored as float16 to halve their memory (a 135,000-row split: 93 MB)."""

    forward: torch.Tensor
    backward: torch.Tensor

    def rows(self, idx: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
        """``B x 2T`` float32 logits of rows ``idx``, each in the order the step reads it (``flip``: reversed)."""
        return torch.where(flip[:, None], self.backward[idx], self.forward[idx]).float()


def load_teacher(model_dir: str, ctx: TrainingContext) -> DDIModel:
    """The trained model of ``model_dir`` (any architecture), checked to come from this run's data and split."""
    from ddi.models.checkpoint import load_weights, read_checkpoint
    from ddi.train.trainer import build_model

    state, teacher_run, vocab, _ = read_checkpoint(model_dir)
    ctx.require_same_data(vocab, model_dir, "learning from")
    teacher = build_model(ctx, teacher_run)
    load_weights(teacher, state, model_dir)
    teacher.eval()
    log.info("distilling from %s (%d parameters)", model_dir, sum(p.numel() for p in teacher.parameters()))
    return teacher


@torch.no_grad()
def teacher_logits(
    teacher: DDIModel,
    ctx: TrainingContext,
    heads: torch.Tensor,
    tails: torch.Tensor,
    chunk: int,
    progress: bool = True,
) -> TeacherLogits:
    """The teacher's raw type logits (before its prior correction and vote: the student's raw logits are what the
    cross-entropy trains) of the training rows ``heads``, ``tails`` in both orders, ``chunk`` rows at a time."""
    from ddi.train.trainer import encode, pair_type_logits

    forward, backward = [], []
    starts = range(0, len(heads), chunk)
    for start in tqdm(starts, desc="teacher", disable=not progress, leave=False):
        h, t = heads[start : start + chunk], tails[start : start + chunk]
        drop = own_pair_keys(h, t, ctx.graph.num_drugs)
        logits = pair_type_logits(teacher, ctx, h, t, encoded=encode(teacher, ctx, drop))
        forward.append(logits.forward.half())
        backward.append(logits.backward.half())
    return TeacherLogits(torch.cat(forward), torch.cat(backward))
