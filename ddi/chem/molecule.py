"""Text -> RDKit molecule: parse SMILES or InChI safely, canonicalise, and key structures for caching.

Every parse runs with RDKit's logging blocked, so a bad structure yields a reason string for the user
instead of C++ warnings on stderr. Inputs are bounded (``MAX_STRUCTURE_LENGTH`` characters, ``MAX_ATOMS``
atoms) so that a hostile or corrupt structure cannot exhaust memory or time.
"""

from __future__ import annotations

import hashlib
import re

from rdkit import Chem, rdBase
from rdkit.Chem import rdinchi

from ddi.errors import UserInputError

#: Longest structure text accepted. The longest SMILES in the benchmark has 1,190 characters.
MAX_STRUCTURE_LENGTH = 5_000
#: Most atoms a molecule graph may have. The largest benchmark drug has 457; most drugs have under 100.
MAX_ATOMS = 1_000

INCHI_PREFIX = "InChI="

# One element and its count in an InChI formula layer, e.g. "Cl2" or "C".
_FORMULA_ELEMENT = re.compile(r"([A-Z][a-z]?)(\d*)")
# A leading multiplier of one formula component, e.g. the "2" of "2Na".
_FORMULA_MULTIPLIER = re.compile(r"^(\d+)(.*)$")
# Bounded prefix of a bad input quoted back in a reason, so a 5,000-character string is not echoed.
_QUOTE_LENGTH = 40


class InvalidStructureError(UserInputError, ValueError):
    """A SMILES or InChI that cannot be turned into a molecule graph; the message says why."""


def parse_structure(text: str, max_atoms: int = MAX_ATOMS) -> tuple[Chem.Mol | None, str | None]:
    """Parse a SMILES or an InChI (recognised by its ``InChI=`` prefix) into a sanitised molecule.

    Parameters
    ----------
    text
        The structure; surrounding whitespace is ignored.
    max_atoms
        Largest accepted molecule, in graph atoms (implicit hydrogens do not count).

    Returns
    -------
    tuple[Chem.Mol | None, str | None]
        ``(mol, None)`` on success, else ``(None, reason)`` with a reason a user can act on, such as
        ``"invalid SMILES: syntax error in 'C1CC(('"`` or
        ``"structure too large: 1,200 atoms (limit 1,000)"``.
        Nothing is written to stderr either way.
    """
    # A missing table cell arrives as None or NaN rather than "".
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        return None, "empty structure"
    if len(text) > MAX_STRUCTURE_LENGTH:
        return None, f"structure too long: {len(text):,} characters (limit {MAX_STRUCTURE_LENGTH:,})"
    kind = "InChI" if text.startswith(INCHI_PREFIX) else "SMILES"
    if any(c.isspace() for c in text):
        # RDKit would silently read "CC O" as "CC" (the rest is taken as a name); refuse instead.
        return None, f"invalid {kind}: contains whitespace in {_quote(text)}"
    with rdBase.BlockLogs():
        if kind == "InChI":
            mol, reason = _parse_inchi(text, max_atoms)
        else:
            mol, reason = _parse_smiles(text)
    if mol is None:
        return None, reason
    if mol.GetNumAtoms() == 0:
        return None, "empty structure: no atoms"
    if mol.GetNumAtoms() > max_atoms:
        return None, _too_large(mol.GetNumAtoms(), max_atoms)
    return mol, None


def _parse_smiles(text: str) -> tuple[Chem.Mol | None, str | None]:
    mol = Chem.MolFromSmiles(text)
    if mol is not None:
        return mol, None
    # Failed: parse without sanitising to tell a syntax error from a chemistry error (valence, kekulisation),
    # whose exception message says what is wrong.
    unsanitised = Chem.MolFromSmiles(text, sanitize=False)
    if unsanitised is None:
        return None, f"invalid SMILES: syntax error in {_quote(text)}"
    try:
        Chem.SanitizeMol(unsanitised)
    except (Chem.MolSanitizeException, RuntimeError, ValueError) as exc:
        return None, f"invalid SMILES: {_one_line(exc)}"
    return None, f"invalid SMILES: {_quote(text)}"


def _parse_inchi(text: str, max_atoms: int) -> tuple[Chem.Mol | None, str | None]:
    # The formula layer tells the size before the InChI library builds anything.
    declared = inchi_heavy_atom_count(text)
    if declared is not None and declared > max_atoms:
        return None, _too_large(declared, max_atoms)
    try:
        mol, _code, message, log = rdinchi.InchiToMol(text, True, True)
    except (Chem.MolSanitizeException, RuntimeError, ValueError) as exc:
        return None, f"invalid InChI: {_one_line(exc)}"
    if mol is None:
        detail = message.strip() or _last_line(log) or "not readable"
        return None, f"invalid InChI: {detail}"
    return mol, None


