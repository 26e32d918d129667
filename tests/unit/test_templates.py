"""Matching DrugBank interaction descriptions to the benchmark's 86 type templates, in both word orders."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ddi.data.benchmark import read_tsv
from ddi.data.tables import DropReport, validate_interaction_types
from ddi.data.templates import TemplateMatch, TemplateMatcher, render_description

SIMVASTATIN, CLARITHROMYCIN = "DB00641", "DB01211"
README_SENTENCE = "The serum concentration of Simvastatin can be increased when it is combined with Clarithromycin."
TRANILAST = "2-{[(2E)-3-(3,4-dimethoxyphenyl)prop-2-enoyl]amino}benzoic acid"


@pytest.fixture(scope="module")
def types(data_dir: Path) -> pd.DataFrame:
    raw = read_tsv(data_dir / "interaction_types.tsv")
    return validate_interaction_types(raw, DropReport())


@pytest.fixture(scope="module")
def matcher(types: pd.DataFrame) -> TemplateMatcher:
    return TemplateMatcher(types)


def test_all_86_templates_are_compiled(matcher: TemplateMatcher) -> None:
    assert len(matcher) == 86


@pytest.mark.parametrize(
    ("record", "partner", "record_name", "partner_name"),
    [
        (SIMVASTATIN, CLARITHROMYCIN, "Simvastatin", "Clarithromycin"),
        (CLARITHROMYCIN, SIMVASTATIN, "Clarithromycin", "Simvastatin"),
    ],
    ids=["listed-under-simvastatin", "listed-under-clarithromycin"],
)
def test_readme_example_gives_the_benchmark_row_from_either_record(
    matcher: TemplateMatcher, record: str, partner: str, record_name: str, partner_name: str
) -> None:
    match = matcher.match(README_SENTENCE, record_name, partner_name)
    assert match is not None
    assert match.type_id == 73
    assert match.subject == 2
    # The README's row: DB00641 (simvastatin) DB01211 (clarithromycin) 73.
    assert match.oriented(record, partner) == (SIMVASTATIN, CLARITHROMYCIN)


def test_render_reads_the_readme_row_as_the_readme_sentence(types: pd.DataFrame) -> None:
    row = types.set_index("type").loc[73]
    sentence = render_description(row["template"], row["subject"], "Simvastatin", "Clarithromycin")
    assert sentence == README_SENTENCE


def test_every_template_round_trips_from_both_records(matcher: TemplateMatcher, types: pd.DataFrame) -> None:
    """A benchmark row read as a sentence must map back to the same type and drug order, whoever lists it."""
    failures = []
    for type_id, template, subject in zip(types["type"], types["template"], types["subject"], strict=True):
        sentence = render_description(template, subject, "Warfarin", "Acetylsalicylic acid")
        for record, partner, names in (
            ("DB00682", "DB00945", ("Warfarin", "Acetylsalicylic acid")),
            ("DB00945", "DB00682", ("Acetylsalicylic acid", "Warfarin")),
        ):
            match = matcher.match(sentence, *names)
            got = None if match is None else (match.type_id, *match.oriented(record, partner))
            if got != (type_id, "DB00682", "DB00945"):
                failures.append((type_id, record, got))
    assert failures == []


@pytest.mark.parametrize(
    "description",
    [
        README_SENTENCE.lower(),
        README_SENTENCE.upper(),
        README_SENTENCE.rstrip("."),
        "  The serum concentration of  Simvastatin can be increased\nwhen it is combined with Clarithromycin . ",
    ],
    ids=["lower", "upper", "no-period", "odd-whitespace"],
)
def test_case_whitespace_and_final_period_do_not_matter(matcher: TemplateMatcher, description: str) -> None:
    assert matcher.match(description, "Simvastatin", "Clarithromycin") == TemplateMatch(73, 2, 2)


def test_a_name_with_accents_matches_however_the_accents_are_encoded(matcher: TemplateMatcher) -> None:
    composed, decomposed = "M\u00e9salazine", "Me\u0301salazine"  # one code point, or e + combining accent
    assert composed != decomposed
    for in_name, in_sentence in ((composed, decomposed), (decomposed, composed)):
        sentence = f"The metabolism of {in_sentence} can be decreased when combined with Clarithromycin."
        assert matcher.match(sentence, "Clarithromycin", in_name) == TemplateMatch(47, 2, 1)


def test_names_with_regex_characters_match_literally(matcher: TemplateMatcher) -> None:
    sentence = f"The metabolism of {TRANILAST} can be decreased when combined with Clarithromycin."
    assert matcher.match(sentence, "Clarithromycin", TRANILAST) == TemplateMatch(47, 2, 1)
    assert matcher.match(sentence, TRANILAST, "Clarithromycin") == TemplateMatch(47, 2, 2)
    sentence = "Fluciclovine (18F) may increase the QTc-prolonging activities of Warfarin."
    assert matcher.match(sentence, "Warfarin", "Fluciclovine (18F)") == TemplateMatch(20, 2, 2)


def test_a_name_inside_the_other_name_is_not_split(matcher: TemplateMatcher) -> None:
    sentence = "Insulin Lispro may increase the hypoglycemic activities of Insulin."
    assert matcher.match(sentence, "Insulin", "Insulin Lispro") == TemplateMatch(9, 2, 2)
    assert matcher.match(sentence, "Insulin Lispro", "Insulin") == TemplateMatch(9, 2, 1)


def test_repeated_placeholder_must_name_the_same_drug(matcher: TemplateMatcher) -> None:
    template_77 = (
        "The serum concentration of the active metabolites of {a} can be increased when {b} is used in "
        "combination with {c}."
    )
    same = template_77.format(a="Clarithromycin", b="Clarithromycin", c="Rifampicin")
    assert matcher.match(same, "Rifampicin", "Clarithromycin") == TemplateMatch(77, 1, 1)
    different = template_77.format(a="Clarithromycin", b="Simvastatin", c="Rifampicin")
    assert matcher.match(different, "Rifampicin", "Clarithromycin") is None


def test_a_drug_named_differently_is_recognised_through_the_other_name(matcher: TemplateMatcher) -> None:
    # DrugBank sometimes words a description with another name of the record drug (here a brand).
    sentence = "The serum concentration of Zocor can be increased when it is combined with Clarithromycin."
    assert matcher.match(sentence, "Simvastatin", "Clarithromycin") == TemplateMatch(73, 2, 2)
    assert matcher.match(sentence, "Clarithromycin", "Simvastatin") == TemplateMatch(73, 2, 1)


@pytest.mark.parametrize(
    "description",
    [
        "Monitor therapy due to enhanced hypotensive effect of aliskiren.",
        # One word short of template 67: near misses must not be forced into a type.
        "Rifampicin can cause a decrease in the absorption of Warfarin resulting in a reduced serum concentration.",
        # A template sentence about two other drugs says nothing about this pair.
        "The metabolism of Digoxin can be increased when combined with Phenytoin.",
        "",
    ],
    ids=["free-text", "near-miss", "other-drugs", "empty"],
)
def test_descriptions_matching_no_template_give_none(matcher: TemplateMatcher, description: str) -> None:
    assert matcher.match(description, "Rifampicin", "Warfarin") is None


@pytest.mark.parametrize(
    ("subject", "drug_placeholder", "expected"),
    [
        (1, 1, ("record", "partner")),
        (1, 2, ("partner", "record")),
        (2, 1, ("partner", "record")),
        (2, 2, ("record", "partner")),
        (3, 1, ("record", "partner")),
        (3, 2, ("partner", "record")),
    ],
)
def test_orientation_follows_the_subject_column(subject: int, drug_placeholder: int, expected: tuple) -> None:
    assert TemplateMatch(1, subject, drug_placeholder).oriented("record", "partner") == expected


def test_templates_that_read_the_same_are_refused() -> None:
    # Differing only in case and the final period, they could not be told apart in a description.
    templates = [
        "#Drug1 may increase the X activities of #Drug2.",
        "#Drug1 may increase the x activities of #Drug2",
    ]
    types = pd.DataFrame({"type": [1, 2], "template": templates, "subject": [1, 1]})
    with pytest.raises(ValueError, match="types 1 and 2"):
        TemplateMatcher(types)
