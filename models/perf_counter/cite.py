"""Which kernel line each step of the perf_counter models is (``Model.cite``).

The model code names its lines in trailing comments: ``# K1282`` is
kernel/perf_counter.c line 1282 at a63eaf34, ``P`` the same file at its
parent 34adc806, ``F`` at cf7a2b4f (the stored file after the fix
c93f7669). A comment may name one line per revision (``# K143 P126``) and
go on with words after a colon. :func:`cite` gives a step the line of its
variant's revision: ``pre`` cites P, ``c93f7669`` F where there is one and K
otherwise, every other variant K. A step with no line for its variant gets
no citation (the trace shows the model's own line).
"""

from __future__ import annotations

import functools
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

from ctxcheck.model import Citation

PATH = "kernel/perf_counter.c"


@dataclass(frozen=True)
class Revision:
    """One stored state of kernel/perf_counter.c."""

    letter: str
    sha: str
    what: str

    @property
    def short(self) -> str:
        """The 8-character commit id."""
        return self.sha[:8]

    def url(self, line: int) -> str:
        """The upstream source view of ``line`` at this commit."""
        return f"https://github.com/torvalds/linux/blob/{self.sha}/{PATH}#L{line}"


REVISIONS: dict[str, Revision] = {
    "K": Revision("K", "a63eaf34ae60bdb067a354cc8def2e8f4a01f5f4", "a63eaf34 (post)"),
    "P": Revision("P", "34adc8062227f41b04ade0ff3fbd1dbe3002669e", "34adc806, its parent (pre)"),
    "F": Revision("F", "cf7a2b4fb6a9b86779930a0a123b0df41aa9208f", "cf7a2b4f, after c93f7669"),
}

_SPEC = re.compile(r"#\s*((?:[KPF]\d+)(?:\s+[KPF]\d+)*)(?=$|[\s:;,.)])")


def letters_for(variant: str) -> tuple[str, ...]:
    """The revisions a variant's steps cite, in order of preference."""
    if variant == "pre":
        return ("P",)
    if variant == "c93f7669":
        return ("F", "K")
    return ("K",)


@functools.cache
def annotations(path: str) -> dict[int, dict[str, int]]:
    """``{model line: {letter: kernel line}}`` for one model source file."""
    out: dict[int, dict[str, int]] = {}
    try:
        source = Path(path).read_text()
    except OSError:
        return out
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type != tokenize.COMMENT:
            continue
        m = _SPEC.match(tok.string)
        if m is None:
            continue
        lines = {spec[0]: int(spec[1:]) for spec in m.group(1).split()}
        out.setdefault(tok.start[0], {}).update(lines)
    return out


def cite(variant: str, model_file: str, model_line: int, function: str) -> Citation | None:
    """The kernel line a step of ``variant`` follows, if its model line names one."""
    lines = annotations(model_file).get(model_line)
    if not lines:
        return None
    for letter in letters_for(variant):
        if letter in lines:
            rev = REVISIONS[letter]
            return Citation(PATH, lines[letter], rev.short, rev.url(lines[letter]))
    return None
