"""One run exported in two formats is counted once (:func:`drop_same_run_other_format`).

E.g. an Agents SDK ``.agents.jsonl`` and the OTel bridge's ``.otlp.jsonl`` of the same run, side
by side in one folder: the readers see two runs; the step table keeps one.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agentcost.ingest.base import IngestContext
from agentcost.steps import StepBuilder

SAME_CALL_WINDOW_NS = 2_000_000_000
TaskKey = tuple[str, str]  # (format, task id)
_KNOWN_COLUMNS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens")


def drop_same_run_other_format(builder: StepBuilder, ctx: IngestContext,
                               reader_order: Sequence[str]) -> StepBuilder:
    """The builder without the tasks that copy a task read by another reader.

    A task is a copy of a task read by another reader when every one of its llm steps matches an
    llm step of that task starting within 2 s with the same input and output token counts (a
    count one side does not carry, or only estimated from content, matches anything), and both
    have as many llm steps. The copy with fewer known token figures is dropped (ties: the reader
    listed first in ``reader_order`` wins), and the drop is counted in the ingest report.
    """
    runs = _Runs.index(builder.padded(), len(builder))
    order = {name: i for i, name in enumerate(reader_order)}
    drop: set[TaskKey] = set()
    for key, rows in runs.tasks.items():
        if key in drop:
            continue
        partner = runs.partner(rows, drop)
        if partner is None:
            continue
        a, b = runs.known(rows), runs.known(runs.tasks[partner])
        loser = key if (a, -order.get(key[0], 99)) < (b, -order.get(partner[0], 99)) else partner
        drop.add(loser)
        ctx.dropped(f"same run also read as {partner[0] if loser == key else key[0]}",
                    len(runs.tasks[loser]))
    return runs.without(drop, ctx) if drop else builder


@dataclass
class _Runs:
    """The rows of a step table by task, and its timed llm steps by start."""

    cols: dict[str, list[Any]]
    n: int
    tasks: dict[TaskKey, list[int]] = field(default_factory=dict)
    timed: list[tuple[int, int]] = field(default_factory=list)  # (started_at, row), llm steps
    starts: list[int] = field(default_factory=list)
    estimated: list[bool] = field(default_factory=list)

    @classmethod
    def index(cls, cols: dict[str, list[Any]], n: int) -> _Runs:
        runs = cls(cols, n)
        for i in range(n):
            runs.tasks.setdefault(runs.key(i), []).append(i)
            if cols["kind"][i] == "llm" and cols["started_at"][i] is not None:
                runs.timed.append((cols["started_at"][i], i))
        runs.timed.sort()
        runs.starts = [t for t, _ in runs.timed]
        runs.estimated = [v == "estimated" for v in cols["cost_source"]]
        return runs

    def key(self, i: int) -> TaskKey:
        return (str(self.cols["format"][i]), str(self.cols["task_id"][i]))

    def llm_rows(self, rows: list[int]) -> list[int]:
        return [i for i in rows if self.cols["kind"][i] == "llm"]

    def same_call(self, i: int, j: int) -> bool:
        if self.estimated[i] or self.estimated[j]:
            return True  # counted from content: no measurement to compare
        cols = self.cols
        for c in ("input_tokens", "output_tokens"):
            if cols[c][i] is not None and cols[c][j] is not None and cols[c][i] != cols[c][j]:
                return False
        return True

    def candidates(self, i: int) -> set[TaskKey]:
        """The tasks of other formats with an llm step that matches row ``i``."""
        fmt = self.cols["format"]
        t = self.cols["started_at"][i]
        lo = bisect.bisect_left(self.starts, t - SAME_CALL_WINDOW_NS)
        hi = bisect.bisect_right(self.starts, t + SAME_CALL_WINDOW_NS)
        return {self.key(j) for _, j in self.timed[lo:hi]
                if str(fmt[j]) != str(fmt[i]) and self.same_call(i, j)}

    def known(self, rows: list[int]) -> int:
        """How many token figures the rows carry (measured, not estimated)."""
        return sum(1 for i in rows for c in _KNOWN_COLUMNS
                   if self.cols[c][i] is not None and not self.estimated[i])

    def partner(self, rows: list[int], drop: set[TaskKey]) -> TaskKey | None:
        """The one task (not dropped) of another format whose llm steps match every llm step
        of ``rows``, one for one; ``None`` when there is none."""
        llm = self.llm_rows(rows)
        if not llm or any(self.cols["started_at"][i] is None for i in llm):
            return None
        partner: TaskKey | None = None
        for i in llm:
            hits = self.candidates(i) - drop
            if partner is None:
                partner = next(iter(sorted(hits)), None) if hits else None
                if partner is None:
                    return None
            elif partner not in hits:
                return None
        if partner is None or len(self.llm_rows(self.tasks[partner])) != len(llm):
            return None
        return partner

    def without(self, drop: set[TaskKey], ctx: IngestContext) -> StepBuilder:
        """A builder of the rows whose task is not in ``drop``; the files' step counts in the
        ingest report follow."""
        keep = [i for i in range(self.n) if self.key(i) not in drop]
        out = StepBuilder()
        for name, values in self.cols.items():
            out.columns[name] = [values[i] for i in keep]
        out.n = len(keep)
        source = self.cols["source"]
        for f in ctx.report.files:
            f["steps"] = sum(1 for i in keep if source[i] == f["path"])
        return out
