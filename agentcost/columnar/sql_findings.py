"""The findings over SQL (task_findings.find_findings, loops.runaway_findings): the engine
selects the rows, the shared builders of :mod:`agentcost.task_findings` and
:mod:`agentcost.loops` write each finding.

With ``limit`` (the console table, which shows the first few), each kind of finding is fetched
already ordered by what is at stake and cut to ``limit`` rows, and only their count comes back
for the rest: Python then holds ``limit`` findings of each kind, not one per task. The
runaway-loop comparison with peers holds one float per task (the measure, sorted per peer
group) and reads the llm calls only of the tasks it may name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentcost.columnar.engine import Runner, q, text_or_none

if TYPE_CHECKING:
    import numpy as np

# (kind, condition over the cache_findings row, what is at stake) - task_findings.cache_items
CACHE_KINDS = (
    ("cache-lost-money", "reads_after > 0 AND sav < 0", "-sav"),
    ("cache-write-unread", "reads_after = 0", "CASE WHEN sav < 0 THEN -sav ELSE 0 END"),
    ("cache-1h-unneeded", "w1 > 0 AND n > 1 AND max_gap IS NOT NULL AND max_gap < 300", "prem"),
)


def findings(runner: Runner, factor: float, max_iterations: int | None,
             token_budget: int | None, limit: int | None = None
             ) -> tuple[list[dict[str, Any]], int]:
    """Every finding (or, with ``limit``, the first ``limit`` of each kind), most important
    first, and how many there are in all."""
    from agentcost.task_findings import cache_items, repeated_item, sequential_item, sort_findings

    out: list[dict[str, Any]] = []
    total = 0
    rel = {n: materialize(runner, n) if limit is not None else ""
           for n in ("cache_findings", "sequential_tools", "repeated_tools")}
    for r in _top(runner, "cache_findings", limit, None, rel["cache_findings"]):
        out += cache_items(str(r["task_id"]), None if r["model"] == "(unknown)"
                           else str(r["model"]), r)
    if limit is not None:  # cache_items wrote every kind of each row fetched: count apart
        out = [f for f in out if _kept(f, out, limit)]
        total += sum(_count(runner, rel["cache_findings"], cond) for _, cond, _ in CACHE_KINDS)
    seq = _top(runner, "sequential_tools", limit, "total - longest", rel["sequential_tools"])
    out += [sequential_item(str(r["task_id"]), r, [str(t) for t in r["tools"]]) for r in seq]
    rep = _top(runner, "repeated_tools", limit, "wasted_ms", rel["repeated_tools"])
    out += [repeated_item(str(r["task_id"]), str(r["tool"]), str(r["h"]),
                          [int(s) for s in r["steps"]], float(r["wasted_ms"]) / 1000.0)
            for r in rep]
    loops = runaway(runner, factor, max_iterations, token_budget)
    out += loops
    if limit is None:
        return sort_findings(out), len(out)
    total += (_count(runner, rel["sequential_tools"]) + _count(runner, rel["repeated_tools"])
              + len(loops))
    return sort_findings(out), total


def materialize(runner: Runner, name: str) -> str:
    """Query ``name`` computed once and kept as a table (the engine's own storage, which
    spills), so the first rows of each kind and the counts read it instead of recomputing
    its windows: the name of that table."""
    from agentcost.columnar.metrics import render

    table = f"agentcost_f_{name}"
    inner = unordered(render(name, runner.dialect, w="agentcost_w"))
    keep = getattr(runner, "keep", None)
    if keep is None:
        return f"({inner})"
    keep(table, inner)
    return table


def _top(runner: Runner, name: str, limit: int | None, stake: str | None, inner: str
         ) -> list[dict[str, Any]]:
    """The rows of query ``name``: all of them, or the ``limit`` with the most at stake (ties:
    the order the query gives, task then step, as the in-memory path finds them)."""
    if limit is None:
        rows: list[dict[str, Any]] = q(runner, name).to_dict("records")
        return rows
    if stake is None:  # the cache query: the first rows of each kind
        parts = [f"SELECT * FROM (SELECT * FROM {inner} AS f WHERE {cond} "
                 f"ORDER BY {st} DESC, task_id, first_step LIMIT {int(limit)}) AS k{i}"
                 for i, (_, cond, st) in enumerate(CACHE_KINDS)]
        sql = "SELECT DISTINCT * FROM (" + " UNION ALL ".join(parts) + ") AS u"
        sql = f"SELECT * FROM ({sql}) AS d ORDER BY task_id, first_step"
    else:
        order = "task_id, turn" if name == "sequential_tools" else "task_id, first_step"
        sql = (f"SELECT * FROM (SELECT * FROM {inner} AS f ORDER BY {stake} DESC, {order} "
               f"LIMIT {int(limit)}) AS t ORDER BY {order}")
    frame = runner.query(sql)
    return list(frame.to_dict("records"))


def _kept(f: dict[str, Any], out: list[dict[str, Any]], limit: int) -> bool:
    """Keep at most ``limit`` cache findings of each kind (a fetched row may also carry a kind
    it was not among the first of)."""
    same = [g for g in out if g["type"] == f["type"]]
    same.sort(key=lambda g: -(g["usd_at_stake"] or 0))
    return any(g is f for g in same[:limit])


def unordered(sql: str) -> str:
    """``sql`` without its closing ``ORDER BY`` line (to wrap it in another query)."""
    import re

    return re.sub(r"\nORDER BY [^\n]*\s*$", "\n", sql)


def _count(runner: Runner, inner: str, cond: str = "1 = 1") -> int:
    frame = runner.query(f"SELECT COUNT(*) AS n FROM {inner} AS f WHERE {cond}")
    return int(frame["n"].iloc[0])


def runaway(runner: Runner, factor: float, max_iterations: int | None,
            token_budget: int | None) -> list[dict[str, Any]]:
    """Runaway loops: each task's measure in SQL, the peer medians from one float per task,
    the llm calls of the candidates only."""
    import orjson

    from agentcost.loops import loop_profiles, runaway_findings

    peers = _peer_groups(runner)
    caps = [f"calls > {int(max_iterations)}" if max_iterations else "",
            f"tokens > {int(token_budget)}" if token_budget else ""]
    over_caps = " OR ".join(c for c in caps if c) or "1 = 0"
    over_peers = " OR ".join(
        f"(role = '{role}' AND interactive = {int(inter)} AND measure >= "
        f"CAST('{cut!r}' AS DOUBLE))"
        for (role, inter), arr in peers.items() if (cut := _cutoff(arr, factor)) is not None
    ) or "1 = 0"
    wanted = q(runner, "loop_candidates", loop_measures=_measures_sql(runner),
               over_caps=over_caps, over_peers=over_peers)["task_id"].tolist()
    if not wanted:
        return []
    ids = ", ".join("'" + str(t).replace("'", "''") + "'" for t in wanted)
    calls = q(runner, "loop_calls", task_ids=ids)
    calls["tool_calls"] = [None if (t := text_or_none(v)) is None else orjson.loads(t)
                           for v in calls["tool_calls"].tolist()]
    calls["cost_usd"] = calls["cost_usd"].astype("float64")
    calls["parent_task_id"] = [text_or_none(v) for v in calls["parent_task_id"].tolist()]
    return runaway_findings(loop_profiles(calls), factor, max_iterations, token_budget,
                            peers)  # type: ignore[arg-type]


def _measures_sql(runner: Runner) -> str:
    from agentcost.columnar.metrics import render
    from agentcost.loops import INTERACTIVE_FORMATS

    inner = render("loop_tasks", runner.dialect, w="agentcost_w").replace(
        "ORDER BY", "-- ORDER BY")
    return render("loop_measures", runner.dialect, loop_tasks=inner,
                  interactive_formats=", ".join(f"'{f}'" for f in sorted(INTERACTIVE_FORMATS)))


def _peer_groups(runner: Runner) -> dict[tuple[str, bool], np.ndarray]:
    """Every task's measure by (role, interactive), sorted: 8 bytes per task."""
    import numpy as np

    frame = runner.query(f"SELECT role, interactive, measure FROM ({_measures_sql(runner)}) "
                         "AS m")
    out: dict[tuple[str, bool], np.ndarray] = {}
    for (role, inter), g in frame.groupby(["role", "interactive"], sort=True):
        out[(str(role), bool(inter))] = np.sort(g["measure"].to_numpy(dtype="float64"))
    return out


def _cutoff(measures: np.ndarray, factor: float) -> float | None:
    """The smallest measure of the group that is far above the typical of its peers (the
    typical falls as the measure rises, so the test is monotone: a binary search)."""
    import numpy as np

    from agentcost.loops import MIN_CALLS, typical_without

    values = np.unique(measures)

    def far(v: float) -> bool:
        typ = typical_without(measures, v)  # type: ignore[arg-type]
        return typ is not None and v >= MIN_CALLS and typ[0] > 0 and v > factor * typ[0]

    lo, hi = 0, len(values)
    while lo < hi:
        mid = (lo + hi) // 2
        if far(float(values[mid])):
            hi = mid
        else:
            lo = mid + 1
    return float(values[lo]) if lo < len(values) else None
