"""Waiting for a person is not tool time (issue 9, item 8).

The real Claude Code session below asks the user a question (AskUserQuestion) and waits
1,135.6 s for the answer; that wait used to make up most of "tools" in the llm/tool split.
"""

from __future__ import annotations

import pytest

import agentcost
from tests.conftest import SHARED

SESSION = SHARED / "real-traces" / "claude-code-spotter" / "4d5611e5-241a-462a-8d15-5122611a9569.jsonl"


@pytest.mark.skipif(not SESSION.exists(), reason="shared real traces not present")
def test_ask_user_question_is_waiting_time():
    table = agentcost.load([str(SESSION)])
    tools = table.frame[table.frame["kind"] == "tool"]
    all_tool_s = tools["duration_ms"].sum() / 1000.0
    t = agentcost.analyze(table).totals
    assert t["user_wait_time_s"] == pytest.approx(1135.622)
    assert t["tool_time_s"] + t["user_wait_time_s"] == pytest.approx(all_tool_s)
    assert t["tool_time_s"] < all_tool_s - 1000  # no longer dominated by the wait
    llm = t["llm_time_s"]
    assert t["llm_time_share"] == pytest.approx(llm / (llm + t["tool_time_s"]), abs=1e-4)


@pytest.mark.skipif(not SESSION.exists(), reason="shared real traces not present")
def test_summary_line_shows_the_wait(run):
    res = run("analyze", str(SESSION))
    assert res.exit_code == 0, res.output
    line = next(x for x in res.stdout.splitlines() if x.startswith("llm time share"))
    assert "waiting for the user 18.9m" in line
