"""Regression-proof reports: collect verdicts, judge expectations, write txt/md/html."""
