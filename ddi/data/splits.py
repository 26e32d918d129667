"""Train/valid/test splits of the interactions.

- **S0** (both drugs seen in training): the SumGNN random pair split shipped in ``splits/sumgnn/`` of the data
  directory; a dataset without one (e.g. a fresh DrugBank import) gets a seeded random 70/10/20 pair split.
- **S1** / **S2** (new drugs, as in EmerGNN): the drugs that take part in interactions are shuffled per seed and
  cut 80/10/10 into train/valid/test drug sets. Training pairs join two training drugs. S1 valid/test pairs join
  one valid/test drug with one training drug; S2 valid/test pairs join two valid/test drugs. Pairs that mix a
  valid and a test drug, or that S1/S2 does not use, are left out (counted in the log).
- A user's own split: any directory holding ``train.tsv``, ``valid.tsv`` and ``test.tsv``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ddi.data.benchmark import DataFormatError, read_pair_file
from ddi.data.tables import OTHER_TYPE, DropReport, Tables, validate_interactions
from ddi.errors import not_a_directory

log = logging.getLogger(__name__)

SETTINGS = ("s0", "s1", "s2")
SPLIT_FILES = ("train.tsv", "valid.tsv", "test.tsv")
SUMGNN_DIR = Path("splits") / "sumgnn"
DRUG_FRACTIONS = (0.8, 0.1, 0.1)
PAIR_FRACTIONS = (0.7, 0.1, 0.2)
#: What a user's split loses when a part has no usable pair (legal, so a warning, not an error).
EMPTY_PART = {
    "train": "has no usable training pairs: the knowledge graph holds no known interactions, so predictions rest "
    "on the drugs' structure and proteins alone",
    "valid": "has no usable pairs: training has no validation figures to choose its best epoch by",
    "test": "has no usable pairs: there is nothing to test a model on",
}


@dataclass(frozen=True)
class Split:
    """Interactions divided into train/valid/test, each a DataFrame of (drug1_id, drug2_id, type).

    ``train_drugs``/``valid_drugs``/``test_drugs`` are set for drug-disjoint splits (S1, S2) and ``None`` when
    pairs, not drugs, were split.
    """

    name: str
    train: pd.DataFrame
    valid: pd.DataFrame
    test: pd.DataFrame
    seed: int = 0
    train_drugs: frozenset[str] | None = None
    valid_drugs: frozenset[str] | None = None
    test_drugs: frozenset[str] | None = None

    def parts(self) -> dict[str, pd.DataFrame]:
        return {"train": self.train, "valid": self.valid, "test": self.test}

    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.parts().items()}

    def pairs_to_evaluate(self, part: str) -> pd.DataFrame:
        """The pairs of ``part`` (valid or test), or a clear error when it has none: no figure can be computed
        from zero pairs, and a user's split file may be empty or lose every row to validation."""
        pairs: pd.DataFrame = getattr(self, part)
        if pairs.empty:
            # a user's split is named by its directory; the settings' parts are not files
            where = f"split {self.name}" if self.name in SETTINGS else str(Path(self.name) / f"{part}.tsv")
            raise DataFormatError(
                f"no {part} pairs to evaluate in {where}: it has no rows, or every row was dropped (see the "
                "'dropped' warnings above: unknown drugs, unknown types, missing cells)"
            )
        return pairs

    def restricted_to_drugs(self, drug_ids: Iterable[str]) -> Split:
        """The split of a drug subset: each part keeps the pairs of two subset drugs; the drug sets of a
        drug-disjoint split are cut to the subset. Name and seed are kept."""
        wanted = frozenset(drug_ids)

        def among(part: pd.DataFrame) -> pd.DataFrame:
            keep = part["drug1_id"].isin(wanted) & part["drug2_id"].isin(wanted)
            return part[keep].reset_index(drop=True)

        def cut(drugs: frozenset[str] | None) -> frozenset[str] | None:
            return None if drugs is None else drugs & wanted

        return Split(
            self.name,
            among(self.train),
            among(self.valid),
            among(self.test),
            seed=self.seed,
            train_drugs=cut(self.train_drugs),
            valid_drugs=cut(self.valid_drugs),
            test_drugs=cut(self.test_drugs),
        )

    def write(self, out_dir: str | Path) -> Path:
        """Write the split as ``train/valid/test.tsv`` (the layout ``--split-dir`` reads)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for part, df in self.parts().items():
            df.to_csv(out / f"{part}.tsv", sep="\t", index=False)
        return out


def load_split(
    setting: str,
    tables: Tables,
    seed: int = 0,
    split_dir: str | Path | None = None,
) -> Split:
    """Return the split named by ``setting`` (s0, s1, s2), or the one in ``split_dir`` when given."""
    if split_dir is not None:
        return split_from_dir(split_dir, tables)
    setting = split_setting(setting)
    split_seed(seed)
    if setting == "s0":
        given = Path(tables.source) / SUMGNN_DIR if tables.source else None
        if given is not None and all((given / f).is_file() for f in SPLIT_FILES):
            return split_from_dir(given, tables, name="s0")
        return random_pair_split(tables, seed)
    return drug_disjoint_split(tables, setting, seed)


def split_setting(setting: str) -> str:
    """``setting`` as a split setting (s0, s1 or s2, in any case), or a clear error."""
    if not isinstance(setting, str) or setting.lower() not in SETTINGS:
        raise DataFormatError(f"unknown split setting {setting!r}; choose one of {', '.join(SETTINGS)}")
    return setting.lower()


def split_seed(seed: int) -> int:
    """``seed`` if it can seed a split, else a clear error (numpy's generator refuses a negative seed with a bare
    ValueError, which would reach the user as an unexpected error)."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise DataFormatError(f"the split seed must be a whole number of at least 0, not {seed!r}")
    return int(seed)


