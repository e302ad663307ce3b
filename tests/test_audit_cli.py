"""``agentcost audit-prompt`` and ``analyze --explain-misses`` from the command line: goldens
(COLUMNS=100, NO_COLOR=1, TZ=UTC), exit codes, SARIF validation, escaping, --fix."""

from __future__ import annotations

import json
import re
import shutil

import jsonschema
import pytest
import referencing

from tests.conftest import FIXTURES, REPO
from tests.test_cli import _golden

DIRTY = "tests/fixtures/prompts/dirty"
CLEAN = "tests/fixtures/prompts/clean"
TRACE = "tests/fixtures/traces/cache_misses.jsonl"
# The full OASIS SARIF 2.1.0 (errata 01) schema, verbatim; provenance in tests/fixtures/sarif/NOTICE.md.
SCHEMA = FIXTURES / "sarif" / "sarif-schema-2.1.0.json"


def _schema_validator(**kwargs) -> jsonschema.protocols.Validator:
    """A validator for the vendored schema, in the JSON Schema dialect it declares (draft-04).

    Every ``$ref`` in it is local (``#/definitions/...``), and the validator gets a registry with
    no retrieval, so an unresolvable reference raises instead of being fetched over the network.
    """
    schema = json.loads(SCHEMA.read_text())
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft4Validator, schema.get("$schema")
    cls.check_schema(schema)
    refs = set(re.findall(r'"\$ref":\s*"([^"]*)"', SCHEMA.read_text()))
    assert refs and all(r.startswith("#/definitions/") for r in refs), refs
    assert len(schema["definitions"]) == 52
    return cls(schema, registry=referencing.Registry(), **kwargs)


@pytest.mark.parametrize("name,args", [
    ("audit_vbs.txt", ["audit-prompt", f"{DIRTY}/volatile_before_stable.txt"]),
    ("audit_body.json", ["audit-prompt", f"{DIRTY}/request_system_date.json", "-f", "json"]),
    ("audit_user.md", ["audit-prompt", f"{DIRTY}/user_content.txt", "-f", "markdown"]),
    ("audit_trace.txt", ["audit-prompt", TRACE]),
    ("audit_trace.json", ["audit-prompt", TRACE, "-f", "json"]),
])
def test_audit_golden(run, name, args):
    res = run(*args)
    assert res.exit_code == 1, res.output  # warnings at the default --fail-on warning
    _golden(name, res.stdout)


def test_explain_misses_golden(run):
    res = run("analyze", TRACE, "--explain-misses")
    assert res.exit_code == 0
    _golden("analyze_explain_misses.txt", res.stdout)
    d = json.loads(run("analyze", TRACE, "--explain-misses", "-f", "json").stdout)
    cm = d["cache_misses"]
    assert cm["summary"]["misses"] == 9 and len(cm["findings"]) == 9
    assert {"totals", "tasks", "findings"} <= set(d)  # the analyze report is unchanged
    plain = json.loads(run("analyze", TRACE, "-f", "json").stdout)
    assert "cache_misses" not in plain
    md = run("analyze", TRACE, "--explain-misses", "-f", "markdown").stdout
    assert "## Cache misses" in md and "| t-conc | 2 | concurrent |" in md


def test_exit_codes(run, tmp_path):
    assert run("audit-prompt", f"{CLEAN}/atlas_system.txt", "--model",
               "claude-sonnet-4-6").exit_code == 0
    only_warn = f"{DIRTY}/timestamp_today.txt"
    assert run("audit-prompt", only_warn).exit_code == 1
    assert run("audit-prompt", only_warn, "--fail-on", "error").exit_code == 0
    assert run("audit-prompt", f"{DIRTY}/whitespace_drift.txt", "--fail-on", "info").exit_code == 1
    for args, msg in [
        ((str(tmp_path / "nope.txt"),), "no such file"),
        ((f"{DIRTY}/prompt_module.py",), "--symbol"),
        ((f"{DIRTY}/prompt_module.py", "--symbol", "MISSING"), "no assignment"),
        (("-",), "not standard input"),
        ((), "no input"),
    ]:
        res = run("audit-prompt", *args)
        assert res.exit_code == 2 and msg in res.stderr, (args, res.stderr)
        assert "Traceback" not in res.stderr and res.stdout == ""
    bad = tmp_path / "body.json"
    bad.write_text('{"messages": [')
    res = run("audit-prompt", str(bad))
    assert res.exit_code == 2 and "invalid JSON" in res.stderr


