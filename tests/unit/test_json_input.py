"""Checking JSON values against the types the code wants: what a config or metrics file is validated by."""

from __future__ import annotations

import enum
from typing import Any, Literal

import pytest

from ddi.errors import UserInputError
from ddi.json_input import read_json, type_mismatch


class Colour(enum.Enum):
    RED = "red"


@pytest.mark.parametrize(
    ("annotation", "value"),
    [(float, 3), (float, 0.5), (int | None, None), (tuple[str, ...], ["a"]), (list[str], []), (dict[str, Any], {})],
)
def test_values_that_fit(annotation: Any, value: Any) -> None:
    assert type_mismatch(annotation, value) is None


@pytest.mark.parametrize(
    ("annotation", "value", "message"),
    [
        (int, True, "must be an integer (got True)"),  # a bool is an int to Python, not to a config
        (float, False, "must be a number (got False)"),
        (bool, 0, "must be true or false (got 0)"),
        (float | None, "1", "must be a number or null (got '1')"),
        (list[str], ["a", 1], "must be a list of strings (got ['a', 1])"),
        (Literal["mult", "sub"], "add", "must be one of 'mult', 'sub' (got 'add')"),
        (Colour, "blue", "must be one of 'red' (got 'blue')"),
        (int, "x" * 100, "must be an integer (got 'xxxxxxxxxxxx...xxxxxxxxxxxxx')"),  # a long value is shortened
    ],
)
def test_values_that_do_not_fit_say_what_is_wanted(annotation: Any, value: Any, message: str) -> None:
    assert type_mismatch(annotation, value) == message


def test_read_json_names_the_file_and_the_problem(tmp_path) -> None:
    path = tmp_path / "x.json"
    for content, problem in ((None, "not found"), (b"\xe9", "not UTF-8 text"), (b"{", "not valid JSON")):
        if content is not None:
            path.write_bytes(content)
        with pytest.raises(UserInputError, match=f"^{path}: {problem}"):
            read_json(path)