def split_from_dir(split_dir: str | Path, tables: Tables, name: str | None = None) -> Split:
    """Read ``train/valid/test.tsv`` from a directory, dropping rows with unknown drugs or types (reported)."""
    root = Path(split_dir)
    if not root.is_dir():
        raise DataFormatError(not_a_directory("split directory", root))
    _check_split_files(root)
    label = root.name or root.absolute().name  # `--split-dir .` has no name of its own
    drug_ids = set(tables.drugs["drugbank_id"])
    type_ids = set(tables.interaction_types["type"].tolist())
    report = DropReport()
    parts = {}
    for filename in SPLIT_FILES:
        part, table = filename.removesuffix(".tsv"), f"{label}/{filename}"
        raw = _without_blank_rows(read_pair_file(root / filename), table, report)
        raw = _match_id_case(raw, drug_ids, table, report)
        parts[part] = validate_interactions(raw, report, drug_ids, type_ids, table=table)
    report.log(log)
    for part, consequence in EMPTY_PART.items():  # legal, but what needs the part is lost: say so
        if parts[part].empty:
            log.warning("%s %s", root / f"{part}.tsv", consequence)
    split = Split(name or str(root), **parts)
    _check_no_pair_overlap(split)
    _log_new_drug_pairs(split)
    log.info("split %s: %s", split.name, _fmt_counts(split))
    return split


def _check_split_files(root: Path) -> None:
    """Name every split file ``root`` lacks at once, and say so when ``root`` is a data directory (an easy
    mistake: the data directory's path given as the split directory)."""
    missing = [f for f in SPLIT_FILES if not (root / f).exists()]
    if not missing:
        return
    message = (
        f"{root}: {', '.join(missing)}: {'file' if len(missing) == 1 else 'files'} not found (a split directory "
        f"holds {', '.join(SPLIT_FILES)})"
    )
    if (root / "ddi.tsv").is_file():
        message += f"; {root} is a data directory, not a split directory"
        if all((root / SUMGNN_DIR / f).is_file() for f in SPLIT_FILES):
            message += f" (its shipped split is {root / SUMGNN_DIR}, the S0 split used when none is given)"
    raise DataFormatError(message)


def _without_blank_rows(raw: pd.DataFrame, table: str, report: DropReport) -> pd.DataFrame:
    """``raw`` less its rows of empty cells (a spreadsheet's export can end with some): pandas skips blank
    lines itself, and these say no more, so they are counted, not warned about as dropped pairs."""
    blank = pd.Series(True, index=raw.index)
    for column in ("type", "drug1_id", "drug2_id"):
        blank[blank] = raw.loc[blank, column].fillna("").str.strip() == ""  # most rows stop at the first cell
    if blank.any():
        report.notes.append(f"{table}: {int(blank.sum())} blank row(s) ignored")
    return raw[~blank]


