"""Every kernel line a perf_counter model cites is a fact of the committed table.

``models/perf_counter/facts.csv`` holds, for each cited line of
kernel/perf_counter.c at a63eaf34, 34adc806 and cf7a2b4f, the function that
line is in and the operation it does (in our words), derived from the source
at that commit. The models name their lines in ``# K<n> P<n> F<n>``
comments (:mod:`models.perf_counter.cite`). This test reads only the table
and the models: each citation must be a row of the table, in the function
the model code stands for, doing an operation of the kind the model step
does; and the traces of the issue's examples must cite the right lines.
"""

from __future__ import annotations

import ast
import csv
import re
from pathlib import Path

import pytest

from ctxcheck.explorers import get_explorer
from ctxcheck.loader import load_model
from ctxcheck.options import Bounds
from ctxcheck.runtime import Event, Execution
from models.perf_counter import cite

MODELS = Path(cite.__file__).resolve().parent
FACTS = MODELS / "facts.csv"

#: model helpers that stand for (part of) a kernel function of another name
ALIASES = {
    "_err_put_context": "sys_perf_counter_open",
    "_err_free_put_context": "sys_perf_counter_open",
    "_find_get_context_c93f7669": "find_get_context",
}

#: which kinds of kernel operation each model primitive may stand for
KINDS: dict[str, set[str]] = {
    "load": {"load", "test", "increment", "decrement", "cross_call", "call", "fget_light", "fput"},
    "store": {"store", "increment", "decrement"},
    "cmpxchg": {"cmpxchg"},
    "atomic_inc": {"atomic_inc"},
    "atomic_dec": {"atomic_dec"},
    "atomic_read": {"atomic_read", "test"},
    "atomic_inc_not_zero": {"atomic_inc_not_zero"},
    "atomic_dec_and_test": {"atomic_dec_and_test"},
    "kmalloc": {"kmalloc", "anon_inode_getfd"},
    "kzalloc": {"kmalloc"},
    "kfree": {"kfree"},
    "call_rcu": {"call_rcu"},
    "spin_lock": {"spin_lock"},
    "spin_lock_irq": {"spin_lock"},
    "spin_lock_irqsave": {"spin_lock"},
    "spin_unlock": {"spin_unlock"},
    "spin_unlock_irq": {"spin_unlock"},
    "spin_unlock_irqrestore": {"spin_unlock"},
    "mutex_lock": {"mutex_lock"},
    "mutex_unlock": {"mutex_unlock"},
    "local_irq_save": {"local_irq_save"},
    "local_irq_restore": {"local_irq_restore"},
    "rcu_read_lock": {"rcu_read_lock"},
    "rcu_read_unlock": {"rcu_read_unlock"},
    "list_add_tail": {"list_add_tail"},
    "list_add_rcu": {"list_add_rcu"},
    "list_del_init": {"list_del_init"},
    "list_del_rcu": {"list_del_rcu"},
    "list_move_tail": {"list_move_tail"},
    "list_empty": {"list_empty", "test"},
    "list_next": {"list_walk"},
    "list_entries": {"list_walk"},
    "task_oncpu_function_call": {"cross_call"},
    "smp_call_function_single": {"cross_call"},
    "choose": {"test"},
    "READ_ONCE": {"load", "test"},
    "rcu_dereference": {"load", "test", "call"},
    "smp_wmb": {"smp_wmb"},
}

#: model helpers that are one step on a field: ``_ctxp(k, s, task)`` loads
#: ``task->perf_counter_ctxp`` (plain, or READ_ONCE in the what-if variants)
HELPER_STEPS = {"_ctxp": ("load", "perf_counter_ctxp")}
_HELPER = re.compile(r"\b(" + "|".join(HELPER_STEPS) + r")\(")

_PRIMITIVE = re.compile(r"\bk\.(\w+)\(")
_CALL = re.compile(r"yield from (\w+)\(")
#: the field a load or store touches: ``k.load(counter.ctx)`` -> ``ctx``
_FIELD = re.compile(r"\bk\.(?:load|store)\(\w+(?:\.\w+)*\.(\w+)\b")


def facts() -> dict[tuple[str, int], tuple[str, str]]:
    with FACTS.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows, "facts.csv is empty"
    table = {(r["revision"], int(r["line"])): (r["function"], r["operation"]) for r in rows}
    assert len(table) == len(rows), "a (revision, line) appears twice in facts.csv"
    return table


def model_files() -> list[Path]:
    return sorted(MODELS.glob("*.py"))


def functions_by_line(path: Path) -> dict[int, str]:
    """The innermost function defined around each line of a model file."""
    tree = ast.parse(path.read_text())
    owner: dict[int, str] = {}
    defs = sorted(
        (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)), key=lambda n: n.lineno
    )
    for node in defs:
        end = node.end_lineno or node.lineno
        for line in range(node.lineno, end + 1):
            owner[line] = node.name
    return owner


