"""The call records a Claude Code scan yields (:class:`Call`, :class:`Scan`) and their
per-call conversion, done once per call in the worker before the records leave it
(:func:`finish_calls`): canonical token counts (:func:`usage_fast`, else the general
:func:`agentcost.ingest.usage.anthropic` with its checks), integer times (:func:`ns`), shared
strings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agentcost.ingest import usage as U
from agentcost.steps import MAX_NS, MAX_TOKENS_PER_CALL, check_tokens, to_utc_ns

# copy ranks: which copy of a call wins
RANK_MAIN, RANK_SIDECHAIN, RANK_PROGRESS = 2, 1, 0
# the usage columns of a call record, in the order of its usage tuple
USAGE_COLS = ("service_tier", "input_tokens", "cache_read_tokens", "cache_write_tokens",
              "cache_write_5m_tokens", "cache_write_1h_tokens", "output_tokens",
              "reasoning_tokens")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_MINUTES: dict[str, int] = {}  # "YYYY-MM-DDTHH:MM" -> ns


def ns(ts: Any) -> int | None:
    """ISO timestamp → UTC ns (fast path for Claude Code's ``2026-02-12T16:02:25.227Z``)."""
    if type(ts) is not str:
        return None
    if len(ts) == 24 and ts[23] == "Z" and ts[19] == "." and ts[16] == ":":
        minute = ts[:16]
        base = _MINUTES.get(minute)
        if base is None:
            try:
                dt = datetime.fromisoformat(minute).replace(tzinfo=UTC)
            except ValueError:
                return to_utc_ns(ts)
            if len(_MINUTES) > 65536:
                _MINUTES.clear()
            base = _MINUTES[minute] = ((dt - _EPOCH) // _US) * 1000
        sec, ms = ts[17:19], ts[20:23]
        if (sec.isascii() and sec.isdigit() and ms.isascii() and ms.isdigit()
                and -MAX_NS <= base < MAX_NS):
            return base + int(sec) * 1_000_000_000 + int(ms) * 1_000_000
    return to_utc_ns(ts)


class Call:
    """One API response as seen in one file (all its lines merged). No content is kept."""

    __slots__ = ("key", "rank", "task", "session", "parent_task", "model", "request_id",
                 "message_id", "usage", "out", "line", "first_ts", "last_ts", "start_ts",
                 "stop", "tools", "nlines", "cost", "seq", "extras", "labels")

    def __init__(self, key: str, rank: int, task: str, session: str, parent_task: str | None,
                 seq: int) -> None:
        self.key = key
        self.rank = rank
        self.task = task
        self.session = session
        self.parent_task = parent_task
        self.seq = seq
        self.model: str | None = None
        self.request_id: str | None = None
        self.message_id: str | None = None
        self.usage: Any = None  # raw usage while scanning; USAGE_COLS values once finished
        self.out = -1
        self.line = 0
        self.first_ts: Any = None  # ISO strings while scanning, ns once finished
        self.last_ts: Any = None
        self.start_ts: Any = None
        self.stop: str | None = None
        # (tool_use id, name, input hash, started (ISO → ns), line)
        self.tools: list[tuple[str, str, str | None, Any, int]] = []
        self.nlines = 0
        self.cost: float | None = None
        # sampling iterations billed on top of the usage (server-side compaction), normalised
        self.extras: list[dict[str, Any]] | None = None
        self.labels: dict[str, str] | None = None  # git branch and project folder

    def __getstate__(self) -> tuple[Any, ...]:
        return tuple(getattr(self, s) for s in self.__slots__)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for s, v in zip(self.__slots__, state, strict=True):
            setattr(self, s, v)


class Scan:
    """What one file yields: call records, tool results, counts, malformed lines."""

    __slots__ = ("name", "lines", "first_ts", "last_ts", "calls", "results", "malformed",
                 "synthetic", "mirrored", "order", "untyped", "unread", "notes")

    def __init__(self, name: str, order: int) -> None:
        self.name = name
        self.order = order
        self.lines = 0
        self.first_ts: str | None = None  # earliest and latest line timestamps (ISO strings)
        self.last_ts: str | None = None
        self.calls: list[Call] = []
        self.results: dict[str, tuple[int | None, bool]] = {}  # tool_use_id -> (ended, is_error)
        self.malformed: list[tuple[int, str]] = []
        self.synthetic = 0
        self.mirrored = 0  # progress mirror lines skipped: their subagent file is read
        self.untyped = 0  # responses on lines without type/uuid (read as assistant lines)
        self.unread: dict[str, int] = {}  # usage keys not read -> calls
        self.notes: list[str] = []

    def __getstate__(self) -> tuple[Any, ...]:
        return tuple(getattr(self, s) for s in self.__slots__)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for s, v in zip(self.__slots__, state, strict=True):
            setattr(self, s, v)


def note_unusual(scan: Scan, call: Call, raw: dict[str, Any]) -> None:
    """Usage keys not read, and iterations billed on top of the usage, of one call."""
    unread = scan.unread
    for k in U.unread_fields(raw):
        unread[k] = unread.get(k, 0) + 1
    try:
        extras, why = U.extra_iterations(raw)
    except ValueError as exc:
        extras, why = [], f"usage.iterations: {exc}"
    for ex in extras:
        bad = check_tokens(ex, scan.name)
        if bad:
            extras, why = [], f"usage.iterations entry not counted: {bad}"
            break
    if why and why not in scan.notes:
        scan.notes.append(why)
    call.extras = extras or None


def finish_calls(scan: Scan) -> None:
    """The calls of ``scan`` made final, once per call while still in the worker: canonical
    tokens and integer times; the strings repeated from call to call (model, session, task,
    tool names, tier) shared, so that they are sent and kept once; a call whose usage does
    not convert dropped as a malformed line."""
    kept: list[Call] = []
    strs: dict[Any, Any] = {None: None}
    for call in scan.calls:
        raw = call.usage
        if type(raw) is dict and ("server_tool_use" in raw or "iterations" in raw
                                  or not raw.keys() <= U.UNDERSTOOD_KEYS):
            note_unusual(scan, call, raw)
        usage = usage_fast(raw)
        if usage is None:  # anything unusual: the general conversion and checks
            try:
                u = U.anthropic(call.usage)
            except ValueError as exc:
                scan.malformed.append((call.line, str(exc)))
                continue
            reason = check_tokens(u, scan.name)
            if reason:
                scan.malformed.append((call.line, reason))
                continue
            usage = tuple(u.get(k) for k in USAGE_COLS)
        tier = usage[0]
        if tier is not None:
            tier = strs.setdefault(tier, tier)
            usage = (tier, *usage[1:])
        call.usage = usage
        call.model = strs.setdefault(call.model, call.model)
        call.session = strs.setdefault(call.session, call.session)
        call.task = strs.setdefault(call.task, call.task)
        call.parent_task = strs.setdefault(call.parent_task, call.parent_task)
        first, last, start = ns(call.first_ts), ns(call.last_ts), ns(call.start_ts)
        if first is None:
            first = last
        if last is None:
            last = first
        if start is None or (first is not None and start > first):
            start = first
        call.first_ts, call.last_ts, call.start_ts = first, last, start
        call.tools = [(t[0], strs.setdefault(t[1], t[1]), t[2], ns(t[3]), t[4])
                      for t in call.tools]
        if call.cost is not None and (type(call.cost) not in (int, float)
                                      or call.cost < 0):
            call.cost = None
        kept.append(call)
    scan.calls = kept


def usage_fast(u: Any) -> tuple[Any, ...] | None:
    """:data:`USAGE_COLS` values of an Anthropic usage object in the shape Claude Code always
    writes (plain non-negative ints, an optional consistent 5m/1h split, no thinking-token
    details) — what :func:`agentcost.ingest.usage.anthropic` plus
    :func:`agentcost.steps.check_tokens` give, at a fraction of the cost; ``None`` for
    anything else (which then takes that general path, errors included)."""
    if type(u) is not dict or "output_tokens_details" in u:
        return None
    raw, cr, cw, out = (u.get("input_tokens"), u.get("cache_read_input_tokens", 0),
                        u.get("cache_creation_input_tokens", 0), u.get("output_tokens"))
    if type(raw) is not int or type(cr) is not int or type(cw) is not int \
            or type(out) is not int or raw < 0 or cr < 0 or cw < 0 or out < 0:
        return None
    inp = raw + cr + cw
    if inp > MAX_TOKENS_PER_CALL or out > MAX_TOKENS_PER_CALL:
        return None
    w5, w1 = cw, 0
    split = u.get("cache_creation")
    if type(split) is dict:
        s5, s1 = split.get("ephemeral_5m_input_tokens"), split.get("ephemeral_1h_input_tokens")
        if s5 is not None or s1 is not None:
            if (s5 is not None and type(s5) is not int) or (s1 is not None and type(s1) is not int):
                return None
            w5, w1 = s5 or 0, s1 or 0
            if w5 < 0 or w1 < 0 or w5 + w1 != cw:
                return None
    elif split is not None:
        return None
    if not cw:
        w5 = w1 = 0
    tier = u.get("service_tier")
    return (tier if type(tier) is str and tier else None, inp, cr, cw, w5, w1, out, None)
