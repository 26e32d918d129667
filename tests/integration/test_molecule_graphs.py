"""Molecule graphs of every benchmark drug, the on-disk cache, batching and ``ddi featurize``."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest
import torch
from logged import messages

from ddi.chem.featurizers import ATOM_DIM, BOND_DIM, AtomFeaturizer
from ddi.chem.graphs import MoleculeGraphs, cache_file, featurize_drugs
from ddi.cli.main import main
from ddi.data.benchmark import load_benchmark
from ddi.data.location import DataDirError, resolve_data_dir
from ddi.data.tables import Tables

#: Benchmark drugs with neither a SMILES in drugs.tsv nor an InChI in drugbank_all_drugs.tsv.
NO_STRUCTURE = {"DB09016", "DB09162", "DB11304", "DB11630", "DB13145"}
OXALIPLATIN = "DB00526"  # no SMILES in drugs.tsv: its graph must come from the catalogue's InChI


@pytest.fixture(scope="module")
def benchmark_dir() -> Path:
    try:
        return resolve_data_dir()
    except DataDirError as exc:
        pytest.skip(f"benchmark data not available: {exc}")


@pytest.fixture(scope="module")
def tables(benchmark_dir: Path) -> Tables:
    return load_benchmark(benchmark_dir)[0]


@pytest.fixture(scope="module")
def graph_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def graphs(tables: Tables, graph_cache_dir: Path) -> MoleculeGraphs:
    """All benchmark drugs featurised from an empty cache (which this fills)."""
    return featurize_drugs(tables.drugs, cache_dir=graph_cache_dir, progress=False)


def test_every_drug_with_a_structure_gets_a_graph(tables: Tables, graphs: MoleculeGraphs) -> None:
    drugs = tables.drugs
    has_structure = (drugs["smiles"] != "") | (drugs["inchi"] != "")
    assert set(graphs) == set(drugs.loc[has_structure, "drugbank_id"])
    assert len(graphs) == 1705
    assert graphs.invalid == dict.fromkeys(sorted(NO_STRUCTURE), "no structure")
    assert graphs.drug_ids == tuple(drugs["drugbank_id"])
    assert "Pt" in graphs.smiles[OXALIPLATIN]
    assert "5 without: DB09016 (no structure)" in graphs.summary()


def test_graphs_are_well_formed(graphs: MoleculeGraphs) -> None:
    atom_names = AtomFeaturizer().feature_names()
    element_slots = [i for i, name in enumerate(atom_names) if name.startswith("element=")]
    for drug_id, graph in graphs.items():
        n_atoms, n_edges = graph.num_nodes, graph.edge_index.shape[1]
        assert n_atoms > 0, drug_id
        assert graph.x.shape == (n_atoms, ATOM_DIM) and graph.x.dtype == torch.float32
        assert graph.edge_attr.shape == (n_edges, BOND_DIM)
        assert n_edges % 2 == 0
        if n_edges:
            assert int(graph.edge_index.min()) >= 0 and int(graph.edge_index.max()) < n_atoms, drug_id
            assert not bool((graph.edge_index[0] == graph.edge_index[1]).any()), drug_id  # no self loops
            reverse = torch.arange(n_edges) ^ 1
            assert torch.equal(graph.edge_index, graph.edge_index.flip(0)[:, reverse]), drug_id
        assert torch.equal(graph.x[:, element_slots].sum(dim=1), torch.ones(n_atoms)), drug_id


def test_second_run_is_served_from_the_cache(
    tables: Tables, graphs: MoleculeGraphs, graph_cache_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="ddi.chem.graphs"):
        again = featurize_drugs(tables.drugs, cache_dir=graph_cache_dir, progress=False)
    assert "0 built, 1,705 from cache" in caplog.text
    assert list(again) == list(graphs)
    for drug_id, graph in graphs.items():
        for name in ("x", "edge_index", "edge_attr"):
            assert torch.equal(again[drug_id][name], graph[name]), (drug_id, name)
    assert again.smiles == graphs.smiles


def test_cached_graphs_equal_freshly_built_ones(tables: Tables, graphs: MoleculeGraphs) -> None:
    sample = tables.drugs.iloc[::40]
    fresh = featurize_drugs(sample, use_cache=False, progress=False)
    for drug_id, graph in fresh.items():
        for name in ("x", "edge_index", "edge_attr"):
            assert torch.equal(graphs[drug_id][name], graph[name]), (drug_id, name)


def test_changed_structure_misses_the_cache(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    drugs = pd.DataFrame({"drugbank_id": ["DBX1", "DBX2"], "smiles": ["CCO", "c1ccccc1O"]})
    first = featurize_drugs(drugs, cache_dir=tmp_path, progress=False)
    drugs.loc[1, "smiles"] = "c1ccccc1N"  # phenol -> aniline
    with caplog.at_level(logging.INFO, logger="ddi.chem.graphs"):
        second = featurize_drugs(drugs, cache_dir=tmp_path, progress=False)
    assert "1 built, 1 from cache" in caplog.text
    assert torch.equal(first["DBX1"].x, second["DBX1"].x)
    assert not torch.equal(first["DBX2"].x, second["DBX2"].x)
    assert second.smiles["DBX2"] == "Nc1ccccc1"


def test_data_whose_structures_mostly_fail_is_warned_about(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    drugs = pd.DataFrame({"drugbank_id": ["DBX1", "DBX2", "DBX3"], "smiles": ["CCO", "C1CC", "not a smiles"]})
    with caplog.at_level(logging.INFO, logger="ddi.chem.graphs"):
        graphs = featurize_drugs(drugs, cache_dir=tmp_path, progress=False)
    warnings = messages(caplog, "WARNING")
    assert len(warnings) == 1 and warnings[0].startswith("only 1 of 3 drugs have a molecule graph")
    assert "Check the smiles (or inchi) column of drugs.tsv" in warnings[0]
    caplog.clear()
    drugs.loc[1, "smiles"] = "c1ccccc1O"  # two of three read: enough
    with caplog.at_level(logging.INFO, logger="ddi.chem.graphs"):
        assert featurize_drugs(drugs, cache_dir=tmp_path, progress=False).coverage_warning() == ""
    assert messages(caplog, "WARNING") == []
    assert len(graphs) == 1


def test_cache_dir_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DDI_CACHE_DIR", str(tmp_path))
    featurize_drugs(pd.DataFrame({"drugbank_id": ["DBX1"], "smiles": ["CCO"]}), progress=False)
    assert cache_file().parent == tmp_path / "molecule_graphs"
    assert cache_file().is_file()


def test_new_features_use_a_new_cache_file(tmp_path: Path) -> None:
    drugs = pd.DataFrame({"drugbank_id": ["DBX1"], "smiles": ["CC[Se]C"]})
    default = featurize_drugs(drugs, cache_dir=tmp_path, progress=False)
    no_selenium = AtomFeaturizer(elements=("C", "N", "O"))
    narrow = featurize_drugs(drugs, cache_dir=tmp_path, progress=False, atom_featurizer=no_selenium)
    assert narrow.atom_dim == len(no_selenium) != default.atom_dim
    assert narrow["DBX1"].x.shape == (4, len(no_selenium))
    assert len(list((tmp_path / "molecule_graphs").glob("graphs-*.pt"))) == 2


def test_corrupt_cache_is_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    drugs = pd.DataFrame({"drugbank_id": ["DBX1"], "smiles": ["CCO"]})
    path = cache_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a torch file")
    with caplog.at_level(logging.WARNING, logger="ddi.chem.graphs"):
        graphs = featurize_drugs(drugs, cache_dir=tmp_path, progress=False)
    assert "ignoring unreadable molecule-graph cache" in caplog.text
    assert graphs["DBX1"].num_nodes == 3
    assert len(torch.load(path, weights_only=True)["keys"]) == 1  # rewritten, readable again


def test_a_cache_dir_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    from ddi.data.location import CacheDirError

    a_file = tmp_path / "cache"
    a_file.write_text("")
    with pytest.raises(CacheDirError, match=f"cache directory {a_file} cannot be made .*; choose another --cache-dir"):
        featurize_drugs(pd.DataFrame({"drugbank_id": ["DBX1"], "smiles": ["CCO"]}), cache_dir=a_file, progress=False)


def test_a_cache_dir_from_the_environment_that_cannot_be_made_says_so(tmp_path, monkeypatch) -> None:
    from ddi.data.location import CACHE_DIR_ENV, CacheDirError, resolve_cache_dir

    a_file = tmp_path / "cache"
    a_file.write_text("")
    monkeypatch.setenv(CACHE_DIR_ENV, str(a_file))
    with pytest.raises(
        CacheDirError, match=f"{a_file} \\({CACHE_DIR_ENV}\\) cannot be made .*; set {CACHE_DIR_ENV} elsewhere"
    ):
        resolve_cache_dir()


def test_an_unwritable_cache_warns_and_keeps_the_graphs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from ddi.chem.graphs import MoleculeGraphCache

    def full_disk(self, payload):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(MoleculeGraphCache, "_write", full_disk)
    with caplog.at_level(logging.WARNING, logger="ddi.chem.graphs"):
        graphs = featurize_drugs(
            pd.DataFrame({"drugbank_id": ["DBX1"], "smiles": ["CCO"]}), cache_dir=tmp_path, progress=False
        )
    assert "cannot write the molecule-graph cache" in caplog.text and "No space left" in caplog.text
    assert graphs["DBX1"].num_nodes == 3


def test_invalid_and_missing_structures_in_a_user_table(capfd: pytest.CaptureFixture[str]) -> None:
    drugs = pd.DataFrame(
        {
            "drugbank_id": ["OK", "BAD", "NONE", "INCHI"],
            "smiles": ["CCO", "C1CC((", "", ""],
            "inchi": ["", "", "", "InChI=1S/C2H6O/c1-2-3/h3H,2H2,1H3"],
        }
    )
    graphs = featurize_drugs(drugs, use_cache=False, progress=False)
    assert set(graphs) == {"OK", "INCHI"}
    assert graphs.invalid == {"BAD": "invalid SMILES: syntax error in 'C1CC(('", "NONE": "no structure"}
    assert capfd.readouterr().err == ""


def test_batches_keep_the_requested_order(graphs: MoleculeGraphs) -> None:
    ids = ["DB00945", "DB00316", "DB00945"]  # aspirin, acetaminophen, aspirin again
    batch = graphs.batch(ids)
    assert batch.num_graphs == 3
    assert batch.ptr.tolist() == [0, 13, 24, 37]
    assert torch.equal(batch.x[24:37], graphs["DB00945"].x)
    with pytest.raises(KeyError, match="DB09016 has no molecule graph: no structure"):
        graphs.batch(["DB00945", "DB09016"])
    with pytest.raises(KeyError, match="not in the featurised drug table"):
        graphs.batch(["DB99999"], allow_missing=True)


def test_full_batch_follows_the_drug_table(tables: Tables, graphs: MoleculeGraphs) -> None:
    batch = graphs.full_batch()
    assert batch.num_graphs == len(tables.drugs) == 1710
    assert batch.x.shape == (sum(g.num_nodes for g in graphs.values()), ATOM_DIM)
    sizes = batch.ptr.diff()
    assert torch.equal(sizes > 0, graphs.has_graph)
    assert int(graphs.has_graph.sum()) == 1705
    row = tables.drug_index[OXALIPLATIN]
    assert torch.equal(batch.x[batch.ptr[row] : batch.ptr[row + 1]], graphs[OXALIPLATIN].x)
    assert graphs.full_batch() is batch  # built once


def test_cli_featurize_reports_the_drugs_without_a_graph(
    benchmark_dir: Path, graph_cache_dir: Path, graphs: MoleculeGraphs, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["-q", "featurize", "--data-dir", str(benchmark_dir), "--cache-dir", str(graph_cache_dir)])
    out = capsys.readouterr().out
    assert code == 0
    assert "1,705 of 1,710 drugs have a molecule graph" in out
    assert "5 without a graph:" in out
    for drug_id in NO_STRUCTURE:
        assert f"{drug_id}\t" in out and "no structure" in out
    assert str(graph_cache_dir / "molecule_graphs") in out


def test_cli_featurize_with_a_missing_data_dir_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["featurize", "--data-dir", str(tmp_path / "nowhere"), "--cache-dir", str(tmp_path)])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err
