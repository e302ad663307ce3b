"""Static prompt audit: every rule on dirty and clean prompts, the clean-corpus false-positive
measurement, --fix, offline token counting, --exact, input formats and positions."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from agentcost.audit import audit_prompt
from agentcost.audit.findings import RULES, STATIC_RULES
from agentcost.audit.fix import canonical, write_atomic
from agentcost.audit.prompt import PromptOptions, audit_files
from agentcost.audit.sources import load_doc
from agentcost.audit.static import change_rule
from agentcost.audit.tokens import count
from agentcost.errors import InputError
from tests.conftest import FIXTURES

PROMPTS = FIXTURES / "prompts"

# ----------------------------------------------------------------------- the corpus

# Clean prompts: real production prompts (SWE-agent, the Atlas scenario of the authentic
# traces) and hand-written ones full of near misses (static dates, role e-mail addresses, a
# support phone line, order-number formats, JSON examples, stable template variables).
# (file, model, symbol). Prompts shorter than the model's minimum are audited without a model:
# short-prefix would rightly flag them.
CLEAN = [
    ("atlas_system.txt", "claude-sonnet-4-6", None),
    ("support_agent.md", "claude-sonnet-4-6", None),
    ("request_anthropic.json", None, None),  # model from the body
    ("request_openai_chat.json", None, None),
    ("request_openai_responses.yaml", None, None),
    ("coding_assistant.j2", None, None),
    ("research_format.txt", None, None),
    ("swe_agent_commands.md", None, None),
    ("swe_agent_function_calling.md", None, None),
    ("prompts_module.py", None, "TRIAGE_SYSTEM"),
    ("prompts_module.py", None, "Prompts.ESCALATION"),
]

# Dirty prompts: (file, model, symbol) -> expected (rule, severity, line); no other rule may fire.
DIRTY: dict[tuple[str, str | None, str | None], list[tuple[str, str, int]]] = {
    ("timestamp_today.txt", None, None): [("timestamp", "warning", 2)],
    ("timestamp_iso.md", None, None): [("timestamp", "error", 3), ("timestamp", "error", 4)],
    ("timestamp_template.j2", None, None): [
        ("timestamp", "warning", 2), ("timestamp", "error", 3), ("timestamp", "warning", 4)],
    ("rfc2822.txt", None, None): [("timestamp", "error", 1)],
    ("volatile_ids.txt", None, None): [
        ("volatile-id", "error", 2), ("volatile-id", "error", 3), ("volatile-id", "warning", 4),
        ("volatile-id", "error", 5), ("volatile-id", "warning", 6), ("volatile-id", "error", 7)],
    ("user_content.txt", None, None): [
        ("user-content", "warning", 1), ("user-content", "warning", 1),
        ("user-content", "warning", 1), ("user-content", "warning", 2),
        ("user-content", "warning", 3), ("user-content", "warning", 4),
        ("user-content", "warning", 4)],
    ("user_content.j2", None, None): [("user-content", "warning", 1)],
    ("short_prefix.txt", "claude-sonnet-4-6", None): [("short-prefix", "warning", 1)],
    ("volatile_before_stable.txt", None, None): [
        ("timestamp", "warning", 1), ("volatile-before-stable", "warning", 1)],
    ("request_system_date.json", None, None): [
        ("timestamp", "warning", 7), ("volatile-before-stable", "warning", 7),
        ("short-prefix", "warning", 11)],
    ("unpinned_latest.json", None, None): [
        ("unpinned-model", "warning", 2), ("short-prefix", "warning", 4)],
    ("unpinned_alias.yaml", None, None): [
        ("unpinned-model", "warning", 1), ("short-prefix", "warning", 5)],
    ("unstable_order.json", None, None): [
        ("unstable-order", "warning", 20), ("unstable-order", "warning", 21),
        ("short-prefix", "warning", 6)],
    ("prompt_config.yaml", None, None): [
        ("timestamp", "error", 5), ("short-prefix", "warning", 4)],
    ("prompt_module.py", None, "SYSTEM_PROMPT"): [
        ("timestamp", "warning", 8), ("volatile-id", "error", 9)],
    # a real production prompt (tau-bench airline policy, MIT): "The current time is ..." on
    # line 3, before ~1,200 tokens of policy
    ("tau_airline_policy.md", None, None): [
        ("timestamp", "error", 3), ("volatile-before-stable", "error", 3)],
    ("whitespace_drift.txt", None, None): [
        ("whitespace-drift", "warning", 1), ("whitespace-drift", "warning", 1),
        ("whitespace-drift", "warning", 1), ("whitespace-drift", "warning", 3),
        ("whitespace-drift", "info", 4), ("whitespace-drift", "warning", 8),
        ("whitespace-drift", "warning", 8), ("whitespace-drift", "info", 8)],
}


def _audit(name: str, model: str | None, symbol: str | None, sub: str) -> list[dict]:
    res = audit_files([PROMPTS / sub / name], PromptOptions(model=model, symbol=symbol))
    return [f.to_dict() for f in res.findings]


def test_clean_corpus_has_no_false_positives():
    """Precision: the clean corpus (long real and hand-written production prompts) gives no
    finding at any severity. The measured false-positive rate is reported in the assertion."""
    noisy = {}
    for name, model, symbol in CLEAN:
        found = _audit(name, model, symbol, "clean")
        if found:
            noisy[f"{name}:{symbol or ''}"] = [(f["rule"], f["line"], f["message"]) for f in found]
    rate = len(noisy) / len(CLEAN)
    assert rate == 0.0, f"false-positive rate {rate:.0%} on the clean corpus: {noisy}"


def test_clean_corpus_is_substantial():
    sizes = [len((PROMPTS / "clean" / n).read_text()) for n, _, _ in CLEAN]
    assert sum(sizes) > 50_000 and max(sizes) > 8_000
    long_ones = [n for n, m, _ in CLEAN if m]  # audited against a model's minimum too
    assert len(long_ones) >= 2


@pytest.mark.parametrize("key", sorted(DIRTY, key=str), ids=lambda k: f"{k[0]}:{k[2] or ''}")
def test_dirty_corpus_expected_findings(key):
    name, model, symbol = key
    found = _audit(name, model, symbol, "dirty")
    got = sorted((f["rule"], f["severity"], f["line"]) for f in found)
    assert got == sorted(DIRTY[key]), json.dumps(found, indent=1)


def test_every_static_rule_is_exercised_by_the_dirty_corpus():
    rules = {r for exp in DIRTY.values() for r, _, _ in exp}
    assert rules == set(STATIC_RULES)


def test_positions_point_at_the_text():
    """line/column (1-based, code points) locate the excerpt in the file, for every format."""
    for (name, model, symbol) in DIRTY:
        text = (PROMPTS / "dirty" / name).read_text(encoding="utf-8")
        lines = text.splitlines()
        for f in _audit(name, model, symbol, "dirty"):
            if f["rule"] in ("timestamp", "volatile-id", "user-content") and f["line"]:
                line = lines[f["line"] - 1]
                assert f["column"] >= 1
                shown = line[f["column"] - 1:]
                assert shown and shown[0] not in " \t", (name, f)


# -------------------------------------------------------------------- rule by rule

@pytest.mark.parametrize("text,rule,severity", [
    ("Today is 2026-11-21.", "timestamp", "warning"),
    ("The current date is March 3, 2026.", "timestamp", "warning"),
    ("Current time: 14:32 UTC", "timestamp", "error"),
    ("Now: 2026-11-21 09:15:02", "timestamp", "error"),
    ("generated 2026-11-21T09:15:02.123Z", "timestamp", "error"),
    ("Last sync: Thu, 21 Nov 2026 14:32:15 +0000", "timestamp", "error"),
    ("ts=1795279002123", "timestamp", "error"),
    ("Reference clock 09:15:02 UTC.", "timestamp", "error"),
    ("It is {{ now() }}", "timestamp", "error"),
    ("Date: {current_date}", "timestamp", "warning"),
    ("Trace ID: 4bf92f35-77b3-4da6-a3ce-929d0e0e4736", "volatile-id", "error"),
    ("see 7c9e6679-7425-40de-944b-e07fc1f090ae for details", "volatile-id", "warning"),
    ("request_id=req_01HXYZ9", "volatile-id", "error"),
    ("run {{ run_id }}", "volatile-id", "error"),
    ("{nonce}", "volatile-id", "error"),
    ("Hello {{ user.email }}", "user-content", "warning"),
    ("You are talking to Priya Raman.", "user-content", "warning"),
    ("Logged in as jdoe@fastmail.com", "user-content", "warning"),
    ("account #: AC-99812", "user-content", "warning"),
])
def test_rule_fires(text, rule, severity):
    found = audit_prompt(text)
    assert any(f.rule == rule and f.severity == severity for f in found), \
        [f.to_dict() for f in found]


@pytest.mark.parametrize("text", [
    "Our refund policy has applied since 2025-01-01.",
    "Knowledge cutoff: January 2025.",
    "Office hours are 9:00 to 17:00 CET, Monday to Friday.",
    "Write dates as YYYY-MM-DD, for example 2024-03-15.",
    "Contact support@example.com or billing@acme-corp.io for invoices.",
    "Call our hotline +1 800 555 0100 between 9:00 and 17:00.",
    "Order numbers look like NW-2024-104233.",
    "The function getWeatherForecastByCity2024 returns JSON.",
    "Use the {product_name} documentation and {tool_list}.",
    "Return {\"id\": 1, \"status\": \"ok\"} exactly.",
    "Version 3.2.1 (build 7f3a2c1) is current.",
    "Ask for the customer ID before looking up an order.",
    "The user may ask about times such as 10:30 or dates such as 12/05.",
    "The time zone is Europe/Amsterdam; the date format is ISO 8601.",
    "{{ tools | tojson }} and {% if strict %}be strict{% endif %}",
])
def test_clean_sentences_stay_clean(text):
    assert audit_prompt(text + "\n") == []


def test_whitespace_drift_each_kind_and_fix(tmp_path):
    cases = {
        "bom": "\ufeffYou are helpful.\n",
        "zero-width": "You are\u200b helpful.\n",
        "nbsp": "You are\u00a0helpful.\n",
        "line-endings": "One.\r\nTwo.\nThree.\n",
        "trailing": "One. \nTwo.\n",
        "tabs-spaces": "Rules:\n\t- one\n    - two\n",
        "blank-lines": "One.\n\n\n\nTwo.\n",
        "final-newline": "One.",
    }
    def audit_file(text: str) -> list:
        p = tmp_path / "p.txt"
        p.write_bytes(text.encode("utf-8"))
        return audit_files([p], PromptOptions()).findings

    for kind, text in cases.items():
        found = [f for f in audit_file(text) if f.rule == "whitespace-drift"]
        assert len(found) == 1, (kind, [f.to_dict() for f in found])
        assert audit_file(canonical(text)) == [], kind
    doubled = audit_file("One.\n\n")
    assert [f.message for f in doubled] == ["more than one final newline"]
    assert audit_prompt("One.") == []  # a string is not a file: no final-newline rule
    assert canonical("\ufeffA \r\n\tB\u00a0C\u200b\n\n\n\nD\n\n") == "A\n    B C\n\nD\n"
    assert canonical("") == ""


def test_whitespace_inside_json_strings_is_checked_without_file_rules(tmp_path):
    body = {"model": "claude-sonnet-4-5-20250929", "system": "Be brief.  \nBe kind.",
            "messages": [{"role": "user", "content": "hi  "}]}
    p = tmp_path / "b.json"
    p.write_text(json.dumps(body))  # no final newline: a JSON file, not a prompt text
    rules = [(f.rule, f.message) for f in audit_files([p], PromptOptions()).findings]
    assert ("whitespace-drift", "system: trailing whitespace") in rules
    assert all("final newline" not in m for _, m in rules)


def test_fix_rewrites_atomically_and_reaudits(tmp_path):
    p = tmp_path / "system.txt"
    p.write_bytes(b"You are helpful.  \r\nAnswer briefly.\n\n\n\nToday is 2026-11-21.")
    os.chmod(p, 0o640)
    res = audit_files([p], PromptOptions(fix=True))
    assert p.read_bytes() == b"You are helpful.\nAnswer briefly.\n\nToday is 2026-11-21.\n"
    assert oct(p.stat().st_mode & 0o777) == "0o640"
    assert [f.rule for f in res.findings] == ["timestamp"]  # what --fix cannot fix remains
    assert any("fixed" in n for n in res.notes)
    assert [x.name for x in tmp_path.iterdir()] == ["system.txt"]  # no temp file left


def test_fix_never_loses_the_original_on_error(tmp_path, monkeypatch):
    p = tmp_path / "system.txt"
    original = b"Trailing  \nspaces\n"
    p.write_bytes(original)

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(InputError, match="cannot fix"):
        write_atomic(p, canonical(original.decode()))
    assert p.read_bytes() == original
    assert [x.name for x in tmp_path.iterdir()] == ["system.txt"]


def test_fix_leaves_non_text_inputs_alone(tmp_path):
    p = tmp_path / "b.json"
    raw = json.dumps({"model": "claude-sonnet-4-5-20250929", "system": "A  \nB",
                      "messages": []})
    p.write_text(raw)
    res = audit_files([p], PromptOptions(fix=True))
    assert p.read_text() == raw
    assert any("plain-text prompt files only" in n for n in res.notes)


# ------------------------------------------------------------------------ inputs


def test_python_symbol_positions_and_errors(tmp_path):
    src = PROMPTS / "dirty" / "prompt_module.py"
    doc = load_doc(str(src), src.read_text(), "SYSTEM_PROMPT")
    assert doc.blocks[0].style == "fstring"
    assert doc.blocks[0].text.startswith("You are the scheduling agent.\nToday is {datetime")
    with pytest.raises(InputError, match="no assignment"):
        load_doc(str(src), src.read_text(), "NOPE")
    with pytest.raises(InputError, match="not a string constant"):
        load_doc(str(src), "X = 3\n", "X")
    with pytest.raises(InputError, match="--symbol"):
        load_doc("m.py", "X = 'a'\n")
    esc = 'P = "Line one\\nToday is 2026-11-21.\\tend"\n'
    f = audit_prompt(esc, path="m.py", symbol="P")
    ts = [x for x in f if x.rule == "timestamp"]
    assert ts and (ts[0].line, ts[0].column) == (1, 16)  # escapes mapped back to the source


def test_yaml_literal_block_lines():
    found = _audit("prompt_config.yaml", None, None, "dirty")
    ts = next(f for f in found if f["rule"] == "timestamp")
    line = (PROMPTS / "dirty" / "prompt_config.yaml").read_text().splitlines()[ts["line"] - 1]
    assert line[ts["column"] - 1:].startswith("The current time is 14:05 UTC")


def test_messages_are_not_scanned_but_system_messages_are(tmp_path):
    body = {"model": "gpt-4.1-2025-04-14", "messages": [
        {"role": "system", "content": "Today is 2026-11-21."},
        {"role": "user", "content": "My name is Jane, today is 2026-11-21, id 7c9e6679-7425-40de-"
                                    "944b-e07fc1f090ae"}]}
    p = tmp_path / "chat.json"
    p.write_text(json.dumps(body, indent=1))
    found = audit_files([p], PromptOptions()).findings
    assert [(f.rule, f.line) for f in found if f.rule != "short-prefix"] == [("timestamp", 6)]


def test_unstable_tool_order_across_files(tmp_path):
    tools = [{"name": n, "description": f"{n} tool", "input_schema": {"type": "object"}}
             for n in ("a", "b", "c")]
    for i, order in enumerate(([0, 1, 2], [2, 0, 1])):
        (tmp_path / f"r{i}.json").write_text(json.dumps({
            "model": "claude-sonnet-4-5-20250929", "tools": [tools[j] for j in order],
            "system": "x", "messages": []}, indent=1))
    res = audit_files([tmp_path / "r0.json", tmp_path / "r1.json"], PromptOptions())
    uo = [f for f in res.findings if f.rule == "unstable-order"]
    assert len(uo) == 1 and uo[0].file.endswith("r1.json") and "c, a, b" in uo[0].message


def test_bad_inputs(tmp_path):
    bad = tmp_path / "b.json"
    bad.write_text('{"system": "x", ')
    with pytest.raises(InputError, match="invalid JSON at line 1"):
        audit_files([bad], PromptOptions())
    notbody = tmp_path / "n.json"
    notbody.write_text('{"hello": 1}')
    with pytest.raises(InputError, match="not a request body"):
        audit_files([notbody], PromptOptions())
    latin = tmp_path / "l.txt"
    latin.write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        audit_files([latin], PromptOptions())


# ------------------------------------------------------------------- token counts


def test_token_counts_offline_with_empty_cache(tmp_path, monkeypatch):
    """No download at run time: an empty TIKTOKEN_CACHE_DIR and no network still count."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))

    def no_network(*a, **k):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    import tiktoken.load

    monkeypatch.setattr(tiktoken.load, "read_file", no_network)
    text = "You are a helpful assistant. " * 50
    c4 = count(text, "gpt-4")
    assert c4.exact and c4.method == "tiktoken cl100k_base" and c4.tokens == 301
    co = count(text, "gpt-4o")  # o200k_base ships with agentcost: exact, offline
    assert co.exact and co.method == "tiktoken o200k_base" and co.tokens == 301
    cc = count(text, "claude-sonnet-4-6")
    assert cc.method == "estimate" and cc.low < cc.tokens < cc.high
    assert cc.low == int(co.tokens * 1.16)  # the estimate scales GPT-4o's o200k count
    cn = count(text, "claude-opus-5")  # the newer tokenizer widens the range
    assert cn.high > cc.high
    assert list(tmp_path.iterdir()) == []  # nothing fetched, nothing written


