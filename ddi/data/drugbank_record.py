"""What one ``<drug>`` record of a DrugBank XML export says, as plain data.

``parse_drug`` reads the fields the benchmark tables use from one top-level ``<drug>`` element of a 4.x or
5.x export, in the ``http://www.drugbank.ca`` namespace or in none. Reading the file is the job of
``ddi.data.drugbank_stream``; turning records into tables is the job of ``ddi.data.drugbank_xml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from xml.etree.ElementTree import Element

#: (protein category, the list element holding it) for each kind of drug-protein relation.
PROTEIN_LISTS = (
    ("target", "targets"),
    ("enzyme", "enzymes"),
    ("transporter", "transporters"),
    ("carrier", "carriers"),
)
#: Property kind -> ``DrugRecord`` field, for the chemical structure.
_STRUCTURE_KINDS = {"SMILES": "smiles", "InChI": "inchi", "InChIKey": "inchikey"}
#: PubMed links inside the free-text ``<references>`` of 4.x exports.
_PUBMED_LINK = re.compile(r"pubmed/(\d+)")


@dataclass(frozen=True, slots=True)
class InteractionEntry:
    """One ``<drug-interaction>``: the partner drug and the sentence describing the interaction."""

    partner_id: str
    partner_name: str
    description: str


@dataclass(frozen=True, slots=True)
class ProteinRelation:
    """One polypeptide of a target, enzyme, transporter or carrier of a drug."""

    category: str
    uniprot_id: str
    protein_name: str
    gene_name: str
    #: Organism of the interactant as the drug record gives it (e.g. "Humans").
    organism: str
    #: Organism of the polypeptide (the ``proteins`` table's species).
    species: str
    known_action: str
    actions: tuple[str, ...]
    pubmed_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DrugRecord:
    """The fields of one top-level ``<drug>`` that the benchmark tables use."""

    drugbank_id: str
    name: str
    type: str
    groups: tuple[str, ...]
    synonyms: tuple[str, ...]
    atc_codes: tuple[str, ...]
    categories: tuple[str, ...]
    smiles: str
    inchi: str
    inchikey: str
    interactions: tuple[InteractionEntry, ...]
    proteins: tuple[ProteinRelation, ...]
    #: Targets, enzymes, ... listed without a polypeptide (DNA, rRNA, ...): no UniProt id to relate to.
    interactants_without_polypeptide: int = 0
    #: Names of the marketed products that list this drug ("Lipitor"), each once; a combination product is
    #: listed under each of its ingredients, so only the whole export can tell which names are this drug's alone.
    products: tuple[str, ...] = ()


def parse_drug(drug: Element) -> DrugRecord:
    """Extract a ``DrugRecord`` from one top-level ``<drug>`` element.

    Only the record's direct children give its own fields, so the ``<drugbank-id>`` of a salt or the
    ``<drug>`` of a pathway never stands in for the record's.

    Parameters
    ----------
    drug
        A complete ``<drug>`` element (e.g. from ``iterparse`` at its end event).
    """
    ns = _namespace(drug.tag)
    ids = drug.findall(_qualified(ns, "drugbank-id"))
    primary = [i for i in ids if i.get("primary") == "true"] or ids
    # 4.x brands are the element's text, 5.x puts them in <name>. Product names are kept apart (``products``): a
    # combination product is listed under each ingredient, and a drug can have thousands of entries.
    brands = [
        (brand.findtext(_qualified(ns, "name")) or brand.text or "").strip()
        for brand in drug.iterfind(_qualified(ns, "international-brands/international-brand"))
    ]
    categories = [
        (category.findtext(_qualified(ns, "category")) or category.text or "").strip()
        for category in drug.iterfind(_qualified(ns, "categories/category"))
    ]
    atc_codes = [code.get("code", "").strip() for code in drug.iterfind(_qualified(ns, "atc-codes/atc-code"))]
    structure = _structure(drug, ns)
    proteins, without_polypeptide = _proteins(drug, ns)
    return DrugRecord(
        drugbank_id=(primary[0].text or "").strip() if primary else "",
        name=_text(drug, "name", ns),
        type=drug.get("type", "").strip(),
        groups=_unique(_texts(drug, "groups/group", ns)),
        synonyms=_unique(_texts(drug, "synonyms/synonym", ns) + brands),
        atc_codes=_unique(atc_codes),
        categories=_unique(categories),
        smiles=structure["smiles"],
        inchi=structure["inchi"],
        inchikey=structure["inchikey"],
        interactions=_interactions(drug, ns),
        proteins=proteins,
        interactants_without_polypeptide=without_polypeptide,
        products=_unique(_texts(drug, "products/product/name", ns)),
    )


def _structure(drug: Element, ns: str) -> dict[str, str]:
    """SMILES, InChI and InChIKey from the calculated properties, else from the experimental ones."""
    found = dict.fromkeys(_STRUCTURE_KINDS.values(), "")
    for block in ("calculated-properties", "experimental-properties"):
        for prop in drug.iterfind(_qualified(ns, f"{block}/property")):
            field_name = _STRUCTURE_KINDS.get(_text(prop, "kind", ns))
            if field_name and not found[field_name]:
                found[field_name] = _text(prop, "value", ns)
    return found


def _interactions(drug: Element, ns: str) -> tuple[InteractionEntry, ...]:
    entries = []
    for item in drug.iterfind(_qualified(ns, "drug-interactions/drug-interaction")):
        # DrugBank 3.x named the partner <drug>; 4.x and 5.x use <drugbank-id>.
        partner_id = _text(item, "drugbank-id", ns) or _text(item, "drug", ns)
        entries.append(InteractionEntry(partner_id, _text(item, "name", ns), _text(item, "description", ns)))
    return tuple(entries)


def _proteins(drug: Element, ns: str) -> tuple[tuple[ProteinRelation, ...], int]:
    """One relation per polypeptide of each interactant, and the count of interactants with none."""
    relations = []
    without_polypeptide = 0
    for category, list_tag in PROTEIN_LISTS:
        for interactant in drug.iterfind(_qualified(ns, f"{list_tag}/{category}")):
            polypeptides = interactant.findall(_qualified(ns, "polypeptide"))
            if not polypeptides:
                without_polypeptide += 1
                continue
            organism = _text(interactant, "organism", ns)
            known_action = _text(interactant, "known-action", ns)
            actions = _unique(_texts(interactant, "actions/action", ns))
            pubmed_ids = _pubmed_ids(interactant, ns)
            for polypeptide in polypeptides:
                species = _text(polypeptide, "organism", ns)
                relations.append(
                    ProteinRelation(
                        category=category,
                        uniprot_id=polypeptide.get("id", "").strip(),
                        protein_name=_text(polypeptide, "name", ns),
                        gene_name=_text(polypeptide, "gene-name", ns),
                        organism=organism or species,
                        species=species,
                        known_action=known_action,
                        actions=actions,
                        pubmed_ids=pubmed_ids,
                    )
                )
    return tuple(relations), without_polypeptide


def _pubmed_ids(interactant: Element, ns: str) -> tuple[str, ...]:
    references = interactant.find(_qualified(ns, "references"))
    if references is None:
        return ()
    ids = _texts(references, "articles/article/pubmed-id", ns)  # 5.x
    if not ids and references.text:
        ids = _PUBMED_LINK.findall(references.text)  # 4.x: textile links
    return _unique(ids)


@lru_cache(maxsize=512)
def _qualified(namespace: str, path: str) -> str:
    """``"a/b"`` -> ``"{ns}a/{ns}b"``; cached because every record asks for the same few paths."""
    return "/".join(namespace + step for step in path.split("/"))


def _namespace(tag: str) -> str:
    return tag[: tag.index("}") + 1] if tag.startswith("{") else ""


def _text(element: Element, path: str, namespace: str) -> str:
    return (element.findtext(_qualified(namespace, path)) or "").strip()


def _texts(element: Element, path: str, namespace: str) -> list[str]:
    found = (item.text for item in element.iterfind(_qualified(namespace, path)))
    return [text.strip() for text in found if text and text.strip()]


def _unique(values: list[str]) -> tuple[str, ...]:
    """Drop empty values and repeats (ignoring case), keeping the first spelling and the order."""
    seen: set[str] = set()
    kept = []
    for value in values:
        if value and value.casefold() not in seen:
            seen.add(value.casefold())
            kept.append(value)
    return tuple(kept)
