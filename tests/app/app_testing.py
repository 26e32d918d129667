"""What the AppTest-based app tests share: the app under test, and how they read its output."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP_DIR = Path(__file__).resolve().parents[2] / "app"

# The first run of a session loads the model (several seconds, more on a busy machine).
TIMEOUT = 300


def app() -> AppTest:
    return AppTest.from_file(str(APP_DIR / "main.py"), default_timeout=TIMEOUT)


def texts(elements) -> list[str]:
    return [str(e.value) for e in elements]


def assert_no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
