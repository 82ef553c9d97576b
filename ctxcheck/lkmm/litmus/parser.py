"""Parse a C litmus test of tools/memory-model into a :class:`Test`.

The format: a ``C name`` line, an optional doc comment (whose ``Result:``
line is the expected verdict), the initial state ``{ ... }``, the threads
``P0(int *x, ...) { ... }``, then optional ``locations [...]`` and
``filter (...)`` clauses and the final ``exists`` / ``~exists`` / ``forall``
condition.  Every error names the line (the caller adds the file).
"""

from __future__ import annotations

import re

from ctxcheck.lkmm.litmus.errors import LitmusError
from ctxcheck.lkmm.litmus.lexer import Token, tokenize
from ctxcheck.lkmm.litmus.primitives import SPECS
from ctxcheck.lkmm.litmus.syntax import (
    AddrOf,
    And,
    Assign,
    Atom,
    Binary,
    Call,
    Cond,
    Const,
    Decl,
    Deref,
    Expr,
    ExprStmt,
    If,
    Not,
    Num,
    Or,
    Stmt,
    Test,
    Thread,
    Unary,
    Var,
)

TYPE_WORDS = frozenset(
    [
        "int",
        "long",
        "unsigned",
        "signed",
        "char",
        "short",
        "bool",
        "void",
        "const",
        "volatile",
        "atomic_t",
        "atomic_long_t",
        "spinlock_t",
        "intptr_t",
        "uintptr_t",
        "u8",
        "u16",
        "u32",
        "u64",
        "s8",
        "s16",
        "s32",
        "s64",
        "size_t",
    ]
)
_BINARY_LEVELS = [
    ("||",),
    ("&&",),
    ("|",),
    ("^",),
    ("&",),
    ("==", "!="),
    ("<", ">", "<=", ">="),
    ("<<", ">>"),
    ("+", "-"),
    ("*", "/", "%"),
]
_RESULT = re.compile(r"Result:\s*(Always|Sometimes|Never|DEADLOCK)([ \t]+DATARACE)?")


def parse(text: str, path: str = "") -> Test:
    """The test in ``text``; raises LitmusError naming the file and line."""
    try:
        return _parse(text, path)
    except LitmusError as err:
        raise err.at(path) from None
    except RecursionError:
        raise LitmusError("expressions or blocks nested too deeply", path=path) from None


