"""Console (rich) and markdown renderings of an :class:`~agentcost.analysis.AnalyzeReport`.

Prompt text never appears: only ids, names, model names and numbers — all escaped for rich markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from agentcost.render import fmt, safe

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from agentcost.analysis import AnalyzeReport


def _esc(v: Any) -> str:
    """Escaped for rich markup, control characters shown as escapes."""
    return safe.markup(v)


def _input_line(t: dict[str, Any]) -> str:
    if t["cache_read_tokens"] is None:
        return (f"{fmt.tok(t['input_tokens'])} (uncached, cache read and cache write split "
                "unknown: the trace reports no cache figures)")
    return (f"{fmt.tok(t['input_tokens'])} = uncached {fmt.tok(t['uncached_input_tokens'])}"
            f" + cache read {fmt.tok(t['cache_read_tokens'])}"
            f" + cache write {fmt.tok(t['cache_write_tokens'])}"
            + (f" (1h: {fmt.tok(t['cache_write_1h_tokens'])})"
               if t["cache_write_1h_tokens"] else ""))


def hit_cell(d: dict[str, Any]) -> str:
    """A row's cache hit ratio; "unknown" when none of its steps reports cache reads."""
    return "unknown" if d.get("cache_read_tokens", 0) is None else fmt.pct(d["cache_hit_ratio"])


def _hit_line(t: dict[str, Any]) -> str:
    n = t["cache_read_unknown_steps"]
    if t["cache_read_tokens"] is None:
        return f"unknown  (no llm step reports cache reads: {n:,} steps)"
    return fmt.pct(t["cache_hit_ratio"]) + (f"  (cache reads unknown on {n:,} steps)"
                                            if n else "")


def _approx(d: dict[str, Any]) -> str:
    """``≈`` before a cost that includes steps whose tokens were estimated from content."""
    return "≈" if d.get("estimated") else ""


def _estimated_note(t: dict[str, Any]) -> str:
    est = t.get("estimated")
    if not est:
        return ""
    return (f"  (≈{fmt.usd(est['cost_usd'])} of it estimated: {est['llm_calls']:,} llm "
            "calls whose tokens were counted from content)")


def summary_lines(r: AnalyzeReport) -> list[tuple[str, str]]:
    t = r.totals
    lb = bool(t["cost_is_lower_bound"])
    rows = [
        ("tasks", f"{t['tasks']:,} tasks · {t['llm_calls']:,} llm calls · "
                  f"{t['tool_calls']:,} tool calls"),
        ("cost", _approx(t) + fmt.usd(t["cost_usd"], lb)
         + (" (lower bound: unpriced steps left out)" if lb else "") + _estimated_note(t)),
        ("input tokens", _input_line(t)),
        ("output tokens", f"{fmt.tok(t['output_tokens'])}"
                          + (f" (reasoning {fmt.tok(t['reasoning_tokens'])})"
                             if t["reasoning_tokens"] else "")),
        ("cache hit ratio", _hit_line(t)),
        ("cache net savings", "unknown" if t["cache_read_tokens"] is None
         else fmt.usd(t["cache_net_savings_usd"])),
        ("input : output", fmt.ratio(t["io_ratio"])),
        ("input cost share", fmt.pct(t["input_cost_share"])),
        ("llm time share", fmt.pct(t["llm_time_share"])
         + f"  (llm {fmt.secs(t['llm_time_s'])}, tools {fmt.secs(t['tool_time_s'])}"
         + (f", waiting for the user {fmt.secs(t['user_wait_time_s'])}"
            if t.get("user_wait_time_s") else "") + ")"),
        ("llm step p50 / p95", f"{fmt.ms(t['llm_step_p50_ms'])} / {fmt.ms(t['llm_step_p95_ms'])}"),
        ("TTFT p50 / p95", f"{fmt.ms(t['ttft_p50_ms'])} / {fmt.ms(t['ttft_p95_ms'])}"),
    ]
    if t.get("context_growth_p50") is not None:
        rows.append(("iterations p50 / max", f"{t['iterations_p50']:g} / {t['iterations_max']}"))
        rows.append(("context growth p50", fmt.growth(t["context_growth_p50"])
                     + " (last prompt / first prompt)"))
    return rows


TASK_COLS = ("task", "llm", "tools", "input", "cache read", "output", "cost", "hit", "growth",
             "wall")


