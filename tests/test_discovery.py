"""Which files a run reads: a file reached twice (named, in its folder, by a glob, through a
symlink or another spelling of its path) is read once; distinct files with equal content are
both read."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agentcost.ingest import resolve_sources
from tests.conftest import REPO

SAMPLE = REPO / "sample_traces" / "support_agent.jsonl"


def test_a_file_reached_twice_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    d = tmp_path / "runs"
    (d / "sub").mkdir(parents=True)
    one = d / "sub" / "a.jsonl"
    shutil.copy(SAMPLE, one)
    shutil.copy(SAMPLE, d / "b.jsonl")  # same bytes, another file: read
    (tmp_path / "link.jsonl").symlink_to(one)
    monkeypatch.chdir(tmp_path)
    got = resolve_sources([str(one), str(d), str(d / "**" / "*.jsonl"), "link.jsonl",
                           "runs/sub/../sub/a.jsonl"])
    names = [s.name for s, _ in got]
    assert names == [str(one), str(d / "b.jsonl")]
    assert [explicit for _, explicit in got] == [True, False]
