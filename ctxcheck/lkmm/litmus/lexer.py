"""Tokens of a C litmus test, each with its line.

Comments of the three kinds litmus files use are skipped: OCaml-style
``(* ... *)`` (the doc block after the name), ``/* ... */`` and ``//``.
``(*`` followed by a blank opens a comment; followed by anything else it is
C, as in ``WRITE_ONCE(*x, 1)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ctxcheck.lkmm.litmus.errors import LitmusError

#: Multi-character operators first, so the longest match wins.
_OPS = [
    "/\\",
    "\\/",
    "==",
    "!=",
    "<=",
    ">=",
    "&&",
    "||",
    "->",
    "<<",
    ">>",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ";",
    ",",
    "*",
    "&",
    "=",
    "!",
    "~",
    "+",
    "-",
    "<",
    ">",
    "|",
    "^",
    ":",
    "?",
    ".",
    "%",
    "/",
]
_TOKEN = re.compile(
    r"(?P<ws>[ \t\r\f\v]+)|(?P<nl>\n)|(?P<num>0[xX][0-9a-fA-F]+|[0-9]+)"
    r"|(?P<id>[A-Za-z_][A-Za-z0-9_]*)|(?P<str>\"[^\"\n]*\")"
    r"|(?P<op>" + "|".join(re.escape(o) for o in _OPS) + ")"
)


@dataclass(frozen=True)
class Token:
    kind: str  # "id", "num", "op", "str", "eof"
    text: str
    line: int


def tokenize(text: str, first_line: int = 1) -> list[Token]:
    """The tokens of ``text``; ``first_line`` is the line ``text`` starts at."""
    out: list[Token] = []
    pos, line, end = 0, first_line, len(text)
    while pos < end:
        skipped = _skip_comment(text, pos, line)
        if skipped is not None:
            pos, line = skipped
            continue
        m = _TOKEN.match(text, pos)
        if m is None:
            raise LitmusError(f"unexpected character {text[pos]!r}", line=line)
        kind = m.lastgroup or ""
        if kind == "nl":
            line += 1
        elif kind != "ws":
            out.append(Token(kind, m.group(), line))
        pos = m.end()
    out.append(Token("eof", "", line))
    return out


def _opens_comment(text: str, pos: int, opener: str) -> bool:
    """``(*`` opens a comment only before a blank: ``(*x`` is C (a deref)."""
    if opener == "/*":
        return True
    after = text[pos + 2 : pos + 3]
    return after == "" or after.isspace() or after == ")"


def _skip_comment(text: str, pos: int, line: int) -> tuple[int, int] | None:
    for opener, closer in (("(*", "*)"), ("/*", "*/")):
        if text.startswith(opener, pos) and _opens_comment(text, pos, opener):
            stop = text.find(closer, pos + 2)
            if stop < 0:
                raise LitmusError(f"comment {opener} is never closed", line=line)
            return stop + 2, line + text.count("\n", pos, stop)
    if text.startswith("//", pos):
        stop = text.find("\n", pos)
        return (len(text) if stop < 0 else stop), line
    return None
