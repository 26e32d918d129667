"""Pharmacology rules on the hand-made ``kg_tiny`` graph: which fire, their sentences, the feature matrix."""

from pathlib import Path

import pytest
import torch

from ddi.kg.graph import KnowledgeGraph
from ddi.kg.rules import RULE_NAMES, RULES, RuleCounts, RuleMatch, fired_rules, rule_features
from ddi.models.rule_table import RuleTable

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "kg_tiny"
INHIBITOROL, SUBSTRATIN, INDUCERIN, LONELYN, AGONISTOL, UNNAMED = range(6)


def names(matches: list[RuleMatch]) -> list[str]:
    return [m.rule.name for m in matches]


def test_catalogue_names_are_unique_and_directional_rules_have_twins():
    assert len(set(RULE_NAMES)) == len(RULE_NAMES)
    by_name = {rule.name: rule for rule in RULES}
    for rule in RULES:
        if rule.directional and not rule.reverse:
            twin = by_name[f"{rule.name}_reverse"]
            assert (twin.head_relations, twin.tail_relations) == (rule.tail_relations, rule.head_relations)
        rule.template.format(a="A", b="B", protein="P")  # only known placeholders
    assert {"cyp_inhibition", "cyp_induction", "transporter_inhibition", "shared_target"} <= set(RULE_NAMES)


def test_rules_that_fire_for_inhibitor_then_substrate(kg):
    matches = fired_rules(kg, "Inhibitorol", "Substratin")
    assert names(matches) == [
        "cyp_inhibition",
        "transporter_inhibition",
        "opposing_target_action",
        "shared_target",
    ]
    assert matches[0].describe(kg) == (
        "Inhibitorol inhibits CYP3A4, which metabolises Substratin: the metabolism of Substratin can decrease."
    )
    assert [kg.node_names[p] for p in matches[0].proteins] == ["CYP3A4"]


def test_direction_matters(kg):
    swapped = fired_rules(kg, SUBSTRATIN, INHIBITOROL)
    assert names(swapped) == [
        "cyp_inhibition_reverse",
        "transporter_inhibition_reverse",
        "opposing_target_action_reverse",
        "shared_target",
    ]
    assert swapped[0].describe(kg) == fired_rules(kg, INHIBITOROL, SUBSTRATIN)[0].describe(kg)


def test_cyp_and_other_enzymes_are_told_apart(kg):
    matches = {m.rule.name: m for m in fired_rules(kg, INDUCERIN, SUBSTRATIN)}
    assert set(matches) == {"cyp_induction", "enzyme_induction"}
    assert [kg.node_names[p] for p in matches["cyp_induction"].proteins] == ["CYP3A4"]
    # P22309 is UGT1A1 (named from ddi's protein reference): an enzyme, but not a CYP
    assert [kg.node_names[p] for p in matches["enzyme_induction"].proteins] == ["UGT1A1"]
    assert matches["enzyme_induction"].describe(kg) == (
        "Inducerin induces UGT1A1, which metabolises Substratin: the metabolism of Substratin can increase."
    )


def test_symmetric_rules(kg):
    assert names(fired_rules(kg, AGONISTOL, INHIBITOROL)) == ["shared_target_agonist", "shared_target"]
    assert names(fired_rules(kg, SUBSTRATIN, UNNAMED)) == ["shared_target_antagonist", "shared_target"]
    assert "carrier_competition" in names(fired_rules(kg, AGONISTOL, SUBSTRATIN))


def test_drug_without_proteins_fires_nothing(kg):
    for other in range(kg.num_drugs):
        if other != LONELYN:
            assert fired_rules(kg, LONELYN, other) == []
            assert fired_rules(kg, other, LONELYN) == []


def test_describe_lists_further_proteins_in_brackets(kg):
    by_gene = {name: node for node, name in enumerate(kg.node_names)}
    rule = RULES[RULE_NAMES.index("shared_enzyme_substrate")]
    match = RuleMatch(rule, INHIBITOROL, SUBSTRATIN, (by_gene["CYP3A4"], by_gene["CYP2D6"]))
    assert match.describe(kg) == (
        "Inhibitorol and Substratin are both metabolised by CYP3A4 (also CYP2D6): they can compete for it."
    )


def test_rule_features_agree_with_fired_rules_on_every_pair(kg):
    pairs = torch.cartesian_prod(torch.arange(kg.num_drugs), torch.arange(kg.num_drugs))
    features = rule_features(kg, pairs)
    assert features.shape == (len(pairs), len(RULES))
    assert features.dtype == torch.float32
    for row, (head, tail) in zip(features, pairs.tolist(), strict=True):
        expected = torch.zeros(len(RULES))
        if head != tail:
            for match in fired_rules(kg, head, tail):
                expected[RULE_NAMES.index(match.rule.name)] = len(match.proteins)
            assert torch.allclose(row, torch.log1p(expected)), (head, tail)
    assert features.sum() > 0


def test_blocks_of_head_drugs_give_the_same_features_and_table(kg, monkeypatch):
    pairs = torch.cartesian_prod(torch.arange(kg.num_drugs), torch.arange(kg.num_drugs))
    whole, table = rule_features(kg, pairs), RuleTable(kg)
    assert kg.num_drugs < RuleCounts.BLOCK, "the default is one block here"
    monkeypatch.setattr(RuleCounts, "BLOCK", 2)  # as an export with many drugs is cut
    assert torch.equal(rule_features(kg, pairs.flip(0)), whole.flip(0))
    blocked = RuleTable(kg)
    assert torch.equal(blocked.keys, table.keys) and torch.equal(blocked.values, table.values)
    assert torch.equal(blocked.lookup(pairs[:, 0], pairs[:, 1]), whole)
    assert len(table.keys) == int((whole > 0).any(dim=1).sum()), "the table keeps exactly the pairs that fire"


def test_rule_features_edge_cases(kg):
    assert rule_features(kg, torch.empty(0, 2, dtype=torch.long)).shape == (0, len(RULES))
    with pytest.raises(ValueError):
        rule_features(kg, torch.tensor([[0, kg.num_drugs]]))


def test_rules_need_their_relation_groups(tables):
    targets_only = KnowledgeGraph.build(tables, tables.interactions, relation_groups={"target"})
    assert names(fired_rules(targets_only, INHIBITOROL, SUBSTRATIN)) == [
        "opposing_target_action",
        "shared_target",
    ]
    features = rule_features(targets_only, torch.tensor([[INHIBITOROL, SUBSTRATIN]]))
    assert features[0, RULE_NAMES.index("cyp_inhibition")] == 0
