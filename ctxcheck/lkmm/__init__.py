"""The Linux kernel memory model (tools/memory-model) for ctxcheck.

Stands on its own (it imports nothing of the engine but ctxcheck.errors):

- ``ctxcheck litmus FILE.litmus`` runs a C litmus test (:mod:`.command`);
- :func:`ctxcheck.lkmm.explore.executions` gives every execution the LKMM
  allows for threads written as Python generators yielding
  :mod:`ctxcheck.lkmm.ops` (the kernel primitives with their LKMM meaning);
- :mod:`ctxcheck.lkmm.incremental` is the interface for an engine that grows
  execution graphs: ``may_read_from(graph, read)``, ``co_positions(graph,
  write)``, ``judge(graph)`` / ``is_consistent(graph)``;
- :class:`ctxcheck.lkmm.model.Lkmm` is the consistency predicate itself,
  one property per relation of linux-kernel.cat, named as the cat does.

docs/lkmm.md says how, and why candidate executions.
"""
