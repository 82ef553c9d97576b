"""Models at the granularity of the Promela models in ``../shared/spin/``.

SPIN here is the model checker (spinroot.com), not a spin-wait. Each module
takes the steps its ``.pml`` namesake takes, so that ``ctxcheck bench
--spin`` compares the two checkers on the same state space rather than a
faithful kernel model against a coarse one. They live apart from
``models/perf_counter/`` because they are benchmark scenarios, not part of
the regression proof: ``ctxcheck prove perf_counter`` and its reports do not
check them, and the engine's ``ctxcheck bench`` (every explorer, naive
included, on ``models/examples/``) does not run them either.
"""
