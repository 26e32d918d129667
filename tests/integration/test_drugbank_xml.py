"""Importing DrugBank XML exports: the real 4.2 excerpt, a hand-made 5.x export, and hostile files."""

from __future__ import annotations

import gzip
import socket
import time
import tracemalloc
import zipfile
from dataclasses import replace
from pathlib import Path
from xml.etree.ElementTree import fromstring

import pandas as pd
import pytest

from ddi.data.benchmark import read_tsv
from ddi.data.drugbank_record import parse_drug
from ddi.data.drugbank_xml import DrugBankXmlReader, XmlImportError, import_drugbank_xml
from ddi.data.tables import OTHER_TYPE

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "xml"
DRUGBANK_5 = FIXTURES / "drugbank_5_small.xml"
SIMVASTATIN, CLARITHROMYCIN, RIFAMPICIN, WARFARIN, TRANILAST = (
    "DB00641",
    "DB01211",
    "DB01045",
    "DB00682",
    "DB07615",
)


@pytest.fixture(scope="module")
def excerpt_4_2(data_dir: Path):
    return import_drugbank_xml(data_dir / "drugbank_xml" / "subset_drugbank_4.2.xml", progress=False)


@pytest.fixture(scope="module")
def export_5(data_dir: Path):
    return import_drugbank_xml(DRUGBANK_5, data_dir / "interaction_types.tsv", progress=False)


def rows(df: pd.DataFrame, columns: list[str]) -> list[tuple]:
    return [tuple(r) for r in df[columns].itertuples(index=False)]


# --- the real DrugBank 4.2 excerpt (no <drugbank> opening tag, no namespace) ---------------------------


def test_excerpt_reads_all_ten_drugs_and_eighteen_listings(excerpt_4_2) -> None:
    tables, stats = excerpt_4_2
    assert stats.drugs_read == 10
    assert len(tables.drugs) == 10
    assert stats.listings_read == 18
    # Its 4.2-era descriptions are free text, and every partner lies outside the ten drugs.
    assert stats.listings_unmatched == 18
    assert stats.listings_partner_not_in_export == 18
    assert tables.interactions.empty
    assert len(tables.interaction_types) == 86


def test_excerpt_structures_are_taken_from_calculated_properties(excerpt_4_2) -> None:
    drugs = excerpt_4_2[0].drugs.set_index("drugbank_id")
    with_smiles = set(drugs.index[drugs["smiles"] != ""])
    assert with_smiles == {"DB09018", "DB09019", "DB09020", "DB09022", "DB09023", "DB09028"}
    assert set(drugs.index[drugs["inchi"] != ""]) == with_smiles
    bromopride = drugs.loc["DB09018"]
    assert bromopride["name"] == "Bromopride"
    assert bromopride["smiles"] == "CCN(CC)CCN=C(O)C1=C(OC)C=C(N)C(Br)=C1"
    assert bromopride["inchi"].startswith("InChI=1S/C14H22BrN3O2/")
    assert bromopride["inchikey"] == "InChIKey=GIYAQDDTCWHPPL-UHFFFAOYSA-N"
    # 4.x international brands are element text; they join the synonyms.
    assert "Bromoprida" in bromopride["synonyms"].split(" | ")
    assert "Digesan" in bromopride["synonyms"].split(" | ")
    assert drugs.loc["DB09024", "type"] == "biotech"
    assert drugs.loc["DB09026", "groups"] == "approved|investigational"


def test_excerpt_targets_agree_with_the_shared_drug_protein_table(excerpt_4_2, data_dir: Path) -> None:
    """Both come from DrugBank 4.2: the importer must find the same targets, actions and references."""
    tables = excerpt_4_2[0]
    shared = read_tsv(data_dir / "drug_protein.tsv")
    shared = shared[shared["drugbank_id"].isin(tables.drugs["drugbank_id"])]
    columns = ["drugbank_id", "category", "uniprot_id", "known_action", "actions"]
    assert set(rows(tables.drug_protein, columns)) == set(rows(shared, columns))
    assert len(tables.drug_protein) == 6
    pubmed = dict(zip(tables.drug_protein["uniprot_id"], tables.drug_protein["pubmed_ids"], strict=True))
    assert set(pubmed["P43681"].split("|")) == {"25517706", "11553677"}
    proteins = tables.proteins.set_index("uniprot_id")
    assert proteins.loc["P14416", "gene_name"] == "DRD2"
    assert proteins.loc["P14416", "protein_name"] == "D(2) dopamine receptor"


