"""The README's commands run, and the output it shows is what `analyze` prints today.

The first screen's two commands are what `.ci/run` does (a venv, the install, the suite); here the
`agentcost` parts of the README are run in-process on the bundled sample: the shown `analyze`
output is compared line by line (the README elides rows with ``...``), and the CI-gate recipe is
run as written, in a temporary directory so nothing lands in the checkout.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.conftest import REPO

README = REPO / "README.md"


def _fenced(lang: str) -> list[list[str]]:
    blocks, cur, inside = [], [], False
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            if inside:
                blocks.append(cur)
                cur, inside = [], False
            elif line.strip() == "```" + lang:
                inside = True
            continue
        if inside:
            cur.append(line)
    return blocks


def _shown_analyze() -> tuple[list[str], list[str]]:
    """The ``$ agentcost analyze ...`` block: its arguments and the lines it shows."""
    for block in _fenced("text"):
        if block and block[0].startswith("$ agentcost analyze"):
            return shlex.split(block[0][2:])[1:], block[1:]
    raise AssertionError("README.md shows no `$ agentcost analyze` output")


def test_the_shown_analyze_output_is_current(run) -> None:  # type: ignore[no-untyped-def]
    args, shown = _shown_analyze()
    res = run(*args)
    assert res.exit_code == 0, res.output
    actual = [ln.rstrip() for ln in res.output.splitlines()]
    # every shown line, in order; a line of "..." stands for rows left out
    i = 0
    for want in (ln.rstrip() for ln in shown):
        if want.strip() == "...":
            continue
        want = re.sub(r"genai-prices \S+ \(bundled data [0-9a-f]+\)", "", want)
        while i < len(actual) and re.sub(
                r"genai-prices \S+ \(bundled data [0-9a-f]+\)", "", actual[i]) != want:
            i += 1
        assert i < len(actual), f"README line not in today's output (in order): {want!r}"
        i += 1


def _agentcost_lines(block: list[str]) -> list[list[str]]:
    out = []
    for line in block:
        line = line.split(" #", 1)[0].strip()
        if line.startswith("agentcost "):
            out.append(shlex.split(line)[1:])
    return out


def test_the_ci_gate_recipe_runs_as_written(run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    recipe = next(b for b in _fenced("bash") if any("agentcost check" in ln for ln in b))
    assert any(ln.startswith("pip install agentcost-profiler") for ln in recipe), (
        "the recipe must install this project's distribution, not PyPI's `agentcost`")
    steps = _agentcost_lines(recipe)
    assert [s[0] for s in steps] == ["analyze", "check"]
    (tmp_path / "traces").symlink_to(REPO / "sample_traces")
    for argv in steps:
        monkeypatch.chdir(tmp_path)
        res = run(*argv)
        assert res.exit_code == 0, (argv, res.output)
    assert (tmp_path / "baseline.json").stat().st_size > 0
    # the same traces against their own baseline: the gate passes with no change
    assert res.output.startswith("agentcost check · PASS"), res.output
    assert "(+0.0%)" in res.output


@pytest.mark.parametrize(("argv", "shows"), [
    (["analyze", "sample_traces/", "--task", "ticket-4711"],
     r"^step\s+kind\s+name\s+model\s+input"),
    (["analyze", "sample_traces/", "--anatomy"], r"^Context anatomy$"),
])
def test_the_other_analyze_commands_named_in_the_readme_run(  # type: ignore[no-untyped-def]
        run, argv: list[str], shows: str) -> None:
    named = README.read_text(encoding="utf-8")
    assert f"agentcost analyze {argv[1]}" in named or "agentcost analyze traces/" in named
    assert " ".join(argv[2:]) in named
    res = run(*argv)
    assert res.exit_code == 0, res.output
    assert re.search(shows, res.output, re.M), res.output
