"""The documentation: README.md stays a first screen, every relative link in README.md and
docs/*.md resolves (to a file, and for ``#anchor`` links to a heading), and every command and
long option of the CLI is documented in prose somewhere in README.md or docs/*.md.

Anchors follow GitHub's rules: the heading's text, lowercased, punctuation other than ``-`` and
``_`` dropped, spaces turned into ``-``; a repeated heading gets ``-1``, ``-2`` ...
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

README = REPO / "README.md"
DOCS = sorted((REPO / "docs").glob("*.md"))
PAGES = [README, *DOCS]

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_INLINE_CODE = re.compile(r"(`+)(.+?)\1")
# [text](target "title") and ![alt](target); link text may hold one level of brackets
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
_HTML_ANCHOR = re.compile(r"<a\s+(?:[^>]*\s)?(?:id|name)=\"([^\"]+)\"", re.I)
_SCHEME = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.I)


def _prose(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) of every line outside fenced code blocks."""
    fence: str | None = None
    for n, line in enumerate(text.splitlines(), 1):
        m = _FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)[0] * 3
        elif fence is not None and line.lstrip().startswith(fence):
            fence = None
        elif fence is None:
            yield n, line


def _slug(heading: str) -> str:
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading: its text
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    anchors: set[str] = set()
    for _, line in _prose(path.read_text(encoding="utf-8")):
        anchors.update(_HTML_ANCHOR.findall(line))
        m = _HEADING.match(line)
        if not m:
            continue
        slug = _slug(m.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _links(path: Path) -> Iterator[tuple[int, str]]:
    for n, line in _prose(path.read_text(encoding="utf-8")):
        m = _REF_DEF.match(line)
        if m:
            yield n, m.group(1)
            continue
        line = _INLINE_CODE.sub("code", line)
        for target in _LINK.findall(line):
            yield n, target


def _link_errors(page: Path) -> list[str]:
    errors = []
    for n, target in _links(page):
        where = f"{page.relative_to(REPO)}:{n}: {target!r}"
        if not target:
            errors.append(f"{where}: empty link")
            continue
        if _SCHEME.match(target):
            continue  # an absolute URL: not checked offline
        file_part, _, anchor = target.partition("#")
        dest = (page.parent / file_part).resolve() if file_part else page
        if not dest.is_relative_to(REPO):
            errors.append(f"{where}: points outside the repository")
        elif not dest.exists():
            errors.append(f"{where}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            errors.append(f"{where}: no heading #{anchor} in {dest.relative_to(REPO)}")
    return errors


def test_readme_is_a_first_screen():
    n = len(README.read_text(encoding="utf-8").splitlines())
    assert n < 200, f"README.md has {n} lines; move reference material to docs/"


def test_docs_pages_exist():
    assert {p.name for p in DOCS} >= {"report.md", "check.md", "audit.md", "simulate.md"}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(page: Path):
    errors = _link_errors(page)
    assert not errors, "broken links:\n" + "\n".join(errors)


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_docs_page_has_title_and_way_back(page: Path):
    lines = page.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# "), f"{page.name}: the first line is not a # title"
    assert any("](../README.md)" in line for line in lines[1:4]), \
        f"{page.name}: no link back to the README under the title"


def test_readme_links_every_docs_page():
    linked = {(README.parent / t.partition("#")[0]).resolve() for _, t in _links(README)}
    missing = [p.name for p in DOCS if p.resolve() not in linked]
    assert missing == [], f"docs pages not linked from README.md: {missing}"


def test_link_checker_catches_broken_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("tests.test_docs.REPO", tmp_path)
    (tmp_path / "a.md").write_text("# Tit-le: `x_y` (1)\n\n## Tit-le: `x_y` (1)\n", "utf-8")
    page = tmp_path / "b.md"
    page.write_text(
        "[ok](a.md#tit-le-x_y-1) [dup](a.md#tit-le-x_y-1-1) [web](https://example.com/x)\n"
        "[gone](nope.md) [bad anchor](a.md#tit-le) [here](#b) `[code](nope.md)`\n"
        "```\n[in a fence](nope.md)\n# not a heading\n```\n# B\n", "utf-8")
    errors = _link_errors(page)
    assert [e.split(": ", 1)[1] for e in errors] == [
        "'nope.md': no such file", "'a.md#tit-le': no heading #tit-le in a.md"]


def _cli_items() -> tuple[list[str], list[tuple[str, str]]]:
    """Command paths and (command path, long option) pairs of the Typer app, nested groups too.

    The objects are click's (typer may vendor click), so they are inspected by attribute.
    """
    import typer.main

    from agentcost.cli import app

    commands: list[str] = []
    options: list[tuple[str, str]] = []

    def walk(cmd, path: list[str]) -> None:
        for param in cmd.params:
            if getattr(param, "param_type_name", None) != "option" or param.hidden:
                continue
            for opt in [*param.opts, *param.secondary_opts]:
                if opt.startswith("--"):
                    options.append((" ".join(["agentcost", *path]), opt))
        for name, sub in getattr(cmd, "commands", {}).items():
            if not sub.hidden:
                commands.append(" ".join(["agentcost", *path, name]))
                walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return commands, options


def test_every_option_is_documented_where_its_command_is():
    """Stricter than the test above: an option counts as documented for a command only on a
    page that names the command (``agentcost report``), so ``--top`` on the check page does not
    document ``report --top``."""
    _, options = _cli_items()
    pages = ["\n".join(line for _, line in _prose(p.read_text(encoding="utf-8"))) for p in PAGES]
    missing = []
    for cmd, opt in options:
        own = [t for t in pages if cmd in t] if cmd != "agentcost" else pages
        if not any(re.search(r"(?<![\w-])" + re.escape(opt) + r"(?![\w-])", t) for t in own):
            missing.append(f"{cmd} {opt}")
    assert missing == [], f"not documented on a page that names the command: {missing}"


def _prose_of_all_pages() -> str:
    """README.md and docs/*.md outside fenced code blocks: an option that appears only in an
    example (or in another tool's command line) is not documented."""
    return "\n".join(line for p in PAGES for _, line in _prose(p.read_text(encoding="utf-8")))


def test_every_command_and_option_is_documented():
    commands, options = _cli_items()
    assert len(commands) >= 6 and len(options) >= 50  # the walk found the app's commands
    text = _prose_of_all_pages()
    missing = [c for c in commands if not re.search(re.escape(c) + r"(?![\w-])", text)]
    missing += [f"{c} {o}" for c, o in options
                if not re.search(r"(?<![\w-])" + re.escape(o) + r"(?![\w-])", text)]
    assert missing == [], f"not documented in README.md or docs/*.md: {missing}"
