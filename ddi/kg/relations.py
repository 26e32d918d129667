"""The relation vocabulary of the pharmacology knowledge graph.

Two kinds of relation link the nodes:

- **drug -> protein**, named ``category:action``. DrugBank's free-text actions are grouped into a fixed set
  (``PROTEIN_RELATIONS``) so that, e.g., "partial agonist", "potentiator" and "stimulator" all become
  ``target:agonist``. A drug-protein row with several actions yields one relation per distinct group; a row
  whose actions say nothing more specific (empty, "binder", "unknown", ...) yields ``<category>:other``
  (``carrier:carrier`` for carriers, whose actions are not told apart).
- **drug -> drug**, one relation ``ddi:<type>`` per interaction type. The edge runs from the drug that fills
  ``#Drug1`` in the type's template (the acting drug) to the one that fills ``#Drug2`` (the affected drug),
  so its verb reads left to right: "Clarithromycin -increases the serum concentration of-> Simvastatin".

Every relation has an inverse named ``inv:<name>``. Forward relations take ids ``0..R-1`` and the inverse of
relation ``r`` is ``r + R``, so ``inverse_of`` is arithmetic and a tensor lookup (``inverse_index``).
Each relation belongs to one *relation group* (``RELATION_GROUPS``), shared by its inverse, so a model or an
architecture search can switch whole groups on or off.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
import torch

INVERSE_PREFIX = "inv:"
INTERACTION_PREFIX = "ddi:"
RELATION_GROUPS = ("enzyme", "transporter", "carrier", "target", "interaction")

#: Action word -> relation suffix, per protein category. Words not listed map to the category's fallback.
ACTION_GROUPS: dict[str, dict[str, str]] = {
    "enzyme": {
        "substrate": "substrate",
        "inhibitor": "inhibitor",
        "inactivator": "inhibitor",
        "conversion inhibitor": "inhibitor",
        "inducer": "inducer",
        # An activator raises the enzyme's activity, which is what matters for an inducer's interactions.
        "activator": "inducer",
    },
    "transporter": {
        "substrate": "substrate",
        "inhibitor": "inhibitor",
        "antagonist": "inhibitor",
        "inducer": "inducer",
    },
    "carrier": {},
    "target": {
        "agonist": "agonist",
        "partial agonist": "agonist",
        "activator": "agonist",
        "positive allosteric modulator": "agonist",
        "positive modulator": "agonist",
        "stimulator": "agonist",
        "potentiator": "agonist",
        "inducer": "agonist",
        "antagonist": "antagonist",
        "partial antagonist": "antagonist",
        "inverse agonist": "antagonist",
        "blocker": "antagonist",
        "negative modulator": "antagonist",
        "negative allosteric modulator": "antagonist",
        "suppressor": "antagonist",
        "neutralizer": "antagonist",
        "desensitize the target": "antagonist",
        "inhibitor": "inhibitor",
    },
}
#: Relation suffix for actions that say nothing more specific (empty, "binder", "ligand", "unknown", ...).
FALLBACK_ACTION = {"enzyme": "other", "transporter": "other", "carrier": "carrier", "target": "other"}

#: Forward drug -> protein relations: name -> (verb, inverse verb, rank). A lower rank is a more
#: informative relation, preferred by path ranking: a modulator of an enzyme or transporter explains more
#: than its substrate, a substrate more than a carrier or an unspecified link.
PROTEIN_RELATIONS: dict[str, tuple[str, str, int]] = {
    "enzyme:substrate": ("is a substrate of", "metabolises", 1),
    "enzyme:inhibitor": ("inhibits", "is inhibited by", 0),
    "enzyme:inducer": ("induces", "is induced by", 0),
    "enzyme:other": ("is associated with", "is associated with", 3),
    "transporter:substrate": ("is transported by", "transports", 1),
    "transporter:inhibitor": ("inhibits", "is inhibited by", 0),
    "transporter:inducer": ("induces", "is induced by", 0),
    "transporter:other": ("is associated with", "is associated with", 3),
    "carrier:carrier": ("is carried by", "carries", 2),
    "target:agonist": ("activates", "is activated by", 1),
    "target:antagonist": ("blocks", "is blocked by", 1),
    "target:inhibitor": ("inhibits", "is inhibited by", 1),
    "target:other": ("targets", "is targeted by", 3),
}
INTERACTION_RANK = 4


def protein_relations(category: str, actions: str) -> tuple[str, ...]:
    """Relation names for one drug-protein row.

    Parameters
    ----------
    category
        ``target``, ``enzyme``, ``transporter`` or ``carrier`` (any case).
    actions
        ``|``-separated action words, e.g. ``"substrate|inhibitor"``; may be empty.

    Returns
    -------
    tuple of str
        Distinct relation names in the order of ``PROTEIN_RELATIONS``; the category's fallback relation
        when no action maps to a specific one. Empty for an unknown category.
    """
    category = category.strip().lower()
    if category not in ACTION_GROUPS:
        return ()
    mapping = ACTION_GROUPS[category]
    words = (w.strip().lower() for w in str(actions).split("|"))
    found = {f"{category}:{mapping[w]}" for w in words if w in mapping}
    if not found:
        found = {f"{category}:{FALLBACK_ACTION[category]}"}
    return tuple(name for name in PROTEIN_RELATIONS if name in found)


_ACTIVE = re.compile(r"^#Drug1 (?:may |can cause an? )?(?P<change>increase|decrease)(?: in)? (?P<obj>.+?) ?#Drug2")
_AFFECTED = re.compile(
    r"^The (?P<obj>.+?) (?P<prep>of|to) #Drug2 (?:can be|is) (?P<change>increased|decreased|reduced)"
)
_SYMMETRIC = re.compile(r"^The (?P<risk>risk or severity of .+?) can be increased when #Drug\d is combined")
_THIRD_PERSON = {"increase": "increases", "decrease": "decreases", "increased": "increases",
                 "decreased": "decreases", "reduced": "reduces"}  # fmt: skip
_PARTICIPLE = {"increase": "increased", "decrease": "decreased"}


def interaction_verbs(template: str, type_id: int) -> tuple[str, str]:
    """Short phrases for an interaction template, read from ``#Drug1`` to ``#Drug2`` and back.

    >>> interaction_verbs("The serum concentration of #Drug2 can be increased when combined with #Drug1.", 73)
    ('increases the serum concentration of', 'has its serum concentration increased by')

    Templates of no known shape get ``"interacts with (type N)"`` both ways.
    """
    if match := _ACTIVE.match(template):
        change, obj = match["change"], match["obj"]
        verb = f"{_THIRD_PERSON[change]} {obj}"
        passive = f"has {_possessive(obj.removesuffix(' of'))} {_PARTICIPLE[change]} by"
        return verb, passive
    if match := _AFFECTED.match(template):
        change, obj, prep = match["change"], match["obj"], match["prep"]
        return f"{_THIRD_PERSON[change]} the {obj} {prep}", f"has its {obj} {change} by"
    if match := _SYMMETRIC.match(template):
        verb = f"increases the {match['risk']} with"
        return verb, verb
    generic = f"interacts with (type {type_id})"
    return generic, generic


def _possessive(obj: str) -> str:
    """'the sedative activities' -> 'its sedative activities'; 'effectiveness' -> 'its effectiveness'."""
    return "its " + obj.removeprefix("the ")


@dataclass(frozen=True, slots=True)
class Relation:
    """One relation type: name, group, the verb reading it source -> target, and its path-ranking rank."""

    name: str
    group: str
    verb: str
    inverse: bool
    rank: int


class RelationVocab:
    """All relations of a knowledge graph and their inverses, with stable integer ids.

    Forward relations are the drug-protein relations (``PROTEIN_RELATIONS`` order) followed by one
    ``ddi:<type>`` per interaction type (ascending type); relation ``r + R`` is the inverse of relation ``r``.

    Parameters
    ----------
    interaction_verbs_by_type
        Interaction type -> (verb, inverse verb), e.g. from ``from_interaction_types``.
    """

    def __init__(self, interaction_verbs_by_type: dict[int, tuple[str, str]]) -> None:
        forward: list[Relation] = []
        backward: list[Relation] = []
        for name, (verb, inverse_verb, rank) in PROTEIN_RELATIONS.items():
            group = name.split(":", 1)[0]
            forward.append(Relation(name, group, verb, False, rank))
            backward.append(Relation(INVERSE_PREFIX + name, group, inverse_verb, True, rank))
        for type_id in sorted(interaction_verbs_by_type):
            verb, inverse_verb = interaction_verbs_by_type[type_id]
            name = f"{INTERACTION_PREFIX}{type_id}"
            forward.append(Relation(name, "interaction", verb, False, INTERACTION_RANK))
            backward.append(Relation(INVERSE_PREFIX + name, "interaction", inverse_verb, True, INTERACTION_RANK))
        self.relations: tuple[Relation, ...] = tuple(forward + backward)
        self.names: tuple[str, ...] = tuple(r.name for r in self.relations)
        self.num_forward = len(forward)
        self._index = {r.name: i for i, r in enumerate(self.relations)}
        self.interaction_types: tuple[int, ...] = tuple(sorted(interaction_verbs_by_type))

    @classmethod
    def from_interaction_types(cls, interaction_types: pd.DataFrame, extra_types: Iterable[int] = ()) -> RelationVocab:
        """Build the vocabulary from the ``interaction_types`` table (type, template).

        ``extra_types`` adds types that have no template (e.g. the catch-all type 0 of a DrugBank import).
        """
        verbs = {
            int(t): interaction_verbs(str(template), int(t))
            for t, template in zip(interaction_types["type"], interaction_types["template"], strict=True)
        }
        for t in extra_types:
            verbs.setdefault(int(t), interaction_verbs("", int(t)))
        return cls(verbs)

    def __len__(self) -> int:
        return len(self.relations)

    def __repr__(self) -> str:
        return f"RelationVocab({self.num_forward} relations + inverses)"

    def index(self, name: str) -> int:
        """Id of the relation called ``name``; ``KeyError`` if there is none."""
        try:
            return self._index[name]
        except KeyError:
            raise KeyError(f"unknown relation {name!r}") from None

    def interaction_relation(self, type_id: int) -> int:
        """Id of the forward relation ``ddi:<type_id>``."""
        return self.index(f"{INTERACTION_PREFIX}{type_id}")

    def _relation(self, rel: int | str) -> Relation:
        return self.relations[self.index(rel) if isinstance(rel, str) else int(rel)]

    def group_of(self, rel: int | str) -> str:
        return self._relation(rel).group

    def is_inverse(self, rel: int | str) -> bool:
        return self._relation(rel).inverse

    def inverse_of(self, rel: int | str) -> int:
        rel_id = self.index(rel) if isinstance(rel, str) else int(rel)
        return (rel_id + self.num_forward) % len(self)

    def verb(self, rel: int | str) -> str:
        """The phrase that reads an edge of this relation from source to target ("inhibits")."""
        return self._relation(rel).verb

    def rank(self, rel: int | str) -> int:
        """0 for enzyme/transporter modulators, 1 substrates and target actions ... 4 interaction labels."""
        return self._relation(rel).rank

    def ids_in_groups(self, groups: Iterable[str]) -> list[int]:
        """Ids of every relation (forward and inverse) whose group is in ``groups``."""
        wanted = set(groups)
        return [i for i, r in enumerate(self.relations) if r.group in wanted]

    @property
    def inverse_index(self) -> torch.Tensor:
        """``(R_total,)`` long: the inverse relation id of each relation id."""
        return (torch.arange(len(self)) + self.num_forward) % len(self)

    @property
    def group_index(self) -> torch.Tensor:
        """``(R_total,)`` long: the position in ``RELATION_GROUPS`` of each relation's group."""
        return torch.tensor([RELATION_GROUPS.index(r.group) for r in self.relations], dtype=torch.long)
