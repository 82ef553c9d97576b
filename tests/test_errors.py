"""Every error class of issue 3, item 7, through the CLI: exit 2 and a message that helps.

Each case checks the status, that the message names what is wrong (and the
valid choices, the file and line, or the schedule), and that no Python
traceback reaches the user unless ``--debug`` asks for one.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

Cli = Callable[..., "subprocess.CompletedProcess[str]"]

LOST = "examples.lost_update"

#: a model whose thread divides by zero on its second step
RAISING_MODEL = """
from ctxcheck import Cell, Model, Struct, field

class G(Struct):
    x: Cell = field(0)

def worker(k, g):
    v = yield k.load(g.x)
    yield k.store(g.x, 1 // v)

def setup(m, cfg):
    g = m.new(G)
    m.spawn("W", worker, g)
    return g

MODEL = Model("raising", setup)
"""


def _error(proc: subprocess.CompletedProcess[str]) -> str:
    """The one-paragraph error: exit 2, nothing on stdout, no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    return proc.stderr


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


# ------------------------------------------------- unknown names, bad values


def test_unknown_model_lists_the_known_ones(cli: Cli) -> None:
    err = _error(cli("check", "examples.lost_updat"))
    assert "error: unknown model 'examples.lost_updat'; known models: " in err
    assert LOST in err


def test_a_package_of_models_lists_its_models(cli: Cli) -> None:
    err = _error(cli("check", "perf_counter"))
    assert "perf_counter is a package of models, not a model: give one of " in err
    assert "perf_counter.ctx_create, perf_counter.ctx_hooks" in err


def test_unknown_variant_lists_the_variants(cli: Cli) -> None:
    err = _error(cli("check", LOST, "--variant", "fixed"))
    assert (
        "error: model examples.lost_update has no variant 'fixed'; "
        "its variants are: racy, atomic, locked"
    ) in err


def test_unknown_parameter_lists_the_parameters(cli: Cli) -> None:
    err = _error(cli("check", LOST, "--param", "cpus=2"))
    assert "has no parameter 'cpus'; its parameters are: threads" in err


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("9", "parameter threads=9 is out of range: allowed 1..8"),
        ("0", "parameter threads=0 is out of range: allowed 1..8"),
        ("many", "parameter threads='many': not an integer"),
    ],
)
def test_bad_parameter_value(cli: Cli, value: str, message: str) -> None:
    err = _error(cli("check", LOST, "--param", f"threads={value}"))
    assert message in err


def test_malformed_param_option(cli: Cli) -> None:
    err = _error(cli("check", LOST, "--param", "threads"))
    assert "--param 'threads': expected KEY=VALUE" in err


def test_unknown_explorer_lists_the_explorers(cli: Cli) -> None:
    from ctxcheck.explorers import EXPLORERS

    err = _error(cli("check", LOST, "--explorer", "bogus"))
    assert "unknown explorer 'bogus'; choose one of: " in err
    for name in EXPLORERS:
        assert name in err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--max-steps", "ten", "'ten' is not an integer"),
        ("--max-executions", "-1", "'-1' must not be negative"),
        ("--timeout", "0", "'0' must be positive"),
        ("--timeout", "nan", "'nan' is not a finite number of seconds"),
        ("--timeout", "inf", "'inf' is not a finite number of seconds"),
        ("--timeout", "1e999", "'1e999' is not a finite number of seconds"),
        ("--timeout=-inf", None, "'-inf' is not a finite number of seconds"),
        ("--timeout=-1", None, "'-1' must be positive"),
    ],
)
def test_bad_option_values(cli: Cli, option: str, value: str | None, message: str) -> None:
    proc = cli("check", LOST, *([option] if value is None else [option, value]), "--json")
    assert proc.returncode == 2 and proc.stdout == ""  # --json prints nothing, least of all NaN
    assert option.partition("=")[0] in proc.stderr and message in proc.stderr


@pytest.mark.parametrize("value", ["nan", "inf", "1e999"])
def test_prove_refuses_a_timeout_that_is_no_number_of_seconds(
    cli: Cli, tmp_path: Path, value: str
) -> None:
    err = _error(cli("prove", LOST, "-o", str(tmp_path / "out"), "--timeout", value))
    assert f"argument --timeout: '{value}' is not a finite number of seconds" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0, 0])
