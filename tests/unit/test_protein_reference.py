"""ddi's reference names of drug-handling proteins: checked against DrugBank's own gene ids, and filling only
what a data source leaves unnamed."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from ddi.data.benchmark import read_tsv
from ddi.data.protein_reference import REFERENCE_PROTEINS, complete_protein_names


def test_reference_agrees_with_drugbank_gene_ids(data_dir):
    # DrugBank gives the NCBI gene id beside the accession in every relation: an accession mapped to the wrong
    # gene in the reference would disagree here.
    relations = read_tsv(data_dir / "drug_protein.tsv", ("uniprot_id", "entrez_gene_id"))
    gene_id = relations.drop_duplicates("uniprot_id").set_index("uniprot_id")["entrez_gene_id"]
    checked = [p for p in REFERENCE_PROTEINS if p in gene_id.index]
    assert len(checked) >= 50
    wrong = {
        p: (REFERENCE_PROTEINS[p].entrez_gene_id, gene_id[p])
        for p in checked
        if gene_id[p] != REFERENCE_PROTEINS[p].entrez_gene_id
    }
    assert not wrong


def test_reference_gene_symbols_are_distinct_and_cyps_look_like_cyps():
    genes = [p.gene for p in REFERENCE_PROTEINS.values()]
    assert len(set(genes)) == len(genes)
    assert REFERENCE_PROTEINS["P33261"].gene == "CYP2C19"
    assert all(p.name.startswith("Cytochrome P450") for p in REFERENCE_PROTEINS.values() if p.gene.startswith("CYP2C"))


def test_fills_only_what_the_data_leaves_unnamed(caplog):
    proteins = pd.DataFrame(
        {
            "uniprot_id": ["P08684", "P24462", "P02768"],
            "protein_name": ["Cytochrome P450 3A4", "", "Albumin as the data names it"],
            "gene_name": ["CYP3A4", "", ""],
            "species": ["Human", "Human", "Human"],
        }
    )
    relations = pd.DataFrame({"drugbank_id": ["DB1", "DB2", "DB3"], "uniprot_id": ["P08684", "P33261", "Q00000"]})
    with caplog.at_level(logging.INFO, logger="ddi.data.protein_reference"):
        out = complete_protein_names(proteins, relations).set_index("uniprot_id")
    assert out.loc["P08684", "gene_name"] == "CYP3A4"
    assert out.loc["P02768", "protein_name"] == "Albumin as the data names it"  # the data's name wins
    assert out.loc["P02768", "gene_name"] == ""
    assert out.loc["P24462", "gene_name"] == "CYP3A7"  # a row with no name at all is filled
    assert out.loc["P33261", ["protein_name", "gene_name", "species"]].tolist() == [
        "Cytochrome P450 2C19", "CYP2C19", "Human"
    ]  # fmt: skip
    assert "Q00000" not in out.index  # unknown to the reference: stays a bare accession, no invented row
    assert list(out.columns) == list(proteins.columns[1:])
    assert (
        "named 2 protein(s)" in caplog.text
        and "1 protein(s) used by drug-protein relations stay unnamed" in caplog.text
    )


@pytest.mark.parametrize("proteins", [pd.DataFrame(columns=["uniprot_id"]), pd.DataFrame({"uniprot_id": ["P33261"]})])
def test_tables_without_name_columns(proteins):
    out = complete_protein_names(proteins, pd.DataFrame({"uniprot_id": ["P33261"]}))
    assert out.set_index("uniprot_id").loc["P33261", "gene_name"] == "CYP2C19"
