"""The gate's plain-text numbers: one convention for the figures in its messages (computed in
:mod:`agentcost.gate`) and in the tables of :mod:`agentcost.render.check_text` — an unknown
(infinite) bound is "unknown", a missing figure "n/a"."""

from __future__ import annotations

import math


def fmt_value(unit: str, v: float | None, signed: bool = False) -> str:
    """Plain-text number formatting for messages (renderers use the same conventions)."""
    if v is None:
        return "n/a"
    if math.isinf(v):
        return "unknown"
    sign = ("+" if v > 0 else "-" if v < 0 else "±") if signed else ("-" if v < 0 else "")
    a = abs(v)
    if unit == "usd":
        s = f"${a:,.4f}" if a < 1 else f"${a:,.2f}"
    elif unit in ("tokens", "count"):
        s = f"{a:,.0f}" if float(a).is_integer() else f"{a:,.1f}"
    elif unit == "ratio":
        s = f"{a * 100:.1f}%"
        if signed:
            s = f"{a * 100:.1f} pts"
    elif unit == "seconds":
        s = f"{a * 1000:.0f}ms" if a < 1 else f"{a:.1f}s" if a < 120 else f"{a / 60:.1f}m"
    else:
        s = f"{a:g}"
    return sign + s


def fmt_pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v * 100:+.1f}%"
