"""What every benchmark records beside its figures: the command that produced them, and the machine."""

from __future__ import annotations

import os
import platform
import sys
from typing import Any


def command_line() -> str:
    """This run's command as typed in the repository root."""
    relative = os.path.relpath(sys.executable)
    interpreter = sys.executable if relative.startswith("..") else relative
    env = f"PYTHONPATH={os.environ['PYTHONPATH']} " if os.environ.get("PYTHONPATH") else ""
    return env + " ".join([interpreter, *sys.argv])


def machine_info(load_before: float, load_after: float) -> dict[str, Any]:
    """The machine a timing ran on, with its 1-minute load average before and after the timed work."""
    import torch

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        # Other work on the machine slows the run: compare figures only at a load near 0.
        "load_average_1min_before_after": [round(load_before, 2), round(load_after, 2)],
    }
