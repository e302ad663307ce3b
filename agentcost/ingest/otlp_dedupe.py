"""Each model call counted once: roll-ups and two instrumentations of one call, among the rows
the OTLP reader made of its spans (the rules: :mod:`agentcost.ingest.otlp`).

:func:`dedupe` groups the ``llm`` rows that are one call, in two passes over a union-find of
row indexes in which two rows of one instrumentation scope never join:

1. **Parent and child.** An llm span whose parent is an llm span of another instrumentation is
   that span's call; a parent with *several* such children is a framework roll-up of them and
   becomes an ``agent`` row without tokens (counted as :data:`ROLLUP_REASON` when it stated
   any).
2. **Overlap.** Rows bucketed by input tokens, each compared with at most
   :data:`MATCH_WINDOW` later-starting rows of its bucket: overlapping in time by at least
   half of the shorter span, output tokens within :data:`OUTPUT_SLACK`, equal cache figures
   where both state them, compatible models.

:func:`merge` then makes one row of each group (counted as :data:`DUP_REASON`): the most
informative row with its gaps filled from the others, the token counts of a provider SDK's
own span (:data:`WIRE_SCOPES`) where the members disagree, and the outermost span's identity
so the tree stays intact.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agentcost.ingest.base import IngestContext
from agentcost.ingest.otel_attrs import info_score

DUP_REASON = "otlp: same call from two instrumentations"
ROLLUP_REASON = "otlp: roll-up span tokens ignored"
# Two spans of one call may disagree on output tokens by this much (OpenLLMetry's Anthropic
# streaming spans count message_start's output token again).
OUTPUT_SLACK = 2
# Spans emitted by a provider SDK itself: their token counts are the response's own.
WIRE_SCOPES = frozenset({"com.anthropic.sdk.python"})
MATCH_WINDOW = 64

_TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
                 "cache_write_5m_tokens", "cache_write_1h_tokens", "reasoning_tokens")
_LLM_ONLY = ("provider", "model", "response_model", "ttft_ms", "stop_reason", "tool_calls",
             "service_tier", "reported_cost_usd", "segments")
_IDENTITY = ("task_id", "span_id", "parent_id", "name", "started_at", "ended_at", "line",
             "source", "session_id")

Note = Callable[[str], None]


class _Groups:
    """Union-find over llm row indexes; a group holds at most one row per scope."""

    __slots__ = ("parent", "scopes")

    def __init__(self, rows: list[dict[str, Any]], llm: list[int]) -> None:
        self.parent = {i: i for i in llm}
        self.scopes: dict[int, set[str]] = {i: {rows[i]["_scope"]} for i in llm}

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb or self.scopes[ra] & self.scopes[rb]:
            return False
        self.parent[rb] = ra
        self.scopes[ra] |= self.scopes[rb]
        return True


def dedupe(rows: list[dict[str, Any]], ctx: IngestContext, note: Note) -> list[bool]:
    """Which rows to keep; the first row of each group of one call is replaced, in place, by
    the group's merged row, and roll-up llm rows become agent rows."""
    keep = [True] * len(rows)
    llm = [i for i, r in enumerate(rows) if r["kind"] == "llm"]
    if len(llm) < 2:
        return keep
    groups = _Groups(rows, llm)
    rollups = _join_parent_child(rows, llm, groups, ctx, note)
    if rollups:
        llm = [i for i in llm if i not in rollups]
    _join_overlapping(rows, llm, groups)
    by_root: dict[int, list[int]] = {}
    for i in llm:
        by_root.setdefault(groups.find(i), []).append(i)
    for members in by_root.values():
        if len(members) < 2:
            continue
        first = min(members)
        rows[first] = merge([rows[i] for i in members], note)
        for i in members:
            if i != first:
                keep[i] = False
        ctx.dropped(DUP_REASON, len(members) - 1)
    return keep


