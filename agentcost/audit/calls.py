"""The llm calls of a step table that carry ``segments``, prepared for the trace audit
(:mod:`agentcost.audit.traces`): each with its prefix-hash chain, cumulative token counts and
breakpoint positions, in start-time order.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from agentcost.table import StepTable


@dataclass
class Call:
    row: int
    task_id: str
    step: int
    model: str | None
    provider: str | None
    start: int | None
    end: int | None
    ttft_ms: float | None
    read: int | None
    write: int | None
    w1h: int | None
    segs: list[dict[str, Any]]
    source: str | None
    line: int | None
    tier: str | None
    hour: str | None
    chain: list[str] = field(default_factory=list)  # chain[j]: hash of the first j segments
    cum: list[int] = field(default_factory=list)  # cum[j]: tokens of the first j segments
    bps: list[int] = field(default_factory=list)  # 1-based positions with a breakpoint
    rule: Any = None
    texts: list[str | None] | None = None

    @property
    def n(self) -> int:
        return len(self.segs)

    def stable_len(self) -> int:
        k = 0
        while k < self.n and self.segs[k].get("role") in ("tools", "system"):
            k += 1
        return k

    def pos_of_tokens(self, tokens: int) -> int:
        """Segment position whose cumulative tokens are closest to ``tokens``."""
        best, best_d = 0, None
        for j, c in enumerate(self.cum):
            d = abs(c - tokens)
            if best_d is None or d < best_d:
                best, best_d = j, d
        return best


def norm_model(m: str | None) -> str:
    if not m:
        return ""
    from agentcost.rules import normalize_model_id

    return normalize_model_id(m)


def segment_calls(table: StepTable) -> tuple[list[Call], pd.DataFrame, int]:
    import pandas as pd

    from agentcost.rules import rule_for

    df = table.frame
    llm_all = df[df["kind"] == "llm"]
    has = llm_all["segments"].map(lambda s: isinstance(s, list) and len(s) > 0).astype(bool)
    llm = llm_all[has]
    out: list[Call] = []
    bare = llm_all[~has]

    def val(v: Any) -> Any:
        if v is None:
            return None
        try:
            if pd.isna(v):
                return None
        except (TypeError, ValueError):
            pass
        return v

    for idx, r in llm.iterrows():
        segs = r["segments"]
        st, en = val(r["started_at"]), val(r["ended_at"])
        model = val(r["model"]) or val(r["response_model"])
        hour = st.floor("h").isoformat() if st is not None else None
        c = Call(
            row=int(idx), task_id=str(r["task_id"]), step=int(r["step"]),
            model=None if model is None else str(model),
            provider=None if val(r["provider"]) is None else str(r["provider"]),
            start=None if st is None else int(st.value), end=None if en is None else int(en.value),
            ttft_ms=None if val(r["ttft_ms"]) is None else float(r["ttft_ms"]),
            read=None if val(r["cache_read_tokens"]) is None else int(r["cache_read_tokens"]),
            write=None if val(r["cache_write_tokens"]) is None else int(r["cache_write_tokens"]),
            w1h=None if val(r["cache_write_1h_tokens"]) is None else int(
                r["cache_write_1h_tokens"]),
            segs=segs, source=None if val(r["source"]) is None else str(r["source"]),
            line=None if val(r["line"]) is None else int(r["line"]),
            tier=None if val(r["service_tier"]) is None else str(r["service_tier"]), hour=hour)
        h = ""
        c.chain = [h]
        c.cum = [0]
        for j, s in enumerate(segs, 1):
            h = hashlib.sha1((h + "\x00" + str(s.get("hash"))).encode()).hexdigest()
            c.chain.append(h)
            c.cum.append(c.cum[-1] + int(s.get("tokens") or 0))
            if s.get("breakpoint"):
                c.bps.append(j)
        c.rule = rule_for(c.model, c.provider) if c.model else None
        out.append(c)
    big = 1 << 62
    out.sort(key=lambda c: (c.start if c.start is not None else big, c.task_id, c.step))
    return out, bare, len(llm_all)


def common_prefix(a: Call, b: Call, limit: int | None = None) -> int:
    """Number of leading segments a and b share (binary search on the prefix chains)."""
    hi = min(a.n, b.n) if limit is None else min(a.n, b.n, limit)
    lo = 0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a.chain[mid] == b.chain[mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def provider_of(c: Call) -> str:
    if c.rule is not None:
        return str(c.rule.provider)
    return (c.provider or "").lower()


def requested_extent(r: Call, flags_known: bool) -> int:
    """How far the reference's cache entries reach (segments)."""
    used = (r.read or 0) + (r.write or 0)
    if provider_of(r) == "anthropic" and r.bps:
        return r.bps[-1]
    if used > 0:
        return r.pos_of_tokens(used)
    if provider_of(r) == "anthropic" and flags_known:
        return 0  # no breakpoint: the call asked for no caching
    return r.n
