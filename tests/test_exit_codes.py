"""An unexpected exception is a bug, not bad input: exit 70 (issue 11 item 10), never 2."""

from __future__ import annotations

import pytest

from agentcost.errors import EXIT_INTERNAL, EXIT_USAGE


def _boom(*_args, **_kwargs):  # type: ignore[no-untyped-def]
    raise RuntimeError("simulated bug")


def test_internal_error_exits_70_with_how_to_report(run, monkeypatch):  # type: ignore[no-untyped-def]
    import agentcost.analysis

    monkeypatch.delenv("AGENTCOST_DEBUG", raising=False)
    monkeypatch.setattr(agentcost.analysis, "analyze", _boom)
    res = run("analyze", "sample_traces/support_agent.jsonl")
    assert res.exit_code == EXIT_INTERNAL == 70
    assert "internal error: RuntimeError: simulated bug" in res.stderr
    assert "AGENTCOST_DEBUG=1" in res.stderr
    assert "Traceback" not in res.stderr


def test_internal_error_traceback_with_debug(run, monkeypatch):  # type: ignore[no-untyped-def]
    import agentcost.analysis

    monkeypatch.setenv("AGENTCOST_DEBUG", "1")
    monkeypatch.setattr(agentcost.analysis, "analyze", _boom)
    with pytest.raises(RuntimeError, match="simulated bug"):
        run("analyze", "sample_traces/support_agent.jsonl")


def test_bad_input_still_exits_2(run, tmp_path):  # type: ignore[no-untyped-def]
    res = run("analyze", str(tmp_path / "missing.jsonl"))
    assert res.exit_code == EXIT_USAGE
    assert "internal error" not in res.stderr
