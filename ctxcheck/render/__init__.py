"""Renderers: a counterexample as text, DOT, SVG, PNG or a lane diagram."""
