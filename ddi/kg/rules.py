"""Named pharmacology rules: patterns ``A -r1-> P <-r2- B`` through a protein P shared by drugs A and B.

A rule fires for the ordered pair (A, B) when some protein P (optionally restricted to cytochrome P450
enzymes, or to the others) has a relation in ``head_relations`` from A and one in ``tail_relations`` from B.
Directional rules (A inhibits, B is the substrate) come with a ``_reverse`` twin for the other direction.

Two views of the same matches: ``fired_rules`` lists them for one pair, with the proteins, for explanations;
``rule_features`` counts the shared proteins of every rule for many pairs at once, as model features. Both
read only drug-protein edges, never interaction labels.

CYP enzymes are recognised by gene name (``CYP...``); a protein whose gene name is missing from the data and from
ddi's reference of drug-handling proteins (``ddi.data.protein_reference``) counts as a non-CYP enzyme.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from ddi.kg.graph import KnowledgeGraph

ANY, CYP, NON_CYP = "any", "cyp", "non_cyp"
TARGET_RELATIONS = frozenset({"target:agonist", "target:antagonist", "target:inhibitor", "target:other"})


@dataclass(frozen=True, slots=True)
class Rule:
    """One pattern ``A -head_relations-> P <-tail_relations- B``.

    ``template`` is a sentence with ``{a}``, ``{b}`` and ``{protein}`` placeholders. ``specific`` is False for
    the catch-all rules (any shared target, shared substrate, shared carrier) that name no mechanism;
    ``reverse`` marks the twin of a directional rule in which B acts on A.
    """

    name: str
    head_relations: frozenset[str]
    tail_relations: frozenset[str]
    template: str
    proteins: str = ANY
    directional: bool = True
    specific: bool = True
    reverse: bool = False

    def reversed(self) -> Rule:
        """The same pattern with A and B swapped, named ``<name>_reverse``."""
        return replace(
            self,
            name=f"{self.name}_reverse",
            head_relations=self.tail_relations,
            tail_relations=self.head_relations,
            template=self.template.format(a="{b}", b="{a}", protein="{protein}"),
            reverse=not self.reverse,
        )


def _rule(name: str, head: str | frozenset[str], tail: str | frozenset[str], template: str, **flags) -> Rule:
    def as_set(relations: str | frozenset[str]) -> frozenset[str]:
        return frozenset({relations}) if isinstance(relations, str) else relations

    return Rule(name, as_set(head), as_set(tail), template, **flags)


_BASE_RULES = (
    _rule("cyp_inhibition", "enzyme:inhibitor", "enzyme:substrate", proteins=CYP,
          template="{a} inhibits {protein}, which metabolises {b}: the metabolism of {b} can decrease."),
    _rule("cyp_induction", "enzyme:inducer", "enzyme:substrate", proteins=CYP,
          template="{a} induces {protein}, which metabolises {b}: the metabolism of {b} can increase."),
    _rule("enzyme_inhibition", "enzyme:inhibitor", "enzyme:substrate", proteins=NON_CYP,
          template="{a} inhibits {protein}, which metabolises {b}: the metabolism of {b} can decrease."),
    _rule("enzyme_induction", "enzyme:inducer", "enzyme:substrate", proteins=NON_CYP,
          template="{a} induces {protein}, which metabolises {b}: the metabolism of {b} can increase."),
    _rule("transporter_inhibition", "transporter:inhibitor", "transporter:substrate",
          template="{a} inhibits {protein}, which transports {b}: the transport of {b} can decrease."),
    _rule("transporter_induction", "transporter:inducer", "transporter:substrate",
          template="{a} induces {protein}, which transports {b}: the transport of {b} can increase."),
    _rule("opposing_target_action", "target:agonist", "target:antagonist",
          template="{a} activates {protein}, which {b} blocks: their effects can cancel out."),
    _rule("shared_target_agonist", "target:agonist", "target:agonist", directional=False,
          template="{a} and {b} both activate {protein}: their effects can add up."),
    _rule("shared_target_antagonist", "target:antagonist", "target:antagonist", directional=False,
          template="{a} and {b} both block {protein}: their effects can add up."),
    _rule("shared_target", TARGET_RELATIONS, TARGET_RELATIONS, directional=False, specific=False,
          template="{a} and {b} act on the same target, {protein}."),
    _rule("shared_enzyme_substrate", "enzyme:substrate", "enzyme:substrate", directional=False,
          specific=False, template="{a} and {b} are both metabolised by {protein}: they can compete for it."),
    _rule("carrier_competition", "carrier:carrier", "carrier:carrier", directional=False, specific=False,
          template="{a} and {b} both bind the carrier {protein}: one can displace the other."),
)  # fmt: skip

#: The rule catalogue; each directional rule is followed by its reverse. ``rule_features`` columns follow it.
RULES: tuple[Rule, ...] = tuple(
    variant for rule in _BASE_RULES for variant in ((rule, rule.reversed()) if rule.directional else (rule,))
)
RULE_NAMES: tuple[str, ...] = tuple(rule.name for rule in RULES)


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """A rule firing for the ordered pair (``head``, ``tail``) through ``proteins`` (node ids, ascending)."""

    rule: Rule
    head: int
    tail: int
    proteins: tuple[int, ...]

    def describe(self, kg: KnowledgeGraph) -> str:
        """The rule's sentence, naming the first protein and listing the others in brackets."""
        names = [kg.node_names[p] for p in self.proteins]
        protein = names[0] + (f" (also {', '.join(names[1:])})" if len(names) > 1 else "")
        return self.rule.template.format(a=kg.node_names[self.head], b=kg.node_names[self.tail], protein=protein)