def _join_parent_child(rows: list[dict[str, Any]], llm: list[int], groups: _Groups,
                       ctx: IngestContext, note: Note) -> set[int]:
    """Pass 1: an llm span whose parent is an llm span of another instrumentation. A parent
    with several llm children is a framework-level roll-up of them, not a duplicate: it is
    made an agent row (returned)."""
    by_id = {(rows[i]["task_id"], rows[i]["span_id"]): i for i in llm}
    children: dict[int, list[int]] = {}
    for i in llm:
        r = rows[i]
        p = r.get("parent_id")
        if p is None:
            continue
        j = by_id.get((r["task_id"], p))
        if j is not None and rows[j]["_scope"] != r["_scope"]:
            children.setdefault(j, []).append(i)
    rollups: set[int] = set()
    for j, kids in children.items():
        if len(kids) == 1:
            groups.union(j, kids[0])
            continue
        pr = rows[j]
        if pr.get("input_tokens") is not None or pr.get("output_tokens") is not None:
            ctx.dropped(ROLLUP_REASON)
        for k in (*_TOKEN_FIELDS, *_LLM_ONLY):
            pr.pop(k, None)
        pr["kind"] = "agent"
        pr["_usage"] = False
        rollups.add(j)
        note("otlp: llm spans wrapping several model calls of another "
             "instrumentation were kept as agent spans (roll-ups)")
    return rollups


def _join_overlapping(rows: list[dict[str, Any]], llm: list[int], groups: _Groups) -> None:
    """Pass 2: same input tokens (output within OUTPUT_SLACK), overlapping in time, compatible
    models and cache figures."""
    buckets: dict[int, list[int]] = {}
    for i in llm:
        r = rows[i]
        if r.get("input_tokens") is None or r.get("output_tokens") is None \
                or r.get("started_at") is None or r.get("ended_at") is None:
            continue
        buckets.setdefault(r["input_tokens"], []).append(i)
    for idx in buckets.values():
        if len(idx) < 2 or len({rows[i]["_scope"] for i in idx}) < 2:
            continue
        idx.sort(key=lambda i: rows[i]["started_at"])
        for a_pos, i in enumerate(idx):
            ri = rows[i]
            # at most MATCH_WINDOW candidates per row: bounded work even when thousands of
            # calls with equal token counts run at the same time
            for j in idx[a_pos + 1:a_pos + 1 + MATCH_WINDOW]:
                rj = rows[j]
                if rj["started_at"] > ri["ended_at"]:
                    break
                if _same_call(ri, rj, groups.scopes[groups.find(j)]):
                    groups.union(i, j)


def _same_call(ri: dict[str, Any], rj: dict[str, Any], group_scopes: set[str]) -> bool:
    """Whether ``rj`` (whose group holds ``group_scopes``) is ``ri``'s call as recorded by
    another instrumentation."""
    return not (ri["_scope"] == rj["_scope"] or ri["_scope"] in group_scopes
                or not _overlap(ri, rj)
                or abs(ri["output_tokens"] - rj["output_tokens"]) > OUTPUT_SLACK
                or not _same_if_known(ri, rj, "cache_read_tokens")
                or not _same_if_known(ri, rj, "cache_write_tokens")
                or not _models_compatible(ri, rj))


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    s = max(a["started_at"], b["started_at"])
    e = min(a["ended_at"], b["ended_at"])
    shorter = min(a["ended_at"] - a["started_at"], b["ended_at"] - b["started_at"])
    return bool(e - s >= 0.5 * max(shorter, 0))


def _models(r: dict[str, Any]) -> set[str]:
    return {m.lower() for m in (r.get("model"), r.get("response_model")) if isinstance(m, str)}


def _models_compatible(a: dict[str, Any], b: dict[str, Any]) -> bool:
    ma, mb = _models(a), _models(b)
    if not ma or not mb or ma & mb:
        return True
    return any(x.startswith(y) or y.startswith(x) for x in ma for y in mb)


def _same_if_known(a: dict[str, Any], b: dict[str, Any], key: str) -> bool:
    va, vb = a.get(key), b.get(key)
    return va is None or vb is None or va == vb


# ---------------------------------------------------------------------------------------------
# one row of a group


