"""Shared test fixtures.

Real and authentic trace files are read from ``../shared`` beside the repository (as in CI);
``AGENTCOST_SHARED`` overrides the location.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
