"""Text from a trace file made safe to show: no terminal escapes, valid XML, bounded size.

A trace file is data from someone else (reviewers mail them around), and
its strings reach a terminal (``replay``, ``render --format txt``), an SVG
(``lanes``) and Graphviz. Two things must never pass through:

* control characters: an ``ESC [`` sequence moves the cursor or recolours
  the terminal, and most C0 characters make an SVG ill-formed XML (XML 1.0
  forbids them even escaped). Bidirectional overrides, zero-width
  characters and lone surrogates hide or break text the same way;
  :func:`printable` shows each as its ``\\xNN``/``\\uNNNN`` escape;
* megabytes: laying out a 50 MB message line by line is minutes of work
  for a text no one reads; :func:`clip` keeps the start and says how long
  the whole was (the trace file keeps all of it).
"""

from __future__ import annotations

import re
from typing import Any

#: C0 controls but tab and newline, DEL and C1, zero-width and bidirectional
#: formatting characters, lone surrogates, and the two non-characters XML forbids
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\ufeff\ud800-\udfff\ufffe\uffff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every character that could act on a terminal or break XML escaped."""
    return _UNSAFE.sub(_escape, text)


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [{len(text):,} characters in all; the trace file has the rest]"


#: the longest string of a trace file any drawing lays out
FIELD_MAX = 2000


def bounded(data: Any, limit: int = FIELD_MAX) -> Any:
    """A trace file's JSON data with every string clipped to ``limit`` (one linear pass)."""
    if isinstance(data, str):
        return clip(data, limit)
    if isinstance(data, dict):
        return {k: bounded(v, limit) for k, v in data.items()}
    if isinstance(data, list):
        return [bounded(v, limit) for v in data]
    return data
