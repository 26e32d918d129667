"""Import a DrugBank XML export (4.x or 5.x) into the benchmark tables.

``import_drugbank_xml`` streams the export's records (``ddi.data.drugbank_stream``), maps each interaction
description to a benchmark interaction type with the type templates (``ddi.data.templates``), orders each
pair by the benchmark's ``subject`` convention, merges the two listings DrugBank gives most interactions
(one under each drug) and returns validated ``Tables`` with ``ImportStats`` saying what was kept and what
was left out. ``ddi import-drugbank`` writes the result in the benchmark TSV layout.
"""

from __future__ import annotations

import logging
import os
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ddi.data.benchmark import LAYOUT_FILES, DataFormatError, read_tsv
from ddi.data.drugbank_record import DrugRecord, InteractionEntry, ProteinRelation
from ddi.data.drugbank_stream import DrugBankXmlReader, XmlImportError
from ddi.data.location import resolve_data_dir
from ddi.data.tables import OTHER_TYPE, SCHEMAS, DropReport, TableError, Tables, validate_interaction_types
from ddi.data.templates import TemplateMatcher
from ddi.errors import UserInputError, nearest_existing

__all__ = ["DrugBankXmlReader", "ImportStats", "XmlImportError", "check_layout_out", "import_drugbank_xml"]

log = logging.getLogger(__name__)

INTERACTION_TYPES_FILE = "interaction_types.tsv"
#: How many unmatched descriptions and outside partners the stats quote.
_MAX_EXAMPLES = 5


@dataclass
class ImportStats:
    """What an import read, mapped, kept and left out.

    An interaction *listing* is one ``<drug-interaction>`` entry; DrugBank lists most interactions under
    both drugs, so two listings usually make one interaction row.
    """

    source: str = ""
    drugbank_version: str = ""
    drugs_read: int = 0
    drugs_without_id: int = 0
    #: Records repeating the DrugBank id of an earlier one: skipped whole (their listings and targets too).
    drugs_duplicate: int = 0
    duplicate_examples: list[str] = field(default_factory=list)
    drugs_without_structure: int = 0
    listings_read: int = 0
    listings_matched: int = 0
    listings_unmatched: int = 0
    unmatched_examples: list[str] = field(default_factory=list)
    listings_partner_not_in_export: int = 0
    partners_not_in_export_examples: list[str] = field(default_factory=list)
    listings_repeated: int = 0
    #: Interaction rows kept, per type (``OTHER_TYPE`` = matched no template).
    interactions_by_type: dict[int, int] = field(default_factory=dict)
    pairs_with_several_types: int = 0
    #: Product names added as synonyms (each names one drug only), and those left out because several drugs
    #: list them (combination products, product lines).
    product_names_added: int = 0
    product_names_shared: int = 0
    protein_relations: int = 0
    interactants_without_uniprot: int = 0
    proteins: int = 0
    #: Rows the final validation dropped (normally nothing).
    validation: DropReport = field(default_factory=DropReport)

    @property
    def interactions(self) -> int:
        return sum(self.interactions_by_type.values())

    @property
    def interactions_other(self) -> int:
        return self.interactions_by_type.get(OTHER_TYPE, 0)

    @property
    def interactions_matched(self) -> int:
        return self.interactions - self.interactions_other

    def __str__(self) -> str:
        matched_types = sum(1 for t, n in self.interactions_by_type.items() if t != OTHER_TYPE and n)
        version = f"DrugBank {self.drugbank_version} " if self.drugbank_version else ""
        drugs = f"drugs: {self.drugs_read:,} read, {self.drugs_without_structure:,} without SMILES or InChI"
        if self.drugs_without_id:
            drugs += f", {self.drugs_without_id:,} without a DrugBank id (skipped)"
        if self.drugs_duplicate:
            drugs += (
                f", {self.drugs_duplicate:,} repeating the id of an earlier record (skipped, e.g. "
                f"{', '.join(self.duplicate_examples)})"
            )
        lines = [
            f"source: {version}{self.source}",
            drugs,
            f"interaction listings: {self.listings_read:,} read, {self.listings_matched:,} matched a "
            f"template, {self.listings_unmatched:,} matched none, {self.listings_partner_not_in_export:,} "
            f"name a partner outside the export (dropped), {self.listings_repeated:,} repeat a pair and "
            "type already listed",
            f"interactions: {self.interactions:,} kept, {self.interactions_matched:,} in {matched_types} "
            f"benchmark types, {self.interactions_other:,} other (type {OTHER_TYPE})",
            f"drug-protein relations: {self.protein_relations:,} with {self.proteins:,} proteins "
            f"({self.interactants_without_uniprot:,} interactant(s) without a UniProt polypeptide skipped)",
        ]
        if self.product_names_added or self.product_names_shared:
            lines.append(
                f"product names: {self.product_names_added:,} added as synonyms, {self.product_names_shared:,} "
                "listed under several drugs (combination products) left out"
            )
        if self.pairs_with_several_types:
            lines.append(f"pairs listed with more than one type (all kept): {self.pairs_with_several_types:,}")
        if self.unmatched_examples:
            lines.append("unmatched, e.g.: " + " | ".join(self.unmatched_examples))
        if self.partners_not_in_export_examples:
            lines.append("partners outside the export, e.g.: " + ", ".join(self.partners_not_in_export_examples))
        if self.validation.records:
            lines.append(f"validation: {self.validation}")
        return "\n".join(lines)


