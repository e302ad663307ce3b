"""The ``runaway-loop`` finding: tasks that run far more llm calls than comparable tasks.

Like is compared with like:

* **Role.** A subagent (a task with a ``parent_task_id``), a compaction run (Claude Code's
  ``agent-acompact-…`` tasks) and a main task are different jobs: each is compared only with
  tasks of its own role. A median of fewer than :data:`MIN_PEERS` comparable tasks says little
  about what is typical, so no comparison is made below that.
* **Interactive sessions** (Claude Code, Codex, Gemini CLI main sessions) are measured in llm
  calls per user turn: a session that ran 140 calls over 30 prompts is not a loop. A turn ends
  with an llm call that requested no tool (the agent handed control back); sessions whose calls
  do not say which tools they requested are measured per task.
* Nothing under :data:`MIN_CALLS` llm calls (per turn, for interactive sessions) is a runaway.

A long turn of an interactive session is reported as ``info`` (it may be the autonomy the user
asked for); a task over its peers, a cap or a budget as ``warning``.

"At stake" is the excess over the typical, not the whole task: the cost of the calls beyond the
typical count (per turn for interactive sessions), what a cap at the typical count would have
cut. An explicit cap (``max_iterations``) or budget (``token_budget``) puts the calls beyond it at
stake.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import median
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

MIN_PEERS = 5
MIN_CALLS = 10
INTERACTIVE_FORMATS = frozenset({"claude-code", "codex", "gemini-cli"})


@dataclass
class LoopProfile:
    """One task's llm calls in order, with their costs and user turns."""

    task_id: str
    role: str  # main | subagent | compaction
    interactive: bool
    costs: list[float] = field(default_factory=list)  # per llm call, NaN when unpriced
    tokens: list[int] = field(default_factory=list)  # input + output per llm call
    turn: list[int] = field(default_factory=list)  # user turn of each llm call (0-based)

    @property
    def calls(self) -> int:
        return len(self.costs)

    @property
    def turns(self) -> int:
        return (self.turn[-1] + 1) if self.turn else 0

    @property
    def per_turn(self) -> float:
        return self.calls / self.turns if self.turns else float(self.calls)

    @property
    def measure(self) -> float:
        """What is compared with peers: calls per user turn, or calls per task."""
        return self.per_turn if self.interactive else float(self.calls)

    def cost_beyond(self, keep: int, per_turn: bool) -> float:
        """Cost of the calls after the first ``keep`` (of each turn when ``per_turn``)."""
        seen: dict[int, int] = {}
        total = 0.0
        for i, c in enumerate(self.costs):
            key = self.turn[i] if per_turn else 0
            seen[key] = seen.get(key, 0) + 1
            if seen[key] > keep and not math.isnan(c):
                total += c
        return total

    def cost_after_budget(self, budget: int) -> float:
        spent, total = 0, 0.0
        for c, t in zip(self.costs, self.tokens, strict=True):
            if spent >= budget and not math.isnan(c):
                total += c
            spent += t
        return total


def task_role(task_id: str, parent_task_id: str | None) -> str:
    if "/agent-acompact" in task_id:
        return "compaction"
    if parent_task_id and parent_task_id != task_id:
        return "subagent"
    return "main"


def loop_profiles(df: pd.DataFrame) -> dict[str, LoopProfile]:
    """A :class:`LoopProfile` per task of ``df`` (ordered by task and step), in the order the
    tasks first appear: the llm calls grouped by task with numpy (a stable sort keeps each
    task's calls in order), each profile's lists cut from whole-column arrays."""
    import numpy as np
    import pandas as pd

    llm = df.loc[df["kind"] == "llm", ["task_id", "parent_task_id", "format", "cost_usd",
                                       "input_tokens", "output_tokens", "tool_calls"]]
    n = len(llm)
    if not n:
        return {}
    tids = llm["task_id"].tolist()
    codes, _ = pd.factorize(np.array(tids + [None], dtype=object)[:-1], use_na_sentinel=False)
    order = np.argsort(codes, kind="stable")
    starts = np.flatnonzero(np.r_[True, codes[order][1:] != codes[order][:-1]])
    ends = np.r_[starts[1:], n]
    tools = llm["tool_calls"].to_numpy(dtype=object)[order]
    listed = np.fromiter((isinstance(t, (list, tuple)) for t in tools), dtype=bool, count=n)
    # a call that requested no tool hands control back: the task's next call starts a turn
    ended = np.fromiter((isinstance(t, (list, tuple)) and len(t) == 0 for t in tools),
                        dtype=np.int64, count=n)
    before = np.cumsum(ended) - ended  # calls that ended a turn before this one
    turn = before - np.repeat(before[starts], ends - starts)
    costs = llm["cost_usd"].astype("float64").to_numpy()[order]
    tokens = (llm["input_tokens"].fillna(0).astype("int64").to_numpy()
              + llm["output_tokens"].fillna(0).astype("int64").to_numpy())[order]
    parents = llm["parent_task_id"].to_numpy(dtype=object)[order[starts]]
    formats = llm["format"].to_numpy(dtype=object)[order[starts]]
    out: dict[str, LoopProfile] = {}
    for k, (s, e) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        tid, parent = tids[order[s]], parents[k]
        par = None if parent is None or parent is pd.NA else str(parent)
        role = task_role(str(tid), par)
        p = out[tid] = LoopProfile(str(tid), role, role == "main"
                                   and str(formats[k]) in INTERACTIVE_FORMATS)
        p.costs, p.tokens = costs[s:e].tolist(), tokens[s:e].tolist()
        if p.interactive and not listed[s:e].any():
            p.interactive = False  # turns cannot be told apart: compare whole tasks
            p.turn = [0] * (e - s)
        else:
            p.turn = turn[s:e].tolist()
    return out


