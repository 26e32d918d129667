"""Parsing, atom/bond featurisation and graph construction on small hand-picked molecules."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from rdkit import Chem

from ddi.chem import graphs as graphs_module
from ddi.chem.featurizers import ATOM_DIM, BOND_DIM, DRUG_ELEMENTS, AtomFeaturizer, BondFeaturizer
from ddi.chem.graphs import featurizer_version, mol_to_graph, structure_to_graph
from ddi.chem.molecule import (
    MAX_ATOMS,
    MAX_STRUCTURE_LENGTH,
    InvalidStructureError,
    canonical_smiles,
    inchi_heavy_atom_count,
    parse_drug_structure,
    parse_structure,
    structure_key,
)
from ddi.errors import UserInputError

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
ETHANOL_INCHI = "InChI=1S/C2H6O/c1-2-3/h3H,2H2,1H3"


def feature(featurizer: AtomFeaturizer | BondFeaturizer, vector: np.ndarray | torch.Tensor, name: str) -> float:
    """Value of the named feature (e.g. "element=C") in one feature vector."""
    return float(vector[featurizer.feature_names().index(name)])


def mol(smiles: str) -> Chem.Mol:
    parsed, reason = parse_structure(smiles)
    assert parsed is not None, reason
    return parsed


# --- featurizers -------------------------------------------------------------------------------------------


def test_dims_match_featurizers_and_feature_names() -> None:
    assert len(AtomFeaturizer()) == ATOM_DIM == len(AtomFeaturizer().feature_names())
    assert len(BondFeaturizer()) == BOND_DIM == len(BondFeaturizer().feature_names())
    assert len(AtomFeaturizer()(mol("C").GetAtomWithIdx(0))) == ATOM_DIM


def test_aspirin_atoms_and_bonds() -> None:
    graph = mol_to_graph(mol(ASPIRIN))
    atoms = AtomFeaturizer()
    bonds = BondFeaturizer()
    assert graph.x.shape == (13, ATOM_DIM) and graph.x.dtype == torch.float32
    assert graph.edge_index.shape == (2, 26) and graph.edge_index.dtype == torch.long
    assert graph.edge_attr.shape == (26, BOND_DIM) and graph.edge_attr.dtype == torch.float32
    assert sum(feature(atoms, row, "aromatic") for row in graph.x) == 6
    assert sum(feature(atoms, row, "in_ring") for row in graph.x) == 6
    assert sum(feature(atoms, row, "element=C") for row in graph.x) == 9
    assert sum(feature(atoms, row, "element=O") for row in graph.x) == 4
    # 6 aromatic ring bonds, each in both directions; 2 C=O double bonds.
    assert sum(feature(bonds, row, "bond_type=AROMATIC") for row in graph.edge_attr) == 12
    assert sum(feature(bonds, row, "bond_type=DOUBLE") for row in graph.edge_attr) == 4
    carbon = graph.x[0]  # the methyl carbon
    assert feature(atoms, carbon, "total_hs=3") == 1
    assert feature(atoms, carbon, "hybridisation=SP3") == 1
    assert feature(atoms, carbon, "mass") == pytest.approx(0.12011, abs=1e-4)


def test_edges_come_in_reverse_pairs() -> None:
    graph = mol_to_graph(mol(ASPIRIN))
    edge_index = graph.edge_index
    reverse = torch.arange(edge_index.shape[1]) ^ 1
    assert torch.equal(edge_index[0], edge_index[1, reverse])
    assert torch.equal(edge_index[1], edge_index[0, reverse])
    assert torch.equal(graph.edge_attr, graph.edge_attr[reverse])


@pytest.mark.parametrize(
    ("smiles", "n_atoms"), [("[Na+]", 1), ("[Na+].[Cl-]", 2), ("[Cu]", 1), ("[OH-].[OH-].[Mg++]", 3)]
)
def test_molecules_without_bonds(smiles: str, n_atoms: int) -> None:
    graph = mol_to_graph(mol(smiles))
    assert graph.x.shape == (n_atoms, ATOM_DIM)
    assert graph.edge_index.shape == (2, 0)
    assert graph.edge_attr.shape == (0, BOND_DIM)
    assert graph.num_nodes == n_atoms


@pytest.mark.parametrize(
    ("smiles", "name"),
    [
        ("[U]", "element=other"),  # uranium is not in the element list
        ("[Xe]", "element=other"),
        ("[Fe-4]", "formal_charge=other"),
        ("[W](C)(C)(C)(C)(C)(C)C", "total_degree=other"),  # 7 neighbours; the list stops at 6
    ],
)
def test_unknown_values_go_to_the_other_slot(smiles: str, name: str) -> None:
    atoms = AtomFeaturizer()
    vector = atoms(mol(smiles).GetAtomWithIdx(0))
    assert feature(atoms, vector, name) == 1
    element_block = [i for i, n in enumerate(atoms.feature_names()) if n.startswith("element=")]
    assert vector[element_block].sum() == 1


def test_every_one_hot_block_has_exactly_one_slot_set() -> None:
    atoms, bonds = AtomFeaturizer(), BondFeaturizer()
    molecule = mol("C[C@H](N)C(=O)O/C=C/[N+](C)(C)C.[Pt]")
    for featurizer, items in ((atoms, molecule.GetAtoms()), (bonds, molecule.GetBonds())):
        names = featurizer.feature_names()
        for item in items:
            vector = featurizer(item)
            for block in featurizer.blocks:
                slots = [i for i, n in enumerate(names) if n.startswith(block.name + "=")]
                assert vector[slots].sum() == 1, (block.name, names)


def test_chirality_and_double_bond_stereo_are_featurised() -> None:
    atoms, bonds = AtomFeaturizer(), BondFeaturizer()
    left, right = mol("C[C@H](N)O"), mol("C[C@@H](N)O")
    assert not np.array_equal(atoms(left.GetAtomWithIdx(1)), atoms(right.GetAtomWithIdx(1)))
    assert feature(atoms, atoms(mol("CC(N)O").GetAtomWithIdx(1)), "chirality=CHI_UNSPECIFIED") == 1
    butene = mol("C/C=C/C")  # keep a reference: a bond does not keep its molecule alive
    double_bond = butene.GetBondWithIdx(1)
    assert feature(bonds, bonds(double_bond), "stereo=STEREOE") == 1
    assert feature(bonds, bonds(double_bond), "bond_type=DOUBLE") == 1


def test_featurizer_version_follows_the_feature_layout() -> None:
    assert featurizer_version() == featurizer_version(AtomFeaturizer(), BondFeaturizer())
    fewer_elements = AtomFeaturizer(elements=DRUG_ELEMENTS[:-1])
    assert featurizer_version(fewer_elements) != featurizer_version()


# --- parsing -----------------------------------------------------------------------------------------------


def test_inchi_and_smiles_give_the_same_molecule() -> None:
    from_inchi, reason = parse_structure(ETHANOL_INCHI)
    assert reason is None
    assert canonical_smiles(from_inchi) == canonical_smiles(mol("OCC")) == "CCO"
    assert structure_key(ETHANOL_INCHI) == structure_key("OCC") == structure_key("C(O)C")
    assert structure_key("CCO") != structure_key("CCN")
    assert len(structure_key("CCO")) == 40


def test_graph_does_not_depend_on_how_the_smiles_is_written() -> None:
    first, smiles = structure_to_graph("OC(=O)c1ccccc1OC(C)=O")
    second, _ = structure_to_graph(ASPIRIN)
    assert smiles == canonical_smiles(mol(ASPIRIN))
    for name in ("x", "edge_index", "edge_attr"):
        assert torch.equal(first[name], second[name])


def test_unreadable_canonical_smiles_falls_back_to_the_canonical_atom_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected, smiles = structure_to_graph("OC(=O)c1ccccc1OC(C)=O")
    written_differently = mol("OC(=O)c1ccccc1OC(C)=O")
    assert canonical_smiles(written_differently) == smiles
    # Make re-reading fail, as it could for an exotic InChI-derived molecule.
    monkeypatch.setattr(graphs_module.Chem, "MolFromSmiles", lambda *args, **kwargs: None)
    graph = mol_to_graph(graphs_module._reread(smiles, written_differently))
    assert torch.equal(graph.x, expected.x)  # node i is atom i of the canonical SMILES either way
    assert set(map(tuple, graph.edge_index.T.tolist())) == set(map(tuple, expected.edge_index.T.tolist()))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty structure"),
        ("   ", "empty structure"),
        ("C1CC((", "invalid SMILES: syntax error in 'C1CC(('"),
        ("N(C)(C)(C)(C)C", "invalid SMILES: Explicit valence for atom # 0 N, 5, is greater than permitted"),
        ("c1cccc1", "invalid SMILES: Can't kekulize mol"),
        ("CC O", "invalid SMILES: contains whitespace"),
        ("InChI=1S/garbage", "invalid InChI: "),
    ],
)
def test_invalid_structures_give_a_reason_and_no_stderr(
    text: str, expected: str, capfd: pytest.CaptureFixture[str]
) -> None:
    parsed, reason = parse_structure(text)
    assert parsed is None
    assert reason is not None and reason.startswith(expected)
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_structure_key_of_an_invalid_structure_is_a_user_error() -> None:
    with pytest.raises(UserInputError, match="invalid SMILES"):
        structure_key("C1CC((")
    with pytest.raises(InvalidStructureError, match="empty structure"):
        structure_to_graph("")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("C" * (MAX_STRUCTURE_LENGTH + 1), "structure too long: 5,001 characters (limit 5,000)"),
        ("C" * (MAX_ATOMS + 1), "structure too large: 1,001 atoms (limit 1,000)"),
        ("InChI=1S/C999999999H1999999998", "structure too large: 999,999,999 atoms (limit 1,000)"),
        ("InChI=1S/C600N200.2C100Pt/c", "structure too large: 1,002 atoms (limit 1,000)"),
        ("C(" * 2400 + "C", "invalid SMILES: syntax error"),
    ],
)
def test_hostile_inputs_are_refused_quickly(text: str, expected: str, capfd: pytest.CaptureFixture[str]) -> None:
    start = time.perf_counter()
    parsed, reason = parse_structure(text)
    assert time.perf_counter() - start < 1.0
    assert parsed is None
    assert reason is not None and reason.startswith(expected)
    assert capfd.readouterr().err == ""


def test_inchi_formula_counts_heavy_atoms_with_multipliers() -> None:
    assert inchi_heavy_atom_count("InChI=1S/C6H12N2.2Na/c7") == 10
    assert inchi_heavy_atom_count("InChI=1S/H2O/h1H2") == 1
    assert inchi_heavy_atom_count("InChI=1S") is None


def test_drug_row_uses_smiles_then_inchi() -> None:
    from_smiles, _ = parse_drug_structure("CCN", ETHANOL_INCHI)
    assert canonical_smiles(from_smiles) == "CCN"
    from_inchi, _ = parse_drug_structure("", ETHANOL_INCHI)
    assert canonical_smiles(from_inchi) == "CCO"
    fallback, _ = parse_drug_structure("C1CC((", ETHANOL_INCHI)
    assert canonical_smiles(fallback) == "CCO"
    assert parse_drug_structure("", "") == (None, "no structure")
    nothing, reason = parse_drug_structure("C1CC((", "InChI=1S/garbage")
    assert nothing is None and reason is not None and reason.startswith("invalid SMILES")


def test_every_listed_counter_ion_is_a_distinct_molecule_and_is_recognised():
    from rdkit import Chem

    from ddi.chem.molecule import COUNTER_IONS, is_counter_ion

    mols = {name: Chem.MolFromSmiles(smiles) for name, smiles in COUNTER_IONS.items()}
    assert [name for name, mol in mols.items() if mol is None] == []
    assert len({Chem.MolToInchiKey(mol)[:14] for mol in mols.values()}) == len(mols)
    assert all(is_counter_ion(mol) for mol in mols.values())
    # charged forms are their acid or base; drugs are not counter-ions
    assert is_counter_ion(Chem.MolFromSmiles("CS(=O)(=O)[O-]")) and is_counter_ion(
        Chem.MolFromSmiles("[NH3+]C(CO)(CO)CO")
    )
    assert not is_counter_ion(Chem.MolFromSmiles("CC(=O)Nc1ccc(O)cc1"))  # paracetamol