def _parse(text: str, path: str) -> Test:
    lines = text.split("\n")
    first = next((k for k, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        raise LitmusError("the file is empty", line=1)
    head = lines[first].split(None, 1)
    if head[0] != "C" or len(head) < 2:
        raise LitmusError("a C litmus test starts with 'C <name>'", line=first + 1)
    rest = "\n".join(lines[first + 1 :])
    brace = rest.find("{")
    match = _RESULT.search(rest if brace < 0 else rest[:brace])
    p = _Parser(tokenize(rest, first + 2))
    test = p.test(head[1].strip(), rest[: max(brace, 0)].strip())
    return Test(
        name=test.name,
        doc=test.doc,
        init=test.init,
        locks=test.locks,
        reg_init=test.reg_init,
        threads=test.threads,
        quantifier=test.quantifier,
        cond=test.cond,
        filter=test.filter,
        locations=test.locations,
        expected=match.group(1) if match else None,
        expected_race=bool(match.group(2)) if match else None,
        path=path,
    )


class _Parser:
    """Recursive descent over the token list."""

    def __init__(self, tokens: list[Token]) -> None:
        self.toks = tokens
        self.pos = 0

    # -- token helpers ------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.toks[self.pos]

    def peek(self, k: int = 1) -> Token:
        return self.toks[min(self.pos + k, len(self.toks) - 1)]

    def at(self, *texts: str) -> bool:
        return self.tok.kind in ("op", "id") and self.tok.text in texts

    def take(self) -> Token:
        tok = self.tok
        self.pos += 1
        return tok

    def expect(self, text: str, what: str = "") -> Token:
        if not self.at(text):
            found = self.tok.text or "end of file"
            raise LitmusError(f"expected {text!r}{what} but found {found!r}", line=self.tok.line)
        return self.take()

    def ident(self, what: str) -> Token:
        if self.tok.kind != "id":
            found = self.tok.text or "end of file"
            raise LitmusError(f"expected {what} but found {found!r}", line=self.tok.line)
        return self.take()

    def error(self, message: str) -> LitmusError:
        return LitmusError(message, line=self.tok.line)

    # -- the test -----------------------------------------------------------

    def test(self, name: str, doc: str) -> Test:
        while self.tok.kind == "str":
            self.take()
        init, locks, reg_init = self.init_block()
        threads = []
        while self.tok.kind == "id" and re.fullmatch(r"P\d+", self.tok.text):
            threads.append(self.thread())
        if not threads:
            raise self.error("expected a thread 'P0(...) { ... }'")
        for k, th in enumerate(threads):
            if th.tid != k:
                raise LitmusError(
                    f"threads must be P0, P1, ... in order; found P{th.tid}", line=th.line
                )
        locations: list[str] = []
        filt: Cond | None = None
        while self.at("locations", "filter"):
            if self.take().text == "locations":
                locations.extend(self.locations())
            else:
                filt = self.cond()
        quant = self.quantifier()
        cond = self.cond()
        if self.tok.kind != "eof":
            raise self.error(f"unexpected {self.tok.text!r} after the final condition")
        return Test(
            name,
            doc,
            init,
            frozenset(locks),
            reg_init,
            tuple(threads),
            quant,
            cond,
            filt,
            tuple(locations),
        )

    def quantifier(self) -> str:
        if self.at("exists", "forall"):
            return self.take().text
        if self.at("~") and self.peek().text == "exists":
            self.take()
            self.take()
            return "~exists"
        raise self.error("expected the final condition: exists, ~exists or forall")

    # -- initial state ------------------------------------------------------

    def init_block(self) -> tuple[dict[str, int | str], set[str], dict[str, int | str]]:
        self.expect("{", " opening the initial state")
        init: dict[str, int | str] = {}
        locks: set[str] = set()
        regs: dict[str, int | str] = {}
        while not self.at("}"):
            if self.at(";"):
                self.take()
                continue
            if self.tok.kind == "eof":
                raise self.error("the initial state block is never closed")
            self.init_item(init, locks, regs)
            if not self.at("}"):
                self.expect(";", " after an initial-state item")
        self.take()
        return init, locks, regs

    def init_item(
        self, init: dict[str, int | str], locks: set[str], regs: dict[str, int | str]
    ) -> None:
        if self.tok.kind == "num" and self.peek().text == ":":
            tid = self.take().text
            self.take()
            reg = self.ident("a register").text
            self.expect("=")
            regs[f"{tid}:{reg}"] = self.init_value()
            return
        words = self.type_words()
        name = self.ident("a variable name").text
        if "spinlock_t" in words:
            locks.add(name)
        init[name] = 0
        if self.at("="):
            self.take()
            init[name] = self.init_value()

    def init_value(self) -> int | str:
        if self.at("&"):
            self.take()
            return self.ident("a variable after '&'").text
        if self.at("-"):
            self.take()
            return -self.number()
        if self.tok.kind == "num":
            return self.number()
        name = self.ident("a value").text
        if name == "ATOMIC_INIT":
            self.expect("(")
            neg = bool(self.at("-") and self.take())
            value = self.number()
            self.expect(")")
            return -value if neg else value
        return name

    def number(self) -> int:
        if self.tok.kind != "num":
            raise self.error(f"expected a number but found {self.tok.text!r}")
        text = self.take().text
        return int(text, 16) if text[:2] in ("0x", "0X") else int(text, 10)

    def type_words(self) -> list[str]:
        words = []
        while True:
            if self.at("struct"):
                self.take()
                words.append("struct " + self.ident("a struct name").text)
            elif self.tok.kind == "id" and self.tok.text in TYPE_WORDS:
                words.append(self.take().text)
            elif self.at("*") and words:
                self.take()
            else:
                return words

    # -- threads ------------------------------------------------------------

    def thread(self) -> Thread:
        tok = self.take()
        self.expect("(", f" after {tok.text}")
        params = []
        while not self.at(")"):
            self.type_words()
            params.append(self.ident("a parameter name").text)
            if not self.at(")"):
                self.expect(",", " between parameters")
        self.take()
        body = self.block()
        return Thread(int(tok.text[1:]), tuple(params), tuple(body), tok.line)

    def block(self) -> list[Stmt]:
        self.expect("{")
        out: list[Stmt] = []
        while not self.at("}"):
            if self.tok.kind == "eof":
                raise self.error("a '{' block is never closed")
            out.extend(self.statement())
        self.take()
        return out

    def statement(self) -> list[Stmt]:
        tok = self.tok
        if self.at("{"):
            return self.block()
        if self.at(";"):
            self.take()
            return []
        if self.at("if"):
            return [self.if_statement()]
        if self.at("while", "for", "do", "goto"):
            raise self.error(f"'{tok.text}' is not supported: litmus tests have no loops")
        if self.at("struct") or (tok.kind == "id" and tok.text in TYPE_WORDS):
            return self.declaration()
        expr = self.expr()
        if self.at("="):
            self.take()
            if not isinstance(expr, Var | Deref):
                raise LitmusError("only a register or *pointer can be assigned", line=tok.line)
            value = self.expr()
            self.expect(";", " after the assignment")
            return [Assign(expr, value, tok.line)]
        self.expect(";", " after the statement")
        return [ExprStmt(expr, tok.line)]

    def if_statement(self) -> If:
        line = self.take().line
        self.expect("(", " after 'if'")
        cond = self.expr()
        self.expect(")", " closing the if condition")
        then = self.statement()
        orelse: list[Stmt] = []
        if self.at("else"):
            self.take()
            orelse = self.statement()
        return If(cond, tuple(then), tuple(orelse), line)

    def declaration(self) -> list[Stmt]:
        self.type_words()
        out: list[Stmt] = []
        while True:
            while self.at("*"):
                self.take()
            tok = self.ident("a register name")
            init = None
            if self.at("="):
                self.take()
                init = self.expr()
            out.append(Decl(tok.text, init, tok.line))
            if self.at(";"):
                self.take()
                return out
            self.expect(",", " or ';' in a declaration")

    # -- expressions --------------------------------------------------------

    def expr(self, level: int = 0) -> Expr:
        if level == len(_BINARY_LEVELS):
            return self.unary()
        left = self.expr(level + 1)
        while self.tok.kind == "op" and self.tok.text in _BINARY_LEVELS[level]:
            op = self.take()
            right = self.expr(level + 1)
            left = Binary(op.text, left, right, op.line)
        return left

    def unary(self) -> Expr:
        tok = self.tok
        if self.at("!", "-", "~"):
            self.take()
            return Unary(tok.text, self.unary(), tok.line)
        if self.at("*"):
            self.take()
            return Deref(self.unary(), tok.line)
        if self.at("&"):
            self.take()
            return AddrOf(self.ident("a variable after '&'").text, tok.line)
        if self.at("(") and self._is_cast():
            self.take()
            self.type_words()
            self.expect(")")
            return self.unary()
        return self.primary()

    def _is_cast(self) -> bool:
        nxt = self.peek()
        return nxt.kind == "id" and (nxt.text in TYPE_WORDS or nxt.text == "struct")

    def primary(self) -> Expr:
        tok = self.tok
        if tok.kind == "num":
            return Num(self.number(), tok.line)
        if self.at("("):
            self.take()
            inner = self.expr()
            self.expect(")")
            return inner
        if tok.kind != "id":
            raise self.error(f"expected an expression but found {tok.text or 'end of file'!r}")
        self.take()
        if not self.at("("):
            return Var(tok.text, tok.line)
        self.take()
        args: list[Expr] = []
        while not self.at(")"):
            args.append(self.expr())
            if not self.at(")"):
                self.expect(",", " between arguments")
        self.take()
        self.check_call(tok, len(args))
        return Call(tok.text, tuple(args), tok.line)

    def check_call(self, tok: Token, nargs: int) -> None:
        spec = SPECS.get(tok.text)
        if spec is None:
            raise LitmusError(f"unknown primitive {tok.text}()", line=tok.line)
        if len(spec) != nargs:
            raise LitmusError(
                f"{tok.text}() takes {len(spec)} argument(s), not {nargs}", line=tok.line
            )

    # -- final condition ----------------------------------------------------

    def locations(self) -> list[str]:
        self.expect("[", " after 'locations'")
        out = []
        while not self.at("]"):
            if self.at(";"):
                self.take()
                continue
            out.append(self.location_key())
        self.take()
        return out

    def location_key(self) -> str:
        if self.tok.kind == "num":
            tid = self.take().text
            self.expect(":", " after the thread number")
            return f"{tid}:{self.ident('a register').text}"
        return self.ident("a location").text

    def cond(self) -> Cond:
        left = self.conj()
        while self.at("\\/"):
            self.take()
            left = Or(left, self.conj())
        return left

    def conj(self) -> Cond:
        left = self.cond_unary()
        while self.at("/\\"):
            self.take()
            left = And(left, self.cond_unary())
        return left

    def cond_unary(self) -> Cond:
        if self.at("~", "not"):
            self.take()
            return Not(self.cond_unary())
        if self.at("("):
            self.take()
            inner = self.cond()
            self.expect(")", " closing the condition")
            return inner
        if self.at("true", "false"):
            return Const(self.take().text == "true")
        return self.atom()

    def atom(self) -> Atom:
        line = self.tok.line
        key = self.location_key()
        tid, name = (int(key.split(":")[0]), key.split(":")[1]) if ":" in key else (None, key)
        if not self.at("=", "==", "!="):
            raise self.error(f"expected '=' after {key} in the condition")
        negated = self.take().text == "!="
        value: int | str
        if self.at("-"):
            self.take()
            value = -self.number()
        elif self.tok.kind == "num":
            value = self.number()
        elif self.at("&"):
            self.take()
            value = self.ident("a variable").text
        else:
            value = self.ident("a value").text
        return Atom(tid, name, value, negated, line)
