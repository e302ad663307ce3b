"""Tables that fit the terminal without cutting a value: when a table is wider than the
console, whole columns are dropped in a stated order (never a cost, token count or id cut
mid-value) and a note names them; ``--wide`` keeps every column."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

# least useful first: dropped in this order until the table fits
DROP_ORDER = ("growth", "p50", "wall", "tools", "hit", "cache write", "cache read", "calls",
              "llm", "tasks", "output", "input")


# a task's step table (``analyze --task``): timing detail first, the model last
STEP_DROP_ORDER = ("TTFT", "c.write", "time", "kind", "c.read", "model")


def fitted(console: Console, cols: Sequence[str], build: Callable[[Sequence[str]], Table],
           wide: bool = False, order: Sequence[str] = DROP_ORDER,
           wrap_text: bool = False) -> tuple[Table, list[str]]:
    """``build(columns)`` with columns dropped (in ``order``, :data:`DROP_ORDER` by default)
    until the table fits ``console.width``; the dropped column names. Unchanged when it fits
    or ``wide``. ``wrap_text``: the table fits when its wrapping columns can wrap at spaces
    (each word whole) — its minimum width — rather than only at its natural width."""
    from rich.measure import Measurement

    table = build(cols)
    if wide:
        return table, []
    kept, dropped = list(cols), []
    roomy = console.options.update_width(100_000)  # the natural width, not the clamped one
    for name in order:
        m = Measurement.get(console, roomy, table)
        if (m.minimum if wrap_text else m.maximum) <= console.width:
            break
        if name in kept:
            kept.remove(name)
            dropped.append(name)
            table = build(kept)
    return table, dropped


def dropped_note(dropped: list[str]) -> str:
    return (f"[dim]columns left out to fit {{w}} columns: {', '.join(dropped)} (--wide keeps "
            "all)[/dim]") if dropped else ""