def task_cells(d: dict[str, Any]) -> list[str]:
    return [
        str(d["task_id"]), str(d["llm_calls"]), str(d["tool_calls"]), fmt.tok(d["input_tokens"]),
        fmt.tok(d["cache_read_tokens"]), fmt.tok(d["output_tokens"]),
        _approx(d) + fmt.usd(d["cost_usd"], d["cost_is_lower_bound"]), hit_cell(d),
        fmt.growth(d.get("context_growth")), fmt.secs(d["wall_time_s"]),
    ]


MODEL_COLS = ("model", "calls", "input", "cache read", "cache write", "output", "cost", "hit",
              "p50")


def model_cells(d: dict[str, Any]) -> list[str]:
    return [
        str(d["model"]), str(d["llm_calls"]), fmt.tok(d["input_tokens"]),
        fmt.tok(d["cache_read_tokens"]), fmt.tok(d["cache_write_tokens"]),
        fmt.tok(d["output_tokens"]), _approx(d) + fmt.usd(d["cost_usd"], d["cost_is_lower_bound"]),
        hit_cell(d), fmt.ms(d["duration_p50_ms"]),
    ]


GROUP_COLS = ("tasks", "llm", "input", "cache read", "output", "cost", "hit")


def group_cells(by: str, d: dict[str, Any]) -> list[str]:
    return [
        str(d[by]), str(d["tasks"]), str(d["llm_calls"]), fmt.tok(d["input_tokens"]),
        fmt.tok(d["cache_read_tokens"]), fmt.tok(d["output_tokens"]),
        _approx(d) + fmt.usd(d["cost_usd"], d["cost_is_lower_bound"]), hit_cell(d),
    ]


STEP_COLS = ("step", "kind", "name", "model", "input", "c.read", "c.write", "output",
             "cost", "time", "TTFT")


def step_cells(row: Any) -> list[str]:
    import pandas as pd

    def g(c: str) -> Any:
        v = row[c]
        return None if v is None or (not isinstance(v, (list, tuple)) and pd.isna(v)) else v

    llm = row["kind"] == "llm"
    name = g("name") or ""
    if llm and g("tool_calls"):
        name = f"{name} → {', '.join(row['tool_calls'])}" if name else "→ " + ", ".join(
            row["tool_calls"])
    cost = g("cost_usd")
    return [
        str(row["step"]), str(row["kind"]), name, str(g("model") or ""),
        fmt.tok(g("input_tokens")) if llm else "",
        fmt.tok(g("cache_read_tokens")) if llm else "",
        fmt.tok(g("cache_write_tokens")) if llm else "",
        fmt.tok(g("output_tokens")) if llm else "",
        (("≈" if g("cost_source") == "estimated" else "") + fmt.usd(cost)
         if cost is not None else
         ("unpriced" if g("cost_source") == "unpriced" else "n/a")) if llm else "",
        fmt.ms(g("duration_ms")), fmt.ms(g("ttft_ms")) if llm else "",
    ]


def finding_line(f: dict[str, Any]) -> str:
    stake = []
    if f.get("usd_at_stake"):
        stake.append(fmt.usd(f["usd_at_stake"]))
    if f.get("seconds_at_stake"):
        stake.append(fmt.secs(f["seconds_at_stake"]))
    at = f" — at stake: {', '.join(stake)}" if stake else ""
    return f"[{f['severity']}] {f['type']} · task {f['task_id']}: {f['message']}{at}"


def ingest_line(r: AnalyzeReport) -> str:
    ing = r.ingest
    dups = ing["duplicates_dropped"]
    dup_s = ", ".join(f"{v:,} {k}" for k, v in dups.items()) if dups else "none"
    s = (f"{len(ing['files'])} files, {ing['lines_read']:,} lines read, "
         f"{ing['steps_kept']:,} steps kept; duplicates dropped: {dup_s}; "
         f"malformed lines: {ing['malformed_lines']:,}")
    if ing.get("outside_time_window"):
        s += f"; outside --since/--until: {ing['outside_time_window']:,}"
    return s


def pricing_line(r: AnalyzeReport) -> str:
    p = r.pricing
    s = f"genai-prices {p['version']} (bundled data {p['data_fingerprint']}), prices at each step's time"
    if p["overrides"]:
        s += f"; agentcost.yaml prices for {', '.join(p['overrides'])}"
    return s


