"""The fuzz rule of ``tests/test_fuzz.py`` (exit 0 or 2, no internal error, no control
character on the terminal) on mutants of the cassette, HAR, Inspect AI, OTel-JSON fixtures and
the estimated-token path (a streamed Agents SDK run), with the same seeded mutator."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import AUTHENTIC, FIXTURES
from tests.test_fuzz import Seed, make_mutants, run_all

SEEDS = [
    ("cassette-yaml", FIXTURES / "cassettes" / "anthropic_messages.yaml"),
    ("cassette-bedrock", FIXTURES / "cassettes" / "bedrock_converse_stream.yaml"),
    ("cassette-json", FIXTURES / "cassettes" / "openai_chat_responses.json"),
    ("har", FIXTURES / "har" / "llm_calls.har"),
    ("inspect-json", FIXTURES / "inspect" / "ctf_easy.json"),
    ("inspect-eval", FIXTURES / "inspect" / "ctf_easy.eval"),
    ("otel-console", FIXTURES / "otel" / "console_spans.log"),
    ("otel-copilot", FIXTURES / "otel" / "copilot_cli.jsonl"),
    ("agents-stream", AUTHENTIC / "openai-agents-sdk" / "chatcmpl_stream.agents.jsonl"),
]
N_MUTANTS = 72
FUZZ_SEED = 11


def test_fuzz_new_formats(tmp_path: Path, authentic: Path) -> None:
    seeds = [Seed(name, "".join(p.suffixes[-1:]), p.read_bytes()) for name, p in SEEDS]
    n = int(os.environ.get("AGENTCOST_FUZZ_MUTANTS", N_MUTANTS))
    base = int(os.environ.get("AGENTCOST_FUZZ_SEED", FUZZ_SEED))
    out = tmp_path / "fuzz"
    out.mkdir()
    jobs = make_mutants(seeds, out, n, base)
    failures, exits = run_all(jobs, tmp_path)
    assert failures == [], "\n".join(failures[:10])
    assert exits[0] > 0  # most mutants are still read, with the damage counted