def fired_rules(kg: KnowledgeGraph, head: str | int, tail: str | int) -> list[RuleMatch]:
    """The rules that fire for the ordered pair (``head``, ``tail``), in catalogue order.

    Drugs may be node ids, DrugBank ids or names (see ``KnowledgeGraph.drug_node``).
    """
    h, t = kg.drug_node(head), kg.drug_node(tail)
    head_links, tail_links = _protein_links(kg, h), _protein_links(kg, t)
    matches = []
    for rule in RULES:
        from_head = set().union(*(head_links.get(r, set()) for r in rule.head_relations))
        from_tail = set().union(*(tail_links.get(r, set()) for r in rule.tail_relations))
        shared = sorted(p for p in from_head & from_tail if _protein_allowed(rule.proteins, kg.node_names[p]))
        if shared:
            matches.append(RuleMatch(rule, h, t, tuple(shared)))
    return matches


def rule_features(kg: KnowledgeGraph, pairs: torch.Tensor) -> torch.Tensor:
    """Per pair and rule, ``log1p`` of the number of proteins through which the rule fires.

    Parameters
    ----------
    kg
        The knowledge graph.
    pairs
        ``n x 2`` long drug node ids, ordered (head, tail).

    Returns
    -------
    torch.Tensor
        ``n x len(RULES)`` float, columns in ``RULE_NAMES`` order; zero where a rule does not fire.
    """
    pairs = torch.as_tensor(pairs, dtype=torch.long)
    kg.pair_keys(pairs)  # validates shape and range
    out = np.zeros((len(pairs), len(RULES)), dtype=np.float32)
    heads, rows = np.unique(pairs[:, 0].numpy(), return_inverse=True)
    tails = pairs[:, 1].numpy()
    counts = RuleCounts(kg)
    for start in range(0, len(heads), RuleCounts.BLOCK):
        block = heads[start : start + RuleCounts.BLOCK]
        chosen = np.flatnonzero((rows >= start) & (rows < start + len(block)))
        for r, matrix in enumerate(counts.rows(block)):
            out[chosen, r] = matrix[rows[chosen] - start, tails[chosen]].A1
    return torch.log1p(torch.from_numpy(out))


