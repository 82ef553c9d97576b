"""The version of ctxcheck: one place, imported by the front door, trace files and ``--version``.

A module of its own so that what records the version (a trace file, the
command line) need not import the package's front door, which imports
everything else.
"""

from __future__ import annotations

__version__ = "0.1.0"
