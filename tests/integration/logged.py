"""What the code under test logged, for the integration tests' assertions on warnings and notes."""

from __future__ import annotations

import pytest


def messages(caplog: pytest.LogCaptureFixture, level: str) -> list[str]:
    """The messages logged at ``level`` ("WARNING", "INFO", ...), in order."""
    return [r.getMessage() for r in caplog.records if r.levelname == level]
