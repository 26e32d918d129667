"""``DrugResolver`` on the real DrugBank data: what a user may type, and what they are told when it fails."""

from __future__ import annotations

import time

import pytest

from ddi.chem.molecule import InvalidStructureError
from ddi.errors import UserInputError
from ddi.serve.resolve import AmbiguousDrugError, CombinationDrugError, DrugResolver, UnknownDrugError

ASPIRIN_SMILES = "CC(=O)OC1=CC=CC=C1C(O)=O"
ASPIRIN_INCHI = "InChI=1S/C9H8O4/c1-6(10)13-8-5-3-2-4-7(8)9(11)12/h2-5H,1H3,(H,11,12)"


@pytest.mark.parametrize(
    ("text", "drug_id", "kind"),
    [
        ("DB00641", "DB00641", "id"),
        ("db00641", "DB00641", "id"),
        (" DB00641\t", "DB00641", "id"),
        ("simvastatin", "DB00641", "name"),
        ("SIMVASTATIN ", "DB00641", "name"),
        ("Acetylsalicylic acid", "DB00945", "name"),
        ("acetyl-salicylic, acid", "DB00945", "name"),
        ("acetylsalicylicacid", "DB00945", "name"),
        ("Aspirin", "DB00945", "synonym"),
        ("aspirin", "DB00945", "synonym"),
        ("ASA", "DB00945", "synonym"),
        ("Acetylsalicylsäure", "DB00945", "synonym"),
        ("acetylsalicylsaure", "DB00945", "synonym"),  # accents may be left out
        ("Albuterol", "DB01001", "synonym"),  # US name of salbutamol
        ("(-)-albuterol", "DB13139", "synonym"),  # the stereo prefix names another drug
        ("BSYNRYMUTXBXSQ-UHFFFAOYSA-N", "DB00945", "inchikey"),
        ("InChIKey=BSYNRYMUTXBXSQ-UHFFFAOYSA-N", "DB00945", "inchikey"),
        ("bsynrymutxbxsq-uhfffaoysa-n", "DB00945", "inchikey"),
        # A structure of a model drug resolves to that drug, whichever way it is written.
        (ASPIRIN_SMILES, "DB00945", "structure"),
        ("OC(=O)c1ccccc1OC(C)=O", "DB00945", "structure"),
        (ASPIRIN_INCHI, "DB00945", "structure"),
        ("smiles:OC(=O)c1ccccc1OC(C)=O", "DB00945", "structure"),
    ],
)
def test_resolves_what_a_user_types(resolver, text, drug_id, kind):
    drug = resolver.resolve(text)
    assert (drug.drugbank_id, drug.kind, drug.in_model) == (drug_id, kind, True)
    assert drug.query == text
    assert drug.structure


@pytest.mark.parametrize(
    ("text", "drug_id", "kind"),
    [
        # Lines of prescriptions and health records: dose, dosage form, salt, a bracketed brand.
        ("Simvastatin 40mg tablet", "DB00641", "trimmed name"),
        ("aspirin 81 mg", "DB00945", "trimmed synonym"),
        ("warfarin sodium", "DB00682", "trimmed name"),
        ("Ciprofloxacin HCl 500mg tab", "DB00537", "trimmed name"),
        ("Esomeprazole magnesium 40 mg DR capsule", "DB00736", "trimmed name"),
        ("Metoprolol succinate ER 50 mg", "DB00264", "trimmed name"),
        ("clopidogrel bisulfate", "DB00758", "trimmed name"),
        ("Warfarin (Coumadin)", "DB00682", "trimmed name"),
        ("Simvastatin-40mg", "DB00641", "trimmed name"),
        # An item of a pasted numbered list.
        ("1. warfarin 5 mg daily", "DB00682", "trimmed name"),
        ("2) Clarithromycin", "DB01211", "trimmed name"),
        ("#3 aspirin", "DB00945", "trimmed synonym"),
        # The whole text wins when it names a drug: a salt that is a drug of its own is not cut.
        ("sodium chloride", "DB09153", "name"),
        ("Fluticasone propionate", "DB00588", "name"),
        ("Potassium chloride 20 mEq", "DB00761", "trimmed name"),
    ],
)
def test_a_prescription_line_resolves_to_its_drug(resolver, text, drug_id, kind):
    drug = resolver.resolve(text)
    assert (drug.drugbank_id, drug.kind) == (drug_id, kind)
    assert drug.query == text


