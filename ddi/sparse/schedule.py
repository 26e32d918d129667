"""Sparsity schedules: how much of the masked weights should be pruned at a given optimiser step.

``CubicSchedule`` is the gradual pruning schedule of Zhu & Gupta (2017, "To prune, or not to prune"):
starting at ``start_step`` it rises from ``initial`` to ``target`` over ``ramp_steps`` steps along

    s_t = target + (initial - target) * (1 - (t - start_step) / ramp_steps) ** 3

which with ``initial = 0`` is ``target * (1 - (1 - t'/T) ** 3)``: fast pruning while the network is still
redundant, slow near the end. After the ramp it stays at ``target``. A ramp of 0 steps jumps to ``target`` at
``start_step`` (one-shot pruning). ``ConstantSchedule`` returns one value for every step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class Schedule(Protocol):
    """Anything that maps a (0-based) optimiser step to a sparsity in ``[0, 1)``."""

    def __call__(self, step: int) -> float: ...


def _check_sparsity(value: float, what: str) -> None:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{what} must be in [0, 1), got {value}")


@dataclass(frozen=True)
class CubicSchedule:
    """Zhu & Gupta's cubic ramp from ``initial`` to ``target`` over ``[start_step, start_step + ramp_steps)``.

    Parameters
    ----------
    target: final sparsity, in ``[0, 1)``.
    ramp_steps: length T of the ramp in steps (0: jump to ``target`` at ``start_step``).
    start_step: first step of the ramp; before it the schedule returns ``initial``.
    initial: sparsity before and at the start of the ramp.
    """

    target: float
    ramp_steps: int
    start_step: int = 0
    initial: float = 0.0

    def __post_init__(self) -> None:
        _check_sparsity(self.target, "target")
        _check_sparsity(self.initial, "initial")
        if self.ramp_steps < 0 or self.start_step < 0:
            raise ValueError("ramp_steps and start_step must be >= 0")

    @property
    def end_step(self) -> int:
        """First step at which the schedule returns ``target``."""
        return self.start_step + self.ramp_steps

    def __call__(self, step: int) -> float:
        if step < self.start_step:
            return self.initial
        if step >= self.end_step:
            return self.target
        remaining = 1.0 - (step - self.start_step) / self.ramp_steps
        return self.target + (self.initial - self.target) * remaining**3


@dataclass(frozen=True)
class ConstantSchedule:
    """The same sparsity at every step."""

    value: float

    def __post_init__(self) -> None:
        _check_sparsity(self.value, "value")

    @property
    def end_step(self) -> int:
        return 0

    def __call__(self, step: int) -> float:
        return self.value
