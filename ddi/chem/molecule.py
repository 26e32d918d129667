"""Text -> RDKit molecule: parse SMILES or InChI safely, canonicalise, and key structures for caching.

Every parse runs with RDKit's logging blocked, so a bad structure yields a reason string for the user
instead of C++ warnings on stderr. Inputs are bounded (``MAX_STRUCTURE_LENGTH`` characters, ``MAX_ATOMS``
atoms) so that a hostile or corrupt structure cannot exhaust memory or time.
"""

from __future__ import annotations

import functools
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


#: Heavy atoms from which an organic fragment that is not a known counter-ion or solvent is taken for a drug of
#: its own: a drug as small as metformin (9) or paracetamol (11) given beside another is a mixture, not a salt.
MIXTURE_FRAGMENT_ATOMS = 6
#: The counter-ions and solvents of drug salts and solvates, by name, as neutral SMILES; such a fragment is dropped
#: whatever its size ("hydroxyzine pamoate" -> hydroxyzine). Inorganic fragments (no carbon) always are.
COUNTER_IONS: dict[str, str] = {
    "acetic acid": "CC(=O)O",
    "formic acid": "OC=O",
    "propionic acid": "CCC(=O)O",
    "trifluoroacetic acid": "OC(=O)C(F)(F)F",
    "maleic / fumaric acid": "OC(=O)C=CC(=O)O",
    "succinic acid": "OC(=O)CCC(=O)O",
    "oxalic acid": "OC(=O)C(=O)O",
    "malonic acid": "OC(=O)CC(=O)O",
    "adipic acid": "OC(=O)CCCCC(=O)O",
    "tartaric acid": "OC(=O)C(O)C(O)C(=O)O",
    "malic acid": "OC(=O)CC(O)C(=O)O",
    "lactic acid": "CC(O)C(=O)O",
    "glycolic acid": "OCC(=O)O",
    "citric acid": "OC(=O)CC(O)(CC(=O)O)C(=O)O",
    "gluconic acid": "OCC(O)C(O)C(O)C(O)C(=O)O",
    "benzoic acid": "OC(=O)c1ccccc1",
    "salicylic acid": "OC(=O)c1ccccc1O",
    "hippuric acid": "OC(=O)CNC(=O)c1ccccc1",
    "orotic acid": "OC(=O)c1cc(=O)[nH]c(=O)[nH]1",
    "aspartic acid": "NC(CC(=O)O)C(=O)O",
    "glutamic acid": "NC(CCC(=O)O)C(=O)O",
    "xinafoic acid": "OC(=O)c1cc2ccccc2cc1O",
    "pamoic acid": "OC(=O)c1c(O)c(Cc2c(O)c(C(=O)O)cc3ccccc23)c2ccccc2c1",
    "stearic acid": "CCCCCCCCCCCCCCCCCC(=O)O",
    "palmitic acid": "CCCCCCCCCCCCCCCC(=O)O",
    "oleic acid": "CCCCCCCCC=CCCCCCCCC(=O)O",
    "saccharin": "O=C1NS(=O)(=O)c2ccccc12",
    "methanesulfonic acid (mesylate)": "CS(=O)(=O)O",
    "ethanesulfonic acid (esylate)": "CCS(=O)(=O)O",
    "isethionic acid": "OCCS(=O)(=O)O",
    "edisylic acid": "OS(=O)(=O)CCS(=O)(=O)O",
    "benzenesulfonic acid (besylate)": "OS(=O)(=O)c1ccccc1",
    "p-toluenesulfonic acid (tosylate)": "Cc1ccc(S(=O)(=O)O)cc1",
    "naphthalenesulfonic acid (napsylate)": "OS(=O)(=O)c1ccc2ccccc2c1",
    "naphthalenedisulfonic acid (napadisylate)": "OS(=O)(=O)c1cccc2c(S(=O)(=O)O)cccc12",
    "camphorsulfonic acid (camsylate)": "CC1(C)C2CCC1(CS(=O)(=O)O)C(=O)C2",
    "methyl sulfate": "COS(=O)(=O)O",
    "ethyl sulfate": "CCOS(=O)(=O)O",
    "lauryl sulfate (estolate)": "CCCCCCCCCCCCOS(=O)(=O)O",
    "ethanolamine": "NCCO",
    "diethanolamine": "OCCNCCO",
    "triethanolamine": "OCCN(CCO)CCO",
    "choline": "C[N+](C)(C)CCO",
    "tromethamine": "NC(CO)(CO)CO",
    "meglumine": "CNCC(O)C(O)C(O)C(O)CO",
    "tert-butylamine (erbumine)": "CC(C)(C)N",
    "dicyclohexylamine": "C1CCC(NC2CCCCC2)CC1",
    "benzathine": "C(CNCc1ccccc1)NCc1ccccc1",
    "lysine": "NCCCCC(N)C(=O)O",
    "arginine": "NC(=N)NCCCC(N)C(=O)O",
    "glycine": "NCC(=O)O",
    "triethylamine": "CCN(CC)CC",
    "ethanol": "CCO",
    "methanol": "CO",
    "isopropanol": "CC(C)O",
    "acetone": "CC(C)=O",
    "dimethyl sulfoxide": "CS(C)=O",
    "ethyl acetate": "CCOC(C)=O",
    "dichloromethane": "ClCCl",
    "tetrahydrofuran": "C1CCOC1",
    "dioxane": "C1COCCO1",
    "acetonitrile": "CC#N",
}


def _connectivity(mol: Chem.Mol) -> str:
    """The first block of the InChIKey: the skeleton, the same for an acid and its anion."""
    with rdBase.BlockLogs():
        return (Chem.MolToInchiKey(mol) or "")[:14]


@functools.cache
def _counter_ion_skeletons() -> frozenset[str]:
    return frozenset(_connectivity(Chem.MolFromSmiles(smiles)) for smiles in COUNTER_IONS.values())


def is_counter_ion(fragment: Chem.Mol) -> bool:
    """Whether a fragment of a salt is its counter-ion or solvent: inorganic, or one of ``COUNTER_IONS``."""
    if not any(atom.GetAtomicNum() == 6 for atom in fragment.GetAtoms()):
        return True
    return _connectivity(fragment) in _counter_ion_skeletons()


def parent_molecule(mol: Chem.Mol) -> Chem.Mol | None:
    """The drug a salt or charged form is given as: its largest fragment that is not a counter-ion or solvent,
    neutralised where a neutral form exists ("sertraline hydrochloride" -> sertraline, "warfarin sodium" ->
    warfarin, "hydroxyzine pamoate" -> hydroxyzine).

    None when that is the molecule itself (one fragment, no charge), when another fragment is a drug too (a
    mixture of two drugs is not one of them: an organic fragment of ``MIXTURE_FRAGMENT_ATOMS`` or more heavy
    atoms that is not a counter-ion or solvent), or when RDKit cannot derive it."""
    fragments = Chem.GetMolFrags(mol, asMols=True)
    if len(fragments) == 1 and not any(atom.GetFormalCharge() for atom in mol.GetAtoms()):
        return None
    by_size = sorted(fragments, key=lambda f: f.GetNumHeavyAtoms(), reverse=True)
    drugs = [f for f in by_size if not is_counter_ion(f)] or by_size[:1]
    if any(f.GetNumHeavyAtoms() >= MIXTURE_FRAGMENT_ATOMS for f in drugs[1:]):
        return None
    from rdkit.Chem.MolStandardize import rdMolStandardize

    try:
        with rdBase.BlockLogs():
            parent = rdMolStandardize.ChargeParent(drugs[0])
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
