"""Morgan (ECFP-like) bit fingerprints: a fixed, cheap summary of a molecule's substructures.

They complement the molecule GNN: a 2,048-bit Morgan fingerprint tells drugs apart almost uniquely and marks
substructures the few message-passing layers would need many examples to learn, and it costs one lookup per
drug. Computed from the canonical SMILES, so it does not depend on how the structure was written.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from rdkit import Chem, DataStructs, rdBase
from rdkit.Chem import rdFingerprintGenerator

DEFAULT_RADIUS = 2


def morgan_bits(mol: Chem.Mol, bits: int, radius: int = DEFAULT_RADIUS) -> np.ndarray:
    """``bits`` float32 0/1 Morgan fingerprint of one molecule."""
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=bits)
    out = np.zeros(bits, dtype=np.float32)
    DataStructs.ConvertToNumpyArray(generator.GetFingerprint(mol), out)
    return out


def fingerprint_matrix(smiles: Sequence[str | None], bits: int, radius: int = DEFAULT_RADIUS) -> torch.Tensor:
    """``len(smiles) x bits`` fingerprints; a row is all zeros where the SMILES is missing or unreadable."""
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=bits)
    out = np.zeros((len(smiles), bits), dtype=np.float32)
    with rdBase.BlockLogs():
        for i, text in enumerate(smiles):
            mol = Chem.MolFromSmiles(text) if text else None
            if mol is not None:
                DataStructs.ConvertToNumpyArray(generator.GetFingerprint(mol), out[i])
    return torch.from_numpy(out)


def bit_environments(smiles: str, bits: int, radius: int = DEFAULT_RADIUS) -> dict[int, list[list[int]]]:
    """For each set bit of the molecule's fingerprint, the atom sets of the substructures that set it.

    Atom indices follow ``Chem.MolFromSmiles(smiles)``. A radius-0 environment is its centre atom; a larger
    one is every atom of the bonds within that radius. Used to turn per-bit importances into per-atom ones.
    """
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return {}
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=bits)
    output = rdFingerprintGenerator.AdditionalOutput()
    output.AllocateBitInfoMap()
    generator.GetFingerprint(mol, additionalOutput=output)
    environments: dict[int, list[list[int]]] = {}
    for bit, hits in output.GetBitInfoMap().items():
        for centre, env_radius in hits:
            atoms = {centre}
            for bond_id in Chem.FindAtomEnvironmentOfRadiusN(mol, env_radius, centre) if env_radius else ():
                bond = mol.GetBondWithIdx(bond_id)
                atoms.update((bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()))
            environments.setdefault(int(bit), []).append(sorted(atoms))
    return environments


def bits_to_atoms(smiles: str, bit_scores: np.ndarray, radius: int = DEFAULT_RADIUS) -> np.ndarray:
    """Per-atom scores ``V`` from per-bit scores (``bits``): each bit's score shared equally by the atoms of the
    environments that set it (an environment set twice counts twice), so the atom scores sum to the bit scores
    of the set bits."""
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(smiles)
    out = np.zeros(mol.GetNumAtoms() if mol is not None else 0, dtype=np.float64)
    for bit, envs in bit_environments(smiles, len(bit_scores), radius).items():
        share = float(bit_scores[bit]) / len(envs)
        for atoms in envs:
            out[atoms] += share / len(atoms)
    return out
