"""Test oracles: what the reduced searches are held to.

Not part of checking a model: :mod:`.programs` generates random small
programs (and their models) for differential tests and hypothesis
properties; :mod:`.statespace` walks a model's whole state graph and counts
the executions the unreduced ``naive`` explorer would run, with its verdict.
"""
