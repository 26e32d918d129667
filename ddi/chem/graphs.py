"""Molecules -> PyG graphs: featurise one molecule, cache graphs on disk, featurise a whole drug table.

Every graph is built from the molecule's canonical SMILES, so node ``i`` is atom ``i`` of
``Chem.MolFromSmiles(canonical_smiles)`` whichever way the drug was written; ``MoleculeGraphs.smiles`` keeps
that string so explanations can map atom weights back onto a drawing. Because the graph depends only on the
canonical SMILES and the featurizers, graphs are cached under ``<cache>/molecule_graphs/`` keyed by
``structure_key`` in one file per featurizer version: changing a drug's structure misses the cache and
changing the features starts a new file.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from rdkit import Chem, rdBase
from torch_geometric.data import Batch, Data
from tqdm.auto import tqdm

from ddi.atomic_files import replacing
from ddi.chem.featurizers import AtomFeaturizer, BondFeaturizer
from ddi.chem.fingerprints import DEFAULT_RADIUS, fingerprint_matrix
from ddi.chem.molecule import (
    InvalidStructureError,
    canonical_smiles,
    parse_drug_structure,
    parse_structure,
    smiles_key,
)
from ddi.data.location import resolve_cache_dir

log = logging.getLogger(__name__)

#: Bump when graph construction changes in a way the featurizers' ``describe()`` cannot see.
GRAPH_SCHEMA = 1
CACHE_SUBDIR = "molecule_graphs"
_CACHE_FORMAT = 2
# How many invalid drugs the summary line names before "...".
_SUMMARY_EXAMPLES = 10
#: Under this share of drugs with a molecule graph, a model's molecule side learns from too few drugs: warn.
MIN_STRUCTURE_SHARE = 0.5


def mol_to_graph(
    mol: Chem.Mol,
    atom_featurizer: AtomFeaturizer | None = None,
    bond_featurizer: BondFeaturizer | None = None,
) -> Data:
    """Featurise one molecule as a directed graph with both directions of every bond.

    Parameters
    ----------
    mol
        A sanitised RDKit molecule; node order follows its atom order.
    atom_featurizer, bond_featurizer
        Defaults: ``AtomFeaturizer()`` and ``BondFeaturizer()``.

    Returns
    -------
    Data
        ``x``: ``V x d_v`` float32 atom features; ``edge_index``: ``2 x E`` long with ``E = 2 x bonds``,
        bond ``k`` giving edges ``2k`` (begin -> end) and ``2k + 1`` (end -> begin), so an edge's reverse is
        ``e ^ 1``; ``edge_attr``: ``E x d_e`` float32 bond features (the same row for both directions).
        A molecule without bonds (a single ion, a salt of ions) has ``edge_index`` of shape ``2 x 0``.
    """
    atom_featurizer = atom_featurizer or AtomFeaturizer()
    bond_featurizer = bond_featurizer or BondFeaturizer()
    n_atoms, n_bonds = mol.GetNumAtoms(), mol.GetNumBonds()
    x = np.zeros((n_atoms, len(atom_featurizer)), dtype=np.float32)
    for atom in mol.GetAtoms():
        x[atom.GetIdx()] = atom_featurizer(atom)
    edge_index = np.zeros((2, 2 * n_bonds), dtype=np.int64)
    edge_attr = np.zeros((2 * n_bonds, len(bond_featurizer)), dtype=np.float32)
    for bond in mol.GetBonds():
        k, begin, end = bond.GetIdx(), bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        edge_index[:, 2 * k] = (begin, end)
        edge_index[:, 2 * k + 1] = (end, begin)
        edge_attr[2 * k : 2 * k + 2] = bond_featurizer(bond)
    return Data(x=torch.from_numpy(x), edge_index=torch.from_numpy(edge_index), edge_attr=torch.from_numpy(edge_attr))


def empty_graph(atom_dim: int, bond_dim: int) -> Data:
    """A graph with no atoms: the placeholder for a drug without a structure (pools to a zero vector)."""
    return Data(
        x=torch.zeros(0, atom_dim),
        edge_index=torch.zeros(2, 0, dtype=torch.long),
        edge_attr=torch.zeros(0, bond_dim),
    )


def canonical_mol(mol: Chem.Mol) -> tuple[Chem.Mol, str]:
    """The molecule re-read from its canonical SMILES, and that SMILES.

    Re-reading makes atom order, and the order-dependent chirality tags, a function of the molecule alone.
    In the rare case the canonical SMILES does not re-parse (none in DrugBank), ``mol`` is renumbered into
    that SMILES' atom order instead.
    """
    smiles = canonical_smiles(mol)
    return _reread(smiles, mol), smiles


def _reread(smiles: str, mol: Chem.Mol) -> Chem.Mol:
    """``smiles`` (the canonical SMILES just written from ``mol``) read back, or ``mol`` in its atom order."""
    with rdBase.BlockLogs():
        reread = Chem.MolFromSmiles(smiles)
    if reread is not None:
        return reread
    log.debug("canonical SMILES %s does not re-parse; renumbering the parsed molecule instead", smiles)
    # MolToSmiles records the order in which it wrote the atoms.
    order = mol.GetPropsAsDict(includePrivate=True, includeComputed=True)["_smilesAtomOutputOrder"]
    return Chem.RenumberAtoms(mol, [int(i) for i in order])


def structure_to_graph(
    text: str, atom_featurizer: AtomFeaturizer | None = None, bond_featurizer: BondFeaturizer | None = None
) -> tuple[Data, str]:
    """Graph of one SMILES or InChI, and the canonical SMILES whose atom order its nodes follow.

    Raises
    ------
    InvalidStructureError
        If the structure cannot be parsed, is empty, or is too large; the message says which.
    """
    mol, reason = parse_structure(text)
    if mol is None:
        raise InvalidStructureError(reason)
    ordered, smiles = canonical_mol(mol)
    return mol_to_graph(ordered, atom_featurizer, bond_featurizer), smiles


def featurizer_version(
    atom_featurizer: AtomFeaturizer | None = None, bond_featurizer: BondFeaturizer | None = None
) -> str:
    """Short hash of everything a cached graph depends on besides the molecule.

    Covers the feature layout of both featurizers, ``GRAPH_SCHEMA`` and the RDKit version (whose
    aromaticity and hybridisation perception can change between releases).
    """
    atom_featurizer = atom_featurizer or AtomFeaturizer()
    bond_featurizer = bond_featurizer or BondFeaturizer()
    spec = "|".join(
        (
            f"schema={GRAPH_SCHEMA}",
            atom_featurizer.describe(),
            bond_featurizer.describe(),
            rdBase.rdkitVersion,
        )
    )
    return hashlib.sha1(spec.encode("utf-8")).hexdigest()[:12]


def cache_file(cache_dir: str | os.PathLike[str] | None = None, version: str | None = None) -> Path:
    """Path of the molecule-graph cache file for a featurizer version (default: the default featurizers')."""
    return resolve_cache_dir(cache_dir) / CACHE_SUBDIR / f"graphs-{version or featurizer_version()}.pt"


class MoleculeGraphCache:
    """On-disk store of molecule graphs keyed by ``structure_key``; one file per featurizer version.

    The file holds all graphs concatenated (``x``, ``edge_index`` with per-graph atom indices,
    ``edge_attr``) with offsets, so loading thousands of graphs is one ``torch.load(weights_only=True)``;
    feature matrices are stored as their distinct rows plus an index (exact, about 1 MB for DrugBank).
    ``save()`` merges with whatever the file holds by then and replaces it atomically, so concurrent runs
    never leave a corrupt file (at worst one run's new entries are recomputed next time). An unreadable
    file is ignored with a warning and rebuilt.

    Parameters
    ----------
    cache_dir
        Cache root (default ``resolve_cache_dir()``, which honours ``DDI_CACHE_DIR``).
    version
        Featurizer version (default ``featurizer_version()`` of the default featurizers).
    """

    def __init__(self, cache_dir: str | os.PathLike[str] | None = None, version: str | None = None) -> None:
        self.version = version or featurizer_version()
        self.path = cache_file(cache_dir, self.version)
        self._stored = self._read()
        self._added: dict[str, Data] = {}

    def __len__(self) -> int:
        return len(self._stored.keys() | self._added.keys())

    def __contains__(self, key: object) -> bool:
        return key in self._added or key in self._stored

    def get(self, key: str) -> Data | None:
        """The cached graph of a structure key, or None."""
        if key in self._added:
            return self._added[key]
        return self._stored.get(key)

    def put(self, key: str, graph: Data) -> None:
        """Add a graph; it reaches disk on ``save()``."""
        self._added[key] = graph

    def _write(self, payload: dict) -> None:
        # Readers see the old file or the new one, never half of one; a shared cache stays readable to all.
        with replacing(self.path, mode=0o644) as tmp:
            torch.save(payload, tmp)

    def save(self) -> None:
        """Write the added graphs, merged with the file's current contents; a no-op if nothing was added."""
        if not self._added:
            return
        merged = {**self._read(), **self._stored, **self._added}
        keys = sorted(merged)
        graphs = [merged[k] for k in keys]
        payload = {
            "format": _CACHE_FORMAT,
            "version": self.version,
            "keys": keys,
            "x": _distinct_rows(torch.cat([g.x for g in graphs])),
            "edge_index": torch.cat([g.edge_index for g in graphs], dim=1).to(torch.int32),
            "edge_attr": _distinct_rows(torch.cat([g.edge_attr for g in graphs])),
            "atom_ptr": _offsets([g.num_nodes for g in graphs]),
            "edge_ptr": _offsets([g.edge_index.shape[1] for g in graphs]),
        }
        try:
            self._write(payload)
        except OSError as exc:  # a full disk or read-only cache: the graphs are still in memory, only not kept
            log.warning("cannot write the molecule-graph cache %s (%s); graphs are rebuilt next time", self.path, exc)
            return
        self._stored, self._added = merged, {}
        log.debug("saved %d molecule graphs to %s", len(keys), self.path)

    def _read(self) -> dict[str, Data]:
        if not self.path.is_file():
            return {}
        try:
            payload = torch.load(self.path, map_location="cpu", weights_only=True)
            return _unpack(payload, self.version)
        except Exception as exc:  # any unreadable cache is rebuilt, never fatal
            log.warning("ignoring unreadable molecule-graph cache %s (%s); rebuilding it", self.path, exc)
            return {}


def _offsets(sizes: Sequence[int]) -> torch.Tensor:
    return torch.tensor(np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]), dtype=torch.long)


