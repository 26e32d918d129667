"""Unstructured magnitude masks on the weight tensors of any ``nn.Module``, with switchable gradient paths.

``MaskedWeights`` registers a ``torch.nn.utils.parametrize`` parametrization (``WeightMask``) on every weight
tensor chosen by a policy. Each holds a boolean ``mask`` buffer (True = kept); all of them read one *path mode*
shared by the whole model:

=========  ============================  =========================================================
mode       value the module computes     gradient reaches
=========  ============================  =========================================================
"sparse"   ``w * m``                     kept weights only (ordinary masked training)
"dense"    ``w`` (all weights)           pruned weights only: DCIL's refined-gradient path
"ste"      ``w * m``                     all of ``w``, as if dense (DPF's straight-through estimator)
"off"      ``w``                         all of ``w`` (a plain dense model)
=========  ============================  =========================================================

Why parametrizations rather than forward pre-hooks: a parametrized ``module.weight`` is recomputed on *every*
access, so code that reads a weight outside ``forward`` (``DDIModel`` reads ``relation_embedding.weight`` and
``protein_embedding.weight`` directly) still sees the masked tensor of the current mode; a pre-hook only runs
when the module itself is called. The raw weight stays one ``nn.Parameter``
(``module.parametrizations.weight.original``), so both paths train the same tensor objects and optimisers keep
their state through ``remove()``.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

log = logging.getLogger(__name__)

PATH_MODES = ("sparse", "dense", "ste", "off")
#: global: one ranking of raw magnitudes over all masked tensors; layer: each tensor pruned to the same fraction;
#: lamp: one global ranking of LAMP scores (Lee et al. 2021), scale-free per tensor and never emptying a tensor.
POLICIES = ("global", "layer", "lamp")
#: magnitude: rank |w| (the DCIL paper). input: rank |w_ij| * rms(x_j), the weight times the root-mean-square of
#: the input feature it multiplies, measured over the training forwards since the last update (as Wanda, Sun et
#: al. 2023, scores weights): a weight on a large, busy input is worth more than an equal one on a rarely set bit.
CRITERIA = ("magnitude", "input")

#: ``select(module_name, module) -> names of the module's parameters to mask``.
Selector = Callable[[str, nn.Module], Sequence[str]]


def _maskable_types() -> tuple[type[nn.Module], ...]:
    types: tuple[type[nn.Module], ...] = (nn.Linear, nn.Embedding)
    try:  # PyG's own Linear (inside GINEConv and friends) is not an nn.Linear subclass
        from torch_geometric.nn.dense.linear import Linear as PygLinear

        types += (PygLinear,)
    except ImportError:  # pragma: no cover - torch_geometric is a dependency, but the library does not need it
        pass
    return types


MASKABLE_TYPES = _maskable_types()


def default_policy(name: str, module: nn.Module) -> tuple[str, ...]:
    """Mask the ``weight`` of every ``nn.Linear``, ``nn.Embedding`` and PyG ``Linear`` with ``ndim >= 2``.

    Biases, norm layers and free-standing parameters are never masked; nor are lazy (uninitialised) weights.
    """
    if not isinstance(module, MASKABLE_TYPES):
        return ()
    if parametrize.is_parametrized(module, "weight"):  # let MaskedWeights refuse it by name
        return ("weight",)
    weight = getattr(module, "weight", None)
    if not isinstance(weight, nn.Parameter) or isinstance(weight, nn.parameter.UninitializedParameter):
        return ()
    return ("weight",) if weight.dim() >= 2 else ()


class _SharedMode:
    """The one path mode all ``WeightMask`` objects of a ``MaskedWeights`` read (a plain object, no state)."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value


class WeightMask(nn.Module):
    """Parametrization ``w -> f(w, mask)`` of one weight tensor; ``f`` depends on the shared path mode.

    Shapes
    ------
    weight, mask and output all have the shape of the parametrized tensor.
    """

    mask: Tensor  # a registered buffer

    def __init__(self, shape: torch.Size, shared: _SharedMode) -> None:
        super().__init__()
        self.register_buffer("mask", torch.ones(shape, dtype=torch.bool))
        self._shared = shared

    def forward(self, weight: Tensor) -> Tensor:
        mode, mask = self._shared.value, self.mask
        if mode == "sparse":
            return weight * mask
        if mode == "dense":
            # Value w everywhere; the kept entries are constants, so only pruned weights get a gradient.
            return torch.where(mask, weight.detach(), weight)
        if mode == "ste":
            # Value w * m, gradient d/dw = identity (straight-through), exact in float: w + (w*m - w).
            return weight + (weight * mask - weight).detach()
        return weight


