"""The consistency predicate of the Linux kernel memory model, in Python.

tools/memory-model/linux-kernel.cat (with linux-kernel.bell and lock.cat)
defines which candidate executions the LKMM allows.  :class:`Lkmm` computes
the same relations for one :class:`~ctxcheck.lkmm.graph.Graph`, one cached
property per relation, named as the cat file names it (``-`` becomes ``_``),
and :meth:`Lkmm.check` applies the model's axioms in the cat's order:

coherence, atomic, happens-before, propagation, rcu, plain-coherence
(consistency: a failed axiom forbids the execution) and the flags
``data-race`` and ``mixed-accesses`` (reported, not forbidding).

Lock operations are encoded as accesses to the lock variable (0 unlocked,
1 held): spin_lock is an RMW whose read (LKR) must read 0 and whose write
(LKW) writes 1, spin_unlock (UL) writes 0.  With atomicity and coherence
this gives exactly lock.cat's coherence order (each UL right after its LKW,
an LKR reading from the UL or initial write co-before its LKW), so lock.cat's
rf/co construction needs no relations of its own here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cached_property
from typing import TypeVar

from ctxcheck.lkmm.events import Kind
from ctxcheck.lkmm.graph import Graph
from ctxcheck.lkmm.judgement import Judgement
from ctxcheck.lkmm.relation import Rel

#: The consistency axioms, in the order linux-kernel.cat states them.
AXIOMS = ("coherence", "atomic", "happens-before", "propagation", "rcu", "plain-coherence")


T = TypeVar("T")


def static(fn: Callable[[Lkmm], T]) -> cached_property[T]:
    """A relation that depends only on the events, po and the dependencies.

    It is the same for every rf and co choice over one set of thread runs,
    so it is kept in ``graph.shared``, which the enumeration gives all the
    candidates of one combination of runs.  (Relations that also need rf or
    co use ``cached_property`` and are recomputed per candidate.)
    """
    key = fn.__name__

    def get(self: Lkmm) -> T:
        cache = self.g.shared
        if key not in cache:
            cache[key] = fn(self)
        value: T = cache[key]
        return value

    get.__name__ = key
    get.__doc__ = fn.__doc__
    return cached_property(get)


class Lkmm:
    """The LKMM's relations over one execution graph (computed on demand)."""

    def __init__(self, graph: Graph) -> None:
        self.g = graph
        self.n = graph.n

    # == sets of events (linux-kernel.bell, lock.cat) ========================

    def _tags(self, kind: Kind | None, *tags: str) -> int:
        return self.g.tagged(kind, *tags)

    @cached_property
    def R(self) -> int:  # noqa: N802 - the cat's name
        """Reads, lock reads (LKR, LF, RL, RU) and srcu_read_lock included."""
        return self.g.reads

    @cached_property
    def W(self) -> int:  # noqa: N802
        """Writes, LKW, UL and srcu_read_unlock included."""
        return self.g.writes

    @cached_property
    def M(self) -> int:  # noqa: N802
        """Memory accesses."""
        return self.R | self.W

    @cached_property
    def IW(self) -> int:  # noqa: N802
        """The initial writes."""
        return self.g.init

    @static
    def Plain(self) -> int:  # noqa: N802
        """Accesses with no annotation: neither READ_ONCE-like nor atomic nor lock."""
        return self._tags(None, "plain") & self.M

    @static
    def Marked(self) -> int:  # noqa: N802
        """Everything that is not a plain access (fences included, as in the bell)."""
        return ((1 << self.n) - 1) & ~self.Plain

    @static
    def Acquire(self) -> int:  # noqa: N802
        """smp_load_acquire, _acquire RMW reads, and LKR (lock.cat)."""
        return self._tags(Kind.R, "acquire", "lkr")

    @static
    def Release(self) -> int:  # noqa: N802
        """smp_store_release, rcu_assign_pointer, _release RMW writes, and UL."""
        return self._tags(Kind.W, "release", "ul")

    @static
    def Noreturn(self) -> int:  # noqa: N802
        """The read of a non-value-returning RMW (atomic_inc and friends)."""
        return self._tags(Kind.R, "noreturn")

    @static
    def not_noreturn(self) -> int:
        """``~Noreturn``: every event but the reads of non-returning RMWs."""
        return ((1 << self.n) - 1) & ~self.Noreturn

    @static
    def RMW(self) -> int:  # noqa: N802
        """Events of atomic RMW instructions, a failed cmpxchg's read included
        (not those of lock acquisitions)."""
        return self.g.mask(e.rmw and e.tag not in ("lkr", "lkw") for e in self.g.events)

    @static
    def LKR(self) -> int:  # noqa: N802
        return self._tags(Kind.R, "lkr")

    @static
    def LKW(self) -> int:  # noqa: N802
        return self._tags(Kind.W, "lkw")

    @static
    def UL(self) -> int:  # noqa: N802
        return self._tags(Kind.W, "ul")

    def fence(self, *tags: str) -> int:
        """Fence events with one of ``tags`` (Mb, Rmb, Sync-rcu, ...)."""
        return self._tags(Kind.F, *tags)

    # == base relations ======================================================

    @static
    def po(self) -> Rel:
        return self.g.po

    @static
    def po_loc(self) -> Rel:
        """``po-loc``: program order between accesses to one location."""
        return self.po & self.g.loc

    @cached_property
    def rf(self) -> Rel:
        return self.g.rf_rel

    @cached_property
    def co(self) -> Rel:
        return self.g.co_rel

    @cached_property
    def fr(self) -> Rel:
        """From-read: a read to the writes co-after the one it read."""
        return self.rf.inv().seq(self.co)

    @cached_property
    def rfe(self) -> Rel:
        return self.rf & self.g.ext

    @cached_property
    def rfi(self) -> Rel:
        return self.rf & self.g.int_

    @cached_property
    def rmw(self) -> Rel:
        """Atomic RMW pairs, lock acquisitions' LKR-LKW pairs included (lock.cat)."""
        return self.g.rmw_rel

    def fencerel(self, fences: int) -> Rel:
        """``fencerel(S)``: pairs separated in po by a fence of ``fences``."""
        return self.po.ran(fences).seq(self.po)

    def _id(self, mask: int | None = None) -> Rel:
        return Rel.ident(self.n, mask)

    # == dependencies (bell: carried through plain stores and loads) =========

    @static
    def _raw_data(self) -> Rel:
        return Rel.of_pairs(self.n, self.g.data)

    @cached_property
    def carry_dep(self) -> Rel:
        """``carry-dep``: a value stored to memory and read back in the same thread."""
        srcu_unlock = self._tags(Kind.W, "srcu-unlock")
        not_unlock = ((1 << self.n) - 1) & ~srcu_unlock
        return self._raw_data.ran(not_unlock).seq(self.rfi).star()

    @cached_property
    def addr(self) -> Rel:
        """Address dependencies, extended through memory by carry-dep."""
        return self.carry_dep.seq(Rel.of_pairs(self.n, self.g.addr))

    @cached_property
    def data(self) -> Rel:
        """Data dependencies, extended through memory by carry-dep."""
        return self.carry_dep.seq(self._raw_data)

    @cached_property
    def ctrl(self) -> Rel:
        """Control dependencies, extended through memory by carry-dep."""
        return self.carry_dep.seq(Rel.of_pairs(self.n, self.g.ctrl))

    # == release / acquire and fences ========================================

    @static
    def acq_po(self) -> Rel:
        """``acq-po``: an acquire ordered before everything po-after it."""
        return self.po.restrict(self.Acquire, self.M)

    @static
    def po_rel(self) -> Rel:
        """``po-rel``: everything po-before a release ordered before it."""
        return self.po.restrict(self.M, self.Release)

    @cached_property
    def po_unlock_lock_po(self) -> Rel:
        """``po-unlock-lock-po``: across an unlock followed by a lock, where the
        lock either reads from the unlock or is po-after it (on the same CPU,
        even of another lock variable)."""
        return self.po.ran(self.UL).seq(self.po | self.rf).ran(self.LKR).seq(self.po)

    @static
    def R4rmb(self) -> int:  # noqa: N802
        """Reads that smp_rmb() orders: not those of non-returning atomics."""
        return self.R & self.not_noreturn

    @static
    def rmb(self) -> Rel:
        return self.fencerel(self.fence("rmb")).restrict(self.R4rmb, self.R4rmb)

    @static
    def wmb(self) -> Rel:
        return self.fencerel(self.fence("wmb")).restrict(self.W, self.W)

    @cached_property
    def mb(self) -> Rel:
        """Full barriers: smp_mb(), and the RMW / lock forms of smp_mb__*()."""
        if not self.fence("after-unlock-lock"):
            return self._mb_static
        m, po = self.M, self.po
        unlock_lock = po.restrict(m, self.UL).seq(self.co | po).ran(self.LKW)
        unlock_lock = unlock_lock.seq(self.fencerel(self.fence("after-unlock-lock"))).ran(m)
        return self._mb_static | unlock_lock

    @static
    def _mb_static(self) -> Rel:
        """The clauses of mb that need no rf or co (all but after-unlock-lock)."""
        m, po = self.M, self.po
        full = self.fencerel(self.fence("mb")).restrict(m, m)
        before = self.fencerel(self.fence("before-atomic")).restrict(m, self.RMW)
        before = before.seq(po.opt()).ran(m)
        after = po.opt().dom(m).ran(self.RMW).seq(self.fencerel(self.fence("after-atomic")))
        after = after.ran(m)
        spin = po.opt().dom(m).ran(self.LKW).seq(self.fencerel(self.fence("after-spinlock")))
        spin = spin.ran(m)
        return full | before | after | spin

    @static
    def gp(self) -> Rel:
        """Grace periods: synchronize_rcu() / synchronize_srcu() as fences."""
        return self.po.ran(self.fence("sync-rcu", "sync-srcu")).seq(self.po.opt())

    @cached_property
    def strong_fence(self) -> Rel:
        """``strong-fence``: mb or a grace period."""
        return self.mb | self.gp

    @cached_property
    def nonrw_fence(self) -> Rel:
        """``nonrw-fence``: fences that order more than reads or writes alone."""
        return self.strong_fence | self.po_rel | self.acq_po

    @cached_property
    def fence_(self) -> Rel:
        """``fence``: every fence-like ordering, rmb and wmb included."""
        return self.nonrw_fence | self.wmb | self.rmb

    @static
    def barrier(self) -> Rel:
        """``barrier``: the compiler barriers, used by the mixed-accesses flag."""
        f = self.fence(
            "barrier", "rmb", "wmb", "mb", "sync-rcu", "sync-srcu", "before-atomic", "after-atomic"
        )
        return (
            self.fencerel(f | self.Acquire | self.Release)
            | self.po.ran(self.Release)
            | self.po.dom(self.Acquire)
        )

    # == coherence ===========================================================

    @cached_property
    def com(self) -> Rel:
        return self.rf | self.co | self.fr

    # == preserved program order and happens-before ==========================

    @cached_property
    def dep(self) -> Rel:
        return self.addr | self.data

    @cached_property
    def rwdep(self) -> Rel:
        """Dependencies into a write (compilers and CPUs keep them)."""
        return (self.dep | self.ctrl).ran(self.W)

    @cached_property
    def overwrite(self) -> Rel:
        return self.co | self.fr

    @cached_property
    def to_w(self) -> Rel:
        """``to-w``: what orders an access before a po-later write."""
        plain_wmb = self.addr.ran(self.Plain).seq(self.wmb)
        return self.rwdep | (self.overwrite & self.g.int_) | plain_wmb

    @cached_property
    def to_r(self) -> Rel:
        """``to-r``: what orders an access before a po-later read."""
        return self.addr | self.dep.ran(self.Marked).seq(self.rfi)

    @cached_property
    def ppo(self) -> Rel:
        """Preserved program order."""
        return self.to_r | self.to_w | self.fence_ | (self.po_unlock_lock_po & self.g.int_)

    def a_cumul(self, r: Rel) -> Rel:
        """``A-cumul(r)``: r, possibly preceded by an external marked read-from."""
        return self.rfe.ran(self.Marked).opt().seq(r)

    @cached_property
    def cumul_fence(self) -> Rel:
        """``cumul-fence``: fences that order propagation of writes to others."""
        body = self.a_cumul(self.strong_fence | self.po_rel) | self.wmb | self.po_unlock_lock_po
        return body.restrict(self.Marked, self.Marked)

    @cached_property
    def prop(self) -> Rel:
        """``prop``: a write propagating to a thread before another event there."""
        mk = self.Marked
        first = (self.overwrite & self.g.ext).opt().dom(mk)
        return first.seq(self.cumul_fence.star()).ran(mk).seq(self.rfe.opt().ran(mk))

    @cached_property
    def hb(self) -> Rel:
        """Happens-before: the order in which instructions execute."""
        mk = self.Marked
        local_prop = (self.prop - self._id()) & self.g.int_
        return (self.ppo | self.rfe | local_prop).restrict(mk, mk)

    @cached_property
    def pb(self) -> Rel:
        """Propagates-before: needs a strong fence for each non-rf link."""
        return self.prop.seq(self.strong_fence).seq(self.hb.star()).ran(self.Marked)

    # == RCU and SRCU ========================================================

    @static
    def rcu_rscs(self) -> Rel:
        """Matched rcu_read_lock() / rcu_read_unlock() pairs (innermost first)."""
        return Rel.of_pairs(self.n, self._matched("rcu-lock", "rcu-unlock"))

    def _matched(self, open_tag: str, close_tag: str) -> list[tuple[int, int]]:
        pairs = []
        for tid in self.g.tids:
            stack: list[int] = []
            for i in self.g.thread_events(tid):
                e = self.g.events[i]
                if e.is_fence and e.tag == open_tag:
                    stack.append(i)
                elif e.is_fence and e.tag == close_tag and stack:
                    pairs.append((stack.pop(), i))
        return pairs

    @static
    def unbalanced_rcu(self) -> bool:
        """The bell's unbalanced-rcu-locking flag."""
        rs = self.rcu_rscs
        return bool(
            (self.fence("rcu-lock") & ~rs.domain()) | (self.fence("rcu-unlock") & ~rs.range())
        )

    @cached_property
    def srcu_rscs(self) -> Rel:
        """SRCU read sections: srcu_read_lock's value fed to srcu_read_unlock."""
        unlock = self._tags(Kind.W, "srcu-unlock")
        lock = self._tags(Kind.R, "srcu-lock")
        not_unlock = ((1 << self.n) - 1) & ~unlock
        carry = self._raw_data.ran(not_unlock).seq(self.rf).star()
        return carry.dom(lock).seq(self._raw_data).ran(unlock) & self.g.loc

    @cached_property
    def rcu_link(self) -> Rel:
        """``rcu-link``: what joins grace periods and read sections in rcu-fence."""
        return self.po.opt().seq(self.hb.star()).seq(self.pb.star()).seq(self.prop).seq(self.po)

    @cached_property
    def rcu_fence(self) -> Rel:
        """``rcu-fence``: at least as many grace periods as read sections.

        The cat defines it by recursion; this is its least fixed point.
        """
        if not self.fence("sync-rcu", "sync-srcu"):
            return Rel(self.n)  # no grace period: every disjunct starts or ends in one
        gp = self._id(self.fence("sync-rcu"))
        sgp = self._id(self.fence("sync-srcu"))
        rsi = self.rcu_rscs.inv()
        srsi = self.srcu_rscs.inv()
        link, loc = self.rcu_link, self.g.loc
        base = (
            gp
            | sgp
            | gp.seq(link).seq(rsi)
            | (sgp.seq(link).seq(srsi) & loc)
            | rsi.seq(link).seq(gp)
            | (srsi.seq(link).seq(sgp) & loc)
        )
        fence = base
        while True:
            mid = link.seq(fence).seq(link)
            nxt = (
                base
                | gp.seq(mid).seq(rsi)
                | (sgp.seq(mid).seq(srsi) & loc)
                | rsi.seq(mid).seq(gp)
                | (srsi.seq(mid).seq(sgp) & loc)
                | fence.seq(link).seq(fence)
            )
            if nxt == fence:
                return fence
            fence = nxt

    @cached_property
    def rb(self) -> Rel:
        """RCU-before: ordering that a grace period imposes on read sections."""
        if self.rcu_fence.is_empty():
            return Rel(self.n)
        mid = self.prop.seq(self.po).seq(self.rcu_fence).seq(self.po.opt())
        return mid.seq(self.hb.star()).seq(self.pb.star()).ran(self.Marked)

    # == plain accesses and data races =======================================

    @cached_property
    def xbstar(self) -> Rel:
        """``xbstar``: executes-before, reflexive-transitive."""
        return (self.hb | self.pb | self.rb).star()

    @cached_property
    def full_fence(self) -> Rel:
        return self.strong_fence | self.po.seq(self.rcu_fence).seq(self.po.opt())

    @cached_property
    def vis(self) -> Rel:
        """``vis``: a write visible to an event of another thread."""
        mk = self.Marked
        head = self.cumul_fence.star().seq(self.rfe.opt()).ran(mk)
        tail = self.full_fence.ran(mk).seq(self.xbstar) | (self.xbstar & self.g.int_)
        return head.seq(tail)

    @cached_property
    def w_pre_bounded(self) -> Rel:
        return (self.addr | self.fence_).opt().dom(self.Marked)

    @cached_property
    def r_pre_bounded(self) -> Rel:
        rmb = self.fencerel(self.fence("rmb")).restrict(self.R4rmb, self.not_noreturn)
        return (self.addr | self.nonrw_fence | rmb).opt().dom(self.Marked)

    @cached_property
    def w_post_bounded(self) -> Rel:
        return self.fence_.opt().ran(self.Marked)

    @cached_property
    def r_post_bounded(self) -> Rel:
        rmb = self.fencerel(self.fence("rmb")).restrict(self.not_noreturn, self.R4rmb)
        return (self.nonrw_fence | rmb).opt().ran(self.Marked)

    @cached_property
    def ww_vis(self) -> Rel:
        return self.w_post_bounded.seq(self.vis).seq(self.w_pre_bounded)

    @cached_property
    def wr_vis(self) -> Rel:
        return self.w_post_bounded.seq(self.vis).seq(self.r_pre_bounded)

    @cached_property
    def rw_xbstar(self) -> Rel:
        return self.r_post_bounded.seq(self.xbstar).seq(self.w_pre_bounded)

    @cached_property
    def pre_race(self) -> Rel:
        """``pre-race``: conflicting-candidate pairs involving a plain access."""
        plain_any = Rel.product(self.n, self.Plain, self.M)
        any_plain = Rel.product(self.n, self.M & ~self.IW, self.Plain)
        return self.g.ext & (plain_any | any_plain)

    @cached_property
    def plain_incoherence(self) -> Rel:
        """wr-incoh | rw-incoh | ww-incoh: plain accesses seeing time backwards."""
        if not self.Plain:
            return Rel(self.n)  # pre-race is empty
        pr = self.pre_race
        wr = pr & self.rf & self.rw_xbstar.inv()
        rw = pr & self.fr & self.wr_vis.inv()
        ww = pr & self.co & self.ww_vis.inv()
        return wr | rw | ww

    @cached_property
    def races(self) -> Rel:
        """ww-race | wr-race | rw-race: the pairs herd7 flags as data-race."""
        if not self.Plain:
            return Rel(self.n)
        pr = self.pre_race
        marked_w = Rel.product(self.n, self.Marked, self.W)
        w_marked = Rel.product(self.n, self.W, self.Marked)
        ww_nonrace = self.ww_vis & (marked_w | self.rw_xbstar) & (w_marked | self.wr_vis)
        ww = (pr & self.co) - ww_nonrace
        wr = (pr & self.co.opt().seq(self.rf)) - self.wr_vis
        rw = (pr & self.fr) - self.rw_xbstar
        return ww | wr | rw

    @cached_property
    def mixed_accesses(self) -> Rel:
        """Plain writes and marked accesses to one location, unseparated by barriers."""
        if not self.Plain & self.W:
            return Rel(self.n)
        pl = self.po_loc - self.barrier
        plain_w = self.Plain & self.W
        return pl.restrict(plain_w, self.Marked & self.M) | pl.restrict(
            self.Marked & self.M, plain_w
        )

    # == the axioms ==========================================================

    def check(self, *, flags: bool = True) -> Judgement:
        """Judge the graph: the first failed axiom, or the flags it raises."""
        for name, rel, how in self._axioms():
            bad = rel.cycle() if how == "acyclic" else _nonempty(rel, how)
            if bad:
                return Judgement(failed=name, cycle=tuple(bad))
        if not flags:
            return Judgement(failed=None)
        raised = set()
        races = tuple(self.races.pairs())
        if races:
            raised.add("data-race")
        if not self.mixed_accesses.is_empty():
            raised.add("mixed-accesses")
        if self.unbalanced_rcu:
            raised.add("unbalanced-rcu-locking")
        return Judgement(failed=None, flags=frozenset(raised), races=races)

    def _axioms(self) -> Iterator[tuple[str, Rel, str]]:
        """The axioms in the cat's order; a generator, so each relation is
        computed only when the axioms before it have held."""
        yield "coherence", self.po_loc | self.com, "acyclic"
        fre_coe = (self.fr & self.g.ext).seq(self.co & self.g.ext)
        yield "atomic", self.rmw & fre_coe, "empty"
        yield "happens-before", self.hb, "acyclic"
        yield "propagation", self.pb, "acyclic"
        yield "rcu", self.rb, "irreflexive"
        yield "plain-coherence", self.plain_incoherence, "empty"


def _nonempty(rel: Rel, how: str) -> list[int]:
    """A witness that ``rel`` is not empty (or not irreflexive), or []."""
    if how == "irreflexive":
        for i, row in enumerate(rel.rows):
            if row >> i & 1:
                return [i]
        return []
    pairs = rel.pairs()
    return list(pairs[0]) if pairs else []
