"""What every page of the app shares: the model, loaded once per process, and the page shown without one.

The model directory comes from ``DDI_MODEL_DIR`` (default ``models/default``); the data directory from
``DDI_DATA_DIR`` as for the command line.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from ddi.errors import UserInputError
from ddi.predict.predictor import DEFAULT_MODEL_DIR, Predictor
from ddi.serve.answer import drug_choices, warm_up
from ddi.serve.resolve import DrugResolver

log = logging.getLogger(__name__)

MODEL_DIR_ENV = "DDI_MODEL_DIR"
#: Torch threads for serving: tiny per-request tensors gain nothing from more, and lose a lot on a busy CPU.
THREADS_ENV = "DDI_TORCH_THREADS"
#: What Streamlit's Markdown would read as markup in a text: emphasis, code, links, HTML and autolinks, LaTeX,
#: tables, headings, its ``:red[...]``/``:material/...:``/``:emoji:`` directives, and a list marker at the start
#: of a line. ``(``, ``)``, ``'``, ``;`` and a ``:`` before a space do nothing alone.
_MARKUP = re.compile(r"([\\`*_\[\]<>$~|#&@])|(:)(?=\S)|^\s*(?:([-+=])|\d+([.)]))", re.MULTILINE)
#: Where a web address or e-mail address would still become a link (GFM finds them after the escapes): a word
#: joiner, invisible, goes there.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?=\\@)", re.IGNORECASE)
_WORD_JOINER = "\u2060"


@dataclass
class Service:
    """A loaded model with its drug resolver and the labels of the drug pickers."""

    predictor: Predictor
    resolver: DrugResolver
    choices: dict[str, str]


def plain(text: object) -> str:
    """``text`` escaped for Streamlit's Markdown (``st.error``, ``st.subheader``, ...): what a user typed, or a
    message or drug name that quotes it, is shown as written (but for an invisible word joiner that keeps an address
    from becoming a link), never as formatting, a link or HTML."""
    return _AUTOLINK.sub(_WORD_JOINER, _MARKUP.sub(_escaped, str(text)))


def _escaped(match: re.Match[str]) -> str:
    """The matched text with a backslash before its markup character (the group that matched)."""
    group = match.lastindex or 0
    return match.group(0)[: match.start(group) - match.start()] + "\\" + match.group(group)


def model_dir() -> Path:
    """The model directory the app serves."""
    return Path(os.environ.get(MODEL_DIR_ENV) or DEFAULT_MODEL_DIR)


@st.cache_resource(show_spinner="Loading the model (once per server start)…")
def load_service(root: str) -> Service:
    """Load the predictor, its resolver and the picker labels; cached for the life of the server."""
    import torch

    torch.set_num_threads(max(int(os.environ.get(THREADS_ENV, "1") or 1), 1))
    predictor = Predictor.load(root)
    resolver = DrugResolver.for_predictor(predictor)
    warm_up(predictor)
    log.info("serving model %s", root)
    return Service(predictor, resolver, drug_choices(predictor))


def require_service() -> Service:
    """The loaded model, or a page that says why there is none (and stops the script)."""
    root = model_dir()
    if not (root / "model.pt").is_file():
        st.warning(f"**No model found** in `{root}`.")
        st.markdown(
            "Train one with\n\n"
            f"```\nddi train --out {_shown(root)}\n```\n\n"
            f"then reload this page, or point the `{MODEL_DIR_ENV}` environment variable at a model directory "
            "before starting the app."
        )
        st.stop()
    try:
        return load_service(str(root))
    except UserInputError as exc:
        st.error(f"The model in `{root}` cannot be loaded: {plain(exc)}")
        st.stop()


def _shown(root: Path) -> str:
    """``root`` relative to the working directory when it is inside it (``models/default``)."""
    try:
        return str(root.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(root)
