"""Atom and bond featurizers: RDKit atom/bond -> fixed-length float vector of one-hot blocks.

Each categorical property is a one-hot block over a list of known values plus one final "other" slot, so a
value never seen in DrugBank (an exotic element, a charge of +5) still maps to a valid vector instead of
raising. ``describe()`` lists every block and its values; it feeds the featurizer version that keys the
molecule-graph cache, so any change to the features invalidates cached graphs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from rdkit import Chem

#: Elements given their own slot: the organic subset plus the metals and metalloids found in approved drugs.
DRUG_ELEMENTS: tuple[str, ...] = (
    "H", "Li", "B", "C", "N", "O", "F", "Na", "Mg", "Al", "Si", "P", "S", "Cl", "K", "Ca", "Fe", "Co", "Cu",
    "Zn", "Ga", "As", "Se", "Br", "Sr", "Tc", "Ag", "Sb", "I", "Gd", "Pt", "Au", "Hg", "Bi",
)  # fmt: skip
DEGREES: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
FORMAL_CHARGES: tuple[int, ...] = (-2, -1, 0, 1, 2, 3)
CHIRAL_TAGS: tuple[Chem.ChiralType, ...] = (
    Chem.ChiralType.CHI_UNSPECIFIED,
    Chem.ChiralType.CHI_TETRAHEDRAL_CW,
    Chem.ChiralType.CHI_TETRAHEDRAL_CCW,
)
HYBRIDISATIONS: tuple[Chem.HybridizationType, ...] = (
    Chem.HybridizationType.S,
    Chem.HybridizationType.SP,
    Chem.HybridizationType.SP2,
    Chem.HybridizationType.SP2D,
    Chem.HybridizationType.SP3,
    Chem.HybridizationType.SP3D,
    Chem.HybridizationType.SP3D2,
)
TOTAL_HS: tuple[int, ...] = (0, 1, 2, 3, 4)
BOND_TYPES: tuple[Chem.BondType, ...] = (
    Chem.BondType.SINGLE,
    Chem.BondType.DOUBLE,
    Chem.BondType.TRIPLE,
    Chem.BondType.AROMATIC,
)
BOND_STEREOS: tuple[Chem.BondStereo, ...] = (
    Chem.BondStereo.STEREONONE,
    Chem.BondStereo.STEREOANY,
    Chem.BondStereo.STEREOZ,
    Chem.BondStereo.STEREOE,
    Chem.BondStereo.STEREOCIS,
    Chem.BondStereo.STEREOTRANS,
)
#: Scales atomic mass (about 1-200 Da for drug atoms) to the range of the one-hot features, as chemprop does.
MASS_SCALE = 0.01


class OneHotBlock:
    """One categorical property as ``len(choices) + 1`` slots; the last slot is "other".

    Parameters
    ----------
    name
        Property name, used in ``describe()`` and ``feature_names()``.
    choices
        Known values, each with its own slot.
    getter
        Reads the property from an atom or bond, e.g. ``Chem.Atom.GetSymbol``.
    """

    __slots__ = ("_slot", "choices", "getter", "name")

    def __init__(self, name: str, choices: Sequence[Any], getter: Callable[[Any], Any]) -> None:
        self.name = name
        self.choices = tuple(choices)
        self.getter = getter
        self._slot = {value: i for i, value in enumerate(self.choices)}

    def __len__(self) -> int:
        return len(self.choices) + 1

    def index(self, item: Any) -> int:
        """Slot of ``item``'s value; unknown values go to the final "other" slot."""
        return self._slot.get(self.getter(item), len(self.choices))

    def describe(self) -> str:
        return f"{self.name}[{','.join(str(c) for c in self.choices)},other]"


