"""Console (rich), markdown and CSV renderings of a
:class:`~agentcost.simulation.SimulationReport` (JSON: ``report.to_dict()``).

Works on the report's dict form only, so every format shows the same numbers. Scenarios are
listed best first; assumptions every scenario shares are printed once.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from agentcost.render import fmt, safe

if TYPE_CHECKING:
    from rich.console import Console

    from agentcost.simulation import SimulationReport

COLS = ("scenario", "cost", "Δ", "Δ%", "per task", "hit", "p50", "p95")


def _esc(v: Any) -> str:
    """Escaped for rich markup, control characters shown as escapes."""
    return safe.markup(v)


def _signed_usd(v: Any) -> str:
    if v is None:
        return "n/a"
    x = float(v)
    if x == 0:
        return "$0"
    s = fmt.usd(abs(x))
    return ("+" if x > 0 else "−") + s


def _signed_pct(v: Any) -> str:
    if v is None:
        return "n/a"
    x = float(v)
    return f"{x:+.1f}%".replace("-", "−")


def _cells(d: dict[str, Any], is_base: bool) -> list[str]:
    lb = d.get("cost_is_lower_bound")
    return [
        str(d["name"]) + _escalation_label(d),
        fmt.usd(d["cost_usd"], bool(lb)),
        "—" if is_base else _signed_usd(d["delta_usd"]),
        "—" if is_base else _signed_pct(d["delta_pct"]),
        fmt.usd(d.get("cost_per_task_usd")),
        _hit(d),
        fmt.secs(d["latency_p50_s"]),
        fmt.secs(d["latency_p95_s"]),
    ]


def _hit(d: dict[str, Any]) -> str:
    """Cache hit ratio; "unknown" when the trace reports no call's cache reads."""
    return "unknown" if d.get("cache_read_tokens") is None else fmt.pct(d["cache_hit_ratio"])


def _ktok(v: Any) -> str:
    return "unknown" if v is None else fmt.tok(v)


def _escalation_label(d: dict[str, Any]) -> str:
    """A cascade's headline names the escalation rate its figure rests on, and whether it was
    measured (``--escalation-from``) or assumed (the default 0 included)."""
    c = (d.get("details") or {}).get("cascade")
    if not c:
        return ""
    how = "measured" if c.get("escalation_source") else "assumed"
    return f" · esc {c.get('escalation_rate', 0):g} {how}"


def _common(doc: dict[str, Any]) -> list[str]:
    scs = doc["scenarios"]
    if len(scs) < 2:
        return []
    first = scs[0]["assumptions"]
    return [a for a in first if all(a in s["assumptions"] for s in scs[1:])]


