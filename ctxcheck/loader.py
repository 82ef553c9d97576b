"""Finding models: a dotted name under ``models/``, a file path, or an object.

``perf_counter.ctx_create`` means the module ``models.perf_counter.ctx_create``
and its ``MODEL``. The ``models`` package is looked up from the current
directory first, then from the checkout ctxcheck itself lives in, so the CLI
works from the repository root without any configuration. The engine never
imports models at import time: only this loader does, on request.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import pkgutil
import re
import sys
import traceback
from pathlib import Path
from types import ModuleType

from ctxcheck.errors import ModelLoadError, UsageError
from ctxcheck.model import Model

_REPO_ROOT = Path(__file__).resolve().parent.parent
#: a model *name*: dotted Python identifiers, never a path
_MODEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")


def is_model_name(text: str) -> bool:
    """Whether ``text`` is a dotted model name (``perf_counter.ctx_create``), not a path."""
    return bool(_MODEL_NAME.match(text))


def is_model_file(target: str) -> bool:
    """Whether a command-line target names a model file rather than a model."""
    return target.endswith(".py") or os.sep in target or "/" in target


def _ensure_path() -> None:
    for root in (os.getcwd(), str(_REPO_ROOT)):
        if root not in sys.path and (Path(root) / "models").is_dir():
            sys.path.insert(0, root)


def _import_error(target: str, exc: BaseException) -> ModelLoadError:
    if isinstance(exc, SyntaxError):
        where = f"{exc.filename}:{exc.lineno}"
        return ModelLoadError(f"model {target}: syntax error at {where}: {exc.msg}")
    tb = traceback.extract_tb(exc.__traceback__)
    frames = [f for f in tb if "importlib" not in f.filename]
    loc = frames[-1] if frames else (tb[-1] if tb else None)
    where = f" at {loc.filename}:{loc.lineno}" if loc else ""
    return ModelLoadError(f"model {target} failed to import{where}: {type(exc).__name__}: {exc}")


def _model_of(module: ModuleType, target: str) -> Model:
    model = getattr(module, "MODEL", None)
    if not isinstance(model, Model):
        raise ModelLoadError(
            f"{target}: module {module.__name__} ({module.__file__}) defines no MODEL; "
            f"a model module must set MODEL = ctxcheck.Model(...)"
        )
    if not model.source:
        object.__setattr__(model, "source", _display_path(module.__file__ or ""))
    return model


def _display_path(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path


def load_model(target: str | Model) -> Model:
    """Resolve a target to its :class:`Model` or raise a clear error."""
    if isinstance(target, Model):
        return target
    if is_model_file(target):
        return _load_file(target)
    return load_named_model(target)


def load_named_model(target: str) -> Model:
    """Load a model by its dotted name under ``models/``; never a file.

    This is what a trace file may ask for by itself (see
    :mod:`ctxcheck.tracefile`): a name can only pick one of the models
    already on the model path, never bring in code of its own.
    """
    if not is_model_name(target):
        raise UsageError(
            f"{target!r} is not a model name: a name is dotted Python identifiers, "
            f"like perf_counter.ctx_create"
        )
    _ensure_path()
    name = target if target.startswith("models.") else f"models.{target}"
    try:
        spec = importlib.util.find_spec(name)
    except ModuleNotFoundError:
        spec = None
    except Exception as exc:
        raise _import_error(target, exc) from exc
    if spec is None:
        known = ", ".join(m.name for m in list_models()) or "none found"
        raise UsageError(f"unknown model {target!r}; known models: {known}")
    try:
        module = importlib.import_module(name)
    except Exception as exc:
        raise _import_error(target, exc) from exc
    return _model_of(module, target)


def _load_file(path: str) -> Model:
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"model file {path} does not exist")
    _ensure_path()
    modname = "ctxcheck_user_model_" + hashlib.sha1(str(file.resolve()).encode()).hexdigest()[:8]
    spec = importlib.util.spec_from_file_location(modname, file)
    if spec is None or spec.loader is None:
        raise ModelLoadError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise _import_error(path, exc) from exc
    return _model_of(module, path)


def list_models(prefix: str = "") -> list[Model]:
    """Every model under ``models/`` whose name starts with ``prefix``."""
    _ensure_path()
    try:
        package = importlib.import_module("models")
    except ImportError:
        return []
    found: list[Model] = []
    for info in pkgutil.walk_packages(package.__path__, "models."):
        if info.ispkg:
            continue
        short = info.name.removeprefix("models.")
        if prefix and not (short == prefix or short.startswith(prefix + ".")):
            continue
        try:
            module = importlib.import_module(info.name)
        except Exception as exc:
            raise _import_error(short, exc) from exc
        model = getattr(module, "MODEL", None)
        if isinstance(model, Model):
            found.append(_model_of(module, short))
    return sorted(found, key=lambda m: m.name)


def model_hash(model: Model) -> str:
    """SHA-256 of the model's source file (what a trace file is pinned to)."""
    path = Path(model.source)
    if not path.is_file():
        return ""
    return hashlib.sha256(path.read_bytes()).hexdigest()
