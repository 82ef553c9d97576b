"""Models of kernel/perf_counter.c around commit a63eaf34, one module per scenario."""
