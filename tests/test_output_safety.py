"""Nothing the user has is lost (issue 11, item 7): an output that is one of the run's inputs is
refused before anything is written; a symlink writes its target; a FIFO is written as a stream;
new files get the umask's mode, a replaced file keeps its own."""

from __future__ import annotations

import json
import os
import shutil
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

SAMPLE = REPO / "sample_traces" / "research_agent.jsonl"


@pytest.fixture
def trace(tmp_path: Path) -> Path:
    p = tmp_path / "traces" / "run.jsonl"
    p.parent.mkdir()
    shutil.copy(SAMPLE, p)
    return p


@pytest.mark.parametrize("args", [
    ["analyze", "{trace}", "-o", "{trace}"],
    ["analyze", "{dir}", "--format", "json", "-o", "{trace}"],
    ["simulate", "{trace}", "--cache", "auto", "-o", "{trace}"],
    ["report", "{trace}", "-o", "{trace}"],
    ["audit-prompt", "{trace}", "-o", "{trace}"],
    ["check", "{trace}", "--baseline", "{base}", "-o", "{base}"],
    ["check", "{trace}", "--baseline", "{base}", "--junit", "{trace}"],
    ["check", "{trace}", "--baseline", "{base}", "--report-json", "{base}"],
])
def test_an_output_over_an_input_is_refused(run: Any, trace: Path, args: list[str]) -> None:
    base = trace.parent.parent / "base.json"
    assert run("analyze", str(trace), "--format", "json", "--steps", "-o",
               str(base)).exit_code == 0
    before = {p: p.read_bytes() for p in (trace, base)}
    res = run(*[a.format(trace=trace, dir=trace.parent, base=base) for a in args])
    assert res.exit_code == 2, res.output
    assert "refusing to write over an input of this run" in res.stderr
    assert {p: p.read_bytes() for p in before} == before


def test_symlink_writes_its_target(run: Any, trace: Path, tmp_path: Path) -> None:
    real = tmp_path / "reports" / "latest.json"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "latest-link.json"
    link.symlink_to(real)
    assert run("analyze", str(trace), "--format", "json", "-o", str(link)).exit_code == 0
    assert link.is_symlink() and json.loads(real.read_text())["schema_version"] == 1


def test_modes(run: Any, trace: Path, tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        new = tmp_path / "new.md"
        assert run("analyze", str(trace), "--format", "markdown", "-o", str(new)).exit_code == 0
        assert stat.S_IMODE(new.stat().st_mode) == 0o640
        kept = tmp_path / "kept.md"
        kept.write_text("x")
        kept.chmod(0o604)
        assert run("analyze", str(trace), "--format", "markdown", "-o", str(kept)).exit_code == 0
        assert stat.S_IMODE(kept.stat().st_mode) == 0o604 and kept.read_text() != "x"
    finally:
        os.umask(old)


def test_fifo_is_written_as_a_stream(run: Any, trace: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    assert run("analyze", str(trace), "--format", "json", "-o", str(fifo)).exit_code == 0
    reader.join(timeout=30)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert json.loads(got[0])["totals"]["llm_calls"] == 4
