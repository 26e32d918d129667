"""The search space: valid architectures only, exact size, neighbours, encodings and the ModelConfig mapping."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from ddi.models.config import ConfigError, ModelConfig
from ddi.models.ddi_model import DDIModel
from ddi.search.space import DEFAULT_CHOICES, Choice, SearchSpace

#: A space small enough to enumerate by hand, with the same kinds of constraint as the default one:
#: aggregation "attention" needs attention=True, and "rotate" needs an even hidden_dim.
SMALL_CHOICES = (
    Choice("relation_groups", (("enzyme",), ("target",), ("enzyme", "target"))),
    Choice("path_length", (0, 3)),
    Choice("message", ("mult", "rotate")),
    Choice("aggregation", ("attention", "sum")),
    Choice("attention", (True, False)),
    Choice("hidden_dim", (6, 9)),
)


@pytest.fixture(scope="module")
def space() -> SearchSpace:
    return SearchSpace()


@pytest.fixture(scope="module")
def small() -> SearchSpace:
    return SearchSpace(SMALL_CHOICES)


def brute_force_valid(choices: tuple[Choice, ...]) -> set[tuple[int, ...]]:
    valid = set()
    for arch in itertools.product(*(range(len(c.options)) for c in choices)):
        try:
            ModelConfig(**{c.name: c.options[i] for c, i in zip(choices, arch, strict=True)})
        except ConfigError:
            continue
        valid.add(arch)
    return valid


def test_size_is_the_exact_number_of_valid_architectures(small: SearchSpace) -> None:
    valid = brute_force_valid(SMALL_CHOICES)
    # 3 x 2 x (mult: 2 dims + rotate: 1 even dim) x 3 aggregation/attention pairs
    assert small.size() == len(valid) == 3 * 2 * 3 * 3
    assert set(small.all_architectures()) == valid


def test_default_space_size_matches_the_documented_figure(space: SearchSpace) -> None:
    names = [c.name for c in DEFAULT_CHOICES]
    assert names[:4] == ["relation_groups", "path_length", "kg_layers", "message"]
    assert names[4:8] == ["aggregation", "attention", "combine", "hidden_dim"]
    assert len(space.choices[0].options) == 31 and () not in space.choices[0].options
    sizes = {c.name: len(c.options) for c in space.choices}
    expected = 31 * 3 * 3 * 5 * 2 * 3 * (4 * 2 - 1)
    if "fingerprint_bits" in sizes:
        expected *= sizes["fingerprint_bits"]
    assert space.size() == expected == 117_180


def test_sampled_architectures_build_a_config_and_a_model(space: SearchSpace) -> None:
    rng = np.random.default_rng(0)
    for _ in range(25):
        arch = space.sample(rng)
        assert space.is_valid(arch)
        config = space.to_model_config(arch)
        assert space.from_model_config(config) == arch
        model = DDIModel(
            config, num_drugs=6, num_nodes=10, num_relations=5, atom_dim=4, bond_dim=3, num_classes=8, num_rules=2
        )
        assert (model.path_block is None) == (config.path_length == 0)
        assert len(model.context) == config.kg_layers


def test_sampling_is_uniform_over_valid_architectures(small: SearchSpace) -> None:
    rng = np.random.default_rng(1)
    counts = Counter(small.sample(rng) for _ in range(5_400))
    assert set(counts) == set(small.all_architectures())
    expected = 5_400 / small.size()
    assert all(0.6 * expected < n < 1.4 * expected for n in counts.values())


def test_invalid_combinations_are_excluded(space: SearchSpace) -> None:
    default = space.from_model_config(ModelConfig())
    values = dict(zip(space.names, default, strict=True))
    attention_off = space.choices[space.names.index("attention")].options.index(False)
    bad = tuple(attention_off if name == "attention" else values[name] for name in space.names)
    assert space.describe(default)["aggregation"] == "attention"
    assert not space.is_valid(bad)
    with pytest.raises(ConfigError):
        space.to_model_config(bad)
    with pytest.raises(ValueError):
        space.is_valid(default[:-1])


def test_neighbours_are_every_valid_single_change(small: SearchSpace, space: SearchSpace) -> None:
    valid = set(small.all_architectures())
    for arch in valid:
        got = small.neighbours(arch)
        expected = [a for a in valid if sum(x != y for x, y in zip(a, arch, strict=True)) == 1]
        assert sorted(got) == sorted(expected) and len(set(got)) == len(got)
    arch = space.sample(np.random.default_rng(2))
    first = space.neighbours(arch)
    assert first == space.neighbours(arch)  # deterministic order
    assert all(space.is_valid(n) and sum(x != y for x, y in zip(n, arch, strict=True)) == 1 for n in first)


def test_default_model_config_maps_into_the_space_and_back(space: SearchSpace) -> None:
    arch = space.from_model_config(ModelConfig())
    assert space.to_model_config(arch) == ModelConfig()
    key = space.key(arch)
    assert key.startswith("relation_groups=enzyme+transporter+carrier+target+interaction|path_length=3|")
    assert space.from_key(key) == arch
    described = space.describe(arch)
    assert described["reach"] == 3 and described["path_block"] is True


def test_configs_outside_the_space_map_to_the_nearest_architecture(space: SearchSpace) -> None:
    config = ModelConfig(hidden_dim=70, relation_groups=("target", "enzyme"), kg_layers=3, mol_layers=1)
    values = space.describe(space.from_model_config(config))
    assert values["hidden_dim"] == 64
    assert values["relation_groups"] == ("enzyme", "target")
    assert values["kg_layers"] == 2


def test_base_config_supplies_the_fields_outside_the_space() -> None:
    space = SearchSpace(base=ModelConfig(mol_layers=1, dropout=0.0))
    config = space.to_model_config(space.sample(np.random.default_rng(3)))
    assert config.mol_layers == 1 and config.dropout == 0.0


def test_tokens_are_unique_per_choice_and_option(space: SearchSpace) -> None:
    seen: dict[int, tuple[str, object]] = {}
    base = space.from_model_config(ModelConfig())
    for pos, choice in enumerate(space.choices):
        for option in range(len(choice.options)):
            arch = (*base[:pos], option, *base[pos + 1 :])
            token, meaning = int(space.encode(arch)[pos]), (choice.name, choice.options[option])
            assert seen.setdefault(token, meaning) == meaning
    assert sorted(seen) == list(range(space.num_tokens))
    tokens = space.encode(base)
    assert tokens.dtype == np.int64 and tokens.shape == (len(space.choices),)
    assert space.decode(tokens) == base


def test_features_are_one_hot_plus_group_membership(space: SearchSpace) -> None:
    arch = space.from_model_config(ModelConfig(relation_groups=("enzyme", "target")))
    feats = space.features(arch)
    assert feats.shape == (space.num_features,) and feats.dtype == np.float32
    assert feats[: space.num_tokens].sum() == len(space.choices)
    assert feats[space.encode(arch)].min() == 1.0
    assert list(feats[space.num_tokens :]) == [1.0, 0.0, 0.0, 1.0, 0.0]  # enzyme, transporter, carrier, target, ...


def test_keys_are_unique_and_readable(small: SearchSpace) -> None:
    archs = list(small.all_architectures())
    keys = {small.key(a) for a in archs}
    assert len(keys) == len(archs)
    assert all(small.from_key(small.key(a)) == a for a in archs)
    with pytest.raises(ValueError):
        small.from_key("message=mult")


def test_choices_must_be_model_config_fields() -> None:
    with pytest.raises(ValueError, match="not ModelConfig fields"):
        SearchSpace((Choice("depth", (1, 2)),))
    with pytest.raises(ValueError):
        Choice("message", ())
