"""Small example models: a first look at ctxcheck before the kernel models."""
