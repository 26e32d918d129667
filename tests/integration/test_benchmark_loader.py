"""Loading the benchmark TSV layout: the real DrugBank benchmark, a hand-made layout, and malformed ones."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

from ddi.data import location
from ddi.data.benchmark import (
    ALL_DRUGS_FILE,
    LAYOUT_FILES,
    DataFormatError,
    load_benchmark,
    read_tsv,
    write_benchmark_layout,
)
from ddi.data.location import DATA_DIR_ENV, DataDirError, resolve_data_dir
from ddi.data.tables import SCHEMAS, Tables
from ddi.errors import UserInputError

LAYOUT = Path(__file__).resolve().parents[1] / "fixtures" / "tables" / "layout"


def copy_layout(tmp_path: Path) -> Path:
    out = tmp_path / "layout"
    shutil.copytree(LAYOUT, out)
    return out


# --- the real benchmark ---------------------------------------------------------------------------------------


def test_real_benchmark_counts(benchmark_tables: Tables) -> None:
    counts = benchmark_tables.counts()
    assert counts["drugs"] == 1710
    assert counts["interaction_types"] == 86
    assert counts["interactions"] == 192_284
    # proteins.tsv's 4,041 rows, and 89 proteins its relations use that it lacks, named from ddi's reference
    assert counts["proteins"] == 4041 + 89
    assert benchmark_tables.interaction_types["type"].tolist() == list(range(1, 87))
    assert set(benchmark_tables.interactions["type"]) == set(range(1, 87))


def test_real_benchmark_loads_well_under_a_minute_and_drops_no_interaction(data_dir: Path) -> None:
    start = time.perf_counter()
    tables, report = load_benchmark(data_dir)
    assert time.perf_counter() - start < 20
    assert tables.source == str(data_dir)
    for table in ("drugs", "interaction_types", "interactions", "proteins"):
        assert report.dropped(table) == 0, str(report)
    # Rows repeated because one UniProt id maps to several Entrez genes: dropped, and said so.
    assert {r.reason for r in report.records if r.table == "drug_protein"} == {"repeating a relation"}
    assert (
        len(tables.drug_protein) + report.dropped("drug_protein")
        == len(read_tsv(data_dir / "drug_protein.tsv"))
        == 19_906
    )


def test_real_benchmark_tables_are_typed(benchmark_tables: Tables) -> None:
    for name, schema in SCHEMAS.items():
        df = getattr(benchmark_tables, name)
        assert list(df.columns) == list(schema), name
        assert not df.isna().any().any(), name
        for col, kind in schema.items():
            assert (df[col].dtype == "int64") == (kind == "int"), (name, col)
    assert benchmark_tables.drugs["drugbank_id"].is_unique
    assert set(benchmark_tables.drug_protein["category"]) == {"target", "enzyme", "transporter", "carrier"}


def test_drug_without_smiles_gets_its_inchi_from_the_catalogue(benchmark_tables: Tables, data_dir: Path) -> None:
    raw = read_tsv(data_dir / "drugs.tsv")
    catalogue = read_tsv(data_dir / ALL_DRUGS_FILE).set_index("drugbank_id")["inchi"]
    no_smiles = raw.loc[raw["smiles"] == "", "drugbank_id"]
    with_inchi = [d for d in no_smiles if catalogue.get(d, "") != ""]
    assert "DB00526" in with_inchi  # oxaliplatin: no SMILES in drugs.tsv, an InChI in the catalogue

    drugs = benchmark_tables.drugs.set_index("drugbank_id")
    for drug in with_inchi:
        assert drugs.loc[drug, "smiles"] == ""
        assert drugs.loc[drug, "inchi"] == catalogue[drug]
    assert drugs.loc["DB00526", "inchi"].startswith("InChI=1S/C6H12N2.C2H2O4.Pt/")
    # Drugs with a SMILES get their catalogue InChI too.
    assert drugs.loc["DB00252", "inchi"] == catalogue["DB00252"] != ""


def test_quoted_fields_with_a_tab_inside_parse(benchmark_tables: Tables, data_dir: Path) -> None:
    drugs = benchmark_tables.drugs.set_index("drugbank_id")
    phenytoin = drugs.loc["DB00252"]
    assert phenytoin["name"] == "Phenytoin"
    assert phenytoin["smiles"] == "O=C1NC(=O)C(N1)(C1=CC=CC=C1)C1=CC=CC=C1"
    assert phenytoin["inchikey"] == "InChIKey=CXOFVDLJLONNDW-UHFFFAOYSA-N"
    assert phenytoin["atc_codes"] == "N03AB02|N03AB04|N03AB05"
    assert "5,5-diphenyltetrahydro-1H-2,4-imidazoledione\t | 5,5-Diphenyltetrahydro" in phenytoin["synonyms"]
    assert phenytoin["synonyms"].startswith("5,5-Diphenyl-imidazolidine-2,4-dione | ")
    assert phenytoin["synonyms"].endswith("Phenytoinum")
    # Every quoted row of drugs.tsv keeps its columns in place: ids, names and SMILES never hold a tab.
    quoted = [line.split("\t", 1)[0] for line in (data_dir / "drugs.tsv").read_text().splitlines() if '"' in line]
    assert "DB00252" in quoted
    assert len(quoted) == 3
    for drug in quoted:
        synonyms = drugs.loc[drug, "synonyms"]
        assert "\t" in synonyms and '"' not in synonyms, drug
        assert drugs.loc[drug, "name"].lower() in synonyms.lower(), drug
    for col in ("drugbank_id", "name", "smiles", "type"):
        assert not benchmark_tables.drugs[col].str.contains("\t").any(), col


def test_drugs_without_any_structure_are_kept_and_reported(data_dir: Path) -> None:
    tables, report = load_benchmark(data_dir)
    drugs = tables.drugs
    unstructured = drugs.loc[(drugs["smiles"] == "") & (drugs["inchi"] == ""), "drugbank_id"].tolist()
    assert len(unstructured) == 5
    assert "DB00526" not in unstructured
    note = next(n for n in report.notes if "have no SMILES or InChI" in n)
    assert note.startswith("drugs: 5 drug(s)")
    assert all(d in note for d in unstructured)


def test_a_drug_the_data_leaves_unnamed_is_named_by_its_id(benchmark_tables: Tables) -> None:
    names = dict(zip(benchmark_tables.drugs["drugbank_id"], benchmark_tables.drugs["name"], strict=True))
    assert names["DB09162"] == "DB09162", "drugs.tsv and the catalogues give it no name"
    assert names["DB00641"] == "Simvastatin"
    assert all(str(n).strip() for n in names.values())


# --- a hand-made layout ---------------------------------------------------------------------------------------


def test_small_layout_loads_with_catalogue_inchi_and_quoted_synonyms() -> None:
    tables, report = load_benchmark(LAYOUT)
    assert tables.counts() == {
        "drugs": 6,
        "interaction_types": 3,
        "interactions": 7,
        "drug_protein": 3,
        "proteins": 2,
    }
    drugs = tables.drugs.set_index("drugbank_id")
    assert drugs.loc["DB00004", "synonyms"] == "Deltic acid\t | Vinegar acid"
    assert drugs.loc["DB00005", "inchi"] == "InChI=1S/CH4/h1H4"
    assert drugs.loc["DB00006", "inchi"] == ""
    assert tables.drug_protein["actions"].tolist() == ["inhibitor|substrate", "substrate", ""]
    assert tables.drug_protein["category"].tolist() == ["enzyme", "enzyme", "transporter"]
    assert tables.drug_protein["entrez_gene_id"].tolist() == ["1576", "1576", "05243"]
    assert report.dropped() == 0
    assert report.notes == ["drugs: 1 drug(s) have no SMILES or InChI (kept; they get no molecule graph): DB00006"]


def test_optional_files_may_be_missing(tmp_path: Path) -> None:
    root = copy_layout(tmp_path)
    for name in ("drug_protein.tsv", "proteins.tsv", ALL_DRUGS_FILE):
        (root / name).unlink()
    tables, _ = load_benchmark(root)
    assert tables.counts() == {
        "drugs": 6,
        "interaction_types": 3,
        "interactions": 7,
        "drug_protein": 0,
        "proteins": 0,
    }
    assert list(tables.drug_protein.columns) == list(SCHEMAS["drug_protein"])
    assert set(tables.drugs["inchi"]) == {""}  # no catalogue, no InChI


def test_an_inchi_column_in_drugs_tsv_wins_over_the_catalogue(tmp_path: Path) -> None:
    root = copy_layout(tmp_path)
    drugs = read_tsv(root / "drugs.tsv")
    drugs["inchi"] = ["", "", "", "", "InChI=1S/own", ""]
    drugs.to_csv(root / "drugs.tsv", sep="\t", index=False)
    tables, _ = load_benchmark(root)
    assert tables.drugs["inchi"].tolist() == ["", "", "", "", "InChI=1S/own", ""]


def test_bad_rows_in_a_layout_are_dropped_and_reported(tmp_path: Path) -> None:
    root = copy_layout(tmp_path)
    with (root / "ddi.tsv").open("a") as f:
        f.write("DB00002\tDB00001\t1\n")  # DB00001 DB00002 1, reversed
        f.write("DB00001\tDB00077\t1\n")  # unknown drug
        f.write("DB00003\tDB00003\t2\n")  # self pair
        f.write("DB00001\tDB00005\tfour\n")  # not an integer
    tables, report = load_benchmark(root)
    assert len(tables.interactions) == 7
    assert report.dropped("interactions") == 4
    assert {str(r) for r in report.records} == {
        "interactions: 1 row(s) with a missing or non-integer type (e.g. type='four')",
        "interactions: 1 row(s) naming a drug not in the drugs table (e.g. DB00077)",
        "interactions: 1 row(s) pairing a drug with itself (e.g. DB00003)",
        "interactions: 1 row(s) repeating a pair and type already listed (first kept) (e.g. DB00002)",
    }


# --- malformed layouts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("filename", ["drugs.tsv", "interaction_types.tsv", "ddi.tsv"])
def test_a_missing_required_file_is_a_data_format_error_naming_it(tmp_path: Path, filename: str) -> None:
    root = copy_layout(tmp_path)
    (root / filename).unlink()
    with pytest.raises(DataFormatError, match=re.escape(f"required file {filename} is missing")) as info:
        load_benchmark(root)
    assert isinstance(info.value, UserInputError)
    assert str(root) in str(info.value)


@pytest.mark.parametrize("filename", list(LAYOUT_FILES.values()))
@pytest.mark.parametrize(
    "content",
    [b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe binary", b"", b'drug\t"unterminated\n'],
    ids=["binary", "empty", "open-quote"],
)
def test_a_garbage_file_is_a_data_format_error_naming_it(tmp_path: Path, filename: str, content: bytes) -> None:
    root = copy_layout(tmp_path)
    (root / filename).write_bytes(content)
    with pytest.raises(DataFormatError) as info:
        load_benchmark(root)
    assert str(root / filename) in str(info.value)


@pytest.mark.parametrize(
    ("filename", "header", "missing"),
    [
        ("drugs.tsv", "id\tname\tsmiles", "drugbank_id"),
        ("ddi.tsv", "drug1_id\tdrug2\ttype", "drug2_id"),
        ("ddi.tsv", "drug_a\tdrug_b\tlabel", "drug1_id, drug2_id, type"),
        ("interaction_types.tsv", "id\ttemplate\tsubject", "type"),
        ("interaction_types.tsv", "type\tsentence\tsubject", "template"),
        ("drug_protein.tsv", "drug\tcategory\tuniprot_id", "drugbank_id"),
        ("proteins.tsv", "uniprot\tprotein_name", "uniprot_id"),
    ],
)
def test_missing_columns_are_a_data_format_error_naming_file_and_columns(
    tmp_path: Path, filename: str, header: str, missing: str
) -> None:
    root = copy_layout(tmp_path)
    path = root / filename
    lines = path.read_text().splitlines()
    path.write_text("\n".join([header, *lines[1:]]) + "\n")
    with pytest.raises(DataFormatError, match=re.escape(f"missing column(s) {missing};")) as info:
        load_benchmark(root)
    assert str(info.value).startswith(f"{path}:")


def test_a_directory_where_a_file_should_be_is_a_data_format_error(tmp_path: Path) -> None:
    path = tmp_path / "ddi.tsv"
    path.mkdir()
    with pytest.raises(DataFormatError, match=re.escape(f"{path}: cannot be read")):
        read_tsv(path)


# --- writing the layout ---------------------------------------------------------------------------------------


def test_write_then_load_round_trips_awkward_values(tmp_path: Path) -> None:
    raw = Tables(
        drugs=pd.DataFrame(
            {
                "drugbank_id": ["DB00001", "DB00002", "DB00003"],
                "name": ['5"-Quoted" name', "NA", "Ünïcode—drug"],
                "smiles": ["CCO", "", "C#N"],
                "inchi": ["", "InChI=1S/CH4/h1H4", ""],
                "synonyms": ["one\t | two", "null", "first line\nsecond line"],
                "groups": ["approved|investigational", "", "N/A"],
            }
        ),
        interaction_types=pd.DataFrame(
            {
                "type": [1, 7],
                "template": ['#Drug1 may increase #Drug2, "strongly".', "#Drug2\tlevels fall with #Drug1."],
                "subject": [1, 3],
                "deepddi_name": ["DDI type 1", ""],
            }
        ),
        interactions=pd.DataFrame(
            {
                "drug1_id": ["DB00001", "DB00003", "DB00002"],
                "drug2_id": ["DB00002", "DB00001", "DB00003"],
                "type": [1, 7, 1],
            }
        ),
        drug_protein=pd.DataFrame(
            {
                "drugbank_id": ["DB00001"],
                "category": ["enzyme"],
                "uniprot_id": ["P08684"],
                "entrez_gene_id": ["01576"],
                "actions": ["inhibitor|substrate"],
                "pubmed_ids": ["1|2"],
            }
        ),
        proteins=pd.DataFrame({"uniprot_id": ["P08684"], "protein_name": ['CYP3A4, "the" enzyme']}),
    )
    tables, report = raw.validated()
    assert report.dropped() == 0
    out = write_benchmark_layout(tables, tmp_path / "written" / "nested")
    assert sorted(p.name for p in out.iterdir()) == sorted(LAYOUT_FILES.values())

    loaded, loaded_report = load_benchmark(out)
    assert loaded_report.dropped() == 0
    assert loaded.source == str(out)
    for name in SCHEMAS:
        pd.testing.assert_frame_equal(getattr(loaded, name), getattr(tables, name), check_dtype=True, obj=name)


def test_write_then_load_round_trips_the_small_layout(tmp_path: Path) -> None:
    tables, _ = load_benchmark(LAYOUT)
    out = write_benchmark_layout(tables, tmp_path / "copy")
    loaded, _ = load_benchmark(out)
    for name in SCHEMAS:
        pd.testing.assert_frame_equal(getattr(loaded, name), getattr(tables, name), obj=name)


# --- where the data directory is ------------------------------------------------------------------------------


def test_an_explicit_data_dir_wins_over_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert resolve_data_dir(LAYOUT) == LAYOUT
    assert resolve_data_dir(str(LAYOUT)) == LAYOUT


def test_the_environment_variable_names_the_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(LAYOUT))
    assert resolve_data_dir() == LAYOUT
    tables, _ = load_benchmark()
    assert tables.source == str(LAYOUT)
    assert len(tables.drugs) == 6


def test_without_explicit_dir_or_environment_the_first_default_holding_ddi_tsv_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setattr(location, "_DEFAULT_CANDIDATES", (tmp_path / "absent", empty, LAYOUT))
    assert resolve_data_dir() == LAYOUT

    monkeypatch.setattr(location, "_DEFAULT_CANDIDATES", (tmp_path / "absent", empty))
    with pytest.raises(DataDirError) as info:
        resolve_data_dir()
    message = str(info.value)
    assert str(tmp_path / "absent") in message and str(empty) in message
    assert "--data-dir" in message and DATA_DIR_ENV in message


def test_an_empty_environment_variable_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, "")
    monkeypatch.setattr(location, "_DEFAULT_CANDIDATES", (LAYOUT,))
    assert resolve_data_dir() == LAYOUT


def test_a_missing_explicit_dir_is_a_clear_user_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(DataDirError, match=re.escape(f"data directory {missing} does not exist")) as info:
        resolve_data_dir(missing)
    assert isinstance(info.value, UserInputError)
    with pytest.raises(DataDirError, match="does not exist"):
        load_benchmark(missing)


def test_a_file_given_as_data_dir_is_a_clear_user_error() -> None:
    # it exists: "does not exist" would send the user looking in the wrong place
    with pytest.raises(DataDirError, match=re.escape(f"data directory {LAYOUT / 'ddi.tsv'} is not a directory")):
        resolve_data_dir(LAYOUT / "ddi.tsv")


def test_a_missing_environment_dir_is_a_clear_user_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "gone"))
    with pytest.raises(DataDirError, match=f"{DATA_DIR_ENV}=.*gone does not name a directory"):
        resolve_data_dir()
