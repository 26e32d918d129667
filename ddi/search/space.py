"""The architecture search space: a few ``ModelConfig`` fields, each with a short list of options.

An architecture is a tuple of option indices, one per choice, in ``SearchSpace.choices`` order. Every choice
is named after the ``ModelConfig`` field it sets; fields outside the space come from a base config (the
defaults unless given). An architecture is *valid* when ``ModelConfig`` accepts it.

Default choices (``DEFAULT_CHOICES``)
-------------------------------------
relation_groups: every non-empty subset of enzyme, transporter, carrier, target, interaction (31 options).
path_length: 0 (no path block), 2 (head-x-tail), 3 (also through a drug sharing proteins with head or tail).
kg_layers: 0, 1, 2 context propagation steps over the whole graph before the path block.
message: mult, sub, ccorr, rotate, mlp.
aggregation: attention, sum, mean, max.
attention: True, False (aggregation "attention" needs attention=True: those combinations are invalid; with other
    aggregations attention=True equals False, see ``RelationPathBlock``).
combine: concat, concat_product.
hidden_dim: 32, 64, 96.
fingerprint_bits: 0 (no fingerprint), 2048 (a 2048-bit Morgan fingerprint projected into each drug's state).

Size: 31 x 3 x 3 x 5 x 2 x 3 x 2 x (4 x 2 - 1 invalid aggregation/attention pair) = 117,180 valid
architectures (of 133,920 combinations). With path_length 0 the path block is absent, so aggregation and
attention change nothing there (message still shapes the context layers when kg_layers > 0); such
architectures are kept as distinct points rather than deduplicated, so that every choice is always present
and samplers stay simple. The molecule encoder (``mol_layers``) and the rest come from the base config.

The issue's "path length L (1-4)" is split in our model between two fields: ``path_length`` is the number of
hops of the explicit head..tail paths (2, or 3 with the similarity step folded into one edge), and
``kg_layers`` is the number of context steps, each adding one hop of neighbourhood to every node's vector,
the two drugs included. ``describe`` reports ``reach = max(path_length, 2 * kg_layers)``: the longest
head..tail chain a score can read, explicitly through a path or implicitly where the two drugs'
neighbourhoods meet in the pair vector. The space covers reach 0 (structure and rules only) and 2-4; L = 1,
the direct head-tail edge, is the label itself and is withheld from the graph to avoid leakage.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields, replace
from functools import cached_property

import numpy as np

from ddi.models.config import (
    AGGREGATIONS,
    COMBINATIONS,
    MESSAGE_FUNCTIONS,
    RELATION_GROUPS,
    ConfigError,
    ModelConfig,
)

#: Option index per choice, in ``SearchSpace.choices`` order.
Architecture = tuple[int, ...]


@dataclass(frozen=True)
class Choice:
    """One ``ModelConfig`` field and the values the search may give it."""

    name: str
    options: tuple

    def __post_init__(self) -> None:
        if not self.options:
            raise ValueError(f"choice {self.name!r} has no options")
        if len(set(self.options)) != len(self.options):
            raise ValueError(f"choice {self.name!r} repeats an option")


def non_empty_subsets(items: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """Every non-empty subset of ``items``, each in ``items`` order, smallest subsets first."""
    return tuple(sub for k in range(1, len(items) + 1) for sub in itertools.combinations(items, k))


DEFAULT_CHOICES: tuple[Choice, ...] = (
    Choice("relation_groups", non_empty_subsets(RELATION_GROUPS)),
    Choice("path_length", (0, 2, 3)),
    Choice("kg_layers", (0, 1, 2)),
    Choice("message", MESSAGE_FUNCTIONS),
    Choice("aggregation", AGGREGATIONS),
    Choice("attention", (True, False)),
    Choice("combine", COMBINATIONS),
    Choice("hidden_dim", (32, 64, 96)),
    Choice("fingerprint_bits", (0, 2048)),
)


def single_edits(
    arch: Architecture, num_options: Sequence[int], is_valid: Callable[[Architecture], bool]
) -> list[Architecture]:
    """Every valid architecture that differs from ``arch`` in exactly one choice, in choice then option order
    (the neighbour rule of the search graph; shared by every space)."""
    out = []
    for pos, count in enumerate(num_options):
        for option in range(count):
            if option != arch[pos]:
                other = (*arch[:pos], option, *arch[pos + 1 :])
                if is_valid(other):
                    out.append(other)
    return out


class SearchSpace:
    """Architectures over ``choices``; the fields they do not set come from ``base``.

    Parameters
    ----------
    choices: the choices, each named after a ``ModelConfig`` field (default ``DEFAULT_CHOICES``).
    base: the config the choices are applied to (default ``ModelConfig()``).
    """

    def __init__(self, choices: Sequence[Choice] | None = None, base: ModelConfig | None = None) -> None:
        self.choices: tuple[Choice, ...] = tuple(DEFAULT_CHOICES if choices is None else choices)
        self.base = base if base is not None else ModelConfig()
        known = {f.name for f in fields(ModelConfig)}
        names = [c.name for c in self.choices]
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"choices {unknown} are not ModelConfig fields")
        if len(set(names)) != len(names):
            raise ValueError("a choice is listed twice")
        self._offsets = np.cumsum([0] + [len(c.options) for c in self.choices])
        self._valid_cache: dict[Architecture, bool] = {}

    def __repr__(self) -> str:
        return f"SearchSpace({', '.join(f'{c.name}[{len(c.options)}]' for c in self.choices)})"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.choices)

    @property
    def num_tokens(self) -> int:
        """Size of the token vocabulary of ``encode``: one token per (choice, option)."""
        return int(self._offsets[-1])

    @property
    def num_combinations(self) -> int:
        """Number of option combinations, valid or not."""
        return int(np.prod([len(c.options) for c in self.choices], dtype=np.int64))

    # -- validity -----------------------------------------------------------------------------------------

    def _check_shape(self, arch: Architecture) -> None:
        if len(arch) != len(self.choices):
            raise ValueError(f"an architecture has {len(self.choices)} entries, got {len(arch)}")
        for i, choice in zip(arch, self.choices, strict=True):
            if not 0 <= int(i) < len(choice.options):
                raise ValueError(f"option {i} out of range for {choice.name!r} ({len(choice.options)} options)")

    def is_valid(self, arch: Architecture) -> bool:
        """Whether ``ModelConfig`` accepts the architecture (cached per architecture). A tuple of the wrong
        length or with an out-of-range index is a caller's bug, not an invalid architecture: ``ValueError``."""
        arch = tuple(int(i) for i in arch)
        self._check_shape(arch)
        cached = self._valid_cache.get(arch)
        if cached is None:
            cached = self._accepts(arch)
            self._valid_cache[arch] = cached
        return cached

    def _accepts(self, arch: Architecture) -> bool:
        try:
            self._config(arch)
        except ConfigError:
            return False
        return True

    def _config(self, arch: Architecture) -> ModelConfig:
        values = {c.name: c.options[i] for c, i in zip(self.choices, arch, strict=True)}
        return replace(self.base, **values)

    def all_architectures(self) -> Iterator[Architecture]:
        """Every valid architecture, in lexicographic order of option indices."""
        for arch in itertools.product(*(range(len(c.options)) for c in self.choices)):
            if self._accepts(arch):  # not through is_valid: enumerating should not fill its cache
                yield arch

    @cached_property
    def _size(self) -> int:
        return sum(1 for _ in self.all_architectures())

    def size(self) -> int:
        """Exact number of valid architectures (counted once by enumeration, then cached)."""
        return self._size

    # -- sampling and moves -------------------------------------------------------------------------------

    def sample(self, rng: np.random.Generator) -> Architecture:
        """A uniformly random valid architecture (uniform over the product, invalid draws rejected)."""
        for _ in range(10_000):
            arch = tuple(int(rng.integers(len(c.options))) for c in self.choices)
            if self.is_valid(arch):
                return arch
        raise RuntimeError("no valid architecture found in 10,000 draws: is the space empty?")

    def neighbours(self, arch: Architecture) -> list[Architecture]:
        """Every valid architecture that differs from ``arch`` in exactly one choice, in choice then option
        order."""
        arch = tuple(int(i) for i in arch)
        self._check_shape(arch)
        return single_edits(arch, [len(c.options) for c in self.choices], self.is_valid)

    # -- encodings ----------------------------------------------------------------------------------------

    def encode(self, arch: Architecture) -> np.ndarray:
        """Token ids ``C`` (int64), one per choice: option index plus the choice's offset, so each
        (choice, option) has its own id in ``[0, num_tokens)`` and a sequence model can embed them."""
        self._check_shape(tuple(arch))
        return np.asarray(arch, dtype=np.int64) + self._offsets[:-1].astype(np.int64)

    def decode(self, tokens: Sequence[int]) -> Architecture:
        """The architecture of ``encode``'s tokens."""
        arch = tuple(int(t) - int(o) for t, o in zip(tokens, self._offsets[:-1], strict=True))
        self._check_shape(arch)
        return arch

    @cached_property
    def _subset_items(self) -> dict[int, tuple]:
        """For choices whose options are tuples (sets such as relation groups): the items they draw from."""
        items = {}
        for pos, choice in enumerate(self.choices):
            if all(isinstance(o, tuple) for o in choice.options):
                items[pos] = tuple(dict.fromkeys(x for o in choice.options for x in o))
        return items

    @property
    def num_features(self) -> int:
        return self.num_tokens + sum(len(v) for v in self._subset_items.values())

    def features(self, arch: Architecture) -> np.ndarray:
        """Float vector ``F`` for surrogates: the one-hot of every choice (``num_tokens`` wide), then for each
        set-valued choice (relation groups) one membership bit per item, so a regressor can share what it
        learns about a group across the subsets that contain it."""
        out = np.zeros(self.num_features, dtype=np.float32)
        out[self.encode(arch)] = 1.0
        start = self.num_tokens
        for pos, items in self._subset_items.items():
            chosen = self.choices[pos].options[arch[pos]]
            for k, item in enumerate(items):
                out[start + k] = float(item in chosen)
            start += len(items)
        return out

    # -- configs ------------------------------------------------------------------------------------------

    def to_model_config(self, arch: Architecture) -> ModelConfig:
        """The ``ModelConfig`` of an architecture (raises ``ConfigError`` if it is invalid)."""
        arch = tuple(int(i) for i in arch)
        self._check_shape(arch)
        return self._config(arch)

    def from_model_config(self, config: ModelConfig) -> Architecture:
        """The architecture nearest to ``config``: each choice takes the option equal to the config's value, or
        else the closest one (numbers by distance, sets by overlap, anything else the first option). If that
        combination is invalid, the valid architecture differing in the fewest choices is returned."""
        arch = tuple(_nearest(choice.options, getattr(config, choice.name)) for choice in self.choices)
        if self.is_valid(arch):
            return arch
        best = min(self.all_architectures(), key=lambda a: sum(x != y for x, y in zip(a, arch, strict=True)))
        return best

    def key(self, arch: Architecture) -> str:
        """Stable readable key, e.g. ``relation_groups=enzyme+target|path_length=3|...|hidden_dim=64``."""
        return "|".join(f"{name}={_format(value)}" for name, value in self.values(arch).items())

    def from_key(self, key: str) -> Architecture:
        """The architecture of ``key`` (inverse of ``key``)."""
        parts = dict(part.split("=", 1) for part in key.split("|"))
        if sorted(parts) != sorted(self.names):
            raise ValueError(f"key {key!r} does not name the choices {self.names}")
        arch = []
        for choice in self.choices:
            formatted = [_format(o) for o in choice.options]
            if parts[choice.name] not in formatted:
                raise ValueError(f"unknown option {parts[choice.name]!r} for {choice.name!r}")
            arch.append(formatted.index(parts[choice.name]))
        return tuple(arch)

    def values(self, arch: Architecture) -> dict[str, object]:
        """Choice name -> option value."""
        arch = tuple(int(i) for i in arch)
        self._check_shape(arch)
        return {c.name: c.options[i] for c, i in zip(self.choices, arch, strict=True)}

    def describe(self, arch: Architecture) -> dict[str, object]:
        """Choice values plus derived facts: whether the path block is present and the ``reach`` (longest
        head..tail chain a score can read; see the module docstring)."""
        out = self.values(arch)
        config = self.to_model_config(arch)
        out["path_block"] = config.path_length > 0
        out["reach"] = max(config.path_length, 2 * config.kg_layers)
        return out


def _format(value: object) -> str:
    if isinstance(value, tuple):
        return "+".join(str(v) for v in value)
    return str(value)


def _nearest(options: tuple, value: object) -> int:
    if isinstance(value, list):
        value = tuple(value)
    for i, option in enumerate(options):
        if option == value and type(option) is type(value):
            return i
    if isinstance(value, tuple) and all(isinstance(o, tuple) for o in options):
        wanted = set(value)
        return max(range(len(options)), key=lambda i: _jaccard(wanted, set(options[i])))
    numeric = (int, float)
    if isinstance(value, numeric) and not isinstance(value, bool):
        candidates = [i for i, o in enumerate(options) if isinstance(o, numeric) and not isinstance(o, bool)]
        if candidates:
            return min(candidates, key=lambda i: abs(options[i] - value))
    return 0


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0
