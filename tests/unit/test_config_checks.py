"""Values of a run configuration that would fail, or silently misbehave, mid-run are refused up front."""

from __future__ import annotations

import re

import pytest

from ddi.models.config import ConfigError, RunConfig, TrainConfig


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("seed", -1, "seed must be >= 0"),
        ("lr", float("inf"), "lr must be a finite number > 0"),
        ("weight_decay", -1.0, "weight_decay must be >= 0"),
        ("label_smoothing", 5.0, "label_smoothing must be in [0, 1]"),
        ("exists_weight", -0.5, "exists_weight must be >= 0"),
        ("max_train_pairs", 0, "max_train_pairs must be >= 1 or null"),
        ("threads", -2, "threads must be >= 1 or null"),
        ("distill_weight", -1.0, "distill_weight must be >= 0"),
        ("distill_temperature", 0.0, "distill_temperature must be > 0"),
    ],
)
def test_a_train_value_that_would_fail_mid_run_is_refused(field: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"invalid train config: {message}")):
        RunConfig.from_dict({"train": {field: value}})


def test_a_relation_group_named_twice_is_refused() -> None:
    with pytest.raises(ConfigError, match=re.escape("relation_groups names a group twice: ['target', 'target']")):
        RunConfig.from_dict({"model": {"relation_groups": ["target", "target"]}})
    assert RunConfig.from_dict({"model": {"relation_groups": []}}).model.relation_groups == ()  # an ablation


def test_a_negative_split_seed_is_refused() -> None:
    with pytest.raises(ConfigError, match="the split seed must be a whole number of at least 0, not -1"):
        RunConfig.from_dict({"split_seed": -1})


def test_check_validates_fields_set_after_construction() -> None:
    run = RunConfig()
    run.train.epochs = 0  # as a command line's --epochs sets it
    with pytest.raises(ConfigError, match="epochs must be >= 1"):
        run.check()
    run.train.epochs, run.split_seed = 1, -3
    with pytest.raises(ConfigError, match="not -3"):
        run.check()
    run.split_seed = 0
    assert run.check() is run
    assert TrainConfig(max_train_pairs=300, threads=1).max_train_pairs == 300


def test_retrain_checks_its_config_before_the_long_import(tmp_path) -> None:
    from ddi.train.retrain import retrain

    run = RunConfig()
    run.train.epochs = 0
    # The export does not exist either: the config error must come first, before any import work.
    with pytest.raises(ConfigError, match="epochs must be >= 1"):
        retrain(tmp_path / "missing.xml", tmp_path / "model", tmp_path / "data", run, progress=False)
    assert not (tmp_path / "data").exists()