def test_the_api_refuses_a_timeout_that_is_no_number_of_seconds(value: float) -> None:
    import ctxcheck
    from ctxcheck.errors import UsageError

    with pytest.raises(UsageError, match="give a finite, positive number of seconds"):
        ctxcheck.check(LOST, timeout=value)
    with pytest.raises(UsageError, match="finite, positive number"):
        ctxcheck.settings.Settings(timeout=value)


def test_max_preemptions_with_an_explorer_that_does_not_bound_them(cli: Cli) -> None:
    err = _error(cli("check", LOST, "--variant", "racy", "--max-preemptions", "0"))
    assert "explorer dpor does not honour max_preemptions=0 (--max-preemptions)" in err
    assert "The explorers that bound preemptions: bounded;" in err


def test_missing_model_file(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.py"
    err = _error(cli("check", str(missing)))
    assert f"model file {missing} does not exist" in err


# -------------------------------------------------- model files that fail


def test_model_file_with_a_syntax_error_names_file_and_line(cli: Cli, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "broken.py",
        """
        from ctxcheck import Model

        def setup(m, cfg)
            return None
    """,
    )
    err = _error(cli("check", str(path)))
    assert f"syntax error at {path}:3" in err


def test_model_file_raising_on_import_names_file_and_line(cli: Cli, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "raises.py",
        """
        from ctxcheck import Model

        LIMIT = undefined_name + 1
    """,
    )
    err = _error(cli("check", str(path)))
    assert f"failed to import at {path}:3: NameError" in err
    assert "undefined_name" in err


def test_model_file_without_model(cli: Cli, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "empty.py",
        """
        X = 1
    """,
    )
    err = _error(cli("check", str(path)))
    assert "defines no MODEL; a model module must set MODEL = ctxcheck.Model(...)" in err


# ------------------------------------------------- exceptions in model code


def test_exception_in_model_code_names_file_line_and_schedule(cli: Cli, tmp_path: Path) -> None:
    path = _write(tmp_path, "raising.py", RAISING_MODEL)
    err = _error(cli("check", str(path)))
    assert err.startswith("ctxcheck: model error: model raising raised ZeroDivisionError")
    assert f"{path.name}:8 in worker (in thread W), after 1 steps" in err
    assert "schedule: [0]" in err
    assert "run with --debug for the full traceback" in err


def test_debug_shows_the_traceback(cli: Cli, tmp_path: Path) -> None:
    path = _write(tmp_path, "raising.py", RAISING_MODEL)
    proc = cli("--debug", "check", str(path))
    assert proc.returncode == 2
    assert "Traceback (most recent call last)" in proc.stderr
    assert "ZeroDivisionError" in proc.stderr
    assert f'{path.name}", line 8, in worker' in proc.stderr


#: a thread that forgets a ``yield``: a store, a helper, or a test of a step
FORGETFUL_MODEL = """
from ctxcheck import Cell, Model, Struct, Variant, field

class G(Struct):
    x: Cell = field(1)
    lock: object = None

def worker(k, g, forget):
    yield k.load(g.x)
    if forget == "store":
        k.store(g.x, 2)
    elif forget == "helper":
        k.list_entries(g.x)
    elif forget == "test":
        if k.atomic_dec_and_test(g.x):
            yield k.store(g.x, 2)
    elif forget == "last":
        k.store(g.x, 3)
        return
    yield k.load(g.x)

def setup(m, cfg):
    g = m.new(G)
    m.spawn("W", worker, g, cfg.variant)
    return g

MODEL = Model("forgetful", setup, variants=tuple(
    Variant(v, v) for v in ("none", "store", "helper", "test", "last")))
"""


@pytest.mark.parametrize(
    ("variant", "message", "line"),
    [
        ("store", "{path}:10 was built but never run: write `yield k.store(...)`", 0),
        ("helper", "{path}:12 was built but never run: write `yield from k.list_entries(...)`", 0),
        ("last", "{path}:17 was built but never run", 0),
        (
            "test",
            "`if k.atomic_dec_and_test(...)` tests the step, not its result: "
            "write `if (yield k.atomic_dec_and_test(...))`",
            14,
        ),
    ],
)
def test_a_forgotten_yield_is_a_model_error(
    cli: Cli, tmp_path: Path, variant: str, message: str, line: int
) -> None:
    """Without the error a dropped step passes silently: the check may hold wrongly."""
    path = _write(tmp_path, "forgetful.py", FORGETFUL_MODEL)
    err = _error(cli("check", str(path), "--variant", variant))
    assert message.format(path=path.name) in err
    if variant != "test":
        assert f"thread W: k.{'list_entries' if variant == 'helper' else 'store'}(...) at " in err
    if line:
        assert f"{path.name}:{line} in worker" in err


def test_a_model_that_yields_every_step_is_not_flagged(cli: Cli, tmp_path: Path) -> None:
    path = _write(tmp_path, "forgetful.py", FORGETFUL_MODEL)
    assert cli("check", str(path), "--variant", "none").returncode == 0


def test_exception_in_setup(cli: Cli, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "bad_setup.py",
        """
        from ctxcheck import Model

        def setup(m, cfg):
            return m.cpus[3]

        MODEL = Model("bad_setup", setup)
    """,
    )
    err = _error(cli("check", str(path)))
    assert "raised IndexError: list index out of range" in err
    assert f"{path.name}:4 in setup (in setup), after 0 steps" in err


def test_nondeterministic_model(cli: Cli, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "nondet.py",
        """
        import itertools
        from ctxcheck import Cell, Model, Struct, field

        class G(Struct):
            x: Cell = field(0)
            y: Cell = field(0)

        runs = itertools.count()

        def reader(k, cell):
            yield k.load(cell)
            yield k.load(cell)

        def writer(k, cell):
            yield k.store(cell, 1)

        def setup(m, cfg):
            g = m.new(G)
            m.spawn("R", reader, g.x if next(runs) % 2 == 0 else g.y)
            m.spawn("W", writer, g.x)
            return g

        MODEL = Model("nondet", setup)
    """,
    )
    err = _error(cli("check", str(path)))
    assert "model error: model nondet did not replay the same way at step 1" in err
    assert "no randomness, no global Python state" in err


@pytest.mark.parametrize(
    ("where", "place"),
    [
        ("thread", "W"),
        ("setup", "S"),
        ("property", "P"),
    ],
)
def test_system_exit_in_model_code_is_a_model_error(
    cli: Cli, tmp_path: Path, where: str, place: str
) -> None:
    # sys.exit(0) in a model once ended ctxcheck with status 0 and no word
    text = f"""
        import sys
        from ctxcheck import Cell, Model, Property, Struct, field

        class G(Struct):
            x: Cell = field(0)

        def worker(k, g):
            v = yield k.load(g.x)
            if "{place}" == "W":
                sys.exit(0)
            yield k.store(g.x, v + 1)

        def setup(m, cfg):
            g = m.new(G)
            m.spawn("W", worker, g)
            if "{place}" == "S":
                sys.exit(0)
            return g

        def prop(m, g):
            if "{place}" == "P":
                sys.exit(0)

        MODEL = Model("exiting", setup, properties=(Property("p", "", prop, final=True),))
    """
    path = _write(tmp_path, "exiting.py", text)
    err = _error(cli("check", str(path)))
    assert err.startswith("ctxcheck: model error: model exiting raised SystemExit: 0"), err
    assert f"{path.name}:" in err and "This is a bug in the model" in err


def test_a_thread_that_never_yields_is_ended_by_the_timeout(cli: Cli, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "spinning.py",
        """
        from ctxcheck import Cell, Model, Struct, field

        class G(Struct):
            x: Cell = field(0)

        def worker(k, g):
            v = yield k.load(g.x)
            while v >= 0:  # never yields again
                v += 1
            yield k.store(g.x, v)

        def setup(m, cfg):
            g = m.new(G)
            m.spawn("W", worker, g)
            return g

        MODEL = Model("spinning", setup)
    """,
    )
    proc = cli("check", str(path), "--timeout", "0.5", "--json")  # the fixture's hang guard
    assert proc.returncode == 3, (proc.returncode, proc.stderr)
    result = json.loads(proc.stdout)
    assert result["verdict"] == "inconclusive"
    assert result["stopped"].startswith("timeout=0.5s; a step of the model was still running")
    # the loop's own lines: the model code that was running, not ctxcheck's
    assert any(f"{path.name}:{line} in worker" in result["stopped"] for line in (8, 9))
    assert "Traceback" not in proc.stderr


# -------------------------------------------------------------- trace files


def test_trace_file_of_another_format(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"format": "something-else"}')
    err = _error(cli("replay", str(path)))
    assert str(path) in err
    assert "not a ctxcheck trace file" in err


def test_missing_trace_file(cli: Cli, tmp_path: Path) -> None:
    err = _error(cli("replay", str(tmp_path / "gone.json")))
    assert "gone.json" in err