def test_packaged_encodings_match_the_published_files(monkeypatch):
    """The shipped ranks rebuild OpenAI's .tiktoken files byte for byte (published SHA-256),
    tiktoken's reference vectors hold, and damaged data is refused rather than miscounted."""
    import hashlib

    from agentcost import encodings as E

    assert E.encoding("o200k_base").encode("hello world") == [24912, 2375]
    assert E.encoding("cl100k_base").encode("hello world") == [15339, 1917]
    assert len(E.mergeable_ranks("o200k_base")) == 199_998
    assert len(E.mergeable_ranks("cl100k_base")) == 100_256
    monkeypatch.setitem(E.PUBLISHED_SHA256, "cl100k_base", hashlib.sha256(b"other").hexdigest())
    with pytest.raises(E.EncodingDataError, match="do not match the published file"):
        E.mergeable_ranks("cl100k_base")


def test_short_prefix_borderline_is_info_and_exact_decides(monkeypatch):
    base = "Follow the style guide carefully and cite sources. "
    text = (base * 90).strip()  # ~900 cl100k tokens: the Claude estimate straddles 1,024
    found = audit_prompt(text + "\n", model="claude-sonnet-4-6")
    sp = [f for f in found if f.rule == "short-prefix"]
    assert len(sp) == 1 and sp[0].severity == "info" and "may be below" in sp[0].message

    calls = []

    class Resp:
        def __init__(self, n):
            self.n = n

        def read(self):
            return json.dumps({"input_tokens": self.n}).encode()

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    def fake_urlopen(req, timeout=0):
        body = json.loads(req.data)
        calls.append((req.full_url, req.headers.get("X-api-key"), body))
        return Resp(1200 if "system" in body else 8)

    import urllib.request

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    from agentcost.audit.prompt import audit_text

    found = audit_text(text + "\n", model="claude-sonnet-4-6", exact=True, api_key="sk-test")
    assert [f.rule for f in found] == []  # 1,192 exact tokens >= 1,024
    assert calls[0][0].endswith("/v1/messages/count_tokens") and calls[0][1] == "sk-test"
    with pytest.raises(InputError, match="ANTHROPIC_API_KEY"):
        audit_text(text, model="claude-sonnet-4-6", exact=True, api_key=None)


