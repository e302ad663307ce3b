"""Bad input never crashes the CLI nor leaks control characters: one regression test per bug.

Rule checked (DESIGN.md §7): bad input gives exit 0 (a counted malformed line or note) or 2 (a
one-line error naming the file), never 70 (a bug) nor an uncaught exception, and nothing from a
trace reaches the terminal as a control character (ESC, BEL, CR, NUL, DEL, C1).
"""

from __future__ import annotations

import gzip
import json
import re
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REAL, REPO

# what must never reach the terminal: C0 controls except \n and \t, DEL, and C1 controls
BAD_OUTPUT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _check(res: Any, allowed: set[int]) -> str | None:
    """Why a CLI run broke the rule, or None."""
    exc = res.exception
    if exc is not None and not isinstance(exc, SystemExit):
        tb = "".join(traceback.format_exception(exc)).strip().splitlines()
        return f"uncaught {type(exc).__name__}: {exc}; {' | '.join(tb[-6:])}"
    if res.exit_code not in allowed:
        err = res.stderr.strip().splitlines()
        return f"exit {res.exit_code}; stderr: {err[-3:]}"
    for stream in ("stdout", "stderr"):
        text = getattr(res, stream)
        m = BAD_OUTPUT.search(text)
        if m:
            ctx = text[max(0, m.start() - 60): m.end() + 20]
            return f"control character {m.group()!r} on {stream}: {ctx!r}"
    return None


