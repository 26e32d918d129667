"""Morgan fingerprints as a model input and their mapping back onto atoms for explanations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem

from ddi.chem.fingerprints import bit_environments, bits_to_atoms, fingerprint_matrix
from ddi.chem.graphs import featurize_drugs

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"


def test_the_same_molecule_written_two_ways_has_one_fingerprint():
    canonical = [Chem.MolToSmiles(Chem.MolFromSmiles(s)) for s in ("OCC", "CCO")]
    fps = fingerprint_matrix(canonical, 1024)
    assert fps[0].sum() > 0
    assert (fps[0] == fps[1]).all()


def test_missing_or_unreadable_structures_give_zero_rows():
    fps = fingerprint_matrix([ASPIRIN, None, "", "not a smiles"], 512)
    assert fps[0].sum() > 0
    assert fps[1:].abs().sum() == 0


def test_drug_table_fingerprints_follow_drug_order(tmp_path):
    drugs = pd.DataFrame({"drugbank_id": ["DB1", "DB2", "DB3"], "smiles": ["CCO", "", ASPIRIN]})
    graphs = featurize_drugs(drugs, cache_dir=tmp_path, progress=False)
    fps = graphs.fingerprints(256)
    assert fps.shape == (3, 256)
    assert fps[1].sum() == 0  # DB2 has no structure
    assert (fps[2] == fingerprint_matrix([graphs.smiles["DB3"]], 256)[0]).all()
    assert graphs.fingerprints(256) is fps  # computed once


def test_every_set_bit_maps_to_atoms_of_its_substructure():
    mol = Chem.MolFromSmiles(ASPIRIN)
    envs = bit_environments(ASPIRIN, 2048)
    set_bits = set(np.flatnonzero(fingerprint_matrix([ASPIRIN], 2048)[0].numpy()))
    assert set(envs) == set_bits
    for atom_sets in envs.values():
        for atoms in atom_sets:
            assert atoms and all(0 <= a < mol.GetNumAtoms() for a in atoms)


def test_bit_scores_are_shared_out_to_atoms_without_loss():
    bit_scores = np.zeros(2048)
    bits = sorted(bit_environments(ASPIRIN, 2048))
    bit_scores[bits[0]] = 1.0
    atoms = bits_to_atoms(ASPIRIN, bit_scores)
    assert atoms.sum() == pytest.approx(1.0)
    touched = {a for env in bit_environments(ASPIRIN, 2048)[bits[0]] for a in env}
    assert set(np.flatnonzero(atoms)) == touched
    unset = np.ones(2048)
    unset[bits] = 0.0  # scores on bits the molecule does not set go nowhere
    assert bits_to_atoms(ASPIRIN, unset).sum() == 0
