"""The sniffed head of an input file is not held for the whole run (a folder of thousands of
sessions held 64 KiB each), and letting it go never loses what cannot be read twice."""

from __future__ import annotations

import os
from pathlib import Path

from agentcost.ingest import read_sources
from agentcost.ingest.base import HEAD_BYTES, Source
from tests.conftest import REPO


def test_a_forgotten_head_is_read_again_the_same(tmp_path: Path) -> None:
    p = tmp_path / "t.jsonl"
    p.write_bytes(b'{"a": 1}\n' * 20_000)
    src = Source(name=str(p), path=p)
    first = src.head
    assert len(first) == HEAD_BYTES
    src.forget_head()
    assert src.head == first


def test_the_head_of_stdin_or_a_pipe_is_kept() -> None:
    src = Source(name="<stdin>", data=b'{"a": 1}\n')
    head = src.head
    src.forget_head()
    assert src.head is head  # not read again: there is nothing to read it from


def test_a_named_pipe_is_still_read_whole_when_heads_are_let_go(tmp_path: Path) -> None:
    sample = REPO / "sample_traces"
    before = read_sources([str(sample)])
    # a named pipe: read once into memory by resolve_sources; its head stays usable
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    data = (sample / "research_agent.jsonl").read_bytes()
    pid = os.fork()
    if pid == 0:  # the writer
        with open(fifo, "wb") as fh:
            fh.write(data)
        os._exit(0)
    piped = read_sources([str(fifo)])
    os.waitpid(pid, 0)
    alone = read_sources([str(sample / "research_agent.jsonl")])
    assert len(piped.frame) == len(alone.frame) > 0
    assert before.report.steps_kept == len(before.frame) > len(alone.frame)
