"""``analyze --chart`` and tables that fit: goldens at COLUMNS=80 and 160 (NO_COLOR, TZ=UTC).

Regenerate after an intended change: ``UPDATE_GOLDEN=1 pytest tests/test_charts.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentcost.cli import app
from agentcost.render.charts import bar, sparkline
from tests.conftest import assert_golden

REPO = Path(__file__).resolve().parents[1]


def _run(monkeypatch, columns: int, *args: str) -> str:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.chdir(REPO)
    res = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return re.sub(r"genai-prices \S+ \(bundled data [0-9a-f]+\)",
                  "genai-prices X (bundled data X)", res.stdout)


_golden = assert_golden


@pytest.mark.parametrize("columns", [80, 160])
@pytest.mark.parametrize("name,args", [
    ("chart_tasks", ["analyze", "sample_traces", "--chart"]),
    ("chart_days", ["analyze", "sample_traces", "--chart", "--group-by", "day"]),
    ("task_steps", ["analyze", "sample_traces", "--task", "ticket-4713"]),
])
def test_chart_golden(monkeypatch, columns, name, args):  # type: ignore[no-untyped-def]
    text = _run(monkeypatch, columns, *args)
    _golden(f"{name}_{columns}.txt", text)
    for line in text.splitlines():
        assert len(line) <= columns, line


def test_80_columns_never_cut_values(monkeypatch):  # type: ignore[no-untyped-def]
    text = _run(monkeypatch, 80, "analyze", "sample_traces")
    assert "…" not in text.split("Findings")[0]
    for tid in ("ticket-4713", "research-001", "$0.3356", "545,000", "claude-sonnet-4-6"):
        assert tid in text
    assert "columns left out to fit 80 columns: growth, wall (--wide keeps all)" in text
    wide = _run(monkeypatch, 80, "analyze", "sample_traces", "--wide")
    assert "columns left out" not in wide and "growth" in wide


def test_160_columns_keeps_everything(monkeypatch):  # type: ignore[no-untyped-def]
    text = _run(monkeypatch, 160, "analyze", "sample_traces")
    assert "columns left out" not in text


def test_sparkline_for_task(monkeypatch):  # type: ignore[no-untyped-def]
    text = _run(monkeypatch, 80, "analyze", "sample_traces", "--task", "ticket-4713", "--chart")
    i = text.index("Cache hit ratio per llm step, ticket-4713")
    spark, summary = text[i:].splitlines()[1:3]
    assert len(spark) == 25 and spark[0] == " "  # first call: nothing cached yet
    assert summary.startswith("25 steps, min 0%, max 96%")


def test_bar_and_sparkline_cells():  # type: ignore[no-untyped-def]
    assert bar(1.0, 1.0, 10) == "█" * 10
    assert bar(0.5, 1.0, 3) == "█▌"
    assert bar(0.0, 0.0, 10) == ""
    assert sparkline([0.0, 0.5, 1.0, None]) == " ▄█·"


def test_task_table_at_80_columns_drops_whole_columns(monkeypatch):  # type: ignore[no-untyped-def]
    text = _run(monkeypatch, 80, "analyze", "sample_traces", "--task", "research-001")
    table = text.split("\n", 4)[4]
    # every model id and cost whole, on one line with its step
    assert table.count("claude-sonnet-4-5") == 4 and "$0.0360" in table
    assert "columns left out to fit 80 columns: TTFT, c.write (--wide keeps all)" in text
    # the summary breaks between figures, never between a label and its value
    assert "context growth 3.0x" in text and "input cost share 84.1%" in text
    wide = _run(monkeypatch, 80, "analyze", "sample_traces", "--task", "research-001", "--wide")
    assert "columns left out" not in wide and "TTFT" in wide


def test_charts_by_default_only_on_a_wide_interactive_terminal():  # type: ignore[no-untyped-def]
    import io

    from rich.console import Console

    from agentcost.render.charts import auto_chart

    def con(width: int, tty: bool) -> Console:
        return Console(file=io.StringIO(), width=width, force_terminal=tty)

    assert auto_chart(con(160, True)) and auto_chart(con(120, True))
    assert not auto_chart(con(119, True))  # too narrow for a chart beside the tables
    assert not auto_chart(con(200, False))  # a pipe, a file or CI logs: tables only


def test_no_chart_and_piped_output_stay_tables_only(monkeypatch):  # type: ignore[no-untyped-def]
    piped = _run(monkeypatch, 160, "analyze", "sample_traces")
    assert "Cost per task" not in piped
    asked = _run(monkeypatch, 160, "analyze", "sample_traces", "--chart")
    assert "Cost per task" in asked
    assert "Cost per task" not in _run(monkeypatch, 160, "analyze", "sample_traces", "--no-chart")
