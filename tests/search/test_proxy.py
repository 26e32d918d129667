"""The proxy evaluation on the real benchmark (a tiny budget): its drug subset, deterministic, cached,
resumable; and its table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ddi.data.splits import load_split
from ddi.data.tables import OTHER_TYPE, Tables
from ddi.models.config import ModelConfig
from ddi.search.proxy import ProxyConfig, ProxyEvaluator, config_hash, proxy_drugs
from ddi.search.space import SearchSpace
from ddi.search.table import ArchitectureTable

#: Small base (one molecule layer, 8 paths per pair) so that one quick evaluation takes about a second.
BASE = ModelConfig(mol_layers=1, mol_hidden_dim=8, max_paths=8)


@pytest.fixture(scope="module")
def space() -> SearchSpace:
    return SearchSpace(base=BASE)


@pytest.fixture(scope="module")
def arch(space: SearchSpace) -> tuple[int, ...]:
    return space.from_model_config(ModelConfig(hidden_dim=32, fingerprint_bits=0))


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, space, arch, benchmark_tables: Tables) -> tuple[ProxyEvaluator, Path, float]:
    """One evaluator that trained ``arch`` once, writing to a table file (two graphs kept: evictions happen)."""
    path = tmp_path_factory.mktemp("proxy") / "archs.jsonl"
    evaluator = ProxyEvaluator(space, ProxyConfig.quick(), table=path, tables=benchmark_tables, max_graphs=2)
    return evaluator, path, evaluator(arch)


def test_score_is_the_mean_valid_macro_f1_of_s0_and_s1(first_run, space, arch) -> None:
    evaluator, _, score = first_run
    row = evaluator.cached(arch)
    assert row is not None and row["key"] == space.key(arch) and row["arch"] == list(arch)
    assert set(row["valid"]) == {"s0", "s1"}
    assert score == pytest.approx((row["valid"]["s0"]["macro_f1"] + row["valid"]["s1"]["macro_f1"]) / 2)
    assert 0.0 <= score <= 1.0 and row["params"] > 0 and row["seconds"] > 0


def test_the_drug_subset_is_a_seeded_uniform_choice_among_drugs_with_structure_and_interactions(
    benchmark_tables: Tables,
) -> None:
    drugs = benchmark_tables.drugs
    pairs = benchmark_tables.interactions[benchmark_tables.interactions["type"] != OTHER_TYPE]
    interacting = set(pairs["drug1_id"]) | set(pairs["drug2_id"])
    structure = set(drugs["drugbank_id"][(drugs["smiles"] != "") | (drugs["inchi"] != "")])
    chosen = proxy_drugs(benchmark_tables, 150, seed=0)
    assert len(chosen) == len(set(chosen)) == 150
    assert set(chosen) <= interacting & structure
    order = {d: i for i, d in enumerate(drugs["drugbank_id"])}
    assert chosen == sorted(chosen, key=order.get)  # the tables' order
    assert proxy_drugs(benchmark_tables, 150, seed=0) == chosen
    assert set(proxy_drugs(benchmark_tables, 150, seed=1)) != set(chosen)
    every = proxy_drugs(benchmark_tables, None)
    assert set(every) == interacting & structure
    assert proxy_drugs(benchmark_tables, 10**6) == every


def test_the_proxy_trains_and_validates_on_the_drug_subset_only(first_run, arch, benchmark_tables: Tables) -> None:
    evaluator, _, _ = first_run
    subset = set(proxy_drugs(benchmark_tables, evaluator.config.num_drugs, evaluator.config.drug_seed))
    assert set(evaluator.subset_tables().drugs["drugbank_id"]) == subset
    assert evaluator.subset_report.dropped("drugs") == len(benchmark_tables.drugs) - len(subset)
    full_s0 = load_split("s0", benchmark_tables)
    for setting in ("s0", "s1"):
        ctx = evaluator.base_context(setting)
        assert ctx.graph.num_drugs == len(subset) == len(ctx.molecules.has_graph)
        for part in ctx.split.parts().values():
            assert len(part) and set(part["drug1_id"]) | set(part["drug2_id"]) <= subset
        assert len(ctx.split.valid) <= evaluator.config.valid_pairs
    s0 = evaluator.base_context("s0").split
    for name in ("train", "valid", "test"):  # the given S0 split, cut to the subset (valid also sampled)
        full = set(map(tuple, getattr(full_s0, name).to_numpy().tolist()))
        assert set(map(tuple, getattr(s0, name).to_numpy().tolist())) <= full
    assert len(s0.test) == len(full_s0.restricted_to_drugs(subset).test)
    s1 = evaluator.base_context("s1").split
    assert s1.train_drugs | s1.valid_drugs | s1.test_drugs <= subset
    assert not s1.train_drugs & s1.valid_drugs and not s1.valid_drugs & s1.test_drugs
    train_side = s1.valid["drug1_id"].isin(s1.train_drugs) + s1.valid["drug2_id"].isin(s1.train_drugs)
    assert (train_side == 1).all()  # one new drug per validation pair
    row = evaluator.cached(arch)
    assert row["valid"]["s0"]["valid_pairs"] == len(s0.valid)
    assert row["valid"]["s0"]["train_pairs"] == min(len(s0.train), evaluator.config.train_pairs)


def test_the_subset_and_the_budget_enter_the_config_hash() -> None:
    base = ModelConfig()
    hashes = {
        config_hash(config, base)
        for config in (
            ProxyConfig(),
            ProxyConfig(num_drugs=300),
            ProxyConfig(num_drugs=None),
            ProxyConfig(drug_seed=1),
            ProxyConfig(epochs=2),
        )
    }
    assert len(hashes) == 5
    with pytest.raises(ValueError, match="num_drugs"):
        ProxyConfig(num_drugs=3)


def test_a_cached_architecture_is_not_trained_again(first_run, arch) -> None:
    evaluator, _, score = first_run
    trained = evaluator.trainings
    assert evaluator(arch) == score
    assert evaluator.trainings == trained == 1


def test_same_seed_gives_the_same_score_from_a_fresh_table(first_run, space, arch, benchmark_tables) -> None:
    _, _, score = first_run
    fresh = ProxyEvaluator(space, ProxyConfig.quick(), tables=benchmark_tables)
    assert fresh(arch) == score
    assert fresh.trainings == 1


def test_a_new_run_resumes_from_the_table_file(first_run, space, arch) -> None:
    _, path, score = first_run
    resumed = ProxyEvaluator(space, ProxyConfig.quick(), table=str(path))  # no data given: none is needed
    assert resumed(arch) == score
    assert resumed.trainings == 0
    assert len(path.read_text().splitlines()) == 1


def test_rows_of_another_proxy_config_are_not_reused(first_run, space, arch) -> None:
    evaluator, path, _ = first_run
    other = ProxyEvaluator(space, ProxyConfig.quick(seed=1), table=str(path))
    assert other.config_hash != evaluator.config_hash
    assert other.cached(arch) is None
    other_base = ProxyEvaluator(SearchSpace(base=ModelConfig(mol_layers=2)), ProxyConfig.quick(), table=str(path))
    assert other_base.cached(arch) is None


def test_architectures_that_need_other_graphs_train(first_run, space) -> None:
    evaluator, _, _ = first_run
    no_paths = ModelConfig(hidden_dim=32, fingerprint_bits=0, path_length=0, kg_layers=0, combine="concat")
    few_groups = ModelConfig(
        hidden_dim=32, relation_groups=("carrier",), message="rotate", aggregation="max", attention=False
    )
    for config in (no_paths, few_groups):
        assert 0.0 <= evaluator(space.from_model_config(config)) <= 1.0
    assert evaluator.trainings == 3


def test_table_skips_a_torn_last_line_and_appends_on_a_new_one(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"key": "a", "config_hash": "h", "score": 0.5}) + '\n{"key": "b", "sco')
    table = ArchitectureTable(path)
    assert len(table) == 1 and table.get("a", "h")["score"] == 0.5
    table.append({"key": "c", "config_hash": "h", "score": 0.25, "arch": (1, 2)})
    reread = ArchitectureTable(path)
    assert [r["key"] for r in reread] == ["a", "c"]
    assert reread.get("c", "h")["arch"] == [1, 2] == table.get("c", "h")["arch"]
    assert reread.get("c", "other") is None
    assert [r["key"] for r in reread.rows("h")] == ["a", "c"]
