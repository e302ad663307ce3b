"""One run exported in two formats (Agents SDK JSONL + its OTel bridge) is counted once."""

from __future__ import annotations

import json

from tests.conftest import AUTHENTIC, load_frame


def _truth(*stems: str) -> tuple[int, int]:
    inp = out = 0
    for stem in stems:
        for line in (AUTHENTIC / f"{stem}.ground_truth.jsonl").read_text().splitlines():
            u = json.loads(line)["usage"]
            inp += u.get("input_tokens", u.get("prompt_tokens", 0))
            out += u.get("output_tokens", u.get("completion_tokens", 0))
    return inp, out


def test_same_run_in_two_formats_counted_once():
    folder = AUTHENTIC / "openllmetry-openai-agents"
    df, rep = load_frame(folder)
    llm = df[df["kind"] == "llm"]
    assert df["task_id"].nunique() == 2 and len(llm) == 8
    inp, out = _truth("openllmetry-openai-agents/responses", "openllmetry-openai-agents/chatcmpl")
    assert int(llm["input_tokens"].sum()) == inp
    assert int(llm["output_tokens"].sum()) == out
    assert sum(v for k, v in rep.duplicates.items() if k.startswith("same run")) > 0


def test_different_runs_in_two_formats_both_kept():
    df, rep = load_frame(AUTHENTIC / "openai-agents-sdk" / "responses.agents.jsonl",
                         AUTHENTIC / "openllmetry-openai-agents" / "chatcmpl.otlp.jsonl")
    assert df["task_id"].nunique() == 2
    assert not any(k.startswith("same run") for k in rep.duplicates)
