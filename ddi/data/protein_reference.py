"""Names of well-known drug-handling proteins, by UniProt accession, for proteins a data source leaves unnamed.

A data directory's ``proteins.tsv`` may lack proteins that its drug-protein relations use: the shared benchmark
lacks 166, CYP2C19 and CYP3A7 among them. Without a gene name such a protein is shown as a bare accession in
every explanation, and the pharmacology rules (``ddi.kg.rules``), which recognise CYP enzymes by gene name, count
CYP2C19 as a non-CYP enzyme. ``complete_protein_names`` fills those gaps from ``REFERENCE_PROTEINS``: the
cytochrome P450, UGT, FMO and other drug-metabolising enzymes, the SLC and ABC drug transporters and the plasma
carriers that drug labels cite. Names in the data always win; the table only fills what is missing.

Each entry also records the protein's NCBI (Entrez) gene id, which DrugBank gives beside the accession in every
drug-protein relation, so a test can check the table against the data (``tests/unit/test_protein_reference.py``).
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import pandas as pd

log = logging.getLogger(__name__)


class ReferenceProtein(NamedTuple):
    """A human protein's gene symbol, recommended name and NCBI gene id."""

    gene: str
    name: str
    entrez_gene_id: str


_p = ReferenceProtein  # short, for the table below


