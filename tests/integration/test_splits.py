"""Train/valid/test splits of the real benchmark (S0, S1, S2) and of a user's own split directory."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from logged import messages

from ddi.data.benchmark import DataFormatError, load_benchmark, read_tsv
from ddi.data.splits import (
    PAIR_FRACTIONS,
    SPLIT_FILES,
    SUMGNN_DIR,
    Split,
    drug_disjoint_split,
    load_split,
    random_pair_split,
    split_from_dir,
)
from ddi.data.tables import OTHER_TYPE, Tables
from ddi.errors import UserInputError

TABLES_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tables"
SEEDS = (0, 1, 2, 3, 4)


def pair_keys(df: pd.DataFrame) -> set[str]:
    """The unordered pairs of a frame, as "low|high" drug ids."""
    a, b = df["drug1_id"], df["drug2_id"]
    return set(a.where(a < b, b) + "|" + b.where(a < b, a))


def drugs_of(df: pd.DataFrame) -> set[str]:
    return set(df["drug1_id"]) | set(df["drug2_id"])


@pytest.fixture(scope="module")
def s0(benchmark_tables: Tables) -> Split:
    return load_split("s0", benchmark_tables)


@pytest.fixture(scope="module")
def interacting_drugs(benchmark_tables: Tables) -> set[str]:
    return drugs_of(benchmark_tables.interactions)


@pytest.fixture(scope="module")
def drug_splits(benchmark_tables: Tables) -> dict[tuple[str, int], Split]:
    return {(s, seed): load_split(s, benchmark_tables, seed=seed) for s in ("s1", "s2") for seed in SEEDS}


# --- S0: the shipped SumGNN split -----------------------------------------------------------------------------


def test_s0_is_the_shipped_sumgnn_split(s0: Split, data_dir: Path) -> None:
    assert s0.name == "s0"
    assert s0.counts() == {"train": 134_641, "valid": 19_224, "test": 38_419}
    assert s0.train_drugs is None and s0.test_drugs is None
    for part, df in s0.parts().items():
        shipped = read_tsv(data_dir / SUMGNN_DIR / f"{part}.tsv").astype({"type": "int64"})
        pd.testing.assert_frame_equal(df, shipped, obj=part)


def test_s0_covers_the_benchmark_and_never_repeats_a_training_row(s0: Split, benchmark_tables: Tables) -> None:
    rows = pd.concat(s0.parts().values(), ignore_index=True)
    assert len(rows) == len(benchmark_tables.interactions)
    assert pair_keys(rows) == pair_keys(benchmark_tables.interactions)
    train = set(zip(s0.train["drug1_id"], s0.train["drug2_id"], s0.train["type"], strict=True))
    train |= {(b, a, t) for a, b, t in train}
    for part in (s0.valid, s0.test):
        assert not train & set(zip(part["drug1_id"], part["drug2_id"], part["type"], strict=True))


def test_s0_without_a_shipped_split_is_a_seeded_random_pair_split(benchmark_tables: Tables) -> None:
    unshipped = Tables(**{**benchmark_tables.__dict__, "source": ""})
    split = load_split("S0", unshipped, seed=3)
    assert split.counts() == random_pair_split(benchmark_tables, seed=3).counts()
    assert split.seed == 3


# --- the random pair split ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_random_pair_split_is_70_10_20_by_unordered_pair(benchmark_tables: Tables, seed: int) -> None:
    split = random_pair_split(benchmark_tables, seed=seed)
    keys = {part: pair_keys(df) for part, df in split.parts().items()}
    n_pairs = len(pair_keys(benchmark_tables.interactions))
    assert n_pairs < len(benchmark_tables.interactions)  # some pairs carry two types
    assert sum(len(k) for k in keys.values()) == n_pairs
    for part, fraction in zip(("train", "valid", "test"), PAIR_FRACTIONS, strict=True):
        assert abs(len(keys[part]) - fraction * n_pairs) <= 1, part
    # A pair listed with two types never straddles two parts.
    assert not keys["train"] & keys["valid"]
    assert not keys["train"] & keys["test"]
    assert not keys["valid"] & keys["test"]
    assert sum(split.counts().values()) == len(benchmark_tables.interactions)


def test_random_pair_split_is_deterministic_per_seed(benchmark_tables: Tables) -> None:
    a, b = random_pair_split(benchmark_tables, seed=7), random_pair_split(benchmark_tables, seed=7)
    for part in ("train", "valid", "test"):
        pd.testing.assert_frame_equal(a.parts()[part], b.parts()[part])
    other = random_pair_split(benchmark_tables, seed=8)
    assert pair_keys(other.test) != pair_keys(a.test)


def test_random_pair_split_leaves_out_interactions_of_no_benchmark_type() -> None:
    tables, _ = load_benchmark(TABLES_FIXTURES / "layout")
    extra = pd.DataFrame({"drug1_id": ["DB00002"], "drug2_id": ["DB00006"], "type": [OTHER_TYPE]})
    with_other = Tables(**{**tables.__dict__, "interactions": pd.concat([tables.interactions, extra])})
    split = random_pair_split(with_other, seed=0)
    assert sum(split.counts().values()) == len(tables.interactions) == 7
    for df in split.parts().values():
        assert OTHER_TYPE not in set(df["type"])


# --- S1 and S2: new drugs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("setting", ["s1", "s2"])
@pytest.mark.parametrize("seed", SEEDS)
def test_drug_sets_are_disjoint_and_cut_80_10_10(
    drug_splits: dict, interacting_drugs: set[str], setting: str, seed: int
) -> None:
    split = drug_splits[setting, seed]
    assert (split.name, split.seed) == (setting, seed)
    tr, va, te = split.train_drugs, split.valid_drugs, split.test_drugs
    assert not tr & va and not tr & te and not va & te
    assert tr | va | te == interacting_drugs
    n = len(interacting_drugs)
    assert n == 1710
    assert (len(tr), len(va), len(te)) == (round(0.8 * n), round(0.1 * n), n - round(0.8 * n) - round(0.1 * n))


@pytest.mark.parametrize("setting", ["s1", "s2"])
@pytest.mark.parametrize("seed", SEEDS)
def test_training_pairs_join_two_training_drugs(drug_splits: dict, setting: str, seed: int) -> None:
    split = drug_splits[setting, seed]
    assert len(split.train) > 100_000
    assert split.train["drug1_id"].isin(split.train_drugs).all()
    assert split.train["drug2_id"].isin(split.train_drugs).all()
    assert not drugs_of(split.train) & (split.valid_drugs | split.test_drugs)


@pytest.mark.parametrize("seed", SEEDS)
def test_s1_valid_and_test_pairs_join_one_new_drug_with_one_training_drug(drug_splits: dict, seed: int) -> None:
    split = drug_splits["s1", seed]
    for part, new in (("valid", split.valid_drugs), ("test", split.test_drugs)):
        df = split.parts()[part]
        assert len(df) > 10_000, part
        new1, new2 = df["drug1_id"].isin(new), df["drug2_id"].isin(new)
        train1, train2 = df["drug1_id"].isin(split.train_drugs), df["drug2_id"].isin(split.train_drugs)
        assert (new1 ^ new2).all(), part  # exactly one new drug: never two, never none
        assert (train1 ^ train2).all(), part  # exactly one training drug
        assert ((new1 & train2) | (train1 & new2)).all(), part


@pytest.mark.parametrize("seed", SEEDS)
def test_s2_valid_and_test_pairs_join_two_new_drugs(drug_splits: dict, seed: int) -> None:
    split = drug_splits["s2", seed]
    for part, new in (("valid", split.valid_drugs), ("test", split.test_drugs)):
        df = split.parts()[part]
        assert len(df) > 500, part
        assert df["drug1_id"].isin(new).all() and df["drug2_id"].isin(new).all(), part


def test_s1_and_s2_of_one_seed_share_drug_sets_and_training_pairs(drug_splits: dict) -> None:
    s1, s2 = drug_splits["s1", 0], drug_splits["s2", 0]
    assert (s1.train_drugs, s1.valid_drugs, s1.test_drugs) == (s2.train_drugs, s2.valid_drugs, s2.test_drugs)
    pd.testing.assert_frame_equal(s1.train, s2.train)


def test_every_benchmark_pair_lands_in_at_most_one_part(drug_splits: dict, benchmark_tables: Tables) -> None:
    for (setting, seed), split in drug_splits.items():
        parts = [pair_keys(df) for df in split.parts().values()]
        assert not parts[0] & parts[1] and not parts[0] & parts[2] and not parts[1] & parts[2], (setting, seed)
        assert sum(split.counts().values()) <= len(benchmark_tables.interactions)


def test_drug_splits_are_deterministic_per_seed(benchmark_tables: Tables, drug_splits: dict) -> None:
    for setting in ("s1", "s2"):
        again = drug_disjoint_split(benchmark_tables, setting, seed=1)
        first = drug_splits[setting, 1]
        assert again.test_drugs == first.test_drugs
        for part in ("train", "valid", "test"):
            pd.testing.assert_frame_equal(again.parts()[part], first.parts()[part])
    test_sets = {drug_splits["s1", seed].test_drugs for seed in SEEDS}
    assert len(test_sets) == len(SEEDS)


def test_drug_split_with_a_pair_setting_is_refused(benchmark_tables: Tables) -> None:
    with pytest.raises(DataFormatError, match="s1 or s2"):
        drug_disjoint_split(benchmark_tables, "s0")


@pytest.mark.parametrize("setting", ["s3", "random", ""])
def test_an_unknown_setting_is_a_data_format_error(benchmark_tables: Tables, setting: str) -> None:
    with pytest.raises(DataFormatError, match="unknown split setting") as info:
        load_split(setting, benchmark_tables)
    assert isinstance(info.value, UserInputError)
    assert "s0, s1, s2" in str(info.value)


# --- a user's own split directory -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_tables() -> Tables:
    return load_benchmark(TABLES_FIXTURES / "layout")[0]


def test_a_user_split_drops_a_row_with_an_unknown_drug_and_reports_it(
    small_tables: Tables, caplog: pytest.LogCaptureFixture
) -> None:
    user_dir = TABLES_FIXTURES / "user_split"
    with caplog.at_level("INFO", logger="ddi.data.splits"):
        split = load_split("s1", small_tables, split_dir=user_dir)  # the directory wins over the setting
    assert split.name == str(user_dir)
    assert split.counts() == {"train": 4, "valid": 1, "test": 2}
    assert "DB99999" not in drugs_of(split.test)
    assert [tuple(r) for r in split.test.itertuples(index=False)] == [
        ("DB00005", "DB00003", 3),
        ("DB00006", "DB00001", 3),
    ]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == ["dropped user_split/test.tsv: 1 row(s) naming a drug not in the drugs table (e.g. DB99999)"]


def test_a_user_split_with_no_usable_training_pair_is_refused_by_name(
    small_tables: Tables, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from ddi.models.config import RunConfig
    from ddi.train.context import TrainingContext
    from ddi.train.trainer import train

    user_dir = tmp_path / "mine"
    shutil.copytree(TABLES_FIXTURES / "user_split", user_dir)
    (user_dir / "train.tsv").write_text("drug1_id\tdrug2_id\ttype\nDB00001\tDB99998\t1\nDB00002\tDB00003\tsix\n")
    with caplog.at_level("WARNING", logger="ddi.data.splits"):
        split = load_split("s0", small_tables, split_dir=user_dir)
    warnings = {r.getMessage() for r in caplog.records if r.levelname == "WARNING"}
    assert "dropped mine/train.tsv: 1 row(s) naming a drug not in the drugs table (e.g. DB99998)" in warnings
    assert "dropped mine/train.tsv: 1 row(s) with a missing or non-integer type (e.g. type='six')" in warnings
    # evaluating on it is legal, but the graph then knows no interaction: the user is told
    assert any(
        w.endswith(
            "has no usable training pairs: the knowledge graph holds no known interactions, so "
            "predictions rest on the drugs' structure and proteins alone"
        )
        for w in warnings
    )
    run = RunConfig()
    ctx = TrainingContext.build(run, tables=small_tables, split=split, progress=False)
    with pytest.raises(UserInputError, match="has no training pairs left after validation"):
        train(ctx, run, progress=False)


def test_a_user_split_missing_a_file_or_a_column_is_a_data_format_error(small_tables: Tables, tmp_path: Path) -> None:
    user_dir = tmp_path / "mine"
    shutil.copytree(TABLES_FIXTURES / "user_split", user_dir)
    (user_dir / "valid.tsv").unlink()
    with pytest.raises(DataFormatError, match=r"valid\.tsv: file not found"):
        split_from_dir(user_dir, small_tables)

    (user_dir / "valid.tsv").write_text("drug1_id\tdrug2_id\tlabel\nDB00004\tDB00002\t2\n")
    with pytest.raises(DataFormatError, match=r"valid\.tsv: missing column\(s\) type"):
        split_from_dir(user_dir, small_tables)

    with pytest.raises(DataFormatError, match="does not exist"):
        split_from_dir(tmp_path / "nowhere", small_tables)


def test_a_user_split_without_header_rows_or_with_commas_reads_as_the_tab_separated_one(
    small_tables: Tables, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    user_dir = tmp_path / "mine"
    shutil.copytree(TABLES_FIXTURES / "user_split", user_dir)
    expected = split_from_dir(user_dir, small_tables)
    for filename in SPLIT_FILES:  # written as many published splits are: no header row
        path = user_dir / filename
        path.write_text("".join(path.read_text().splitlines(keepends=True)[1:]))
    (user_dir / "valid.tsv").write_text((user_dir / "valid.tsv").read_text().replace("\t", ","))  # and a CSV
    with caplog.at_level("INFO", logger="ddi.data.benchmark"):
        back = split_from_dir(user_dir, small_tables)
    for part in ("train", "valid", "test"):
        pd.testing.assert_frame_equal(back.parts()[part], expected.parts()[part], obj=part)
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "train.tsv: read as tab-separated without a header row (columns in order: drug1_id" in said
    assert "valid.tsv: read as comma-separated without a header row" in said
    # A header of other names is still a header, and still named as what is wrong.
    (user_dir / "test.tsv").write_text("drug_a\tdrug_b\tlabel\nDB00004\tDB00002\t2\n")
    with pytest.raises(DataFormatError, match=r"test\.tsv: missing column\(s\) drug1_id, drug2_id, type"):
        split_from_dir(user_dir, small_tables)


def test_a_written_split_reads_back_identically(benchmark_tables: Tables, drug_splits: dict, tmp_path: Path) -> None:
    split = drug_splits["s2", 2]
    out = split.write(tmp_path / "s2_seed2")
    assert sorted(p.name for p in out.iterdir()) == sorted(SPLIT_FILES)
    back = split_from_dir(out, benchmark_tables)
    assert back.name == str(out)
    for part in ("train", "valid", "test"):
        pd.testing.assert_frame_equal(back.parts()[part], split.parts()[part], obj=part)
    assert load_split("s0", benchmark_tables, split_dir=out).counts() == split.counts()


def test_the_overlap_check_reads_any_type_ids_without_overflowing(caplog: pytest.LogCaptureFixture) -> None:
    from ddi.data.splits import Split, _check_no_pair_overlap

    # A user's type id as large as int64 allows: pair key * (largest id + 1) wrapped around, so pairs whose keys
    # differ by a multiple of 4 looked like the same row, and new test pairs were called training repeats.
    big = 2**62 - 1
    drugs = [f"DB{i:05d}" for i in range(70)]
    train = pd.DataFrame({"drug1_id": drugs[:30], "drug2_id": drugs[30:60], "type": big})
    valid = pd.DataFrame({"drug1_id": drugs[60:62], "drug2_id": drugs[62:64], "type": big})
    test = pd.DataFrame({"drug1_id": [drugs[0], *drugs[64:67]], "drug2_id": [drugs[30], *drugs[67:70]], "type": big})
    with caplog.at_level("INFO", logger="ddi.data.splits"):
        _check_no_pair_overlap(Split("mine", train, valid, test))
    assert messages(caplog, "WARNING") == [
        "split mine: 1 test row(s) repeat a training row (label leak)"
    ]  # train's first row only
