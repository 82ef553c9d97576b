"""``ctxcheck new NAME``: a starter model and its tests that run green, as the tutorial shows.

The model must check (the fix holds, the bug is found), its pytest file
must pass, an existing file must never be overwritten without ``--force``,
and section 0 of docs/writing-a-model.md must show what the command prints
and finds today.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "writing-a-model.md"


def _run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A command as a user types it in their project: this checkout's ctxcheck on the path."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("CTXCHECK_PATH", None)
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _ctxcheck(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return _run(sys.executable, "-m", "ctxcheck.cli", *args, cwd=cwd)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project directory with the starter written into it."""
    where = tmp_path_factory.mktemp("project")
    made = _ctxcheck("new", "pubsub", cwd=where)
    assert made.returncode == 0, made.stderr
    return where


def _doc_block() -> str:
    text = DOC.read_text()
    return text.split("<!-- new: pubsub -->\n```shell\n", 1)[1].split("```", 1)[0]


def _shown(block: str, command: str) -> list[str]:
    """The lines the tutorial shows after ``$ command``, up to the next prompt."""
    after = block.split(f"$ {command}\n", 1)[1]
    return after.split("\n$ ", 1)[0].splitlines()


def test_the_starter_checks_green_and_finds_its_bug(project: Path) -> None:
    assert (project / "models" / "pubsub.py").is_file()
    assert not (project / "models" / "__init__.py").exists()  # beside the built-in models
    fixed = _ctxcheck("check", "pubsub", cwd=project)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "pubsub: holds for every schedule (variant post" in fixed.stdout
    bug = _ctxcheck("check", "pubsub", "--variant", "pre", cwd=project)
    assert bug.returncode == 1, bug.stderr
    assert "reader0 found the item before it was ready" in bug.stdout
    two = _ctxcheck("check", "pubsub", "--param", "readers=2", "--explorer", "naive", cwd=project)
    assert two.returncode == 0, two.stdout


def test_the_starter_tests_pass_under_pytest(project: Path) -> None:
    run = _run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "tests/test_pubsub.py", cwd=project)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 passed" in run.stdout
    # and from another directory: the test finds its model by its own path
    away = _run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                str(project / "tests" / "test_pubsub.py"), cwd=project.parent)  # fmt: skip
    assert away.returncode == 0, away.stdout + away.stderr


def test_the_starter_proves_its_expectations(project: Path) -> None:
    proof = _ctxcheck("prove", "pubsub", "-o", "proof", cwd=project)
    assert proof.returncode == 0, proof.stdout + proof.stderr
    assert "expectations all met" in proof.stdout


def test_nothing_is_overwritten_without_force(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    mine = tmp_path / "tests" / "test_spin.py"
    mine.write_text("# mine\n")
    refused = _ctxcheck("new", "spin", cwd=tmp_path)
    assert refused.returncode == 2 and f"{Path('tests') / 'test_spin.py'} exists" in refused.stderr
    assert "--force" in refused.stderr and "Traceback" not in refused.stderr
    assert mine.read_text() == "# mine\n" and not (tmp_path / "models").exists()
    forced = _ctxcheck("new", "spin", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert "def test_the_bug_is_caught" in mine.read_text()


@pytest.mark.parametrize("name", ["2fast", "my-model", "class", "_private", ""])
def test_a_name_that_is_no_identifier_is_refused(tmp_path: Path, name: str) -> None:
    proc = _ctxcheck("new", name, cwd=tmp_path)
    assert proc.returncode == 2 and "Python identifier" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_dir_option_and_its_next_steps(tmp_path: Path) -> None:
    (tmp_path / "proj").mkdir()
    made = _ctxcheck("new", "spin", "--dir", "proj", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "  cd proj" in made.stdout
    assert (tmp_path / "proj" / "models" / "spin.py").is_file()
    missing = _ctxcheck("new", "spin", "--dir", "nowhere", cwd=tmp_path)
    assert missing.returncode == 2 and "nowhere" in missing.stderr


def test_the_tutorial_shows_what_new_prints_and_finds(project: Path, tmp_path: Path) -> None:
    block = _doc_block()
    made = _ctxcheck("new", "pubsub", cwd=tmp_path)
    assert _shown(block, "ctxcheck new pubsub") == made.stdout.splitlines()
    bug = _ctxcheck("check", "pubsub", "--variant", "pre", cwd=project).stdout.splitlines()
    for line in _shown(block, "ctxcheck check pubsub --variant pre"):
        if line.strip() in ("", "..."):
            continue
        pattern = re.escape(line).replace(re.escape("..."), ".*")
        assert any(re.fullmatch(pattern, got) for got in bug), line
    assert _shown(block, "pytest tests/test_pubsub.py -q") == ["3 passed"]