def _distinct_rows(features: torch.Tensor) -> dict[str, torch.Tensor]:
    """Lossless compact form of an ``N x d`` feature matrix: its distinct rows and each row's index.

    Atoms and bonds repeat the same few hundred feature vectors, so this shrinks the cache file over tenfold.
    """
    rows, index = torch.unique(features, dim=0, return_inverse=True)
    return {"rows": rows, "index": index.to(torch.int32)}


def _unpack(payload: dict, version: str) -> dict[str, Data]:
    """Split a saved payload back into one graph per key, checking it is consistent."""
    if payload.get("format") != _CACHE_FORMAT or payload.get("version") != version:
        raise ValueError("written by another format or featurizer version")
    keys, atom_ptr, edge_ptr = payload["keys"], payload["atom_ptr"].tolist(), payload["edge_ptr"].tolist()
    x = payload["x"]["rows"][payload["x"]["index"].long()]
    edge_attr = payload["edge_attr"]["rows"][payload["edge_attr"]["index"].long()]
    edge_index = payload["edge_index"].long()
    if not (len(keys) + 1 == len(atom_ptr) == len(edge_ptr)):
        raise ValueError("offsets do not match the keys")
    if atom_ptr[-1] != x.shape[0] or not edge_ptr[-1] == edge_index.shape[1] == edge_attr.shape[0]:
        raise ValueError("offsets do not match the tensors")
    graphs = {}
    for i, key in enumerate(keys):
        a0, a1, e0, e1 = atom_ptr[i], atom_ptr[i + 1], edge_ptr[i], edge_ptr[i + 1]
        graphs[key] = Data(x=x[a0:a1], edge_index=edge_index[:, e0:e1], edge_attr=edge_attr[e0:e1])
    return graphs


