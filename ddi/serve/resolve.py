"""Free text -> drug: resolve what a user typed (id, name, synonym, InChIKey, SMILES/InChI) to one drug.

The index joins the model's drugs (``drugs.tsv``, via a ``Tables``) with the DrugBank catalogues
(``drugbank_all_drugs.tsv``, ``drugbank_vocabulary.tsv``) when the data directory has them, so a common name
("Aspirin"), a foreign spelling ("Acetylsalicylsäure") or a drug the model never saw still resolves; the latter
comes back with ``in_model=False`` and its catalogue InChI, so it can still be scored by its structure.

Names are matched in two passes: first on a *strict* key (case, accents and runs of whitespace ignored), then
on a *loose* key (only letters and digits kept). The strict pass keeps stereo prefixes apart ("albuterol" is
salbutamol, "(-)-albuterol" levosalbutamol); the loose pass forgives hyphens, commas and missing spaces.
"""

from __future__ import annotations

import bisect
import difflib
import gc
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ddi.chem.molecule import (
    INCHI_PREFIX,
    MAX_STRUCTURE_LENGTH,
    InvalidStructureError,
    parent_molecule,
    parse_structure,
)
from ddi.data.benchmark import ALL_DRUGS_FILE, read_tsv
from ddi.data.tables import Tables, drugbank_id_of
from ddi.errors import UnknownDrugError, UserInputError
from ddi.serve.drug_names import name_variants, without_dose

if TYPE_CHECKING:
    from ddi.predict.predictor import Predictor

log = logging.getLogger(__name__)

VOCABULARY_FILE = "drugbank_vocabulary.tsv"

#: Match levels, best first. A key that names drugs at several levels resolves at the best one, so a drug's
#: own name wins over another drug's synonym, and the model's name over a catalogue's. Old DrugBank accession
#: numbers (APRD00264) come last so that search lists them after every name.
ID, MODEL_NAME, CATALOGUE_NAME, SYNONYM, ACCESSION = 0, 1, 2, 3, 4
_KIND_OF_LEVEL = {ID: "id", MODEL_NAME: "name", CATALOGUE_NAME: "name", SYNONYM: "synonym", ACCESSION: "id"}
#: Prefix of the kind of a drug found by its text without dose, dosage form or salt ("trimmed name").
TRIMMED = "trimmed "
#: Prefixes that mark text as a structure whatever it looks like ("smiles:CCO").
STRUCTURE_PREFIXES = ("smiles:", "smiles=")

MAX_SUGGESTIONS = 5
# Longest text offered to difflib for suggestions; its cost grows with length, and no name is this long.
_MAX_SUGGEST_LENGTH = 100
# Search-as-you-type looks at no more than this many index entries per query, to stay within milliseconds.
_MAX_SEARCH_SCAN = 4_000

_INCHIKEY = re.compile(r"^(?:InChIKey=)?([A-Z]{14}-[A-Z]{10}-[A-Z])$", re.IGNORECASE)
_NOT_ALNUM = re.compile(r"[\W_]+")
# Characters that occur in SMILES but never in a drug name typed as a word: seeing one means "a structure".
_SMILES_MARKS = re.compile(r"[()\[\]=#@/\\%]")
# Organic-subset atoms and ring digits ("c1ccccc1"): a structure if it parses and no name matched. A chain
# without digits ("CCO", but also "NO" or "CCB") is read as a name: too many abbreviations parse as molecules.
_SMILES_WEAK = re.compile(r"^[BCNOPSFIclnops0-9+\-.]*\d[BCNOPSFIclnops0-9+\-.]*$")
# Such a chain is still offered as a structure in the "unknown drug" message, with the prefix that forces it.
_SMILES_CHAIN = re.compile(r"^[BCNOPSFIclnops+\-.]+$")
# A capitalised word such as "Lipitor": an unknown one is likely a brand, which the benchmark's vocabulary lacks.
_BRAND_LIKE = re.compile(r"^[A-Z][a-z]{3,}$")
# What joins the drugs of a combination product: "amoxicillin/clavulanate", "A + B", "A and B", "A with B".
_COMBINED = re.compile(r"\s*(?:/|\+|&|\band\b|\bwith\b)\s*", re.IGNORECASE)
_GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "κ": "kappa", "ω": "omega"}


