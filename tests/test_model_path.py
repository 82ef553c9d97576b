"""The model path: ``--path DIR``, ``$CTXCHECK_PATH``, ``./models``, entry points, built in.

A name is looked up root by root (the first that has it wins) and only the
module of that name is imported; ``list`` says where each model came from;
a trace records a name only when a later command finds it again by name
(not through ``--path``, which lasts one command), else the model's file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

SPIN = """
from ctxcheck import Cell, Model, Property, Struct, field
{imports}

class G(Struct):
    x: Cell = field(0)

def writer(k, g):
    v = yield k.load(g.x)
    yield k.store(g.x, v + 1)

def setup(m, cfg):
    g = m.new(G)
    m.spawn("A", writer, g)
    m.spawn("B", writer, g)
    return g

def both(m, g):
    return None if g.x.value == {want} else f"x is {{g.x.value}}"

MODEL = Model("{name}", setup, properties=(Property("both", "", both, final=True),))
"""


def _model(path: Path, name: str, imports: str = "", want: int = 2) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(SPIN.format(name=name, imports=imports, want=want)))
    return path


def _cli(*args: str | Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """ctxcheck from ``cwd`` (not the checkout), this checkout's code, extra environment."""
    full = {k: v for k, v in os.environ.items() if k != "CTXCHECK_PATH"}
    full["PYTHONPATH"] = os.pathsep.join(
        [env.pop("PYTHONPATH", ""), str(REPO), os.environ.get("PYTHONPATH", "")]
    ).strip(os.pathsep)
    full.update(env)
    return subprocess.run([sys.executable, "-m", "ctxcheck.cli", *map(str, args)], cwd=cwd,
                          env=full, capture_output=True, text=True, timeout=300)  # fmt: skip


def _origins(proc: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert proc.returncode == 0, proc.stderr
    return {m["name"]: m["origin"] for m in json.loads(proc.stdout)["models"]}


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A working directory of its own, away from the checkout."""
    (tmp_path / "work").mkdir()
    return tmp_path / "work"


def test_path_option_finds_models_by_name_for_one_command(tmp_path: Path, work: Path) -> None:
    lib = tmp_path / "lib"
    model = _model(lib / "spin.py", "spin")
    origins = _origins(_cli("list", "--json", "--path", lib, cwd=work))
    assert origins["spin"] == f"--path: {model}"
    assert origins["examples.lost_update"].startswith("built in: ")
    trace = work / "t.json"
    found = _cli("check", "spin", "--path", lib, "--trace-out", trace, cwd=work)
    assert found.returncode == 1, found.stderr
    # --path lasts one command: the trace and the replay line name the file
    assert json.loads(trace.read_text())["model"] == str(model)
    assert f"--model {model}" in " ".join(found.stdout.replace("\\\n", " ").split())
    assert _cli("replay", trace, "--model", model, cwd=work).returncode == 1
    assert _cli("check", "spin", cwd=work).returncode == 2


def test_environment_variable_is_a_lasting_path(tmp_path: Path, work: Path) -> None:
    lib = tmp_path / "lib"
    model = _model(lib / "mine.py", "mine")
    origins = _origins(_cli("list", "--json", cwd=work, CTXCHECK_PATH=str(lib)))
    assert origins["mine"] == f"$CTXCHECK_PATH: {model}"
    trace = work / "t.json"
    found = _cli("check", "mine", "--trace-out", trace, cwd=work, CTXCHECK_PATH=str(lib))
    assert found.returncode == 1, found.stderr
    assert json.loads(trace.read_text())["model"] == "mine"
    replay = _cli("replay", trace, cwd=work, CTXCHECK_PATH=str(lib))
    assert replay.returncode == 1 and "violated again" in replay.stdout
    lost = _cli("replay", trace, cwd=work)
    assert lost.returncode == 2 and "unknown model 'mine'" in lost.stderr
    assert "$CTXCHECK_PATH" in lost.stderr


def test_the_first_root_that_has_a_name_wins(tmp_path: Path, work: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    mine = _model(first / "mine.py", "mine", want=2)
    _model(second / "mine.py", "mine", want=99)
    _model(second / "examples" / "lost_update.py", "shadow")
    env = {"CTXCHECK_PATH": str(second)}
    origins = _origins(_cli("list", "--json", "--path", first, cwd=work, **env))
    assert origins["mine"] == f"--path: {mine}"
    assert origins["shadow"].startswith("$CTXCHECK_PATH: ")
    checked = _cli("check", "examples.lost_update", "--json", cwd=work, **env)
    assert json.loads(checked.stdout)["model"] == "shadow"


def test_a_name_imports_only_its_own_module(tmp_path: Path, work: Path) -> None:
    lib = tmp_path / "lib"
    _model(lib / "good.py", "good")
    (lib / "broken.py").write_text("def (:\n")
    assert _cli("check", "good", "--path", lib, cwd=work).returncode == 1
    listed = _cli("list", "--path", lib, cwd=work)
    assert listed.returncode == 2 and "broken" in listed.stderr and "syntax error" in listed.stderr


def test_a_directory_root_is_a_package_of_its_own(tmp_path: Path, work: Path) -> None:
    """Relative imports work inside it, and its names shadow no other module."""
    lib = tmp_path / "lib"
    (lib / "json").mkdir(parents=True)
    (lib / "json" / "helpers.py").write_text("WANT = 2\n")
    _model(lib / "json" / "spin.py", "json.spin", imports="from .helpers import WANT")
    proc = _cli("check", "json.spin", "--path", lib, "--json", cwd=work)
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["model"] == "json.spin"  # and the stdlib json still works


def test_models_folder_of_the_working_directory(work: Path) -> None:
    """``./models`` without ``__init__.py`` (as ``ctxcheck new`` makes it) beside the built-ins."""
    model = _model(work / "models" / "spin.py", "spin")
    origins = _origins(_cli("list", "--json", cwd=work))
    assert origins["spin"] == f"./models: {model.relative_to(work)}"
    assert origins["examples.lost_update"].startswith("built in: ")
    assert _cli("check", "spin", cwd=work).returncode == 1


def test_entry_point_group_for_packages_of_models(tmp_path: Path, work: Path) -> None:
    """An installed distribution offering ``acme = acme_models`` in ``ctxcheck.models``."""
    site = tmp_path / "site"
    _model(site / "acme_models" / "spin.py", "acme.spin")
    (site / "acme_models" / "__init__.py").write_text('"""Acme\'s models."""\n')
    info = site / "acme_models-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-models\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[ctxcheck.models]\nacme = acme_models\n")
    origins = _origins(_cli("list", "acme", "--json", cwd=work, PYTHONPATH=str(site)))
    assert origins == {"acme.spin": f"entry point acme: {site / 'acme_models' / 'spin.py'}"}
    found = _cli("check", "acme.spin", cwd=work, PYTHONPATH=str(site))
    assert found.returncode == 1, found.stderr


def test_a_path_that_is_no_directory(tmp_path: Path, work: Path) -> None:
    missing = tmp_path / "missing"
    proc = _cli("list", "--path", missing, cwd=work)
    assert proc.returncode == 2 and f"--path {missing}: does not exist" in proc.stderr
    env = _cli("list", cwd=work, CTXCHECK_PATH=str(missing))
    assert env.returncode == 2 and "$CTXCHECK_PATH" in env.stderr
