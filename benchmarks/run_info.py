"""What every benchmark records beside its figures: the command that produced them."""

from __future__ import annotations

import os
import sys


def command_line() -> str:
    """This run's command as typed in the repository root."""
    relative = os.path.relpath(sys.executable)
    interpreter = sys.executable if relative.startswith("..") else relative
    env = f"PYTHONPATH={os.environ['PYTHONPATH']} " if os.environ.get("PYTHONPATH") else ""
    return env + " ".join([interpreter, *sys.argv])
