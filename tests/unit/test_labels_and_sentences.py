"""Direction: an ordered pair's class says which drug fills #Drug1, and sentences put names in their roles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ddi.models.labels import TypeOrientation
from ddi.predict.sentences import interaction_sentence

TYPES = pd.DataFrame(
    {
        "type": [6, 73, 50],
        "template": [
            "#Drug1 may increase the anticoagulant activities of #Drug2.",
            "The serum concentration of #Drug2 can be increased when it is combined with #Drug1.",
            "The risk or severity of adverse effects can be increased when #Drug1 is combined with #Drug2.",
        ],
        "subject": [2, 2, 3],
    }
)


def test_row_and_reversed_row_get_opposite_orientations():
    labels = TypeOrientation(TYPES)
    i = labels.index_of
    forward = labels.encode(np.array([73, 6, 50]))
    backward = labels.encode(np.array([73, 6, 50]), reverse=True)
    # subject 2: the row's drug1 fills #Drug2 (orientation 1); read backwards it fills #Drug1.
    assert forward.tolist() == [2 * i[73] + 1, 2 * i[6] + 1, 2 * i[50] + 0]
    assert backward.tolist() == [
        2 * i[73] + 0,
        2 * i[6] + 0,
        2 * i[50] + 0,
    ]  # symmetric 50 keeps orientation 0


def test_reverse_class_is_the_class_of_the_reversed_row():
    labels = TypeOrientation(pd.DataFrame({**TYPES, "subject": [1, 2, 3]}))
    types = np.array([73, 6, 50, 6])
    reverse = labels.reverse_class()
    assert reverse[torch.as_tensor(labels.encode(types))].tolist() == labels.encode(types, reverse=True).tolist()
    assert sorted(reverse.tolist()) == list(range(labels.num_classes))  # a permutation


def test_flip_maps_reverse_order_probabilities_onto_forward_order():
    labels = TypeOrientation(TYPES)
    t73, t50 = labels.index_of[73], labels.index_of[50]
    probs = torch.zeros(1, labels.num_classes)
    probs[0, 2 * t73 + 0] = 1.0  # (B, A): B fills #Drug1 of type 73
    flipped = labels.flip(probs)
    assert flipped[0, 2 * t73 + 1] == 1.0  # (A, B): A fills #Drug2
    sym = torch.zeros(1, labels.num_classes)
    sym[0, 2 * t50 + 0] = 0.7
    sym[0, 2 * t50 + 1] = 0.3
    assert labels.flip(sym)[0, 2 * t50].item() == 1.0  # a symmetric type has one orientation
    assert torch.allclose(labels.type_probs(flipped), labels.type_probs(probs))


def test_readme_example_reads_the_same_in_both_orders():
    """README: row (simvastatin, clarithromycin, 73), subject 2 -> simvastatin's concentration rises."""
    labels = TypeOrientation(TYPES)
    template = TYPES.loc[1, "template"]
    expected = "The serum concentration of Simvastatin can be increased when it is combined with Clarithromycin."
    ti = labels.index_of[73]
    forward_role = labels.first_drug_role(ti, int(labels.encode(np.array([73]))[0] % 2))
    assert interaction_sentence(template, "Simvastatin", "Clarithromycin", forward_role) == expected
    reverse_role = labels.first_drug_role(ti, int(labels.encode(np.array([73]), reverse=True)[0] % 2))
    assert interaction_sentence(template, "Clarithromycin", "Simvastatin", reverse_role) == expected


def test_sentence_handles_repeated_placeholders_and_odd_names():
    template = (
        "The serum concentration of the active metabolites of #Drug2 can be reduced when #Drug2 is used in "
        "combination with #Drug1 resulting in a loss in efficacy."
    )
    text = interaction_sentence(template, "A#Drug2", "B", "#Drug1")
    assert text.count("B") == 2 and "A#Drug2" in text
