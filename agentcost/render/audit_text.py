"""Console (rich) and markdown renderings of an audit report (``audit-prompt``) and of the cache
miss explanation (``analyze --explain-misses``).

Prompt text (excerpts, before/after) is always escaped with ``rich.markup.escape`` in the
console and with backslashes in markdown tables: a prompt containing ``[bold]`` or ``|`` prints
as written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentcost.render import fmt, safe

if TYPE_CHECKING:
    from rich.console import Console

    from agentcost.audit import AuditReport


def _esc(v: Any) -> str:
    """Escaped for rich markup, control characters shown as escapes."""
    return safe.markup(v)


def where(f: dict[str, Any]) -> str:
    loc = f.get("file") or ""
    if f.get("line"):
        loc += f":{f['line']}"
        if f.get("column"):
            loc += f":{f['column']}"
    return loc


def _counts_line(summary: dict[str, Any]) -> str:
    c = summary["by_severity"]
    n = summary["findings"]
    return (f"{n} finding{'s' if n != 1 else ''}: {c['error']} error(s), "
            f"{c['warning']} warning(s), {c['info']} info")


def render_console(rep: AuditReport, console: Console) -> None:
    from rich import box
    from rich.table import Table

    d = rep.to_dict()
    console.print("[bold]agentcost audit-prompt[/bold]")
    findings = d["findings"]
    if findings:
        t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        t.add_column("where", overflow="fold", max_width=46)
        t.add_column("finding", overflow="fold", ratio=1)
        for f in findings:
            body = _esc(f["message"])
            if f.get("excerpt"):
                body += "\n│ " + _esc(f["excerpt"])
            if f.get("fix"):
                body += "\nfix: " + _esc(f["fix"])
            t.add_row(_esc(where(f)) + f"\n{f['severity']} {f['rule']}", body)
        console.print(t)
    if rep.traces is not None:
        render_misses_summary(rep.traces, console, with_title=True)
    console.print(_esc(_counts_line(d["summary"])))
    files = (rep.prompts or {}).get("files") or []
    for info in files:
        for p in info.get("prefixes", []):
            est = "" if p["exact"] else (f" (estimated {p['low']:,}–{p['high']:,})"
                                         if p["low"] != p["high"] else " (approximate)")
            console.print(_esc(f"{info['path']}: {p['label']}: ~{p['tokens']:,} tokens{est}, "
                               f"{p['method']}; model {info.get('model')}, minimum "
                               f"{info.get('min_cacheable_tokens') or '?'}"))
    for note in rep.notes:
        console.print(_esc(f"note: {note}"))


def render_misses_summary(s: dict[str, Any], console: Console, with_title: bool = True) -> None:
    from rich import box
    from rich.table import Table

    if with_title:
        console.print("[bold]Cache misses[/bold]")
    console.print(_esc(s["sentence"]))
    console.print(_esc(
        f"llm calls: {s['llm_calls']:,} ({s['calls_with_segments']:,} with segments, "
        f"{s['calls_with_text']:,} with request text); cache writes "
        f"{fmt.tok(s['cache_write_tokens'])}, never read {fmt.tok(s['unread_cache_write_tokens'])}"
        + (f"; cache reads unknown on {s['calls_cache_read_unknown']:,} calls"
           if s["calls_cache_read_unknown"] else "")))
    if s["causes"]:
        t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for c in ("cause", "calls", "tokens lost", "$ lost", "share"):
            t.add_column(c, justify="left" if c == "cause" else "right")
        for c in s["causes"]:
            t.add_row(_esc(c["cause"]), str(c["calls"]), fmt.tok(c["lost_tokens"]),
                      fmt.usd(c["lost_usd"]), fmt.pct(c["share"]))
        console.print(t)
    if s["tasks"]:
        t = Table(title="By task", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                  title_justify="left")
        for c in ("task", "misses", "tokens lost", "$ lost", "causes"):
            t.add_column(c, justify="left" if c in ("task", "causes") else "right",
                         overflow="fold")
        for d in s["tasks"][:10]:
            t.add_row(_esc(d["task_id"]), str(d["misses"]), fmt.tok(d["lost_tokens"]),
                      fmt.usd(d["lost_usd"]), _esc(", ".join(d["causes"])))
        console.print(t)


def render_misses(report: dict[str, Any], console: Console) -> None:
    """``analyze --explain-misses``: the summary plus one line per miss."""
    render_misses_summary(report["summary"], console)
    for f in report["findings"][:50]:
        console.print(_esc(f"  [{f['severity']}] {f['rule']} · {f['message']}"))
        if f.get("excerpt"):
            console.print(_esc(f"      │ {f['excerpt']}"))
    if len(report["findings"]) > 50:
        console.print(_esc(f"  … {len(report['findings']) - 50} more (--format json)"))


def _md(v: Any) -> str:
    s = safe.printable(v)
    return (s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("`", "\\`")
            .replace("<", "&lt;"))


def misses_markdown(s: dict[str, Any], findings: list[dict[str, Any]]) -> list[str]:
    out = ["## Cache misses", "", _md(s["sentence"]), ""]
    if s["causes"]:
        out += ["| cause | calls | tokens lost | $ lost | share |", "|---|---:|---:|---:|---:|"]
        out += [f"| {c['cause']} | {c['calls']} | {fmt.tok(c['lost_tokens'])} | "
                f"{fmt.usd(c['lost_usd'])} | {fmt.pct(c['share'])} |" for c in s["causes"]]
        out.append("")
    if findings:
        out += ["| task | step | cause | tokens lost | $ lost | first difference |",
                "|---|---:|---|---:|---:|---|"]
        for f in findings:
            m = f.get("miss") or {}
            diff = ""
            if m.get("block"):
                diff = f"block {m['block']} ({m.get('role')})"
                if m.get("after") is not None:
                    diff += f": `{_md(m['before'])}` → `{_md(m['after'])}`"
            out.append(f"| {_md(f.get('task_id'))} | {f.get('step')} | {f['rule']} | "
                       f"{fmt.tok(m.get('lost_tokens'))} | {fmt.usd(m.get('lost_usd'))} | "
                       f"{diff} |")
        out.append("")
    return out


def render_markdown(rep: AuditReport) -> str:
    d = rep.to_dict()
    out = ["# agentcost audit-prompt", "", f"**{_md(_counts_line(d['summary']))}**", ""]
    static = [f for f in d["findings"] if f.get("miss") is None]
    if static:
        out += ["| severity | rule | location | finding | fix |", "|---|---|---|---|---|"]
        for f in static:
            msg = _md(f["message"])
            if f.get("excerpt"):
                msg += f"<br>`{_md(f['excerpt'])}`"
            out.append(f"| {f['severity']} | {f['rule']} | {_md(where(f))} | {msg} | "
                       f"{_md(f.get('fix'))} |")
        out.append("")
    if rep.traces is not None:
        out += misses_markdown(rep.traces, [f for f in d["findings"] if f.get("miss")])
    if rep.notes:
        out += [f"- {_md(n)}" for n in rep.notes] + [""]
    return safe.printable("\n".join(out))