Peers = dict[tuple[str, bool], list[float]]  # (role, interactive) -> measures, sorted


def peer_measures(rows: Any) -> Peers:
    """Every task's measure by (role, interactive), sorted; ``rows`` yields (role, interactive,
    measure) for every task (a SQL engine gives them without building each profile)."""
    out: Peers = {}
    for role, interactive, measure in rows:
        out.setdefault((role, interactive), []).append(measure)
    for v in out.values():
        v.sort()
    return out


def typical_without(measures: list[float], own: float) -> tuple[float, int] | None:
    """The median of the sorted ``measures`` less one occurrence of ``own`` (the task itself),
    and how many peers that is; ``None`` below :data:`MIN_PEERS` peers."""
    import bisect

    i = bisect.bisect_left(measures, own)
    if not (i < len(measures) and measures[i] == own):
        i = len(measures)  # not among them: nothing left out
    n = len(measures) - (1 if i < len(measures) else 0)
    if n < MIN_PEERS:
        return None

    def nth(k: int) -> float:  # the k-th of the measures without the one left out, O(1)
        return measures[k] if k < i else measures[k + 1]

    mid = n // 2
    typical = nth(mid) if n % 2 else (nth(mid - 1) + nth(mid)) / 2
    return float(typical), n


def _typical(p: LoopProfile, profiles: dict[str, LoopProfile],
             peers: Peers | None = None) -> tuple[float, int] | None:
    if peers is not None:
        return typical_without(peers.get((p.role, p.interactive), []), p.measure)
    measures = [q.measure for q in profiles.values()
                if q.task_id != p.task_id and q.role == p.role and q.interactive == p.interactive]
    if len(measures) < MIN_PEERS:
        return None
    return float(median(measures)), len(measures)


def _versus_peers(p: LoopProfile, profiles: dict[str, LoopProfile],
                  factor: float, peers: Peers | None = None
                  ) -> tuple[str, float, dict[str, Any]] | None:
    typ = _typical(p, profiles, peers)
    if typ is None or p.measure < MIN_CALLS:
        return None
    typical, n = typ
    if typical <= 0 or p.measure <= factor * typical:
        return None
    keep = max(1, math.ceil(typical))
    kind = p.role
    if p.interactive:
        turns = f"{p.turns} turn" + ("" if p.turns == 1 else "s")
        text = (f"{p.per_turn:.1f} llm calls per user turn ({p.calls} calls, {turns}), "
                f"{p.per_turn / typical:.1f}x the median of {n} other {kind} sessions "
                f"({typical:.1f} per turn)")
    else:
        text = (f"{p.calls} llm calls, {p.calls / typical:.1f}x the median of {n} other "
                f"{kind} tasks ({typical:g} calls)")
    details = {"role": p.role, "peers": n, "typical": typical,
               "measure": "calls per user turn" if p.interactive else "calls per task",
               "user_turns": p.turns if p.interactive else None}
    return text, p.cost_beyond(keep, p.interactive), details


def runaway_findings(profiles: dict[str, LoopProfile], factor: float,
                     max_iterations: int | None, token_budget: int | None,
                     peers: Peers | None = None) -> list[dict[str, Any]]:
    """One ``runaway-loop`` finding per task over a cap, a budget, or far above its peers.
    ``peers`` (:func:`peer_measures` over every task) lets ``profiles`` hold only the tasks
    that may be named: how the SQL engines use it without loading every call."""
    findings: list[dict[str, Any]] = []
    for p in profiles.values():
        reasons: list[str] = []
        stakes: list[float] = []
        details: dict[str, Any] = {"iterations": p.calls, "tokens": sum(p.tokens)}
        if max_iterations and p.calls > max_iterations:
            reasons.append(f"{p.calls} llm calls, over the cap of {max_iterations}")
            stakes.append(p.cost_beyond(max_iterations, False))
        else:
            vs = _versus_peers(p, profiles, factor, peers)
            if vs is not None:
                reasons.append(vs[0])
                stakes.append(vs[1])
                details.update(vs[2])
        if token_budget and sum(p.tokens) > token_budget:
            reasons.append(f"{sum(p.tokens):,} tokens, over the budget of {token_budget:,}")
            stakes.append(p.cost_after_budget(token_budget))
        if not reasons:
            continue
        at_stake = max(stakes) if stakes else 0.0
        # a long turn of an interactive session may be the autonomy the user asked for
        soft = p.interactive and not (max_iterations and p.calls > max_iterations) and not (
            token_budget and sum(p.tokens) > token_budget)
        findings.append({
            "type": "runaway-loop", "severity": "info" if soft else "warning",
            "task_id": p.task_id,
            "model": None, "message": "; ".join(reasons),
            "usd_at_stake": round(at_stake, 8) if at_stake > 0 else None,
            "seconds_at_stake": None, "details": details,
        })
    return findings
