"""Why did each call miss the cache? The trace audit (``audit-prompt TRACES``,
``analyze --explain-misses``).

Input: the step table's llm steps that carry ``segments`` (one ``{role, tokens, hash,
breakpoint}`` per tool definition, system block and message, DESIGN.md §2). Calls are taken in
start-time order; each is compared with its **reference**:

* the previous call of the same task — the agent loop re-sends that call's prompt, so the prefix
  the previous call cached (up to its last breakpoint; for implicit caching, its whole prompt;
  without breakpoint marks, as far as its cache reads + writes reached) should be read back;
* for a task's first call, the earlier call of another task sharing the longest prefix (or,
  when none shares the first block, the latest one whose tools/system blocks overlap): only the
  shared stable region (tools + system) is expected to be reusable, and on Anthropic only up to
  a breakpoint the other call wrote there.

A call **misses** when its cache read is below that reusable prefix (less a tolerance: 3 %, at
least 32 tokens, at least the provider's reporting granularity, 128 for OpenAI before GPT-5.6).
The cause is the first that applies:

1. ``model-change`` — another model (caches are per model);
2. the first differing block inside the reusable prefix: ``tools-change`` (or ``unstable-order``
   when the same tools come in another order, or the same JSON with other key order),
   ``system-edit``, ``history-edit`` (an earlier message changed); when the request text is
   available (agentcost JSONL ``request`` bodies, raw request logs) the change is classified by
   the static rules — ``timestamp``, ``volatile-id``, ``user-content``, ``whitespace-drift`` —
   and reported with its offset and before/after excerpts;
3. ``below-minimum`` — the reusable prefix is below the model's minimum cacheable length;
4. ``concurrent`` — sent before the reference's response began (its start + TTFT; without a
   TTFT, before it ended);
5. ``ttl-expired`` — the gap since the reference started exceeds the TTL (1 h if it wrote 1h
   entries, else the model's default lifetime from the rules data);
6. ``breakpoint-moved`` — Anthropic: none of the call's breakpoints is within the lookback
   window (20 blocks) of the entry;
7. ``unexplained`` — none of the above (eviction, routing, another workspace).

Tokens lost = reusable − read; dollars lost = those tokens at the price actually paid (cache
write or uncached input) minus the cache-read price, with the step's model prices (genai-prices
via :class:`agentcost.pricing.Pricer`). Segment token counts are the readers' per-block
estimates scaled to the call's input, so positions and losses are approximate to a few tokens.

The summary also says how many of the tokens written to the cache were never read by a later
call (same model, same prefix, a read reaching that far).

The calls are prepared in :mod:`agentcost.audit.calls`, their request texts read back in
:mod:`agentcost.audit.request_texts`; calls without segments are judged in
:mod:`agentcost.audit.usage_misses`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentcost.audit.calls import (
    Call,
    common_prefix,
    norm_model,
    provider_of,
    requested_extent,
    segment_calls,
)
from agentcost.audit.findings import Finding
from agentcost.audit.request_texts import attach_texts, clip
from agentcost.audit.usage_misses import (
    TOL_MIN,
    TOL_SHARE,
    UsageMiss,
    find_usage_misses,
    price_loss,
    unread_writes,
    usage_calls,
)

if TYPE_CHECKING:
    from agentcost.config import Config
    from agentcost.table import StepTable

EXCERPT = 40


@dataclass
class MissReport:
    findings: list[Finding]
    summary: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"findings": [f.to_dict() for f in self.findings], "summary": self.summary}


# ---------------------------------------------------------------------------- causes


def _ttl_seconds(r: Call) -> tuple[int | None, str]:
    if (r.w1h or 0) > 0:
        return 3600, "1h"
    if r.rule is not None:
        opt = r.rule.default_ttl
        if opt is not None and opt.seconds:
            return int(opt.seconds), str(opt.ttl)
    return None, "?"


def _tools_change(k: Call, r: Call) -> tuple[str, str]:
    tk = [s.get("hash") for s in k.segs if s.get("role") == "tools"]
    tr = [s.get("hash") for s in r.segs if s.get("role") == "tools"]
    if tk != tr and sorted(map(str, tk)) == sorted(map(str, tr)):
        return "unstable-order", f"the same {len(tk)} tool definitions in another order"
    ck, cr = Counter(map(str, tk)), Counter(map(str, tr))
    added, removed = sum((ck - cr).values()), sum((cr - ck).values())
    parts = []
    if added and removed and len(tk) == len(tr):
        parts.append(f"{added} tool definition(s) edited")
    else:
        if added:
            parts.append(f"{added} tool(s) added or edited")
        if removed:
            parts.append(f"{removed} tool(s) removed or edited")
    return "tools-change", "tool definitions changed: " + (", ".join(parts) or "reordered")


def _classify_diff(k: Call, r: Call, d: int) -> tuple[str, str, dict[str, Any]]:
    """Cause, description and position details of the first differing block ``d`` (0-based)."""
    from agentcost.audit.static import change_rule

    seg = k.segs[d] if d < k.n else {}
    rseg = r.segs[d] if d < r.n else {}
    role = str(seg.get("role") or rseg.get("role") or "?")
    rrole = str(rseg.get("role") or "")
    pos: dict[str, Any] = {"block": d + 1, "role": role, "token_offset": k.cum[min(d, k.n)],
                           "offset": None, "before": None, "after": None}
    old = r.texts[d] if r.texts is not None and d < r.n else None
    new = k.texts[d] if k.texts is not None and d < k.n else None
    rule: str | None = None
    if old is not None and new is not None:
        rule, off = change_rule(old, new)
        pos["offset"] = off
        pos["before"] = clip(old[max(0, off - EXCERPT): off + EXCERPT])
        pos["after"] = clip(new[max(0, off - EXCERPT): off + EXCERPT])
        if rule is None and "tools" in (role, rrole):
            try:
                if json.dumps(json.loads(old), sort_keys=True) == json.dumps(json.loads(new),
                                                                              sort_keys=True):
                    rule = "unstable-order"
            except (ValueError, RecursionError):
                pass
    if "tools" in (role, rrole):
        cause, what = _tools_change(k, r)
        if rule is not None and cause == "tools-change":
            cause = rule
            what = f"a tool definition changed ({rule})"
        return cause, what, pos
    where = "the system prompt" if "system" in (role, rrole) else f"an earlier {role} message"
    if rule is not None:
        return rule, f"{where} changed at block {d + 1} ({rule})", pos
    if "system" in (role, rrole):
        return "system-edit", f"the system prompt changed at block {d + 1}", pos
    return "history-edit", f"an earlier message changed at block {d + 1} ({role})", pos


@dataclass
class _State:
    flags_known: bool
    last_by_task: dict[str, Call] = field(default_factory=dict)
    by_first: dict[str, list[Call]] = field(default_factory=dict)
    recent: list[Call] = field(default_factory=list)


def _reference(k: Call, st: _State) -> tuple[Call | None, str]:
    prev = st.last_by_task.get(k.task_id)
    if prev is not None:
        return prev, "task"
    best: Call | None = None
    best_common = 0
    mk = norm_model(k.model)
    for c in reversed(st.by_first.get(k.chain[1], [])[-200:]):
        if c.task_id == k.task_id or norm_model(c.model) != mk:
            continue  # caches are per model: another model's call is no reference
        cm = common_prefix(k, c)
        if cm > best_common:
            best, best_common = c, cm
    if best is not None:
        return best, "shared-prefix"
    mine = {str(s.get("hash")) for s in k.segs[: k.stable_len()]}
    if not mine:
        return None, ""
    for c in reversed(st.recent[-50:]):
        if c.task_id == k.task_id or norm_model(c.model) != mk:
            continue
        theirs = {str(s.get("hash")) for s in c.segs[: c.stable_len()]}
        if mine & theirs:
            return c, "shared-prefix"
    return None, ""


def _price_loss(k: Call, lost: int, pricer: Any) -> float | None:
    return price_loss(pricer, k.model, k.provider, k.tier, k.hour, lost, k.write, k.w1h)


@dataclass
class _Tally:
    """Findings and their roll-ups by cause and by task."""

    findings: list[Finding] = field(default_factory=list)
    per_cause: dict[str, dict[str, Any]] = field(default_factory=dict)
    per_task: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, cause: str, task_id: str, lost: int, usd: float | None,
            finding: Finding) -> None:
        self.findings.append(finding)
        pc = self.per_cause.setdefault(cause, {"cause": cause, "calls": 0, "lost_tokens": 0,
                                               "lost_usd": 0.0})
        pc["calls"] += 1
        pc["lost_tokens"] += lost
        pc["lost_usd"] += usd or 0.0
        pt = self.per_task.setdefault(task_id, {"task_id": task_id, "misses": 0,
                                                "lost_tokens": 0, "lost_usd": 0.0,
                                                "causes": {}})
        pt["misses"] += 1
        pt["lost_tokens"] += lost
        pt["lost_usd"] += usd or 0.0
        pt["causes"][cause] = pt["causes"].get(cause, 0) + lost


def _usage_findings(misses: list[UsageMiss], pricer: Any, tally: _Tally) -> None:
    """Findings for the misses explained from usage and timing (calls without segments)."""
    from agentcost.audit.findings import RULES

    for m in misses:
        c = m.call
        usd = price_loss(pricer, c.model, c.provider, c.tier, c.hour, m.lost, c.write, c.w1h)
        usd_s = f" (${usd:,.4f})" if usd is not None else ""
        miss = {"reference": {"task_id": m.entry.task_id, "step": m.entry.step,
                              "scope": "task-usage"},
                "expected_read_tokens": m.expected, "cache_read_tokens": c.read,
                "cache_write_tokens": c.write, "lost_tokens": m.lost, "lost_usd": usd,
                "block": None, "role": None, "token_offset": c.read, "offset": None,
                "before": None, "after": None}
        tally.add(m.cause, c.task_id, m.lost, usd, Finding(
            rule=m.cause, severity="warning",
            message=(f"task {c.task_id} step {c.step}: read {c.read:,} of ~{m.expected:,} "
                     f"cached prefix tokens (vs step {m.entry.step}) — {m.what}; "
                     f"~{m.lost:,} tokens lost{usd_s}"),
            file=c.source, line=c.line, column=None, excerpt=None,
            fix=RULES[m.cause].help, task_id=c.task_id, step=c.step, miss=miss))


# ------------------------------------------------------------------------------- main


def explain_misses(table: StepTable, config: Config | None = None,
                   with_text: bool = True) -> MissReport:
    """Explain every cache miss of the trace (see the module docstring); calls without
    segments are explained from usage and timing (:mod:`agentcost.audit.usage_misses`)."""
    from agentcost.pricing import Pricer

    calls, bare, n_llm = segment_calls(table)
    texts = attach_texts(calls) if with_text and calls else 0
    pricer = Pricer(config)
    tally = _Tally()
    unknown_reads = _segment_misses(calls, pricer, tally)
    ucalls = usage_calls(bare)
    umisses, u_unknown, u_judged = find_usage_misses(ucalls)
    _usage_findings(umisses, pricer, tally)
    written, unread = _unread_writes(calls)
    u_written, u_unread = unread_writes(ucalls)
    summary = _summary(calls, len(bare), n_llm, texts, unknown_reads + u_unknown, tally,
                       written + u_written, unread + u_unread, usage_judged=u_judged,
                       writes_known=_writes_known(table))
    return MissReport(findings=tally.findings, summary=summary)


def _writes_known(table: StepTable) -> bool:
    """Whether any llm step reports its cache writes (implicit caching reports none)."""
    df = table.frame
    llm = df["kind"] == "llm"
    return bool(llm.any()) and bool(df.loc[llm, "cache_write_tokens"].notna().any())


def _expected_blocks(k: Call, r: Call, scope: str, st: _State) -> int:
    """How many of ``k``'s blocks the reference ``r`` left reusable in the cache."""
    ext = requested_extent(r, st.flags_known)
    if scope == "task":
        return min(ext, k.n)
    shared = min(r.stable_len(), k.stable_len())
    if provider_of(r) != "anthropic":
        return min(ext, shared)
    # entries exist only where the other call wrote or read (its breakpoints)
    marks = r.bps if st.flags_known else [
        r.pos_of_tokens(r.read or 0), r.pos_of_tokens((r.read or 0) + (r.write or 0))]
    inside = [b for b in marks if 0 < b <= shared]
    return max(inside) if inside else 0


