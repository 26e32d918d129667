"""Interaction sentences: a type's template with the two drug names in their roles."""

from __future__ import annotations


def interaction_sentence(template: str, first_name: str, second_name: str, first_role: str) -> str:
    """Fill ``#Drug1``/``#Drug2``; ``first_role`` is the placeholder the first drug fills.

    >>> interaction_sentence("#Drug1 may increase the anticoagulant activities of #Drug2.", "A", "B", "#Drug2")
    'B may increase the anticoagulant activities of A.'
    """
    one, two = (first_name, second_name) if first_role == "#Drug1" else (second_name, first_name)
    # Placeholders first become markers so a drug name that contains "#Drug2" cannot be substituted twice.
    text = template.replace("#Drug1", "\x00").replace("#Drug2", "\x01")
    text = text.replace("\x00", one).replace("\x01", two)
    return text[:1].upper() + text[1:]