@dataclass
class MaskedTensor:
    """One masked tensor: ``module.<attr>`` (full name ``name``) and its parametrization."""

    name: str
    module: nn.Module
    attr: str
    parametrization: WeightMask
    #: entries that were ever revived (pruned at one update, kept at a later one); a plain tensor, not a buffer,
    #: so the state dict (and a "best epoch" restore) is unaffected: it is the history of the whole run
    ever_revived: Tensor

    @property
    def mask(self) -> Tensor:
        """Boolean mask, True = kept (the live buffer, not a copy)."""
        return self.parametrization.mask

    @property
    def original(self) -> Tensor:
        """The raw trainable weight (one ``nn.Parameter``, shared by every path)."""
        return self.module.parametrizations[self.attr].original  # type: ignore[index,union-attr]


def _drop_duplicate_weight(attr: str) -> Callable:
    """State-dict hook: PyG's ``Linear._save_to_state_dict`` also writes the computed ``weight``; keep only the
    parametrization's own entries so ``load_state_dict`` of the same model stays strict-clean."""

    def hook(module: nn.Module, state_dict: dict, prefix: str, local_metadata: dict) -> None:
        if f"{prefix}parametrizations.{attr}.original" in state_dict:
            state_dict.pop(prefix + attr, None)

    return hook


def keep_mask(scores: Tensor, kept: Tensor, num_pruned: int) -> Tensor:
    """Boolean keep-mask pruning exactly the ``num_pruned`` lowest ``scores``.

    Ties are broken deterministically: entries already pruned (``kept`` False) go first, then the lower flat
    index, so equal magnitudes never make the mask flicker between updates.

    Shapes
    ------
    scores, kept: ``N`` (flat); output: ``N`` bool.
    """
    keep = torch.ones_like(kept, dtype=torch.bool)
    if num_pruned <= 0:
        return keep
    # Lexicographic (score, kept, index) by two stable sorts: secondary key first, then the primary one.
    by_kept = torch.argsort(kept.to(torch.uint8), stable=True)
    by_score = torch.argsort(scores[by_kept], stable=True)
    keep[by_kept[by_score[:num_pruned]]] = False
    return keep


def lamp_scores(weight: Tensor) -> Tensor:
    """LAMP score of every entry: ``w_u^2 / sum of w_v^2 over the entries v at least as large as u``.

    Scores are comparable across tensors of any scale, and the largest entry of every tensor scores 1, so a
    global ranking of them removes a whole tensor only when nothing else is left (Lee et al., ICLR 2021,
    "Layer-adaptive sparsity for the magnitude-based pruning").

    Shapes
    ------
    weight: any; output: flat ``N`` float32.
    """
    squared = weight.detach().flatten().float().square()
    order = torch.argsort(squared, stable=True)
    ranked = squared[order]
    # Suffix sums: the mass of each entry and of every larger one (float64: long tails of tiny values).
    suffix = ranked.double().flip(0).cumsum(0).flip(0)
    scores = torch.empty_like(squared)
    scores[order] = (ranked.double() / suffix.clamp_min(torch.finfo(torch.float64).tiny)).float()
    return scores


