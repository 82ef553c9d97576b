"""A lock-less list in the style of the kernel's <linux/llist.h>: the tutorial's model.

Producers push freshly allocated nodes with ``llist_add`` (a cmpxchg loop);
consumers take nodes off and free them. Variant ``del_first`` lets two
consumers call ``llist_del_first`` at the same time, which llist.h forbids;
``del_all`` takes the whole list with one ``xchg`` instead; ``locked``
serialises the ``llist_del_first`` callers with a spinlock, as llist.h asks.
docs/writing-a-model.md builds this file step by step.
"""

from __future__ import annotations

from dataclasses import dataclass

from ctxcheck import (
    Cell,
    Config,
    Machine,
    Model,
    Param,
    Property,
    Spinlock,
    Struct,
    Variant,
    field,
    spinlock,
)
from ctxcheck.kernel import Kernel, Steps


class llist_node(Struct):
    """struct llist_node: just the link to the next node."""

    next: Cell = field(None)


class llist_head(Struct):
    """struct llist_head, plus the lock the ``locked`` variant's consumers take."""

    first: Cell = field(None)
    consumer_lock: Spinlock = spinlock()


def llist_add(k: Kernel, new: llist_node, head: llist_head) -> Steps:
    """Push ``new``; if another CPU changed head->first meanwhile, retry."""
    first = yield k.load(head.first)
    while True:
        yield k.store(new.next, first)
        old = yield k.cmpxchg(head.first, first, new)
        if old is first:
            return
        first = old


def llist_del_first(k: Kernel, head: llist_head) -> Steps:
    """Pop the first node: read it, read its next, swing head->first past it."""
    entry = yield k.load(head.first)
    while entry is not None:
        next_node = yield k.load(entry.next)
        old = yield k.cmpxchg(head.first, entry, next_node)
        if old is entry:
            break
        entry = old
    return entry


def llist_del_all(k: Kernel, head: llist_head) -> Steps:
    """Take the whole list in one atomic step."""
    return (yield k.xchg(head.first, None))


def producer(k: Kernel, head: llist_head) -> Steps:
    node = yield k.kmalloc(llist_node)
    yield from llist_add(k, node, head)


def consumer_del_first(k: Kernel, head: llist_head) -> Steps:
    node = yield from llist_del_first(k, head)
    yield k.kfree(node)


def consumer_locked(k: Kernel, head: llist_head) -> Steps:
    yield k.spin_lock(head.consumer_lock)
    node = yield from llist_del_first(k, head)
    yield k.spin_unlock(head.consumer_lock)
    yield k.kfree(node)


def consumer_del_all(k: Kernel, head: llist_head) -> Steps:
    node = yield from llist_del_all(k, head)
    while node is not None:
        next_node = yield k.load(node.next)
        yield k.kfree(node)
        node = next_node


CONSUMERS = {
    "del_first": consumer_del_first,
    "locked": consumer_locked,
    "del_all": consumer_del_all,
}


@dataclass
class State:
    head: llist_head


def setup(m: Machine, cfg: Config) -> State:
    head = m.new(llist_head, name="head")
    node = m.alloc(llist_node, name="A")  # already on the list when the threads start
    head.first.value = node
    for i in range(cfg["producers"]):
        m.spawn(f"P{i}", producer, head)
    for i in range(cfg["consumers"]):
        m.spawn(f"C{i}", CONSUMERS[cfg.variant], head)
    return State(head)


def no_lost_node(m: Machine, s: State) -> str | None:
    """Every node is still on the list or was freed: none leaked, none freed twice."""
    on_list = []
    node = s.head.first.value
    while node is not None:
        on_list.append(node)
        node = node.next.value
    lost = [n.name for n in m.live_heap() if n not in on_list]
    if lost:
        return f"{', '.join(lost)} neither on the list nor freed"
    freed = [n.name for n in on_list if n.freed]
    return f"{', '.join(freed)} freed while still on the list" if freed else None


MODEL = Model(
    name="tutorial.llist",
    doc=__doc__ or "",
    setup=setup,
    params=(
        Param("producers", 1, 0, 3, "threads pushing one new node each"),
        Param("consumers", 2, 1, 3, "threads taking nodes off and freeing them"),
    ),
    variants=(
        Variant("del_first", "concurrent llist_del_first callers (the bug)"),
        Variant("locked", "llist_del_first callers serialised by a spinlock (fix 1)"),
        Variant("del_all", "consumers take the whole list with xchg (fix 2)"),
    ),
    properties=(Property("no_lost_node", no_lost_node.__doc__ or "", no_lost_node, final=True),),
)
