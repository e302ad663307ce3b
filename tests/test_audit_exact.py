"""``audit-prompt --exact``: exact counts through the real SDKs (anthropic
``messages.count_tokens``, openai ``responses.input_tokens.count``) against the stand-in server
(tests/standin_server.py), whose count of a request is a fixed base, the words of its strings and
3 per message — so the count of a text is its number of words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentcost.audit.prompt import audit_text
from tests.standin_server import Standin, standin_fixture

STYLE = "Follow the style guide carefully and cite sources. "  # 8 words


@pytest.fixture
def standin() -> Any:
    yield from standin_fixture()


def test_claude_exact_count_decides_short_prefix(
    standin: Standin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", standin.anthropic_url)
    text = (STYLE * 100).strip()  # 800 words: offline, a Claude estimate near 1,024
    found = audit_text(text + "\n", model="claude-sonnet-4-6", exact=True, api_key="sk-ant-x")
    (sp,) = [f for f in found if f.rule == "short-prefix"]
    # exact: 800 tokens, so the borderline estimate becomes a definite "below"
    assert sp.severity == "warning" and "~800 tokens and is below" in sp.message
    assert "estimated" not in sp.message
    counts = [c for c in standin.calls if c["api"] == "count_tokens"]
    assert len(counts) == 2 and counts[0]["request"]["system"] == text + "\n"
    h = standin.seen_headers[0]
    assert "sk-ant-x" in (h.get("x-api-key"), h.get("authorization", "").removeprefix("Bearer "))
    long_text = (STYLE * 140).strip()  # 1,120 words >= 1,024: no finding
    assert (
        audit_text(long_text + "\n", model="claude-sonnet-4-6", exact=True, api_key="sk-ant-x")
        == []
    )


def test_openai_exact_count_where_no_offline_tokenizer(
    standin: Standin, tmp_path: Path, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", standin.openai_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-x")
    p = tmp_path / "prompt.txt"
    p.write_text((STYLE * 90).strip() + "\n")  # 720 words
    res = run("audit-prompt", str(p), "--model", "gpt-6-astra", "--exact", "--format", "json")
    assert res.exit_code in (0, 1), res.stderr
    text = res.stdout
    assert '"method": "openai input_tokens"' in text and '"tokens": 720' in text, text
    counts = [c for c in standin.calls if c["api"] == "input_tokens"]
    assert len(counts) == 2 and counts[0]["request"]["instructions"] == p.read_text()
    assert standin.seen_headers[0]["authorization"] == "Bearer sk-openai-x"


def test_exact_failures_are_one_line_errors(
    standin: Standin, tmp_path: Path, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = tmp_path / "prompt.txt"
    p.write_text((STYLE * 90).strip() + "\n")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", standin.anthropic_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-x")
    standin.fail_next = [
        (400, {"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}})
    ]
    res = run("audit-prompt", str(p), "--model", "claude-sonnet-4-6", "--exact")
    assert res.exit_code == 2
    assert "--exact: Anthropic count_tokens answered HTTP 400" in res.stderr
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    res = run("audit-prompt", str(p), "--model", "claude-sonnet-4-6", "--exact")
    assert res.exit_code == 2 and "--exact needs ANTHROPIC_API_KEY" in res.stderr