def inchi_heavy_atom_count(inchi: str) -> int | None:
    """Number of non-hydrogen atoms declared by an InChI's formula layer, or None if it has none.

    ``"InChI=1S/C6H12N2.2Na/..."`` -> 10.
    """
    layers = inchi.split("/")
    if len(layers) < 2 or not layers[1]:
        return None
    total = 0
    for component in layers[1].split("."):
        multiplier = 1
        match = _FORMULA_MULTIPLIER.match(component)
        if match:
            multiplier, component = int(match.group(1)), match.group(2)
        for element, count in _FORMULA_ELEMENT.findall(component):
            if element != "H":
                total += multiplier * (int(count) if count else 1)
    return total


#: Heavy atoms from which a second fragment is taken for a drug of its own (a mixture such as amoxicillin with
#: clavulanate, 13), not a counter-ion (chloride 1, mesylate 5, maleate 8, tartrate 10, tosylate 11).
MIXTURE_FRAGMENT_ATOMS = 12


def parent_molecule(mol: Chem.Mol) -> Chem.Mol | None:
    """The drug a salt or charged form is given as: its largest organic fragment, neutralised where a neutral
    form exists ("sertraline hydrochloride" -> sertraline, "warfarin sodium" -> warfarin).

    None when that is the molecule itself (one fragment, no charge), when a second fragment is as large as a drug
    (a mixture of two drugs is not one of them), or when RDKit cannot derive it."""
    fragments = sorted((f.GetNumHeavyAtoms() for f in Chem.GetMolFrags(mol, asMols=True)), reverse=True)
    if len(fragments) > 1 and fragments[1] >= MIXTURE_FRAGMENT_ATOMS:
        return None
    if len(fragments) == 1 and not any(atom.GetFormalCharge() for atom in mol.GetAtoms()):
        return None
    from rdkit.Chem.MolStandardize import rdMolStandardize

    try:
        with rdBase.BlockLogs():
            parent = rdMolStandardize.ChargeParent(mol)
    except (RuntimeError, ValueError):  # RDKit's standardiser raises these on molecules it cannot handle
        return None
    return parent if parent is not None and parent.GetNumAtoms() else None


def canonical_smiles(mol: Chem.Mol) -> str:
    """RDKit canonical isomeric SMILES: the same string for every way of writing the same molecule."""
    with rdBase.BlockLogs():
        return Chem.MolToSmiles(mol, canonical=True, isomericSmiles=True)


def structure_key(structure: str | Chem.Mol) -> str:
    """Cache key of a structure: the SHA-1 hex digest of its canonical SMILES.

    Parameters
    ----------
    structure
        A SMILES, an InChI, or an already parsed molecule.

    Raises
    ------
    InvalidStructureError
        If the text cannot be parsed; the message gives the reason.
    """
    if isinstance(structure, Chem.Mol):
        return smiles_key(canonical_smiles(structure))
    mol, reason = parse_structure(structure)
    if mol is None:
        raise InvalidStructureError(reason)
    return smiles_key(canonical_smiles(mol))


def smiles_key(canonical: str) -> str:
    """SHA-1 hex digest of an already canonical SMILES."""
    return hashlib.sha1(canonical.encode("utf-8")).hexdigest()


def parse_drug_structure(smiles: str, inchi: str = "") -> tuple[Chem.Mol | None, str | None]:
    """Molecule of one drug-table row: its SMILES if that parses, else its InChI.

    Returns ``(None, "no structure")`` when both are empty, and otherwise the reason of the first
    structure that was tried, so a bad SMILES is reported even when the InChI is also bad.
    """
    candidates = [s for s in (smiles, inchi) if s and s.strip()]
    if not candidates:
        return None, "no structure"
    first_reason = None
    for text in candidates:
        mol, reason = parse_structure(text)
        if mol is not None:
            return mol, None
        first_reason = first_reason or reason
    return None, first_reason


def _too_large(n_atoms: int, max_atoms: int) -> str:
    return f"structure too large: {n_atoms:,} atoms (limit {max_atoms:,})"


def _quote(text: str) -> str:
    return repr(text if len(text) <= _QUOTE_LENGTH else text[:_QUOTE_LENGTH] + "...")


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def _last_line(log: str) -> str:
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    return lines[-1] if lines else ""
