"""Prompt-cache replay: one pass over every simulated call in time order.

Provider semantics (``provider-rules.md`` §A, §B; mechanics per model from
``agentcost/data/cache_rules.yaml`` via :func:`agentcost.rules.rule_for`):

Anthropic (explicit breakpoints and automatic caching)
    * An entry is written only at a breakpoint: the exact prefix through that block, keyed by
      workspace, model and prefix. One entry per breakpoint, none at other positions.
    * Lookup: from each breakpoint (highest first) walk back one block at a time, at most
      ``lookback_blocks`` (20) positions counting the breakpoint itself; the highest hit over all
      breakpoints is the read (``A``). Writes are the tokens from ``A`` to the last breakpoint,
      billed at the TTL's multiplier (5m 1.25x, 1h 2x — from the price data).
    * Nothing is cached below the model's minimum cacheable length: a request shorter than it is
      processed uncached; a breakpoint whose prefix is shorter writes nothing.
    * Lifetime: from the *start* of the writing or reading request; a hit refreshes it.
    * Visibility: an entry serves only requests that start after the writer's response began
      (its TTFT, or its end when TTFT is unknown) — parallel requests do not hit each other.
    * Caches are per model (a model switch is a full miss) and shared across the tasks of one
      workspace (a system prompt shared by many conversations is read by all of them).
OpenAI GPT-5.6 and later (implicit + explicit, write charge, exact counts)
    * Implicit mode (``auto``/``observed``): one write at the end of the latest eligible message
      (user messages, the last tool result of a group, the end of the system block); lookup tries
      it and up to 20 earlier eligible message endings, longest first. Explicit mode (``stable``,
      ``stable+last``): writes and lookups only at the explicit breakpoints. Writes from the hit
      to the last write point, billed 1.25x; reads exact; nothing below 1,024 tokens.
OpenAI before GPT-5.6, Gemini, DeepSeek (implicit only)
    * Every block boundary of a request of at least the minimum is cached; a later request reads
      its longest cached prefix, counted in 128-token steps where the provider rounds
      (``granularity``). There is no write charge and no write count is reported. Explicit
      placement (``stable``) is not available: any strategy other than ``off`` means implicit.

``--range`` pessimistic: a share of would-be hits is lost to eviction under load (the entry is
dropped and rewritten), batched calls keep only 30 % of their hits (Anthropic: batch hits are
best-effort, typically 30-98 %), OpenAI retention at its low end; optimistic: OpenAI retention at
its stated maximum.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from agentcost.simulation.workload import (
    R_STABLE,
    R_SYSTEM,
    R_TOOL,
    R_TOOLS,
    R_TURN,
    R_USER,
    Ints,
)

if TYPE_CHECKING:
    import numpy as np

FOREVER_NS = 2**62
ANTHROPIC_MIN_FALLBACK = 1024


@dataclass(frozen=True)
class Mechanics:
    """How one model caches, as the replay needs it."""

    model: str
    provider: str
    kind: str  # anthropic | openai_explicit | implicit | none
    min_tokens: int
    lookback: int
    max_breakpoints: int
    granularity: int
    write_charged: bool
    ttls: tuple[tuple[str, float | None, float | None], ...]  # (name, seconds, max_seconds)
    default_ttl: str | None
    notes: tuple[str, ...] = ()

    def ttl_seconds(self, name: str | None, variant: str) -> tuple[str | None, float | None]:
        """(ttl actually used, seconds; None = no expiry stated) for a requested TTL name."""
        chosen = None
        for t in self.ttls:
            if name is not None and t[0].lower() == name.lower():
                chosen = t
        if chosen is None:
            for t in self.ttls:
                if t[0] == self.default_ttl:
                    chosen = t
        if chosen is None:
            return None, None
        secs, mx = chosen[1], chosen[2]
        if variant == "optimistic" and mx is not None:
            secs = mx
        return chosen[0], secs


@lru_cache(maxsize=1024)
def _mechanics(model: str, provider: str | None, overrides_key: tuple[Any, ...]) -> Mechanics:
    from agentcost.rules import rule_for

    rule = rule_for(model, provider)
    ov = dict(overrides_key)
    if rule is None:
        return Mechanics(model=model, provider=provider or "", kind="none", min_tokens=0,
                         lookback=0, max_breakpoints=0, granularity=1, write_charged=False,
                         ttls=(), default_ttl=None,
                         notes=(f"no caching rules for {model}: its cache reads and writes "
                                "are scaled with its prompt from what the trace shows",))
    notes: list[str] = []
    if rule.provider == "anthropic":
        kind = "anthropic"
    elif rule.provider == "openai" and "explicit" in rule.modes:
        kind = "openai_explicit"
    else:
        kind = "implicit"
    mn = rule.min_cacheable_tokens
    if mn is None:
        if kind == "anthropic":
            mn = ANTHROPIC_MIN_FALLBACK
            notes.append(f"{rule.model}: minimum cacheable length not published; "
                         f"{ANTHROPIC_MIN_FALLBACK:,} tokens assumed")
        else:
            mn = 0
            notes.append(f"{rule.model}: no minimum cacheable length stated; none assumed")
    mn = int(ov.get("min_cacheable_tokens", mn))
    ttl_over = dict(ov.get("ttl_seconds", ()))
    ttls: list[tuple[str, float | None, float | None]] = []
    for o in rule.ttl_options:
        secs = ttl_over.get(o.ttl, o.seconds)
        ttls.append((o.ttl, None if secs is None else float(secs),
                     None if o.max_seconds is None else float(o.max_seconds)))
    default = rule.default_ttl.ttl if rule.default_ttl else None
    write_charged = any(o.write_multiplier > 1.0 for o in rule.ttl_options)
    gran = int(ov.get("granularity", rule.granularity or 1)) or 1
    return Mechanics(
        model=rule.model, provider=rule.provider, kind=kind, min_tokens=mn,
        lookback=int(ov.get("lookback_blocks", rule.lookback_blocks or 20)),
        max_breakpoints=int(ov.get("max_breakpoints", rule.max_breakpoints or 4)),
        granularity=gran, write_charged=write_charged, ttls=tuple(ttls), default_ttl=default,
        notes=tuple(notes))


def mechanics_for(model: str | None, provider: str | None,
                  overrides: dict[str, dict[str, Any]]) -> Mechanics:
    if not model:
        return Mechanics(model="", provider="", kind="none", min_tokens=0, lookback=0,
                         max_breakpoints=0, granularity=1, write_charged=False, ttls=(),
                         default_ttl=None)
    ov = overrides.get(model.lower())
    if ov is None:
        from agentcost.rules import rule_for

        r = rule_for(model, provider)
        ov = overrides.get(r.model.lower()) if r is not None else None
    key: tuple[Any, ...] = ()
    if ov:
        key = tuple(sorted((k, tuple(sorted(v.items())) if isinstance(v, dict) else v)
                           for k, v in ov.items()))
    return _mechanics(model, provider, key)


def eligible_ends(roles: Ints, n: int) -> list[int]:
    """OpenAI implicit lookup boundaries: ends of user messages, of the last tool result of a
    consecutive group, of the initial system/developer block (and every append-only block)."""
    out = []
    for j in range(n):
        r = roles[j]
        nxt = roles[j + 1] if j + 1 < n else -1
        if r == R_USER or r == R_TURN or r == R_STABLE:
            out.append(j)
        elif r == R_TOOL and nxt != R_TOOL:
            out.append(j)
        elif r == R_SYSTEM and nxt not in (R_SYSTEM, R_TOOLS):
            out.append(j)
    return out


KIND_CODES = {"none": 0, "anthropic": 1, "openai_explicit": 2, "implicit": 3}


@dataclass
class Calls:
    """The simulated calls of one scenario run as plain per-call lists, in any order (the replay
    sorts by start). ``store``: cache key (workspace × model); ``mi``: index into ``mechs``;
    ``kind``: :data:`KIND_CODES`; ``bps``: breakpoints (Anthropic / OpenAI explicit) already
    placed per strategy; ``ttl_ns`` / ``is1h``: the lifetime used and whether it is Anthropic's 1h.
    """

    start: array[int]
    vis: array[int]  # ns from which an entry this call writes is visible
    store: array[int]
    mechs: list[Mechanics]
    mi: list[int]
    kind: list[int]
    min_tokens: list[int]
    ttl_ns: list[int]
    is1h: list[bool]
    pid: list[Ints]
    cum: list[Ints]  # may run past ``nb`` (a prompt that is a prefix of a longer one)
    nb: list[int]
    roles: list[Ints]
    bps: list[tuple[int, ...]]
    batch: list[bool]
    stats: dict[str, int] = field(default_factory=dict)


class _Replay:
    """The state of one replay: the cache stores and the pessimistic variant's loss counters."""

    def __init__(self, calls: Calls, strategy: str, variant: str, eviction_share: float,
                 batch_hit_share: float) -> None:
        self.calls = calls
        self.pess = pess = variant == "pessimistic"
        self.evict_every = max(1, round(1.0 / eviction_share)) if pess and eviction_share > 0 else 0
        self.keep_batch = int(round(batch_hit_share * 10))
        self.lossy = bool(self.evict_every) or (pess and self.keep_batch < 10)
        self.hits = 0
        self.batch_hits = 0
        self.stores: dict[int, dict[int, list[int]]] = {k: {} for k in set(calls.store)}
        self.lbs = [m.lookback for m in calls.mechs]
        self.explicit = strategy in ("stable", "stable+last")

    def lost(self, i: int, store: dict[int, list[int]], p: int) -> bool:
        """Whether a would-be hit of call ``i`` on entry ``p`` is lost (the entry is dropped)."""
        self.hits += 1
        lost = bool(self.evict_every and self.hits % self.evict_every == 0)
        if self.pess and self.calls.batch[i]:
            self.batch_hits += 1
            lost = lost or (self.batch_hits % 10) >= self.keep_batch
        if lost:
            del store[p]
        return lost

    def lookup_breakpoints(self, i: int, store: dict[int, list[int]], bps: tuple[int, ...],
                           t: int) -> int:
        """Anthropic lookup: from each breakpoint (highest first) walk back at most the
        lookback; the highest hit (-1: none)."""
        A = -1
        lookback = self.lbs[self.calls.mi[i]]
        pids = self.calls.pid[i]
        sget = store.get
        lossy = self.lossy
        for b in reversed(bps):
            if b <= A:
                break
            lo = b - lookback + 1
            if lo < 0:
                lo = 0
            if lo <= A:
                lo = A + 1
            j = b
            while j >= lo:
                e = sget(pids[j])
                if e is not None and e[1] <= t < e[0]:
                    if lossy and self.lost(i, store, pids[j]):
                        j -= 1
                        continue
                    A = j
                    break
                j -= 1
        return A

    def candidates(self, i: int, n: int) -> tuple[Any, tuple[int, ...]]:
        """Lookup positions (longest first) and write points of an OpenAI / implicit call."""
        if self.calls.kind[i] != 2:
            return range(n - 1, -1, -1), ()
        bps = self.calls.bps[i]
        if self.explicit:
            return reversed(bps), bps
        el = eligible_ends(self.calls.roles[i], n)
        ib = el[-1] if el else n - 1
        return ([ib, *reversed(el[-21:-1])] if el else [ib]), (ib,)

    def lookup_candidates(self, i: int, store: dict[int, list[int]], cand: Any, t: int) -> int:
        """The first live entry among the candidate positions (-1: none)."""
        pids = self.calls.pid[i]
        sget = store.get
        for j in cand:
            e = sget(pids[j])
            if e is not None and e[1] <= t < e[0]:
                if self.lossy and self.lost(i, store, pids[j]):
                    continue
                return int(j)
        return -1

    def write_implicit(self, i: int, store: dict[int, list[int]], A: int, read: int,
                       t: int) -> tuple[int, int]:
        """Implicit caching: every block boundary past the hit is cached; the read rounded to
        the provider's granularity and its write charge. Returns (read, 5m write)."""
        calls = self.calls
        cum, pids, n, mn = calls.cum[i], calls.pid[i], calls.nb[i], calls.min_tokens[i]
        ttl_ns = calls.ttl_ns[i]
        vis = calls.vis[i]
        for j in range(A + 1, n):
            if cum[j] >= mn:
                store[pids[j]] = [t + ttl_ns, vis, ttl_ns]
        mech = calls.mechs[calls.mi[i]]
        g = mech.granularity
        if g > 1:
            read = (read // g) * g
        if read < mn:
            read = 0
        total = cum[n - 1]
        return read, (total - read if mech.write_charged and total > read else 0)

    def write_points(self, i: int, store: dict[int, list[int]], writes: tuple[int, ...], A: int,
                     t: int) -> int:
        """Entries written (or refreshed) at the write points; the last one written (-1)."""
        calls = self.calls
        cum, pids, mn, ttl_ns, vis = (calls.cum[i], calls.pid[i], calls.min_tokens[i],
                                      calls.ttl_ns[i], calls.vis[i])
        sget = store.get
        last = -1
        exp = t + ttl_ns
        for b in writes:
            if cum[b] < mn:
                continue
            p = pids[b]
            e = sget(p)
            if e is None or e[0] <= t:
                store[p] = [exp, vis if b > A else t, ttl_ns]
            else:
                if exp > e[0]:
                    e[0] = exp
                if e[1] > t and vis < e[1]:
                    e[1] = vis
            if b > last:
                last = b
        return last

    def skipped(self, i: int) -> bool:
        """Calls that neither read nor write: no rules, empty, below the minimum, or without a
        breakpoint where one is needed."""
        calls = self.calls
        kind = calls.kind[i]
        n = calls.nb[i]
        if kind == 0 or n == 0 or calls.cum[i][n - 1] < calls.min_tokens[i]:
            return True
        return (kind == 1 or (kind == 2 and self.explicit)) and not calls.bps[i]

    def call(self, i: int, rd: Ints, w5: Ints, w1: Ints) -> None:
        """Replay call ``i``: lookup, refresh of the hit, writes; its figures into the lists."""
        calls = self.calls
        kind = calls.kind[i]
        store = self.stores[calls.store[i]]
        t = calls.start[i]
        cum = calls.cum[i]
        if kind == 1:
            writes = calls.bps[i]
            A = self.lookup_breakpoints(i, store, writes, t)
        else:
            cand, writes = self.candidates(i, calls.nb[i])
            A = self.lookup_candidates(i, store, cand, t)
        read = cum[A] if A >= 0 else 0
        if A >= 0:
            e = store[calls.pid[i][A]]
            x = t + e[2]
            if x > e[0]:
                e[0] = x
        if kind == 3:
            rd[i], w5[i] = self.write_implicit(i, store, A, read, t)
            return
        last = self.write_points(i, store, writes, A, t)
        rd[i] = read
        if last > A:
            if calls.is1h[i]:
                w1[i] = cum[last] - read
            else:
                w5[i] = cum[last] - read


def replay(calls: Calls, strategy: str, variant: str, eviction_share: float,
           batch_hit_share: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cache reads, 5m-rate writes and 1h writes per call (in the order of ``calls``), and a
    flag for calls whose model has no caching rules (the caller scales their observed figures).
    """
    import numpy as np

    N = len(calls.start)
    norule = np.array([k == 0 for k in calls.kind], dtype=bool)
    if strategy == "off" or N == 0:
        z = np.zeros(N, dtype="int64")
        return z, z.copy(), z.copy(), norule
    rd = array("q", bytes(8 * N))
    w5 = array("q", bytes(8 * N))
    w1 = array("q", bytes(8 * N))
    r = _Replay(calls, strategy, variant, eviction_share, batch_hit_share)
    order = array("q")  # by start, ties in call order (a stable sort)
    order.frombytes(np.argsort(np.frombuffer(calls.start, dtype="int64"), kind="stable")
                    .astype("int64").tobytes())
    for i in order:
        if not r.skipped(i):
            r.call(i, rd, w5, w1)
    calls.stats["hits"] = r.hits
    return (np.frombuffer(rd, dtype="int64").copy(), np.frombuffer(w5, dtype="int64").copy(),
            np.frombuffer(w1, dtype="int64").copy(), norule)
