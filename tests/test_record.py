"""agentcost.record and ``agentcost record``: the real anthropic and openai SDKs against the
stand-in server (tests/standin_server.py) on 127.0.0.1; nothing on the client side is mocked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import agentcost.record as record
from tests import agent_loops
from tests.conftest import REPO, canonical
from tests.standin_server import Standin, anthropic_events, standin_fixture

APIS = ("messages", "chat", "responses")
MODES = ("sync", "stream", "async", "async-stream", "raw")
API_NAME = {"messages": "messages", "chat": "chat.completions", "responses": "responses"}
SECRETS = ("sk-ant-secret-123", "sk-secret-456")
AGENTCOST = str(Path(sys.executable).with_name("agentcost"))


@pytest.fixture
def standin() -> Any:
    yield from standin_fixture()


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def server_totals(st: Standin) -> dict[str, int]:
    tot = {"input_tokens": 0, "cache_read_tokens": 0, "output_tokens": 0}
    for c in st.model_calls():
        can = canonical({"endpoint": API_NAME[c["api"]], "usage": c["usage"]})
        for k in tot:
            tot[k] += can[k] or 0
    return tot


def analyze_json(run: Any, path: Path) -> dict[str, Any]:
    res = run("analyze", str(path), "--format", "json")
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
def test_agent_loop_recorded_call_for_call(
    standin: Standin, tmp_path: Path, run: Any, api: str, mode: str
) -> None:
    out = tmp_path / "run.jsonl"
    with record.to(out) as rec:
        calls = agent_loops.run(standin.port, api, mode)
    assert calls == 4 and rec.failures == 0
    lines, served = lines_of(out), standin.model_calls()
    assert len(lines) == len(served) == 4
    for line, call in zip(lines, served, strict=True):
        assert line["usage"] == call["usage"]  # exactly as returned, streamed or not
        assert line["api"] == API_NAME[api] and line["model"] == call["model"]
        assert line["response_model"] == call["answer"]["model"]
        assert line["request"] == call["request"]
        assert line["stream"] is mode.endswith("stream")
        assert (line.get("ttft_ms") is not None) is mode.endswith("stream")
        assert line["status"] == 200 and line["attempt"] == 0 and line["is_error"] is False
    turns = standin.script
    assert [x["tool_calls"] for x in lines] == [[t.tool] if t.tool else [] for t in turns]
    assert [[tc["arguments"] for tc in x["answer"]["tool_calls"]] for x in lines] == [
        [t.args] if t.tool else [] for t in turns
    ]
    assert lines[-1]["answer"]["text"] == turns[-1].text
    stops = {
        "messages": ("tool_use", "end_turn"),
        "chat": ("tool_calls", "stop"),
        "responses": ("completed", "completed"),
    }[api]
    assert [x["stop_reason"] for x in lines] == [stops[0]] * 3 + [stops[1]]
    assert all(s not in out.read_text() for s in SECRETS)
    # analyze on the recording equals the server's totals
    totals = analyze_json(run, out)["totals"]
    assert {
        k: totals[k] for k in ("input_tokens", "cache_read_tokens", "output_tokens")
    } == server_totals(standin)
    assert totals["llm_calls"] == 4 and totals["tasks"] == 1
    assert totals["cost_usd"] > 0 and not totals["cost_is_lower_bound"]


def test_anthropic_5m_1h_split_and_ttft(standin: Standin, tmp_path: Path, run: Any) -> None:
    standin.event_delay_s = 0.01
    out = tmp_path / "run.jsonl"
    with record.to(out):
        agent_loops.run(standin.port, "messages", "stream")
    res = run("analyze", str(out), "--format", "json", "--steps")
    steps = [s for s in json.loads(res.stdout)["steps"] if s["kind"] == "llm"]
    served = [c["usage"]["cache_creation"] for c in standin.model_calls()]
    assert [s["cache_write_1h_tokens"] for s in steps] == [
        c["ephemeral_1h_input_tokens"] for c in served
    ]
    assert [s["cache_write_5m_tokens"] for s in steps] == [
        c["ephemeral_5m_input_tokens"] for c in served
    ]
    assert served[0]["ephemeral_1h_input_tokens"] > 0 and served[1]["ephemeral_5m_input_tokens"]
    for line in lines_of(out):
        # the first content event comes after message_start and content_block_start, each
        # sent 10 ms apart: TTFT is later than the first byte and earlier than the end
        assert 25 <= line["ttft_ms"] < line["duration_ms"]


def test_stream_reaches_the_user_unchanged(standin: Standin, tmp_path: Path) -> None:
    import anthropic

    client = anthropic.Anthropic(base_url=standin.anthropic_url, api_key=SECRETS[0])
    kw: dict[str, Any] = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 64,
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
    }
    got: list[list[str]] = []
    for recorded in (False, True):
        if recorded:
            rec = record.instrument(tmp_path / "run.jsonl")
        with client.messages.with_streaming_response.create(**kw) as resp:
            got.append(list(resp.iter_lines()))
        if recorded:
            record.uninstrument(rec)
    for lines, call in zip(got, standin.model_calls(), strict=True):
        expected = []
        for name, data in anthropic_events(call["answer"]):
            expected += [f"event: {name}", f"data: {json.dumps(data)}", ""]
        assert lines == expected
    assert len(lines_of(tmp_path / "run.jsonl")) == 1


def test_task_context_and_env(
    standin: Standin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openai

    client = openai.OpenAI(base_url=standin.openai_url, api_key=SECRETS[1])
    out = tmp_path / "run.jsonl"
    with record.to(out):
        with record.task("ticket-1"):
            agent_loops.chat_loop(client, "sync")
        monkeypatch.setenv("AGENTCOST_TASK", "from-env")
        agent_loops.chat_loop(client, "sync")
        with record.task("ticket-2"):
            agent_loops.chat_loop(client, "sync")
    assert [x["task_id"] for x in lines_of(out)] == ["ticket-1"] * 4 + ["from-env"] * 4 + [
        "ticket-2"
    ] * 4


def test_no_content_keeps_counts_not_text(standin: Standin, tmp_path: Path, run: Any) -> None:
    out = tmp_path / "run.jsonl"
    with record.to(out, content=False):
        agent_loops.run(standin.port, "messages", "sync")
    text = out.read_text()
    for secret_text in (
        agent_loops.QUESTION,
        agent_loops.SYSTEM,
        standin.script[-1].text,
        "refund policy",
        "A-1001",
        *SECRETS,
    ):
        assert secret_text not in text
    for line, call in zip(lines_of(out), standin.model_calls(), strict=True):
        assert "request" not in line and "text" not in line["answer"]
        assert line["usage"] == call["usage"]
        can = canonical({"endpoint": "messages", "usage": call["usage"]})
        assert sum(s["tokens"] for s in line["segments"]) == can["input_tokens"]
        assert [s["role"] for s in line["segments"]][:4] == ["tools", "tools", "tools", "system"]
    assert (
        analyze_json(run, out)["totals"]["input_tokens"] == server_totals(standin)["input_tokens"]
    )


def test_retries_are_lines_of_their_own(standin: Standin, tmp_path: Path, run: Any) -> None:
    import anthropic

    standin.fail_next = [
        (529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    ]
    out = tmp_path / "run.jsonl"
    with record.to(out):
        client = anthropic.Anthropic(
            base_url=standin.anthropic_url, api_key=SECRETS[0], max_retries=2
        )
        client.messages.create(
            model="claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
        )
    first, second = lines_of(out)
    assert (first["attempt"], first["status"], first["is_error"]) == (0, 529, True)
    assert first["error"] == {"type": "overloaded_error", "message": "Overloaded"}
    assert first["usage"] is None
    assert (second["attempt"], second["status"], second["is_error"]) == (1, 200, False)
    totals = analyze_json(run, out)["totals"]
    assert totals["llm_calls"] == 2 and not totals["cost_is_lower_bound"]  # failed: $0


def test_connection_error_recorded_and_raised_unchanged(tmp_path: Path) -> None:
    import socket

    import openai

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = openai.OpenAI(
        base_url=f"http://127.0.0.1:{port}/v1", api_key=SECRETS[1], max_retries=0
    )
    out = tmp_path / "run.jsonl"
    with record.to(out), pytest.raises(openai.APIConnectionError):
        client.responses.create(model="gpt-5", input="hi")
    (line,) = lines_of(out)
    assert line["is_error"] and line["error"]["type"] == "ConnectError"
    assert line["status"] is None and line["usage"] is None


def test_a_failing_recorder_never_breaks_the_call(
    standin: Standin, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import openai

    client = openai.OpenAI(base_url=standin.openai_url, api_key=SECRETS[1])
    with record.to(tmp_path / "run.jsonl") as rec:
        ro = os.open(os.devnull, os.O_RDONLY)
        os.dup2(ro, rec.fd)  # the file is now open read-only: every write fails (EBADF)
        os.close(ro)
        assert agent_loops.chat_loop(client, "stream") == 4
        assert agent_loops.chat_loop(client, "sync") == 4
    assert rec.failures == 8 and rec.lines == 0
    err = capsys.readouterr().err
    assert err.count("agentcost record: a call was not recorded (OSError") == 1


def test_existing_file_is_never_replaced_unless_asked(standin: Standin, tmp_path: Path) -> None:
    out = tmp_path / "run.jsonl"
    out.write_text("keep me\n")
    with pytest.raises(FileExistsError):
        record.instrument(out)
    with record.to(out, append=True):
        agent_loops.run(standin.port, "responses", "sync")
    assert out.read_text().startswith("keep me\n") and len(out.read_text().splitlines()) == 5
    with record.to(out, overwrite=True):
        agent_loops.run(standin.port, "responses", "sync")
    assert len(lines_of(out)) == 4


def test_count_tokens_and_other_endpoints_are_not_model_calls(
    standin: Standin, tmp_path: Path
) -> None:
    import anthropic
    import openai

    out = tmp_path / "run.jsonl"
    with record.to(out):
        anthropic.Anthropic(base_url=standin.anthropic_url, api_key="k").messages.count_tokens(
            model="claude-sonnet-4-5", messages=[{"role": "user", "content": "hi"}]
        )
        openai.OpenAI(base_url=standin.openai_url, api_key="k").responses.input_tokens.count(
            model="gpt-5", input="hi"
        )
    assert out.read_text() == ""


# -- agentcost record -- COMMAND ------------------------------------------------------------------

CHILDREN = """
import subprocess, sys
sys.path.insert(0, {repo!r})
from tests import agent_loops
agent_loops.run({port}, "messages", "sync")
subprocess.run([sys.executable, "-c",
                "import sys; sys.path.insert(0, {repo!r}); from tests import agent_loops; "
                "agent_loops.run({port}, 'chat', 'stream')"], check=True)
