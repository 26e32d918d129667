"""JSON that users hand to ddi or may edit (configs, model directories): reading a file, and checking a value
against the type the code wants, each with a message that names the problem instead of a traceback."""

from __future__ import annotations

import enum
import json
import reprlib
import types
import typing
from pathlib import Path
from typing import Any

from ddi.errors import UserInputError

#: How a message names the values of a plain type: (one, several).
_NAMES: dict[type, tuple[str, str]] = {
    bool: ("true or false", "booleans"),
    int: ("an integer", "integers"),
    float: ("a number", "numbers"),
    str: ("a string", "strings"),
    dict: ("an object", "objects"),
    list: ("a list", "lists"),
    type(None): ("null", "nulls"),
}


def read_json(path: str | Path, error: type[UserInputError] = UserInputError) -> Any:
    """The value in a JSON file, or ``error`` saying why it cannot be read (missing, not UTF-8, not JSON).

    JSON is UTF-8; a byte-order mark, as some Windows editors write, is skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise error(f"{path}: not found") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc}); save it as UTF-8") from exc
    except OSError as exc:  # a directory, no permission
        raise error(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{path}: not valid JSON ({exc})") from exc


def type_mismatch(annotation: Any, value: Any) -> str | None:
    """None if ``value`` (as JSON loads it) fits the type ``annotation``, else what is wrong, e.g.
    ``must be an integer (got 'sixty-four')``.

    Understands bool, int, float (an int is a number too), str, dict, list, None, ``X | None``, ``list[X]``,
    ``tuple[X, ...]`` (a JSON list), ``Literal[...]``, enums and ``Any``; a bool is not taken for a number."""
    if fits(annotation, value):
        return None
    return f"must be {describe(annotation)} (got {reprlib.repr(value)})"  # a long value is shortened


def fits(annotation: Any, value: Any) -> bool:
    """Whether ``value`` fits the type ``annotation`` (see ``type_mismatch``)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(fits(a, value) for a in args)
    if origin is typing.Literal:
        return any(value == a and type(value) is type(a) for a in args)
    if origin in (list, tuple):
        items = _item_type(origin, args)
        return isinstance(value, (list, tuple)) and all(fits(items, v) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return any(value == m.value for m in annotation)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, annotation)


def describe(annotation: Any) -> str:
    """The type ``annotation`` in words, as a message names what a value must be."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe(a) for a in args)
    if origin is typing.Literal or (isinstance(annotation, type) and issubclass(annotation, enum.Enum)):
        choices = args if origin is typing.Literal else tuple(m.value for m in annotation)
        return "one of " + ", ".join(repr(c) for c in choices)
    if origin in (list, tuple):
        items = _item_type(origin, args)
        return f"a list of {_NAMES[items][1]}" if items in _NAMES else "a list"
    if origin is dict:
        return "an object"
    return _NAMES.get(annotation, (f"a {getattr(annotation, '__name__', annotation)}", ""))[0]


def _item_type(origin: Any, args: tuple[Any, ...]) -> Any:
    """The type of every item of ``list[X]`` or ``tuple[X, ...]``; ``Any`` for a bare list or a fixed tuple."""
    return args[0] if args and (origin is list or args[1:] == (...,)) else Any
