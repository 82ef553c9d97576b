"""``ctxcheck new NAME``: a first model and its pytest file, both working from the start.

A newcomer's first model should start from code that runs green, not from
a blank page: :func:`write_starter` writes ``models/NAME.py`` (a writer
publishing an object to a reader, with the bug and its fix as two
variants) and ``tests/test_NAME.py`` (the fix holds on every schedule, the
bug is caught), in a project directory. ``./models`` is on the model path,
so ``ctxcheck check NAME`` works from that directory at once; the tutorial
(``docs/writing-a-model.md``) starts here.
"""

from __future__ import annotations

import keyword
import os
from pathlib import Path

from ctxcheck.errors import UsageError
from ctxcheck.output import check_output_file, make_dir, write_output

MODEL_TEMPLATE = '''\
"""{name}: a writer publishes an object to a reader (a starter model: edit it).

The writer allocates an ``item``, fills it in and publishes a pointer to it
in ``shared.ptr``; the reader picks the pointer up and reads the item. In
variant ``pre`` the writer publishes first and fills in after, so a reader
can find the item before it is ready; variant ``post`` fills in first.
"""

from __future__ import annotations

from dataclasses import dataclass

from ctxcheck import (
    Cell,
    Config,
    Expectation,
    Kernel,
    Machine,
    Model,
    Param,
    Property,
    Struct,
    Variant,
    field,
)
from ctxcheck.kernel import Steps


class item(Struct):
    """struct item: what the writer publishes."""

    ready: Cell = field(0)


class shared(Struct):
    """The global the item is published in, and what each reader found."""

    _label = "shared"
    ptr: Cell = field(None)


@dataclass
class State:
    shared: shared
    seen: list[Cell]


def publish(k: Kernel, s: shared, variant: str) -> Steps:
    """Allocate an item, fill it in and publish it (in the order the variant says)."""
    obj = yield k.kmalloc(item, name="item")
    if variant == "pre":
        yield k.store(s.ptr, obj)  # the bug: published before it is ready
        yield k.store(obj.ready, 1)
    else:
        yield k.store(obj.ready, 1)
        yield k.store(s.ptr, obj)


def consume(k: Kernel, s: shared, seen: Cell) -> Steps:
    """Read the published item, if there is one yet, and note what it said."""
    obj = yield k.load(s.ptr)
    if obj is not None:
        ready = yield k.load(obj.ready)
        yield k.store(seen, ready)


class reader_state(Struct):
    """What one reader found: None (no item yet), 0 (not ready) or 1."""

    seen: Cell = field(None)


def setup(m: Machine, cfg: Config) -> State:
    s = m.new(shared, name="shared")
    m.spawn("writer", publish, s, cfg.variant)
    seen = []
    for i in range(cfg["readers"]):
        mine = m.new(reader_state, name=f"reader{{i}}")
        m.spawn(f"reader{{i}}", consume, s, mine.seen)
        seen.append(mine.seen)
    return State(s, seen)


def reader_sees_ready(m: Machine, st: State) -> str | None:
    """A reader that found the item found it ready."""
    early = [i for i, cell in enumerate(st.seen) if cell.value == 0]
    if early:
        return f"reader{{early[0]}} found the item before it was ready"
    return None


MODEL = Model(
    name="{name}",
    doc=__doc__ or "",
    setup=setup,
    params=(Param("readers", 1, 1, 3, "threads reading the published item"),),
    variants=(
        Variant("pre", "publish, then fill in (the bug)"),
        Variant("post", "fill in, then publish (the fix)"),
    ),
    properties=(
        Property("reader_sees_ready", reader_sees_ready.__doc__ or "", reader_sees_ready,
                 final=True),
    ),
    expectations=(
        Expectation("pre", holds=False, properties=("reader_sees_ready",),
                    reason="a reader can load the pointer between the two stores"),
        Expectation("post", holds=True, reason="the item is ready before anyone can see it"),
    ),
)
'''

TEST_TEMPLATE = '''\
"""The {name} model under pytest: the fix holds on every schedule, the bug is caught.

The ``ctxcheck`` fixture comes with ctxcheck's pytest plugin; a failing
check prints its minimal counterexample as an annotated trace.
"""

from __future__ import annotations

from pathlib import Path

from ctxcheck.pytest_plugin import Checker

#: the model file, found from this test wherever pytest runs
MODEL = str(Path(__file__).resolve().parent.parent / "models" / "{name}.py")


def test_the_fix_holds_on_every_schedule(ctxcheck: Checker) -> None:
    ctxcheck.check(MODEL, variant="post").assert_holds()


def test_the_bug_is_caught(ctxcheck: Checker) -> None:
    bug = ctxcheck.check(MODEL, variant="pre").assert_violates("reader_sees_ready")
    assert "before it was ready" in bug.message


def test_two_readers(ctxcheck: Checker) -> None:
    ctxcheck.check(MODEL, variant="post", readers=2).assert_holds()
'''


def _check_name(name: str) -> None:
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise UsageError(
            f"new {name!r}: a model name is a Python identifier that does not start with _ "
            f"(e.g. seqcount, llist_add); it becomes models/NAME.py"
        )


def write_starter(name: str, project: Path, force: bool = False) -> list[str]:
    """Write ``models/NAME.py`` and ``tests/test_NAME.py`` under ``project``; what to say.

    Both paths are checked before either is written: an existing file is
    kept unless ``force``.
    """
    _check_name(name)
    files = {
        project / "models" / f"{name}.py": MODEL_TEMPLATE.format(name=name),
        project / "tests" / f"test_{name}.py": TEST_TEMPLATE.format(name=name),
    }
    if not project.is_dir():
        raise UsageError(f"new --dir {project}: no such directory")
    for path in files:
        if path.parent.exists() and not path.parent.is_dir():
            raise UsageError(f"new: {path.parent} is a file, not a directory")
        if path.parent.is_dir():
            check_output_file(str(path), "new", force)
    for path, text in files.items():
        make_dir(path.parent, "the directory")
        write_output(path, text, "the starter file")
    return _next_steps(name, project, list(files))


def _next_steps(name: str, project: Path, written: list[Path]) -> list[str]:
    shown = [os.path.relpath(p) if not os.path.relpath(p).startswith("..") else str(p)
             for p in written]  # fmt: skip
    lines = [f"wrote {shown[0]} (the model: edit it)",
             f"wrote {shown[1]} (its tests)", "next:"]  # fmt: skip
    if project.resolve() != Path.cwd().resolve():
        lines.append(f"  cd {project}")
    lines += [
        f"  ctxcheck check {name} --variant pre   # exit 1: the bug, as a minimal trace",
        f"  ctxcheck check {name}                 # exit 0: post holds on every schedule",
        f"  pytest tests/test_{name}.py           # the model's tests pass",
    ]
    return lines