#: Longest user text quoted whole in a message; a longer one is cut (a pasted file must not flood the screen).
SHOWN_CHARACTERS = 80


def _shown(text: str) -> str:
    """``text`` stripped and quoted for a message, cut to ``SHOWN_CHARACTERS`` with its length when longer."""
    text = text.strip()
    if len(text) <= SHOWN_CHARACTERS:
        return repr(text)
    return f"{text[:SHOWN_CHARACTERS]!r}... ({len(text):,} characters)"


class AmbiguousDrugError(UserInputError, LookupError):
    """The text names several drugs (a synonym they share); the message lists them."""

    def __init__(self, message: str, query: str = "", candidates: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.query = query
        #: (drugbank_id, name) of every drug the text names.
        self.candidates = candidates


class CombinationDrugError(AmbiguousDrugError):
    """The text joins several drugs ("amoxicillin/clavulanate"); ``candidates`` are its drugs."""


@dataclass(frozen=True, slots=True)
class ResolvedDrug:
    """One drug as resolved from user text.

    Attributes
    ----------
    query: the text as given.
    drugbank_id: the DrugBank id, or None for a structure that matches no DrugBank drug.
    name: the drug's name; for a structure with no DrugBank match, its structure text when short, else "new
        molecule" and its formula (``new_molecule_name``).
    structure: a SMILES or InChI of the drug, or None when none is known.
    kind: what the text was read as: "id", "name", "synonym", "inchikey" or "structure" ("parent structure": a
        salt or charged form of the drug, matched once its counter-ions are removed and it is neutralised);
        "trimmed name" (or
        "trimmed synonym", "trimmed id") when it named the drug only without its dose, dosage form, salt or
        bracketed note ("Simvastatin 40mg tablet", see ``ddi.serve.drug_names``).
    in_model: whether the drug is one of the model's drugs (a node of its graph).
    """

    query: str
    drugbank_id: str | None
    name: str
    structure: str | None
    kind: str
    in_model: bool


#: A structure text up to this long names a new molecule as it is ("CCO"); a longer one is named by its formula.
SHORT_STRUCTURE = 24


def new_molecule_name(mol, structure: str) -> str:
    """How answers name a molecule that matches no DrugBank drug: its structure text when that is short, else
    "new molecule" and its formula (a 60-character SMILES in a sentence hides the sentence)."""
    from rdkit.Chem.rdMolDescriptors import CalcMolFormula

    text = structure.strip()
    return text if len(text) <= SHORT_STRUCTURE else f"new molecule {CalcMolFormula(mol)}"


@dataclass(frozen=True, slots=True)
class _Drug:
    name: str
    structure: str | None
    in_model: bool


def strict_key(text: str) -> str:
    """Case, accents and whitespace runs ignored: ``"  Acetylsalicylsäure "`` -> ``"acetylsalicylsaure"``."""
    text = text.casefold()
    if not text.isascii():
        text = "".join(_GREEK.get(c, c) for c in text)
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(text.split())


def loose_key(text: str) -> str:
    """Only letters and digits of the strict key: ``"Acetyl-salicylic acid,"`` -> ``"acetylsalicylicacid"``."""
    return _NOT_ALNUM.sub("", strict_key(text))


def _split_synonyms(cell: str) -> list[str]:
    return [s.strip() for s in cell.split("|") if s.strip()]


def _normal_inchikey(text: str) -> str:
    text = text.strip()
    if text[:9].lower() == "inchikey=":
        text = text[9:]
    return text.upper()


class DrugResolver:
    """Resolve user text to drugs, and search drug names as the user types.

    Build it with ``from_tables`` (the model's tables and the data directory of the catalogues),
    ``from_data_dir`` or ``for_predictor``.
    """

    def __init__(self, drugs: dict[str, _Drug], names: Iterable[tuple[str, int, str]], inchikeys: dict[str, list[str]]):
        """``drugs``: id -> record; ``names``: (drugbank_id, level, text) for every name, synonym and id."""
        self._drugs = drugs
        self._inchikeys = inchikeys
        self._strict: dict[str, tuple[int, list[str]]] = {}
        self._loose: dict[str, tuple[int, list[str]]] = {}
        # (loose key, drugbank_id) -> (level, text): the best way each key names each drug, for search.
        best: dict[tuple[str, str], tuple[int, str]] = {}
        for drug_id, level, text in names:
            strict = strict_key(text)
            loose = _NOT_ALNUM.sub("", strict)
            if not loose:
                continue
            _add(self._strict, strict, level, drug_id)
            _add(self._loose, loose, level, drug_id)
            seen = best.get((loose, drug_id))
            if seen is None or level < seen[0]:
                best[(loose, drug_id)] = (level, text)
        entries = sorted((key, level, drug_id, text) for (key, drug_id), (level, text) in best.items())
        self._search_keys = [e[0] for e in entries]
        self._search_entries = entries
        # Suggestions come from names and synonyms, not ids or accession numbers.
        self._suggest_drugs: dict[str, list[str]] = {}
        for key, level, drug_id, _ in entries:
            if level not in (ID, ACCESSION):
                self._suggest_drugs.setdefault(key, []).append(drug_id)
        self._fuzzy: _TrigramIndex | None = None
        self._computed_keys: dict[str, list[str]] | None = None

    # ---------------------------------------------------------------------------------------------- building

    @classmethod
    def from_tables(cls, tables: Tables, catalogue_dir: str | Path | None = None) -> DrugResolver:
        """Index the model's drugs (``tables.drugs``) and the catalogues found in ``catalogue_dir``.

        Parameters
        ----------
        tables
            Validated tables; their drugs are the model's drugs (``in_model=True``).
        catalogue_dir
            Directory holding ``drugbank_all_drugs.tsv`` and/or ``drugbank_vocabulary.tsv``; default
            ``tables.source``. Missing catalogues are skipped: only the model's drugs are then known.
        """
        with _gc_paused():
            return cls._from_tables(tables, catalogue_dir)

    @classmethod
    def _from_tables(cls, tables: Tables, catalogue_dir: str | Path | None) -> DrugResolver:
        drugs: dict[str, _Drug] = {}
        names: list[tuple[str, int, str]] = []
        inchikeys: dict[str, list[str]] = {}

        def add_inchikey(drug_id: str, key: str) -> None:
            key = _normal_inchikey(key)
            if key and drug_id not in inchikeys.setdefault(key, []):
                inchikeys[key].append(drug_id)

        frame = tables.drugs
        for drug_id, name, smiles, inchi, inchikey, synonyms in zip(
            frame["drugbank_id"],
            frame["name"],
            frame["smiles"],
            frame["inchi"],
            frame["inchikey"],
            frame["synonyms"],
            strict=True,
        ):
            drugs[drug_id] = _Drug(name or drug_id, smiles or inchi or None, True)
            names.append((drug_id, ID, drug_id))
            if name:
                names.append((drug_id, MODEL_NAME, name))
            names.extend((drug_id, SYNONYM, s) for s in _split_synonyms(synonyms))
            add_inchikey(drug_id, inchikey)

        root = Path(catalogue_dir) if catalogue_dir is not None else Path(tables.source) if tables.source else None
        catalogue_names: dict[str, str] = {}
        catalogue_inchi: dict[str, str] = {}
        if root is not None and (root / ALL_DRUGS_FILE).is_file():
            all_drugs = read_tsv(root / ALL_DRUGS_FILE, ("drugbank_id", "name"))
            inchi_col = all_drugs["inchi"] if "inchi" in all_drugs else [""] * len(all_drugs)
            key_col = all_drugs["inchikey"] if "inchikey" in all_drugs else [""] * len(all_drugs)
            for drug_id, name, inchi, inchikey in zip(
                all_drugs["drugbank_id"], all_drugs["name"], inchi_col, key_col, strict=True
            ):
                catalogue_names.setdefault(drug_id, name)
                if inchi:
                    catalogue_inchi[drug_id] = inchi
                names.append((drug_id, CATALOGUE_NAME, name))
                add_inchikey(drug_id, inchikey)
        if root is not None and (root / VOCABULARY_FILE).is_file():
            vocab = read_tsv(root / VOCABULARY_FILE, ("drugbank_id", "common_name"))
            columns = [vocab[c] if c in vocab else [""] * len(vocab) for c in ("accession_numbers", "synonyms")]
            key_col = vocab["inchikey"] if "inchikey" in vocab else [""] * len(vocab)
            for drug_id, name, accessions, synonyms, inchikey in zip(
                vocab["drugbank_id"], vocab["common_name"], *columns, key_col, strict=True
            ):
                catalogue_names.setdefault(drug_id, name)
                names.append((drug_id, CATALOGUE_NAME, name))
                names.extend((drug_id, ACCESSION, a) for a in _split_synonyms(accessions))
                names.extend((drug_id, SYNONYM, s) for s in _split_synonyms(synonyms))
                add_inchikey(drug_id, inchikey)
        for drug_id, name in catalogue_names.items():
            if drug_id not in drugs:
                drugs[drug_id] = _Drug(name or drug_id, catalogue_inchi.get(drug_id), False)
                names.append((drug_id, ID, drug_id))
        resolver = cls(drugs, names, inchikeys)
        log.debug("drug resolver: %d drugs (%d in the model), %d names", len(drugs), len(frame), len(resolver))
        return resolver

    @classmethod
    def from_data_dir(cls, data_dir: str | Path | None = None) -> DrugResolver:
        """Load the benchmark tables of ``data_dir`` (default: the resolved data directory) and index them."""
        from ddi.data.benchmark import load_benchmark

        tables, _ = load_benchmark(data_dir)
        return cls.from_tables(tables)

    @classmethod
    def for_predictor(cls, predictor: Predictor) -> DrugResolver:
        """The resolver of a loaded ``Predictor``: its drugs, and the catalogues beside its data."""
        return cls.from_tables(predictor.ctx.tables)

    def __len__(self) -> int:
        """Number of distinct (name, drug) entries in the index."""
        return len(self._search_entries)

    # --------------------------------------------------------------------------------------------- resolving

    def resolve(self, text: str) -> ResolvedDrug:
        """The drug named by ``text``: a DrugBank id, name, synonym, InChIKey, SMILES or InChI.

        Raises
        ------
        UnknownDrugError
            If nothing matches; the message lists up to five close names.
        AmbiguousDrugError
            If the text is a synonym of several drugs; the message lists them.
        InvalidStructureError
            If the text is clearly a structure (SMILES punctuation, ``InChI=``) that does not parse.
        """
        query = text if isinstance(text, str) else ""
        stripped = query.strip()
        if not stripped:
            raise UnknownDrugError("empty drug name", query)
        if len(stripped) > MAX_STRUCTURE_LENGTH:
            raise UnknownDrugError(
                f"drug text too long: {len(stripped):,} characters (limit {MAX_STRUCTURE_LENGTH:,})", query[:40]
            )
        drug_id = drugbank_id_of(stripped)
        if drug_id is not None:
            if drug_id in self._drugs:
                return self._resolved(query, drug_id, "id")
            raise UnknownDrugError(f"unknown drug {_shown(stripped)}: no DrugBank drug has this id", query)
        match = _INCHIKEY.match(stripped)
        if match:
            return self._by_inchikey(query, match.group(1).upper())
        if stripped.startswith(INCHI_PREFIX):
            return self._by_structure(query, stripped)
        if stripped[:7].lower() in STRUCTURE_PREFIXES:
            return self._by_structure(query, stripped[7:].strip())
        if "*" in stripped and not any(c.isspace() for c in stripped):
            # No drug name has a "*"; a SMILES with one is a fragment, refused as such ("*CC" must not match the
            # name "CC" once its punctuation is ignored).
            mol, _ = parse_structure(stripped)
            if mol is not None:
                return self._by_structure(query, stripped, mol)
        named = self._by_name(query, stripped)
        if named is not None:
            return named
        if not any(c.isspace() for c in stripped):
            if _SMILES_MARKS.search(stripped):
                mol, reason = parse_structure(stripped)
                if mol is not None:  # a molecule, even one refused as a fragment ("*CC" is not the drug "CC")
                    return self._by_structure(query, stripped, mol)
                # "Warfarin(Coumadin)", "amoxicillin/clavulanate": a name's brackets or slash, not a SMILES.
                named = self._by_trimmed_name(query, stripped)
                if named is not None:
                    return named
                self._refuse_combination(query, stripped)
                raise InvalidStructureError(reason)
            if _SMILES_WEAK.match(stripped):
                # "c1ccncc1" looks like SMILES, but so might an unknown code such as "B12": a failed parse
                # here means "unknown drug", not "invalid SMILES".
                mol, _ = parse_structure(stripped)
                if mol is not None:
                    return self._by_structure(query, stripped, mol)
        named = self._by_trimmed_name(query, stripped)
        if named is not None:
            return named
        self._refuse_combination(query, stripped)
        raise self._unknown(query)

    def _by_trimmed_name(self, query: str, text: str) -> ResolvedDrug | None:
        """ "Simvastatin 40mg tablet", "warfarin sodium": the drug named once the prescription's details are
        taken away (``name_variants``), or None."""
        for variant in name_variants(text):
            named = self._by_name(query, variant, TRIMMED)
            if named is not None:
                return named
        return None

    def _refuse_combination(self, query: str, text: str) -> None:
        """Raise ``CombinationDrugError`` when ``text`` names two or more drugs joined ("amoxicillin/clavulanate",
        "trimethoprim + sulfamethoxazole", "Amoxicillin-Clavulanate"): a pair has one drug on each side."""
        text = without_dose(text)
        parts = [p for p in _COMBINED.split(text) if p.strip()]
        if len(parts) < 2:
            parts = text.split("-")
        if not 2 <= len(parts) <= 4:
            return
        drugs: dict[str, str] = {}
        for part in parts:
            try:
                drug = self._by_name(query, part) or self._by_trimmed_name(query, part)
            except AmbiguousDrugError:
                return
            if drug is None or drug.drugbank_id is None:
                return
            drugs[drug.drugbank_id] = drug.name
        if len(drugs) < 2:
            return
        listed = ", ".join(f"{name} ({d})" for d, name in drugs.items())
        raise CombinationDrugError(
            f"{_shown(query)} combines {len(drugs)} drugs: {listed}; a pair has one drug on each side, so score each "
            "of them as its own pair",
            query,
            tuple(drugs.items()),
        )

    def _by_name(self, query: str, name: str, kind_prefix: str = "") -> ResolvedDrug | None:
        """The drug ``name`` names (strict key first, then loose), or None when it names none."""
        for key_of, index in ((strict_key, self._strict), (loose_key, self._loose)):
            found = index.get(key_of(name))
            if found is not None:
                level, ids = found
                if len(ids) > 1:
                    raise self._ambiguous(query, ids)
                return self._resolved(query, ids[0], kind_prefix + _KIND_OF_LEVEL[level])
        return None

    def _resolved(self, query: str, drug_id: str, kind: str) -> ResolvedDrug:
        drug = self._drugs[drug_id]
        return ResolvedDrug(query, drug_id, drug.name, drug.structure, kind, drug.in_model)

    def _by_inchikey(self, query: str, inchikey: str) -> ResolvedDrug:
        ids = self._inchikeys.get(inchikey, [])
        in_model = [d for d in ids if self._drugs[d].in_model]
        ids = in_model or ids
        if not ids:
            raise UnknownDrugError(f"unknown drug {_shown(query)}: no drug has this InChIKey", query)
        if len(ids) > 1:
            raise self._ambiguous(query, ids)
        return self._resolved(query, ids[0], "inchikey")

    def _by_structure(self, query: str, structure: str, mol=None) -> ResolvedDrug:
        from rdkit import Chem, rdBase

        if mol is None:
            mol, reason = parse_structure(structure)
            if mol is None:
                raise InvalidStructureError(reason)
        if any(atom.GetAtomicNum() == 0 for atom in mol.GetAtoms()):
            # "*" is an attachment point or a polymer's repeat unit: a fragment, not a drug one could take.
            raise InvalidStructureError(f"{_shown(structure)} has wildcard atoms (*): give the whole molecule")
        with rdBase.BlockLogs():
            inchikey = Chem.MolToInchiKey(mol) or ""
        # A structure of a known drug is that drug: the model's node knows more than the molecule alone.
        ids, kind = self._drugs_with_key(inchikey), "structure"
        if not ids and (parent := parent_molecule(mol)) is not None:
            # A salt or charged form ("sertraline hydrochloride", "warfarin sodium") is its drug.
            with rdBase.BlockLogs():
                ids, kind = self._drugs_with_key(Chem.MolToInchiKey(parent) or ""), "parent structure"
        if ids:
            drug = self._drugs[ids[0]]
            return ResolvedDrug(query, ids[0], drug.name, structure, kind, drug.in_model)
        return ResolvedDrug(query, None, new_molecule_name(mol, structure), structure, "structure", False)

    def _drugs_with_key(self, inchikey: str) -> list[str]:
        """The drugs with this InChIKey, the model's first: by the keys computed here from the model's drugs' own
        structures, else by the keys the data lists (which also cover the catalogues' drugs)."""
        if not inchikey:
            return []
        ids = self._keys_of_structures().get(inchikey) or self._inchikeys.get(inchikey, [])
        return sorted(ids, key=lambda d: not self._drugs[d].in_model)

    def _keys_of_structures(self) -> dict[str, list[str]]:
        """InChIKey -> drugs, computed with RDKit from the structures of the model's drugs (once, on first need:
        about a second for 1,700 drugs). The key a data file lists can differ from the one a user's SMILES of the
        same drug gives: a non-standard InChI (warfarin's), no key at all, or a key with stereo that the drug's
        structure leaves open (leucovorin's key is levoleucovorin's structure)."""
        if self._computed_keys is None:
            from rdkit import Chem, rdBase

            keys: dict[str, list[str]] = {}
            with rdBase.BlockLogs():
                for drug_id, drug in self._drugs.items():
                    if not drug.in_model or not drug.structure:
                        continue
                    mol, _ = parse_structure(drug.structure)
                    key = Chem.MolToInchiKey(mol) if mol is not None else ""
                    if key:
                        keys.setdefault(key, []).append(drug_id)
            self._computed_keys = keys
        return self._computed_keys

    def _ambiguous(self, query: str, ids: list[str]) -> AmbiguousDrugError:
        candidates = tuple((d, self._drugs[d].name) for d in ids)
        listed = ", ".join(f"{name} ({d})" for d, name in candidates)
        return AmbiguousDrugError(
            f"ambiguous drug {_shown(query)}: it names {len(ids)} drugs: {listed}; give a DrugBank id",
            query,
            candidates,
        )

    def _unknown(self, query: str) -> UnknownDrugError:
        suggestions = self.suggest(query)
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        stripped = query.strip()
        advice = ""
        if _SMILES_CHAIN.match(stripped) and parse_structure(stripped)[0] is not None:
            forced = f"'smiles:{stripped}'" if len(stripped) <= SHOWN_CHARACTERS else "'smiles:' followed by it"
            advice = f"if it is a SMILES, write it as {forced}"
        elif _BRAND_LIKE.match(stripped):
            advice = "if it is a brand name, write its active ingredient (the data may list no brands)"
        if advice:  # after a question, a sentence of its own ("...? If it is ..."), not "?; if"
            hint += f" {advice[0].upper()}{advice[1:]}" if hint else f"; {advice}"
        return UnknownDrugError(f"unknown drug {_shown(query)}{hint}", query, tuple(suggestions))

    def suggest(self, text: str, limit: int = MAX_SUGGESTIONS) -> list[str]:
        """Up to ``limit`` drugs whose name or synonym is closest to ``text``, as ``"Name (DBxxxxx)"``."""
        key = loose_key(text) if isinstance(text, str) else ""
        if not key or len(key) > _MAX_SUGGEST_LENGTH:
            return []
        if self._fuzzy is None:
            self._fuzzy = _TrigramIndex(sorted(self._suggest_drugs))
        out: list[str] = []
        for close in self._fuzzy.closest(key, cutoff=0.75):
            for drug_id in self._suggest_drugs[close]:
                label = f"{self._drugs[drug_id].name} ({drug_id})"
                if label not in out:
                    out.append(label)
            if len(out) >= limit:
                break
        return out[:limit]

    # --------------------------------------------------------------------------------------------- searching

    def search(self, prefix: str, limit: int = 20, in_model_only: bool = False) -> list[tuple[str, str, str]]:
        """Drugs whose id, name or synonym starts with ``prefix`` (case, accents, punctuation ignored).

        Returns
        -------
        list[tuple[str, str, str]]
            ``(drugbank_id, name, matched_text)``, best first: exact matches, then the model's drugs, then
            ids and names before synonyms, then shorter texts. One row per drug.
        """
        key = loose_key(prefix) if isinstance(prefix, str) else ""
        if not key or limit <= 0:
            return []
        start = bisect.bisect_left(self._search_keys, key)
        stop = min(bisect.bisect_left(self._search_keys, key + "\uffff", lo=start), start + _MAX_SEARCH_SCAN)
        ranked = []
        for entry_key, level, drug_id, text in self._search_entries[start:stop]:
            in_model = self._drugs[drug_id].in_model
            if in_model_only and not in_model:
                continue
            ranked.append((entry_key != key, not in_model, level, len(entry_key), entry_key, drug_id, text))
        ranked.sort()
        out: list[tuple[str, str, str]] = []
        seen: set[str] = set()
        for *_, drug_id, text in ranked:
            if drug_id not in seen:
                seen.add(drug_id)
                out.append((drug_id, self._drugs[drug_id].name, text))
                if len(out) == limit:
                    break
        return out

    def name_of(self, drug_id: str) -> str:
        """The display name of a DrugBank id known to the index (the id itself if unknown)."""
        drug = self._drugs.get(drug_id)
        return drug.name if drug else drug_id


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: the index is ~300,000 small objects and no cycles, and collector
    passes over them would more than double the build time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _add(index: dict[str, tuple[int, list[str]]], key: str, level: int, drug_id: str) -> None:
    if not key:
        return
    found = index.get(key)
    if found is None or level < found[0]:
        index[key] = (level, [drug_id])
    elif level == found[0] and drug_id not in found[1]:
        found[1].append(drug_id)


class _TrigramIndex:
    """Closest keys to a query by ``difflib`` ratio, with a trigram pre-filter.

    Plain ``difflib.get_close_matches`` over ~40,000 names takes 30-80 ms; scoring only the keys that share
    the most trigrams with the query takes well under a millisecond and finds the same names for typos.
    """

    def __init__(self, keys: list[str], candidates: int = 64) -> None:
        self.keys = keys
        self.candidates = candidates
        postings: dict[str, list[int]] = {}
        sizes = []
        for i, key in enumerate(keys):
            grams = _trigrams(key)
            sizes.append(len(grams))
            for gram in grams:
                postings.setdefault(gram, []).append(i)
        self.postings = {g: np.asarray(v, dtype=np.int32) for g, v in postings.items()}
        self.sizes = np.asarray(sizes, dtype=np.float64)

    def closest(self, key: str, cutoff: float) -> list[str]:
        """Keys whose ``difflib`` ratio with ``key`` is at least ``cutoff``, closest first."""
        grams = _trigrams(key)
        hits = [self.postings[g] for g in grams if g in self.postings]
        if not hits:
            return []
        shared = np.bincount(np.concatenate(hits), minlength=len(self.keys))
        dice = 2.0 * shared / (self.sizes + len(grams))
        count = min(self.candidates, int((shared > 0).sum()))
        top = np.argpartition(-dice, count - 1)[:count]
        matcher = difflib.SequenceMatcher(b=key)
        scored = []
        for i in top.tolist():
            matcher.set_seq1(self.keys[i])
            if matcher.real_quick_ratio() >= cutoff and matcher.quick_ratio() >= cutoff:
                ratio = matcher.ratio()
                if ratio >= cutoff:
                    scored.append((-ratio, self.keys[i]))
        return [k for _, k in sorted(scored)]


def _trigrams(key: str) -> set[str]:
    padded = f"^{key}$"
    return {padded[i : i + 3] for i in range(len(padded) - 2)}
