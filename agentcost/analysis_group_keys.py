"""``--group-by`` keys: the names accepted, and each step's group — its model, calendar bucket
(hour, day, ISO week, month in the chosen time zone), session, task or label value."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

GROUP_BY = ("task", "model", "hour", "day", "week", "month", "session")
LABEL_PREFIX = "label:"  # --group-by label:KEY: a key of the steps' labels


def group_key(df: pd.DataFrame, by: str, timezone: str | None = None) -> pd.Series:
    if by == "model":
        return df["model"].fillna(df["response_model"])
    if by in ("hour", "day", "week", "month"):
        # calendar buckets in the user's zone (UTC unless --timezone)
        t = df["started_at"].dt.tz_convert(timezone) if timezone else df["started_at"]
        if by == "hour":
            return t.dt.strftime("%Y-%m-%d %H:00")
        if by == "day":
            return t.dt.strftime("%Y-%m-%d")
        if by == "month":
            return t.dt.strftime("%Y-%m")
        iso = t.dt.isocalendar()
        return (iso["year"].astype("string") + "-W" + iso["week"].astype("string").str.zfill(2)
                ).where(t.notna())
    if by == "session":
        return df["session_id"].fillna(df["task_id"])
    if by.startswith(LABEL_PREFIX):
        return label_values(df, by[len(LABEL_PREFIX):])
    return df["task_id"]


def label_values(df: pd.DataFrame, key: str) -> pd.Series:
    """Each step's ``labels[key]`` (missing: NaN). A step without the label takes its task's
    value when the task's other steps agree on one (a tool step of a labelled call)."""
    import pandas as pd

    vals = pd.Series([d.get(key) if isinstance(d, dict) else None for d in df["labels"]],
                     index=df.index, dtype="object")
    known = vals.notna()
    if known.all() or not known.any():
        return vals
    per_task = vals[known].groupby(df.loc[known, "task_id"]).agg(
        lambda s: s.iloc[0] if s.nunique() == 1 else None)
    fill = df["task_id"].map(per_task)
    return vals.where(known, fill)
