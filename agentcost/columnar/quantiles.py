"""Exact percentiles in two streaming passes, so that no engine holds a column in memory.

An engine's exact percentile (DuckDB's ``quantile_cont``, Spark's ``percentile``) keeps every
value of the column in one aggregate state, outside what it can spill: 8 bytes a step, per
percentile. Here the first pass counts the values per band of 1/1024 of an octave (a GROUP BY
with a few thousand rows, streaming), which tells in which bands the values of the wanted
ranks lie; the second pass fetches the distinct values of those bands only, with their
counts. The percentile is then interpolated linearly between the two values around rank
``(n - 1) * q``, as pandas and numpy compute it: the same figure, not an approximation.
Memory is the values of one band per percentile (about 1/1500 of them for a log-normal
duration column), not the column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentcost.columnar.engine import Runner

PER_OCTAVE = 1024
MAX_DOUBLE = "1.7976931348623157e308"  # beyond it: the infinities, in bands of their own


def band(v: str) -> str:
    """The band of value expression ``v``: an integer that grows with ``v``."""
    mag = f"CAST(floor(log2(abs({v})) * {PER_OCTAVE}) AS BIGINT) + 2000000"
    return (f"CASE WHEN {v} > {MAX_DOUBLE} THEN 9000000 WHEN {v} < -{MAX_DOUBLE} THEN -9000000 "
            f"WHEN {v} > 0 THEN {mag} WHEN {v} < 0 THEN -({mag}) ELSE 0 END")


def quantiles(runner: Runner, rel: str, value: str, probs: Sequence[float],
              group: str = "'all'") -> dict[Any, list[float | None]]:
    """The percentiles ``probs`` of ``value`` over relation ``rel`` (nulls left out), per
    ``group``: ``{group key: [one figure per prob]}``; a group without values is absent."""
    base = (f"SELECT {group} AS g, CAST({value} AS DOUBLE) AS v FROM {rel} AS r "
            f"WHERE {value} IS NOT NULL AND NOT isnan(CAST({value} AS DOUBLE))")
    hist = runner.query(f"SELECT g, {band('v')} AS b, COUNT(*) AS n FROM ({base}) AS q "
                        "GROUP BY g, " + band("v"))
    per: dict[Any, list[tuple[int, int]]] = {}
    for g, b, n in hist.itertuples(index=False, name=None):
        per.setdefault(g, []).append((int(b), int(n)))
    wanted: dict[Any, dict[int, int]] = {}  # group -> band -> values below the band
    ranks: dict[Any, list[tuple[int, int, float]]] = {}
    for g, bands in per.items():
        bands.sort()
        total = sum(n for _, n in bands)
        ranks[g] = [_ranks(total, p) for p in probs]
        below = _below(bands)
        for lo, hi, _ in ranks[g]:
            for r in (lo, hi):
                b = _band_of(bands, below, r)
                wanted.setdefault(g, {})[b] = below[b]
    values = _values(runner, base, wanted)
    out: dict[Any, list[float | None]] = {}
    for g, rs in ranks.items():
        starts = _starts(values[g], wanted[g])
        out[g] = [_lerp(_at(starts, lo), _at(starts, hi), t) for lo, hi, t in rs]
    return out


def _ranks(n: int, q: float) -> tuple[int, int, float]:
    """The two 0-based ranks around ``(n - 1) * q`` and the weight of the upper one."""
    h = (n - 1) * q
    lo = math.floor(h)
    return lo, min(lo + 1, n - 1), h - lo


def _below(bands: list[tuple[int, int]]) -> dict[int, int]:
    out, seen = {}, 0
    for b, n in bands:
        out[b] = seen
        seen += n
    return out


def _band_of(bands: list[tuple[int, int]], below: dict[int, int], rank: int) -> int:
    for b, n in bands:
        if below[b] + n > rank:
            return b
    return bands[-1][0]


def _values(runner: Runner, base: str, wanted: dict[Any, dict[int, int]]
            ) -> dict[Any, list[tuple[int, float, int]]]:
    """The distinct values of the wanted bands with their counts, ordered: per group, rows
    ``(band, value, count)``."""
    conds = " OR ".join(
        f"(g = {_lit(g)} AND b IN ({', '.join(str(b) for b in sorted(bs))}))"
        for g, bs in wanted.items()) or "1 = 0"
    frame = runner.query(f"SELECT g, b, v, COUNT(*) AS n FROM (SELECT g, v, {band('v')} AS b "
                         f"FROM ({base}) AS q) AS s WHERE {conds} GROUP BY g, b, v")
    out: dict[Any, list[tuple[int, float, int]]] = {}
    for g, b, v, n in frame.itertuples(index=False, name=None):
        out.setdefault(g, []).append((int(b), float(v), int(n)))
    for rows in out.values():
        rows.sort()
    return out


def _starts(rows: list[tuple[int, float, int]], below: dict[int, int]
            ) -> list[tuple[int, float]]:
    """The fetched values with the 0-based rank of their first occurrence, ordered."""
    out: list[tuple[int, float]] = []
    seen: dict[int, int] = {}
    for b, v, n in rows:
        out.append((below[b] + seen.get(b, 0), v))
        seen[b] = seen.get(b, 0) + n
    return out


def _at(starts: list[tuple[int, float]], rank: int) -> float:
    """The value of 0-based ``rank``: the last value starting at or before it."""
    import bisect

    i = bisect.bisect_right(starts, (rank, math.inf)) - 1
    return starts[i][1]


def _lerp(a: float, b: float, t: float) -> float:
    """numpy's linear interpolation (the form it uses for ``t >= 0.5`` keeps ``b`` exact)."""
    d = b - a
    return a + d * t if t < 0.5 else b - d * (1 - t)


def _lit(g: Any) -> str:
    if isinstance(g, str):
        return "'" + g.replace("'", "''") + "'"
    return str(g)
