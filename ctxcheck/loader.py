"""Finding models: a dotted name on the model path, a model file, or an object.

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
inside it. A model file given as a path runs as a module of its own. The
engine never imports models at import time: only this loader does, on
request, and a trace file may only ask for a *name* (:func:`load_named_model`).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.util
import os
import re
import sys
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from ctxcheck.errors import ModelLoadError, UsageError
from ctxcheck.model import Model
from ctxcheck.output import PATH_MAX, path_problem

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


def is_model_file(target: str) -> bool:
    """Whether a command-line target names a model file rather than a model."""
    return target.endswith(".py") or os.sep in target or "/" in target


# -- the model path -------------------------------------------------------------
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
    return list(_roots(paths))


def _roots(paths: Sequence[str]) -> Iterator[Root]:
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
    _check_path_length(entry, kind)
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
    _ensure_path()
    try:
        spec = importlib.util.find_spec("models")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    dirs = tuple(Path(d).resolve() for d in spec.submodule_search_locations)
    kind = "./models" if (Path.cwd() / "models").resolve() in dirs else "built in"
    return Root(kind, dirs, "models")


def _ensure_path() -> None:
    here = Path.cwd()
    if (here / "models" / "__init__.py").is_file() and str(here) not in sys.path:
        sys.path.insert(0, str(here))
    if (_REPO_ROOT / "models").is_dir() and str(_REPO_ROOT) not in sys.path:
        sys.path.append(str(_REPO_ROOT))


# -- where each model came from ------------------------------------------------------
@dataclass(frozen=True)
class Origin:
    """How a model was found: by name in a root, or as a file."""

    name: str | None
    root: Root | None
    file: str

    def describe(self) -> str:
        """``built in: models/x.py``, ``--path /d: /d/x.py``, ``file x.py``."""
        if self.root is None:
            return f"file {self.file}"
        return f"{self.root.label}: {self.file}"


#: id(model) -> (model, origin); the model is held so that its id stays its own
_ORIGINS: dict[int, tuple[Model, Origin]] = {}


def origin(model: Model) -> Origin | None:
    """How ``model`` was loaded, if this loader loaded it."""
    entry = _ORIGINS.get(id(model))
    return entry[1] if entry is not None and entry[0] is model else None


def command_target(model: Model) -> str:
    """How a command line names ``model``: the one rule, for traces and reproduce lines.

    Its name when it was found by name somewhere a later command finds it
    again (every root but ``--path``, which lasts one command); otherwise
    its file (which ``ctxcheck replay`` then needs named with ``--model``).
    A model object that no loader loaded (defined in a test module) is
    named by the file of the module that sets it as ``MODEL``, else by its
    source or its name.
    """
    found = origin(model)
    if found is not None:
        if found.name is not None and found.root is not None and found.root.kind != "--path":
            return found.name
        return found.file
    module = sys.modules.get(getattr(model.setup, "__module__", ""), None)
    path = getattr(module, "__file__", None)
    if module is not None and path and getattr(module, "MODEL", None) is model:
        return str(path)
    return model.source or model.name


# -- loading ---------------------------------------------------------------------------
def _import_error(target: str, exc: BaseException) -> ModelLoadError:
    if isinstance(exc, SyntaxError):
        where = f"{exc.filename}:{exc.lineno}"
        return ModelLoadError(f"model {target}: syntax error at {where}: {exc.msg}")
    tb = traceback.extract_tb(exc.__traceback__)
    frames = [f for f in tb if "importlib" not in f.filename]
    loc = frames[-1] if frames else (tb[-1] if tb else None)
    where = f" at {loc.filename}:{loc.lineno}" if loc else ""
    return ModelLoadError(f"model {target} failed to import{where}: {type(exc).__name__}: {exc}")


def _import(module: str, target: str) -> ModuleType:
    """Import a model module; anything it raises (SystemExit too) is a load error."""
    try:
        return importlib.import_module(module)
    except (Exception, SystemExit) as exc:
        raise _import_error(target, exc) from exc


def _model_of(module: ModuleType, target: str, found: Origin | None = None) -> Model:
    model = getattr(module, "MODEL", None)
    if not isinstance(model, Model):
        raise ModelLoadError(
            f"{target}: module {module.__name__} ({module.__file__}) defines no MODEL; "
            f"a model module must set MODEL = ctxcheck.Model(...)"
        )
    shown = _display_path(module.__file__ or "")
    if not model.source:
        object.__setattr__(model, "source", shown)
    if origin(model) is None:
        _ORIGINS[id(model)] = (model, found or Origin(None, None, shown))
    return model


def _display_path(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except (ValueError, OSError):
        return path


def load_model(target: str | Model, paths: Sequence[str] = ()) -> Model:
    """Resolve a target to its :class:`Model` or raise a clear error.

    ``paths`` are the ``--path`` directories of the command line.
    """
    if isinstance(target, Model):
        return target
    if not target.strip():
        raise UsageError("the model target is empty: give a model name or a model file")
    if is_model_file(target):
        return _load_file(target)
    return load_named_model(target, paths)


def load_named_model(target: str, paths: Sequence[str] = ()) -> Model:
    """Load a model by its dotted name on the model path; never a file.

    This is what a trace file may ask for by itself (see
    :mod:`ctxcheck.replay`): a name can only pick one of the models
    already on the model path, never bring in code of its own.
    """
    if not is_model_name(target) or len(target) > PATH_MAX:
        raise UsageError(
            f"{_short(target)!r} is not a model name: a name is dotted Python identifiers, "
            f"like perf_counter.ctx_create"
        )
    name = target.removeprefix("models.")
    for root in _roots(paths):
        module = root.module_of(name)
        if module is not None:
            found = _import(module, target)
            return _model_of(found, target, Origin(name, root, _display_path(found.__file__ or "")))
    known = ", ".join(m.name for m in list_models(paths=paths)) or "none found"
    raise UsageError(
        f"unknown model {_short(target)!r}; known models: {known} (a name is looked up on the "
        f"model path: --path DIR, ${PATH_ENV}, ./models, the built-in models, installed "
        f"model packages)"
    )


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def _check_path_length(path: str, what: str) -> None:
    """A path the file system cannot take is a usage error, not an OSError later."""
    problem = path_problem(path)
    if problem:
        raise UsageError(f"{what} {problem}")


def _load_file(path: str) -> Model:
    _check_path_length(path, "model file")
    file = Path(path)
    try:
        is_dir, exists, regular = file.is_dir(), file.exists(), file.is_file()
    except OSError as exc:
        raise UsageError(f"model file {path}: {exc.strerror or exc}") from None
    if is_dir:
        raise UsageError(f"model file {path} is a directory; give the model's .py file")
    if not exists:
        raise UsageError(f"model file {path} does not exist")
    if not regular:
        raise UsageError(f"model file {path} is not a regular file (a device or a pipe?)")
    _ensure_path()
    modname = "ctxcheck_user_model_" + hashlib.sha1(str(file.resolve()).encode()).hexdigest()[:8]
    spec = importlib.util.spec_from_file_location(modname, file)
    if spec is None or spec.loader is None:
        raise ModelLoadError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        raise _import_error(path, exc) from exc
    return _model_of(module, path)


def list_models(prefix: str = "", paths: Sequence[str] = ()) -> list[Model]:
    """Every model on the model path whose name is ``prefix`` or starts with ``prefix.``.

    A name found in two roots is the first root's (the order of
    :func:`model_path`).
    """
    found: dict[str, Model] = {}
    for root in model_path(paths):
        for name, module in root.names():
            if name in found or (prefix and not (name == prefix or name.startswith(prefix + "."))):
                continue
            loaded = _import(module, name)
            if isinstance(getattr(loaded, "MODEL", None), Model):
                where = Origin(name, root, _display_path(loaded.__file__ or ""))
                found[name] = _model_of(loaded, name, where)
    return sorted(found.values(), key=lambda m: m.name)


def model_hash(model: Model) -> str:
    """SHA-256 of the model's source file (what a trace file is pinned to)."""
    path = Path(model.source)
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    except OSError:
        return ""
