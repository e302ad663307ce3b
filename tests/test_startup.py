"""Start-up: what a small ``agentcost analyze`` imports, and the lazy reader table."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

from agentcost import ingest
from agentcost.ingest import READER_MODULES, READER_NAMES, readers

ROOT = Path(__file__).resolve().parent.parent


def test_reader_names_match_the_modules() -> None:
    for mod in READER_MODULES:
        reader = importlib.import_module(f"agentcost.ingest.{mod}").READER
        assert READER_NAMES[mod] == reader.name, mod
    assert set(READER_NAMES) == set(READER_MODULES)


def test_reader_table_order_and_lookup() -> None:
    table = readers()
    assert list(table) == [READER_NAMES[m] for m in READER_MODULES]
    assert table["otlp"].name == "otlp"
    assert "nope" not in table
    assert len(table) == len(READER_MODULES)


def test_unlisted_and_missing_reader_modules(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(ingest, "READER_MODULES", ("no_such_reader", "tau2"))
    monkeypatch.setattr(ingest, "READER_NAMES", {})  # tau2 must be imported to learn its name
    assert list(readers()) == ["tau2"]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json\n"
                          "print(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_certain_sniff_leaves_later_readers_unimported(tmp_path: Path) -> None:
    trace = tmp_path / "session.jsonl"
    trace.write_text(json.dumps({
        "type": "assistant", "sessionId": "s1", "uuid": "u1",
        "timestamp": "2026-01-05T09:00:00Z",
        "message": {"id": "m1", "role": "assistant", "model": "claude-sonnet-4-5",
                    "content": [{"type": "text", "text": "hi"}],
                    "usage": {"input_tokens": 10, "output_tokens": 2}}}) + "\n")
    mods = _modules_after(
        "from agentcost.ingest import detect, readers\n"
        "from agentcost.ingest.base import Source\n"
        "from pathlib import Path\n"
        f"r = detect(Source(name='x', path=Path({str(trace)!r})), readers())\n"
        "assert r is not None and r.name == 'claude-code', r\n")
    assert "agentcost.ingest.claude_code" in mods
    later = READER_MODULES[READER_MODULES.index("claude_code") + 1:]
    assert not {f"agentcost.ingest.{m}" for m in later} & mods


def test_help_imports_no_pandas_numpy_or_price_data() -> None:
    mods = _modules_after("import agentcost.cli")
    assert not {"pandas", "numpy", "genai_prices", "yaml", "rich"} & mods


def test_bundled_fingerprint_is_the_data_files_hash_without_importing_it() -> None:
    mods = _modules_after(
        "import hashlib, importlib.util, pathlib\n"
        "from agentcost.pricing.source import bundled_fingerprint\n"
        "spec = importlib.util.find_spec('genai_prices')\n"
        "data = pathlib.Path(spec.submodule_search_locations[0]) / 'data.py'\n"
        "assert bundled_fingerprint() == hashlib.sha256(data.read_bytes()).hexdigest()[:16]\n")
    assert "genai_prices" not in mods


def test_agentcost_jsonl_is_detected_without_importing_other_readers() -> None:
    trace = ROOT / "sample_traces" / "support_agent.jsonl"
    mods = _modules_after(
        "from agentcost.ingest import detect, readers\n"
        "from agentcost.ingest.base import Source\n"
        "from pathlib import Path\n"
        f"r = detect(Source(name='x', path=Path({str(trace)!r})), readers())\n"
        "assert r is not None and r.name == 'agentcost', r\n")
    assert not {f"agentcost.ingest.{m}" for m in READER_MODULES[1:]} & mods
