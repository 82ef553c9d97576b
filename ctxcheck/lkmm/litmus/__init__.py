"""The C litmus format of tools/memory-model: lexer, syntax, parser,
interpreter (a test's bodies as ctxcheck thread programs) and conditions."""
