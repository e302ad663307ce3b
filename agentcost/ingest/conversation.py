"""Prompt ``segments`` rebuilt from logged conversations, calibrated to reported usage.

Readers of logs that hold every message but no request body (Claude Code, Codex) collect, per
llm call, the segments logged before it as ``(role, bytes, hash, name, call_id)``;
:func:`calibrate` turns bytes into tokens per task and states the error.

Sizes (calibrated, with the error stated)
    A segment's size is its content's byte length. Per task a least-squares fit of each call's
    reported input tokens against the bytes logged before it, ``input = F + r * bytes``, gives
    the unlogged prefix ``F`` (what the log leaves out: Claude Code's system prompt and tool
    definitions, Codex's tool definitions) and the tokens per byte ``r``; with fewer than three
    calls, or a fit that is not positive, ``r`` is 1/4 and ``F`` the median remainder. Each
    call's segments are then scaled to add up to its reported input exactly. The fit's error on
    each call before scaling is stated in the ingest notes: mean and p95 of
    |fit − reported| / reported.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentcost.ingest.base import IngestContext

NOTE_MARK = ": prompt segments from the logged conversation"
DEFAULT_TOKENS_PER_BYTE = 0.25

# a segment while reading: (role, bytes, hash, name, call_id)
Seg = tuple[str, int, str, str | None, str | None]


def fit(points: Sequence[tuple[int, int]]) -> tuple[float, float]:
    """``(F, r)`` of ``input = F + r * bytes`` over (bytes, input) points (module docstring)."""
    n = len(points)
    if n >= 3:
        mx = sum(p[0] for p in points) / n
        my = sum(p[1] for p in points) / n
        sxx = sum((p[0] - mx) ** 2 for p in points)
        if sxx > 0:
            r = sum((p[0] - mx) * (p[1] - my) for p in points) / sxx
            f = my - r * mx
            if 0 < r <= 1.0 and f >= 0:
                return f, r
    r = DEFAULT_TOKENS_PER_BYTE
    f = max(0.0, statistics.median(p[1] - r * p[0] for p in points)) if points else 0.0
    return f, r


def segments(
    segs: list[Seg], inp: int, f: float, r: float, task: str, unlogged: str
) -> list[dict[str, Any]]:
    """The call's segments in tokens, adding up to its reported input ``inp`` exactly; the
    unlogged prefix ``f`` is one ``system`` segment named ``unlogged``. The fitted sizes are
    scaled by one factor and rounded cumulatively (each segment within a token of its share)."""
    est = [f] if f > 0 else []
    est += [size * r for _, size, _, _, _ in segs]
    total = sum(est)
    if not est:
        return []
    if total <= 0:
        est[0], total = 1.0, 1.0 + sum(est[1:])
    k = inp / total
    out: list[dict[str, Any]] = []
    acc, prev = 0.0, 0
    if f > 0:
        acc = est[0] * k
        prev = round(acc)
        out.append({"role": "system", "tokens": prev, "hash": f"unlogged:{task}", "name": unlogged})
    off = len(out)
    for i, (role, _, h, name, cid) in enumerate(segs):
        acc += est[i + off] * k
        cur = round(acc)
        seg: dict[str, Any] = {"role": role, "tokens": cur - prev, "hash": h}
        prev = cur
        if name:
            seg["name"] = name
        if cid:
            seg["call_id"] = cid
        out.append(seg)
    out[-1]["tokens"] += inp - prev  # float round-off never leaves the total off
    return out


def calibrate(
    calls: list[tuple[str, str, int, list[Seg]]], ctx: IngestContext, fmt: str, unlogged: str
) -> dict[str, list[dict[str, Any]]]:
    """Per (task, call key, reported input, logged segments): the calibrated segments by call
    key; the fit and its error go to the ingest notes (``"<fmt>: prompt segments …"``)."""
    by_task: dict[str, list[tuple[str, int, list[Seg]]]] = {}
    for task, key, inp, segs in calls:
        if inp > 0:
            by_task.setdefault(task, []).append((key, inp, segs))
    out: dict[str, list[dict[str, Any]]] = {}
    errors: list[float] = []
    prefixes: list[float] = []
    per_kb: list[float] = []
    for task, items in by_task.items():
        pts = [(sum(s[1] for s in segs), inp) for _, inp, segs in items]
        f, r = fit(pts)
        prefixes.append(f)
        per_kb.append(r * 1024)
        for (key, inp, segs), (b, _) in zip(items, pts, strict=True):
            errors.append(abs(f + r * b - inp) / inp)
            out[key] = segments(segs, inp, f, r, task, unlogged)
    if errors:
        ctx.note(_note(fmt, unlogged, errors, len(by_task), per_kb, prefixes))
    return out


def _note(
    fmt: str,
    unlogged: str,
    errors: list[float],
    tasks: int,
    per_kb: list[float],
    prefixes: list[float],
) -> str:
    errors = sorted(errors)
    p95 = errors[min(len(errors) - 1, int(0.95 * len(errors)))]
    return (
        f"{fmt}{NOTE_MARK} for {len(errors):,} calls in {tasks:,} "
        f"task{'s' if tasks != 1 else ''}: sizes from byte lengths calibrated per task to each "
        f"call's reported input tokens ({statistics.median(per_kb):.0f} tokens per KB; "
        f"{unlogged}, {statistics.median(prefixes):,.0f} tokens per call, median over "
        f"tasks); fit error before scaling: mean {statistics.fmean(errors):.1%}, p95 "
        f"{p95:.1%} of a call's input"
    )
