"""The canonical step model (DESIGN.md §2) and the :class:`StepTable` that holds it.

One row per step. A *step* is one model call (``kind="llm"``), one tool execution
(``kind="tool"``) or an agent/chain span kept for structure (``kind="agent"``, no tokens).

Token columns have exactly one meaning whatever the source format:

* ``input_tokens`` — every prompt token of the call, *including* cache reads and writes.
* ``cache_read_tokens`` / ``cache_write_tokens`` — subsets of ``input_tokens``;
  ``cache_write_tokens = cache_write_5m_tokens + cache_write_1h_tokens`` where the split is known
  (a write whose TTL the source does not say is counted as 5m in the split).
* ``uncached_input_tokens`` — derived, ``input - cache_read - cache_write``, never negative.
* ``output_tokens`` — every generated token including reasoning; ``reasoning_tokens`` a subset.

A token column is ``<NA>`` (pandas ``Int64``) when the source does not carry that figure at all —
"unknown", which is different from 0. Reports say which steps lack a figure.

Readers hand rows to a :class:`StepBuilder`, which keeps *columns* (lists per field), validates the
invariants, and builds the DataFrame once with fixed dtypes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from agentcost.errors import InputError

if TYPE_CHECKING:  # pandas is imported lazily: `agentcost --help` must stay fast.
    import pandas as pd

KINDS = ("llm", "tool", "agent")
SERVICE_TIERS = ("standard", "batch", "flex", "priority")

TOKEN_COLUMNS = (
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "uncached_input_tokens",
    "output_tokens",
    "reasoning_tokens",
)

# column name -> pandas dtype. Order is the order of the table and of `--steps` output.
COLUMNS: dict[str, str] = {
    "source": "string",
    "format": "string",
    "task_id": "string",
    "step": "Int64",
    "span_id": "string",
    "parent_id": "string",
    "kind": "string",
    "name": "string",
    "provider": "string",
    "model": "string",
    "response_model": "string",
    "started_at": "datetime64[ns, UTC]",
    "ended_at": "datetime64[ns, UTC]",
    "duration_ms": "Float64",
    "ttft_ms": "Float64",
    "stop_reason": "string",
    "tool_calls": "object",
    "service_tier": "string",
    **{c: "Int64" for c in TOKEN_COLUMNS},
    "cost_usd": "float64",
    # Beyond DESIGN.md §2 (computed by pricing, documented in the README):
    "output_cost_usd": "float64",  # the part of cost_usd paid for output tokens
    "cache_savings_usd": "float64",  # vs. the same call uncached: read discount - write premium
    "cache_1h_premium_usd": "float64",  # extra paid for 1h writes over 5m writes
    "reported_cost_usd": "Float64",
    "cost_source": "string",
    "is_error": "boolean",
    "segments": "object",
    # Beyond DESIGN.md §2, documented in the README:
    "session_id": "string",  # conversation/session a task belongs to (group-by session)
    "parent_task_id": "string",  # subagent tasks point at the task that launched them
    "tool_call_id": "string",  # tool steps: the id the llm step requested them under
    "tool_input_hash": "string",  # tool steps: fingerprint of the arguments (repeat detection)
    "line": "Int64",  # line (or record) number in `source` the step came from
}

STRING_COLUMNS = tuple(c for c, d in COLUMNS.items() if d == "string")

# Absurdity bound: no single call has ever carried this many prompt tokens.
MAX_TOKENS_PER_CALL = 50_000_000


def to_utc_ns(value: Any) -> int | None:
    """Convert an ISO-8601 string, a datetime, or epoch seconds/ms/us/ns to UTC nanoseconds.

    Strings without a zone are taken as UTC. Returns ``None`` for missing or unparsable values.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        v = float(value)
        if v <= 0:
            return None
        if v < 1e11:  # seconds
            return int(round(v * 1e9))
        if v < 1e14:  # milliseconds
            return int(round(v * 1e6))
        if v < 1e17:  # microseconds
            return int(round(v * 1e3))
        return int(v)
    if isinstance(value, datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=UTC)
        return int(dt.timestamp()) * 1_000_000_000 + dt.microsecond * 1000
    if isinstance(value, str):
        s = value.strip()
        if s.isdigit():
            return to_utc_ns(int(s))
        if s.endswith("Z") or s.endswith("z"):
            s = s[:-1] + "+00:00"
        # Python < 3.12 fromisoformat accepts at most 6 fractional digits.
        dot = s.find(".")
        if dot != -1:
            end = dot + 1
            while end < len(s) and s[end].isdigit():
                end += 1
            frac = s[dot + 1 : end]
            extra_ns = 0
            if len(frac) > 6:
                extra_ns = int(frac[6:9].ljust(3, "0"))
                s = s[: dot + 7] + s[end:]
        else:
            extra_ns = 0
        try:
            dt = datetime.fromisoformat(s)
        except ValueError:
            return None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return int(dt.timestamp()) * 1_000_000_000 + dt.microsecond * 1000 + extra_ns
    return None


