"""SARIF 2.1.0 rendering of an audit report, for GitHub code scanning and other SARIF viewers.

One run; ``tool.driver.rules`` lists every rule and miss cause with descriptions, help and a
default level; each result carries ``ruleId``/``ruleIndex``, ``level`` (error/warning/note),
the message (with the fix), a physical location (artifact URI relative to the working folder
when the file is under it, 1-based line/column, ``columnKind`` unicodeCodePoints, the excerpt as
snippet), ``fixes`` where the finding has machine-applicable edits (whitespace), and
``partialFingerprints`` so code scanning can track a result across runs.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentcost.audit import AuditReport
    from agentcost.audit.findings import Finding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def _uri(path: str | None) -> str:
    if not path:
        return "unknown"
    p = Path(path)
    try:
        rel = p.resolve().relative_to(Path(os.getcwd()).resolve())
        return rel.as_posix()
    except (ValueError, OSError):
        return p.resolve().as_uri() if p.is_absolute() else p.as_posix()


def _rules() -> list[dict[str, Any]]:
    from agentcost.audit.findings import RULES

    out = []
    for r in RULES.values():
        out.append({
            "id": r.id,
            "name": r.name,
            "shortDescription": {"text": r.short},
            "fullDescription": {"text": r.full},
            "help": {"text": r.help, "markdown": r.help},
            "defaultConfiguration": {"level": r.default_level},
            "properties": {"tags": ["prompt-caching", "cost",
                                    "static" if r.kind == "static" else "trace"]},
        })
    return out


def render_sarif(rep: AuditReport, version: str) -> str:
    from agentcost.audit.findings import RULES
    from agentcost.render.data import to_json

    index = {rid: i for i, rid in enumerate(RULES)}
    results = [_result(f, index[f.rule]) for f in rep.findings]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "agentcost",
                "version": version,
                "semanticVersion": version,
                "rules": _rules(),
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {"summary": rep.summary()},
        }],
    }
    return to_json(log)


def _region(f: Finding) -> dict[str, Any]:
    """Where a finding is: start, end when it spans text, and the excerpt."""
    region: dict[str, Any] = {}
    if f.line:
        region["startLine"] = f.line
        if f.column:
            region["startColumn"] = f.column
        if f.end_line and f.end_column and (f.end_line, f.end_column) > (f.line, f.column or 1):
            region["endLine"] = f.end_line
            region["endColumn"] = f.end_column
        if f.excerpt:
            region["snippet"] = {"text": f.excerpt}
    return region


def _result(f: Finding, rule_index: int) -> dict[str, Any]:
    """One SARIF result: message, location, a stable fingerprint, fixes, trace properties."""
    phys: dict[str, Any] = {"artifactLocation": {"uri": _uri(f.file)}}
    region = _region(f)
    if region:
        phys["region"] = region
    text = f.message + (f" Fix: {f.fix}" if f.fix else "")
    res: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": LEVELS[f.severity],
        "message": {"text": text},
        "locations": [{"physicalLocation": phys}],
        "partialFingerprints": {
            "agentcostFinding/v1": hashlib.sha256(
                f"{f.rule}|{_uri(f.file)}|{f.message}|{f.excerpt or ''}".encode()
            ).hexdigest()[:32]},
    }
    if f.edits:
        res["fixes"] = [{
            "description": {"text": f.fix or "normalise whitespace"},
            "artifactChanges": [{
                "artifactLocation": {"uri": _uri(f.file)},
                "replacements": [{
                    "deletedRegion": {"startLine": e.line, "startColumn": e.column,
                                      "endLine": e.end_line, "endColumn": e.end_column},
                    "insertedContent": {"text": e.new},
                } for e in f.edits],
            }],
        }]
    if f.miss is not None:
        res["properties"] = {"task_id": f.task_id, "step": f.step, "miss": f.miss}
    return res