class RuleCounts:
    """How many proteins each rule fires through, for blocks of head drugs against every tail drug.

    Per rule the ``num_drugs x num_drugs`` count matrix is ``H @ T^T``, with ``H`` and ``T`` the drug x protein
    incidences of its head and tail relations, ``T`` restricted to the rule's proteins. Both are sparse, and so is
    the product (one ordered pair in seven shares a protein on the benchmark), so a block of heads costs what its
    shared proteins cost, never ``num_drugs^2``.
    """

    #: Head drugs per block: bounds memory on exports with many drugs and hub proteins (CYP3A4).
    BLOCK = 2048

    def __init__(self, kg: KnowledgeGraph) -> None:
        import scipy.sparse as sp

        self.num_drugs = kg.num_drugs
        allowed = _protein_filters(kg)
        # Rules share relation sets (e.g. enzyme:substrate), so each incidence is built once.
        incidence: dict[frozenset[str], sp.csr_matrix] = {}
        self._operands = []
        for rule in RULES:
            for relations in (rule.head_relations, rule.tail_relations):
                if relations not in incidence:
                    incidence[relations] = _incidence(kg, relations)
            tail = sp.csr_matrix(incidence[rule.tail_relations] @ sp.diags(allowed[rule.proteins].astype(np.float32)))
            tail.eliminate_zeros()  # proteins outside the rule's restriction
            self._operands.append((incidence[rule.head_relations], sp.csc_matrix(tail.T)))

    def rows(self, heads: np.ndarray) -> list:
        """Per rule, the ``len(heads) x num_drugs`` scipy CSR counts of the pairs (heads[i], any tail)."""
        return [(head[heads] @ tail_t).tocsr() for head, tail_t in self._operands]


def both_ways_actions(kg: KnowledgeGraph, matches: list[RuleMatch]) -> list[tuple[int, int]]:
    """(drug, protein) node pairs behind ``matches`` where DrugBank lists the drug as both inhibitor and inducer of
    the protein (clarithromycin and CYP3A4): rules of both directions then fire, which reads as a contradiction
    unless it is said why. In node order, each pair once."""
    found: set[tuple[int, int]] = set()
    for drug in {node for m in matches for node in (m.head, m.tail)}:
        links = _protein_links(kg, drug)
        for kind in ("enzyme", "transporter"):
            both = links.get(f"{kind}:inhibitor", set()) & links.get(f"{kind}:inducer", set())
            found |= {(drug, p) for m in matches for p in m.proteins if p in both}
    return sorted(found)


def _protein_links(kg: KnowledgeGraph, drug: int) -> dict[str, set[int]]:
    """Relation name -> protein node ids linked from ``drug`` by a forward edge."""
    targets, relations = kg.adjacency.out_edges(drug)
    to_protein = (targets >= kg.num_drugs) & (relations < kg.vocab.num_forward)
    links: dict[str, set[int]] = {}
    for node, rel in zip(targets[to_protein].tolist(), relations[to_protein].tolist(), strict=True):
        links.setdefault(kg.vocab.names[rel], set()).add(node)
    return links


def _incidence(kg: KnowledgeGraph, relations: frozenset[str]):
    """``num_drugs x num_proteins`` scipy CSR 0/1: the drug has one of ``relations`` to the protein."""
    import scipy.sparse as sp

    wanted = torch.zeros(len(kg.vocab), dtype=torch.bool)
    wanted[[kg.vocab.index(r) for r in relations]] = True
    forward = kg.num_forward_edges
    src, dst = kg.edge_index[:, :forward]
    chosen = wanted[kg.edge_type[:forward]]
    rows, cols = src[chosen].numpy(), (dst[chosen] - kg.num_drugs).numpy()
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(kg.num_drugs, kg.num_proteins))
    # A drug with two of the relations to one protein counts it once.
    matrix.data[:] = 1.0
    return matrix


def _protein_allowed(restriction: str, label: str) -> bool:
    """Whether a protein with this label passes a rule's restriction (``ANY``, ``CYP``, ``NON_CYP``)."""
    if restriction == ANY:
        return True
    return label.upper().startswith("CYP") == (restriction == CYP)


def _protein_filters(kg: KnowledgeGraph) -> dict[str, np.ndarray]:
    """``(num_proteins,)`` bool masks for each protein restriction of a rule."""
    labels = kg.node_names[kg.num_drugs :]
    return {
        kind: np.array([_protein_allowed(kind, label) for label in labels], dtype=bool) for kind in (ANY, CYP, NON_CYP)
    }