def test_unknown_model_and_missing_minimum_are_notes(tmp_path):
    p = tmp_path / "p.txt"
    p.write_text("Hello there.\n")
    res = audit_files([p], PromptOptions(model="acme-llm-7"))
    assert res.findings == [] and any("no cache rule" in n for n in res.notes)
    res = audit_files([p], PromptOptions(model="claude-fable-5-2"))  # minimum unconfirmed (U1)
    assert res.findings == [] and any("not stated or not confirmed" in n for n in res.notes)


# ------------------------------------------------------------------------ misc


def test_change_rule_classifies_diffs():
    assert change_rule("Today is 2026-11-21.", "Today is 2026-11-22.")[0] == "timestamp"
    assert change_rule("Run 4bf92f3577b34da6a3ce929d0e0e4736", "Run 9af92f3577b34da6a3ce929d0e0e47"
                       "ff")[0] == "volatile-id"
    assert change_rule("Name: a@b.io", "Name: jane.doe@gmail.com")[0] == "user-content"
    assert change_rule("A\nB", "A  \nB")[0] == "whitespace-drift"
    assert change_rule("Be concise.", "Be brief.") == (None, 3)


def test_rule_metadata_complete():
    for r in RULES.values():
        assert r.short and r.full and r.help and r.default_level in ("note", "warning", "error")
    assert set(STATIC_RULES) == {"timestamp", "volatile-id", "user-content", "whitespace-drift",
                                 "short-prefix", "unpinned-model", "unstable-order",
                                 "volatile-before-stable"}


