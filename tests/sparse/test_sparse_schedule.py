"""Zhu & Gupta's cubic sparsity schedule and the constant schedule."""

from __future__ import annotations

from itertools import pairwise

import pytest

from ddi.sparse.schedule import ConstantSchedule, CubicSchedule


def test_cubic_values_from_zero():
    s = CubicSchedule(target=0.9, ramp_steps=100)
    # s_t = 0.9 * (1 - (1 - t/100)^3)
    assert s(0) == 0.0
    assert s(25) == pytest.approx(0.9 * (1 - 0.75**3))
    assert s(50) == pytest.approx(0.7875)
    assert s(99) == pytest.approx(0.9 * (1 - 0.01**3))
    assert s(100) == 0.9
    assert s(10_000) == 0.9
    assert s.end_step == 100


def test_cubic_start_step_shifts_the_ramp():
    s = CubicSchedule(target=0.9, ramp_steps=100, start_step=40)
    assert s(0) == s(39) == s(40) == 0.0
    assert s(90) == pytest.approx(0.7875)
    assert s(140) == 0.9
    assert s.end_step == 140


def test_cubic_from_a_nonzero_initial_sparsity():
    s = CubicSchedule(target=0.8, ramp_steps=10, initial=0.2)
    assert s(0) == pytest.approx(0.2)
    assert s(5) == pytest.approx(0.8 + (0.2 - 0.8) * 0.5**3)
    assert s(10) == pytest.approx(0.8)


def test_cubic_is_monotone_and_front_loaded():
    s = CubicSchedule(target=0.95, ramp_steps=60, start_step=5)
    values = [s(t) for t in range(80)]
    assert all(a <= b for a, b in pairwise(values))
    # Most of the pruning happens early: half-way through the ramp 7/8 of the target is reached.
    assert s(35) == pytest.approx(0.95 * 7 / 8)


def test_zero_ramp_is_a_jump():
    s = CubicSchedule(target=0.5, ramp_steps=0, start_step=7)
    assert s(6) == 0.0 and s(7) == 0.5 and s(100) == 0.5


def test_constant():
    s = ConstantSchedule(0.3)
    assert s(0) == s(123) == 0.3


@pytest.mark.parametrize(
    "make",
    [
        lambda: CubicSchedule(1.0, 10),
        lambda: CubicSchedule(-0.1, 10),
        lambda: CubicSchedule(0.5, -1),
        lambda: CubicSchedule(0.5, 10, start_step=-3),
        lambda: ConstantSchedule(1.2),
    ],
)
def test_invalid_settings_are_refused(make):
    with pytest.raises(ValueError):
        make()
