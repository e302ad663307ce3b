"""bench/gen_claude_code.py: both profiles write what the Claude Code reader counts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.parametrize("profile", ["sparse", "dense"])
def test_generated_logs_match_their_manifest(profile: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    import gen_claude_code
    import run  # bench/run.py: the totals its `reader` measurement checks

    out = tmp_path / "cc"
    assert gen_claude_code.main(["--size", "3M", "--profile", profile, "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["profile"] == profile
    assert run.reader_totals(str(out / "projects")) == manifest["expected"]
    shape = manifest["shape"]
    per_call = manifest["bytes"] / manifest["expected"]["calls"]
    if profile == "dense":
        assert len(shape["models"]) >= 3 and shape["prompts_over_200k"] >= 0
        assert per_call < 25_000
    else:
        assert set(shape["models"]) == {"claude-opus-4-6", "claude-sonnet-4-5-20250929"} or \
            set(shape["models"]) == {"claude-opus-4-6"}
        assert per_call > 25_000
    sys.modules.pop("gen_claude_code", None)
    sys.modules.pop("run", None)


def test_dense_models_are_all_priced(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime

    from genai_prices import Usage, calc_price

    monkeypatch.syspath_prepend(str(BENCH))
    import gen_claude_code

    models = {m for m, _ in gen_claude_code.MAIN_MODELS + gen_claude_code.SUB_MODELS}
    assert len(models) == 8
    when = datetime(2026, 10, 20, tzinfo=UTC)
    for m in sorted(models):
        price = calc_price(Usage(input_tokens=1000, output_tokens=100), model_ref=m,
                           provider_id="anthropic", genai_request_timestamp=when)
        assert price.total_price > 0, m
    sys.modules.pop("gen_claude_code", None)