class MoleculeGraphs(Mapping[str, Data]):
    """Molecule graphs of a drug table: drugbank_id -> ``Data`` for every drug that has one.

    Attributes
    ----------
    drug_ids
        Every drug that was featurised, in drug-table order, with or without a graph.
    invalid
        drugbank_id -> reason for each drug without a graph ("no structure", "invalid SMILES: ...").
    smiles
        drugbank_id -> canonical SMILES whose atom order the graph's nodes follow.
    atom_dim, bond_dim
        Feature widths ``d_v`` and ``d_e``.
    """

    def __init__(
        self,
        graphs: Mapping[str, Data],
        drug_ids: Sequence[str],
        invalid: Mapping[str, str],
        smiles: Mapping[str, str],
        atom_dim: int,
        bond_dim: int,
    ) -> None:
        self._graphs = dict(graphs)
        self.drug_ids = tuple(drug_ids)
        self.invalid = dict(invalid)
        self.smiles = dict(smiles)
        self.atom_dim = atom_dim
        self.bond_dim = bond_dim
        self._all: Batch | None = None
        self._fingerprints: dict[tuple[int, int], torch.Tensor] = {}

    def __getitem__(self, drug_id: str) -> Data:
        try:
            return self._graphs[drug_id]
        except KeyError:
            raise KeyError(self._missing_message(drug_id)) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._graphs)

    def __len__(self) -> int:
        return len(self._graphs)

    def batch(self, drug_ids: Sequence[str], allow_missing: bool = False) -> Batch:
        """The graphs of ``drug_ids``, in that order, as one disjoint-union ``Batch``.

        Parameters
        ----------
        drug_ids
            Drugs to batch; repeats are allowed.
        allow_missing
            If True, a featurised drug without a graph gets an empty graph (0 atoms) so that graph ``i`` of
            the batch is always ``drug_ids[i]``; if False it raises ``KeyError`` with its reason. A drug that
            was not featurised at all always raises.

        Returns
        -------
        Batch
            ``x`` (``V x d_v``), ``edge_index`` (``2 x E``, offset into the batch), ``edge_attr``
            (``E x d_e``), ``batch`` (``V``, graph of each atom) and ``ptr`` (``len(drug_ids) + 1``).
        """
        empty = empty_graph(self.atom_dim, self.bond_dim)
        data = []
        for drug_id in drug_ids:
            if drug_id in self._graphs:
                data.append(self._graphs[drug_id])
            elif allow_missing and drug_id in self.invalid:
                data.append(empty)
            else:
                raise KeyError(self._missing_message(drug_id))
        return Batch.from_data_list(data)

    def full_batch(self) -> Batch:
        """Every drug of ``drug_ids`` in that order (graph ``i`` = drug-table row ``i``), computed once.

        Drugs without a graph are empty graphs, so their pooled embedding is zero; see ``has_graph``.
        """
        if self._all is None:
            self._all = self.batch(self.drug_ids, allow_missing=True)
        return self._all

    def fingerprints(self, bits: int, radius: int = DEFAULT_RADIUS) -> torch.Tensor:
        """``len(drug_ids) x bits`` Morgan fingerprints in ``drug_ids`` order (zeros for drugs without a graph),
        computed once per (bits, radius)."""
        if (bits, radius) not in self._fingerprints:
            smiles = [self.smiles.get(d) for d in self.drug_ids]
            self._fingerprints[(bits, radius)] = fingerprint_matrix(smiles, bits, radius)
        return self._fingerprints[(bits, radius)]

    @property
    def has_graph(self) -> torch.Tensor:
        """Boolean mask over ``drug_ids`` (shape ``len(drug_ids)``): True where the drug has a graph."""
        return torch.tensor([d in self._graphs for d in self.drug_ids], dtype=torch.bool)

    def _missing_message(self, drug_id: str) -> str:
        reason = self.invalid.get(drug_id, "not in the featurised drug table")
        return f"{drug_id} has no molecule graph: {reason}"

    def summary(self) -> str:
        """One line: how many drugs have a graph and which do not, with why."""
        line = f"{len(self):,} of {len(self.drug_ids):,} drugs have a molecule graph"
        if not self.invalid:
            return line
        shown = [f"{d} ({reason})" for d, reason in list(self.invalid.items())[:_SUMMARY_EXAMPLES]]
        more = ", ..." if len(self.invalid) > _SUMMARY_EXAMPLES else ""
        return f"{line}; {len(self.invalid):,} without: {', '.join(shown)}{more}"

    def coverage_warning(self) -> str:
        """A warning when fewer than ``MIN_STRUCTURE_SHARE`` of the drugs have a graph (empty otherwise): a data
        directory whose structures RDKit cannot read (a wrong column, truncated SMILES) would otherwise train
        a molecule encoder on almost nothing with only an info line to show for it."""
        total = len(self.drug_ids)
        if total == 0 or len(self) >= MIN_STRUCTURE_SHARE * total:
            return ""
        return (
            f"only {len(self):,} of {total:,} drugs have a molecule graph; the model's molecule side sees the others "
            "as no structure. Check the smiles (or inchi) column of drugs.tsv: " + self.summary()
        )