def _match_id_case(raw: pd.DataFrame, drug_ids: set[str], table: str, report: DropReport) -> pd.DataFrame:
    """``raw`` with the drug ids written in another letter case ("db00641") as the drugs table writes them:
    DrugBank ids are case-insensitive, and dropping them as unknown drugs would lose a whole lower-case file."""
    canonical = {d.upper(): d for d in drug_ids}
    out, count, example = raw, 0, ""
    for column in ("drug1_id", "drug2_id"):
        ids = raw[column].fillna("").str.strip()
        other_case = ~ids.isin(drug_ids)
        other_case[other_case] = ids[other_case].str.upper().isin(canonical)
        if other_case.any():
            out = out.copy() if out is raw else out
            out.loc[other_case, column] = ids[other_case].str.upper().map(canonical)
            count, example = count + int(other_case.sum()), example or ids[other_case].iloc[0]
    if count:
        report.notes.append(
            f"{table}: {count} drug id(s) written in another letter case, read as the drugs table writes them "
            f"(e.g. {example} as {canonical[example.upper()]})"
        )
    return out


def random_pair_split(tables: Tables, seed: int = 0, fractions: tuple[float, ...] = PAIR_FRACTIONS) -> Split:
    """Seeded random 70/10/20 split of the pairs (used as S0 when the data has no given split)."""
    pairs = _usable_interactions(tables)
    # Split unordered pairs, not rows, so a pair listed with two types never straddles train and test.
    key = _pair_key(pairs)
    unique_keys = np.sort(key.unique())
    order = np.random.default_rng(seed).permutation(len(unique_keys))
    n_train = round(fractions[0] * len(unique_keys))
    n_valid = round(fractions[1] * len(unique_keys))
    part_of = pd.Series("test", index=unique_keys[order])
    part_of.iloc[:n_train] = "train"
    part_of.iloc[n_train : n_train + n_valid] = "valid"
    assigned = key.map(part_of)
    train, valid, test = (pairs[assigned == p].reset_index(drop=True) for p in ("train", "valid", "test"))
    split = Split("s0", train, valid, test, seed=seed)
    log.info("s0 (random pair split, seed %d): %s", seed, _fmt_counts(split))
    return split


def drug_disjoint_split(tables: Tables, setting: str, seed: int = 0) -> Split:
    """EmerGNN-style split by drugs: S1 = one new drug per valid/test pair, S2 = two new drugs."""
    if setting not in ("s1", "s2"):
        raise DataFormatError(f"drug-disjoint split needs setting s1 or s2, not {setting!r}")
    pairs = _usable_interactions(tables)
    drugs = np.sort(pd.unique(pairs[["drug1_id", "drug2_id"]].to_numpy().ravel()))
    order = np.random.default_rng(seed).permutation(len(drugs))
    n_train = round(DRUG_FRACTIONS[0] * len(drugs))
    n_valid = round(DRUG_FRACTIONS[1] * len(drugs))
    train_drugs = frozenset(drugs[order[:n_train]])
    valid_drugs = frozenset(drugs[order[n_train : n_train + n_valid]])
    test_drugs = frozenset(drugs[order[n_train + n_valid :]])

    in1 = {
        name: pairs["drug1_id"].isin(s) for name, s in (("tr", train_drugs), ("va", valid_drugs), ("te", test_drugs))
    }
    in2 = {
        name: pairs["drug2_id"].isin(s) for name, s in (("tr", train_drugs), ("va", valid_drugs), ("te", test_drugs))
    }
    train_mask = in1["tr"] & in2["tr"]
    if setting == "s1":
        valid_mask = (in1["va"] & in2["tr"]) | (in1["tr"] & in2["va"])
        test_mask = (in1["te"] & in2["tr"]) | (in1["tr"] & in2["te"])
    else:
        valid_mask = in1["va"] & in2["va"]
        test_mask = in1["te"] & in2["te"]
    unused = int((~(train_mask | valid_mask | test_mask)).sum())
    split = Split(
        setting,
        pairs[train_mask].reset_index(drop=True),
        pairs[valid_mask].reset_index(drop=True),
        pairs[test_mask].reset_index(drop=True),
        seed=seed,
        train_drugs=train_drugs,
        valid_drugs=valid_drugs,
        test_drugs=test_drugs,
    )
    log.info(
        "%s (drug split 80/10/10, seed %d, drugs %d/%d/%d): %s; %d pair(s) unused by this setting",
        setting,
        seed,
        len(train_drugs),
        len(valid_drugs),
        len(test_drugs),
        _fmt_counts(split),
        unused,
    )
    return split


