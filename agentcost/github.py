"""GitHub integration of the agentcost Action (``action.yml``): keep one pull-request comment
with the ``check`` report up to date, and upload a prompt audit's SARIF to code scanning.

Run by the Action as ``python3 -m agentcost.github comment …`` / ``… sarif …``; the only network
calls are to ``$GITHUB_API_URL`` with the workflow's token, and only when the workflow asks for
them. A comment that cannot be written (a pull request from a fork gets a read-only token) is a
warning in the job log, never a failed build: the gate's verdict is the check's exit code.

The comment is found again by its marker line (:data:`MARKER`). ``--mode update`` edits it in
place (and leaves it alone when the report did not change), ``new`` adds a comment per run, and
``--on change`` skips runs that change nothing against the baseline, ``increase`` comments only
when the cost went up or a gate failed.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MARKER = "<!-- agentcost-check -->"
API_VERSION = "2022-11-28"


class GitHubError(Exception):
    """An API call failed (the message says which and why)."""


@dataclass
class GitHub:
    """The workflow's view of GitHub: API root, repository, token, the triggering event."""

    api_url: str
    repository: str
    token: str
    event_name: str
    event: dict[str, Any]
    sha: str | None = None
    ref: str | None = None

    @classmethod
    def from_environ(cls, environ: dict[str, str] | None = None) -> GitHub:
        env = dict(os.environ if environ is None else environ)
        event: dict[str, Any] = {}
        path = env.get("GITHUB_EVENT_PATH")
        if path and Path(path).is_file():
            event = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(api_url=env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/"),
                   repository=env.get("GITHUB_REPOSITORY", ""),
                   token=env.get("INPUT_GITHUB_TOKEN") or env.get("GITHUB_TOKEN", ""),
                   event_name=env.get("GITHUB_EVENT_NAME", ""), event=event,
                   sha=env.get("GITHUB_SHA"), ref=env.get("GITHUB_REF"))

    @property
    def pr_number(self) -> int | None:
        pr = self.event.get("pull_request") or {}
        number = pr.get("number") or self.event.get("number")
        return int(number) if isinstance(number, int) else None

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.api_url}{path}", data=data, method=method)
        req.add_header("Accept", "application/vnd.github+json")
        req.add_header("X-GitHub-Api-Version", API_VERSION)
        req.add_header("User-Agent", "agentcost")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 (GITHUB_API_URL)
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise GitHubError(f"{method} {path}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise GitHubError(f"{method} {path}: {exc}") from None
        return json.loads(raw) if raw else None


def comment_body(markdown: str) -> str:
    return f"{MARKER}\n{markdown.rstrip()}\n"


def worth_commenting(report: dict[str, Any], on: str) -> bool:
    """Whether a run with this check report gets a comment under ``--on`` (always, change,
    increase)."""
    if on == "always":
        return True
    cost = (report.get("totals") or {}).get("cost_usd") or {}
    diff = cost.get("diff")
    failed = report.get("verdict") == "fail"
    if on == "increase":
        return failed or (isinstance(diff, (int, float)) and diff > 0)
    changed = (diff is None or diff != 0 or report.get("verdict") != "pass"
               or bool(report.get("new_tasks")) or bool(report.get("missing_tasks")))
    return failed or changed


def _find_comment(gh: GitHub, number: int) -> dict[str, Any] | None:
    page = 1
    while True:
        batch = gh.request("GET", f"/repos/{gh.repository}/issues/{number}/comments"
                                  f"?per_page=100&page={page}") or []
        for c in batch:
            if MARKER in str(c.get("body") or ""):
                return dict(c)
        if len(batch) < 100:
            return None
        page += 1


def upsert_comment(gh: GitHub, body: str, mode: str) -> str:
    """Create or update the pull request's agentcost comment; returns what was done."""
    number = gh.pr_number
    if mode == "off":
        return "off"
    if number is None:
        return "not a pull request"
    existing = _find_comment(gh, number) if mode == "update" else None
    if existing is not None:
        if existing.get("body") == body:
            return "unchanged"
        gh.request("PATCH", f"/repos/{gh.repository}/issues/comments/{existing['id']}",
                   {"body": body})
        return "updated"
    gh.request("POST", f"/repos/{gh.repository}/issues/{number}/comments", {"body": body})
    return "created"


def upload_sarif(gh: GitHub, sarif: Path) -> str:
    """Upload a SARIF file to code scanning for the workflow's commit."""
    pr = gh.event.get("pull_request") or {}
    sha = (pr.get("head") or {}).get("sha") or gh.sha
    if not sha or not gh.ref:
        return "no commit to attach it to"
    payload = base64.b64encode(gzip.compress(sarif.read_bytes())).decode()
    gh.request("POST", f"/repos/{gh.repository}/code-scanning/sarifs",
               {"commit_sha": sha, "ref": gh.ref, "sarif": payload, "tool_name": "agentcost"})
    return "uploaded"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m agentcost.github")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("comment", help="create or update the pull request comment")
    c.add_argument("--report", type=Path, required=True, help="check --report-json output")
    c.add_argument("--markdown", type=Path, required=True, help="check --format markdown output")
    c.add_argument("--mode", choices=("update", "new", "off"), default="update")
    c.add_argument("--on", choices=("always", "change", "increase"), default="change")
    s = sub.add_parser("sarif", help="upload a SARIF file to code scanning")
    s.add_argument("--file", type=Path, required=True)
    args = ap.parse_args(argv)
    gh = GitHub.from_environ()
    try:
        if args.cmd == "sarif":
            done = upload_sarif(gh, args.file)
        elif not args.report.is_file() or not args.markdown.is_file():
            done = "no check report (the check did not run to the end)"
        elif not worth_commenting(json.loads(args.report.read_text(encoding="utf-8")), args.on):
            done = f"skipped (nothing to report under --on {args.on})"
        else:
            done = upsert_comment(gh, comment_body(args.markdown.read_text(encoding="utf-8")),
                                  args.mode)
    except GitHubError as exc:
        print(f"::warning::agentcost: {args.cmd}: {exc}", file=sys.stderr)
        return 0
    print(f"agentcost: {args.cmd}: {done}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