# --- a hand-made DrugBank 5.1 export (namespace, <drugbank> root) ------------------------------------


def test_5x_interactions_are_mapped_oriented_and_deduplicated(export_5) -> None:
    tables, stats = export_5
    assert rows(tables.interactions, ["drug1_id", "drug2_id", "type"]) == [
        (SIMVASTATIN, CLARITHROMYCIN, 73),  # subject 2, listed under simvastatin (#Drug2) first
        (RIFAMPICIN, SIMVASTATIN, 4),  # subject 1
        (WARFARIN, SIMVASTATIN, 6),  # subject 2, record drug at #Drug1
        (TRANILAST, SIMVASTATIN, 49),  # symmetric, #Drug1 first
        (WARFARIN, CLARITHROMYCIN, 47),
        (RIFAMPICIN, CLARITHROMYCIN, 77),  # #Drug2 twice in the template
        (TRANILAST, CLARITHROMYCIN, 47),  # a name full of regex characters
        (RIFAMPICIN, WARFARIN, 4),
        (RIFAMPICIN, TRANILAST, 75),
        (WARFARIN, RIFAMPICIN, OTHER_TYPE),  # matches no template: kept, record drug first
        (WARFARIN, TRANILAST, 49),  # listed in both orders, kept once
    ]
    assert stats.listings_read == 21
    assert stats.listings_matched == 20
    assert stats.listings_unmatched == 1
    assert stats.unmatched_examples == [
        "Rifampicin can cause a decrease in the absorption of Warfarin resulting in a reduced serum concentration."
    ]
    assert stats.listings_partner_not_in_export == 1
    assert stats.partners_not_in_export_examples == ["DB01118 (Amiodarone)"]
    assert stats.listings_repeated == 9
    assert stats.interactions_by_type == {0: 1, 4: 2, 6: 1, 47: 2, 49: 2, 73: 1, 75: 1, 77: 1}
    assert stats.pairs_with_several_types == 1


def test_5x_typed_interactions_reproduce_the_benchmark_pairs(export_5, data_dir: Path) -> None:
    """The fixture's sentences are DrugBank's wording of the benchmark's own rows for these five drugs."""
    tables = export_5[0]
    ids = set(tables.drugs["drugbank_id"])
    benchmark = read_tsv(data_dir / "ddi.tsv")
    benchmark = benchmark[benchmark["drug1_id"].isin(ids) & benchmark["drug2_id"].isin(ids)]
    symmetric = set(tables.interaction_types.loc[tables.interaction_types["subject"] == 3, "type"])

    def comparable(df: pd.DataFrame) -> set[tuple]:
        # Either order of a symmetric type is correct (README); directed types must match exactly.
        out = set()
        for d1, d2, t in rows(df, ["drug1_id", "drug2_id", "type"]):
            t = int(t)
            out.add((*sorted((d1, d2)), t) if t in symmetric else (d1, d2, t))
        return out

    typed = tables.interactions[tables.interactions["type"] != OTHER_TYPE]
    assert len(benchmark) == 10
    assert comparable(typed) == comparable(benchmark)


def test_5x_drug_fields(export_5) -> None:
    tables, stats = export_5
    drugs = tables.drugs.set_index("drugbank_id")
    # Secondary ids (APRD...) and salt ids (DBSALT...) never become drugs; nor does a pathway's <drug>.
    assert list(drugs.index) == [SIMVASTATIN, CLARITHROMYCIN, RIFAMPICIN, WARFARIN, TRANILAST]
    assert stats.drugs_read == 5
    simvastatin = drugs.loc[SIMVASTATIN]
    assert simvastatin["name"] == "Simvastatin"
    assert simvastatin["type"] == "small molecule"
    assert simvastatin["groups"] == "approved"
    assert simvastatin["atc_codes"] == "C10AA01"
    assert simvastatin["categories"].split("|") == [
        "Anticholesteremic Agents",
        "Hydroxymethylglutaryl-CoA Reductase Inhibitors",
    ]
    # 5.x international brands sit in <name>; the product names Zocor and Simvastatin are already known, and the
    # fixture's combination pack, listed under simvastatin and clarithromycin, names neither alone.
    assert simvastatin["synonyms"] == "Simvastatin | Simvastatina | Simvastatinum | Zocor"
    assert simvastatin["inchikey"] == "RYMZZMVNJRMUDD-HGQWONQESA-N"
    assert simvastatin["inchi"].startswith("InChI=1S/C25H38O5/")
    assert drugs.loc[TRANILAST, "smiles"] == "COC1=CC=C(\\C=C\\C(=O)NC2=CC=CC=C2C(O)=O)C=C1OC"
    assert drugs.loc[TRANILAST, "inchi"] == ""
    assert drugs.loc[TRANILAST, "synonyms"] == ""