def _usable_interactions(tables: Tables) -> pd.DataFrame:
    pairs = tables.interactions
    return pairs[pairs["type"] != OTHER_TYPE][["drug1_id", "drug2_id", "type"]].reset_index(drop=True)


def _pair_key(pairs: pd.DataFrame, codes: dict[str, int] | None = None) -> pd.Series:
    """Integer key of each row's unordered drug pair (integers: string keys are slow on large splits)."""
    if codes is None:
        codes = _drug_codes(pairs)
    a = pairs["drug1_id"].map(codes).to_numpy(dtype=np.int64)
    b = pairs["drug2_id"].map(codes).to_numpy(dtype=np.int64)
    return pd.Series(np.minimum(a, b) * len(codes) + np.maximum(a, b), index=pairs.index)


def _drug_codes(*parts: pd.DataFrame) -> dict[str, int]:
    """One integer per drug of the given pair tables, for ``_pair_key`` keys that agree across them."""
    every = pd.concat([p[["drug1_id", "drug2_id"]] for p in parts])
    return {d: i for i, d in enumerate(pd.unique(every.to_numpy().ravel()))}


def pairs_in(part: pd.DataFrame, other: pd.DataFrame) -> int:
    """How many rows of ``part`` name a drug pair (in either order) that ``other`` also has."""
    if part.empty or other.empty:
        return 0
    codes = _drug_codes(part, other)
    return int(np.isin(_pair_key(part, codes).to_numpy(), _pair_key(other, codes).to_numpy()).sum())


def _check_no_pair_overlap(split: Split) -> None:
    """Warn when a valid/test row repeats a training row (the model would see its label) or a test row repeats a
    validation row (the model would be chosen on the rows it is tested on)."""
    parts = split.parts()
    codes = _drug_codes(*parts.values())
    # Types by their rank among the types present, not by their id: a user's ids can be as large as they like,
    # and key * (largest id + 1) would overflow.
    types = {part: df["type"].to_numpy(dtype=np.int64) for part, df in parts.items()}
    present = np.unique(np.concatenate(list(types.values())))
    keys = {part: _pair_key(df, codes).to_numpy() for part, df in parts.items()}
    rows = {part: keys[part] * len(present) + np.searchsorted(present, types[part]) for part in parts}
    for seen, part, harm in (
        ("train", "valid", "label leak"),
        ("train", "test", "label leak"),
        ("valid", "test", "the model is chosen on rows it is tested on"),
    ):
        seen_as = "training" if seen == "train" else "validation"
        same = int(np.isin(rows[part], rows[seen]).sum())
        if same:
            log.warning("split %s: %d %s row(s) repeat a %s row (%s)", split.name, same, part, seen_as, harm)
        other = int(np.isin(keys[part], keys[seen]).sum()) - same
        if other:
            log.info(
                "split %s: %d %s pair(s) also appear in %s with another type (kept: a pair may be listed once per "
                "direction, as in DrugBank)",
                split.name,
                other,
                part,
                seen,
            )


def _log_new_drug_pairs(split: Split) -> None:
    """Say how many valid/test pairs name a drug that no training pair has: they test new drugs (as S1/S2 do),
    which a split meant to test known drugs should not hold."""
    seen = pd.unique(split.train[["drug1_id", "drug2_id"]].to_numpy().ravel())
    for part in ("valid", "test"):
        df = split.parts()[part]
        absent = (~df["drug1_id"].isin(seen)).astype(int) + (~df["drug2_id"].isin(seen)).astype(int)
        if (absent > 0).any():
            log.info(
                "split %s: %d %s pair(s) name a drug absent from every training pair (%d with both drugs absent): "
                "they test new drugs, as S1/S2 do",
                split.name,
                int((absent > 0).sum()),
                part,
                int((absent == 2).sum()),
            )


def _fmt_counts(split: Split) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in split.counts().items())
