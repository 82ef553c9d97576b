"""Loading models: a dotted name on the model path, a model file, or an object.

Names are looked up root by root on the model path (:mod:`ctxcheck.modelpath`:
``--path``, ``$CTXCHECK_PATH``, ``./models``, the built-in models, installed
packages of models), and only the module of the name asked for is imported.
A model file given as a path runs as a module of its own. The engine never
imports models at import time: only this loader does, on request, and a
trace file may only ask for a *name* (:func:`load_named_model`). The loader
remembers how each model was found (:func:`origin`), which is what
``ctxcheck list`` shows and what :func:`command_target`, the one rule for
naming a model on a command line, decides by.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.util
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from ctxcheck.errors import ModelLoadError, UsageError
from ctxcheck.model import Model
from ctxcheck.modelpath import PATH_ENV, Root, ensure_path, is_model_name, roots
from ctxcheck.output import PATH_MAX, path_problem


def is_model_file(target: str) -> bool:
    """Whether a command-line target names a model file rather than a model."""
    return target.endswith(".py") or os.sep in target or "/" in target


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
        if hasattr(module, "__path__"):  # a package: say which models it holds
            inside = sorted(m.name for m in list_models(target))
            if inside:
                raise ModelLoadError(
                    f"{target} is a package of models, not a model: give one of {', '.join(inside)}"
                )
        raise ModelLoadError(
            f"{target}: module {module.__name__} ({module.__file__}) defines no MODEL; "
            f"a model module must set MODEL = ctxcheck.Model(...)"
        )
    shown = _display_path(module.__file__ or "")
    # the loader names the file as seen from the current directory: a model
    # loaded again after a change of directory is shown from the new one
    if not model.source or model.source == _SHOWN.get(id(model)):
        object.__setattr__(model, "source", shown)
        _SHOWN[id(model)] = shown
    if origin(model) is None:
        _ORIGINS[id(model)] = (model, found or Origin(None, None, shown))
    return model


#: the source path this loader gave a model, by id (the model object lives in its module)
_SHOWN: dict[int, str] = {}


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
    for root in roots(paths):
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
    ensure_path()
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
    :func:`ctxcheck.modelpath.model_path`).
    """
    found: dict[str, Model] = {}
    for root in roots(paths):
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
