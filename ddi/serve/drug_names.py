"""What a prescription line adds to a drug's name, and the names left once it is taken away.

Real tables of drug pairs come from prescriptions and health records: "Simvastatin 40mg tablet", "warfarin
sodium", "metformin HCl 500 mg ER", "Warfarin (Coumadin)", "2. lisinopril 10 mg" from a numbered list. DrugBank
names the active moiety ("Simvastatin", "Warfarin", "Metformin"), so the resolver, when the whole text names no
drug, tries the names that ``name_variants`` leaves: without a list item's number, without bracketed notes,
without the dose and what follows it, then without trailing dosage-form and salt or hydrate words, one at a time.
A variant is only ever looked up as a name; the first one that names a drug wins, so the least trimmed reading is
preferred.
"""

from __future__ import annotations

import re

# A dose and everything after it: "40mg tablet", "0.5 mg/ml", "81 mg", "10 units", "5 %", "800/160 mg".
_DOSE = re.compile(
    r"\s*\b\d+(?:[.,]\d+)?(?:\s*[/-]\s*\d+(?:[.,]\d+)?)*\s*(?:mg|mcg|µg|μg|ug|g|kg|ml|l|iu|units?|meq|mmol|%)(?![a-z]).*$",
    re.IGNORECASE,
)
# A bracketed note: "(Coumadin)", "[oral]".
_BRACKETED = re.compile(r"\s*[(\[][^()\[\]]*[)\]]")
_BRACKET_CONTENT = re.compile(r"[(\[]([^()\[\]]+)[)\]]")
_NUMBER = re.compile(r"\d+(?:[.,/]\d+)*")
# The number or bullet of a pasted list item: "1. ", "2) ", "#3 ". A drug name never starts with a number and a
# full stop or parenthesis followed by a space ("5-Fluorouracil" has no space).
_LIST_MARKER = re.compile(r"^\s*(?:#?\d{1,3}[.)]|#\d{1,3})\s+")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Trailing words of a dosage form or route: never part of a DrugBank name's end.
DOSAGE_FORM_WORDS = _words(
    """
    tablet tablets tab tabs capsule capsules cap caps caplet caplets injection injectable inj oral solution
    suspension syrup elixir cream ointment gel lotion patch spray drops powder granules suppository inhaler
    er xr sr xl cr dr la odt ec iv im po sc sq chewable film-coated coated extended-release delayed-release
    modified-release prolonged-release release extended delayed modified prolonged
    """
)
#: Trailing words naming a salt, ester counter-ion or hydrate: the drug is the moiety before them.
SALT_WORDS = _words(
    """
    hydrochloride hcl dihydrochloride hydrobromide hbr hydroiodide sodium disodium potassium dipotassium calcium
    magnesium besylate besilate mesylate mesilate dimesylate maleate hemifumarate fumarate tartrate bitartrate
    citrate succinate acetate phosphate diphosphate sulfate sulphate bisulfate nitrate bromide chloride
    iodide tosylate gluconate lactate malate stearate carbonate bicarbonate oxalate pamoate embonate napsylate
    hyclate tromethamine trometamol meglumine monohydrate dihydrate trihydrate hemihydrate sesquihydrate hydrate
    anhydrous salt
    """
)


def name_variants(text: str) -> list[str]:
    """The names ``text`` may stand for once prescription details are taken away, least trimmed first.

    ``"Simvastatin 40mg tablet"`` -> ``["Simvastatin"]``; ``"metformin HCl ER"`` -> ``["metformin HCl",
    "metformin"]``; ``"Warfarin (Coumadin)"`` -> ``["Warfarin", "Coumadin"]``. The text itself is not among them,
    nor is any variant that would leave no name (a salt or form word alone).
    """
    original = " ".join(text.split())
    out: list[str] = []

    def add(candidate: str) -> None:
        candidate = " ".join(candidate.split()).strip(" ,;:-/")
        # At least three letters: the "C" or "O" inside a broken SMILES's brackets is no name.
        if candidate != original and candidate not in out and sum(c.isalpha() for c in candidate) >= 3:
            out.append(candidate)

    def trimmed(name: str) -> None:
        name = without_dose(name)
        add(name)
        words = name.split()
        while len(words) > 1 and _is_detail(words[-1]):
            words.pop()
            add(" ".join(words))

    unnumbered = _LIST_MARKER.sub("", original)
    if unnumbered != original:
        add(unnumbered)
    trimmed(_BRACKETED.sub(" ", unnumbered))
    for inner in _BRACKET_CONTENT.findall(original):
        add(inner)
        trimmed(inner)
    return out


def without_dose(text: str) -> str:
    """``text`` without its dose and what follows it: ``"warfarin 5 mg tablet"`` -> ``"warfarin"``."""
    return _DOSE.sub("", text)


def _is_detail(word: str) -> bool:
    """A trailing word of a prescription's details: a dosage form, a salt or hydrate, or a bare number (a
    strength without its unit, "Aspirin EC 81")."""
    word = word.casefold().strip(",.;")
    return word in DOSAGE_FORM_WORDS or word in SALT_WORDS or _NUMBER.fullmatch(word) is not None