def _invoke(args: list[str], debug: bool = False) -> Any:
    """The CLI in-process (exceptions caught: an uncaught one shows as ``res.exception``)."""
    from typer.testing import CliRunner

    from agentcost.cli import app

    return CliRunner().invoke(app, args, env={"AGENTCOST_DEBUG": "1" if debug else None})


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """As the golden files were made, from a folder with no agentcost.yaml."""
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("AGENTCOST_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)


def _ok(res: Any, allowed: tuple[int, ...] = (0,)) -> None:
    why = _check(res, set(allowed))
    assert why is None, why


def _agentcost_line(**fields: Any) -> str:
    """One agentcost JSONL step (an llm call of task t1 unless ``fields`` say otherwise)."""
    row = {"task_id": "t1", "kind": "llm", "name": "plan", "provider": "openai",
           "model": "gpt-4o", "started_at": "2026-11-02T09:00:00Z", "duration_ms": 100,
           "input_tokens": 100, "output_tokens": 10, **fields}
    return json.dumps(row) + "\n"


# ------------------------------------------------------------------ regressions
# One small hand-made input per root cause the fuzzer found; each failed before its fix.


def _run_all_ok(path: Path, allowed: tuple[int, ...] = (0,)) -> None:
    for args in (["analyze", str(path)], ["analyze", str(path), "--format", "json"],
                 ["simulate", str(path), "--cache", "auto"]):
        _ok(_invoke(args), allowed)


CONTROL_TRACE = "".join(_agentcost_line(**kw) for kw in (
    dict(task_id="t\x1b[31m1", name="plan\x07", model="gpt-4o\x9b31m",
         tool_calls=["bash\x1b]0;pwned\x07"], stop_reason="tool_use\r"),
    dict(task_id="t\x1b[31m1", kind="tool", name="bash\x1b]0;pwned\x07", model=None,
         input_tokens=None, output_tokens=None, started_at="2026-11-02T09:00:01Z"),
    dict(task_id="\u202eevil\x00", model="claude-sonnet-4-5\x7f", provider="anthropic"),
))


@pytest.mark.parametrize("args", [
    [], ["--steps"], ["--task", "t\x1b[31m1"], ["--task", "t\x1b[31m1", "--chart"],
    ["--chart"], ["--group-by", "model"], ["--explain-misses"], ["-f", "markdown"],
    ["-f", "csv"], ["-f", "json"], ["-f", "jsonl"], ["-f", "markdown", "--task", "t\x1b[31m1"],
    ["-f", "csv", "--steps"], ["-f", "markdown", "--explain-misses"],
])
def test_regression_control_characters_in_analyze(cli_env: None, tmp_path: Path,
                                                  args: list[str]) -> None:
    """render.safe: task ids, model and tool names holding ESC, BEL, CR, NUL, DEL, C1 and a
    bidi override print as visible escapes in every analyze format; JSON keeps them exactly."""
    path = tmp_path / "controls.jsonl"
    path.write_text(CONTROL_TRACE)
    res = _invoke(["analyze", str(path), *args])
    _ok(res)
    if "-f" not in args:
        assert "\\x1b[31m" in res.stdout or "\\x9b31m" in res.stdout  # shown, not obeyed
    elif args[1] in ("json", "jsonl"):
        docs = ([json.loads(x) for x in res.stdout.splitlines()] if args[1] == "jsonl"
                else json.loads(res.stdout)["tasks"])
        assert "t\x1b[31m1" in {d["task_id"] for d in docs}  # lossless


@pytest.mark.parametrize("args", [
    ["simulate", "--cache", "auto"], ["simulate", "--cache", "auto", "-f", "markdown"],
    ["simulate", "--cache", "auto", "-f", "csv"], ["simulate", "--cache", "auto", "-f", "json"],
    ["check", "--baseline", "baseline.json"],
    ["check", "--baseline", "baseline.json", "-f", "markdown", "--junit", "junit.xml"],
    ["audit-prompt"], ["audit-prompt", "-f", "markdown"], ["audit-prompt", "-f", "sarif"],
])
def test_regression_control_characters_in_other_commands(cli_env: None, tmp_path: Path,
                                                         args: list[str]) -> None:
    """render.safe in simulate, check (against a baseline with other token counts, JUnit too)
    and audit-prompt (a prompt file whose excerpts hold ANSI sequences)."""
    path = tmp_path / "controls.jsonl"
    path.write_text(CONTROL_TRACE)
    if args[0] == "check":
        (tmp_path / "base.jsonl").write_text(CONTROL_TRACE.replace('"input_tokens": 100',
                                                                   '"input_tokens": 40'))
        _ok(_invoke(["analyze", "base.jsonl", "-f", "json", "--steps", "-o", "baseline.json"]))
    if args[0] == "audit-prompt":
        path = tmp_path / "prompt.txt"
        path.write_text("You are a support agent for ACME.\nCurrent time: 2026-05-12T10:00:00Z "
                        "\x1b[31mred\x1b[0m \x07\x9b2J request 3f9a2c1e-aaaa-bbbb-cccc-1234567\n")
    res = _invoke([args[0], str(path), *args[1:]])
    _ok(res, (0, 1, 3))  # 1: a gate failed or findings; 3: inconclusive (an unpriced model)
    if "--junit" in args:
        assert not BAD_OUTPUT.search((tmp_path / "junit.xml").read_text())


def test_regression_control_characters_in_error_messages(cli_env: None, tmp_path: Path) -> None:
    """cli._fail: the one-line error quotes the file name, escaped."""
    path = tmp_path / "run\x1b[2J\x07.jsonl"
    path.write_text("")
    res = _invoke(["analyze", str(path)])
    _ok(res, (2,))
    assert "file is empty" in res.stderr and "run\\x1b[2J\\x07.jsonl" in res.stderr


@pytest.mark.parametrize("seed", [REPO / "sample_traces" / "support_agent.jsonl",
                                  REAL / "claude-code-spotter" / "short.jsonl"])
def test_regression_damaged_gzip(cli_env: None, tmp_path: Path, seed: Path) -> None:
    """ingest.base.Source and the Claude Code scanner (which reads lines itself): a corrupt
    deflate stream (zlib.error) is a one-line error naming the file, not an internal error."""
    data = bytearray(gzip.compress(seed.read_bytes(), mtime=0))
    mid = len(data) // 2
    data[mid: mid + 40] = bytes(b ^ 0x55 for b in data[mid: mid + 40])
    path = tmp_path / f"{seed.stem}.jsonl.gz"
    path.write_bytes(bytes(data))
    res = _invoke(["analyze", str(path)])
    _ok(res, (2,))
    assert f"{path}: cannot read" in res.stderr


DEEP_LIST = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("cmd,name,text", [
    # the OTLP reader's fallback decoder, the standard library's, on a pretty-printed file
    ("analyze", "deep.json", '{\n "resourceSpans": [{"scopeSpans": []}],\n "x": ' + DEEP_LIST
     + "}"),
    # audit's request-body sniff (the standard library's decoder) on a trace file
    ("audit-prompt", "deep.json", '{"resourceSpans": [], "x": ' + DEEP_LIST + "}"),
    # audit.sources._JsonPos, a recursive parser, on a request body
    ("audit-prompt", "body.json", '{"model": "gpt-4o", "messages": ' + DEEP_LIST + "}"),
    # PyYAML's composer on a YAML request body
    ("audit-prompt", "body.yaml", "model: gpt-4o\nmessages: " + DEEP_LIST[:4000]
     + DEEP_LIST[-4000:]),
])
def test_regression_deeply_nested_json(cli_env: None, tmp_path: Path, cmd: str, name: str,
                                       text: str) -> None:
    """Nesting deeper than a parser recurses is bad JSON or YAML (exit 2, or a counted
    malformed line), not a RecursionError."""
    path = tmp_path / name
    path.write_text(text + "\n")
    _ok(_invoke([cmd, str(path)]), (0, 1, 2))


def _span_js(start: str) -> str:
    """An OTel-JS span export (Vercel AI SDK) whose start time is ``start`` (raw JSON)."""
    return ('[{"name": "ai.generateText.doGenerate", "spanContext": {"traceId": '
            '"b3e700af9eab81e19f72f964d62a35af", "spanId": "39d6e9b3ddec9996"}, "attributes": '
            '{"ai.operationId": "ai.generateText.doGenerate", "ai.model.provider": '
            '"openai.responses", "ai.model.id": "gpt-4o-mini", "gen_ai.request.model": '
            '"gpt-4o-mini", "ai.usage.promptTokens": 14, "ai.usage.completionTokens": 20}, '
            f'"status": {{"code": 0}}, "startTime": {start}, "endTime": [1770131994, 21415667], '
            '"events": []}]\n')


@pytest.mark.parametrize("name,text", [
    # otlp._ns: an OTel-JS hrtime [seconds, nanos] holding Infinity or NaN, or past 2262
    ("hrtime-infinity", _span_js("[Infinity, 0]")),
    ("hrtime-nan", _span_js("[1770131992, NaN]")),
    ("hrtime-2**64", _span_js("[18446744073709551617, 0]")),
    # steps.to_utc_ns: epoch numbers and ISO times past what datetime64[ns] holds
    ("epoch-1e30", _agentcost_line(started_at=1e30)),
    ("iso-year-9999", _agentcost_line(started_at="9999-12-31T23:59:59Z")),
    # claude_code._ns, the Claude Code reader's fast path for its own timestamps
    ("claude-code-year-9999", '{"type": "assistant", "uuid": "u1", "parentUuid": null, '
     '"sessionId": "s1", "timestamp": "9999-02-12T16:02:25.227Z", "message": {"id": "m1", '
     '"model": "claude-sonnet-4-5", "role": "assistant", "content": [], "usage": '
     '{"input_tokens": 10, "output_tokens": 5}}}\n'),
])
def test_regression_times_out_of_range(cli_env: None, tmp_path: Path, name: str,
                                       text: str) -> None:
    """A time that is not finite or lies outside 1740-2200 is unknown, not an OverflowError
    when the time columns are built."""
    path = tmp_path / f"{name}.json"
    path.write_text(text)
    _run_all_ok(path)


@pytest.mark.parametrize("duration", [1e300, 2**63])
def test_regression_durations_out_of_range(cli_env: None, tmp_path: Path,
                                           duration: float) -> None:
    """ingest._consume: a step duration pandas cannot add to its start time (OutOfBounds-
    Timedelta) is unknown, and the ingest report says so."""
    path = tmp_path / "run.jsonl"
    path.write_text(_agentcost_line(duration_ms=duration))
    _run_all_ok(path)
    notes = json.loads(_invoke(["analyze", str(path), "-f", "json"]).stdout)["ingest"]["notes"]
    assert any("taken as unknown" in n for n in notes)


def _otlp_line(attributes: str, spans: str | None = None) -> str:
    """One OTLP/JSON line: one GenAI chat span with the given raw attribute list (or the raw
    ``spans`` value instead)."""
    span = ('{"traceId": "23d1e36d0fc30956b278b21a62df4d2a", "spanId": "dfcc3261e6fb7d67", '
            '"name": "chat gpt-4.1-mini", "kind": 3, "startTimeUnixNano": "1795278811579898575", '
            '"endTimeUnixNano": "1795278811720037183", "attributes": ' + attributes + '}')
    return ('{"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"scope": '
            '{"name": "opentelemetry.util.genai.handler"}, "spans": '
            + (spans if spans is not None else f"[{span}]") + '}]}]}\n')


GENAI_ATTRS = ('{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}}, '
               '{"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4.1-mini"}}, '
               '{"key": "gen_ai.usage.input_tokens", "value": {"intValue": "2894"}}, '
               '{"key": "gen_ai.usage.output_tokens", "value": {"intValue": "26"}}')


@pytest.mark.parametrize("key", ["null", '[1, "a"]', "1.5"])
def test_regression_attribute_key_not_a_string(cli_env: None, tmp_path: Path, key: str) -> None:
    """otel_attrs.attr_dict: an OTLP attribute whose key is not a string is left out, not a
    TypeError (unhashable) or AttributeError (``.startswith``) further on."""
    path = tmp_path / "run.otlp.jsonl"
    path.write_text(_otlp_line(f'[{{"key": {key}, "value": {{"stringValue": "x"}}}}, '
                               f'{GENAI_ATTRS}]'))
    _run_all_ok(path)


RAW_CALL = ('{"request": {"model": "gpt-4o", "messages": MESSAGES}, "response": {"id": "c1", '
            '"object": "chat.completion", "model": "gpt-4o", "choices": CHOICES, "usage": '
            '{"prompt_tokens": 10, "completion_tokens": 2}}}\n')


@pytest.mark.parametrize("name,text", [
    ("otlp-spans", lambda: _otlp_line("[]", spans="7")),
    ("raw-choices", lambda: RAW_CALL.replace("MESSAGES", "[]").replace("CHOICES", "-1")),
    ("raw-tool-calls", lambda: RAW_CALL.replace("MESSAGES", "[]").replace(
        "CHOICES", '[{"index": 0, "message": {"role": "assistant", "tool_calls": 3}}]')),
    ("raw-messages", lambda: RAW_CALL.replace("MESSAGES", "5").replace("CHOICES", "[]")),
    ("openhands-tool-calls", lambda: _openhands(1, "tool_call_metadata", "model_response",
                                                "choices", 0, "message", "tool_calls", value=-1)),
])
def test_regression_number_where_a_list_belongs(cli_env: None, tmp_path: Path, name: str,
                                                text: Callable[[], str]) -> None:
    """common.as_list in the readers: a list field (spans, choices, tool_calls, messages)
    holding a number contributes nothing instead of raising TypeError ("not iterable")."""
    path = tmp_path / f"{name}.json"
    path.write_text(text())
    _run_all_ok(path)


def _openhands(event: int, *keys: str | int, value: Any) -> str:
    """The real OpenHands trajectory basic.json with ``events[event][keys...]`` set."""
    events = json.loads((REAL / "openhands" / "runtime-trajs" / "basic.json").read_bytes())
    node = events[event]
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = value
    return json.dumps(events)


def _codex(line: int, value: Any) -> str:
    """The first lines of the real Codex rollout, line ``line``'s ``payload.type`` set."""
    path = sorted((REAL / "codex-codemie").glob("*.jsonl"))[0]
    lines = path.read_bytes().splitlines()[:12]
    obj = json.loads(lines[line - 1])
    obj["payload"]["type"] = value
    lines[line - 1] = json.dumps(obj).encode()
    return b"\n".join(lines).decode() + "\n"


@pytest.mark.parametrize("name,text", [
    ("codex-item-type", lambda: _codex(3, [1, "a"])),
    ("codex-event-type", lambda: _codex(next(
        i for i, raw in enumerate(sorted((REAL / "codex-codemie").glob("*.jsonl"))[0]
                                  .read_bytes().splitlines()[:12], 1)
        if b'"type":"event_msg"' in raw), {"a": 1})),
    ("openhands-action", lambda: _openhands(1, "action", value={"a": 1})),
    ("openhands-cause", lambda: _openhands(2, "cause", value=[3])),
    ("openhands-id", lambda: _openhands(1, "id", value={"a": 1})),
])
def test_regression_unhashable_type_fields(cli_env: None, tmp_path: Path, name: str,
                                           text: Callable[[], str]) -> None:
    """common.as_str and openhands._event_id: a ``type``, ``action``, ``id`` or ``cause``
    holding a list or an object matches nothing, instead of raising TypeError (unhashable)
    when looked up in a set or a dict."""
    path = tmp_path / f"{name}.json"
    path.write_text(text())
    _run_all_ok(path)


@pytest.mark.parametrize("name,text", [
    ("token-superscript", lambda: _agentcost_line(cache_read_tokens="\u00b2")),
    ("token-5000-digits", lambda: _agentcost_line(output_tokens="9" * 5000)),
    ("otlp-time-superscript", lambda: _otlp_line(f"[{GENAI_ATTRS}]").replace(
        '"1795278811579898575"', '"\u00b2"')),
    ("iso-fraction-superscript", lambda: _agentcost_line(
        started_at="2026-11-02T09:00:00.1234567\u00b2Z")),
])
def test_regression_digit_strings(cli_env: None, tmp_path: Path, name: str,
                                  text: Callable[[], str]) -> None:
    """steps.int_text: ``str.isdigit`` is true for "²" and for digit runs longer than
    ``int()`` converts, which then raised ValueError; such a count is malformed, such a time
    unknown."""
    path = tmp_path / f"{name}.json"
    path.write_text(text())
    _run_all_ok(path)
