"""What the memory model says of one candidate execution: :class:`Judgement`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Judgement:
    """What the model says of one candidate execution.

    ``failed`` names the first axiom that forbids it (None: allowed) and
    ``cycle`` gives the events of a witness cycle (or offending pair) of that
    axiom; ``flags`` are the cat file's flags raised by an allowed execution.
    """

    failed: str | None
    cycle: tuple[int, ...] = ()
    flags: frozenset[str] = field(default_factory=frozenset)
    races: tuple[tuple[int, int], ...] = ()

    @property
    def consistent(self) -> bool:
        return self.failed is None
