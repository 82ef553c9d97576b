"""The kernel primitives a litmus test may call, with their LKMM meaning.

One entry per name of tools/memory-model/linux-kernel.def: the kinds of its
arguments (``L`` a location, given as ``*p``, ``p`` or ``&x``; ``V`` a
value) and what it does, as a :class:`Prim`.  The interpreter turns a Prim
into :mod:`ctxcheck.lkmm.ops` operations.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Prim:
    """``what`` is load, store, store-mb, fence, xchg, cmpxchg, op,
    add-unless, lock, trylock, unlock, islocked, srcu-lock, srcu-unlock or
    sync-srcu; ``tag``
    the access tag or fence tag; ``order`` an RMW's ordering; ``arith`` and
    ``returns`` describe an atomic_*() (``+``/``-`` with constant ``amount``
    or the ``V`` argument; returns ``none``, ``new``, ``old``, ``zero`` or
    ``negative``)."""

    args: str
    what: str
    tag: str = ""
    order: str = ""
    arith: str = ""
    amount: int | None = None
    returns: str = "old"


PRIMS: dict[str, Prim] = {
    "READ_ONCE": Prim("L", "load", "once"),
    "WRITE_ONCE": Prim("LV", "store", "once"),
    "smp_load_acquire": Prim("L", "load", "acquire"),
    "smp_store_release": Prim("LV", "store", "release"),
    "rcu_dereference": Prim("L", "load", "once"),
    "srcu_dereference": Prim("LL", "load", "once"),
    "rcu_assign_pointer": Prim("LV", "store", "release"),
    "smp_store_mb": Prim("LV", "store-mb", "once"),
    "atomic_read": Prim("L", "load", "once"),
    "atomic_set": Prim("LV", "store", "once"),
    "atomic_read_acquire": Prim("L", "load", "acquire"),
    "atomic_set_release": Prim("LV", "store", "release"),
    "spin_lock": Prim("L", "lock"),
    "spin_unlock": Prim("L", "unlock"),
    "spin_trylock": Prim("L", "trylock"),
    "spin_is_locked": Prim("L", "islocked"),
    "srcu_read_lock": Prim("L", "srcu-lock"),
    "srcu_down_read": Prim("L", "srcu-lock"),
    "srcu_read_unlock": Prim("LV", "srcu-unlock"),
    "srcu_up_read": Prim("LV", "srcu-unlock"),
    "synchronize_srcu": Prim("L", "sync-srcu"),
    "synchronize_srcu_expedited": Prim("L", "sync-srcu"),
}

_FENCES = {
    "smp_mb": "mb",
    "smp_rmb": "rmb",
    "smp_wmb": "wmb",
    "smp_mb__before_atomic": "before-atomic",
    "smp_mb__after_atomic": "after-atomic",
    "smp_mb__after_spinlock": "after-spinlock",
    "smp_mb__after_unlock_lock": "after-unlock-lock",
    "smp_mb__after_srcu_read_unlock": "barrier",
    "barrier": "barrier",
    "rcu_read_lock": "rcu-lock",
    "rcu_read_unlock": "rcu-unlock",
    "synchronize_rcu": "sync-rcu",
    "synchronize_rcu_expedited": "sync-rcu",
}
PRIMS.update({name: Prim("", "fence", tag) for name, tag in _FENCES.items()})

#: Suffix -> ordering of the RMW (linux-kernel.def: {mb}, {once}, ...).
_ORDERS = {"": "mb", "_relaxed": "once", "_acquire": "acquire", "_release": "release"}

for _sfx, _order in _ORDERS.items():
    for _base in ("xchg", "atomic_xchg"):
        PRIMS[_base + _sfx] = Prim("LV", "xchg", order=_order)
    for _base in ("cmpxchg", "atomic_cmpxchg"):
        PRIMS[_base + _sfx] = Prim("LVV", "cmpxchg", order=_order)
    for _name, _arith in (("add", "+"), ("sub", "-")):
        PRIMS[f"atomic_{_name}_return{_sfx}"] = Prim(
            "VL", "op", order=_order, arith=_arith, returns="new"
        )
        PRIMS[f"atomic_fetch_{_name}{_sfx}"] = Prim("VL", "op", order=_order, arith=_arith)
    for _name, _arith in (("inc", "+"), ("dec", "-")):
        PRIMS[f"atomic_{_name}_return{_sfx}"] = Prim(
            "L", "op", order=_order, arith=_arith, amount=1, returns="new"
        )
        PRIMS[f"atomic_fetch_{_name}{_sfx}"] = Prim("L", "op", order=_order, arith=_arith, amount=1)

PRIMS.update(
    {
        "atomic_add": Prim("VL", "op", order="noreturn", arith="+", returns="none"),
        "atomic_sub": Prim("VL", "op", order="noreturn", arith="-", returns="none"),
        "atomic_inc": Prim("L", "op", order="noreturn", arith="+", amount=1, returns="none"),
        "atomic_dec": Prim("L", "op", order="noreturn", arith="-", amount=1, returns="none"),
        "atomic_sub_and_test": Prim("VL", "op", order="mb", arith="-", returns="zero"),
        "atomic_dec_and_test": Prim("L", "op", order="mb", arith="-", amount=1, returns="zero"),
        "atomic_inc_and_test": Prim("L", "op", order="mb", arith="+", amount=1, returns="zero"),
        "atomic_add_negative": Prim("VL", "op", order="mb", arith="+", returns="negative"),
        "atomic_add_unless": Prim("LVV", "add-unless", order="mb"),
        "atomic_inc_not_zero": Prim("L", "add-unless", order="mb", amount=1),
    }
)

#: Argument kinds of every primitive, for the parser's arity check.
SPECS: dict[str, str] = {name: prim.args for name, prim in PRIMS.items()}