@dataclass
class StepBuilder:
    """Accumulates rows column-wise and validates them.

    ``add`` takes a mapping with any subset of :data:`COLUMNS`. Timestamps may be given as
    ``started_at``/``ended_at`` in any form :func:`to_utc_ns` accepts. ``_location`` (``file:line``)
    names the origin in error messages.
    """

    columns: dict[str, list[Any]] = field(default_factory=lambda: {c: [] for c in COLUMNS})
    n: int = 0

    _buf: list[Mapping[str, Any]] = field(default_factory=list, repr=False)

    FLUSH_ROWS = 8192

    def add(self, row: Mapping[str, Any]) -> None:
        """Append a row. Rows are buffered and moved into the columns in chunks, one list
        comprehension per column (much cheaper than touching every column per row, and memory
        stays bounded by the chunk size)."""
        self._buf.append(row)
        self.n += 1
        if len(self._buf) >= self.FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        buf = self._buf
        if not buf:
            return
        for name, values in self.columns.items():
            values.extend([r.get(name) for r in buf])
        self._buf = []

    def padded(self) -> dict[str, list[Any]]:
        """The columns with every buffered row in them."""
        self._flush()
        return self.columns

    def extend(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for r in rows:
            self.add(r)

    def __len__(self) -> int:
        return self.n


def check_tokens(row: dict[str, Any], location: str) -> str | None:
    """Normalise and validate a row's token fields in place.

    Returns ``None`` when the row is fine, else a one-line reason (the caller decides whether a
    bad row is an error or a counted warning). Fills ``cache_write_tokens`` from the 5m/1h split
    when only the split is given, and the split's 5m part when only the total is given is *not*
    guessed (left unknown).
    """
    for c in ("input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_5m_tokens",
              "cache_write_1h_tokens", "output_tokens", "reasoning_tokens"):
        v = row.get(c)
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            if isinstance(v, str) and v.strip().lstrip("-").isdigit():
                v = int(v)
            else:
                return f"{c} must be a number, got {type(v).__name__} {str(v)[:30]!r}"
        if isinstance(v, float):
            if not math.isfinite(v) or v != int(v):
                return f"{c} must be a whole number, got {v!r}"
            v = int(v)
        if v < 0:
            return f"{c} is negative ({v})"
        if v > MAX_TOKENS_PER_CALL:
            return f"{c} is implausibly large ({v:,})"
        row[c] = v
    w5, w1 = row.get("cache_write_5m_tokens"), row.get("cache_write_1h_tokens")
    if row.get("cache_write_tokens") is None and (w5 is not None or w1 is not None):
        row["cache_write_tokens"] = (w5 or 0) + (w1 or 0)
    inp = row.get("input_tokens")
    cr = row.get("cache_read_tokens") or 0
    cw = row.get("cache_write_tokens") or 0
    if inp is not None and cr + cw > inp:
        return f"cache tokens ({cr + cw:,}) exceed input_tokens ({inp:,})"
    out, rs = row.get("output_tokens"), row.get("reasoning_tokens")
    if out is not None and rs is not None and rs > out:
        return f"reasoning_tokens ({rs:,}) exceed output_tokens ({out:,})"
    if w5 is not None and w1 is not None and row.get("cache_write_tokens") is not None:
        if w5 + w1 != row["cache_write_tokens"]:
            return (f"cache_write_5m_tokens + cache_write_1h_tokens ({w5 + w1:,}) != "
                    f"cache_write_tokens ({row['cache_write_tokens']:,})")
    return None


def build_frame(builder: StepBuilder) -> pd.DataFrame:
    """Build the step DataFrame with the fixed dtypes, derived columns and step numbering."""
    import numpy as np
    import pandas as pd

    data: dict[str, Any] = {}
    columns = builder.padded()
    for name, dtype in COLUMNS.items():
        values = columns[name]
        if dtype.startswith("datetime"):
            arr = np.array([v if v is not None else np.iinfo(np.int64).min for v in values],
                           dtype=np.int64)
            data[name] = pd.to_datetime(arr, utc=True).astype("datetime64[ns, UTC]")
            data[name] = pd.Series(data[name]).where(arr != np.iinfo(np.int64).min)
        elif dtype == "object":
            data[name] = pd.Series(values, dtype="object")
        elif dtype == "float64":
            data[name] = pd.Series([np.nan if v is None else v for v in values], dtype="float64")
        else:
            data[name] = pd.Series(values, dtype=dtype)
    df = pd.DataFrame(data)
    return finalize(df)


def finalize(df: pd.DataFrame) -> pd.DataFrame:
    """Order steps within tasks, number them, derive durations and uncached input."""
    import numpy as np
    import pandas as pd

    # durations from timestamps where missing; ended_at from duration where missing
    dur_from_ts = (df["ended_at"] - df["started_at"]).dt.total_seconds() * 1000.0
    df["duration_ms"] = df["duration_ms"].fillna(pd.Series(dur_from_ts, dtype="Float64"))
    need_end = df["ended_at"].isna() & df["started_at"].notna() & df["duration_ms"].notna()
    if need_end.any():
        df.loc[need_end, "ended_at"] = df.loc[need_end, "started_at"] + pd.to_timedelta(
            df.loc[need_end, "duration_ms"].astype("float64"), unit="ms")
    unc = df["input_tokens"] - df["cache_read_tokens"].fillna(0) - df["cache_write_tokens"].fillna(0)
    df["uncached_input_tokens"] = unc.clip(lower=0)
    # order: by task, then start time (missing times keep reader order), then reader order
    df["_order"] = np.arange(len(df))
    df = df.sort_values(["task_id", "started_at", "_order"], kind="stable", na_position="last")
    df["step"] = (df.groupby("task_id", sort=False).cumcount() + 1).astype("Int64")
    df = df.drop(columns="_order").reset_index(drop=True)
    return df


def empty_frame() -> pd.DataFrame:
    return build_frame(StepBuilder())


def validate_row_or_raise(row: dict[str, Any], location: str) -> None:
    reason = check_tokens(row, location)
    if reason:
        raise InputError(reason, location)
