"""Kernel models checked by ctxcheck, one module per scenario.

A target name is the module path below this package: ``perf_counter.ctx_create``
is ``models/perf_counter/ctx_create.py``. Each module defines ``MODEL``.
"""