def test_sarif_validates_against_the_schema(run):
    validator = _schema_validator(format_checker=jsonschema.FormatChecker())
    for target in (f"{DIRTY}/whitespace_drift.txt", f"{DIRTY}/request_system_date.json",
                   f"{DIRTY}/volatile_ids.txt", TRACE):
        res = run("audit-prompt", target, "-f", "sarif")
        assert res.exit_code == 1
        log = json.loads(res.stdout)
        errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
        assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
        run0 = log["runs"][0]
        rules = run0["tool"]["driver"]["rules"]
        assert {r["id"] for r in rules} >= {"timestamp", "whitespace-drift", "ttl-expired"}
        for r in run0["results"]:
            assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
            loc = r["locations"][0]["physicalLocation"]
            assert not loc["artifactLocation"]["uri"].startswith("/")  # relative to the repo
            assert loc["region"]["startLine"] >= 1
    ws = json.loads(run("audit-prompt", f"{DIRTY}/whitespace_drift.txt", "-f", "sarif").stdout)
    fixes = [r for r in ws["runs"][0]["results"] if r.get("fixes")]
    assert fixes and all(r["ruleId"] == "whitespace-drift" for r in fixes)
    trailing = next(r for r in fixes if r["message"]["text"].startswith("trailing"))
    rep = trailing["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert rep["deletedRegion"] == {"startLine": 1, "startColumn": 34, "endLine": 1,
                                    "endColumn": 37} and rep["insertedContent"]["text"] == ""


def test_invalid_sarif_is_rejected_by_the_schema():
    """The schema is strict enough to catch real mistakes."""
    v = _schema_validator()
    good = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [
        {"message": {"text": "m"}, "level": "warning",
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.txt"},
                                             "region": {"startLine": 1}}}]}]}]}
    assert v.is_valid(good)
    for mutate in (lambda d: d["runs"][0]["results"][0].update(level="critical"),
                   lambda d: d["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
                   ["region"].update(startLine=0),
                   lambda d: d["runs"][0]["results"][0].pop("message"),
                   # errata 01: a region needs startLine, charOffset or byteOffset
                   lambda d: d["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
                   .update(region={"startColumn": 3}),
                   lambda d: d["runs"][0]["results"][0].update(fixes=[{"description": {}}]),
                   lambda d: d.update(version="2.0.0")):
        bad = json.loads(json.dumps(good))
        mutate(bad)
        assert not v.is_valid(bad)


def test_prompt_text_is_escaped_in_the_table(run, tmp_path):
    p = tmp_path / "markup.txt"
    p.write_text("[bold red]Today is 2026-11-21.[/bold red] Answer briefly.\n")
    res = run("audit-prompt", str(p))
    assert "[bold red]Today is 2026-11-21.[/bold red]" in res.stdout


def test_fix_from_the_cli(run, tmp_path):
    p = tmp_path / "system.txt"
    shutil.copy(REPO / DIRTY / "whitespace_drift.txt", p)
    res = run("audit-prompt", str(p), "--fix")
    assert res.exit_code == 0, res.stdout  # nothing left after the rewrite
    assert "fixed" in res.stdout
    text = p.read_text(encoding="utf-8")
    assert text.endswith("explanations.\n") and "\r" not in text and "\u00a0" not in text


def test_folder_of_prompts_and_traces(run, tmp_path):
    shutil.copy(REPO / DIRTY / "timestamp_today.txt", tmp_path / "a.txt")
    shutil.copy(REPO / TRACE, tmp_path / "t.jsonl")
    (tmp_path / "tool.py").write_text("X = 1\n")
    d = json.loads(run("audit-prompt", str(tmp_path), "-f", "json").stdout)
    s = d["summary"]
    assert s["prompts"]["files"][0]["path"].endswith("a.txt")
    assert s["traces"]["misses"] == 9
    assert any("needs --symbol" in n for n in s["notes"])
    assert d["schema_version"] == 1
    assert set(d["findings"][0]) >= {"rule", "severity", "message", "line", "column", "excerpt",
                                     "fix"}


def test_output_file(run, tmp_path):
    out = tmp_path / "audit.sarif"
    res = run("audit-prompt", f"{DIRTY}/rfc2822.txt", "-f", "sarif", "-o", str(out))
    assert res.exit_code == 1 and res.stdout == ""
    assert json.loads(out.read_text())["version"] == "2.1.0"