@pytest.mark.parametrize("text", ["HCl", "tablet 40 mg", "500 mg", "sodium"])
def test_a_dose_form_or_salt_alone_names_no_drug_by_trimming(resolver, text):
    try:
        drug = resolver.resolve(text)
    except UnknownDrugError:
        return
    assert not drug.kind.startswith("trimmed"), (text, drug)


@pytest.mark.parametrize(
    "text",
    [
        "amoxicillin/clavulanate",
        "Amoxicillin-Clavulanate 875 mg",
        "clavulanate + amoxicillin",
        "Amoxicillin and clavulanate potassium",
    ],
)
def test_a_combination_product_names_its_drugs_instead_of_a_smiles_error(resolver, text):
    with pytest.raises(CombinationDrugError) as caught:
        resolver.resolve(text)
    assert {d for d, _ in caught.value.candidates} == {"DB01060", "DB00766"}
    assert "combines 2 drugs" in str(caught.value) and "score each of them as its own pair" in str(caught.value)


def test_a_model_name_wins_over_a_catalogue_drug_of_the_same_name(resolver):
    # The vocabulary also has DB13919 "Candesartan"; the model's drug DB00796 is named Candesartan.
    assert resolver.resolve("candesartan").drugbank_id == "DB00796"


def test_catalogue_drug_outside_the_model_comes_with_its_inchi(resolver):
    phenol = resolver.resolve("Phenol")
    assert (phenol.drugbank_id, phenol.in_model) == ("DB03255", False)
    assert phenol.structure.startswith("InChI=1S/C6H6O/")
    lepirudin = resolver.resolve("db00001")  # a protein drug: in the catalogue, no structure
    assert (lepirudin.name, lepirudin.in_model, lepirudin.structure) == ("Lepirudin", False, None)


def test_a_new_structure_resolves_without_a_drugbank_id(resolver):
    drug = resolver.resolve("c1ccc2c(c1)oc1ccccc12")  # dibenzofuran: in no table
    assert (drug.drugbank_id, drug.kind, drug.in_model) == (None, "structure", False)
    assert drug.structure == "c1ccc2c(c1)oc1ccccc12"
    assert drug.name == "c1ccc2c(c1)oc1ccccc12"  # short enough to read in a sentence
    # A long SMILES would hide the sentence it is named in: the molecule is named by its formula.
    long_smiles = "CCCCCCCCCCCCCCCCOc1ccc2c(c1)oc1ccccc12"
    drug = resolver.resolve(long_smiles)
    assert (drug.name, drug.structure, drug.drugbank_id) == ("new molecule C28H40O2", long_smiles, None)


WARFARIN_SMILES = "CC(=O)CC(C1=CC=CC=C1)C1=C(O)C2=C(OC1=O)C=CC=C2"


def test_every_model_drug_is_found_by_its_own_smiles(resolver, benchmark_tables):
    """A SMILES copied from DrugBank names its drug, even where the key DrugBank lists differs from RDKit's
    (warfarin's is a non-standard InChIKey); a structure two drugs share may name either."""
    from ddi.chem.molecule import structure_key

    drugs = benchmark_tables.drugs
    smiles_of = dict(zip(drugs["drugbank_id"], drugs["smiles"], strict=True))
    for drug_id, smiles in smiles_of.items():
        if not smiles:
            continue
        found = resolver.resolve(f"smiles:{smiles}").drugbank_id
        assert found == drug_id or structure_key(smiles_of[found]) == structure_key(smiles), (drug_id, found)
    warfarin = resolver.resolve(WARFARIN_SMILES)
    assert (warfarin.drugbank_id, warfarin.kind) == ("DB00682", "structure")


