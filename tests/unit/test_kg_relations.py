"""The relation vocabulary: action grouping, verbs from templates, ids and inverses."""

import pandas as pd
import pytest
import torch

from ddi.kg.relations import (
    ACTION_GROUPS,
    PROTEIN_RELATIONS,
    RELATION_GROUPS,
    RelationVocab,
    interaction_verbs,
    protein_relations,
)


@pytest.mark.parametrize(
    ("category", "actions", "expected"),
    [
        ("enzyme", "substrate|inhibitor", ("enzyme:substrate", "enzyme:inhibitor")),
        ("enzyme", "inhibitor|substrate", ("enzyme:substrate", "enzyme:inhibitor")),
        ("Enzyme", " Inducer | cofactor", ("enzyme:inducer",)),
        ("enzyme", "inactivator", ("enzyme:inhibitor",)),
        ("enzyme", "", ("enzyme:other",)),
        ("transporter", "antagonist", ("transporter:inhibitor",)),
        ("transporter", "other/unknown", ("transporter:other",)),
        ("carrier", "inhibitor|substrate", ("carrier:carrier",)),
        ("carrier", "", ("carrier:carrier",)),
        ("target", "partial agonist|potentiator", ("target:agonist",)),
        ("target", "positive allosteric modulator", ("target:agonist",)),
        ("target", "inverse agonist", ("target:antagonist",)),
        ("target", "negative modulator", ("target:antagonist",)),
        ("target", "antagonist|agonist", ("target:agonist", "target:antagonist")),
        ("target", "binder|antagonist", ("target:antagonist",)),
        ("target", "inhibitor", ("target:inhibitor",)),
        ("target", "binder", ("target:other",)),
        ("target", "", ("target:other",)),
        ("target", "a word nobody uses", ("target:other",)),
        ("receptor", "agonist", ()),
    ],
)
def test_protein_relations_group_actions(category, actions, expected):
    assert protein_relations(category, actions) == expected


def test_every_mapped_action_is_a_declared_relation():
    produced = {
        relation
        for category, mapping in ACTION_GROUPS.items()
        for action in [*mapping, ""]
        for relation in protein_relations(category, action)
    }
    assert produced == set(PROTEIN_RELATIONS)


@pytest.mark.parametrize(
    ("template", "verb", "inverse_verb"),
    [
        (
            "The serum concentration of #Drug2 can be increased when it is combined with #Drug1.",
            "increases the serum concentration of",
            "has its serum concentration increased by",
        ),
        (
            "#Drug1 may increase the anticholinergic activities of #Drug2.",
            "increases the anticholinergic activities of",
            "has its anticholinergic activities increased by",
        ),
        (
            "#Drug1 can cause a decrease in the absorption of #Drug2 resulting in a reduced serum level.",
            "decreases the absorption of",
            "has its absorption decreased by",
        ),
        (
            "#Drug1 may decrease effectiveness of #Drug2 as a diagnostic agent.",
            "decreases effectiveness of",
            "has its effectiveness decreased by",
        ),
        (
            "The risk of a hypersensitivity reaction to #Drug2 is increased when it is combined with #Drug1.",
            "increases the risk of a hypersensitivity reaction to",
            "has its risk of a hypersensitivity reaction increased by",
        ),
        (
            "The risk or severity of bleeding can be increased when #Drug1 is combined with #Drug2.",
            "increases the risk or severity of bleeding with",
            "increases the risk or severity of bleeding with",
        ),
        ("#Drug2 and #Drug1 do something new.", "interacts with (type 9)", "interacts with (type 9)"),
    ],
)
def test_interaction_verbs_read_the_template(template, verb, inverse_verb):
    assert interaction_verbs(template, 9) == (verb, inverse_verb)


@pytest.fixture(scope="module")
def vocab() -> RelationVocab:
    types = pd.DataFrame(
        {
            "type": [73, 1],
            "template": [
                "The serum concentration of #Drug2 can be increased when it is combined with #Drug1.",
                "#Drug1 may increase the photosensitizing activities of #Drug2.",
            ],
        }
    )
    return RelationVocab.from_interaction_types(types, extra_types=[0, 73])


def test_vocab_layout(vocab):
    assert vocab.num_forward == len(PROTEIN_RELATIONS) + 3
    assert len(vocab) == 2 * vocab.num_forward
    assert vocab.interaction_types == (0, 1, 73)
    assert vocab.names[: len(PROTEIN_RELATIONS)] == tuple(PROTEIN_RELATIONS)
    assert vocab.names[len(PROTEIN_RELATIONS) : vocab.num_forward] == ("ddi:0", "ddi:1", "ddi:73")
    assert vocab.verb("ddi:0") == "interacts with (type 0)"


def test_every_relation_has_an_inverse_in_its_group(vocab):
    for rel in range(len(vocab)):
        inverse = vocab.inverse_of(rel)
        assert inverse != rel
        assert vocab.inverse_of(inverse) == rel
        assert vocab.group_of(inverse) == vocab.group_of(rel)
        assert vocab.is_inverse(inverse) != vocab.is_inverse(rel)
    forward = vocab.names[: vocab.num_forward]
    assert vocab.names[vocab.num_forward :] == tuple(f"inv:{name}" for name in forward)
    assert vocab.inverse_index.tolist() == [vocab.inverse_of(r) for r in range(len(vocab))]


def test_groups_and_group_index(vocab):
    assert {vocab.group_of(r) for r in range(len(vocab))} == set(RELATION_GROUPS)
    assert vocab.group_of("ddi:73") == "interaction"
    assert vocab.group_of("inv:carrier:carrier") == "carrier"
    expected = torch.tensor([RELATION_GROUPS.index(vocab.group_of(r)) for r in range(len(vocab))])
    assert torch.equal(vocab.group_index, expected)
    assert set(vocab.ids_in_groups(["enzyme"])) == {
        vocab.index(n) for n in vocab.names if n.removeprefix("inv:").startswith("enzyme:")
    }


def test_verbs(vocab):
    assert vocab.verb("enzyme:inhibitor") == "inhibits"
    assert vocab.verb("inv:enzyme:inhibitor") == "is inhibited by"
    assert vocab.verb(vocab.index("enzyme:substrate")) == "is a substrate of"
    assert vocab.verb("inv:enzyme:substrate") == "metabolises"
    assert vocab.verb("ddi:73") == "increases the serum concentration of"
    assert vocab.verb("inv:ddi:73") == "has its serum concentration increased by"


def test_unknown_relation_is_a_key_error(vocab):
    with pytest.raises(KeyError, match="ddi:999"):
        vocab.index("ddi:999")
