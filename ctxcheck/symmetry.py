"""Symmetry reduction: interchangeable threads, and one fingerprint per permutation class.

A model declares a group of interchangeable threads by naming it when it
spawns them in setup::

    for i in range(cfg["openers"]):
        counter = m.new(perf_counter, name=f"counter{i}")
        m.spawn(f"open{i}", opener, task, counter, symmetric="openers")

Two states that differ only by a permutation of the group's members (thread
``open0`` is where ``open1`` was, with its objects, and the other way
round) have the same future up to that permutation, so a stateful search
(``bfs``, ``stateful``) needs to explore one of them: its fingerprint is
taken of a canonical image of the state (:meth:`Symmetry.canonical`), the
same for every state of the class. The schedules it runs are real ones, so
a counterexample is a concrete schedule that ``ctxcheck replay`` re-runs.

What a permutation renames, together with the threads:

* the objects each member *owns*: the arguments (and ``task=``) in which the
  members differ, with their fields and the constant struct attributes that
  differ between members; the member's ``done`` object; and every object and
  thread the member creates as it runs (known by its creator, see
  :class:`~ctxcheck.machine.ObjectIds`: an IPI it sends, what that IPI
  allocates). Threads started by steps are named by who started them, not
  by their ids, which follow the order they were started in;
* wherever a thread or an owned object is named: cells' values, locks'
  holders, an interrupt handler occupying a CPU, thread locals, pending
  operations, the model's state object;
* a Python list or tuple that holds exactly one object of each member (the
  same object of each: ``s.counters``, the tasks of the openers) is the
  group's member table: the permutation moves its positions with the
  members (as Murphi does for an array indexed by a scalarset), so it stays
  as it is. Any other container is renamed in place, its order kept.

When the threads really are interchangeable (checked where it can be):

* every member runs the same function, on the same CPU (or none), as the
  same kind of thread; each argument is the same object or equal plain
  value for all, or a shared object of one type each member owns alone (a
  differing plain value, such as a thread number, is refused: it could make
  the members behave differently);
* the initial state is symmetric: swapping any two neighbouring members
  gives the same canonical description (an owned object with another initial
  value, or a list that names one member only, is refused with the place);

Not checked, and the model's promise when it declares a group: the code and
the properties treat the members alike. A property that names one member
(``s.counters[0]``, a thread's name in a verdict) breaks the symmetry: its
verdict may then be found for another member, or not at all. Messages may
name members (a counterexample names the real ones); only verdicts must
not depend on which member is which. Strings in plain data are not renamed.
The symmetric fingerprint walks each thread and each object on its own:
Python objects two threads share other than through the model's state
object are not seen to be one (threads communicate through shared objects,
the assumption the partial-order reduction makes too).

The canonical image is the least description over the permutations that
sort the members by a permutation-blind signature of their local state (and
over all orders of members whose signatures tie, up to
:data:`MAX_CANDIDATES`): any permutation gives a true image of the state,
so the choice can only cost merging, never soundness.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Callable, Iterator
from typing import Any

from ctxcheck.errors import ModelError
from ctxcheck.fingerprint import _Canon
from ctxcheck.machine import Machine, Thread
from ctxcheck.primitives.base import SharedObject
from ctxcheck.primitives.heap import Struct
from ctxcheck.primitives.locks import Lock
from ctxcheck.runtime import Execution

#: the first character of the slot tokens: printable (so ``repr`` keeps it as
#: one character, which ``str.translate`` then renames), and never left in a
#: model's own strings (see :meth:`_SymCanon.value`)
TOKEN_BASE = 0x4E00
#: most permutations tried for one state; beyond, members that tie keep their order
MAX_CANDIDATES = 720
#: how far above a token its stand-in lies while tokens are renamed (two stages)
_STAGE = 0x1000
#: slot-blind signatures: the member's own token, and any other member's
SELF, OTHER = "\u3007", "\u3006"
_PLAIN = (int, str, bytes, bool, float, type(None))

#: where an owned object sits relative to its member (equal for corresponding objects)
Rel = tuple[Any, ...]


class _SymCanon(_Canon):
    """A canonicaliser naming members and their objects by slot tokens.

    ``base`` is the canonicaliser of the model's state object, walked first:
    what it has seen is referred to by its number from every component.
    """

    def __init__(self, sym: Symmetry, base: _SymCanon | None = None) -> None:
        super().__init__()
        self.sym = sym
        self.base = base
        self.offset = 0 if base is None else len(base.seen)

    def value(self, x: Any) -> Any:
        if isinstance(x, str):
            if not x.isascii() and any(ord(c) >= TOKEN_BASE for c in x):
                return ("str", x.encode("unicode_escape"))
            return x
        if isinstance(x, SharedObject):
            return self.sym.name_of(x)
        if isinstance(x, Thread):
            return self.sym.thread_ref(x)
        return super().value(x)

    def _compound(self, x: Any) -> Any:
        base = self.base
        if base is not None:
            ref = base.seen.get(id(x))
            if ref is not None:
                return ("ref", ref)
        if isinstance(x, list | tuple) and id(x) not in self.seen:
            table = self.sym.member_table(x)
            if table is not None:
                self.seen[id(x)] = self.offset + len(self.seen)
                self.keep.append(x)
                items = tuple(table[i] if i in table else self.value(v) for i, v in enumerate(x))
                return (type(x).__name__, items)
        return super()._compound(x)

    def reset(self) -> None:
        """Forget what this walk has seen (a new component; the base stays)."""
        self.seen.clear()
        self.keep.clear()


class Symmetry:
    """The symmetry groups a model declared, resolved for one search.

    Built from an execution's initial state; object ids and thread ids are
    the same in every execution of a search, so it serves all of them.
    """

    def __init__(self, ex: Execution) -> None:
        machine = ex.machine
        self.ids = ex.search.ids
        #: per group, its name and its members' thread ids (slot i = tids[i])
        self.groups: list[tuple[str, list[int]]] = []
        #: a member's tid -> (group index, slot)
        self.slot: dict[int, tuple[int, int]] = {}
        #: the token of (group, slot): one character
        self.tokens: list[list[str]] = []
        #: statically owned objects: oid -> (group, slot, rel)
        self._owned: dict[int, tuple[int, int, Rel]] = {}
        #: member thread keys -> (group, slot)
        self._member_keys: dict[tuple[Any, ...], tuple[int, int]] = {}
        #: oids looked up: (group, slot, rel), or None for an object nobody owns
        self._cache: dict[int, tuple[int, int, Rel] | None] = {}
        self._first_threads = len(machine.threads)
        #: threads started by steps, by key: how they are named
        self._thread_cache: dict[tuple[Any, ...], Any] = {}
        next_token = TOKEN_BASE
        for name, members in machine.symmetric.items():
            if len(members) < 2:
                continue
            g = len(self.groups)
            self.groups.append((name, [t.tid for t, _, _ in members]))
            self.tokens.append([chr(next_token + i) for i in range(len(members))])
            next_token += len(members)
            for i, (t, _, _) in enumerate(members):
                self.slot[t.tid] = (g, i)
                self._member_keys[t.key] = (g, i)
            self._resolve(machine, g, name, members)
        self._check_initial(ex)

    @classmethod
    def of(cls, ex: Execution) -> Symmetry | None:
        """The model's symmetry on this execution's machine; None if it declares none."""
        if not any(len(ms) > 1 for ms in ex.machine.symmetric.values()):
            return None
        return cls(ex)

    def describe(self) -> str:
        """What the reduction is, for a result: ``symmetry openers (3 threads)``."""
        groups = ", ".join(f"{name} ({len(tids)} threads)" for name, tids in self.groups)
        return f"symmetry of {groups}"

    # -- the declaration, checked --------------------------------------
    def _resolve(self, machine: Machine, g: int, name: str, members: list[Any]) -> None:
        first, func, args = members[0]
        for t, f, a in members[1:]:
            where = f"symmetric group {name!r}: thread {t.name}"
            if f is not func:
                raise ModelError(f"{where} runs {_fname(f)}, {first.name} runs {_fname(func)}")
            if t.cpu is not first.cpu or t.irq != first.irq:
                raise ModelError(
                    f"{where} runs on {t.cpu or 'no tracked CPU'}"
                    f"{' as an interrupt' if t.irq else ''}, {first.name} on "
                    f"{first.cpu or 'no tracked CPU'}{' as an interrupt' if first.irq else ''}: "
                    f"members must run alike"
                )
            if len(a) != len(args):
                raise ModelError(f"{where} has {len(a)} arguments, {first.name} {len(args)}")
        columns: list[tuple[Rel, list[Any]]] = [
            (("arg", p), [a[p] for _, _, a in members]) for p in range(len(args))
        ]
        columns.append((("task",), [t.task for t, _, _ in members]))
        columns.append((("done",), [t.done for t, _, _ in members]))
        for rel, values in columns:
            self._own_column(g, name, members, rel, values, depth=0)

    def _own_column(self, g: int, name: str, members: list[Any], rel: Rel, values: list[Any],
                    depth: int) -> None:  # fmt: skip
        head = values[0]
        if all(v is head for v in values) or (
            all(type(v) is type(head) and isinstance(v, _PLAIN) for v in values)
            and all(v == head for v in values)
        ):
            return  # shared by all
        if not all(isinstance(v, SharedObject) and type(v) is type(head) for v in values):
            shown = ", ".join(
                f"{t.name}: {v!r}" for (t, _, _), v in zip(members, values, strict=True)
            )
            raise ModelError(
                f"symmetric group {name!r}: {_rel_text(rel)} differs between the members "
                f"({shown}), and not as objects of one type each member owns. A differing "
                f"plain value (a thread number) can make them behave differently: pass an "
                f"object the thread owns instead, or do not declare them symmetric"
            )
        if len({id(v) for v in values}) != len(values):
            raise ModelError(
                f"symmetric group {name!r}: {_rel_text(rel)} is one object for some members "
                f"and another for others"
            )
        for i, v in enumerate(values):
            known = self._owned.get(v.oid)
            if known is not None and known[:2] != (g, i):
                raise ModelError(
                    f"symmetric group {name!r}: {v.name} is owned by two members "
                    f"({_rel_text(known[2])} and {_rel_text(rel)})"
                )
            self._owned[v.oid] = (g, i, rel)
        if not isinstance(head, Struct) or depth > 4:
            return
        for fname, _ in head.field_objects():
            self._own_column(g, name, members, (*rel, fname),
                             [getattr(v, fname) for v in values], depth + 1)  # fmt: skip
        fields = set(head._fields)
        for attr, value in vars(head).items():
            if attr in fields or not isinstance(value, SharedObject):
                continue
            column = [vars(v).get(attr) for v in values]
            if all(c is value for c in column) or not all(
                isinstance(c, SharedObject) for c in column
            ):
                continue
            self._own_column(g, name, members, (*rel, attr), column, depth + 1)

    def _check_initial(self, ex: Execution) -> None:
        """Swapping two neighbouring members must leave the initial state as it is."""
        parts = self._parts(ex)
        plain = self._join(parts, None)
        for g, (name, tids) in enumerate(self.groups):
            for i in range(len(tids) - 1):
                perm = [list(range(len(ts))) for _, ts in self.groups]
                perm[g][i], perm[g][i + 1] = i + 1, i
                if self._join(parts, perm) != plain:
                    a, b = (ex.machine.threads[tids[j]].name for j in (i, i + 1))
                    raise ModelError(
                        f"symmetric group {name!r}: {a} and {b} are not interchangeable in "
                        f"the initial state: {self._difference(parts, perm)}. Members must "
                        f"own objects of the same initial values, and what names one member "
                        f"must name each (a list of one object per member)"
                    )

    def _difference(self, parts: _Parts, perm: list[list[int]]) -> str:
        rename = self._renamer(perm)
        objs = dict(parts.moving)
        for key, content in parts.moving:
            moved = rename(key)
            if objs.get(moved) != rename(content):
                shown = self._readable(key), self._readable(moved)
                return "object {} differs from its image {}".format(*shown)
        if rename(parts.state) != parts.state:
            return "the model's state object names some members but not others"
        return "the threads' initial states differ"

    def _readable(self, text: str) -> str:
        for g, (name, _) in enumerate(self.groups):
            for i, tok in enumerate(self.tokens[g]):
                text = text.replace(tok, f"{name}[{i}]")
        return text

    # -- names ------------------------------------------------------------
    def owner(self, oid: int) -> tuple[int, int, Rel] | None:
        """(group, slot, rel) of the member that owns object ``oid``; None if none does."""
        try:
            return self._cache[oid]
        except KeyError:
            pass
        found = self._owned.get(oid)
        if found is None:
            key = self.ids.key_of(oid)
            creator = key[0][0]
            while creator:
                slot = self._member_keys.get(creator)
                if slot is not None:
                    found = (*slot, ("made", _replace(key, creator)))
                    break
                creator = creator[0]
        self._cache[oid] = found
        return found

    def name_of(self, obj: SharedObject) -> Any:
        """How an object is named in the canonical description."""
        own = self.owner(obj.oid)
        if own is None:
            return ("o", obj.oid)
        g, i, rel = own
        return ("s", self.tokens[g][i], rel)

    def thread_ref(self, t: Thread) -> Any:
        """How a thread is named: members by token, their threads by token and key."""
        slot = self.slot.get(t.tid)
        if slot is not None:
            return ("ts", self.tokens[slot[0]][slot[1]])
        if t.tid < self._first_threads:
            return ("t", t.tid)
        found = self._thread_cache.get(t.key)
        if found is None:
            found = ("t", t.key)
            creator = t.key[0]
            while creator:
                owner = self._member_keys.get(creator)
                if owner is not None:
                    found = ("ts", self.tokens[owner[0]][owner[1]], _replace(t.key, creator))
                    break
                creator = creator[0]
            self._thread_cache[t.key] = found
        return found

    def member_table(self, xs: list[Any] | tuple[Any, ...]) -> dict[int, Any] | None:
        """For a list holding one object of each member of a group: its positions, fixed."""
        if len(xs) < 2:
            return None
        found: dict[int, dict[int, tuple[int, Rel | None]]] = {}
        for pos, x in enumerate(xs):
            if isinstance(x, SharedObject):
                own = self.owner(x.oid)
                if own is not None:
                    found.setdefault(own[0], {}).setdefault(own[1], (pos, own[2]))
                    continue
            elif isinstance(x, Thread) and x.tid in self.slot:
                g, i = self.slot[x.tid]
                found.setdefault(g, {}).setdefault(i, (pos, None))
        out: dict[int, Any] = {}
        for g, slots in found.items():
            n = len(self.groups[g][1])
            rels = {rel for _, rel in slots.values()}
            count = sum(1 for x in xs if self._in_group(x, g))
            if len(slots) == n and len(rels) == 1 and count == n:
                for i, (pos, rel) in slots.items():
                    out[pos] = ("fix", g, i, rel)
        return out or None

    def _in_group(self, x: Any, g: int) -> bool:
        if isinstance(x, SharedObject):
            own = self.owner(x.oid)
            return own is not None and own[0] == g
        return isinstance(x, Thread) and self.slot.get(x.tid, (-1,))[0] == g

    # -- the canonical description -----------------------------------------
    def _parts(self, ex: Execution) -> _Parts:
        machine = ex.machine
        base = _SymCanon(self)
        state = repr(base.value(ex.state))
        fixed: list[tuple[str, str]] = []
        moving: list[tuple[str, str]] = []
        owned: dict[tuple[int, int], list[str]] = {}
        canon = _SymCanon(self, base)
        by_oid = machine.by_oid
        for oid in sorted(by_oid):
            obj = by_oid[oid]
            canon.reset()
            content = canon.value(obj._holder) if isinstance(obj, Lock) else obj.canonical(canon)
            pair = (repr(self.name_of(obj)), repr(content))
            own = self.owner(oid)
            if own is not None:
                owned.setdefault(own[:2], []).append(pair[1])
            (fixed if pair[0].isascii() and pair[1].isascii() else moving).append(pair)
        threads_of = machine.threads
        cpus = tuple(
            None if c._handler is None else self.thread_ref(threads_of[c._handler.tid])
            for c in machine.cpus
        )
        threads = []
        for t in machine.threads:
            canon.reset()
            threads.append(repr(_thread_state(t, canon)))
        names = [repr(self.thread_ref(t)) for t in machine.threads[self._first_threads :]]
        rest = repr((cpus, len(machine.unstarted)))
        return _Parts(state, repr(fixed), moving, owned, threads, names, rest)

    def _renamer(self, perm: list[list[int]] | None) -> Callable[[str], str]:
        """A function renaming the members' tokens as ``perm`` moves them."""
        moves = [
            (self.tokens[g][i], chr(ord(self.tokens[g][p[i]]) + _STAGE), self.tokens[g][p[i]])
            for g, p in enumerate(perm or ())
            for i in range(len(p))
            if p[i] != i
        ]
        if not moves:
            return _same

        def rename(text: str) -> str:
            if text.isascii():
                return text
            for src, tmp, _ in moves:
                text = text.replace(src, tmp)
            for _, tmp, dst in moves:
                text = text.replace(tmp, dst)
            return text

        return rename

    def _join(self, parts: _Parts, perm: list[list[int]] | None) -> str:
        """The description of the state the permutation ``perm`` maps it to."""
        rename = self._renamer(perm)
        first = self._first_threads
        threads = [rename(t) for t in parts.threads]
        if perm is not None:
            placed = list(threads[:first])
            for g, (_, tids) in enumerate(self.groups):
                for i, tid in enumerate(tids):
                    placed[tids[perm[g][i]]] = threads[tid]
            threads[:first] = placed
        # threads started by steps: by name (their ids follow the order they were started in)
        later = sorted(zip((rename(n) for n in parts.names), threads[first:], strict=True))
        threads[first:] = [f"{n}={t}" for n, t in later]
        moving = sorted((rename(k), rename(c)) for k, c in parts.moving)
        return "\x00".join(
            [rename(parts.state), parts.fixed, repr(moving), *threads, rename(parts.rest)]
        )

    def _candidates(self, parts: _Parts) -> Iterator[list[list[int]]]:
        """Permutations (slot -> canonical slot, per group) that sort members by signature."""
        per_group: list[list[list[int]]] = []
        budget = MAX_CANDIDATES
        for g, (_, tids) in enumerate(self.groups):
            sigs = [self._signature(parts, g, i) for i in range(len(tids))]
            order = sorted(range(len(tids)), key=lambda i: sigs[i])
            ties = [list(grp) for _, grp in itertools.groupby(order, key=lambda i: sigs[i])]
            count = math.prod(math.factorial(len(t)) for t in ties)
            orders: list[list[int]] = []
            if count <= budget:
                budget //= max(count, 1)
                for choice in itertools.product(*(itertools.permutations(t) for t in ties)):
                    orders.append([i for part in choice for i in part])
            else:
                orders.append(order)
            perms = []
            for seq in orders:
                p = [0] * len(tids)
                for canonical_slot, i in enumerate(seq):
                    p[i] = canonical_slot
                perms.append(p)
            per_group.append(perms)
        for combo in itertools.product(*per_group):
            yield list(combo)

    def _signature(self, parts: _Parts, g: int, i: int) -> str:
        """Member ``i``'s local state and objects, blind to which member is which."""
        own = self.tokens[g][i]
        others = [t for t in self.tokens[g] if t != own]
        text = "\x00".join([parts.threads[self.groups[g][1][i]], *parts.owned.get((g, i), ())])
        if text.isascii():
            return text
        text = text.replace(own, SELF)
        for t in others:
            text = text.replace(t, OTHER)
        return text

    def canonical(self, ex: Execution) -> tuple[bytes, dict[int, int]]:
        """The state's fingerprint under symmetry, and the permutation that gives it.

        The permutation maps each thread id of ``ex`` to the thread id that
        plays its part in the canonical image (members move, others stay).
        """
        parts = self._parts(ex)
        best: str | None = None
        best_perm: list[list[int]] = []
        for perm in self._candidates(parts):
            text = self._join(parts, perm)
            if best is None or text < best:
                best, best_perm = text, perm
        assert best is not None
        mapping = {
            tid: tids[best_perm[g][i]]
            for g, (_, tids) in enumerate(self.groups)
            for i, tid in enumerate(tids)
        }
        digest = hashlib.blake2b(best.encode(), digest_size=16).digest()
        return digest, mapping


