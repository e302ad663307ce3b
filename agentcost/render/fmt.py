"""Number formatting shared by the text renderers."""

from __future__ import annotations

from typing import Any


def usd(v: Any, lower_bound: bool = False) -> str:
    if v is None:
        return "n/a"
    x = float(v)
    s = f"${x:,.4f}" if abs(x) < 1 else f"${x:,.2f}"
    return f"≥{s}" if lower_bound else s


def tok(v: Any) -> str:
    if v is None:
        return "unknown"
    return f"{int(v):,}"


def pct(v: Any) -> str:
    return "n/a" if v is None else f"{float(v) * 100:.1f}%"


def ratio(v: Any) -> str:
    return "n/a" if v is None else f"{float(v):,.1f}:1"


def secs(v: Any) -> str:
    if v is None:
        return "n/a"
    x = float(v)
    if x < 1:
        return f"{x * 1000:.0f}ms"
    if x < 120:
        return f"{x:.1f}s"
    if x < 7200:
        return f"{x / 60:.1f}m"
    return f"{x / 3600:.1f}h"


def ms(v: Any) -> str:
    return "n/a" if v is None else secs(float(v) / 1000.0)


def growth(v: Any) -> str:
    return "n/a" if v is None else f"{float(v):.1f}x"