def _segment_misses(calls: list[Call], pricer: Any, tally: _Tally) -> int:
    """Judge every call with segments against its reference; returns the number of calls
    whose cache read is unknown."""
    st = _State(flags_known=any(c.bps for c in calls))
    unknown_reads = 0
    for k in calls:
        r, scope = _reference(k, st)
        try:
            if r is None:
                continue
            m = _expected_blocks(k, r, scope, st)
            if (provider_of(k) == "anthropic" and st.flags_known and not k.bps) or m <= 0:
                continue  # this call asked for no caching, or nothing was reusable
            expected = k.cum[m]
            if k.read is None:
                unknown_reads += 1
                continue
            gran = (k.rule.granularity or 1) if k.rule is not None else 1
            if k.read + max(gran, TOL_MIN, int(TOL_SHARE * expected)) >= expected:
                continue
            _segment_finding(k, r, scope, m, expected, pricer, tally)
        finally:
            st.last_by_task[k.task_id] = k
            if k.n:
                st.by_first.setdefault(k.chain[1], []).append(k)
            st.recent.append(k)
    return unknown_reads


def _segment_finding(k: Call, r: Call, scope: str, m: int, expected: int, pricer: Any,
                     tally: _Tally) -> None:
    from agentcost.audit.findings import RULES

    assert k.read is not None
    lost = expected - k.read
    cause, what, pos = _explain(k, r, m, expected)
    usd = _price_loss(k, lost, pricer)
    miss = {
        "reference": {"task_id": r.task_id, "step": r.step, "scope": scope},
        "expected_read_tokens": expected, "cache_read_tokens": k.read,
        "cache_write_tokens": k.write, "lost_tokens": lost, "lost_usd": usd,
        **pos,
    }
    usd_s = f" (${usd:,.4f})" if usd is not None else ""
    ref = (f"step {r.step}" if scope == "task" else f"task {r.task_id} step {r.step}")
    exc = f"{pos['before']} → {pos['after']}" if pos.get("after") is not None else None
    tally.add(cause, k.task_id, lost, usd, Finding(
        rule=cause, severity="info" if cause == "unexplained" else "warning",
        message=(f"task {k.task_id} step {k.step}: read {k.read:,} of ~{expected:,} "
                 f"reusable prefix tokens (vs {ref}) — {what}; ~{lost:,} tokens "
                 f"lost{usd_s}"),
        file=k.source, line=k.line, column=None, excerpt=exc,
        fix=RULES[cause].help, task_id=k.task_id, step=k.step, miss=miss))


