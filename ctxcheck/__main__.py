"""``python3 -m ctxcheck``: the ``ctxcheck`` command, for a checkout that is not installed."""

from __future__ import annotations

import sys

from ctxcheck.cli import main

if __name__ == "__main__":
    sys.exit(main())