def render_console(r: AnalyzeReport, console: Console, wide: bool = False) -> None:
    if r.task_steps is not None:
        _render_task(r, console, wide)
        return
    _summary_grid(r, console)
    if r.groups is not None:
        _show(console, wide, (r.group_by, *GROUP_COLS), _group_table(r))
    else:
        _show(console, wide, TASK_COLS, _task_table(r))
    if r.models:
        _show(console, wide, MODEL_COLS, _model_table(r))
    _findings_and_warnings(r, console)
    console.print("[dim]ingest: " + _esc(ingest_line(r)) + "[/dim]", highlight=False)
    console.print("[dim]pricing: " + _esc(pricing_line(r)) + "[/dim]", highlight=False)


def _show(console: Console, wide: bool, cols: Sequence[str], build: Any) -> None:
    """The table ``build(cols)`` made, fitted to the console (columns dropped with a note)."""
    from agentcost.render.fit import dropped_note, fitted

    table, dropped = fitted(console, cols, build, wide)
    console.print(table)
    if dropped:
        console.print(dropped_note(dropped).replace("{w}", str(console.width)))


def _summary_grid(r: AnalyzeReport, console: Console) -> None:
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for k, v in summary_lines(r):
        grid.add_row(_esc(k), _esc(v))
    console.print("[bold]agentcost analyze[/bold]")
    console.print(grid)


def _group_table(r: AnalyzeReport) -> Callable[[Sequence[str]], Table]:
    from rich import box
    from rich.table import Table

    assert r.groups is not None
    groups = r.groups

    def by_group(cols: Sequence[str]) -> Table:
        t = Table(title=f"By {r.group_by}", box=box.SIMPLE_HEAD, title_justify="left")
        every = (r.group_by, *GROUP_COLS)
        for c in cols:
            t.add_column(c, justify="left" if c == r.group_by else "right")
        for d in groups[: r.top]:
            cells = dict(zip(every, group_cells(r.group_by, d), strict=True))
            t.add_row(*[_esc(cells[c]) for c in cols])
        return t

    return by_group


def _task_table(r: AnalyzeReport) -> Callable[[Sequence[str]], Table]:
    from rich import box
    from rich.table import Table

    n = min(r.top, len(r.tasks))
    n_tasks = int(r.totals.get("tasks") or len(r.tasks))  # the SQL engines fetch the top

    def by_task(cols: Sequence[str]) -> Table:
        t = Table(title=f"Costliest tasks (top {n} of {n_tasks})", box=box.SIMPLE_HEAD,
                  title_justify="left")
        for c in cols:
            t.add_column(c, justify="left" if c == "task" else "right",
                         overflow="fold" if c == "task" else "ellipsis")
        for d in r.tasks[: r.top]:
            cells = dict(zip(TASK_COLS, task_cells(d), strict=True))
            t.add_row(*[_esc(cells[c]) for c in cols])
        return t

    return by_task


def _model_table(r: AnalyzeReport) -> Callable[[Sequence[str]], Table]:
    from rich import box
    from rich.table import Table

    def by_model(cols: Sequence[str]) -> Table:
        t = Table(title="Models", box=box.SIMPLE_HEAD, title_justify="left")
        for c in cols:
            t.add_column(c, justify="left" if c == "model" else "right")
        for d in r.models:
            cells = dict(zip(MODEL_COLS, model_cells(d), strict=True))
            t.add_row(*[_esc(cells[c]) for c in cols])
        return t

    return by_model


def _findings_and_warnings(r: AnalyzeReport, console: Console) -> None:
    if r.findings:
        n_found = int(r.extra.get("findings_total", len(r.findings)))  # SQL: the first only
        console.print(f"[bold]Findings[/bold] ({n_found})")
        for f in r.findings[: max(r.top, 10)]:
            console.print("  " + _esc(finding_line(f)), highlight=False)
        if n_found > max(r.top, 10):
            console.print(f"  … {n_found - max(r.top, 10)} more (--format json lists all)")
    if r.warnings:
        console.print("[bold]Warnings[/bold]")
        for w in r.warnings:
            console.print("  " + _esc(w), highlight=False)


def _task_summary(r: AnalyzeReport) -> dict[str, Any] | None:
    for d in r.tasks:
        if d["task_id"] == r.task_id:
            return d
    return None


