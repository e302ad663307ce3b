"""The metric definitions as SQL (``agentcost/data/sql/*.sql``), filled in for one dialect.

The queries are written once, in the subset DuckDB and Spark SQL share; the handful of
functions the two spell differently are placeholders this module fills (:data:`DIALECTS`), and
so are the calendar buckets of ``--group-by hour|day|week|month`` (with ``--timezone``). No
engine-specific copy of a metric exists anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from agentcost.errors import InputError


@dataclass(frozen=True)
class Dialect:
    name: str
    arg_min: str
    arg_max: str
    steps_sorted: str  # the steps of a group as a sorted list
    ordered_names: str  # the tool names of a turn, ordered by start then step
    local_time: str  # the step's start as a timestamp in zone {tz}
    hour: str
    day: str
    month: str
    week: str  # ISO year and week, "2026-W07"


DIALECTS: dict[str, Dialect] = {
    "duckdb": Dialect(
        name="duckdb", arg_min="arg_min", arg_max="arg_max",
        steps_sorted="list_sort(list(step))",
        ordered_names="list(tool ORDER BY started_ns, step)",
        local_time="timezone('{tz}', make_timestamp(started_ns // 1000) AT TIME ZONE 'UTC')",
        hour="strftime({t}, '%Y-%m-%d %H:00')", day="strftime({t}, '%Y-%m-%d')",
        month="strftime({t}, '%Y-%m')", week="strftime({t}, '%G-W%V')",
    ),
    "spark": Dialect(
        name="spark", arg_min="min_by", arg_max="max_by",
        steps_sorted="array_sort(collect_list(step))",
        ordered_names=("transform(array_sort(collect_list(struct(started_ns, step, tool))), "
                       "x -> x.tool)"),
        local_time="from_utc_timestamp(timestamp_micros(div(started_ns, 1000)), '{tz}')",
        hour="date_format({t}, 'yyyy-MM-dd HH:00')", day="date_format({t}, 'yyyy-MM-dd')",
        month="date_format({t}, 'yyyy-MM')",
        week=("concat(CAST(extract(YEAROFWEEK FROM {t}) AS STRING), '-W', "
              "lpad(CAST(weekofyear({t}) AS STRING), 2, '0'))"),
    ),
}


@cache
def template(name: str) -> str:
    """The text of ``agentcost/data/sql/NAME.sql``."""
    return resources.files("agentcost").joinpath(f"data/sql/{name}.sql").read_text("utf-8")


def render(name: str, dialect: str, **params: str) -> str:
    """Query ``name`` for ``dialect`` with ``params`` (``w``, ``steps``, ``key``, ...)."""
    d = DIALECTS[dialect]
    fill = {"arg_min": d.arg_min, "arg_max": d.arg_max,
            "steps_sorted": d.steps_sorted, "ordered_names": d.ordered_names,
            "order_key": order_key(), "wait_tools": wait_tools(),
            "tasks": "CAST(NULL AS BIGINT)", "first": "CAST(NULL AS STRING)"}
    return template(name).format(**{**fill, **params})


def order_key() -> str:
    """A text key that orders steps as the table does (task, then step)."""
    return "task_id || chr(31) || lpad(CAST(step AS STRING), 12, '0')"


def wait_tools() -> str:
    from agentcost.analysis import USER_WAIT_TOOLS

    return ", ".join(f"'{t}'" for t in USER_WAIT_TOOLS)


def bucket(by: str, dialect: str, timezone: str | None) -> str:
    """The ``--group-by`` key expression over the work view."""
    if by == "model":
        return "COALESCE(model, response_model)"
    if by == "session":
        return "COALESCE(session_id, task_id)"
    if by == "task":
        return "task_id"
    d = DIALECTS[dialect]
    tz = timezone or "UTC"
    if "'" in tz:
        raise InputError(f"--timezone: unknown time zone {tz!r}")
    t = d.local_time.format(tz=tz)
    fmt = {"hour": d.hour, "day": d.day, "month": d.month, "week": d.week}[by]
    return fmt.format(t=t)
