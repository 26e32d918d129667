"""The pharmacology knowledge graph: relations, the graph, relation paths between drugs, and named rules."""

from ddi.kg.graph import KnowledgeGraph, UnknownDrugError
from ddi.kg.paths import RelationPath, relation_paths
from ddi.kg.relations import RELATION_GROUPS, RelationVocab
from ddi.kg.rules import RULE_NAMES, RULES, RuleMatch, fired_rules, rule_features

__all__ = [
    "RELATION_GROUPS",
    "RULES",
    "RULE_NAMES",
    "KnowledgeGraph",
    "RelationPath",
    "RelationVocab",
    "RuleMatch",
    "UnknownDrugError",
    "fired_rules",
    "relation_paths",
    "rule_features",
]
