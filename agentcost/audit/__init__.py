"""``agentcost audit-prompt``: what breaks prompt caching, in prompt files and across traces
(DESIGN.md §5). Pure library code: no typer, no rich.

* :func:`audit_prompt` — audit one prompt given as text (``agentcost.audit_prompt(text,
  model=...)``), returning findings ``{rule, severity, message, line, column, excerpt, fix}``.
* :func:`run_audit` — what the CLI runs: each input is told apart by content (a trace file that
  a reader recognises → trace audit; a JSON/YAML request body, a text/template, or a Python file
  with ``--symbol`` → static audit) and the results are merged into one :class:`AuditReport`.
* :func:`explain_misses` — the trace audit over a loaded step table (also behind
  ``agentcost analyze --explain-misses``).

Rule ids (stable): ``timestamp``, ``volatile-id``, ``user-content``, ``whitespace-drift``,
``short-prefix``, ``unpinned-model``, ``unstable-order``, ``volatile-before-stable``; trace miss
causes add ``model-change``, ``tools-change``, ``system-edit``, ``history-edit``,
``ttl-expired``, ``below-minimum``, ``breakpoint-moved``, ``concurrent``, ``unexplained``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentcost.audit.findings import (
    RULES,
    SEVERITIES,
    SEVERITY_RANK,
    Finding,
    RuleInfo,
)
from agentcost.audit.prompt import PromptOptions, audit_text
from agentcost.audit.traces import MissReport, explain_misses
from agentcost.errors import InputError

if TYPE_CHECKING:
    from agentcost.config import Config

SCHEMA_VERSION = 1

__all__ = [
    "RULES", "SEVERITIES", "AuditOptions", "AuditReport", "Finding", "MissReport", "RuleInfo",
    "audit_prompt", "explain_misses", "run_audit",
]

DOC_NAMES = re.compile(r"(?i)^(?:readme|changelog|changes|license|licence|notice|contributing|"
                       r"authors|security|code_of_conduct)(?:\.[a-z0-9]+)?$")

PROMPT_SUFFIXES = (".txt", ".md", ".markdown", ".prompt", ".j2", ".jinja", ".jinja2", ".tmpl",
                   ".tpl", ".mustache", ".hbs", ".rst", ".yaml", ".yml", ".py")


def audit_prompt(text: str, model: str | None = None, *, provider: str | None = None,
                 path: str = "<prompt>", symbol: str | None = None) -> list[Finding]:
    """Audit one prompt (plain text or template; a JSON/YAML body or Python source when ``path``
    ends in .json/.yaml/.py). Offline: never calls a network service."""
    return audit_text(text, model=model, provider=provider, path=path, symbol=symbol)


@dataclass
class AuditOptions:
    model: str | None = None
    provider: str | None = None
    symbol: str | None = None
    exact: bool = False
    fix: bool = False
    api_key: str | None = None
    input_format: str | None = None  # force a trace reader
    config: Config | None = None


@dataclass
class AuditReport:
    findings: list[Finding]
    prompts: dict[str, Any] | None = None  # static audit summary
    traces: dict[str, Any] | None = None  # trace audit summary
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for f in self.findings if f.severity == s) for s in SEVERITIES}

    def worst(self) -> str | None:
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=lambda s: SEVERITY_RANK[s])

    def fails(self, fail_on: str) -> bool:
        return any(f.at_least(fail_on) for f in self.findings)

    def summary(self) -> dict[str, Any]:
        by_rule: dict[str, int] = {}
        for f in self.findings:
            by_rule[f.rule] = by_rule.get(f.rule, 0) + 1
        return {
            "findings": len(self.findings),
            "by_severity": self.counts(),
            "by_rule": dict(sorted(by_rule.items())),
            "prompts": self.prompts,
            "traces": self.traces,
            "notes": self.notes,
        }

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION,
                "findings": [f.to_dict() for f in self.findings],
                "summary": self.summary()}


def _expand(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and not any(
                part.startswith(".") for part in f.relative_to(p).parts))
            if not files:
                raise InputError("folder holds no files", raw)
            out.extend(files)
        elif p.is_file():
            out.append(p)
        elif p.exists():
            raise InputError("not a regular file", raw)
        else:
            raise InputError("no such file or folder", raw)
    return out


def classify(path: Path, opts: AuditOptions, explicit: bool = True) -> str:
    """``trace``, ``prompt``, ``skip`` (binary) or ``unknown-trace`` (JSON-like, neither)."""
    from agentcost.audit.body import is_request_body

    if opts.symbol is not None:
        return "prompt"
    if opts.input_format:
        return "trace"
    low = path.name.lower()
    if low.endswith(PROMPT_SUFFIXES):
        return "prompt"
    from agentcost.ingest import detect, readers
    from agentcost.ingest.base import Source

    src = Source(name=str(path), path=path)
    head = src.head
    if b"\x00" in head[:4096]:
        return "skip"
    if low.endswith(".json") or head.lstrip().startswith(b"{"):
        import json

        try:
            obj = json.loads(src.read_bytes().decode("utf-8")) if src.size < 20_000_000 else None
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deeply
            obj = None
        if is_request_body(obj):
            return "prompt"
    if detect(src, readers()) is not None:
        return "trace"
    if low.endswith(".json") and explicit:
        return "prompt"  # the prompt reader says precisely what is wrong with it
    if low.endswith((".jsonl", ".json", ".ndjson", ".gz", ".log", ".traj")):
        return "unknown-trace"
    return "prompt"


def run_audit(paths: list[str], opts: AuditOptions | None = None) -> AuditReport:
    """Audit prompt files and/or traces (see the module docstring)."""
    from agentcost.audit.prompt import audit_files

    opts = opts or AuditOptions()
    if not paths:
        raise InputError("no input: give prompt files, request bodies or trace files")
    explicit = {str(Path(p).expanduser()) for p in paths}
    prompts: list[Path] = []
    traces: list[Path] = []
    notes: list[str] = []
    for f in _expand(paths):
        kind = classify(f, opts, str(f) in explicit)
        if kind == "prompt" and str(f) not in explicit:
            if f.suffix.lower() == ".py" and opts.symbol is None:
                notes.append(f"skipped {f}: a Python file needs --symbol")
                continue
            if DOC_NAMES.match(f.name):
                continue  # README, CHANGELOG ... in a folder are documentation, not prompts
        if kind == "prompt":
            prompts.append(f)
        elif kind == "trace":
            traces.append(f)
        elif str(f) in explicit:
            raise InputError("neither a prompt, a request body nor a recognised trace format",
                             str(f))
        else:
            notes.append(f"skipped {f}: not a prompt or a recognised trace")
    findings: list[Finding] = []
    rep = AuditReport(findings=findings, notes=notes)
    if prompts:
        pres = audit_files(prompts, PromptOptions(
            model=opts.model, provider=opts.provider, symbol=opts.symbol, exact=opts.exact,
            fix=opts.fix, api_key=opts.api_key))
        findings += pres.findings
        rep.prompts = {"files": pres.files}
        notes += pres.notes
    if traces:
        from agentcost.table import load

        if opts.fix:
            notes.append("--fix applies to prompt files, not to traces")
        table = load([str(t) for t in traces], config=opts.config,
                     input_format=opts.input_format)
        miss = explain_misses(table, opts.config)
        findings += miss.findings
        rep.traces = miss.summary
    return rep