def _resolved(doc: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for s in doc["scenarios"]:
        c = s.get("details", {}).get("cascade")
        if not c:
            continue
        for alias, model in (c.get("aliases") or {}).items():
            line = f"{alias} → {model}"
            if line not in out:
                out.append(line)
    return out


def _signed_secs(v: Any) -> str:
    if v is None:
        return "n/a"
    x = float(v)
    return ("+" if x > 0 else "−" if x < 0 else "") + fmt.secs(abs(x))


def _window(s: float) -> str:
    if s >= 3600 and s % 3600 == 0:
        return f"{s / 3600:g}h"
    if s >= 60 and s % 60 == 0:
        return f"{s / 60:g}m"
    return fmt.secs(s)


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def _cache_line(c: dict[str, Any]) -> str:
    ttl = c.get("ttl")
    line = f"strategy {c.get('strategy')}, TTL " + ("default" if ttl == "the model's default"
                                                    else str(ttl))
    if "calls_simulated" in c:
        line += (f"; {c['calls_simulated']:,} calls simulated, "
                 f"{c['calls_as_observed']:,} as observed")
    rg = c.get("reuse_gaps") or {}
    if rg.get("ttl_fit"):
        line += f"; reuse gaps fit TTL {rg['ttl_fit']}"
    return line


def _trim_line(s: dict[str, Any], base: dict[str, Any], tr: dict[str, Any]) -> str:
    lost = None
    for c in s.get("contributions") or []:
        if c["lever"] == "trim_history":
            lost = c["cache_read_tokens_delta"]
    if (lost is None and s.get("levers") == ["trim_history"]
            and None not in (s["cache_read_tokens"], base["cache_read_tokens"])):
        lost = s["cache_read_tokens"] - base["cache_read_tokens"]
    return (f"last {tr['turns_kept']} turns kept; "
            f"{_n(tr['steps_trimmed'], 'prompt')} shortened"
            + (f"; cache reads {lost:+,} tokens".replace("-", "−") if lost else ""))


def _loop_caps_line(lc: dict[str, Any]) -> str:
    ids = ", ".join(lc["cut_task_ids"])
    more = lc["tasks_cut"] - len(lc["cut_task_ids"])
    return (f"{_n(lc['tasks_cut'], 'task')} cut (need escalation; spent "
            f"{fmt.usd(lc['cut_tasks_cost_usd'])})"
            + (f": {ids}" if ids else "") + (f" +{more}" if more > 0 else ""))


def _range_line(rng: dict[str, Any]) -> str:
    o, p = rng["optimistic"], rng["pessimistic"]
    return (f"optimistic {fmt.usd(o['cost_usd'])} "
            f"({_signed_pct(o['delta_pct'])}, p50 {fmt.secs(o['latency_p50_s'])})"
            f" · pessimistic {fmt.usd(p['cost_usd'])} "
            f"({_signed_pct(p['delta_pct'])}, p50 "
            f"{fmt.secs(p['latency_p50_s'])})")


def _model_lines(s: dict[str, Any], base: dict[str, Any],
                 d: dict[str, Any]) -> list[tuple[str, str]]:
    """Tokens, caching, cascade and batch rows."""
    rows: list[tuple[str, str]] = []
    rows.append(("tokens", f"input {fmt.tok(s['input_tokens'])} · cache read "
                           f"{_ktok(s['cache_read_tokens'])} · cache write "
                           f"{_ktok(s['cache_write_tokens'])} · output "
                           f"{fmt.tok(s['output_tokens'])}"))
    c = d.get("cache")
    if c:
        rows.append(("caching", _cache_line(c)))
    ca = d.get("cascade")
    if ca:
        rows.append(("cascade", f"cheap {ca['cheap']} ({_n(ca['cheap_steps'], 'step')}), strong "
                                f"{ca['strong']} ({_n(ca['strong_steps'], 'step')}); escalation "
                                f"rate {ca['escalation_rate']:g}: {ca['escalated_steps']:,} "
                                f"re-run; cache hit {_hit(base)} → "
                                f"{_hit(s)} (caches are per model)"))
    b = d.get("batch")
    if b:
        rows.append(("batch", f"{_n(b['calls'], 'call')} of {_n(b['tasks'], 'task')}; latency "
                              f"= batch window {_window(b['window_s'])} per call"))
    return rows


def _lever_lines(s: dict[str, Any], base: dict[str, Any],
                 d: dict[str, Any]) -> list[tuple[str, str]]:
    """Rows of the prompt, output, tool and loop levers."""
    rows: list[tuple[str, str]] = []
    tr = d.get("trim_history")
    if tr:
        rows.append(("trimming", _trim_line(s, base, tr)))
    if "prompt_tokens_removed" in d:
        rows.append(("prompts", f"{d['prompt_tokens_removed']:,} prompt tokens removed"))
    mo = d.get("max_output_tokens")
    if mo:
        rows.append(("output cap", f"{_n(mo['steps_capped'], 'call')} capped, "
                                   f"{mo['output_tokens_saved']:,} output tokens saved"))
    pt = d.get("parallel_tools")
    if pt:
        rows.append(("parallel", f"{_n(pt['turns_with_several_tools'], 'turn')} with several "
                                 f"tools; {fmt.secs(pt['seconds_saved'])} saved"))
    lc = d.get("loop_caps")
    if lc:
        rows.append(("loop caps", _loop_caps_line(lc)))
    tc = d.get("tool_cache")
    if tc:
        rows.append(("tool cache", f"{_n(tc['repeated_in_task'], 'repeated call')} served "
                                   f"in-task, {tc['reused_across_tasks']:,} across tasks; "
                                   f"{fmt.secs(tc['seconds_saved'])} saved"))
    return rows


def _detail_lines(s: dict[str, Any], base: dict[str, Any]) -> list[tuple[str, str]]:
    d = s.get("details") or {}
    rows = _model_lines(s, base, d) + _lever_lines(s, base, d)
    rows.extend(_context_lines(d))
    if s.get("contributions"):
        rows.append(("by lever", " · ".join(
            f"{c['label']} {_signed_usd(c['delta_usd'])}"
            + (f" ({_signed_secs(c['delta_latency_p50_s'])} p50)"
               if c.get("delta_latency_p50_s") else "")
            for c in s["contributions"])))
    rng = s.get("range")
    if rng:
        rows.append(("range", _range_line(rng)))
    return rows


def _context_lines(d: dict[str, Any]) -> list[tuple[str, str]]:
    """Rows of the context levers (tool-result caps/pruning, compaction, response cache)."""
    rows: list[tuple[str, str]] = []
    c, rc, saved = d.get("context"), d.get("response_cache"), d.get("context_saved")
    if c:
        parts = []
        if "tool_results_capped" in c:
            parts.append(f"{_n(c['tool_results_capped'], 'result')} capped")
        if "tool_results_stubbed" in c:
            parts.append(f"{_n(c['tool_results_stubbed'], 'result')} stubbed")
        if "compactions" in c:
            parts.append(f"{_n(c['compactions'], 'compaction')}"
                         + (f" (summaries {fmt.usd(c['summary_cost_usd'])})"
                            if c.get("summary_calls") else ""))
        rows.append(("context", "; ".join(parts)))
    if rc:
        rows.append(("responses", f"{_n(rc['calls_served'], 'call')} answered from the "
                                  f"response cache ({rc['similarity']}); "
                                  f"{fmt.secs(rc['seconds_saved'])} saved"))
    if saved:
        rows.append(("saved", f"input tokens {saved['input_tokens']:+,} · dollars "
                              f"{_signed_usd(saved['usd'])}".replace("-", "−")))
    return rows


def _bullets(items: list[str]) -> Any:
    from rich.table import Table

    g = Table.grid(padding=(0, 1))
    g.add_column(no_wrap=True)
    g.add_column(overflow="fold")
    for a in items:
        g.add_row("  -", _esc(a))
    return g


def render_console(r: SimulationReport, console: Console) -> None:
    from rich import box
    from rich.table import Table

    doc = r.to_dict()
    base = doc["baseline"]
    console.print(f"[bold]agentcost simulate[/bold] · {_n(base['tasks'], 'task')} · "
                  f"{_n(base['llm_calls'], 'llm call')} · baseline "
                  f"{_esc(fmt.usd(base['cost_usd'], base['cost_is_lower_bound']))}")
    res = _resolved(doc)
    if res:
        console.print("models: " + _esc(", ".join(res)))
    t = Table(box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False)
    for c in COLS:
        t.add_column(c, justify="left" if c == "scenario" else "right",
                     overflow="fold" if c == "scenario" else "ellipsis",
                     no_wrap=c != "scenario")
    t.add_row(*[_esc(x) for x in _cells(base, True)])
    for s in doc["scenarios"]:
        t.add_row(*[_esc(x) for x in _cells(s, False)])
    console.print(t)
    common = _common(doc)
    for s in doc["scenarios"]:
        console.print(f"[bold]{_esc(s['name'])}[/bold]")
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        for k, v in _detail_lines(s, base):
            grid.add_row(_esc(k), _esc(v))
        for wline in s.get("warnings") or []:
            grid.add_row("warning", _esc(wline))
        console.print(grid)
        own = [a for a in s["assumptions"] if a not in common]
        if own:
            console.print("assumptions")
            console.print(_bullets(own))
    if common:
        console.print("[bold]Assumptions (all scenarios)[/bold]")
        console.print(_bullets(common))
    for wline in base.get("warnings") or []:
        console.print("[bold]warning[/bold] " + _esc(wline))
    console.print("[dim]baseline: " + _esc(" ".join(base["assumptions"])) + "[/dim]")


def _md_table(header: tuple[str, ...] | list[str], rows: list[list[str]]) -> list[str]:
    def cell(x: str) -> str:
        return x.replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return out


def render_markdown(r: SimulationReport) -> str:
    doc = r.to_dict()
    base = doc["baseline"]
    lines = ["## agentcost simulate", "",
             f"{_n(base['tasks'], 'task')} · {_n(base['llm_calls'], 'llm call')} · baseline "
             f"{fmt.usd(base['cost_usd'], base['cost_is_lower_bound'])}", ""]
    res = _resolved(doc)
    if res:
        lines += ["Models: " + ", ".join(f"`{x}`" for x in res), ""]
    rows = [_cells(base, True)] + [_cells(s, False) for s in doc["scenarios"]]
    lines += _md_table(COLS, rows)
    lines.append("")
    common = _common(doc)
    for s in doc["scenarios"]:
        lines += [f"### {s['name']}", ""]
        lines += [f"- **{k}**: {v}" for k, v in _detail_lines(s, base)]
        lines += [f"- **warning**: {x}" for x in s.get("warnings") or []]
        own = [a for a in s["assumptions"] if a not in common]
        if own:
            lines.append("- **assumptions**:")
            lines += [f"  - {a}" for a in own]
        lines.append("")
    if common:
        lines += ["### Assumptions (all scenarios)", ""] + [f"- {a}" for a in common] + [""]
    for x in base.get("warnings") or []:
        lines += [f"> warning: {x}", ""]
    lines.append("<sub>baseline: " + " ".join(base["assumptions"]) + "</sub>")
    return safe.printable("\n".join(lines)) + "\n"


CSV_FIELDS = ("name", "cost_usd", "delta_usd", "delta_pct", "cost_per_task_usd",
              "cost_is_lower_bound", "input_tokens", "cache_read_tokens", "cache_write_tokens",
              "output_tokens", "cache_hit_ratio", "latency_p50_s", "latency_p95_s", "tasks",
              "tasks_cut", "llm_calls", "levers", "optimistic_cost_usd", "pessimistic_cost_usd",
              "assumptions")


def render_csv(r: SimulationReport, raw: bool = False) -> str:
    """One row for the baseline and one per scenario (best first); text cells a spreadsheet
    would run as a formula are neutralised unless ``raw``."""
    doc = r.to_dict()
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(CSV_FIELDS), lineterminator="\n",
                       extrasaction="ignore")
    w.writeheader()
    for d in [doc["baseline"], *doc["scenarios"]]:
        row = dict(d)
        row["levers"] = ";".join(d.get("levers") or [])
        row["assumptions"] = " | ".join(d["assumptions"])
        rng = d.get("range")
        row["optimistic_cost_usd"] = rng["optimistic"]["cost_usd"] if rng else None
        row["pessimistic_cost_usd"] = rng["pessimistic"]["cost_usd"] if rng else None
        w.writerow({k: safe.csv_cell(v, raw) for k, v in row.items()})
    return safe.printable(buf.getvalue())