def test_5x_brand_names_of_single_drug_products_become_synonyms(export_5) -> None:
    """A brand a user types ("Coumadin") must resolve after an import: product names one drug alone lists are
    added to its synonyms; a name listed under several drugs (a combination product) is not."""
    tables, stats = export_5
    synonyms = tables.drugs.set_index("drugbank_id")["synonyms"].str.split(" | ", regex=False)
    assert synonyms[WARFARIN][-1] == "Coumadin"
    assert synonyms[RIFAMPICIN][-1] == "Rifadin"
    assert synonyms[CLARITHROMYCIN][-2:] == ["Klacid", "Biaxin"]
    assert not any("Fixture Combination Pack" in names for names in synonyms)
    # a product named like another drug would make that drug's name ambiguous
    assert "WARFARIN" not in synonyms[RIFAMPICIN]
    assert (stats.product_names_added, stats.product_names_shared) == (3, 1)
    assert "product names: 3 added as synonyms, 1 listed under several drugs" in str(stats)


def test_5x_targets_enzymes_transporters_and_carriers(export_5) -> None:
    tables, stats = export_5
    columns = ["drugbank_id", "category", "uniprot_id", "known_action", "actions"]
    assert rows(tables.drug_protein, columns) == [
        (SIMVASTATIN, "target", "P04035", "yes", "inhibitor"),
        (SIMVASTATIN, "enzyme", "P08684", "no", "substrate"),
        (SIMVASTATIN, "transporter", "Q9Y6L6", "no", "substrate|inhibitor"),
        (CLARITHROMYCIN, "enzyme", "P08684", "unknown", "inhibitor"),
        (CLARITHROMYCIN, "transporter", "P08183", "unknown", "inhibitor"),
        (RIFAMPICIN, "target", "P0A8V2", "yes", "inhibitor"),
        (RIFAMPICIN, "enzyme", "P08684", "no", "inducer"),
        (WARFARIN, "target", "Q9BQB6", "yes", "inhibitor"),
        (WARFARIN, "enzyme", "P11712", "no", "substrate"),
        (WARFARIN, "carrier", "P02768", "no", ""),
    ]
    # The 23S rRNA target of clarithromycin has no polypeptide, hence no UniProt id.
    assert stats.interactants_without_uniprot == 1
    assert tables.drug_protein.set_index("uniprot_id").loc["P04035", "pubmed_ids"] == "10493775"
    proteins = tables.proteins.set_index("uniprot_id")
    assert len(proteins) == 8
    assert proteins.loc["P08684", "gene_name"] == "CYP3A4"
    assert proteins.loc["P0A8V2", "species"] == "Escherichia coli (strain K12)"


def test_stats_summary_names_the_counts(export_5) -> None:
    text = str(export_5[1])
    assert "DrugBank 5.1" in text
    assert "21 read" in text
    assert "1 other (type 0)" in text
    assert "DB01118 (Amiodarone)" in text


def test_rootless_run_of_drugs_without_a_closing_tag_is_wrapped() -> None:
    tables, stats = import_drugbank_xml(FIXTURES / "rootless_drugs.xml", progress=False)
    assert stats.drugs_read == 2
    assert rows(tables.interactions, ["drug1_id", "drug2_id", "type"]) == [(SIMVASTATIN, CLARITHROMYCIN, 73)]


def test_parse_drug_reads_older_shapes_and_falls_back_to_experimental_properties() -> None:
    drug = parse_drug(
        fromstring(
            """<drug type="small molecule">
              <drugbank-id>APRD00001</drugbank-id>
              <drugbank-id primary="true">DB00001</drugbank-id>
              <name>Example</name>
              <international-brands><international-brand company="X">Brandy</international-brand>
              </international-brands>
              <drug-interactions><drug-interaction>
                <drug>DB00002</drug><name>Other</name><description>Free text.</description>
              </drug-interaction></drug-interactions>
              <calculated-properties/>
              <experimental-properties><property>
                <kind>InChI</kind><value>InChI=1S/CH4/h1H4</value><source/>
              </property></experimental-properties>
            </drug>"""
        )
    )
    assert drug.drugbank_id == "DB00001"
    assert drug.synonyms == ("Brandy",)
    assert drug.inchi == "InChI=1S/CH4/h1H4"
    assert drug.smiles == ""
    assert [(i.partner_id, i.partner_name) for i in drug.interactions] == [("DB00002", "Other")]