@pytest.mark.parametrize(
    ("text", "drug_id"),
    [
        ("CN[C@H]1CC[C@@H](C2=CC(Cl)=C(Cl)C=C2)C2=CC=CC=C12.Cl", "DB01104"),  # sertraline hydrochloride
        ("CC(=O)CC(C1=CC=CC=C1)C1=C([O-])C2=C(OC1=O)C=CC=C2.[Na+]", "DB00682"),  # warfarin sodium
        ("CC(=O)OC1=CC=CC=C1C([O-])=O", "DB00945"),  # the aspirin anion
        # hydroxyzine pamoate: the counter-ion is the larger fragment
        (
            "OCCOCCN1CCN(CC1)C(c1ccccc1)c1ccc(Cl)cc1.OC(=O)c1c(O)c(Cc2c(O)c(C(=O)O)cc3ccccc23)c2ccccc2c1",
            "DB00557",
        ),
        ("CCOC(=O)C1=C(COCCN)NC(C)=C(C1c1ccccc1Cl)C(=O)OC.OS(=O)(=O)c1ccccc1", "DB00381"),  # amlodipine besylate
    ],
)
def test_a_salt_or_charged_form_is_its_drug(resolver, text, drug_id):
    drug = resolver.resolve(text)
    assert (drug.drugbank_id, drug.kind, drug.in_model) == (drug_id, "parent structure", True)
    assert drug.structure == text  # what the user gave is kept


@pytest.mark.parametrize(
    ("larger", "larger_id", "smaller"),
    [
        (  # amoxicillin with clavulanate
            "[H][C@]12SC(C)(C)[C@@H](N1C(=O)[C@H]2NC(=O)[C@H](N)C1=CC=C(O)C=C1)C(O)=O",
            "DB01060",
            "[H][C@@]12CC(=O)N1[C@@H](C(O)=O)\\C(O2)=C\\CO",
        ),
        ("CC(C)Cc1ccc(cc1)C(C)C(=O)O", "DB01050", "CC(=O)Nc1ccc(O)cc1"),  # ibuprofen with paracetamol (11 atoms)
    ],
)
def test_a_mixture_of_two_drugs_is_not_read_as_the_larger_one(resolver, larger, larger_id, smaller):
    assert resolver.resolve(larger).drugbank_id == larger_id
    mixture = resolver.resolve(f"{larger}.{smaller}")
    assert (mixture.drugbank_id, mixture.kind) == (None, "structure")


def test_a_typo_suggests_the_drug(resolver):
    with pytest.raises(UnknownDrugError) as caught:
        resolver.resolve("simvastatinn")
    message = str(caught.value)
    assert message.startswith("unknown drug 'simvastatinn'; did you mean Simvastatin (DB00641)")
    assert caught.value.suggestions[0] == "Simvastatin (DB00641)"
    assert len(caught.value.suggestions) <= 5
    assert isinstance(caught.value, UserInputError)


def test_an_unknown_brand_like_name_is_pointed_to_its_active_ingredient(resolver):
    """The benchmark's vocabulary has no brands: a user typing "Lipitor" learns to write the generic name."""
    with pytest.raises(UnknownDrugError) as caught:
        resolver.resolve("Lipitor")
    message = str(caught.value)
    assert message.startswith("unknown drug 'Lipitor'")
    # after the suggestions' question, the advice is a sentence of its own (not "...?; if it is")
    advice = "if it is a brand name, write its active ingredient (the data may list no brands)"
    assert message.endswith(f"? {advice.capitalize()}" if caught.value.suggestions else f"; {advice}")
    with pytest.raises(UnknownDrugError) as caught:
        resolver.resolve("xyzzy")
    assert "brand" not in str(caught.value)


def test_a_typo_in_the_first_letter_still_suggests_the_drug(resolver):
    with pytest.raises(UnknownDrugError, match=r"Clarithromycin \(DB01211\)"):
        resolver.resolve("klarithromycin")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("xyzzy", "unknown drug 'xyzzy'"),
        ("DB99999", "unknown drug 'DB99999': no DrugBank drug has this id"),
        ("AAAAAAAAAAAAAA-BBBBBBBBBB-C", "no drug has this InChIKey"),
        ("", "empty drug name"),
        ("   ", "empty drug name"),
        ("x" * 6000, "drug text too long"),
    ],
)
def test_unknown_input_says_what_was_not_found(resolver, text, message):
    with pytest.raises(UnknownDrugError, match=message):
        resolver.resolve(text)


@pytest.mark.parametrize("word", ["CCB", "NO", "B12", "Tylenol3"])
def test_words_and_codes_are_never_read_as_smiles(resolver, word):
    # "CCB" and "NO" parse as SMILES and "B12" nearly does; they must come back as unknown drugs.
    with pytest.raises(UnknownDrugError):
        resolver.resolve(word)


