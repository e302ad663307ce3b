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
from collections.abc import Callable, Iterable, Mapping, Sequence
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
    "cache_read_cost_usd": "float64",  # ... for cache reads
    "cache_write_cost_usd": "float64",  # ... for cache writes (5m and 1h)
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
    # metadata the trace states, {key: text}: OTel resource attributes and user ids, Claude
    # Code's git branch and project folder, agentcost JSONL `labels` (group-by label:KEY)
    "labels": "object",
}

STRING_COLUMNS = tuple(c for c, d in COLUMNS.items() if d == "string")

# Absurdity bound: no single call has ever carried this many prompt tokens.
MAX_TOKENS_PER_CALL = 50_000_000

# Times a step can carry: 1740 to 2200 (int64 nanoseconds, the time columns, end in April 2262;
# the margin keeps a start plus its duration in range). Anything else is taken as unknown.
MAX_NS = 7_258_118_400 * 1_000_000_000  # 2200-01-01T00:00:00Z
# Absurdity bound for a step's duration and time to first token: a year.
MAX_DURATION_MS = 366 * 86_400_000


def int_text(s: str) -> int | None:
    """The whole number a string spells in ASCII digits (an optional minus, surrounding
    blanks), else ``None``. ``str.isdigit`` alone also accepts ``"²"`` and runs of digits
    longer than ``int()`` converts, both of which ``int()`` rejects with a ValueError."""
    t = s.strip()
    digits = t[1:] if t.startswith("-") else t
    if not digits or len(digits) > 40 or not (digits.isascii() and digits.isdigit()):
        return None
    return int(t)


def to_utc_ns(value: Any) -> int | None:
    """Convert an ISO-8601 string, a datetime, or epoch seconds/ms/us/ns to UTC nanoseconds.

    Strings without a zone are taken as UTC. Returns ``None`` for missing or unparsable values,
    and for times outside what a step can carry (before 1740 or after 2200, see ``MAX_NS``).
    """
    conv = _BY_TYPE.get(type(value))  # the common exact types, without an isinstance chain
    ns = conv(value) if conv is not None else _other_to_ns(value)
    return ns if ns is not None and -MAX_NS <= ns <= MAX_NS else None