def citations() -> list[tuple[Path, int, str, int]]:
    out = []
    for path in model_files():
        for line, letters in cite.annotations(str(path)).items():
            out += [(path, line, letter, n) for letter, n in letters.items()]
    return out


def test_every_citation_is_a_fact_in_its_function_with_a_matching_operation() -> None:
    table = facts()
    problems = []
    cited = citations()
    assert len(cited) > 300, "the models cite far fewer lines than they have steps"
    for path, line, letter, n in cited:
        rev = cite.REVISIONS[letter]
        source = path.read_text().splitlines()[line - 1]
        function = functions_by_line(path).get(line, "?")
        where = f"{path.name}:{line} ({letter}{n})"
        fact = table.get((rev.short, n))
        if fact is None:
            problems.append(f"{where}: {rev.short}:{n} is not in facts.csv")
            continue
        kernel_function, operation = fact
        if ALIASES.get(function, function) != kernel_function:
            problems.append(f"{where}: model {function}, kernel line is in {kernel_function}")
        verb = operation.split()[0]
        called = _CALL.search(source)
        primitive = _PRIMITIVE.search(source)
        helper = _HELPER.search(source)
        if called and verb == "call":
            if operation.split()[1] not in (called.group(1), "func"):
                problems.append(f"{where}: calls {called.group(1)}, the line calls {operation}")
        elif helper and not primitive:
            kind, field = HELPER_STEPS[helper.group(1)]
            if verb not in KINDS[kind] and field not in operation.split()[1:]:
                problems.append(f"{where}: {helper.group(1)} against '{operation}'")
        elif primitive:
            allowed = KINDS.get(primitive.group(1))
            touched = _FIELD.search(source)
            same_field = touched is not None and touched.group(1) in operation.split()[1:]
            if allowed is None or (verb not in allowed and not same_field):
                problems.append(f"{where}: k.{primitive.group(1)} against '{operation}'")
        elif not called:
            problems.append(f"{where}: no step on the line")
    assert not problems, "\n".join(problems)


def test_every_fact_is_cited() -> None:
    cited = {(cite.REVISIONS[letter].short, n) for _, _, letter, n in citations()}
    unused = sorted(set(facts()) - cited)
    assert not unused, f"facts.csv rows no model cites: {unused}"


def test_each_revision_is_a_full_commit_id_with_its_url() -> None:
    for rev in cite.REVISIONS.values():
        assert re.fullmatch(r"[0-9a-f]{40}", rev.sha)
        assert rev.url(7) == (
            f"https://github.com/torvalds/linux/blob/{rev.sha}/kernel/perf_counter.c#L7"
        )
    assert cite.letters_for("pre") == ("P",)
    assert cite.letters_for("post") == ("K",)
    assert cite.letters_for("mutant-no-cmpxchg") == ("K",)
    assert cite.letters_for("c93f7669") == ("F", "K")


def _first_violation_events(name: str, variant: str, prop: str) -> list[Event]:
    """The events of the first schedule dpor finds violating ``prop``."""
    model = load_model(name)
    config = model.config(variant, {})
    budget = Bounds(max_steps=model.max_steps)
    outcome = get_explorer("dpor")(model, config, budget, stop_on_first=True).run()
    found = outcome.discoveries.get(prop) or next(iter(outcome.discoveries.values()))
    run = Execution(model, config, budget.max_steps, record=True)
    run.replay(list(found.schedule))
    return list(run.events)


@pytest.mark.parametrize(
    ("name", "variant", "prop", "wanted"),
    [
        (
            "perf_counter.ctx_lifetime",
            "post",
            "consistent_cpuctx",
            {("load", "T.perf_counter_ctxp", 1282), ("cmpxchg", "T.perf_counter_ctxp", 1295)},
        ),
        ("perf_counter.double_del", "pre", "list_integrity", {("list_del_rcu", "", 129)}),
    ],
)
def test_traces_cite_the_variants_own_lines(
    name: str, variant: str, prop: str, wanted: set[tuple[str, str, int]]
) -> None:
    events = _first_violation_events(name, variant, prop)
    revision = "34adc806" if variant == "pre" else "a63eaf34"
    seen = set()
    for e in events:
        if e.cite is None:
            continue
        assert e.cite.revision == revision and e.cite.path == "kernel/perf_counter.c"
        assert e.cite.url is not None and e.cite.url.endswith(f"#L{e.cite.line}")
        for op, obj, line in wanted:
            if e.text.startswith(op + "(") and obj in e.text and e.cite.line == line:
                seen.add((op, obj, line))
    assert seen == wanted
