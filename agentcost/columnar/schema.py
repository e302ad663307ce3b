"""The step table as a versioned Arrow schema (docs/scale.md lists the columns and meanings).

Every canonical column of :data:`agentcost.steps.COLUMNS` keeps its name; pandas dtypes map to
Arrow types one to one (nullable ints stay nullable: unknown is null, never 0). The two object
columns (``tool_calls``, ``segments``) are stored as JSON text. Three columns are added:

* ``day`` — the UTC date of ``started_at`` (the hive partition key; null when unknown),
* ``step_key`` — the dedupe key: sha256 of format, task, span (or source:line), kind, start,
  name and tool call id (numbered when a reader made several such steps from one line), so
  keys are unique within one load and a re-export of an overlapping file does not double
  count,
* ``price_data_fingerprint`` — the price data ``cost_usd`` was computed with.

The schema version is stored in the Arrow schema metadata (``agentcost.schema_version``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentcost.steps import COLUMNS

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

SCHEMA_VERSION = "1"
EXTRA_COLUMNS = ("day", "step_key", "price_data_fingerprint")
JSON_COLUMNS = tuple(c for c, d in COLUMNS.items() if d == "object")


def arrow_type(dtype: str) -> pa.DataType:
    import pyarrow as pa

    return {
        "string": pa.string(), "Int64": pa.int64(), "Float64": pa.float64(),
        "float64": pa.float64(), "boolean": pa.bool_(), "object": pa.string(),
        "datetime64[ns, UTC]": pa.timestamp("ns", tz="UTC"),
    }[dtype]


def step_schema() -> pa.Schema:
    """The Arrow schema of an exported step table, with its version in the metadata."""
    import pyarrow as pa

    fields = [pa.field(c, arrow_type(d)) for c, d in COLUMNS.items()]
    fields += [pa.field("day", pa.date32()), pa.field("step_key", pa.string(), nullable=False),
               pa.field("price_data_fingerprint", pa.string())]
    return pa.schema(fields, metadata={"agentcost.schema_version": SCHEMA_VERSION})


def _json_text(values: Any) -> list[str | None]:
    import orjson

    out: list[str | None] = []
    for v in values:
        if v is None or (isinstance(v, float) and v != v):
            out.append(None)
        else:
            out.append(orjson.dumps(v, default=str).decode())
    return out


def step_keys(frame: pd.DataFrame) -> pd.Series:
    """The dedupe key per step (see the module docstring)."""
    import hashlib

    import pandas as pd

    ident = frame["span_id"].fillna(frame["source"].fillna("") + ":"
                                    + frame["line"].astype("string").fillna(""))
    start = frame["started_at"].astype("string").fillna("")
    parts = (frame["format"].fillna("") + "\x1f" + frame["task_id"].fillna("") + "\x1f"
             + ident + "\x1f" + frame["kind"].fillna("") + "\x1f" + start + "\x1f"
             + frame["name"].fillna("") + "\x1f" + frame["tool_call_id"].fillna(""))
    # steps a reader makes from one line with nothing else to tell them apart (OpenHands
    # actions without times) are numbered in reading order: keys are unique within a load
    nth = parts.groupby(parts, sort=False).cumcount().astype("string")
    parts = parts + "\x1f" + nth
    return pd.Series([hashlib.sha256(p.encode()).hexdigest()[:32] for p in parts.tolist()],
                     index=frame.index, dtype="string")


def to_arrow(frame: pd.DataFrame, fingerprint: str | None) -> pa.Table:
    """A priced step frame as an Arrow table of :func:`step_schema`."""
    import pyarrow as pa

    schema = step_schema()
    arrays: list[Any] = []
    for name, dtype in COLUMNS.items():
        col = frame[name]
        if dtype == "object":
            arrays.append(pa.array(_json_text(col.tolist()), type=pa.string()))
        else:
            arrays.append(pa.Array.from_pandas(col, type=arrow_type(dtype)))
    day = frame["started_at"].dt.tz_convert("UTC").dt.date
    arrays.append(pa.Array.from_pandas(day, type=pa.date32()))
    arrays.append(pa.Array.from_pandas(step_keys(frame), type=pa.string()))
    arrays.append(pa.array([fingerprint] * len(frame), type=pa.string()))
    return pa.Table.from_arrays(arrays, schema=schema)


def from_arrow(table: pa.Table) -> pd.DataFrame:
    """An Arrow step table (any column order, extra columns ignored) back to the canonical
    frame with the fixed dtypes of :data:`COLUMNS`."""
    import orjson
    import pandas as pd

    from agentcost.errors import InputError

    missing = [c for c in COLUMNS if c not in table.column_names]
    if missing:
        raise InputError(f"not an agentcost step table: missing columns {', '.join(missing)}")
    data: dict[str, Any] = {}
    for name, dtype in COLUMNS.items():
        arr = table.column(name)
        if dtype == "object":
            data[name] = pd.Series([None if v is None else orjson.loads(v)
                                    for v in arr.to_pylist()], dtype="object")
        elif dtype.startswith("datetime"):
            data[name] = pd.Series(arr.to_pandas(), dtype=dtype)
        else:
            data[name] = pd.Series(arr.to_pandas(types_mapper=pd.ArrowDtype).astype(dtype)
                                   if dtype != "float64" else arr.to_pandas(), dtype=dtype)
    return pd.DataFrame(data)


def read_columns(schema: pa.Schema) -> list[str]:
    """The columns a reader takes from a file of ``schema``: the canonical ones and the
    dedupe key (``day`` comes from the folder name, the fingerprint is read separately)."""
    return [c for c in (*COLUMNS, "step_key", "price_data_fingerprint") if c in schema.names]
