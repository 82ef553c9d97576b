"""ctxcheck as a newcomer installs it: sdist, then wheel, into a fresh virtual environment.

The distribution must carry the perf_counter models and their properties
(top-level folders of the repository, top-level packages of the wheel), so
that from any directory an installed ctxcheck lists the perf_counter
models, checks one, proves one, loads its pytest plugin, and takes a
newcomer from ``ctxcheck new`` to a first green check and test run.

One module-scoped build: the sdist is made from a copy of the checkout,
the wheel from the unpacked sdist (so the sdist is proven complete), and
the wheel is installed with its dependencies from the package registry
into a venv that sees nothing of this checkout. It takes about a minute.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PERF_COUNTER = {
    "perf_counter.ctx_create",
    "perf_counter.ctx_hooks",
    "perf_counter.ctx_lifetime",
    "perf_counter.double_del",
    "perf_counter.enable_task_ctx",
    "perf_counter.fork_inherit",
    "perf_counter.install_task_ctx",
    "perf_counter.open_errors",
}
#: what the source copy holds (the rest of a checkout is no part of a release)
SOURCES = ("ctxcheck", "models", "properties", "docs", "tests")
FILES = ("pyproject.toml", "README.md", "MANIFEST.in", "BENCHMARKS.md")


def _run(*argv: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: int = 600):
    proc = subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    return proc


def _clean_env(venv: Path) -> dict[str, str]:
    """The environment of a shell in which only the venv is activated."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "CTXCHECK"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    return env


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """sdist and wheel built from a copy of the checkout."""
    root = tmp_path_factory.mktemp("dist")
    src = root / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")
    for name in SOURCES:
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    for name in FILES:
        shutil.copy(REPO / name, src / name)
    build = "import setuptools.build_meta as b, sys; print(b.build_sdist(sys.argv[1]))"
    proc = _run(sys.executable, "-c", build, root / "sdist", cwd=src)
    assert proc.returncode == 0, proc.stderr
    sdist = root / "sdist" / proc.stdout.strip().splitlines()[-1]
    with tarfile.open(sdist) as tar:
        tar.extractall(root / "unpacked", filter="data")
    (unpacked,) = (root / "unpacked").iterdir()
    proc = _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", root / "wheel",
                ".", cwd=unpacked)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (wheel,) = (root / "wheel").glob("ctxcheck-*.whl")
    return {"sdist": sdist, "wheel": wheel}


@pytest.fixture(scope="module")
def venv(dist: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel (and its dependencies) installed."""
    where = tmp_path_factory.mktemp("venv") / "env"
    proc = _run(sys.executable, "-m", "venv", where, cwd=where.parent)
    assert proc.returncode == 0, proc.stderr
    pip = [where / "bin" / "python", "-m", "pip", "install", "-q", dist["wheel"]]
    proc = _run(*pip, cwd=where.parent, env=_clean_env(where))
    assert proc.returncode == 0, proc.stderr
    return where


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A directory far from the checkout: no models/ here."""
    assert not (tmp_path / "models").exists()
    return tmp_path


def test_sdist_and_wheel_carry_the_models_and_properties(dist: dict[str, Path]) -> None:
    with tarfile.open(dist["sdist"]) as tar:
        sdist = {"/".join(n.split("/")[1:]) for n in tar.getnames()}
    wheel = set(zipfile.ZipFile(dist["wheel"]).namelist())
    for name in sorted(PERF_COUNTER):
        path = "models/" + name.replace(".", "/") + ".py"
        assert path in sdist and path in wheel, path
    for path in ("properties/__init__.py", "properties/leak.py", "ctxcheck/trace_schema.json"):
        assert path in sdist and path in wheel, path
    assert "tests/test_wheel.py" in sdist and not any(n.startswith("tests/") for n in wheel)


def test_installed_ctxcheck_lists_checks_and_proves_from_anywhere(
    venv: Path, elsewhere: Path
) -> None:
    env = _clean_env(venv)
    exe = venv / "bin" / "ctxcheck"
    version = _run(exe, "--version", cwd=elsewhere, env=env)
    assert version.returncode == 0 and version.stdout.startswith("ctxcheck "), version.stderr
    listed = _run(exe, "list", "perf_counter", "--json", cwd=elsewhere, env=env)
    assert listed.returncode == 0, listed.stderr
    models = json.loads(listed.stdout)["models"]
    assert {m["name"] for m in models} == PERF_COUNTER
    assert all(m["origin"].startswith("built in: ") for m in models)
    assert all(str(venv) in m["source"] for m in models)
    bug = _run(exe, "check", "perf_counter.enable_task_ctx", "--variant", "pre", cwd=elsewhere,
               env=env)  # fmt: skip
    assert bug.returncode == 1, bug.stderr
    assert "VIOLATED: prompt_enable" in bug.stdout
    fixed = _run(exe, "check", "perf_counter.enable_task_ctx", "--variant", "post",
                 cwd=elsewhere, env=env)  # fmt: skip
    assert fixed.returncode == 0, fixed.stderr
    proof = _run(exe, "prove", "perf_counter.enable_task_ctx", "-o", "proof", cwd=elsewhere,
                 env=env)  # fmt: skip
    assert proof.returncode == 0, proof.stdout + proof.stderr
    assert "Every expectation met." in (elsewhere / "proof" / "proof.txt").read_text()


def test_installed_pytest_plugin_loads_and_checks(venv: Path, elsewhere: Path) -> None:
    env = _clean_env(venv)
    python = venv / "bin" / "python"
    helped = _run(python, "-m", "pytest", "--help", cwd=elsewhere, env=env)
    assert helped.returncode == 0 and "--ctxcheck-explorer" in helped.stdout, helped.stderr
    (elsewhere / "test_shipped.py").write_text(
        "def test_lost_update_is_found(ctxcheck):\n"
        "    ctxcheck.check('examples.lost_update', variant='racy')"
        ".assert_violates('no_lost_update')\n"
    )
    run = _run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=elsewhere, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout and "ctxcheck: models checked: 1" in run.stdout


def test_a_newcomer_goes_from_new_to_a_green_check_and_test_run(
    venv: Path, elsewhere: Path
) -> None:
    env = _clean_env(venv)
    exe = venv / "bin" / "ctxcheck"
    made = _run(exe, "new", "pubsub", cwd=elsewhere, env=env)
    assert made.returncode == 0, made.stderr
    assert (elsewhere / "models" / "pubsub.py").is_file()
    listed = _run(exe, "list", "--json", cwd=elsewhere, env=env)
    origins = {m["name"]: m["origin"] for m in json.loads(listed.stdout)["models"]}
    assert origins["pubsub"].startswith("./models: ") and set(origins) >= PERF_COUNTER
    assert _run(exe, "check", "pubsub", cwd=elsewhere, env=env).returncode == 0
    bug = _run(exe, "check", "pubsub", "--variant", "pre", cwd=elsewhere, env=env)
    assert bug.returncode == 1 and "reader0 found the item before it was ready" in bug.stdout
    tests = _run(venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                 "tests", cwd=elsewhere, env=env)  # fmt: skip
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "3 passed" in tests.stdout
