"""Where data and caches live.

The data directory holds the benchmark TSV layout (see ``data/README.md``). It is resolved, in order, from an
explicit argument (the ``--data-dir`` flag), the ``DDI_DATA_DIR`` environment variable, and the shared
DrugBank directory beside the repository (``../shared/data/drugbank``), which is where CI and a fresh clone
find it.
"""

from __future__ import annotations

import os
from pathlib import Path

from ddi.errors import UserInputError, not_a_directory

DATA_DIR_ENV = "DDI_DATA_DIR"
CACHE_DIR_ENV = "DDI_CACHE_DIR"

_REPO_ROOT = Path(__file__).resolve().parents[2]
_DEFAULT_CANDIDATES = (
    _REPO_ROOT.parent / "shared" / "data" / "drugbank",
    _REPO_ROOT / "data" / "drugbank",
)


class DataDirError(UserInputError, FileNotFoundError):
    """The data directory is missing or does not hold the expected files."""


class CacheDirError(UserInputError):
    """The cache directory cannot be created."""


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the data directory to read, checking that it exists.

    Raises
    ------
    DataDirError
        With a message naming every place that was looked at.
    """
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.is_dir():
            raise DataDirError(not_a_directory("data directory", path))
        return path
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise DataDirError(f"{DATA_DIR_ENV}={env} does not name a directory")
        return path
    for candidate in _DEFAULT_CANDIDATES:
        if (candidate / "ddi.tsv").is_file():
            return candidate
    looked = ", ".join(str(c) for c in _DEFAULT_CANDIDATES)
    raise DataDirError(f"no DrugBank data directory found (looked at {looked}); pass --data-dir or set {DATA_DIR_ENV}")


def resolve_cache_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return (and create) the directory for derived caches such as molecule graphs."""
    # Where the path came from decides the advice: "pass --cache-dir" to someone who just did is no help.
    if explicit is not None:
        path, source, advice = Path(explicit), "", "choose another --cache-dir"
    elif os.environ.get(CACHE_DIR_ENV):
        path, source, advice = Path(os.environ[CACHE_DIR_ENV]), f" ({CACHE_DIR_ENV})", f"set {CACHE_DIR_ENV} elsewhere"
    else:
        path = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ddi"
        source, advice = " (the default)", f"pass --cache-dir or set {CACHE_DIR_ENV}"
    path = path.expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file of that name, no permission, a read-only disk
        raise CacheDirError(f"cache directory {path}{source} cannot be made ({exc.strerror or exc}); {advice}") from exc
    return path