class _MultiHotFeaturizer:
    """Concatenated one-hot blocks followed by boolean flags and scalar features."""

    blocks: tuple[OneHotBlock, ...]
    flags: tuple[tuple[str, Callable[[Any], bool]], ...]
    scalars: tuple[tuple[str, Callable[[Any], float]], ...]

    def __init__(
        self,
        blocks: Sequence[OneHotBlock],
        flags: Sequence[tuple[str, Callable[[Any], bool]]] = (),
        scalars: Sequence[tuple[str, Callable[[Any], float]]] = (),
    ) -> None:
        self.blocks = tuple(blocks)
        self.flags = tuple(flags)
        self.scalars = tuple(scalars)
        offsets = np.cumsum([0] + [len(b) for b in self.blocks])
        self._offsets = offsets[:-1].tolist()
        self._flag_start = int(offsets[-1])
        self._dim = self._flag_start + len(self.flags) + len(self.scalars)

    def __len__(self) -> int:
        return self._dim

    def __call__(self, item: Any) -> np.ndarray:
        """Feature vector of one atom or bond, shape ``(len(self),)``, float32."""
        vector = np.zeros(self._dim, dtype=np.float32)
        for offset, block in zip(self._offsets, self.blocks, strict=True):
            vector[offset + block.index(item)] = 1.0
        position = self._flag_start
        for _name, flag in self.flags:
            vector[position] = float(flag(item))
            position += 1
        for _name, scalar in self.scalars:
            vector[position] = scalar(item)
            position += 1
        return vector

    def describe(self) -> str:
        """Every block, flag and scalar in order: changes whenever the feature layout changes."""
        parts = [b.describe() for b in self.blocks] + [name for name, _ in self.flags + self.scalars]
        return f"{type(self).__name__}(" + ";".join(parts) + ")"

    def feature_names(self) -> list[str]:
        """One name per feature dimension, e.g. ``"element=C"`` or ``"element=other"``."""
        names = [f"{b.name}={c}" for b in self.blocks for c in (*b.choices, "other")]
        return names + [name for name, _ in self.flags + self.scalars]


class AtomFeaturizer(_MultiHotFeaturizer):
    """Atom -> one-hot element, total degree (hydrogens included), formal charge, chirality tag,
    hybridisation and total H count, then aromatic and in-ring flags and mass scaled by ``MASS_SCALE``.
    """

    def __init__(
        self,
        elements: Sequence[str] = DRUG_ELEMENTS,
        degrees: Sequence[int] = DEGREES,
        formal_charges: Sequence[int] = FORMAL_CHARGES,
        chiral_tags: Sequence[Chem.ChiralType] = CHIRAL_TAGS,
        hybridisations: Sequence[Chem.HybridizationType] = HYBRIDISATIONS,
        total_hs: Sequence[int] = TOTAL_HS,
    ) -> None:
        super().__init__(
            blocks=(
                OneHotBlock("element", tuple(elements), Chem.Atom.GetSymbol),
                OneHotBlock("total_degree", tuple(degrees), Chem.Atom.GetTotalDegree),
                OneHotBlock("formal_charge", tuple(formal_charges), Chem.Atom.GetFormalCharge),
                OneHotBlock("chirality", tuple(chiral_tags), Chem.Atom.GetChiralTag),
                OneHotBlock("hybridisation", tuple(hybridisations), Chem.Atom.GetHybridization),
                OneHotBlock("total_hs", tuple(total_hs), Chem.Atom.GetTotalNumHs),
            ),
            flags=(("aromatic", Chem.Atom.GetIsAromatic), ("in_ring", Chem.Atom.IsInRing)),
            scalars=(("mass", lambda atom: atom.GetMass() * MASS_SCALE),),
        )


class BondFeaturizer(_MultiHotFeaturizer):
    """Bond -> one-hot bond type, conjugated and in-ring flags, one-hot stereo."""

    def __init__(
        self,
        bond_types: Sequence[Chem.BondType] = BOND_TYPES,
        stereos: Sequence[Chem.BondStereo] = BOND_STEREOS,
    ) -> None:
        super().__init__(
            blocks=(
                OneHotBlock("bond_type", tuple(bond_types), Chem.Bond.GetBondType),
                OneHotBlock("stereo", tuple(stereos), Chem.Bond.GetStereo),
            ),
            flags=(("conjugated", Chem.Bond.GetIsConjugated), ("in_ring", Chem.Bond.IsInRing)),
        )


#: Feature widths of the default featurizers: ``x`` is ``V x ATOM_DIM``, ``edge_attr`` is ``E x BOND_DIM``.
ATOM_DIM = len(AtomFeaturizer())
BOND_DIM = len(BondFeaturizer())
