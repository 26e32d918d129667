"""Errors caused by the user's input. The CLI and the app turn them into one clear message, never a traceback."""

from pathlib import Path


class UserInputError(Exception):
    """Bad input from the user: a missing or malformed file, an unknown drug, an invalid option."""


class UnknownDrugError(UserInputError, LookupError):
    """No drug matches the text; the message names it and the closest drugs."""

    def __init__(self, message: str, query: str = "", suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.query = query
        self.suggestions = suggestions


def not_a_directory(what: str, path: Path) -> str:
    """Why ``path`` cannot serve as the ``what`` directory (e.g. "model directory"): it is a file, or it is not
    there. Saying "does not exist" of a file that plainly exists sends the user looking in the wrong place."""
    if path.exists():
        return f"{what} {path} is not a directory"
    return f"{what} {path} does not exist"


def nearest_existing(path: Path) -> Path:
    """``path`` if it exists, else its closest existing parent: what decides whether ``path`` can be created
    (a file there means it cannot)."""
    return next((p for p in (path, *path.absolute().parents) if p.exists()), Path("/"))