def test_a_chain_that_parses_as_smiles_is_told_how_to_force_it(resolver):
    with pytest.raises(UnknownDrugError, match="write it as 'smiles:CCO'"):
        resolver.resolve("CCO")
    assert resolver.resolve("smiles:CCO").kind == "structure"
    with pytest.raises(UnknownDrugError) as caught:
        resolver.resolve("Tylenol3")
    assert "smiles:" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("C1CC(", "invalid SMILES: syntax error"),
        ("CC(C)(C)(C)(C)C", "invalid SMILES: Explicit valence"),
        ("InChI=1S/garbage", "invalid InChI"),
        ("smiles:", "empty structure"),
    ],
)
def test_a_broken_structure_says_why(resolver, text, reason):
    with pytest.raises(InvalidStructureError, match=reason):
        resolver.resolve(text)


def test_a_synonym_of_two_drugs_is_ambiguous(resolver):
    # Without its hyphen "alpha tocopherol" matches vitamin E's "alpha-tocopherol" and DL-alpha-tocopherol's
    # "(+)-alpha-tocopherol" equally well.
    with pytest.raises(AmbiguousDrugError) as caught:
        resolver.resolve("alpha tocopherol")
    ids = {drug_id for drug_id, _ in caught.value.candidates}
    assert ids == {"DB00163", "DB14476"}
    assert "Vitamin E (DB00163)" in str(caught.value)
    assert "give a DrugBank id" in str(caught.value)


def test_search_by_prefix(resolver):
    hits = resolver.search("simva", limit=5)
    assert hits[0] == ("DB00641", "Simvastatin", "Simvastatin")
    assert len({drug_id for drug_id, _, _ in hits}) == len(hits)  # one row per drug
    assert ("DB00945", "Acetylsalicylic acid", "Aspirin") in resolver.search("aspi", limit=5)
    assert [h[0] for h in resolver.search("db0064", limit=3)] == ["DB00640", "DB00641", "DB00642"]
    assert resolver.search("ACETYL-SALICYLIC")[0][:2] == ("DB00945", "Acetylsalicylic acid")
    assert resolver.search("") == []
    assert resolver.search("qqqqq") == []


def test_search_can_keep_to_the_models_drugs(resolver):
    hits = resolver.search("a", limit=20, in_model_only=True)
    assert len(hits) == 20
    assert all(resolver.resolve(drug_id).in_model for drug_id, _, _ in hits)


def test_search_and_build_are_fast(benchmark_tables, resolver):
    start = time.perf_counter()
    DrugResolver.from_tables(benchmark_tables)
    build = time.perf_counter() - start
    prefixes = ("a", "s", "simva", "db00", "acetyl", "zz", "5-fl", "interferon")
    rounds = []
    for _ in range(3):  # the best of three rounds: a garbage-collector pass over the whole test session's
        start = time.perf_counter()  # objects can land in any one of them and is not the search's cost
        for prefix in prefixes:
            resolver.search(prefix)
        rounds.append((time.perf_counter() - start) / len(prefixes))
    per_query = min(rounds)
    # Budgets (2 s, 5 ms) with room for a loaded test machine.
    assert build < 4.0, f"resolver build took {build:.2f} s"
    assert per_query < 0.010, f"search took {per_query * 1000:.1f} ms per query"


def test_without_catalogues_only_the_models_drugs_resolve(benchmark_tables, tmp_path):
    resolver = DrugResolver.from_tables(benchmark_tables, catalogue_dir=tmp_path)
    assert resolver.resolve("aspirin").drugbank_id == "DB00945"  # drugs.tsv lists the synonym too
    with pytest.raises(UnknownDrugError):
        resolver.resolve("Phenol")


def test_a_long_unknown_text_is_cut_in_the_message(resolver):
    with pytest.raises(UnknownDrugError) as exc:
        resolver.resolve("C" * 3000)
    message = str(exc.value)
    assert message.startswith("unknown drug 'CCCC") and "... (3,000 characters)" in message
    assert len(message) < 300


@pytest.mark.parametrize("text", ["smiles:*", "smiles:*CC(=O)O", "[*]c1ccccc1", "*CC", "*C(=O)O"])  # "*CC" is no "CC"
def test_a_structure_with_wildcard_atoms_is_refused(resolver, text):
    with pytest.raises(InvalidStructureError, match=r"has wildcard atoms \(\*\): give the whole molecule"):
        resolver.resolve(text)
