"""Context anatomy: where each llm call's input tokens come from, and what every part of the
context costs over the rest of the loop (``analyze --anatomy``).

Pure functions over a priced :class:`~agentcost.table.StepTable`; no typer, no rich.

Per llm call with ``segments`` (request bodies, agentcost JSONL ``segments``, Claude Code logs
read with ``conversations=True``), the call's input tokens are laid out in prompt order and each
segment's tokens fall into the class the call paid for that position: the first
``cache_read_tokens`` were read from the cache, the next ``cache_write_tokens`` were written, the
rest were uncached (caches hold prefixes, so reads come first and writes follow). Each class is
priced at the call's own rates and the segments' costs are scaled so that they add up to the
call's input cost as priced by ``analyze`` (long-context tiers included). A call whose price is
unknown contributes tokens but no dollars, and every dollar figure it touches is a lower bound.

Definitions (stated in the report's assumptions):

* **Input by role** — tokens and input cost of the tool definitions, system, user, assistant and
  tool-result segments; shares are of the covered calls' input tokens / input cost.
* **Carried cost** of a segment — its tokens in every call whose prompt contains it (the first
  call to send it included: a tool result enters the context through a call), each call priced
  at the class it paid for those tokens. A segment is identified within its task by its content
  hash and its occurrence among equal hashes in the prompt.
* **Staleness** (approximate) — the turns a tool result is carried after the call that first
  read it: the later calls of the task that still send it, until the task ends or the result
  leaves the context (compaction, trimming).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentcost.config import Config
    from agentcost.table import StepTable

ROLES = ("tools", "system", "user", "assistant", "tool")
_ROLE_SET = frozenset(ROLES)
ROLE_LABELS = {
    "tools": "tool definitions",
    "system": "system",
    "user": "user",
    "assistant": "assistant",
    "tool": "tool results",
}


@dataclass(frozen=True)
class AnatomyOptions:
    """What to report. Findings fire when a tool's results carry more than ``tool_share`` of
    the input cost, when a result is sent by more than ``max_sends`` calls, and when the tool
    definitions are at least ``tools_share`` of a typical call's input."""

    task: str | None = None
    top: int = 10
    tool_share: float = 0.30
    max_sends: int = 20
    tools_share: float = 0.20

    @classmethod
    def from_config(cls, config: Config, task: str | None = None, top: int = 10) -> AnatomyOptions:
        """The thresholds of ``analyze:`` in ``agentcost.yaml`` (``anatomy_tool_share``,
        ``anatomy_max_sends``, ``anatomy_tools_share``)."""
        return cls(
            task=task,
            top=top,
            tool_share=config.anatomy_tool_share,
            max_sends=config.anatomy_max_sends,
            tools_share=config.anatomy_tools_share,
        )


@dataclass(slots=True)
class Item:
    """One segment of one task's context, followed over every call that sends it."""

    task_id: str
    role: str
    name: str | None
    call_id: str | None
    first_step: int
    tokens: int
    last_step: int = 0
    sends: int = 0
    carried_tokens: int = 0
    carried_cost: float = 0.0
    unpriced_sends: int = 0
    read: int = 0
    write: int = 0
    uncached: int = 0

    def to_dict(self, task_last_step: int) -> dict[str, Any]:
        priced = self.sends - self.unpriced_sends
        return {
            "task_id": self.task_id,
            "role": self.role,
            "name": self.name,
            "call_id": self.call_id,
            "first_step": self.first_step,
            "last_step": self.last_step,
            "tokens": self.tokens,
            "sends": self.sends,
            "carried_tokens": self.carried_tokens,
            "carried_cost_usd": _r(self.carried_cost) if priced else None,
            "cost_is_lower_bound": bool(self.unpriced_sends and priced),
            "uncached_tokens": self.uncached,
            "cache_read_tokens": self.read,
            "cache_write_tokens": self.write,
            "stale_turns": max(self.sends - 1, 0),
            "carried_until": "task end" if self.last_step >= task_last_step else "dropped",
        }