REFERENCE_PROTEINS: dict[str, ReferenceProtein] = {
    # Cytochrome P450 enzymes (CYP3A7's DrugBank gene id is that of the CYP3A7-CYP3A51P read-through locus)
    "P33261": _p("CYP2C19", "Cytochrome P450 2C19", "1557"),
    "P24462": _p("CYP3A7", "Cytochrome P450 3A7", "100861540"),
    "P05181": _p("CYP2E1", "Cytochrome P450 2E1", "1571"),
    "Q9HB55": _p("CYP3A43", "Cytochrome P450 3A43", "64816"),
    "P51589": _p("CYP2J2", "Cytochrome P450 2J2", "1573"),
    "Q16696": _p("CYP2A13", "Cytochrome P450 2A13", "1553"),
    "O43174": _p("CYP26A1", "Cytochrome P450 26A1", "1592"),
    "Q02318": _p("CYP27A1", "Sterol 26-hydroxylase, mitochondrial", "1593"),
    "P13584": _p("CYP4B1", "Cytochrome P450 4B1", "1580"),
    "Q6VVX0": _p("CYP2R1", "Vitamin D 25-hydroxylase", "120227"),
    # UDP-glucuronosyltransferases, flavin monooxygenases, N-acetyltransferases, esterases
    "P22309": _p("UGT1A1", "UDP-glucuronosyltransferase 1A1", "54658"),
    "P35503": _p("UGT1A3", "UDP-glucuronosyltransferase 1A3", "54659"),
    "P22310": _p("UGT1A4", "UDP-glucuronosyltransferase 1A4", "54657"),
    "P19224": _p("UGT1A6", "UDP-glucuronosyltransferase 1A6", "54578"),
    "Q9HAW7": _p("UGT1A7", "UDP-glucuronosyltransferase 1A7", "54577"),
    "Q9HAW9": _p("UGT1A8", "UDP-glucuronosyltransferase 1A8", "54576"),
    "Q9HAW8": _p("UGT1A10", "UDP-glucuronosyltransferase 1A10", "54575"),
    "P06133": _p("UGT2B4", "UDP-glucuronosyltransferase 2B4", "7363"),
    "P16662": _p("UGT2B7", "UDP-glucuronosyltransferase 2B7", "7364"),
    "P54855": _p("UGT2B15", "UDP-glucuronosyltransferase 2B15", "7366"),
    "O75795": _p("UGT2B17", "UDP-glucuronosyltransferase 2B17", "7367"),
    "Q01740": _p("FMO1", "Flavin-containing monooxygenase 1", "2326"),
    "P31513": _p("FMO3", "Flavin-containing monooxygenase 3", "2328"),
    "P18440": _p("NAT1", "Arylamine N-acetyltransferase 1", "9"),
    "P11245": _p("NAT2", "Arylamine N-acetyltransferase 2", "10"),
    "O00748": _p("CES2", "Carboxylesterase 2", "8824"),
    # SLC transporters
    "O15245": _p("SLC22A1", "Solute carrier family 22 member 1 (OCT1)", "6580"),
    "O15244": _p("SLC22A2", "Solute carrier family 22 member 2 (OCT2)", "6582"),
    "O75751": _p("SLC22A3", "Solute carrier family 22 member 3 (OCT3)", "6581"),
    "Q9Y694": _p("SLC22A7", "Solute carrier family 22 member 7 (OAT2)", "10864"),
    "Q63ZE4": _p("SLC22A10", "Solute carrier family 22 member 10 (OAT5)", "387775"),
    "Q96S37": _p("SLC22A12", "Solute carrier family 22 member 12 (URAT1)", "116085"),
    "Q86VW1": _p("SLC22A16", "Solute carrier family 22 member 16", "85413"),
    "Q9Y6L6": _p("SLCO1B1", "Solute carrier organic anion transporter family member 1B1 (OATP1B1)", "10599"),
    "Q9NPD5": _p("SLCO1B3", "Solute carrier organic anion transporter family member 1B3 (OATP1B3)", "28234"),
    "P46721": _p("SLCO1A2", "Solute carrier organic anion transporter family member 1A2 (OATP1A2)", "6579"),
    "Q9NYB5": _p("SLCO1C1", "Solute carrier organic anion transporter family member 1C1", "53919"),
    "Q92959": _p("SLCO2A1", "Solute carrier organic anion transporter family member 2A1", "6578"),
    "Q9UIG8": _p("SLCO3A1", "Solute carrier organic anion transporter family member 3A1", "28232"),
    "Q96BD0": _p("SLCO4A1", "Solute carrier organic anion transporter family member 4A1", "28231"),
    "Q6ZQN7": _p("SLCO4C1", "Solute carrier organic anion transporter family member 4C1", "353189"),
    "P46059": _p("SLC15A1", "Solute carrier family 15 member 1 (PEPT1)", "6564"),
    "Q16348": _p("SLC15A2", "Solute carrier family 15 member 2 (PEPT2)", "6565"),
    "Q8TF71": _p("SLC16A10", "Monocarboxylate transporter 10", "117247"),
    "Q14973": _p("SLC10A1", "Sodium/bile acid cotransporter (NTCP)", "6554"),
    "Q12908": _p("SLC10A2", "Ileal sodium/bile acid cotransporter (ASBT)", "6555"),
    "Q3KNW5": _p("SLC10A6", "Sodium-dependent organic anion transporter", "345274"),
    "Q96FL8": _p("SLC47A1", "Multidrug and toxin extrusion protein 1 (MATE1)", "55244"),
    "O00337": _p("SLC28A1", "Sodium/nucleoside cotransporter 1 (CNT1)", "9154"),
    "O43868": _p("SLC28A2", "Sodium/nucleoside cotransporter 2 (CNT2)", "9153"),
    "Q9HAS3": _p("SLC28A3", "Solute carrier family 28 member 3 (CNT3)", "64078"),
    "Q14542": _p("SLC29A2", "Equilibrative nucleoside transporter 2 (ENT2)", "3177"),
    "Q01650": _p("SLC7A5", "Large neutral amino acids transporter small subunit 1 (LAT1)", "8140"),
    "P11166": _p("SLC2A1", "Solute carrier family 2, facilitated glucose transporter member 1 (GLUT1)", "6513"),
    "Q9NRM0": _p("SLC2A9", "Solute carrier family 2, facilitated glucose transporter member 9 (GLUT9)", "56606"),
    "P41440": _p("SLC19A1", "Reduced folate transporter", "6573"),
    "Q96NT5": _p("SLC46A1", "Proton-coupled folate transporter", "113235"),
    "Q8N695": _p("SLC5A8", "Sodium-coupled monocarboxylate transporter 1", "160728"),
    "Q86UW1": _p("SLC51A", "Organic solute transporter subunit alpha", "200931"),
    "Q86UW2": _p("SLC51B", "Organic solute transporter subunit beta", "123264"),
    "O15431": _p("SLC31A1", "High affinity copper uptake protein 1", "1317"),
    "O15432": _p("SLC31A2", "Probable low affinity copper uptake protein 2", "1318"),
    # ABC transporters
    "O15438": _p("ABCC3", "Multidrug resistance-associated protein 3 (MRP3)", "8714"),
    "O15439": _p("ABCC4", "Multidrug resistance-associated protein 4 (MRP4)", "10257"),
    "O15440": _p("ABCC5", "Multidrug resistance-associated protein 5 (MRP5)", "10057"),
    "O95255": _p("ABCC6", "Multidrug resistance-associated protein 6 (MRP6)", "368"),
    "Q5T3U5": _p("ABCC10", "Multidrug resistance-associated protein 7 (MRP7)", "89845"),
    "Q96J66": _p("ABCC11", "Multidrug resistance-associated protein 8 (MRP8)", "85320"),
    "P21439": _p("ABCB4", "Phosphatidylcholine translocator ABCB4 (MDR3)", "5244"),
    "Q99758": _p("ABCA3", "Phospholipid-transporting ATPase ABCA3", "21"),
    "Q9H222": _p("ABCG5", "ATP-binding cassette sub-family G member 5", "64240"),
    "Q9H221": _p("ABCG8", "ATP-binding cassette sub-family G member 8", "64241"),
    "Q15311": _p("RALBP1", "RalA-binding protein 1 (RLIP76)", "10928"),
    "P35670": _p("ATP7B", "Copper-transporting ATPase 2", "540"),
    "Q04656": _p("ATP7A", "Copper-transporting ATPase 1", "538"),
    # Plasma and intracellular carriers
    "P02768": _p("ALB", "Serum albumin", "213"),
    "P02766": _p("TTR", "Transthyretin", "7276"),
    "P08185": _p("SERPINA6", "Corticosteroid-binding globulin", "866"),
    "P05543": _p("SERPINA7", "Thyroxine-binding globulin", "6906"),
    "P02774": _p("GC", "Vitamin D-binding protein", "2638"),
    "P20062": _p("TCN2", "Transcobalamin-2", "6948"),
    "P49638": _p("TTPA", "Alpha-tocopherol transfer protein", "7274"),
    "P02753": _p("RBP4", "Retinol-binding protein 4", "5950"),
    "P29762": _p("CRABP1", "Cellular retinoic acid-binding protein 1", "1381"),
    "P29373": _p("CRABP2", "Cellular retinoic acid-binding protein 2", "1382"),
    "P07148": _p("FABP1", "Fatty acid-binding protein, liver", "2168"),
    "P05413": _p("FABP3", "Fatty acid-binding protein, heart", "2170"),
    "P15090": _p("FABP4", "Fatty acid-binding protein, adipocyte", "2167"),
    "O15540": _p("FABP7", "Fatty acid-binding protein, brain", "2173"),
}


