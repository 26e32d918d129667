"""Molecule graphs: SMILES or InChI -> RDKit molecule -> PyG ``Data`` of atom and bond features, cached."""

from ddi.chem.featurizers import ATOM_DIM, BOND_DIM, AtomFeaturizer, BondFeaturizer
from ddi.chem.graphs import (
    MoleculeGraphCache,
    MoleculeGraphs,
    featurize_drugs,
    featurizer_version,
    mol_to_graph,
    structure_to_graph,
)
from ddi.chem.molecule import InvalidStructureError, canonical_smiles, parse_structure, structure_key

__all__ = [
    "ATOM_DIM",
    "BOND_DIM",
    "AtomFeaturizer",
    "BondFeaturizer",
    "InvalidStructureError",
    "MoleculeGraphCache",
    "MoleculeGraphs",
    "canonical_smiles",
    "featurize_drugs",
    "featurizer_version",
    "mol_to_graph",
    "parse_structure",
    "structure_key",
    "structure_to_graph",
]