# --- hostile and broken files ---------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("the XML importer tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("name", ["xxe_local_file.xml", "xxe_remote_dtd.xml", "billion_laughs.xml"])
@pytest.mark.usefixtures("no_network")
def test_hostile_files_are_refused_quickly_and_without_expanding(name: str) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        refused = r"line 2: refusing a document type declaration \(DTD\)"
        with pytest.raises(XmlImportError, match=refused) as err:
            import_drugbank_xml(FIXTURES / name, progress=False)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 5
    assert peak < 20 * 2**20
    assert "root:" not in str(err.value)  # nothing of /etc/passwd leaks into the message


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("truncated.xml", r"not well-formed XML at line 18, column 0: .* is it truncated\?"),
        ("not_xml.xml", r"not well-formed XML at line 1, column 0: syntax error"),
        ("empty.xml", "the file is empty"),
        ("missing.xml", "file not found"),
    ],
)
def test_broken_files_raise_an_error_naming_the_problem(name: str, message: str) -> None:
    with pytest.raises(XmlImportError, match=message) as err:
        import_drugbank_xml(FIXTURES / name, progress=False)
    assert name in str(err.value)


@pytest.mark.parametrize("cut", [0.25, 0.5, 0.9])
def test_an_export_without_a_root_cut_short_is_called_truncated(tmp_path: Path, data_dir: Path, cut: float) -> None:
    # The shared 4.2 excerpt has no opening root tag: the importer closes a synthetic one, which must not hide
    # that the download stopped in the middle of a record.
    whole = (data_dir / "drugbank_xml" / "subset_drugbank_4.2.xml").read_bytes()
    cut_short = tmp_path / "cut.xml"
    cut_short.write_bytes(whole[: int(len(whole) * cut)])
    with pytest.raises(XmlImportError, match=r"not well-formed XML at line \d+, .* is it truncated\?"):
        import_drugbank_xml(cut_short, progress=False)


