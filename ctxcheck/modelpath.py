"""The model path: where model names are looked up, root by root.

A model's *name* is its module path below the place it was found:
``perf_counter.ctx_create`` is ``perf_counter/ctx_create.py`` below one of
these roots, searched in this order (the first that has the name wins):

1. each ``--path DIR`` of the command line, in the order given;
2. each directory of ``$CTXCHECK_PATH`` (separated like ``$PATH``);
3. ``./models`` of the current directory, when it is a plain folder of
   model files (no ``__init__.py``, as ``ctxcheck new`` makes it);
4. the ``models`` package: the perf_counter and example models shipped with
   ctxcheck (in the wheel, or in the checkout it runs from), or a
   ``models/`` package of the current directory, which takes its place;
5. the packages that installed distributions declare in the
   ``ctxcheck.models`` entry-point group: ``acme = "acme_models"`` makes
   ``acme_models/spin.py`` the model ``acme.spin``. They come last, so no
   installed package changes what a built-in name means, and they are
   looked up (a scan of every installed distribution) only when the name
   was not found before them.

A directory root is imported under a package name of its own
(``_ctxcheck_root_<digest>``), so a user's files never shadow, and are
never shadowed by, another module of the same name; relative imports work
inside it. This module only says where names are; :mod:`ctxcheck.loader`
imports them.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ctxcheck.errors import UsageError
from ctxcheck.output import path_problem

_REPO_ROOT = Path(__file__).resolve().parent.parent
#: the environment variable holding more model directories
PATH_ENV = "CTXCHECK_PATH"
#: the entry-point group through which installed packages offer models
ENTRY_POINTS = "ctxcheck.models"
#: a model *name*: dotted Python identifiers, never a path
_MODEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")


def is_model_name(text: str) -> bool:
    """Whether ``text`` is a dotted model name (``perf_counter.ctx_create``), not a path."""
    return bool(_MODEL_NAME.match(text))


@dataclass(frozen=True)
class Root:
    """One place models are found; a model's name is its module path below it."""

    #: ``--path``, ``$CTXCHECK_PATH``, ``./models``, ``entry point``, ``built in``
    kind: str
    #: the directories searched (a package may have several)
    directories: tuple[Path, ...]
    #: the module name the directories are imported as
    package: str
    #: what names found here start with (an entry point's name), or ''
    prefix: str = ""

    @property
    def label(self) -> str:
        """What kind of root this is: ``--path``, ``entry point acme``, ``built in``, ..."""
        return f"entry point {self.prefix}" if self.kind == "entry point" else self.kind

    def describe(self) -> str:
        """Where this is, for ``ctxcheck list`` and error messages."""
        where = ", ".join(str(d) for d in self.directories)
        if self.kind == "entry point":
            return f"{self.label} ({self.package}: {where})"
        return f"{self.label} {where}"

    def module_of(self, name: str) -> str | None:
        """The module that would hold model ``name`` here, if its file exists."""
        if self.prefix:
            if name == self.prefix:
                rest = ""
            elif name.startswith(self.prefix + "."):
                rest = name[len(self.prefix) + 1 :]
            else:
                return None
        else:
            rest = name
        if not rest:
            return self.package if self.prefix else None
        parts = rest.split(".")
        for d in self.directories:
            base = d.joinpath(*parts)
            if _is_file(base.with_suffix(".py")) or _is_file(base / "__init__.py"):
                return f"{self.package}.{rest}"
        return None

    def names(self) -> Iterator[tuple[str, str]]:
        """(model name, module) of every module file below this root."""
        if self.prefix and self.package:
            yield self.prefix, self.package
        for d in self.directories:
            for rel in _module_files(d):
                name = ".".join(rel)
                yield (f"{self.prefix}.{name}" if self.prefix else name), f"{self.package}.{name}"


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long, a loop of links: not a model file
        return False


def _module_files(directory: Path) -> Iterator[tuple[str, ...]]:
    """Dotted paths of the importable modules below ``directory``, sorted."""
    try:
        entries = sorted(directory.iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith("__") and entry.name != "__init__.py":
            continue  # __pycache__, __main__.py
        if entry.is_dir() and entry.name.isidentifier():
            for rel in _module_files(entry):
                yield (entry.name, *rel)
        elif entry.suffix == ".py" and entry.stem.isidentifier() and entry.stem != "__init__":
            yield (entry.stem,)


def model_path(paths: Sequence[str] = ()) -> list[Root]:
    """The roots searched for model names, in order (see the module docstring)."""
    return list(roots(paths))


def roots(paths: Sequence[str] = ()) -> Iterator[Root]:
    """The roots, made one at a time: a name found early costs no entry-point scan."""
    env = [p for p in os.environ.get(PATH_ENV, "").split(os.pathsep) if p]
    for kind, entries in (("--path", list(paths)), (f"${PATH_ENV}", env)):
        for entry in entries:
            yield _directory_root(kind, entry)
    here = Path.cwd() / "models"
    if here.is_dir() and not (here / "__init__.py").exists():
        yield _directory_root("./models", str(here))
    builtin = _models_package()
    if builtin is not None:
        yield builtin
    yield from _entry_point_roots()


def _directory_root(kind: str, entry: str) -> Root:
    problem = path_problem(entry)
    if problem:
        raise UsageError(f"model path {kind} {problem}")
    directory = Path(entry).expanduser().resolve()
    if not directory.is_dir():
        what = "does not exist" if not directory.exists() else "is not a directory"
        raise UsageError(f"model path {kind} {entry}: {what}")
    digest = hashlib.sha1(str(directory).encode()).hexdigest()[:10]
    package = f"_ctxcheck_root_{digest}"
    if package not in sys.modules:
        spec = importlib.machinery.ModuleSpec(package, None, is_package=True)
        spec.submodule_search_locations = [str(directory)]
        module = importlib.util.module_from_spec(spec)
        module.__path__ = [str(directory)]
        sys.modules[package] = module
    return Root(kind, (directory,), package)


def _entry_point_roots() -> list[Root]:
    from importlib.metadata import entry_points

    roots = []
    for ep in sorted(entry_points(group=ENTRY_POINTS), key=lambda e: e.name):
        if not is_model_name(ep.name) or not is_model_name(ep.module):
            continue
        try:
            spec = importlib.util.find_spec(ep.module)
        except Exception:  # a broken installed package must not break every command
            spec = None
        if spec is None:
            continue
        dirs = tuple(Path(d) for d in (spec.submodule_search_locations or ()))
        roots.append(Root("entry point", dirs, ep.module, ep.name))
    return roots


def _models_package() -> Root | None:
    """The ``models`` package: the current directory's, else the one shipped with ctxcheck."""
    ensure_path()
    try:
        spec = importlib.util.find_spec("models")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    dirs = tuple(Path(d).resolve() for d in spec.submodule_search_locations)
    kind = "./models" if (Path.cwd() / "models").resolve() in dirs else "built in"
    return Root(kind, dirs, "models")


def ensure_path() -> None:
    """Make the ``models`` package importable: the current directory's, else ctxcheck's."""
    here = Path.cwd()
    if (here / "models" / "__init__.py").is_file() and str(here) not in sys.path:
        sys.path.insert(0, str(here))
    if (_REPO_ROOT / "models").is_dir() and str(_REPO_ROOT) not in sys.path:
        sys.path.append(str(_REPO_ROOT))