sys.exit(3)
"""


def test_record_command_records_child_python_processes(
    standin: Standin, tmp_path: Path, run: Any
) -> None:
    script = tmp_path / "agent.py"
    script.write_text(CHILDREN.format(repo=str(REPO), port=standin.port))
    out = tmp_path / "run.jsonl"
    proc = subprocess.run(
        [AGENTCOST, "record", "-o", str(out), "--", sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 3, proc.stderr  # the command's own exit code
    assert "agentcost: recorded 8 calls to" in proc.stderr
    lines = lines_of(out)
    assert [x["api"] for x in lines] == ["messages"] * 4 + ["chat.completions"] * 4
    assert [x["usage"] for x in lines] == [c["usage"] for c in standin.model_calls()]
    assert len({x["task_id"] for x in lines}) == 1  # one run: one task unless told otherwise
    assert totals_match(run, out, standin)
    again = subprocess.run(
        [AGENTCOST, "record", "-o", str(out), "--", sys.executable, "-c", "pass"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 2 and "exists; give --append" in again.stderr
    assert len(lines_of(out)) == 8


def totals_match(run: Any, out: Path, st: Standin) -> bool:
    totals = analyze_json(run, out)["totals"]
    return {
        k: totals[k] for k in ("input_tokens", "cache_read_tokens", "output_tokens")
    } == server_totals(st)


def test_record_command_no_content_and_existing_sitecustomize(
    standin: Standin, tmp_path: Path
) -> None:
    own = tmp_path / "own"
    own.mkdir()
    (own / "sitecustomize.py").write_text("import os\nos.environ['OWN_SITE_RAN'] = '1'\n")
    script = tmp_path / "agent.py"
    script.write_text(
        textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(REPO)!r})
        from tests import agent_loops
        assert os.environ.get("OWN_SITE_RAN") == "1"
        agent_loops.run({standin.port}, "responses", "async-stream")
    """)
    )
    out = tmp_path / "run.jsonl"
    env = {**os.environ, "PYTHONPATH": str(own)}
    proc = subprocess.run(
        [AGENTCOST, "record", "--no-content", "-o", str(out), "--", sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = lines_of(out)
    assert len(lines) == 4 and all("request" not in x and x["segments"] for x in lines)
    assert agent_loops.QUESTION not in out.read_text()


def test_record_command_errors_are_one_line(tmp_path: Path) -> None:
    out = tmp_path / "run.jsonl"
    for args, message in (
        (["--", "no-such-command-xyz"], "command not found"),
        (["--append", "--force", "--", "true"], "exclude each other"),
    ):
        proc = subprocess.run(
            [AGENTCOST, "record", "-o", str(out), *args], capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 2 and message in proc.stderr
        assert "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_a_recording_feeds_audit_and_simulate(standin: Standin, tmp_path: Path, run: Any) -> None:
    out = tmp_path / "run.jsonl"
    with record.to(out):
        agent_loops.run(standin.port, "responses", "stream")
    res = run("audit-prompt", str(out), "--format", "json")
    assert res.exit_code == 0, res.output
    traces = json.loads(res.stdout)["summary"]["traces"]
    assert traces["llm_calls"] == 4 and traces["calls_with_segments"] == 4
    res = run("simulate", str(out), "--cache", "auto", "--format", "json")
    assumptions = json.loads(res.stdout)["scenarios"][0]["assumptions"]
    assert "Prompt prefixes from the requests' segments (exact)." in assumptions