#: A run of two records without a root; the last one has multi-byte characters to cut through.
ROOTLESS_RUN = (
    '<drug type="a"><name>A</name></drug>\n<drug type="b"><drugbank-id>DB2</drugbank-id><name>Ünïcödé</name></drug>\n'
)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not XML\nat all\n", "line 1, column 0: syntax error"),
        (DRUGBANK_5.read_bytes() + b"<junk/>\n", "junk after document element"),
        (ROOTLESS_RUN.replace("A</name>", "A</nme>").encode(), "mismatched tag"),
    ],
    ids=["not-xml", "junk-after-root", "rootless-malformed-inside"],
)
def test_a_malformed_file_that_is_complete_is_not_called_truncated(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "export.xml"
    path.write_bytes(content)
    with pytest.raises(XmlImportError, match=message) as err:
        import_drugbank_xml(path, progress=False)
    assert "truncated" not in str(err.value)


def test_an_empty_zip_archive_is_named_as_an_archive(tmp_path: Path) -> None:
    empty = tmp_path / "export.zip"
    zipfile.ZipFile(empty, "w").close()
    with pytest.raises(XmlImportError, match=r"exactly one \.xml file .* it holds 0 \(none; it holds nothing\)"):
        import_drugbank_xml(empty, progress=False)


@pytest.mark.parametrize("kind", ["rooted", "rootless"])
def test_a_file_cut_anywhere_inside_a_record_is_called_truncated(tmp_path: Path, kind: str) -> None:
    """Wherever a download stops (in a tag, a name, a multi-byte character), the error says so."""
    whole = (DRUGBANK_5.read_text() if kind == "rooted" else ROOTLESS_RUN).encode()
    path = tmp_path / "cut.xml"
    inside = whole.rindex(b"<drug type=") + 1, whole.rindex(b"</drug>")  # ends inside the last record
    for cut in range(*inside, max(1, (inside[1] - inside[0]) // 97)):
        path.write_bytes(whole[:cut])
        with pytest.raises(XmlImportError, match=r"not well-formed XML at line \d+, .* is it truncated\?"):
            import_drugbank_xml(path, progress=False)


def _tables_equal(a, b) -> None:
    for name in ("drugs", "interactions", "drug_protein", "proteins"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


@pytest.mark.parametrize("packing", ["zip", "gzip", "zip of a rootless excerpt"])
def test_a_zipped_or_gzipped_export_is_read_as_it_is(
    tmp_path: Path, data_dir: Path, export_5, excerpt_4_2, packing: str
) -> None:
    """DrugBank distributes its exports zipped: the archive imports the same as the extracted XML."""
    types = data_dir / "interaction_types.tsv"
    if packing == "gzip":
        archive = tmp_path / "full database.xml.gz"
        archive.write_bytes(gzip.compress(DRUGBANK_5.read_bytes()))
        expected = export_5
    else:
        archive = tmp_path / "drugbank_all_full_database.xml.zip"
        rootless = packing == "zip of a rootless excerpt"
        source = data_dir / "drugbank_xml" / "subset_drugbank_4.2.xml" if rootless else DRUGBANK_5
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("__MACOSX/._full database.xml", b"resource fork")  # what a Mac's zip adds
            zf.write(source, "full database.xml")
        expected = excerpt_4_2 if rootless else export_5
    tables, stats = import_drugbank_xml(archive, types if expected is export_5 else None, progress=False)
    _tables_equal(tables, expected[0])
    assert stats.source == str(archive)
    assert replace(stats, source=expected[1].source) == expected[1]


def test_an_archive_that_is_not_one_export_is_refused_with_what_it_holds(tmp_path: Path) -> None:
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as zf:
        zf.write(DRUGBANK_5, "a.xml")
        zf.write(DRUGBANK_5, "b.xml")
    with pytest.raises(XmlImportError, match=r"exactly one \.xml file .* it holds 2 \(a\.xml, b\.xml\)"):
        import_drugbank_xml(two, progress=False)
    none = tmp_path / "none.zip"
    with zipfile.ZipFile(none, "w") as zf:
        zf.writestr("drug links.csv", "DrugBank ID,Name\n")
    with pytest.raises(XmlImportError, match=r"it holds 0 \(none; it holds drug links\.csv\)"):
        import_drugbank_xml(none, progress=False)


@pytest.mark.parametrize("packing", ["zip", "gzip"])
def test_a_damaged_archive_is_named_as_such(tmp_path: Path, packing: str) -> None:
    """A download cut short or corrupted ends with one clear message, not a decompression traceback."""
    whole = DRUGBANK_5.read_bytes() * 1  # deflate data long enough to cut in the middle
    if packing == "gzip":
        data = gzip.compress(whole)
        damaged = tmp_path / "export.xml.gz"
        damaged.write_bytes(data[: len(data) // 2])
        message = "the archive is damaged"
    else:
        buffer = tmp_path / "whole.zip"
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("full database.xml", whole)
        data = bytearray(buffer.read_bytes())
        data[len(data) // 2] ^= 0xFF  # one flipped byte in the compressed XML
        damaged = tmp_path / "export.zip"
        damaged.write_bytes(bytes(data))
        message = "the archive is damaged|not well-formed XML"
    with pytest.raises(XmlImportError, match=message) as err:
        import_drugbank_xml(damaged, progress=False)
    assert damaged.name in str(err.value)
    cut = tmp_path / "cut.zip"
    cut.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    with pytest.raises(XmlImportError, match="not a readable zip archive"):
        import_drugbank_xml(cut, progress=False)


def test_xml_that_is_not_drugbank_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "page.xml"
    other.write_text("<html><body><p>hello</p></body></html>")
    with pytest.raises(XmlImportError, match="no <drug> record"):
        import_drugbank_xml(other, progress=False)


def test_memory_stays_flat_however_many_drugs(tmp_path: Path) -> None:
    """Records are freed once read: peak memory must stay far below the file size."""
    padding = "x" * 20_000
    record = (
        '<drug type="small molecule"><drugbank-id primary="true">DB{:05d}</drugbank-id><name>Drug {}</name>'
        f"<description>{padding}</description>"
        "<pathways><pathway><drugs><drug><drugbank-id>DB99999</drugbank-id><name>Nested</name></drug>"
        "</drugs></pathway></pathways></drug>\n"
    )
    big = tmp_path / "big.xml"
    with big.open("w") as out:
        out.write('<drugbank xmlns="http://www.drugbank.ca" version="5.1">\n')
        for i in range(300):
            out.write(record.format(i, i))
        out.write("</drugbank>\n")
    size = big.stat().st_size
    tracemalloc.start()
    try:
        ids = [record.drugbank_id for record in DrugBankXmlReader(big, progress=False)]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert ids == [f"DB{i:05d}" for i in range(300)]
    assert size > 5 * 2**20
    assert peak < size / 10