def _other_to_ns(value: Any) -> int | None:
    """None, subclasses of the types :func:`to_utc_ns` takes (numpy floats, pandas
    Timestamps, enums), and anything else (unknown)."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return _int_to_ns(value)
    if isinstance(value, float):
        return _float_to_ns(value)
    if isinstance(value, datetime):
        return _datetime_to_ns(value)
    if isinstance(value, str):
        return _str_to_ns(value)
    return None


def _int_to_ns(value: int) -> int | None:
    if value <= 0 or value > MAX_NS:
        return None  # not a time; and float() of a huge int (either sign) overflows
    return _epoch_to_ns(float(value))


def _float_to_ns(value: float) -> int | None:
    return _epoch_to_ns(float(value)) if math.isfinite(value) else None


def _epoch_to_ns(v: float) -> int | None:
    """Epoch seconds, milliseconds, microseconds or nanoseconds, told apart by magnitude."""
    if v <= 0:
        return None
    if v < 1e11:  # seconds
        return int(round(v * 1e9))
    if v < 1e14:  # milliseconds
        return int(round(v * 1e6))
    if v < 1e17:  # microseconds
        return int(round(v * 1e3))
    return int(v)


def _datetime_to_ns(value: datetime) -> int:
    dt = value if value.tzinfo else value.replace(tzinfo=UTC)
    return int(dt.timestamp()) * 1_000_000_000 + dt.microsecond * 1000


def _str_to_ns(value: str) -> int | None:
    """An ISO-8601 time (UTC unless it names a zone; fractions to the nanosecond) or a run of
    ASCII digits (an epoch number)."""
    s = value.strip()
    if s.isascii() and s.isdigit():
        n = int_text(s)
        return None if n is None else _int_to_ns(n)
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    s, extra_ns = _cut_fraction(s)
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp()) * 1_000_000_000 + dt.microsecond * 1000 + extra_ns


def _cut_fraction(s: str) -> tuple[str, int]:
    """``s`` with its fraction of a second cut to the 6 digits ``fromisoformat`` takes (before
    Python 3.12), and the nanoseconds cut off (digits 7 to 9)."""
    dot = s.find(".")
    if dot == -1:
        return s, 0
    end = dot + 1
    while end < len(s) and "0" <= s[end] <= "9":
        end += 1
    if end - dot - 1 <= 6:
        return s, 0
    return s[: dot + 7] + s[end:], int(s[dot + 7 : min(end, dot + 10)].ljust(3, "0"))


_BY_TYPE: dict[type, Callable[[Any], int | None]] = {
    str: _str_to_ns,
    int: _int_to_ns,
    float: _float_to_ns,
    datetime: _datetime_to_ns,
}


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

    def add_columns(self, names: Sequence[str], columns: Sequence[list[Any]]) -> None:
        """Append whole columns (``names[i]`` → ``columns[i]``, equal lengths; already
        canonical and validated, e.g. by a reader's ``read_table``); other columns are left
        empty. The given lists are taken over, not copied, when this builder is empty."""
        unknown = [c for c in names if c not in self.columns]
        if unknown:
            raise ValueError(f"unknown step columns: {', '.join(unknown)}")
        lengths = {len(c) for c in columns}
        if len(lengths) > 1:
            raise ValueError("columns of different lengths")
        n = lengths.pop() if lengths else 0
        if not n:
            return
        self._flush()
        given = dict(zip(names, columns, strict=True))
        for name in self.columns:
            values = given.get(name)
            if not self.n:
                self.columns[name] = values if values is not None else [None] * n
            else:
                self.columns[name].extend(values if values is not None else [None] * n)
        self.n += n

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
            n = int_text(v) if isinstance(v, str) else None
            if n is None:
                return f"{c} must be a number, got {type(v).__name__} {str(v)[:30]!r}"
            v = n
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


#: correction rules for counts that contradict each other, by name: what each one assumes
CORRECTIONS = {
    "cache-above-input": (
        "cache reads + writes exceeded input tokens: the input figure was taken as reported "
        "without the cache tokens (Anthropic's raw convention, as some instrumentations copy "
        "it) and the cache tokens were added to it"),
    "reasoning-above-output": (
        "reasoning tokens exceeded output tokens: the output figure was taken as reported "
        "without reasoning (Gemini's candidates-only convention, as some libraries copy it) "
        "and the reasoning tokens were added to it"),
}


def correct_tokens(row: dict[str, Any]) -> list[str]:
    """Repair the two known contradictions in a row's counts in place (see
    :data:`CORRECTIONS`) instead of dropping the call; returns the rules applied. Values
    that are not plain non-negative ints are left for :func:`check_tokens` to reject."""
    def num(c: str) -> int | None:
        v = row.get(c)
        return v if type(v) is int and v >= 0 else None

    applied: list[str] = []
    inp, cr, cw = num("input_tokens"), num("cache_read_tokens"), num("cache_write_tokens")
    if inp is not None and (cr or 0) + (cw or 0) > inp:
        row["input_tokens"] = inp + (cr or 0) + (cw or 0)
        applied.append("cache-above-input")
    out, rs = num("output_tokens"), num("reasoning_tokens")
    if out is not None and rs is not None and rs > out:
        row["output_tokens"] = out + rs
        applied.append("reasoning-above-output")
    return applied


def build_frame(builder: StepBuilder) -> pd.DataFrame:
    """Build the step DataFrame with the fixed dtypes, derived columns and step numbering.

    The builder is emptied on the way (its lists are freed column by column)."""
    import numpy as np
    import pandas as pd

    data: dict[str, Any] = {}
    columns = builder.padded()
    arrow = _arrow()
    for name, dtype in COLUMNS.items():
        # each list is released as soon as its column is built: peak memory stays near one
        # copy of the table (the builder is consumed)
        data[name] = _column_array(columns.pop(name), dtype, arrow)
    builder.columns = {c: [] for c in COLUMNS}
    builder.n = 0
    # the rows in table order column by column (finalize then finds them in order): the
    # peak holds one column twice, not the whole table as a take of the frame would
    perm, _ = _order(pd.Series(data["task_id"], copy=False),
                     pd.Series(data["started_at"], copy=False))
    for name in data if perm is not None else ():
        arr = data[name]
        data[name] = arr[perm] if isinstance(arr, np.ndarray) else arr.take(perm)
    for name in data:
        data[name] = pd.Series(data[name], copy=False)
    df = pd.DataFrame(data, copy=False)
    del data
    return finalize(df)


def _arrow() -> Any:
    """pyarrow when pandas keeps ``string`` columns in it (then lists of Python values are
    turned into arrays by pyarrow's C loops, several times faster than pandas' element-wise
    coercion), else ``None``."""
    import pandas as pd

    if pd.StringDtype().storage != "pyarrow":
        return None
    import pyarrow

    return pyarrow


def _column_array(values: list[Any], dtype: str, pa: Any) -> Any:
    """The array of one column of :data:`COLUMNS` from its list of values: by pyarrow when
    the values are of the plain kind a reader gives (``pa`` not ``None``), else by pandas'
    own coercion, with the same result."""
    import numpy as np
    import pandas as pd

    if dtype == "object":
        return pd.Series(values, dtype="object").array
    arr = None
    if pa is not None:
        try:
            arr = pa.array(values, type=pa.large_string()) if dtype == "string" \
                else pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
            arr = None
    if arr is not None:
        fast = _from_arrow(arr, dtype, pa)
        if fast is not None:
            return fast
    if dtype.startswith("datetime"):
        nat = np.iinfo(np.int64).min
        ints = np.array([nat if v is None else v for v in values], dtype=np.int64)
        # int64 min is NaT's bit pattern: missing times need no second pass
        return pd.Series(ints.view("datetime64[ns]")).dt.tz_localize("UTC").array
    if dtype == "float64":
        return np.array([np.nan if v is None else v for v in values], dtype="float64")
    if dtype == "Int64":
        return _int_array(values)
    return pd.array(values, dtype=dtype)


def _from_arrow(arr: Any, dtype: str, pa: Any) -> Any:
    """``arr`` (pyarrow, built from a column's values) as that column's pandas array, or
    ``None`` when its type is not one whose conversion is known to equal pandas' own."""
    import numpy as np
    import pandas as pd

    t = arr.type
    if dtype == "string":
        return pd.arrays.ArrowStringArray(arr)
    n = len(arr)
    mask = (arr.is_null().to_numpy(zero_copy_only=False) if arr.null_count
            else np.zeros(n, dtype=bool))
    if t == pa.null():  # every value missing
        if dtype == "float64":
            return np.full(n, np.nan)
        if dtype == "boolean":
            return pd.arrays.BooleanArray(np.zeros(n, dtype=bool), mask)
        data = np.zeros(n, dtype=np.float64 if dtype == "Float64" else np.int64)
    elif t == pa.int64() and (dtype in ("Int64", "Float64", "float64")
                              or dtype.startswith("datetime")):
        data = arr.fill_null(0).to_numpy(zero_copy_only=False, writable=True)
    elif t == pa.float64() and dtype in ("Float64", "float64"):
        data = arr.fill_null(np.nan).to_numpy(zero_copy_only=False, writable=True)
    elif t == pa.bool_() and dtype == "boolean":
        return pd.arrays.BooleanArray(
            arr.fill_null(False).to_numpy(zero_copy_only=False, writable=True), mask)
    else:
        return None
    if dtype == "Int64":
        return pd.arrays.IntegerArray(data, mask)
    if dtype.startswith("datetime"):
        data[mask] = np.iinfo(np.int64).min  # NaT's bit pattern
        return pd.Series(data.view("datetime64[ns]")).dt.tz_localize("UTC").array
    data = data.astype(np.float64, copy=False)
    if dtype == "float64":
        data[mask] = np.nan
        return data
    return pd.arrays.FloatingArray(data, mask | np.isnan(data))


def _int_array(values: list[Any]) -> Any:
    """A nullable ``Int64`` array from a list of ints and ``None`` — built from a mask, which is
    several times faster than pandas' element-wise coercion for the usual all-int column."""
    import numpy as np
    import pandas as pd

    n = len(values)
    try:
        data = np.array(values, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        pass
    else:
        if all(type(v) is int for v in values):
            return pd.arrays.IntegerArray(data, np.zeros(n, dtype=bool))
        return pd.array(values, dtype="Int64")
    obj = np.array(values, dtype=object)
    mask = np.array([v is None for v in values], dtype=bool)
    present = obj[~mask]
    if not all(type(v) is int for v in present):
        return pd.array(values, dtype="Int64")  # floats, numpy ints, NA: pandas' rules
    data = np.zeros(n, dtype=np.int64)
    data[~mask] = present.astype(np.int64)
    return pd.arrays.IntegerArray(data, mask)


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
    n = len(df)
    perm, codes = _order(df["task_id"], df["started_at"])
    if perm is not None:
        df = df.take(perm).reset_index(drop=True)
    # step: 1-based position within the task
    first = np.r_[True, codes[1:] != codes[:-1]] if n else np.zeros(0, dtype=bool)
    starts = np.flatnonzero(first)
    group_start = np.repeat(starts, np.diff(np.r_[starts, n]))
    df["step"] = pd.arrays.IntegerArray((np.arange(n) - group_start + 1).astype(np.int64),
                                        np.zeros(n, dtype=bool))
    return df


def _order(task_id: pd.Series, started: pd.Series) -> tuple[Any, Any]:
    """The table's row order — by task, then start time (missing times last), then reader
    order — as a permutation (``None`` when the rows are in order already), and the task
    codes (sorted task ids) of the rows in that order."""
    import numpy as np
    import pandas as pd

    n = len(task_id)
    codes, _ = pd.factorize(task_id, sort=True)
    start_ns = started.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(
        dtype="datetime64[ns]").view("int64").copy()
    start_ns[started.isna().to_numpy(dtype=bool)] = np.iinfo(np.int64).max
    perm = np.lexsort((np.arange(n), start_ns, codes))
    if not n or bool((perm == np.arange(n)).all()):
        return None, codes
    return perm, codes[perm]


def empty_frame() -> pd.DataFrame:
    return build_frame(StepBuilder())


def validate_row_or_raise(row: dict[str, Any], location: str) -> None:
    reason = check_tokens(row, location)
    if reason:
        raise InputError(reason, location)
