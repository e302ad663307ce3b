"""The GitHub Action (``action.yml``, issue 14 item 2): its steps run as GitHub would run them
(bash, inputs through ``${{ }}`` expressions, ``GITHUB_OUTPUT`` between steps) against a fake
``GITHUB_*`` environment and a stand-in for the GitHub API on 127.0.0.1. The install step is
left out: agentcost is already installed from this checkout in the test environment."""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentcost.github import MARKER
from tests.conftest import REPO

ACTION = yaml.safe_load((REPO / "action.yml").read_text())
SAMPLES = REPO / "sample_traces"


@dataclass
class FakeGitHub:
    """Issue comments and SARIF uploads of one repository, as the GitHub REST API serves them."""

    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, Any, str | None]] = field(default_factory=list)
    sarifs: list[dict[str, Any]] = field(default_factory=list)
    forbid: bool = False
    next_id: int = 1000


def _handler(gh: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class H(BaseHTTPRequestHandler):
        def log_message(self, *a: Any) -> None:
            pass

        def _reply(self, code: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self, method: str) -> None:
            n = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(n)) if n else None
            gh.requests.append((method, self.path, body, self.headers.get("Authorization")))
            if gh.forbid and method != "GET":
                return self._reply(403, {"message": "Resource not accessible by integration"})
            path = self.path.split("?")[0]
            if m := re.fullmatch(r"/repos/o/r/issues/(\d+)/comments", path):
                if method == "GET":
                    return self._reply(200, [c for c in gh.comments.values()
                                             if c["issue"] == int(m.group(1))])
                gh.next_id += 1
                gh.comments[gh.next_id] = {"id": gh.next_id, "issue": int(m.group(1)),
                                           "body": body["body"]}
                return self._reply(201, gh.comments[gh.next_id])
            if (m := re.fullmatch(r"/repos/o/r/issues/comments/(\d+)", path)) and method == "PATCH":
                gh.comments[int(m.group(1))]["body"] = body["body"]
                return self._reply(200, gh.comments[int(m.group(1))])
            if path == "/repos/o/r/code-scanning/sarifs" and method == "POST":
                gh.sarifs.append(body)
                return self._reply(202, {"id": "sarif-1"})
            return self._reply(404, {"message": "Not Found"})

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

    return H


@pytest.fixture
def api() -> Iterator[tuple[FakeGitHub, str]]:
    gh = FakeGitHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(gh))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gh, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _expr(text: str, ctx: dict[str, str]) -> str:
    return re.sub(r"\$\{\{\s*([^}]+?)\s*\}\}", lambda m: ctx.get(m.group(1), ""), text)


def run_action(tmp: Path, api_url: str, with_: dict[str, str], event: str = "pull_request",
               ) -> tuple[int, dict[str, str], str]:
    """Run the action's steps; returns (exit code of the job step, outputs of the check step,
    the combined log)."""
    (tmp / "event.json").write_text(json.dumps({"number": 7, "pull_request": {
        "number": 7, "head": {"sha": "c0ffee" * 6 + "beef"}}}))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    base_env.update({
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "GITHUB_API_URL": api_url, "GITHUB_REPOSITORY": "o/r", "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": str(tmp / "event.json"), "GITHUB_SHA": "c0ffee" * 6 + "beef",
        "GITHUB_REF": "refs/pull/7/merge", "GITHUB_STEP_SUMMARY": str(tmp / "summary.md"),
        "RUNNER_TEMP": str(tmp / "runner"), "NO_COLOR": "1", "COLUMNS": "100"})
    (tmp / "runner").mkdir(exist_ok=True)
    inputs = {k: str(v.get("default", "")) for k, v in ACTION["inputs"].items()}
    inputs.update(with_)
    ctx = {"github.token": "ghs_test_token", "github.action_path": str(REPO)}
    ctx.update({f"inputs.{k}": v for k, v in inputs.items()})
    ctx["inputs.github-token"] = _expr(inputs["github-token"], ctx)
    log, code, outputs = "", 0, {}
    for step in ACTION["runs"]["steps"]:
        if step["id"] == "install":
            continue
        out_file = tmp / f"output-{step['id']}"
        out_file.write_text("")
        env = {**base_env, "GITHUB_OUTPUT": str(out_file),
               **{k: _expr(str(v), ctx) for k, v in (step.get("env") or {}).items()}}
        res = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                              step["run"]], cwd=tmp / "work", env=env, capture_output=True,
                             text=True, timeout=300)
        log += res.stdout + res.stderr
        code = res.returncode
        for line in out_file.read_text().splitlines():
            k, _, v = line.partition("=")
            ctx[f"steps.{step['id']}.outputs.{k}"] = v
            if step["id"] == "check":
                outputs[k] = v
    return code, outputs, log


