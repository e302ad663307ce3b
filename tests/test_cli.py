"""CLI behaviour: golden outputs (COLUMNS=100, NO_COLOR, TZ=UTC), exit codes, bad input.

Regenerate goldens after an intended change: ``UPDATE_GOLDEN=1 pytest tests/test_cli.py``.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO, assert_golden

_golden = assert_golden


@pytest.mark.parametrize("name,args", [
    ("analyze_samples.txt", ["analyze", "sample_traces"]),
    ("analyze_task.txt", ["analyze", "sample_traces", "--task", "ticket-4711"]),
    ("analyze_by_model.txt", ["analyze", "sample_traces", "--group-by", "model"]),
    ("analyze_samples.md", ["analyze", "sample_traces", "--format", "markdown"]),
    ("analyze_research.json", ["analyze", "sample_traces/research_agent.jsonl", "--format",
                               "json"]),
    ("analyze_research.csv", ["analyze", "sample_traces/research_agent.jsonl", "--format",
                              "csv", "--steps"]),
])
def test_golden(run, name, args):
    res = run(*args)
    assert res.exit_code == 0, res.output
    _golden(name, res.stdout)


def test_jsonl_round_trip(run, tmp_path):
    res = run("analyze", "sample_traces", "--format", "jsonl")
    assert res.exit_code == 0
    out = tmp_path / "steps.jsonl"
    out.write_text(res.stdout)
    a = json.loads(run("analyze", "sample_traces", "--format", "json").stdout)["totals"]
    b = json.loads(run("analyze", str(out), "--format", "json").stdout)["totals"]
    for k in ("tasks", "llm_calls", "tool_calls", "input_tokens", "cache_read_tokens",
              "cache_write_tokens", "output_tokens", "cost_usd", "wall_time_s"):
        assert a[k] == b[k], k


def test_stdin_and_gzip(run, tmp_path):
    raw = (REPO / "sample_traces" / "research_agent.jsonl").read_bytes()
    gz = tmp_path / "r.jsonl.gz"
    gz.write_bytes(gzip.compress(raw))
    a = json.loads(run("analyze", str(gz), "-f", "json").stdout)["totals"]
    b = json.loads(run("analyze", "-", "-f", "json", input=raw).stdout)["totals"]
    assert a["cost_usd"] == b["cost_usd"] and a["input_tokens"] == 24_600


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_named_pipe_input(run, tmp_path):
    """`agentcost analyze <(zcat run.jsonl.gz)`: a pipe is read once, gzip or not."""
    import threading

    raw = (REPO / "sample_traces" / "research_agent.jsonl").read_bytes()
    for payload in (raw, gzip.compress(raw)):
        fifo = tmp_path / "pipe"
        if fifo.exists():
            fifo.unlink()
        os.mkfifo(fifo)
        writer = threading.Thread(target=fifo.write_bytes, args=(payload,))
        writer.start()
        res = run("analyze", str(fifo), "-f", "json")
        writer.join(timeout=10)
        assert res.exit_code == 0, res.stderr
        t = json.loads(res.stdout)["totals"]
        assert t["input_tokens"] == 24_600 and t["llm_calls"] == 4


def test_since_until_prune(run):
    d = json.loads(run("analyze", "sample_traces", "-f", "json", "--since",
                       "2026-11-03T00:00:00Z").stdout)
    assert d["totals"]["tasks"] == 6 and d["ingest"]["outside_time_window"] == 7


BAD_LINES = {
    "wrong_type.jsonl": ('{"task_id": "t", "kind": "llm", "input_tokens": "lots"}',
                         "input_tokens must be a number"),
    "negative.jsonl": ('{"task_id": "t", "kind": "llm", "input_tokens": -5}', "negative"),
    "absurd.jsonl": ('{"task_id": "t", "kind": "llm", "input_tokens": 99999999999}',
                     "implausibly large"),
    "truncated.jsonl": ('{"task_id": "t", "kind": "llm", "input_tok', "invalid JSON"),
    "not_object.jsonl": ("[1, 2]", "expected a JSON object"),
}


@pytest.mark.parametrize("fname", sorted(BAD_LINES))
def test_bad_lines_counted_or_strict_error(run, tmp_path, fname):
    line, reason = BAD_LINES[fname]
    good = '{"task_id": "t", "kind": "llm", "model": "claude-sonnet-4-5", "input_tokens": 100, "output_tokens": 5}'
    p = tmp_path / fname
    p.write_text(good + "\n" + line + "\n")
    res = run("analyze", str(p), "-f", "json")
    assert res.exit_code == 0
    d = json.loads(res.stdout)
    assert d["ingest"]["malformed_lines"] == 1
    assert d["totals"]["input_tokens"] == 100  # the good line counted, the bad one not
    assert any("malformed" in w for w in d["warnings"])
    res = run("analyze", str(p), "--strict")
    assert res.exit_code == 2
    err = res.stderr.strip()
    assert "\n" not in err and "Traceback" not in err
    assert f"{p}:2:" in err and reason in err


@pytest.mark.parametrize("case", ["missing", "empty_dir", "binary", "empty_file", "unknown"])
def test_bad_paths_exit_2(run, tmp_path, case):
    if case == "missing":
        target, msg = str(tmp_path / "nope.jsonl"), "no such file"
    elif case == "empty_dir":
        (tmp_path / "d").mkdir()
        target, msg = str(tmp_path / "d"), "no trace files"
    elif case == "binary":
        (tmp_path / "b.jsonl").write_bytes(b"\x00\x01\x02" * 100)
        target, msg = str(tmp_path / "b.jsonl"), "binary"
    elif case == "empty_file":
        (tmp_path / "e.jsonl").write_text("")
        target, msg = str(tmp_path / "e.jsonl"), "empty"
    else:
        (tmp_path / "u.json").write_text('{"hello": "world"}\n')
        target, msg = str(tmp_path / "u.json"), "not a recognised trace format"
    res = run("analyze", target)
    assert res.exit_code == 2
    assert msg in res.stderr and target in res.stderr
    assert "Traceback" not in res.stderr and res.stdout == ""


def test_bad_config_exit_2(run, tmp_path):
    cfg = tmp_path / "agentcost.yaml"
    cfg.write_text("prices:\n  m:\n    input_mtok: 1\n    output_mtok: 2\n    colour: red\n")
    res = run("analyze", "sample_traces", "--config", str(cfg))
    assert res.exit_code == 2 and "prices.m.colour" in res.stderr


def test_unknown_input_format(run):
    res = run("analyze", "sample_traces", "--input-format", "nope")
    assert res.exit_code == 2 and "unknown --input-format" in res.stderr


def test_help_and_version_do_not_import_pandas():
    code = ("import sys\nfrom agentcost.cli import app\n"
            "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
            "try:\n    app(['--version'])\nexcept SystemExit:\n    pass\n"
            "assert 'pandas' not in sys.modules, 'pandas imported'\n"
            "assert 'genai_prices' not in sys.modules\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO)
    assert res.returncode == 0, res.stderr
    assert "analyze" in res.stdout and "agentcost 0.1.0" in res.stdout


def test_rules_command(run):
    res = run("rules", "claude-opus-4-6")
    assert res.exit_code == 0
    _golden("rules_opus_4_6.txt", res.stdout)
    d = json.loads(run("rules", "haiku", "-f", "json").stdout)
    assert d["resolved_model"] == "claude-haiku-5-5"
    assert d["cache_rules"]["min_cacheable_tokens"] == 512
    assert d["prices_usd_per_mtok"]["input"] == pytest.approx(0.10)
    assert d["batch_prices_usd_per_mtok"]["input"] == pytest.approx(0.05)
    res = run("rules", "nope-model")
    assert res.exit_code == 2 and "unknown model" in res.stderr


def _entry(*args: str) -> subprocess.CompletedProcess[str]:
    """The console entry point as installed (``main``, which ends the process itself)."""
    return subprocess.run([sys.executable, "-c", "from agentcost.cli import main; main()",
                           *args], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "COLUMNS": "100", "NO_COLOR": "1"})


def test_entry_point_flushes_all_output_and_keeps_exit_codes(tmp_path):
    res = _entry("analyze", "sample_traces", "--steps", "--format", "jsonl")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) > 50 and all(json.loads(x) for x in lines)  # nothing cut off
    res = _entry("analyze", str(tmp_path / "missing.jsonl"))
    assert res.returncode == 2
    assert res.stderr.strip() == (f"agentcost: error: {tmp_path / 'missing.jsonl'}: "
                                  "no such file or folder")
    res = _entry("analyze", "--no-such-option")
    assert res.returncode == 2 and "No such option" in res.stderr
    out = tmp_path / "r.json"
    res = _entry("analyze", "sample_traces", "-f", "json", "-o", str(out))
    assert res.returncode == 0 and json.loads(out.read_text())["totals"]["tasks"] > 1


def test_default_model_option_and_config_key(run, tmp_path):
    from tests.conftest import AUTHENTIC

    run_file = str(AUTHENTIC / "openai-agents-sdk" / "responses.agents.jsonl")
    d = json.loads(run("analyze", run_file, "-f", "json").stdout)
    assert d["totals"]["cost_usd"] is None and d["pricing"]["default_model"] is None
    d = json.loads(run("analyze", run_file, "-f", "json", "--default-model",
                       "gpt-4.1-mini").stdout)
    assert d["totals"]["cost_usd"] > 0 and d["pricing"]["default_model"]["steps"] == 4
    cfg = tmp_path / "agentcost.yaml"
    cfg.write_text("default_model: gpt-4.1-mini\n")
    d2 = json.loads(run("analyze", run_file, "-f", "json", "--config", str(cfg)).stdout)
    assert d2["totals"]["cost_usd"] == d["totals"]["cost_usd"]
    cfg.write_text("default_model: 5\n")
    res = run("analyze", run_file, "--config", str(cfg))
    assert res.exit_code == 2 and "default_model: expected a model id string" in res.stderr


def test_missing_golden_fails_unless_asked_to_write(monkeypatch, tmp_path) -> None:
    """A golden file that does not exist is a failure, not a silent first write."""
    import tests.conftest as conftest

    monkeypatch.setattr(conftest, "GOLDEN", tmp_path)
    monkeypatch.delenv("UPDATE_GOLDEN", raising=False)
    with pytest.raises(AssertionError, match="no golden file"):
        conftest.assert_golden("new.txt", "output\n")
    assert not (tmp_path / "new.txt").exists()
    monkeypatch.setenv("UPDATE_GOLDEN", "1")
    conftest.assert_golden("new.txt", "output\n")
    assert (tmp_path / "new.txt").read_text() == "output\n"