def merge(group: list[dict[str, Any]], note: Note) -> dict[str, Any]:
    """One row from the rows of one call: the most informative one, its gaps filled from the
    others; ids and times from the outermost span. Where the token counts disagree, those of
    a provider SDK's own span (closest to the wire) win."""
    ranked = sorted(group, key=lambda r: (info_score(r), r["_scope"] in WIRE_SCOPES),
                    reverse=True)
    primary = ranked[0]
    out = dict(primary)
    tok_src = _token_source(ranked, primary, note)
    for k in _TOKEN_FIELDS:
        out[k] = tok_src.get(k)
    out["cost_source"] = tok_src.get("cost_source")
    out["_split"] = tok_src.get("_split", False)
    _fill_cache_figures(out, ranked, tok_src)
    for r in ranked[1:]:
        for k, v in r.items():
            if k in _TOKEN_FIELDS or k.startswith("_") or k in _IDENTITY or k == "cost_source":
                continue
            if out.get(k) is None and v is not None:
                out[k] = v
    _outer_identity(out, group, primary)
    out["is_error"] = any(bool(r.get("is_error")) for r in group)
    return out


def _token_source(ranked: list[dict[str, Any]], primary: dict[str, Any],
                  note: Note) -> dict[str, Any]:
    """The member whose token counts the merged row takes: reported counts over estimated
    ones (ranking kept otherwise), a provider SDK's own span where the members disagree (the
    disagreement noted)."""
    with_tokens = [r for r in ranked if r.get("input_tokens") is not None]
    # reported counts win over counts estimated from content (stable: ranking kept otherwise)
    with_tokens.sort(key=lambda r: r.get("cost_source") == "estimated")
    tok_src = with_tokens[0] if with_tokens else primary
    if len({(r.get("input_tokens"), r.get("output_tokens")) for r in with_tokens}) > 1:
        wire = next((r for r in with_tokens if r["_scope"] in WIRE_SCOPES), None)
        if wire is not None:
            tok_src = wire
        for r in with_tokens:
            if r is not tok_src and r.get("output_tokens") != tok_src.get("output_tokens"):
                d = (r.get("output_tokens") or 0) - (tok_src.get("output_tokens") or 0)
                note(f"otlp: {r['_scope'] or 'a span'}{' ' + r['_ver'] if r.get('_ver') else ''}"
                     f" reported {d:+d} output token(s) against {tok_src['_scope']} for the "
                     f"same call; {tok_src['_scope']}'s counts were kept")
    return tok_src


def _fill_cache_figures(out: dict[str, Any], ranked: list[dict[str, Any]],
                        tok_src: dict[str, Any]) -> None:
    """Cache and reasoning figures, and the 5m/1h split, from members that agree with the
    token source on input tokens."""
    for r in ranked:
        if r is tok_src or r.get("input_tokens") != tok_src.get("input_tokens"):
            continue
        for k in ("cache_read_tokens", "cache_write_tokens", "reasoning_tokens"):
            if out.get(k) is None and r.get(k) is not None:
                out[k] = r[k]
        if not out["_split"] and r.get("_split") and r.get("cache_write_tokens") == \
                out.get("cache_write_tokens"):
            out["cache_write_5m_tokens"] = r["cache_write_5m_tokens"]
            out["cache_write_1h_tokens"] = r["cache_write_1h_tokens"]
            out["_split"] = True


def _outer_identity(out: dict[str, Any], group: list[dict[str, Any]],
                    primary: dict[str, Any]) -> None:
    """Identity from the outermost span (a member that is not the child of another member);
    a session stated by any member."""
    ids = {r["span_id"] for r in group}
    outer = next((r for r in group if r.get("parent_id") not in ids and any(
        m.get("parent_id") == r["span_id"] for m in group)), primary)
    for k in _IDENTITY:
        if outer.get(k) is not None or k != "session_id":
            out[k] = outer.get(k)
    if out.get("session_id") is None:
        out["session_id"] = next((r["session_id"] for r in group if r.get("session_id")), None)