class _Parts:
    """A state's description in pieces, members and their objects named by token.

    ``fixed``: the objects no permutation renames, described once;
    ``moving``: (name, content) of the others; ``owned``: the contents of
    each member's objects, for its signature.
    """

    __slots__ = ("fixed", "moving", "names", "owned", "rest", "state", "threads")

    def __init__(self, state: str, fixed: str, moving: list[tuple[str, str]],
                 owned: dict[tuple[int, int], list[str]], threads: list[str],
                 names: list[str], rest: str) -> None:  # fmt: skip
        self.state = state
        self.fixed = fixed
        self.moving = moving
        self.owned = owned
        self.threads = threads
        #: how the threads started by steps are named (those after setup's)
        self.names = names
        self.rest = rest


def _same(text: str) -> str:
    return text


def _thread_state(t: Thread, canon: _SymCanon) -> Any:
    if t.finished:
        return ("done", canon.value(t.result))
    pending = canon.value(t.pending) if t.pending is not None else None
    return (
        t._irqs_off, t._preempt_count, t.rcu_depth, t.in_irq,
        tuple(canon.value(lock) for lock in t.held), pending, canon.frames(t.gen),
    )  # fmt: skip


def _replace(key: Any, member: Any) -> Any:
    """``key`` with the member's key replaced by a placeholder (the same for every member)."""
    if key == member:
        return "*"
    if isinstance(key, tuple):
        return tuple(_replace(k, member) for k in key)
    return key


def _fname(f: Any) -> str:
    return getattr(f, "__qualname__", repr(f))


def _rel_text(rel: Rel) -> str:
    if rel[0] == "arg":
        text = f"argument {rel[1] + 1}"
        rest = rel[2:]
    else:
        text = {"task": "task=", "done": "the done object", "made": "an object made"}.get(
            str(rel[0]), str(rel[0])
        )
        rest = rel[1:]
    return text + "".join(f".{r}" for r in rest)
