"""Does a replayed answer agree with the recorded one?

* A step whose recorded answer called tools (``routing``) agrees when the replay stopped for
  the same reason and called the same tools, in the same order, with JSON-equal arguments
  (``{"a": 1, "b": 2}`` equals ``{"b": 2, "a": 1}``; ``1`` equals ``1.0``).
* Any other step agrees when the stop reason is the same and the answers' texts are similar:
  ``difflib.SequenceMatcher`` ratio of the whitespace-normalised texts at least
  ``threshold`` (0.8 by default) — or, with a judge, when the judge says they agree.

Rates come with a 95 % Wilson score interval, which stays inside [0, 1] and is honest for the
small samples a replay has (a normal interval would claim 100 % ± 0 after 5 agreements of 5).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any

Z95 = 1.959963984540054


@dataclass
class Verdict:
    agree: bool
    same_stop: bool
    same_tools: bool | None  # routing steps: names and arguments; else None
    same_tool_names: bool | None
    similarity: float | None  # text steps
    judged: bool = False


def _canon(v: Any) -> Any:
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, dict):
        return {str(k): _canon(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_canon(x) for x in v]
    return v


def _calls(answer: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        (str(t.get("name")), _canon(t.get("arguments")))
        for t in answer.get("tool_calls") or []
        if isinstance(t, dict)
    ]


def similarity(a: str, b: str) -> float:
    x, y = " ".join(a.split()), " ".join(b.split())
    if not x and not y:
        return 1.0
    return difflib.SequenceMatcher(None, x, y, autojunk=False).ratio()


def compare(
    recorded: dict[str, Any],
    recorded_stop: str | None,
    replayed: dict[str, Any],
    replayed_stop: str | None,
    threshold: float = 0.8,
    judge: bool | None = None,
) -> Verdict:
    """The verdict on one replayed call (``judge``: the judge's verdict on a text step)."""
    same_stop = recorded_stop == replayed_stop
    rec_calls, rep_calls = _calls(recorded), _calls(replayed)
    if rec_calls:
        names = [n for n, _ in rec_calls] == [n for n, _ in rep_calls]
        same = rec_calls == rep_calls
        return Verdict(same_stop and same, same_stop, same, names, None)
    sim = similarity(str(recorded.get("text") or ""), str(replayed.get("text") or ""))
    text_ok = judge if judge is not None else sim >= threshold
    return Verdict(
        same_stop and not rep_calls and text_ok,
        same_stop,
        None,
        None,
        round(sim, 4),
        judged=judge is not None,
    )


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of the rate ``k / n``."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def rate(k: int, n: int) -> dict[str, Any]:
    lo, hi = wilson(k, n)
    return {
        "n": n,
        "agree": k,
        "rate": round(k / n, 4) if n else None,
        "ci95": [round(lo, 4), round(hi, 4)],
    }
