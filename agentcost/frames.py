"""Small helpers shared by the modules that compute over the step table."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def json_float(v: Any, nd: int = 6) -> float | None:
    """JSON-safe float (None for NaN/inf)."""
    if v is None:
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(x):
        return None
    return round(x, nd)


def records(frame: pd.DataFrame) -> Any:
    """(index label, row as a plain dict) pairs: much cheaper than ``iterrows``."""
    return zip(frame.index, frame.to_dict("records"), strict=True)


def by_task_step(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` ordered by (task_id, step); a table from :func:`agentcost.steps.finalize` is
    already in that order, which is checked in O(n) instead of sorting again."""
    import numpy as np

    if len(df) > 1:
        task = df["task_id"].to_numpy(dtype=object)
        step = df["step"].to_numpy(dtype="float64", na_value=np.nan)
        same = task[1:] == task[:-1]
        if bool(df["task_id"].is_monotonic_increasing) and bool(
                np.all(~same | (step[1:] > step[:-1]))):
            return df
        return df.sort_values(["task_id", "step"], kind="stable")
    return df
