"""ctxcheck: a model checker for lockless kernel code.

Write each kernel path as a generator that yields one operation per atomic
step (``yield k.load(p)``), declare the model with :class:`Model`, and
:func:`check` explores every schedule and reports each violated property
with a minimal, replayable counterexample.
"""

from __future__ import annotations

from ctxcheck.api import check
from ctxcheck.errors import (
    CtxcheckError,
    ModelError,
    ModelLoadError,
    NondeterministicModel,
    TraceFileError,
    UsageError,
)
from ctxcheck.kernel import Kernel, TaskStruct, task_cpu
from ctxcheck.machine import Machine, Thread
from ctxcheck.model import Config, Expectation, Model, Param, Property, Variant
from ctxcheck.primitives import (
    CPU,
    Cell,
    ListHead,
    Mutex,
    Spinlock,
    Struct,
    field,
    list_head,
    mutex,
    spinlock,
)
from ctxcheck.render.text import render_violation as _render_violation
from ctxcheck.result import CheckFailed, Result, Violation
from ctxcheck.result import use_explainer as _use_explainer
from ctxcheck.version import __version__

# the front door wires data to its drawing: a failed assert_holds() shows the
# text trace, while ctxcheck.result itself imports no renderer
_use_explainer(_render_violation)

__all__ = [
    "CPU", "Cell", "CheckFailed", "Config", "CtxcheckError", "Expectation", "Kernel",
    "ListHead", "Machine", "Model", "ModelError", "ModelLoadError", "Mutex",
    "NondeterministicModel", "Param", "Property", "Result", "Spinlock", "Struct",
    "TaskStruct", "Thread", "TraceFileError", "UsageError", "Variant", "Violation",
    "__version__", "check", "field", "list_head", "mutex", "spinlock", "task_cpu",
]  # fmt: skip