def _explain(k: Call, r: Call, m: int, expected: int) -> tuple[str, str, dict[str, Any]]:
    pos: dict[str, Any] = {"block": None, "role": None, "token_offset": None, "offset": None,
                           "before": None, "after": None}
    if norm_model(k.model) != norm_model(r.model):
        pos.update(block=1, role=k.segs[0].get("role"), token_offset=0)
        return "model-change", f"model changed from {r.model} to {k.model}", pos
    common = common_prefix(k, r, m)
    if common < m:
        return _classify_diff(k, r, common)
    pos.update(block=m, role=k.segs[m - 1].get("role"), token_offset=expected)
    minimum = k.rule.min_cacheable_tokens if k.rule is not None else None
    if minimum and expected < minimum:
        return ("below-minimum",
                f"the reusable prefix (~{expected:,} tokens) is below the minimum cacheable "
                f"length of {k.rule.model} ({minimum:,})", pos)
    if k.start is not None and r.start is not None:
        ready: int | None
        if r.ttft_ms is not None:
            ready, how = r.start + int(r.ttft_ms * 1e6), "its first token"
        else:
            ready, how = r.end, "its end (no TTFT in the trace)"
        if ready is not None and k.start < ready:
            gap = (ready - k.start) / 1e9
            return ("concurrent", f"sent {gap:.2f}s before the writer's response began "
                                  f"(step {r.step}, {how})", pos)
        ttl, ttl_name = _ttl_seconds(r)
        gap_s = (k.start - r.start) / 1e9
        if ttl is not None and gap_s > ttl:
            return ("ttl-expired", f"{gap_s:,.0f}s after step {r.step} started, longer than "
                                   f"the {ttl_name} TTL ({ttl:,}s)", pos)
    lookback = k.rule.lookback_blocks if k.rule is not None else None
    if provider_of(k) == "anthropic" and lookback and k.bps:
        entries = [e for e in (*r.bps, requested_extent(r, True)) if 0 < e <= m]
        if entries and not any(b - lookback < e <= b for b in k.bps for e in entries):
            e = max(entries)
            b = min((b for b in k.bps if b >= e), default=k.bps[-1])
            pos.update(block=e)
            return ("breakpoint-moved", f"the breakpoint moved from block {e} to block {b}, "
                                        f"beyond the {lookback}-block lookback", pos)
    return ("unexplained", "the prefix was identical, within the TTL and above the minimum, "
                           "but was not served from the cache", pos)