class MaskedWeights:
    """Magnitude masks on the weights of ``model`` chosen by ``select`` (minus names matching ``exclude``).

    Parameters
    ----------
    model: any ``nn.Module``; it is modified in place (parametrizations are registered on it).
    select: ``(module_name, module) -> parameter names`` to mask; default ``default_policy``.
    exclude: ``fnmatch`` patterns of full tensor names (``"heads.type_head.weight"``) to leave dense.
    mode: initial path mode (one of ``PATH_MODES``); ``"sparse"`` so that an unmanaged forward, e.g. an
        evaluation, sees the model that will be shipped.
    criterion: what ``update_masks`` ranks (one of ``CRITERIA``). With ``"input"`` every masked linear layer
        records the mean square of each input feature over its training-mode forwards; embeddings (whose input
        is an index) and layers not run since the last update are ranked by magnitude.
    """

    def __init__(
        self,
        model: nn.Module,
        select: Selector = default_policy,
        exclude: Sequence[str] = (),
        mode: str = "sparse",
        criterion: str = "magnitude",
    ) -> None:
        if criterion not in CRITERIA:
            raise ValueError(f"criterion must be one of {CRITERIA}, got {criterion!r}")
        self.model = model
        self.criterion = criterion
        #: per tensor name: (sum over rows of x^2 per input feature, rows seen) since the last mask update
        self.input_moments: dict[str, tuple[Tensor, int]] = {}
        self._shared = _SharedMode("sparse")
        self.mode = mode
        self.entries: list[MaskedTensor] = []
        self._hooks: list = []
        self.last_revived = 0
        self._emptied: set[str] = set()
        chosen: list[tuple[str, nn.Module, str]] = []
        seen: set[int] = set()
        # Collect first: registering a parametrization adds submodules, which must not happen mid-iteration.
        for mod_name, module in model.named_modules():
            for attr in select(mod_name, module):
                full = f"{mod_name}.{attr}" if mod_name else attr
                if any(fnmatch.fnmatchcase(full, pattern) for pattern in exclude):
                    continue
                if parametrize.is_parametrized(module, attr):
                    raise ValueError(f"{full} is already parametrized (masked twice?)")
                param = getattr(module, attr)
                if id(param) in seen:  # a tied weight: one mask for one tensor
                    log.warning("%s shares its tensor with an already masked weight; masking it once", full)
                    continue
                seen.add(id(param))
                chosen.append((full, module, attr))
        if not chosen:
            raise ValueError("no weight tensor of the model matches the masking policy")
        for full, module, attr in chosen:
            weight = getattr(module, attr)
            wm = WeightMask(weight.shape, self._shared).to(weight.device)
            parametrize.register_parametrization(module, attr, wm)
            self._hooks.append(module.register_state_dict_post_hook(_drop_duplicate_weight(attr)))
            revived = torch.zeros(weight.shape, dtype=torch.bool, device=weight.device)
            self.entries.append(MaskedTensor(full, module, attr, wm, revived))
            if criterion == "input" and attr == "weight" and weight.dim() == 2 and not isinstance(module, nn.Embedding):
                self._hooks.append(module.register_forward_pre_hook(self._input_recorder(full, weight.shape[1])))
        self._removed = False
        log.debug("masking %d tensors (%d weights)", len(self.entries), self.numel)

    def _input_recorder(self, name: str, in_features: int) -> Callable:
        """Forward pre-hook adding the squares of a linear layer's inputs to ``input_moments[name]``."""

        def hook(module: nn.Module, args: tuple) -> None:
            if not module.training or not args or not isinstance(args[0], Tensor):
                return
            x = args[0].detach()
            if x.shape[-1] != in_features or x.numel() == 0:
                return
            flat = x.reshape(-1, in_features).float()
            total, rows = self.input_moments.get(name, (torch.zeros(in_features, device=x.device), 0))
            self.input_moments[name] = (total + flat.square().sum(0), rows + flat.shape[0])

        return hook

    def ranked_weight(self, entry: MaskedTensor) -> Tensor:
        """The tensor whose magnitudes ``update_masks`` ranks: the raw weight, scaled per input feature by the
        inputs' root mean square under ``criterion="input"`` (when the layer has seen inputs)."""
        weight = entry.original.detach()
        moments = self.input_moments.get(entry.name)
        if self.criterion != "input" or moments is None or moments[1] == 0:
            return weight
        total, rows = moments
        return weight * (total / rows).sqrt().to(weight.dtype)

    # -- path mode ---------------------------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        """The path mode every masked tensor currently uses."""
        return self._shared.value

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in PATH_MODES:
            raise ValueError(f"mode must be one of {PATH_MODES}, got {value!r}")
        self._shared.value = value

    @contextmanager
    def use(self, mode: str) -> Iterator[None]:
        """Run a block in ``mode``, restoring the previous mode afterwards."""
        previous = self.mode
        self.mode = mode
        try:
            yield
        finally:
            self.mode = previous

    # -- counts ------------------------------------------------------------------------------------------------
    @property
    def numel(self) -> int:
        """Number of masked weights (all tensors)."""
        return sum(e.mask.numel() for e in self.entries)

    def num_pruned(self) -> int:
        return int(sum(int((~e.mask).sum()) for e in self.entries))

    def num_ever_revived(self) -> int:
        """Distinct entries revived at least once so far (a weight revived twice counts once).

        The per-update counts (``last_revived``) add up revivals, so a weight that flickers is counted at every
        flicker; this is how much of the network a method actually brings back. Still readable after
        ``remove()``.
        """
        return int(sum(int(e.ever_revived.sum()) for e in self.entries))

    def mask_sparsity(self) -> float:
        """Fraction of mask entries that are False."""
        return self.num_pruned() / self.numel

    @torch.no_grad()
    def sparsity(self) -> float:
        """Fraction of zeros in the sparse view ``w * m`` (pruned weights and kept weights that are exactly 0)."""
        zeros = sum(int(((e.original * e.mask) == 0).sum()) for e in self.entries)
        return zeros / self.numel

    def expected_pruned(self, sparsity: float, policy: str = "global") -> int:
        """How many entries ``update_masks(sparsity, policy)`` prunes."""
        if policy in ("global", "lamp"):
            return round(sparsity * self.numel)
        if policy == "layer":
            return sum(round(sparsity * e.mask.numel()) for e in self.entries)
        raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")

    def masks(self) -> dict[str, Tensor]:
        """A copy of every mask, by tensor name."""
        return {e.name: e.mask.detach().clone() for e in self.entries}

    def stats(self) -> list[dict[str, float | int | str]]:
        """Per tensor: name, shape, number of weights, pruned entries, mask sparsity."""
        rows: list[dict[str, float | int | str]] = []
        for e in self.entries:
            pruned = int((~e.mask).sum())
            rows.append(
                {
                    "name": e.name,
                    "shape": "x".join(str(s) for s in e.mask.shape),
                    "numel": e.mask.numel(),
                    "pruned": pruned,
                    "sparsity": pruned / e.mask.numel(),
                }
            )
        return rows

    # -- updates -----------------------------------------------------------------------------------------------
    @torch.no_grad()
    def update_masks(self, sparsity: float, policy: str = "global") -> int:
        """Re-rank weights by magnitude (see ``criterion``) and prune exactly ``round(sparsity * n)`` of them.

        ``policy="global"`` ranks all masked weights together by magnitude (n = all of them); ``"lamp"`` ranks
        them together by LAMP score; ``"layer"`` ranks each tensor on its own (n = its size). Returns how many
        mask entries changed; ``last_revived`` holds how many of those were pruned before and are kept now.
        """
        self._check_alive()
        if not 0.0 <= sparsity < 1.0:
            raise ValueError(f"sparsity must be in [0, 1), got {sparsity}")
        ranked = [self.ranked_weight(e) for e in self.entries]
        if policy in ("global", "lamp"):
            score = lamp_scores if policy == "lamp" else (lambda w: w.abs().flatten().float())
            scores = torch.cat([score(w) for w in ranked])
            kept = torch.cat([e.mask.flatten() for e in self.entries])
            flat = keep_mask(scores, kept, self.expected_pruned(sparsity, policy))
            new = list(flat.split([e.mask.numel() for e in self.entries]))
        elif policy == "layer":
            new = [
                keep_mask(w.abs().flatten().float(), e.mask.flatten(), round(sparsity * e.mask.numel()))
                for e, w in zip(self.entries, ranked, strict=True)
            ]
        else:
            raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
        self.input_moments.clear()  # the next update ranks by the inputs seen from now on
        changed = revived = 0
        for e, keep in zip(self.entries, new, strict=True):
            keep = keep.view_as(e.mask)
            back = keep & ~e.mask
            changed += int((keep != e.mask).sum())
            revived += int(back.sum())
            e.ever_revived |= back
            e.mask.copy_(keep)
        self.last_revived = revived
        self._warn_emptied()
        return changed

    def _warn_emptied(self) -> None:
        """Log (once per tensor) a tensor left with no kept weight: its layer no longer passes any signal."""
        for e in self.entries:
            if not e.mask.any() and e.name not in self._emptied:
                self._emptied.add(e.name)
                log.warning("%s is entirely pruned (layer collapse); consider policy 'lamp' or 'layer'", e.name)

    @torch.no_grad()
    def apply_(self) -> None:
        """Write ``w * m`` into the raw weights: pruned weights become exactly 0 (masks are kept)."""
        self._check_alive()
        for e in self.entries:
            e.original.mul_(e.mask)

    def remove(self) -> None:
        """Bake ``w * m`` into plain parameters and remove every parametrization and hook.

        The parameters stay the same ``nn.Parameter`` objects; the model is an ordinary module afterwards.
        """
        self._check_alive()
        self.mode = "sparse"
        for e in self.entries:
            parametrize.remove_parametrizations(e.module, e.attr, leave_parametrized=True)
        for handle in self._hooks:
            handle.remove()
        self._hooks.clear()
        self._removed = True

    def _check_alive(self) -> None:
        if self._removed:
            raise RuntimeError("the masks were removed; create a new MaskedWeights")
