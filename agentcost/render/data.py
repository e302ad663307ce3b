"""Machine-readable renderings: JSON (DESIGN.md §4), CSV and agentcost JSONL (DESIGN.md §3)."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

import orjson

from agentcost.render.safe import csv_cell, json_text, printable

if TYPE_CHECKING:
    from agentcost.analysis import AnalyzeReport

# Columns written by --format jsonl: the §2 fields a reader takes back (computed cost is kept for
# people reading the file; agentcost recomputes it on ingest).
JSONL_FIELDS = (
    "task_id", "step", "kind", "name", "provider", "model", "response_model", "started_at",
    "ended_at", "duration_ms", "ttft_ms", "stop_reason", "tool_calls", "service_tier",
    "input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_5m_tokens",
    "cache_write_1h_tokens", "output_tokens", "reasoning_tokens", "reported_cost_usd",
    "cost_usd", "is_error", "span_id", "parent_id", "session_id", "parent_task_id",
    "tool_call_id", "tool_input_hash", "segments",
)


def to_json(obj: Any) -> str:
    """Indented JSON; no control character from a trace appears raw (see ``safe.json_text``)."""
    return json_text(orjson.dumps(
        obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY).decode()) + "\n"


def render_json(r: AnalyzeReport) -> str:
    return to_json(r.to_dict())


def render_csv(r: AnalyzeReport, raw: bool = False) -> str:
    """Steps when --task/--steps was given, else groups (--group-by), else tasks. Text cells
    that a spreadsheet would run as a formula are neutralised unless ``raw``."""
    from agentcost.analysis import steps_records

    if r.task_steps is not None:
        rows = steps_records(r.task_steps)
    elif r.steps is not None:
        rows = steps_records(r.steps)
    elif r.groups is not None:
        rows = r.groups
    else:
        rows = r.tasks
    buf = io.StringIO()
    if not rows:
        return ""
    fields = list(rows[0].keys())
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for row in rows:
        w.writerow({k: csv_cell(";".join(map(str, v)) if isinstance(v, list) and k != "segments"
                                else (orjson.dumps(v).decode() if isinstance(v, (list, dict))
                                      else v), raw)
                    for k, v in row.items()})
    return printable(buf.getvalue())


def render_jsonl(r: AnalyzeReport) -> str:
    """Every step (or the --task's steps) as agentcost JSONL — readable back by agentcost."""
    from agentcost.analysis import steps_records

    df = r.task_steps if r.task_steps is not None else r.steps
    assert df is not None, "render_jsonl needs the step table (the CLI sets include_steps)"
    out = []
    for rec in steps_records(df):
        d = {k: rec.get(k) for k in JSONL_FIELDS if rec.get(k) is not None}
        out.append(json_text(orjson.dumps(d).decode()))
    return "\n".join(out) + ("\n" if out else "")