def _unread_writes(calls: list[Call]) -> tuple[int, int]:
    """(tokens written to cache, of them never read by a later call)."""
    best_read: dict[tuple[str, str], int] = {}  # (model, chain at read position) -> latest start
    reads: list[tuple[Call, int]] = []
    for c in calls:
        if c.read and c.read > 0:
            q = c.pos_of_tokens(c.read)
            reads.append((c, q))
    order = {id(c): i for i, c in enumerate(calls)}
    for c, q in reads:
        mdl = norm_model(c.model)
        for p in range(1, q + 1):
            key = (mdl, c.chain[p])
            best_read[key] = max(best_read.get(key, -1), order[id(c)])
    written = unread = 0
    for c in calls:
        w = c.write or 0
        if w <= 0:
            continue
        written += w
        e = c.pos_of_tokens((c.read or 0) + w)
        if e <= 0 or best_read.get((norm_model(c.model), c.chain[e]), -1) <= order[id(c)]:
            unread += w
    return written, unread


def _summary(calls: list[Call], without: int, n_llm: int, texts: int, unknown_reads: int,
             tally: _Tally, written: int, unread: int, usage_judged: int,
             writes_known: bool = True) -> dict[str, Any]:
    causes = sorted(tally.per_cause.values(), key=lambda d: (-d["lost_tokens"], d["cause"]))
    lost = sum(d["lost_tokens"] for d in causes)
    lost_usd = sum(d["lost_usd"] for d in causes)
    for d in causes:
        d["share"] = round(d["lost_tokens"] / lost, 4) if lost else None
        d["lost_usd"] = round(d["lost_usd"], 8)
    tasks = sorted(tally.per_task.values(), key=lambda d: (-d["lost_tokens"], d["task_id"]))
    for t in tasks:
        t["lost_usd"] = round(t["lost_usd"], 8)
        t["causes"] = dict(sorted(t["causes"].items(), key=lambda kv: -kv[1]))
    share = unread / written if written else None
    misses = sum(d["calls"] for d in causes)
    if not calls and not usage_judged:
        sentence = ("no llm call carries segments or request bodies, and none follows a call "
                    "of its task that left a cache entry: no cache miss to explain"
                    if without else "no llm call: no cache miss to explain")
    else:
        parts = []
        if share is not None:
            parts.append(f"{share:.0%} of the tokens written to cache were never read")
        if misses:
            n = len(causes)
            top = ", ".join(f"{d['cause']} {d['share']:.0%}" for d in causes[:3])
            parts.append(f"{misses} call(s) missed the cache, losing ~{lost:,} tokens "
                         f"(${lost_usd:,.4f}); {n} cause{'s account' if n != 1 else ' accounts'} "
                         f"for it ({top})")
        else:
            parts.append("no call read less than its reusable prefix")
        if usage_judged:
            parts.append(f"{usage_judged:,} call(s) without segments judged from usage and "
                         "timing (which block changed is unknown)")
        sentence = "; ".join(parts)
    if not writes_known:
        written_v: int | None = None
        unread_v: int | None = None
    else:
        written_v, unread_v = written, unread
    return {
        "llm_calls": n_llm,
        "calls_with_segments": len(calls),
        "calls_without_segments": without,
        "calls_with_text": texts,
        "calls_cache_read_unknown": unknown_reads,
        "misses": misses,
        "lost_tokens": lost,
        "lost_usd": round(lost_usd, 8),
        "cache_write_tokens": written_v,
        "unread_cache_write_tokens": unread_v,
        "unread_write_share": round(share, 4) if share is not None and writes_known else None,
        "calls_judged_from_usage": usage_judged,
        "causes": causes,
        "tasks": tasks,
        "sentence": sentence,
    }