@dataclass
class _Tally:
    """Tokens and input cost per role (one task, or the whole input)."""

    tokens: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ROLES, 0))
    cost: dict[str, float] = field(default_factory=lambda: dict.fromkeys(ROLES, 0.0))
    calls: int = 0
    unpriced_calls: int = 0

    def rows(self) -> list[dict[str, Any]]:
        tok, cost = sum(self.tokens.values()), sum(self.cost.values())
        return [
            {
                "role": r,
                "label": ROLE_LABELS[r],
                "tokens": self.tokens[r],
                "cost_usd": _r(self.cost[r]) if self.calls > self.unpriced_calls else None,
                "token_share": _share(self.tokens[r], tok),
                "cost_share": _share(self.cost[r], cost),
            }
            for r in ROLES
        ]


def _r(v: float) -> float:
    return round(v, 8)


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole > 0 else None


# ------------------------------------------------------------------------ one call's prompt


def _int(v: Any) -> int:
    return 0 if v is None or v is _NA or (isinstance(v, float) and math.isnan(v)) else int(v)


_NA: Any = None  # pandas.NA once pandas is imported (see anatomy())


def layout(
    segs: list[dict[str, Any]], inp: int, read: int, write: int
) -> list[tuple[int, int, int, int]]:
    """Per segment: (tokens, read, write, uncached) — the prompt in order, the first ``read``
    tokens read from the cache, the next ``write`` written, the rest uncached. Segment tokens
    are rescaled to ``inp`` when they do not add up to it (as the simulator does)."""
    toks = [int(s.get("tokens") or 0) for s in segs]
    if inp > 0 and sum(toks) != inp:
        from agentcost.ingest.segments import scale_to

        tmp = [{"tokens": t} for t in toks]
        scale_to(tmp, inp)
        toks = [t["tokens"] for t in tmp]
    out: list[tuple[int, int, int, int]] = []
    pos = 0
    w_end = read + write
    for t in toks:
        a, b = pos, pos + t
        pos = b
        if b <= read:  # most segments of a cached agent loop
            out.append((t, t, 0, 0))
        elif a >= w_end:
            out.append((t, 0, 0, t))
        else:
            rd = read - a if a < read else 0
            wr = min(b, w_end) - max(a, read)
            out.append((t, rd, wr, t - rd - wr))
    return out