@pytest.fixture
def work(tmp_path: Path) -> Path:
    w = tmp_path / "work"
    (w / "traces").mkdir(parents=True)
    shutil.copy(SAMPLES / "research_agent.jsonl", w / "traces")
    subprocess.run([sys.executable, "-m", "agentcost", "analyze", "traces", "--format", "json",
                    "--steps", "-o", "baseline.json"], cwd=w, check=True)
    return w


def test_regression_fails_and_keeps_one_comment(api: tuple[FakeGitHub, str], work: Path) -> None:
    gh, url = api
    shutil.copy(SAMPLES / "support_agent.jsonl", work / "traces")  # the run costs more
    with_ = {"paths": "traces", "baseline": "baseline.json", "max-increase": "10%"}
    code, out, log = run_action(work.parent, url, with_)
    assert code == 1 and out == {"exit-code": "1", "verdict": "fail"}, log
    (c,) = gh.comments.values()
    assert c["body"].startswith(MARKER) and "FAIL" in c["body"]
    assert all(auth == "Bearer ghs_test_token" for *_, auth in gh.requests)
    assert "FAIL" in (work.parent / "summary.md").read_text()  # the job summary
    # the same run again: the comment is found and left alone
    run_action(work.parent, url, with_)
    assert [m for m, *_ in gh.requests].count("POST") == 1
    assert "PATCH" not in [m for m, *_ in gh.requests]
    # another run that changes the figures: the same comment is edited
    (work / "traces" / "support_agent.jsonl").unlink()
    shutil.copy(SAMPLES / "support_agent.jsonl", work / "traces" / "more.jsonl")
    shutil.copy(SAMPLES / "research_agent.jsonl", work / "traces" / "again.jsonl")
    code, out, _ = run_action(work.parent, url, with_)
    assert code == 1 and len(gh.comments) == 1
    assert "PATCH" in [m for m, *_ in gh.requests]


def test_pass_without_change_makes_no_comment(api: tuple[FakeGitHub, str], work: Path) -> None:
    gh, url = api
    code, out, log = run_action(work.parent, url, {"paths": "traces", "baseline":
                                                   "baseline.json", "max-increase": "10%"})
    assert code == 0 and out["verdict"] == "pass", log
    assert gh.comments == {} and "skipped" in log


def test_comment_off_and_push_events_make_no_api_call(api: tuple[FakeGitHub, str],
                                                       work: Path) -> None:
    gh, url = api
    shutil.copy(SAMPLES / "support_agent.jsonl", work / "traces")
    with_ = {"paths": "traces", "baseline": "baseline.json", "max-increase": "10%"}
    assert run_action(work.parent, url, {**with_, "comment": "off"})[0] == 1
    assert run_action(work.parent, url, with_, event="push")[0] == 1
    assert gh.requests == []


def test_a_read_only_token_warns_but_keeps_the_verdict(api: tuple[FakeGitHub, str],
                                                        work: Path) -> None:
    gh, url = api
    gh.forbid = True  # a pull request from a fork
    shutil.copy(SAMPLES / "support_agent.jsonl", work / "traces")
    code, out, log = run_action(work.parent, url, {"paths": "traces", "baseline":
                                                   "baseline.json", "max-increase": "10%"})
    assert code == 1 and out["verdict"] == "fail"
    assert "::warning::agentcost: comment:" in log and "HTTP 403" in log


def test_sarif_upload_of_the_prompt_audit(api: tuple[FakeGitHub, str], work: Path) -> None:
    gh, url = api
    prompt = work / "prompts" / "system.txt"
    prompt.parent.mkdir()
    prompt.write_text("Today is 2026-12-03.\nYou are a support agent.\n")
    code, out, log = run_action(work.parent, url, {
        "paths": "traces", "baseline": "baseline.json", "prompts": "prompts", "sarif": "true",
        "comment": "off"})
    assert code == 1 and out["verdict"] == "fail", log  # the audit gate fails on the date
    (up,) = gh.sarifs
    assert up["ref"] == "refs/pull/7/merge" and up["commit_sha"].startswith("c0ffee")
    sarif = json.loads(gzip.decompress(base64.b64decode(up["sarif"])))
    assert sarif["version"] == "2.1.0"
    assert any(r["ruleId"] == "timestamp" for r in sarif["runs"][0]["results"])
