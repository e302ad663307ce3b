"""``agentcost report``: the data payload (golden JSON, same figures as analyze), escaping, and
the page in a real browser (headless Chromium from the OS packages).

Regenerate the payload golden after an intended change: ``UPDATE_GOLDEN=1 pytest
tests/test_report.py``. Screenshots are kept in ``test-artifacts/`` (ignored by git).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import orjson
import pytest

from agentcost.analysis import AnalyzeOptions, analyze
from agentcost.report_data import ReportOptions, build_payload, clean
from agentcost.table import load

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden" / "report_payload.json"
ARTIFACTS = REPO / "test-artifacts"
SCENARIOS = REPO / "tests" / "fixtures" / "simulate" / "scenarios.yaml"
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync"]

pytest.importorskip("plotly")


def _payload(**kw):  # type: ignore[no-untyped-def]
    table = load(["sample_traces"], segments=False)
    return build_payload(table, ReportOptions(AnalyzeOptions(**kw)))


def _normalise(obj):  # type: ignore[no-untyped-def]
    text = orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    return re.sub(r'"data_fingerprint": "[0-9a-f]+"', '"data_fingerprint": "X"', text) + "\n"


def test_payload_golden(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(REPO)
    text = _normalise(_payload())
    if os.environ.get("UPDATE_GOLDEN") or not GOLDEN.exists():
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text(), f"payload differs from {GOLDEN} (UPDATE_GOLDEN=1)"


def test_payload_figures_are_analyze_figures(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(REPO)
    p = _payload()
    rep = analyze(load(["sample_traces"], segments=False))
    assert p["summary"]["cost_usd"] == rep.totals["cost_usd"]
    assert [t["cost_usd"] for t in p["tasks"]] == [t["cost_usd"] for t in rep.tasks[:10]]
    assert p["findings"] == rep.findings
    # the daily series per model adds up to each model's cost (to rounding of 8 decimals)
    for m in rep.models:
        daily = sum(d["cost_usd"] for d in p["daily"] if d["model"] == m["model"])
        assert daily == pytest.approx(m["cost_usd"], abs=1e-7)
    # the step series is the task's llm steps, uncached + read + write = input
    d = next(t for t in p["task_detail"] if t["task_id"] == "ticket-4713")
    s = d["input_series"]
    assert len(s["step"]) == d["llm_steps"] == 25
    for u, r, w, i in zip(s["uncached_input_tokens"], s["cache_read_tokens"],
                          s["cache_write_tokens"], s["input_tokens"], strict=True):
        assert u + r + w == i


def test_big_task_is_binned(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(REPO)
    table = load(["sample_traces"], segments=False)
    p = build_payload(table, ReportOptions(AnalyzeOptions(task="ticket-4713"), max_points=10,
                                           max_bars=20))
    (d,) = p["task_detail"]
    assert d["input_series"]["bin_size"] == 3 and len(d["input_series"]["step"]) == 9
    assert len(d["timeline"]) == 20 and d["timeline_truncated"] == 29


def test_escaping_no_script_injection_no_control_chars():  # type: ignore[no-untyped-def]
    from agentcost.render.html_report import payload_json

    evil = {"task_id": "</script><script>alert(1)</script>\x1b[31m\u2028&x\x00"}
    cleaned = clean(evil)
    assert cleaned["task_id"] == "</script><script>alert(1)</script>[31m&x"
    text = payload_json(cleaned)
    assert "</script" not in text and "<" not in text and "\x1b" not in text
    assert json.loads(text) == cleaned


def test_report_cli_writes_page(run, tmp_path):  # type: ignore[no-untyped-def]
    out = tmp_path / "r.html"
    res = run("report", "sample_traces", "-o", str(out), "--simulate", str(SCENARIOS))
    assert res.exit_code == 0, res.output
    html = out.read_text()
    assert html.count("<script") == 3 and "https://" not in html.split("<script>")[0]
    assert out.stat().st_size < 5_000_000
    m = re.search(r'<script type="application/json" id="payload">(.*?)</script>', html, re.S)
    assert m is not None
    payload = json.loads(m.group(1))
    names = [s["name"] for s in payload["simulation"]["scenarios"]]
    assert sorted(names) == sorted(["cache stable+last", "cascade haiku,sonnet",
                                    "nightly batch", "lean loop"])


def test_report_bad_input_exit_2(run, tmp_path):  # type: ignore[no-untyped-def]
    res = run("report", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "r.html"))
    assert res.exit_code == 2 and not (tmp_path / "r.html").exists()


# ----------------------------------------------------------------------------- browser


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium not found under CI (.ci/run installs it)")
        pytest.skip("chromium not installed (apt-get install chromium)")
    return exe


def open_page(page: Path, work: Path, screenshot: Path | None = None):  # type: ignore[no-untyped-def]
    """Load ``page`` in headless Chromium: (DOM after scripts ran, console lines, URLs the page
    requested over the network — from Chromium's own net log)."""
    exe = _chromium()
    net = work / "net.json"
    base = [exe, *CHROME_FLAGS, f"--user-data-dir={work / 'profile'}", "--window-size=1280,900",
            "--virtual-time-budget=8000", "--enable-logging=stderr", "--v=0",
            f"--log-net-log={net}"]
    res = subprocess.run([*base, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120)
    console = [ln for ln in res.stderr.splitlines() if ":CONSOLE" in ln]
    log = json.loads(net.read_text())
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    urls = [e["params"]["url"] for e in log["events"]
            if types[e["type"]] == "URL_REQUEST_START_JOB" and "url" in e.get("params", {})
            and "file://" in e["params"].get("network_isolation_key", "")
            and not e["params"]["url"].startswith(("file:", "data:", "blob:"))]
    if screenshot is not None:
        subprocess.run([*base[:-3], f"--screenshot={screenshot}", page.as_uri()],
                       capture_output=True, timeout=120, check=True)
    return res.stdout, console, urls


def test_browser_detector_sees_errors_and_requests(tmp_path):  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><script>console.error("boom");'
                   'fetch("http://127.0.0.1:9/x")</script></body></html>')
    _, console, urls = open_page(bad, tmp_path)
    assert any('"boom"' in c for c in console)
    assert urls == ["http://127.0.0.1:9/x"]


def test_report_renders_in_chromium(run, tmp_path):  # type: ignore[no-untyped-def]
    page = tmp_path / "report.html"
    res = run("report", "sample_traces", "-o", str(page), "--simulate", str(SCENARIOS))
    assert res.exit_code == 0, res.output
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    dom, console, urls = open_page(page, tmp_path, screenshot=shot)
    assert console == [] and urls == []
    assert 'data-rendered="1"' in dom
    charts = ["chart-daily", "chart-model-cost", "chart-model-tokens", "chart-tasks",
              "chart-sim", *[f"chart-steps-{i}" for i in range(5)],
              *[f"chart-gantt-{i}" for i in range(5)]]
    for cid in charts:
        m = re.search(rf'<div id="{cid}" class="chart[^"]*"[^>]*>(.*?)</svg>', dom, re.S)
        assert m is not None and 'class="main-svg"' in m.group(1), cid
        assert re.search(r'class="(point|bars|trace bars|scatterlayer)', dom)
    assert dom.count('class="main-svg"') >= 2 * len(charts)
    assert "ticket-4713" in dom and "cache-lost-money" in dom
    assert shot.stat().st_size > 10_000


def test_short_spans_chart_cost_per_hour(tmp_path) -> None:
    """Traces over at most two days get cost per hour (issue 12); longer ones per day."""
    import json as _json

    import agentcost
    from agentcost.report_data import ReportOptions, build_payload

    def payload(hours: list[int]) -> dict:
        rows = [{"task_id": f"t{h}", "kind": "llm", "provider": "anthropic",
                 "model": "claude-sonnet-4-6",
                 "started_at": f"2026-11-{2 + h // 24:02d}T{h % 24:02d}:10:00Z",
                 "duration_ms": 1000, "input_tokens": 1000, "output_tokens": 10}
                for h in hours]
        p = tmp_path / f"run{len(hours)}.jsonl"
        p.write_text("".join(_json.dumps(r) + "\n" for r in rows))
        return build_payload(agentcost.load([str(p)]), ReportOptions(AnalyzeOptions()))

    short = payload([0, 0, 5, 30])
    assert short["daily_bucket"] == "hour"
    assert [(d["day"], d["llm_calls"]) for d in short["daily"]] == [
        ("2026-11-02 00:00", 2), ("2026-11-02 05:00", 1), ("2026-11-03 06:00", 1)]
    long = payload([0, 5, 80])
    assert long["daily_bucket"] == "day"
    assert [d["day"] for d in long["daily"]] == ["2026-11-02", "2026-11-05"]


def test_big_input_gives_a_small_page(tmp_path):  # type: ignore[no-untyped-def]
    """3,000 tasks over 60 days and 4 models, each with a repeated tool call (a finding): the
    payload stays bounded by days x models, the top tasks, the charted tasks and the listed
    findings, not by the input (the 1 GiB measurement is in docs/report.md)."""
    from datetime import UTC, datetime, timedelta

    models = ["claude-sonnet-4-5", "claude-haiku-4-5", "gpt-5-mini", "gpt-4.1-mini"]
    t0 = datetime(2026, 9, 1, tzinfo=UTC)
    lines = []
    for i in range(3_000):
        start = t0 + timedelta(days=i % 60, minutes=i)
        m = models[i % 4]
        for j in range(3):
            at = start + timedelta(seconds=10 * j)
            lines.append({"task_id": f"task-{i:05d}", "kind": "llm", "model": m,
                          "started_at": at.isoformat(), "duration_ms": 1500,
                          "input_tokens": 2_000 * (j + 1), "cache_read_tokens": 1_000 * j,
                          "output_tokens": 80, "tool_calls": ["lookup"]})
            lines.append({"task_id": f"task-{i:05d}", "kind": "tool", "name": "lookup",
                          "started_at": (at + timedelta(seconds=2)).isoformat(),
                          "duration_ms": 300, "tool_input_hash": "same-args"})
    src = tmp_path / "big.jsonl"
    src.write_text("".join(json.dumps(x) + "\n" for x in lines))
    table = load([str(src)], segments=False)
    p = build_payload(table, ReportOptions(AnalyzeOptions()))
    assert p["findings_total"] >= 3_000 and len(p["findings"]) == 200
    assert len(p["daily"]) <= 60 * 4 and len(p["task_detail"]) == 5
    assert len(json.dumps(p)) < 300_000