def featurize_drugs(
    drugs: pd.DataFrame,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
    atom_featurizer: AtomFeaturizer | None = None,
    bond_featurizer: BondFeaturizer | None = None,
    use_cache: bool = True,
) -> MoleculeGraphs:
    """Molecule graphs of every drug in a drug table, reusing cached graphs.

    Parameters
    ----------
    drugs
        A drugs table with ``drugbank_id`` and ``smiles`` and optionally ``inchi`` (used when the SMILES is
        empty or does not parse).
    cache_dir
        Cache root (default ``resolve_cache_dir()``).
    progress
        Show a progress bar.
    atom_featurizer, bond_featurizer
        Defaults: ``AtomFeaturizer()`` and ``BondFeaturizer()``.
    use_cache
        If False, neither read nor write the on-disk cache.

    Returns
    -------
    MoleculeGraphs
        Graphs of the drugs that have a usable structure, and the reason for each that has not.
    """
    if "drugbank_id" not in drugs.columns or "smiles" not in drugs.columns:
        raise ValueError("the drugs table needs drugbank_id and smiles columns")
    duplicated = drugs["drugbank_id"][drugs["drugbank_id"].duplicated()]
    if len(duplicated):
        raise ValueError(f"duplicate drugbank_id in the drugs table: {duplicated.iloc[0]}")
    atom_featurizer = atom_featurizer or AtomFeaturizer()
    bond_featurizer = bond_featurizer or BondFeaturizer()
    version = featurizer_version(atom_featurizer, bond_featurizer)
    cache = MoleculeGraphCache(cache_dir, version) if use_cache else None
    inchis = drugs["inchi"] if "inchi" in drugs.columns else pd.Series("", index=drugs.index)

    graphs: dict[str, Data] = {}
    invalid: dict[str, str] = {}
    smiles_of: dict[str, str] = {}
    hits = 0
    rows = zip(drugs["drugbank_id"], drugs["smiles"].fillna(""), inchis.fillna(""), strict=True)
    bar = tqdm(rows, total=len(drugs), desc="featurising drugs", unit="drug", disable=not progress)
    for drug_id, smiles, inchi in bar:
        mol, reason = parse_drug_structure(smiles, inchi)
        if mol is None:
            invalid[drug_id] = reason or "unreadable structure"
            continue
        canonical = canonical_smiles(mol)
        key = smiles_key(canonical)
        graph = cache.get(key) if cache is not None else None
        if graph is None:
            graph = mol_to_graph(_reread(canonical, mol), atom_featurizer, bond_featurizer)
            if cache is not None:
                cache.put(key, graph)
        else:
            hits += 1
        graphs[drug_id] = graph
        smiles_of[drug_id] = canonical
    if cache is not None:
        cache.save()
    result = MoleculeGraphs(
        graphs, list(drugs["drugbank_id"]), invalid, smiles_of, len(atom_featurizer), len(bond_featurizer)
    )
    log.info(
        "molecule graphs: %s built, %s from cache; %s",
        f"{len(graphs) - hits:,}",
        f"{hits:,}",
        result.summary(),
    )
    warning = result.coverage_warning()
    if warning:
        log.warning("%s", warning)
    return result
