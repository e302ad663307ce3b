"""Cache misses explained from usage and timing alone, for llm calls that carry no prompt
segments (every Claude Code log, Codex sessions, most OTel exports).

Without the prompt we cannot say *which* block changed, but the usage tells a lot. A call
leaves cache entries at the prefix lengths it read and wrote (Anthropic: its cache read, and its
read + write, the prefix through its last breakpoint; implicit caching: its whole prompt, in the
provider's reporting steps). Each call, in start-time order, is compared with the previous call
of its task, whose prompt an agent loop re-sends: the **expected read** is that call's longest
entry, capped by the call's own prompt. When the prompt shrank (history compacted or trimmed),
only the prefix every call of the task had read so far (tools and system) stays reusable. A call
misses when it reads less than expected, less the tolerance of the segment audit (3 %, at
least 32 tokens, at least the reporting granularity). The cause is the first that applies:

1. ``model-change`` — the previous call ran on another model (caches are per model);
2. ``ttl-expired`` — the gap since the previous call started exceeds the entry's lifetime (1 h
   when it wrote with the 1-hour TTL, else the model's default from the rules data);
3. ``concurrent`` — the call started before the previous call's response began (TTFT, else its
   end);
4. ``compaction`` — the prompt shrank and not even the shared prefix was read back;
5. ``prefix-rebuilt`` — same model, within the lifetime, the prompt did not shrink, yet the
   read stopped short: the prompt changed inside the expected prefix (at or after the point
   where the read stopped), or the entry was evicted; without the prompt the trace cannot tell
   which, and the finding says so.

A task's first call is not judged: without the prompt, nothing says which other task's prefix
it shares. Tokens lost = expected − read; dollars at the step's own prices (the written part at
the write price it paid, the rest at the uncached price, less the read price). Writes never
read: a write (entry at read + write) that no later call of the same task and model read up to,
within the tolerance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

TOL_SHARE = 0.03
TOL_MIN = 32
DEFAULT_TTL_S = 300


@dataclass
class UsageCall:
    """One llm call as the usage-based audit needs it."""

    task_id: str
    step: int
    model: str | None
    provider: str | None
    start: int  # ns since the epoch
    ready: int  # when its cache entries become visible (start + TTFT, else end, else start)
    inp: int
    read: int | None
    write: int | None
    w1h: int
    tier: str | None
    hour: str | None
    source: str | None
    line: int | None
    rule: Any = None
    model_key: str = ""  # normalised model id: caches are per model

    @property
    def implicit(self) -> bool:
        return self.rule is not None and self.rule.caches_implicitly and not self.write

    def ttl_s(self) -> tuple[int, str]:
        if self.w1h > 0:
            return 3600, "1h"
        opt = self.rule.default_ttl if self.rule is not None else None
        if opt is not None and opt.seconds:
            return int(opt.seconds), str(opt.ttl)
        return DEFAULT_TTL_S, "5m"

    def tolerance(self, expected: int) -> int:
        gran = (self.rule.granularity or 1) if self.rule is not None else 1
        return max(gran, TOL_MIN, int(TOL_SHARE * expected))


@dataclass
class Entry:
    extent: int  # prefix tokens
    model: str
    task_id: str
    step: int
    last_used: int  # ns: start of the last call that wrote or read it
    ready: int
    ttl_s: int
    ttl_name: str


@dataclass
class UsageMiss:
    call: UsageCall
    entry: Entry
    expected: int
    lost: int
    cause: str
    what: str


def usage_calls(llm: pd.DataFrame) -> list[UsageCall]:
    """The llm steps of ``llm`` (rows without segments) with a start time and input tokens,
    in start-time order."""
    import pandas as pd

    from agentcost.rules import normalize_model_id, rule_for

    out: list[UsageCall] = []
    rules: dict[tuple[str, str | None], Any] = {}
    for r in llm.itertuples(index=False):
        st, inp = r.started_at, r.input_tokens
        if st is None or pd.isna(st) or inp is None or pd.isna(inp):
            continue
        model = r.model if isinstance(r.model, str) else (
            r.response_model if isinstance(r.response_model, str) else None)
        provider = r.provider if isinstance(r.provider, str) else None
        start = int(st.value)
        en = r.ended_at
        ready = start + int(r.ttft_ms * 1e6) if not pd.isna(r.ttft_ms) else (
            int(en.value) if en is not None and not pd.isna(en) else start)
        key = (model or "", provider)
        if key not in rules:
            rules[key] = rule_for(model, provider) if model else None
        out.append(UsageCall(
            task_id=str(r.task_id), step=int(r.step),
            model=model, provider=provider,
            start=start, ready=ready, inp=int(inp),
            read=None if pd.isna(r.cache_read_tokens) else int(r.cache_read_tokens),
            write=None if pd.isna(r.cache_write_tokens) else int(r.cache_write_tokens),
            w1h=0 if pd.isna(r.cache_write_1h_tokens) else int(r.cache_write_1h_tokens),
            tier=r.service_tier if isinstance(r.service_tier, str) else None,
            hour=st.floor("h").isoformat(),
            source=r.source if isinstance(r.source, str) else None,
            line=None if pd.isna(r.line) else int(r.line), rule=rules[key],
            model_key=normalize_model_id(model) if model else ""))
    out.sort(key=lambda c: (c.start, c.task_id, c.step))
    return out


def _extents(c: UsageCall) -> list[int]:
    """Prefix lengths at which ``c`` leaves a cache entry."""
    if c.read is None:
        return []
    if c.implicit:
        gran = (c.rule.granularity or 1) if c.rule is not None else 1
        return [c.inp // gran * gran] if c.inp >= (c.rule.min_cacheable_tokens or 0) else []
    return sorted({x for x in (c.read, c.read + (c.write or 0)) if x > 0})


def _cause(c: UsageCall, e: Entry, shrank_from: int | None) -> tuple[str, str]:
    if c.model_key != e.model:
        return "model-change", f"model changed from {e.model} to {c.model_key}"
    gap = (c.start - e.last_used) / 1e9
    if gap > e.ttl_s:
        return "ttl-expired", (f"{gap:,.0f}s after step {e.step} last used the entry, longer "
                               f"than the {e.ttl_name} TTL ({e.ttl_s:,}s)")
    if c.start < e.ready:
        return "concurrent", (f"sent {(e.ready - c.start) / 1e9:.2f}s before the writer's "
                              f"response began (step {e.step})")
    if shrank_from is not None:
        return "compaction", (f"the prompt shrank from {shrank_from:,} to {c.inp:,} tokens "
                              "(history compacted or trimmed) and not even the prefix every "
                              "call of the task had read was read back")
    where = (f"between ~{c.read:,} and ~{e.extent:,} tokens" if c.read
             else f"within the first ~{e.extent:,} tokens")
    return "prefix-rebuilt", (f"step {e.step} cached ~{e.extent:,} tokens {gap:,.0f}s before "
                              f"(same model, within the TTL): the prompt changed {where}, or "
                              "the entry was evicted — the trace has no prompt content to tell "
                              "which")


def _entry(p: UsageCall, extent: int) -> Entry:
    ttl, name = p.ttl_s()
    return Entry(extent, p.model_key, p.task_id, p.step, p.start, p.ready, ttl, name)


def _judge(c: UsageCall, prev: UsageCall, floor: int | None) -> UsageMiss | None:
    """The miss of ``c`` against the previous call of its task, if it read too little."""
    ext = max(_extents(prev), default=0)
    if ext <= 0 or c.read is None:
        return None
    shrank_from = prev.inp if c.inp + c.tolerance(prev.inp) < prev.inp else None
    if shrank_from is not None:
        # history replaced: only the prefix every call of the task shared stays reusable
        if floor is None:
            return None
        ext = floor
    expected = min(ext, c.inp)
    if c.read + c.tolerance(expected) >= expected:
        return None
    e = _entry(prev, expected)
    cause, what = _cause(c, e, shrank_from)
    return UsageMiss(c, e, expected, expected - c.read, cause, what)


def find_usage_misses(calls: list[UsageCall]) -> tuple[list[UsageMiss], int, int]:
    """(misses, calls whose cache read is unknown, calls judged) over ``calls``
    (time-ordered). A call is judged when the previous call of its task left a cache entry."""
    prev: dict[str, UsageCall] = {}
    floor: dict[tuple[str, str], int] = {}  # (task, model) -> smallest prefix read so far
    misses: list[UsageMiss] = []
    unknown = judged = 0
    for c in calls:
        p = prev.get(c.task_id)
        if p is not None and c.read is None and _extents(p):
            unknown += 1
        elif p is not None and _extents(p):
            judged += 1
            m = _judge(c, p, floor.get((c.task_id, c.model_key)))
            if m is not None:
                misses.append(m)
        if c.read:
            key = (c.task_id, c.model_key)
            floor[key] = min(floor.get(key, c.read), c.read)
        prev[c.task_id] = c
    return misses, unknown, judged


def unread_writes(calls: list[UsageCall]) -> tuple[int, int]:
    """(tokens written to cache, of them never read up to by a later call of the task)."""
    best: dict[tuple[str, str], list[tuple[int, int]]] = {}  # -> [(start, read)]
    for c in calls:
        if c.read:
            best.setdefault((c.task_id, c.model_key), []).append((c.start, c.read))
    written = unread = 0
    for c in calls:
        w = c.write or 0
        if w <= 0:
            continue
        written += w
        x = (c.read or 0) + w
        tol = c.tolerance(x)
        later = best.get((c.task_id, c.model_key), [])
        if not any(s > c.start and rd + tol >= x for s, rd in later):
            unread += w
    return written, unread


def price_loss(pricer: Any, model: str | None, provider: str | None, tier: str | None,
               hour: str | None, lost: int, write: int | None, w1h: int | None) -> float | None:
    """Dollars lost by ``lost`` tokens not read from the cache: the part the call wrote at the
    write price it paid, the rest at the uncached price, less the read price."""
    if not model or pricer is None:
        return None
    rates = pricer.rates(model, provider, tier, hour)
    if rates is None:
        return None
    w = min(lost, write or 0)
    w1 = min(w, w1h or 0)
    w5 = w - w1
    u = lost - w
    usd = (w5 * (rates.cache_write_5m - rates.cache_read)
           + w1 * (rates.cache_write_1h - rates.cache_read)
           + u * (rates.uncached - rates.cache_read))
    return round(usd, 8) if math.isfinite(usd) else None