class _TableBuilder:
    """Accumulates records; interaction rows are resolved once every exported drug is known.

    A full export has millions of listings, so each is kept as three integers (drug codes and type) in
    typed arrays, a few tens of MB in all, and de-duplicated with numpy at the end.
    """

    def __init__(self, matcher: TemplateMatcher, stats: ImportStats) -> None:
        self.matcher = matcher
        self.stats = stats
        self.drug_rows: list[dict[str, str]] = []
        self.relation_rows: list[dict[str, str]] = []
        self.protein_rows: dict[str, dict[str, str]] = {}
        #: DrugBank id -> code, for record drugs and partners alike, in order of first appearance.
        self._codes: dict[str, int] = {}
        self._exported_codes: list[int] = []
        self._exported: set[int] = set()
        self._partner_names: dict[str, str] = {}
        #: product name (casefolded) -> (its first spelling, index in ``drug_rows`` of each drug listing it)
        self._products: dict[str, tuple[str, set[int]]] = {}
        self._drug1 = array("q")
        self._drug2 = array("q")
        self._types = array("q")

    def _code(self, drugbank_id: str) -> int:
        return self._codes.setdefault(drugbank_id, len(self._codes))

    def add(self, record: DrugRecord) -> None:
        stats = self.stats
        stats.drugs_read += 1
        if not record.drugbank_id:
            stats.drugs_without_id += 1
            return
        drug_code = self._code(record.drugbank_id)
        if drug_code in self._exported:
            # The first record of an id is the drug; a repeat's listings would be typed with its own name and
            # merged into the first's, so it is left out whole.
            stats.drugs_duplicate += 1
            if len(stats.duplicate_examples) < _MAX_EXAMPLES:
                stats.duplicate_examples.append(record.drugbank_id)
            return
        self._exported.add(drug_code)
        self._exported_codes.append(drug_code)
        stats.drugs_without_structure += not (record.smiles or record.inchi)
        self.drug_rows.append(
            {
                "drugbank_id": record.drugbank_id,
                "name": record.name,
                "smiles": record.smiles,
                "inchi": record.inchi,
                "inchikey": record.inchikey,
                "type": record.type,
                "groups": "|".join(record.groups),
                "atc_codes": "|".join(record.atc_codes),
                "categories": "|".join(record.categories),
                # The benchmark's drugs.tsv separates synonyms with " | ".
                "synonyms": " | ".join(record.synonyms),
            }
        )
        row = len(self.drug_rows) - 1
        for product in record.products:
            self._products.setdefault(product.casefold(), (product, set()))[1].add(row)
        for entry in record.interactions:
            self._add_interaction(drug_code, record.name, entry)
        stats.interactants_without_uniprot += record.interactants_without_polypeptide
        for relation in record.proteins:
            self._add_relation(record.drugbank_id, relation)

    def _add_interaction(self, drug_code: int, drug_name: str, entry: InteractionEntry) -> None:
        stats = self.stats
        stats.listings_read += 1
        partner_code = self._code(entry.partner_id)
        self._partner_names.setdefault(entry.partner_id, entry.partner_name)
        match = self.matcher.match(entry.description, drug_name, entry.partner_name)
        if match is None:
            stats.listings_unmatched += 1
            if len(stats.unmatched_examples) < _MAX_EXAMPLES:
                stats.unmatched_examples.append(entry.description[:160])
            first, second, type_id = drug_code, partner_code, OTHER_TYPE
        else:
            stats.listings_matched += 1
            (first, second), type_id = match.oriented(drug_code, partner_code), match.type_id
        self._drug1.append(first)
        self._drug2.append(second)
        self._types.append(type_id)

    def _add_relation(self, drug_id: str, relation: ProteinRelation) -> None:
        if not relation.uniprot_id:
            self.stats.interactants_without_uniprot += 1
            return
        self.relation_rows.append(
            {
                "drugbank_id": drug_id,
                "category": relation.category,
                "uniprot_id": relation.uniprot_id,
                "entrez_gene_id": "",
                "organism": relation.organism,
                "known_action": relation.known_action,
                "actions": "|".join(relation.actions),
                "pubmed_ids": "|".join(relation.pubmed_ids),
            }
        )
        self.protein_rows.setdefault(
            relation.uniprot_id,
            {
                "uniprot_id": relation.uniprot_id,
                "protein_name": relation.protein_name,
                "gene_name": relation.gene_name,
                "species": relation.species,
            },
        )

    def add_product_synonyms(self) -> None:
        """Add each product name that one drug alone lists to that drug's synonyms, so that a brand ("Lipitor")
        resolves to its ingredient; a name several drugs list is a combination product or a product line and
        would resolve to one ingredient of several, so it is left out."""
        # A product named like a drug or a synonym ("Aspirin" under a combination's other ingredient) would make
        # that name ambiguous: only new names are added.
        known = {row["name"].casefold() for row in self.drug_rows}
        known |= {s.casefold() for row in self.drug_rows for s in row["synonyms"].split(" | ") if s}
        for key, (name, rows) in self._products.items():
            if len(rows) > 1:
                self.stats.product_names_shared += 1
            elif key not in known:
                row = self.drug_rows[next(iter(rows))]
                row["synonyms"] = " | ".join(filter(None, [row["synonyms"], name]))
                self.stats.product_names_added += 1
        self._products.clear()

    def interactions(self) -> pd.DataFrame:
        """Listings reduced to interaction rows: both drugs exported, each unordered pair and type once."""
        stats = self.stats
        ids = np.array(list(self._codes), dtype=object)
        exported = np.zeros(len(ids), dtype=bool)
        exported[self._exported_codes] = True
        drug1 = np.frombuffer(self._drug1, dtype=np.int64)
        drug2 = np.frombuffer(self._drug2, dtype=np.int64)
        types = np.frombuffer(self._types, dtype=np.int64)

        both = exported[drug1] & exported[drug2]
        stats.listings_partner_not_in_export = int((~both).sum())
        outside = np.where(exported[drug1[~both]], drug2[~both], drug1[~both])
        examples = ids[pd.unique(outside)[:_MAX_EXAMPLES]]
        stats.partners_not_in_export_examples = [f"{d} ({self._partner_names.get(d, '?')})" for d in examples]
        drug1, drug2, types = drug1[both], drug2[both], types[both]

        pair = np.minimum(drug1, drug2) * len(ids) + np.maximum(drug1, drug2)
        repeated = pd.DataFrame({"pair": pair, "type": types}).duplicated().to_numpy()
        stats.listings_repeated = int(repeated.sum())
        stats.pairs_with_several_types = int(pd.Series(pair[~repeated]).duplicated().sum())
        kept = ~repeated
        rows = pd.DataFrame({"drug1_id": ids[drug1[kept]], "drug2_id": ids[drug2[kept]], "type": types[kept]})
        return rows


