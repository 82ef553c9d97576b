"""ctxcheck's modules import one way: no cycle, one concept per module.

Read from the source (no import needed): every ``import`` and ``from ...
import`` of every module of ``ctxcheck/``, at any depth, *including* those
under ``if TYPE_CHECKING:`` (a type-only import is still a dependency a
reader must follow): the engine core (primitives, machine, runtime,
explorers, minimiser) and everything around it (the result data, the trace
format and replay, the renderers, the report, the artefact writer, the
loader, the command line, the plugin and the benchmark package).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "ctxcheck"
MAX_LINES = 600


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The ctxcheck modules ``name`` imports (a ``from pkg import mod`` names ``mod``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, *([node.module] if node.module else [])])
            subs = {f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES}
            found |= subs or {base}
    resolved = set()
    for target in found:
        while target and target not in MODULES:
            target = target.rpartition(".")[0]
        if target and target != name:
            resolved.add(target)
    return resolved


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycles() -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []
    counter = 0
    for root in sorted(GRAPH):
        if root in index:
            continue
        work = [(root, iter(sorted(GRAPH[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.add(top)
                        if top == node:
                            break
                    if len(component) > 1:
                        out.append(component)
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(GRAPH[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return out


def test_no_module_is_on_an_import_cycle() -> None:
    assert [sorted(c) for c in _cycles()] == []


def test_result_data_imports_no_renderer_and_the_format_no_runner() -> None:
    assert not {m for m in GRAPH["ctxcheck.result"] if m.startswith("ctxcheck.render")}
    banned = {"ctxcheck.counterexample", "ctxcheck.replay", "ctxcheck.loader", "ctxcheck.api"}
    assert not GRAPH["ctxcheck.tracefile"] & banned
    assert "ctxcheck.tracefile" in GRAPH["ctxcheck.replay"]


def test_one_writer_of_counterexample_files() -> None:
    """Only the artefact writer calls the trace format's writers."""
    writers = set()
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("save", "dumps", "to_json")
                and isinstance(node.value, ast.Name)
                and node.value.id == "tracefile"
            ):
                writers.add(name)
    assert writers == {"ctxcheck.artifacts"}


def test_the_bench_package_points_one_way() -> None:
    bench = {m: GRAPH[m] for m in GRAPH if m.startswith("ctxcheck.bench.")}
    assert set(bench) >= {"ctxcheck.bench.host", "ctxcheck.bench.timing", "ctxcheck.bench.specs",
                          "ctxcheck.bench.markdown", "ctxcheck.bench.family",
                          "ctxcheck.bench.naive"}  # fmt: skip
    for name, deps in bench.items():
        assert "ctxcheck.bench" not in deps, f"{name} imports the package's front door"
    leaves = ("host", "timing", "markdown", "family")
    for leaf in leaves:
        deps = GRAPH[f"ctxcheck.bench.{leaf}"]
        assert not {d for d in deps if d.startswith("ctxcheck.bench")}, leaf


def test_no_module_is_over_600_lines() -> None:
    lines = {name: len(path.read_text().splitlines()) for name, path in MODULES.items()}
    assert {name: n for name, n in lines.items() if n > MAX_LINES} == {}


def test_every_explorer_the_minimiser_and_the_state_walk_drive_the_one_path() -> None:
    """Prefix replay, branch points and divergence checks live in explorers.path only."""
    drivers = [
        "ctxcheck.explorers.naive", "ctxcheck.explorers.bounded", "ctxcheck.explorers.randomwalk",
        "ctxcheck.explorers.dpor", "ctxcheck.explorers.odpor", "ctxcheck.explorers.bfs",
        "ctxcheck.minimize", "ctxcheck.oracles.statespace",
    ]  # fmt: skip
    for name in drivers:
        assert "ctxcheck.explorers.path" in GRAPH[name], name
    # nobody but the path checks a replay's signatures
    for name, path in MODULES.items():
        if name != "ctxcheck.explorers.path":
            assert (
                "raise NondeterministicModel(" not in path.read_text() or name == "ctxcheck.runtime"
            )