def test_audit_prompt_is_offline_and_pure():
    import agentcost

    found = agentcost.audit_prompt("Today is 2026-11-21.\n", model="claude-sonnet-4-6")
    assert {f.rule for f in found} == {"timestamp", "short-prefix"}
    assert found[0].to_dict().keys() >= {"rule", "severity", "message", "line", "column",
                                          "excerpt", "fix"}
    src = Path(__file__).resolve().parents[1] / "agentcost" / "audit"
    for py in src.glob("*.py"):
        text = py.read_text()
        assert "import typer" not in text and "from rich" not in text, py


# ------------------------------------------------------- short-prefix after the reported fixes


@pytest.mark.parametrize("model", ["claude-sonnet-4-6", "gpt-4o"])
def test_volatile_first_lines_do_not_make_a_short_prefix(model):
    """tau-bench's airline policy has "The current time is ..." on line 3 before ~1,500 tokens
    of policy: once that line is moved (the reported fix), the prefix is long enough, so only
    the timestamp and volatile-before-stable are reported (issue 9, item 9)."""
    found = audit_files([PROMPTS / "dirty" / "tau_airline_policy.md"],
                        PromptOptions(model=model)).findings
    assert {f.rule for f in found} == {"timestamp", "volatile-before-stable"}


def test_short_after_the_fix_is_still_reported_without_marker_advice(tmp_path):
    p = tmp_path / "short.txt"
    p.write_text("Today is 2026-12-03.\nYou are a support agent. Answer briefly.\n")
    found = audit_files([p], PromptOptions(model="claude-sonnet-4-6")).findings
    sp = [f for f in found if f.rule == "short-prefix"]
    assert len(sp) == 1
    assert sp[0].message.startswith("the stable text (without the volatile lines reported) is ~")
    assert "marker" not in sp[0].message and "marker" not in sp[0].fix
    assert "even with a cache breakpoint after it" in sp[0].message


def test_openai_short_prefix_advice_names_no_marker():
    found = audit_files([PROMPTS / "dirty" / "short_prefix.txt"],
                        PromptOptions(model="gpt-4o")).findings
    (sp,) = [f for f in found if f.rule == "short-prefix"]
    assert "openai caches only prompts of at least 1,024 tokens" in sp.message
    assert "marker" not in sp.message and "marker" not in sp.fix


def test_request_with_a_marker_keeps_the_marker_advice():
    found = audit_files([PROMPTS / "dirty" / "request_system_date.json"],
                        PromptOptions()).findings
    (sp,) = [f for f in found if f.rule == "short-prefix"]
    assert "cache_control marker there is silently ignored" in sp.message
    assert sp.fix.endswith("or drop the marker")