#: The hidden folder an import writes its layout into before renaming it into place (``ddi import-drugbank``).
STAGING_PREFIX = ".import-"


def check_layout_out(out: Path, option: str = "--out") -> None:
    """Make sure the benchmark layout can be written into ``out`` later, or raise ``UserInputError`` now.

    ``out`` must be new, empty, or hold only the layout files (an earlier import). Anything else, above all a
    ``splits/`` directory (the benchmark's data directory), would be read with the imported tables as if it
    were theirs (a stale split), or be a directory the user did not mean to overwrite. Nothing is created.
    """
    if out.is_dir():
        # A staging folder is a killed import's leftover, not a user's file: the next import removes it.
        foreign = sorted(
            p.name
            for p in out.iterdir()
            if p.name not in LAYOUT_FILES.values() and not p.name.startswith(STAGING_PREFIX)
        )
        if foreign:
            raise UserInputError(
                f"{option} {out}: the directory holds other files than an import writes ({', '.join(foreign[:3])}"
                f"{', ...' if len(foreign) > 3 else ''}); choose a new or empty directory"
            )
    existing = nearest_existing(out)
    if not existing.is_dir():
        raise UserInputError(f"{option} {out}: not a writable directory ({existing} is a file)")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserInputError(f"{option} {out}: not a writable directory ({existing}: permission denied)")


