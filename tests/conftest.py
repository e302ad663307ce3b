"""Shared test fixtures.

Real and authentic trace files are read from ``../shared`` beside the repository (as in CI);
``AGENTCOST_SHARED`` overrides the location.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest

# the tests never see the developer's price data: no `agentcost prices update` cache, no
# AGENTCOST_PRICES (subprocesses inherit this)
os.environ["AGENTCOST_CACHE_DIR"] = tempfile.mkdtemp(prefix="agentcost-test-cache-")
os.environ.pop("AGENTCOST_PRICES", None)

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("AGENTCOST_SHARED", REPO.parent / "shared"))
REAL = SHARED / "real-traces"
AUTHENTIC = SHARED / "authentic-traces"
FIXTURES = REPO / "tests" / "fixtures"


@pytest.fixture(scope="session")
def real() -> Path:
    assert REAL.is_dir(), f"shared real traces not found at {REAL}"
    return REAL


@pytest.fixture(scope="session")
def authentic() -> Path:
    assert AUTHENTIC.is_dir(), f"shared authentic traces not found at {AUTHENTIC}"
    return AUTHENTIC


@pytest.fixture
def run(monkeypatch):  # type: ignore[no-untyped-def]
    """Invoke the CLI in-process as the golden files were made: pinned COLUMNS, NO_COLOR, TZ,
    from the repository root."""
    from typer.testing import CliRunner

    from agentcost.cli import app

    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.chdir(REPO)
    runner = CliRunner()

    def _run(*args: str, input: bytes | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return _run


def load_frame(*paths: str | Path, **kw):  # type: ignore[no-untyped-def]
    """Read paths into an (unpriced) step frame and the ingest report."""
    from agentcost.ingest import read_sources

    res = read_sources([str(p) for p in paths], **kw)
    return res.frame, res.report


def assert_invariants(df) -> None:  # type: ignore[no-untyped-def]
    """DESIGN.md §2 invariants, checked for every reader."""
    llm = df[df["kind"] == "llm"]
    inp = llm["input_tokens"]
    cr = llm["cache_read_tokens"].fillna(0)
    cw = llm["cache_write_tokens"].fillna(0)
    known = inp.notna()
    assert ((cr + cw)[known] <= inp[known]).all()
    assert (cr >= 0).all() and (cw >= 0).all()
    out, rs = llm["output_tokens"], llm["reasoning_tokens"]
    both = out.notna() & rs.notna()
    assert (rs[both] <= out[both]).all()
    w5, w1 = llm["cache_write_5m_tokens"], llm["cache_write_1h_tokens"]
    split = w5.notna() & w1.notna() & llm["cache_write_tokens"].notna()
    assert ((w5 + w1)[split] == llm["cache_write_tokens"][split]).all()
    tools = df[df["kind"] != "llm"]
    assert tools["input_tokens"].isna().all() or (tools["input_tokens"].fillna(0) == 0).all()


def ground_truth(path: Path) -> list[dict[str, Any]]:
    """The ``<run>.ground_truth.jsonl`` beside an authentic trace file: the usage the API
    actually returned, one call per line."""
    gt = path.parent / f"{path.name.split('.')[0]}.ground_truth.jsonl"
    return [json.loads(line) for line in gt.read_text().splitlines() if line.strip()]


def canonical(call: dict[str, Any]) -> dict[str, int | None]:
    """Canonical token figures of one ground-truth call, computed independently of the
    normalisers (provider-rules §A5, §B3, §F5). ``None`` = the API does not report that
    figure."""
    u = call["usage"]
    if call["endpoint"] == "messages":
        cr, cw = u["cache_read_input_tokens"], u["cache_creation_input_tokens"]
        return {"input_tokens": u["input_tokens"] + cr + cw, "cache_read_tokens": cr,
                "cache_write_tokens": cw, "output_tokens": u["output_tokens"]}
    if call["endpoint"] == "chat.completions":
        d = u.get("prompt_tokens_details") or {}
        return {"input_tokens": u["prompt_tokens"], "cache_read_tokens": d.get("cached_tokens"),
                "cache_write_tokens": d.get("cache_write_tokens"),
                "output_tokens": u["completion_tokens"]}
    d = u.get("input_tokens_details") or {}
    return {"input_tokens": u["input_tokens"], "cache_read_tokens": d.get("cached_tokens"),
            "cache_write_tokens": d.get("cache_write_tokens"),
            "output_tokens": u["output_tokens"]}


GOLDEN = REPO / "tests" / "golden"


def normalise_price_identity(text: str) -> str:
    """The price data's identity changes with a genai-prices upgrade; nothing else may drift."""
    text = re.sub(r"genai-prices \S+ \(bundled data [0-9a-f]+\)",
                  "genai-prices X (bundled data X)", text)
    text = re.sub(r"genai-prices \S+ \(data [0-9a-f?]+\)", "genai-prices X (data X)", text)
    text = re.sub(r'"version": "[^"]+"', '"version": "X"', text)
    return re.sub(r'"data_fingerprint": "[0-9a-f]+"', '"data_fingerprint": "X"', text)


def assert_golden(name: str, text: str) -> None:
    """Compare ``text`` with ``tests/golden/NAME``. A missing golden fails the test; run with
    ``UPDATE_GOLDEN=1`` to write (or rewrite) it after an intended change."""
    path = GOLDEN / name
    text = normalise_price_identity(text)
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"no golden file {path}: run with UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(), f"output differs from {path} (UPDATE_GOLDEN=1 to accept)"