class _Rates:
    """Per-token input rates (uncached, read, write) of each call, from the price data."""

    def __init__(self, config: Config | None) -> None:
        from agentcost.pricing import Pricer

        self.pricer = Pricer(config)
        self.memo: dict[tuple[Any, ...], tuple[float, float, float, float] | None] = {}

    def get(
        self, model: Any, provider: Any, tier: Any, started: Any
    ) -> tuple[float, float, float, float] | None:
        hour = None
        if started is not None and started == started:
            h = int(started.value // 3_600_000_000_000)
            hour = datetime.fromtimestamp(h * 3600, UTC).isoformat()
        key = (model, provider, tier, hour)
        if key not in self.memo:
            rates = self.pricer.rates(str(model), provider, tier, hour) if model else None
            self.memo[key] = (
                None
                if rates is None
                else (rates.uncached, rates.cache_read, rates.cache_write_5m, rates.cache_write_1h)
            )
        return self.memo[key]


def _costs(
    parts: list[tuple[int, int, int, int]],
    rates: tuple[float, float, float, float] | None,
    input_cost: float | None,
    w1: int,
    write: int,
) -> list[float] | None:
    """Each segment's share of the call's input cost (None: the call's price is unknown)."""
    if rates is None or input_cost is None:
        return None
    ru, rr, r5, r1 = rates
    rw = (r5 * (write - w1) + r1 * w1) / write if write else r5
    weights = [rd * rr + wr * rw + un * ru for _, rd, wr, un in parts]
    total = sum(weights)
    if total <= 0:
        return [0.0] * len(parts)
    f = input_cost / total
    return [w * f for w in weights]


# ------------------------------------------------------------------------------ the report


def anatomy(
    table: StepTable, options: AnatomyOptions | None = None, config: Config | None = None
) -> dict[str, Any]:
    """The context anatomy of ``table`` as a JSON-ready dict (see the module docstring)."""
    import pandas as pd

    global _NA
    _NA = pd.NA
    opts = options or AnatomyOptions()
    df = table.frame
    if opts.task is not None:
        df = df[df["task_id"] == opts.task]
    llm = df[df["kind"] == "llm"].sort_values(["task_id", "step"], kind="stable")
    acc = _Accumulator(_Rates(config))
    for row in llm.itertuples(index=False):
        acc.call(row)
    called = _called_tools(df)
    return _report(acc, opts, called, table.ingest.notes)


class _Accumulator:
    """Walks the llm calls in task order and follows every segment."""

    def __init__(self, rates: _Rates) -> None:
        self.rates = rates
        self.total = _Tally()
        self.tasks: dict[str, _Tally] = {}
        self.items: dict[tuple[str, Any, int], Item] = {}
        self.last_step: dict[str, int] = {}
        self.llm_calls = 0
        self.input_tokens = 0
        self.covered_tokens = 0
        self.tools_share: list[float] = []
        self.defined: dict[str, int] = {}  # tool definition name -> tokens (largest seen)
        self.offered: dict[str, int] = {}  # tool definition name -> calls that offered it

    def call(self, row: Any) -> None:
        self.llm_calls += 1
        inp = _int(row.input_tokens)
        self.input_tokens += inp
        segs = row.segments
        if not isinstance(segs, list) or not segs or inp <= 0:
            return
        task, step = str(row.task_id), _int(row.step)
        read, write = _int(row.cache_read_tokens), _int(row.cache_write_tokens)
        parts = layout(segs, inp, read, write)
        cost = row.cost_usd
        out_cost = row.output_cost_usd
        input_cost = (
            None
            if cost != cost
            else float(cost) - (0.0 if out_cost != out_cost else float(out_cost))
        )
        costs = _costs(
            parts,
            self.rates.get(
                row.model, _opt(row.provider), _opt(row.service_tier), _opt(row.started_at)
            ),
            input_cost,
            _int(row.cache_write_1h_tokens),
            write,
        )
        self.covered_tokens += inp
        self.last_step[task] = step
        tally = self.tasks.setdefault(task, _Tally())
        for t in (tally, self.total):
            t.calls += 1
            t.unpriced_calls += costs is None
        self._segments(task, step, segs, parts, costs, tally, inp)

    def _segments(
        self,
        task: str,
        step: int,
        segs: list[dict[str, Any]],
        parts: list[tuple[int, int, int, int]],
        costs: list[float] | None,
        tally: _Tally,
        inp: int,
    ) -> None:
        """Fold one call's segments into the items and the role tallies (the hot loop of
        the anatomy: plain locals, one dict lookup per segment)."""
        seen: dict[Any, int] = {}
        tok_by = dict.fromkeys(ROLES, 0)
        cost_by = dict.fromkeys(ROLES, 0.0)
        items = self.items
        unpriced = costs is None
        for j, seg in enumerate(segs):
            tok, rd, wr, un = parts[j]
            role = seg.get("role")
            if role not in _ROLE_SET:
                role = "user"
            c = 0.0 if costs is None else costs[j]
            tok_by[role] += tok
            cost_by[role] += c
            h = seg.get("hash")
            n = seen.get(h, 0)
            seen[h] = n + 1
            key = (task, h, n)
            it = items.get(key)
            if it is None:
                it = items[key] = Item(
                    task, role, _str(seg.get("name")), _str(seg.get("call_id")), step, tok
                )
            it.last_step = step
            it.sends += 1
            it.carried_tokens += tok
            it.carried_cost += c
            if unpriced:
                it.unpriced_sends += 1
            it.read += rd
            it.write += wr
            it.uncached += un
            if role == "tools" and it.name:
                self.defined[it.name] = max(self.defined.get(it.name, 0), tok)
                if n == 0:
                    self.offered[it.name] = self.offered.get(it.name, 0) + 1
        for t in (tally, self.total):
            for r in ROLES:
                t.tokens[r] += tok_by[r]
                t.cost[r] += cost_by[r]
        if tok_by["tools"]:
            self.tools_share.append(tok_by["tools"] / inp)


def _opt(v: Any) -> Any:
    return None if v is None or v is _NA or (isinstance(v, float) and math.isnan(v)) else v


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _called_tools(df: Any) -> set[str] | None:
    """Names of the tools the trace shows being called (None: the trace shows no tool use)."""
    names = {str(n) for n in df.loc[df["kind"] == "tool", "name"].dropna()}
    for v in df.loc[df["kind"] == "llm", "tool_calls"]:
        if isinstance(v, (list, tuple)):
            names.update(str(x) for x in v)
    return names or None


def _by_tool(acc: _Accumulator) -> list[dict[str, Any]]:
    total_cost = sum(acc.total.cost.values())
    groups: dict[str, list[Item]] = {}
    for it in acc.items.values():
        if it.role == "tool":
            groups.setdefault(it.name or "(unnamed)", []).append(it)
    out: list[dict[str, Any]] = []
    for name, items in groups.items():
        cost = sum(i.carried_cost for i in items)
        top = max(items, key=lambda i: (i.carried_cost, i.carried_tokens))
        priced = any(i.sends > i.unpriced_sends for i in items)
        out.append(
            {
                "name": name,
                "results": len(items),
                "sends": sum(i.sends for i in items),
                "carried_tokens": sum(i.carried_tokens for i in items),
                "carried_cost_usd": _r(cost) if priced else None,
                "cost_share": _share(cost, total_cost),
                "costliest": top.to_dict(acc.last_step.get(top.task_id, 0)),
            }
        )
    out.sort(
        key=lambda d: (
            -float(d["carried_cost_usd"] or 0.0),
            -int(d["carried_tokens"]),
            str(d["name"]),
        )
    )
    return out


def _ranked(acc: _Accumulator, roles: tuple[str, ...], top: int) -> list[dict[str, Any]]:
    items = [i for i in acc.items.values() if i.role in roles]
    items.sort(key=lambda i: (-i.carried_cost, -i.carried_tokens, i.task_id, i.first_step))
    return [i.to_dict(acc.last_step.get(i.task_id, 0)) for i in items[:top]]


def _usd(v: float | None) -> str:
    return "unknown" if v is None else f"${v:,.4f}"


def _findings(
    acc: _Accumulator, opts: AnatomyOptions, tools: list[dict[str, Any]], called: set[str] | None
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for t in tools:
        share = t["cost_share"]
        if share is not None and share > opts.tool_share:
            c = t["costliest"]
            out.append(
                {
                    "rule": "tool-results-cost",
                    "severity": "warning",
                    "tool": t["name"],
                    "at_stake_usd": t["carried_cost_usd"],
                    "message": (
                        f"{t['name']} results: {share:.0%} of input cost ({_usd(t['carried_cost_usd'])}"
                        f" over {t['results']:,} result{'s' if t['results'] != 1 else ''}); the costliest single one (task "
                        f"{c['task_id']}, step {c['first_step']}, {c['tokens']:,} tokens) was sent "
                        f"{c['sends']:,} times, {_usd(c['carried_cost_usd'])}"
                    ),
                }
            )
    often = [i for i in acc.items.values() if i.role == "tool" and i.sends > opts.max_sends]
    if often:
        worst = max(often, key=lambda i: (i.sends, i.carried_cost))
        cost = sum(i.carried_cost for i in often)
        out.append(
            {
                "rule": "resent-tool-results",
                "severity": "info",
                "tool": worst.name,
                "at_stake_usd": _r(cost),
                "message": (
                    f"{len(often):,} tool results were sent by more than {opts.max_sends} calls "
                    f"(carried cost {_usd(cost)}); the most: {worst.name or 'a tool'} result of task "
                    f"{worst.task_id} step {worst.first_step}, sent {worst.sends:,} times"
                ),
            }
        )
    out.extend(_tool_definition_findings(acc, opts, called))
    return out


def _tool_definition_findings(
    acc: _Accumulator, opts: AnatomyOptions, called: set[str] | None
) -> list[dict[str, Any]]:
    import statistics

    out: list[dict[str, Any]] = []
    every = len(acc.tools_share)  # calls that carry tool definitions
    unused = sorted(
        n for n, k in acc.offered.items() if k == every and called is not None and n not in called
    )
    cost = acc.total.cost["tools"]
    if acc.tools_share:
        med = statistics.median(acc.tools_share)
        if med >= opts.tools_share:
            out.append(
                {
                    "rule": "tool-definitions-share",
                    "severity": "info",
                    "tool": None,
                    "at_stake_usd": _r(cost),
                    "message": (
                        f"tool definitions are {med:.0%} of a typical call's input (median over "
                        f"{len(acc.tools_share):,} calls), {_usd(cost)} of input cost"
                    ),
                }
            )
    if unused:
        tok = sum(acc.defined[n] for n in unused)
        names = set(unused)
        carried = [i for i in acc.items.values() if i.role == "tools" and i.name in names]
        at_stake = sum(i.carried_cost for i in carried)
        priced = any(i.sends > i.unpriced_sends for i in carried)
        out.append(
            {
                "rule": "unused-tool-definitions",
                "severity": "info",
                "tool": None,
                "at_stake_usd": _r(at_stake) if priced else None,
                "unused_tools": unused,
                "message": (
                    f"{len(unused)} of {len(acc.defined)} tools offered on every call were never "
                    f"called in the trace ({tok:,} tokens per call, {_usd(at_stake if priced else None)}"
                    f" carried): {', '.join(unused[:8])}" + (" …" if len(unused) > 8 else "")
                ),
            }
        )
    return out


def _assumptions(acc: _Accumulator, calibration: list[str]) -> list[str]:
    n, m = acc.llm_calls, acc.total.calls
    out = [
        f"{m:,} of {n:,} llm calls have prompt segments ({acc.covered_tokens:,} of "
        f"{acc.input_tokens:,} input tokens); the others are left out of every figure."
    ]
    if m:
        out.append(
            "Each call's prompt is laid out in order: its first cache-read tokens "
            "were read, the next cache-write tokens written, the rest uncached; each "
            "class at the call's own rates, scaled to the call's input cost."
        )
        out.append(
            "Carried = a segment's tokens in every call that sends it (its first send "
            "included); staleness = the later calls that still send a tool result "
            "after the call that first read it (approximate: use is not visible)."
        )
    if acc.total.unpriced_calls:
        out.append(
            f"{acc.total.unpriced_calls:,} calls have no known price: their tokens are "
            "counted, their dollars are not (dollar figures are lower bounds)."
        )
    return out + calibration


def _task_rows(acc: _Accumulator, top: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for task, t in acc.tasks.items():
        cost = sum(t.cost.values())
        rows.append(
            {
                "task_id": task,
                "calls": t.calls,
                "input_tokens": sum(t.tokens.values()),
                "input_cost_usd": _r(cost) if t.calls > t.unpriced_calls else None,
                "by_role": t.rows(),
            }
        )
    rows.sort(
        key=lambda d: (
            -float(d["input_cost_usd"] or 0.0),
            -int(d["input_tokens"]),
            str(d["task_id"]),
        )
    )
    return rows[:top]


def _report(
    acc: _Accumulator, opts: AnatomyOptions, called: set[str] | None, notes: list[str]
) -> dict[str, Any]:
    tools = _by_tool(acc)
    from agentcost.ingest.conversation import NOTE_MARK

    calibration = [n for n in notes if NOTE_MARK in n]
    cost = sum(acc.total.cost.values())
    return {
        "task": opts.task,
        "llm_calls": acc.llm_calls,
        "calls_with_segments": acc.total.calls,
        "input_tokens": acc.input_tokens,
        "covered_input_tokens": acc.covered_tokens,
        "covered_input_cost_usd": _r(cost) if acc.total.calls > acc.total.unpriced_calls else None,
        "cost_is_lower_bound": bool(acc.total.unpriced_calls),
        "by_role": acc.total.rows(),
        "tools": tools[: opts.top],
        "tool_results": _ranked(acc, ("tool",), opts.top),
        "blocks": _ranked(acc, ("user", "system"), opts.top),
        "tasks": _task_rows(acc, opts.top),
        "findings": _findings(acc, opts, tools, called),
        "assumptions": _assumptions(acc, calibration),
    }