def _load_templates(types_path: str | Path | None) -> tuple[pd.DataFrame, TemplateMatcher]:
    """The validated interaction types and their compiled templates."""
    path = Path(types_path) if types_path is not None else resolve_data_dir() / INTERACTION_TYPES_FILE
    report = DropReport()
    try:
        types = validate_interaction_types(read_tsv(path, ("type", "template", "subject")), report)
    except TableError as exc:  # numbered from 0, say: the whole file is refused, with the fix
        raise DataFormatError(f"{path}: {exc.message}") from exc
    report.log(log)
    if types.empty:
        raise DataFormatError(f"{path}: no usable interaction types")
    try:
        return types, TemplateMatcher(types)
    except ValueError as exc:
        raise DataFormatError(f"{path}: {exc}") from exc


def import_drugbank_xml(
    xml_path: str | Path, types_path: str | Path | None = None, *, progress: bool = True
) -> tuple[Tables, ImportStats]:
    """Read a DrugBank XML export into the benchmark tables.

    Parameters
    ----------
    xml_path
        The export (4.x or 5.x; see ``DrugBankXmlReader``). Read streaming: any size works.
    types_path
        ``interaction_types.tsv`` whose templates define the interaction types (default: the one in the
        resolved data directory, i.e. the benchmark's 86 types).
    progress
        Show a progress bar over the bytes read (on a terminal only).

    Returns
    -------
    tables
        Validated tables: ``drugs``; ``interaction_types``; ``interactions`` with one row per unordered
        pair and type, ordered by the benchmark's ``subject`` convention, descriptions that match no
        template kept as type ``OTHER_TYPE`` (0), listings whose partner is not in the export dropped;
        ``drug_protein`` and ``proteins`` from targets, enzymes, transporters and carriers.
    stats
        Counts of what was read, matched, kept and dropped (also logged).

    Raises
    ------
    XmlImportError
        The file is missing, malformed or hostile (DTD, entities), or holds no ``<drug>`` record.
    ddi.data.benchmark.DataFormatError
        The interaction types file is missing or malformed, or two of its templates read the same.
    """
    xml_path = Path(xml_path)
    types, matcher = _load_templates(types_path)
    stats = ImportStats(source=str(xml_path))
    builder = _TableBuilder(matcher, stats)
    reader = DrugBankXmlReader(xml_path, progress=progress)
    for record in reader:
        builder.add(record)
    stats.drugbank_version = reader.version
    if not builder.drug_rows:
        raise XmlImportError(f"{xml_path}: no <drug> records with a DrugBank id; is this a DrugBank XML export?")
    if stats.drugs_duplicate:
        log.warning(
            "%s: skipped %s record(s) repeating the DrugBank id of an earlier one (e.g. %s)",
            xml_path,
            f"{stats.drugs_duplicate:,}",
            ", ".join(stats.duplicate_examples),
        )
    builder.add_product_synonyms()

    tables = Tables(
        drugs=pd.DataFrame(builder.drug_rows),
        interaction_types=types,
        interactions=builder.interactions(),
        drug_protein=pd.DataFrame(builder.relation_rows, columns=list(SCHEMAS["drug_protein"])),
        proteins=pd.DataFrame(list(builder.protein_rows.values()), columns=list(SCHEMAS["proteins"])),
        source=str(xml_path),
    )
    tables, stats.validation = tables.validated()
    stats.validation.log(log)
    per_type = tables.interactions["type"].value_counts().sort_index()
    stats.interactions_by_type = {int(t): int(n) for t, n in per_type.items()}
    stats.protein_relations, stats.proteins = len(tables.drug_protein), len(tables.proteins)
    log.info(
        "imported %s: %s drugs, %s interactions (%s of a benchmark type, %s other; %s listings dropped for "
        "a partner outside the export), %s drug-protein relations",
        xml_path,
        f"{len(tables.drugs):,}",
        f"{stats.interactions:,}",
        f"{stats.interactions_matched:,}",
        f"{stats.interactions_other:,}",
        f"{stats.listings_partner_not_in_export:,}",
        f"{stats.protein_relations:,}",
    )
    log.debug("import statistics:\n%s", stats)
    return tables, stats
