"""Where the numbers come from: the machine (CPU, cores, load, Python, OS) and the command."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def machine() -> str:
    """CPU model, cores, Python and OS: what the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ""
    if hasattr(os, "getloadavg"):
        load = f", load average {os.getloadavg()[0]:.1f} at start"
    return (
        f"{cpu}; {os.cpu_count()} logical CPUs{load}; "
        f"{platform.python_implementation()} {platform.python_version()}; "
        f"{platform.system()} {platform.release()}"
    )


def provenance(command: str, started: str, host: str, seconds: float) -> list[str]:
    """The lines that say how, when and where a table was measured."""
    return [
        f"Measured by `{command}`, started {started}; this table took {seconds / 60:.0f} min, "
        "in one process on one core.",
        f"Machine: {host}. The machine was shared with other jobs: the load average says "
        "how much of a core was ours, and the seconds are wall time.",
    ]
