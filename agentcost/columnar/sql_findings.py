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

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from agentcost.columnar.engine import WORK, Runner, q, text_or_none

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

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
    names = _tool_names(runner, {(str(r["task_id"]), int(r["turn"])) for r in seq})
    out += [sequential_item(str(r["task_id"]), r, names[(str(r["task_id"]), int(r["turn"]))])
            for r in seq]
    rep = _top(runner, "repeated_tools", limit, "wasted_ms", rel["repeated_tools"])
    out += [repeated_item(str(r["task_id"]), str(r["tool"]), str(r["h"]),
                          [int(s) for s in r["steps"]], float(r["wasted_ms"]) / 1000.0)
            for r in rep]
    loops, n_loops = runaway(runner, factor, max_iterations, token_budget, limit)
    out += loops
    if limit is None:
        return sort_findings(out), len(out)
    total += (_count(runner, rel["sequential_tools"]) + _count(runner, rel["repeated_tools"])
              + n_loops)
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


def _tool_names(runner: Runner, turns: set[tuple[str, int]]) -> dict[tuple[str, int], list[str]]:
    """The tool names of each of ``turns`` (task, turn), in the order they ran (fetched for
    the findings shown only: an ordered list per turn is costly to build for every turn)."""
    task_ids = sorted({tid for tid, _ in turns})
    if len(task_ids) > _IDS_PER_QUERY:  # one pass over every task beats a pass per chunk
        chunks = [f"SELECT task_id FROM {WORK}"]
    else:
        chunks = [", ".join(_lit(t) for t in task_ids)] if task_ids else []
    out: dict[tuple[str, int], list[str]] = {}
    for ids in chunks:
        frame = q(runner, "sequential_names", task_ids=ids)
        for tid, turn, tools in zip(frame["task_id"].tolist(), frame["turn"].tolist(),
                                    frame["tools"].tolist(), strict=True):
            key = (str(tid), int(turn))
            if key in turns:
                out[key] = list(map(str, tools))
    return out


_IDS_PER_QUERY = 5000  # task ids written into one query's IN list at most


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


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
            token_budget: int | None, limit: int | None = None
            ) -> tuple[list[dict[str, Any]], int]:
    """Runaway loops: each task's measure in SQL, the peer medians from one float per task,
    the llm calls of the candidates only, read task by task as the engine streams them (with
    ``limit``, only the ``limit`` most at stake are kept); the findings and their count."""
    from agentcost.loops import loop_profiles, runaway_findings
    from agentcost.task_findings import sort_findings

    measures = _kept_or_inline(runner, "loop_measures", _measures_sql(runner))
    peers = _peer_groups(runner, measures)
    caps = [f"calls > {int(max_iterations)}" if max_iterations else "",
            f"tokens > {int(token_budget)}" if token_budget else ""]
    over_caps = " OR ".join(c for c in caps if c) or "1 = 0"
    over_peers = " OR ".join(
        f"(role = '{role}' AND interactive = {int(inter)} AND measure >= "
        f"CAST('{cut!r}' AS DOUBLE))"
        for (role, inter), arr in peers.items() if (cut := _cutoff(arr, factor)) is not None
    ) or "1 = 0"
    wanted = render_q(runner, "loop_candidates", loop_measures=f"SELECT * FROM {measures}",
                      over_caps=over_caps, over_peers=over_peers)
    out: list[dict[str, Any]] = []
    n = 0
    for calls in _candidate_calls(runner, wanted):
        found = runaway_findings(loop_profiles(calls), factor, max_iterations, token_budget,
                                 peers)  # type: ignore[arg-type]
        n += len(found)
        out += found
        if limit is not None:  # stable: ties keep task order, as over every task at once
            out = sort_findings(out)[:limit]
    return out, n


def render_q(runner: Runner, name: str, **params: str) -> str:
    from agentcost.columnar.metrics import render

    return unordered(render(name, runner.dialect, w="agentcost_w", **params))


def _kept_or_inline(runner: Runner, name: str, sql: str) -> str:
    """``sql`` kept by the engine as a table (computed once), or inline where it cannot."""
    keep = getattr(runner, "keep", None)
    if keep is None:
        return f"({sql})"
    keep(f"agentcost_f_{name}", sql)
    return f"agentcost_f_{name}"


def _candidate_calls(runner: Runner, wanted: str) -> Iterator[pd.DataFrame]:
    """The llm calls of the tasks ``wanted`` selects, ordered by task and step, a batch of
    whole tasks at a time (the engine streams them where it can: Python holds one batch)."""
    import orjson

    from agentcost.columnar.metrics import render

    ids = _kept_or_inline(runner, "loop_wanted", wanted)
    sql = render("loop_calls", runner.dialect, w="agentcost_w",
                 task_ids=f"SELECT task_id FROM {ids}")
    stream = getattr(runner, "stream", None)
    frames = stream(sql) if stream is not None else iter([runner.query(sql)])
    for calls in _whole_tasks(frames):
        calls["tool_calls"] = [None if (t := text_or_none(v)) is None else orjson.loads(t)
                               for v in calls["tool_calls"].tolist()]
        calls["cost_usd"] = calls["cost_usd"].astype("float64")
        calls["parent_task_id"] = [text_or_none(v) for v in calls["parent_task_id"].tolist()]
        yield calls


def _whole_tasks(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """Batches cut at task boundaries (a task's last rows may come in the next batch)."""
    import pandas as pd

    carry: pd.DataFrame | None = None
    for frame in frames:
        if carry is not None:
            frame = pd.concat([carry, frame], ignore_index=True)
        if not len(frame):
            continue
        last = frame["task_id"].iloc[-1]
        tail = (frame["task_id"] == last).to_numpy()
        carry = frame[tail]
        if not tail.all():
            yield frame[~tail].reset_index(drop=True)
    if carry is not None and len(carry):
        yield carry.reset_index(drop=True)


def _measures_sql(runner: Runner) -> str:
    from agentcost.columnar.metrics import render
    from agentcost.loops import INTERACTIVE_FORMATS

    inner = render("loop_tasks", runner.dialect, w="agentcost_w").replace(
        "ORDER BY", "-- ORDER BY")
    return render("loop_measures", runner.dialect, loop_tasks=inner,
                  interactive_formats=", ".join(f"'{f}'" for f in sorted(INTERACTIVE_FORMATS)))


def _peer_groups(runner: Runner, measures: str) -> dict[tuple[str, bool], np.ndarray]:
    """Every task's measure by (role, interactive), sorted: 8 bytes per task (the engine
    counts each distinct measure; Python spreads the counts out)."""
    import numpy as np

    frame = runner.query(f"SELECT role, interactive, measure, COUNT(*) AS n FROM {measures} "
                         "AS m GROUP BY role, interactive, measure")
    out: dict[tuple[str, bool], np.ndarray] = {}
    for (role, inter), g in frame.groupby(["role", "interactive"], sort=True):
        g = g.sort_values("measure")
        out[(str(role), bool(inter))] = np.repeat(g["measure"].to_numpy(dtype="float64"),
                                                  g["n"].to_numpy(dtype="int64"))
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
