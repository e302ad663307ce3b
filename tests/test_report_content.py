"""``report --with-content``: prompt and response excerpts only when asked (issue 12)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from agentcost.content import excerpts
from tests.conftest import AUTHENTIC, REAL

SPOTTER = REAL / "claude-code-spotter"
WIRE = AUTHENTIC / "stand-in-wire-capture"


def _page(run: Any, tmp_path: Path, *args: str) -> tuple[str, dict[str, Any]]:
    out = tmp_path / f"r{len(list(tmp_path.iterdir()))}.html"
    res = run("report", *args, "-o", str(out))
    assert res.exit_code == 0, res.output
    html = out.read_text()
    m = re.search(r'<script type="application/json" id="payload">(.*?)</script>', html, re.S)
    assert m is not None
    return html, json.loads(m.group(1))


def _bars(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for d in payload["task_detail"] for b in d["timeline"] if b["kind"] == "llm"]


def test_no_prompt_text_unless_asked(run: Any, tmp_path: Path, real: Path) -> None:
    prompt = "Work on bead spotter-dov"  # the first user prompt of the session
    assert prompt in (SPOTTER / "4d5611e5-241a-462a-8d15-5122611a9569.jsonl").read_text()
    html, p = _page(run, tmp_path, str(SPOTTER))
    assert prompt not in html and p["with_content"] is False
    assert all("prompt" not in b for b in _bars(p))
    html, p = _page(run, tmp_path, str(SPOTTER), "--with-content")
    assert p["with_content"] is True and "This page contains prompt" in html
    bars = _bars(p)
    assert any((b["prompt"] or "").startswith(prompt) for b in bars)
    assert all(len(b["prompt"] or "") <= 400 and len(b["response"] or "") <= 400 for b in bars)
    assert sum(1 for b in bars if b["response"]) == len(bars)  # text or the tool it called


def test_raw_bodies_and_streams(run: Any, tmp_path: Path, authentic: Path) -> None:
    _, p = _page(run, tmp_path, str(WIRE), "--with-content", "--task-charts", "6")
    bars = _bars(p)
    assert bars and all(b["prompt"] and b["response"] for b in bars)
    joined = " ".join(b["response"] for b in bars)
    assert "[tool call: get_weather]" in joined  # JSON bodies and SSE streams alike


def test_excerpts_are_cut_and_cleaned(run: Any, tmp_path: Path) -> None:
    body = {"model": "claude-sonnet-4-5", "max_tokens": 10,
            "messages": [{"role": "user", "content": "x\x1b[31m " + "word " * 200}]}
    resp = {"type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
            "usage": {"input_tokens": 900, "output_tokens": 1}}
    p = tmp_path / "raw.jsonl"
    p.write_text(json.dumps({"request": body, "response": resp,
                             "started_at": "2026-11-20T10:00:00Z",
                             "ended_at": "2026-11-20T10:00:01Z"}) + "\n")
    got = excerpts([(str(p), 1, "raw")], max_chars=50)[(str(p), 1)]
    assert got.response == "ok" and len(got.prompt or "") == 50 and got.prompt.endswith("…")
    html, payload = _page(run, tmp_path, str(p), "--with-content")
    assert "\x1b" not in html and _bars(payload)[0]["prompt"].startswith("x[31m word")