def _render_task(r: AnalyzeReport, console: Console, wide: bool = False) -> None:
    from agentcost.render.fit import STEP_DROP_ORDER, dropped_note, fitted

    assert r.task_steps is not None
    d = _task_summary(r)
    console.print(f"[bold]task {_esc(r.task_id)}[/bold]")
    if d:
        pieces = [
            f"{d['llm_calls']} llm calls, {d['tool_calls']} tool calls",
            f"cost {fmt.usd(d['cost_usd'], d['cost_is_lower_bound'])}",
            f"input {fmt.tok(d['input_tokens'])} vs output {fmt.tok(d['output_tokens'])} "
            f"({fmt.ratio(d['io_ratio'])})",
            f"input cost share {fmt.pct(d['input_cost_share'])}", f"cache hit {hit_cell(d)}",
            f"llm time share {fmt.pct(d['llm_time_share'])}",
            f"context growth {fmt.growth(d['context_growth'])}",
            f"wall {fmt.secs(d['wall_time_s'])}"]
        for line in _packed(pieces, console.width):
            console.print(_esc(line), soft_wrap=True)
    rows = [[_esc(x) for x in step_cells(row)] for _, row in r.task_steps.iterrows()]
    table, dropped = fitted(console, STEP_COLS, lambda cols: _step_table(cols, rows), wide,
                            STEP_DROP_ORDER, wrap_text=True)
    console.print(table)
    if dropped:
        console.print(dropped_note(dropped).replace("{w}", str(console.width)))
    for f in r.findings:
        if f["task_id"] == r.task_id:
            console.print("  " + _esc(finding_line(f)), highlight=False)


def _packed(pieces: list[str], width: int, sep: str = " · ") -> list[str]:
    """The pieces joined with ``sep`` into lines of at most ``width`` characters, breaking
    only between pieces (a label is never parted from its value)."""
    lines: list[str] = []
    cur = ""
    for p in pieces:
        cand = f"{cur}{sep}{p}" if cur else p
        if cur and len(cand) > width:
            lines.append(cur + sep.rstrip())
            cur = p
        else:
            cur = cand
    if cur:
        lines.append(cur)
    return lines


def _step_table(cols: Sequence[str], rows: list[list[str]]) -> Table:
    """The step table with ``cols`` of :data:`STEP_COLS`: no value is cut or wrapped (a step
    name may wrap at its spaces, e.g. after "→")."""
    from rich import box
    from rich.table import Table

    t = Table(box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, show_edge=False,
              collapse_padding=True)
    idx = [STEP_COLS.index(c) for c in cols]
    for c in cols:
        if c == "name":
            t.add_column(c, overflow="fold")
        else:
            t.add_column(c, justify="left" if c in ("kind", "model") else "right",
                         no_wrap=True)
    for row in rows:
        t.add_row(*[row[i] for i in idx])
    return t


def _md_table(header: tuple[str, ...] | list[str], rows: list[list[str]]) -> list[str]:
    def cell(x: str) -> str:
        return x.replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
    return out


def render_markdown(r: AnalyzeReport) -> str:
    lines: list[str] = ["## agentcost analyze", ""]
    if r.task_steps is not None:
        lines.append(f"### Task `{r.task_id}`")
        lines.append("")
        lines += _md_table(STEP_COLS, [step_cells(row) for _, row in r.task_steps.iterrows()])
        return safe.printable("\n".join(lines)) + "\n"
    lines += _md_table(["metric", "value"], [[k, v] for k, v in summary_lines(r)])
    lines.append("")
    if r.groups is not None:
        lines.append(f"### By {r.group_by}")
        lines.append("")
        lines += _md_table([r.group_by, *GROUP_COLS],
                           [group_cells(r.group_by, d) for d in r.groups[: r.top]])
    else:
        lines.append(f"### Costliest tasks (top {min(r.top, len(r.tasks))} of {len(r.tasks)})")
        lines.append("")
        lines += _md_table(TASK_COLS, [task_cells(d) for d in r.tasks[: r.top]])
    lines.append("")
    if r.models:
        lines.append("### Models")
        lines.append("")
        lines += _md_table(MODEL_COLS, [model_cells(d) for d in r.models])
        lines.append("")
    if r.findings:
        lines.append("### Findings")
        lines.append("")
        lines += [f"- {finding_line(f)}" for f in r.findings]
        lines.append("")
    if r.warnings:
        lines.append("### Warnings")
        lines.append("")
        lines += [f"- {w}" for w in r.warnings]
        lines.append("")
    lines.append(f"<sub>ingest: {ingest_line(r)} · pricing: {pricing_line(r)}</sub>")
    return safe.printable("\n".join(lines)) + "\n"