def complete_protein_names(proteins: pd.DataFrame, drug_protein: pd.DataFrame) -> pd.DataFrame:
    """``proteins`` with the names of ``REFERENCE_PROTEINS`` filled in where the data has none.

    A protein that ``drug_protein`` relates to a drug but ``proteins`` lacks gets a row; a row with both names
    empty gets them. Rows the data names are left as they are. Logs how many proteins were named this way and how
    many used proteins stay unnamed (shown by accession).
    """
    out = proteins.copy()
    for column in ("uniprot_id", "protein_name", "gene_name", "species"):
        if column not in out.columns:
            out[column] = ""
    accession = out["uniprot_id"].fillna("").astype(str).str.strip()
    has_name = (out["protein_name"].fillna("").astype(str).str.strip() != "") | (
        out["gene_name"].fillna("").astype(str).str.strip() != ""
    )
    named = set(accession[has_name])
    used = set(drug_protein["uniprot_id"].fillna("").astype(str).str.strip()) if "uniprot_id" in drug_protein else set()
    unnamed = (used | set(accession)) - named - {""}
    filled = sorted(p for p in unnamed if p in REFERENCE_PROTEINS)
    if filled:
        rows = accession.isin(filled) & ~has_name
        out.loc[rows, "protein_name"] = accession[rows].map(lambda p: REFERENCE_PROTEINS[p].name)
        out.loc[rows, "gene_name"] = accession[rows].map(lambda p: REFERENCE_PROTEINS[p].gene)
        missing = [p for p in filled if p not in set(accession)]
        added = pd.DataFrame(
            {
                "uniprot_id": missing,
                "protein_name": [REFERENCE_PROTEINS[p].name for p in missing],
                "gene_name": [REFERENCE_PROTEINS[p].gene for p in missing],
                "species": "Human",
            }
        )
        out = pd.concat([out, added.reindex(columns=out.columns, fill_value="")], ignore_index=True)
    left = len((used - named - {""}) - set(filled))
    log.info(
        "named %d protein(s) that the data leaves unnamed from ddi's reference of drug-handling proteins%s; "
        "%d protein(s) used by drug-protein relations stay unnamed and are shown by accession",
        len(filled),
        f" (e.g. {', '.join(REFERENCE_PROTEINS[p].gene for p in filled[:3])})" if filled else "",
        left,
    )
    return out
