"""Console (rich) and markdown renderings of a :class:`~agentcost.gate.CheckReport`.

Both open with the report's one-sentence summary, then the totals table (baseline, current,
diff, change, limit, verdict per metric, with the price-drift line), budgets, and the tasks.
The markdown suits ``$GITHUB_STEP_SUMMARY`` and PR comments: per-task details are collapsed in
``<details>`` blocks, and a hidden ``<!-- agentcost-check -->`` marker lets a comment action
find and update its previous comment. Task ids and model names are escaped for rich markup and
for markdown tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentcost.gate.numbers import fmt_pct, fmt_value
from agentcost.render import fmt, safe

if TYPE_CHECKING:
    from rich.console import Console

    from agentcost.gate.report import CheckReport, MetricRow, TaskResult

MARKER = "<!-- agentcost-check -->"
VERDICT_TEXT = {"pass": "pass", "fail": "FAIL", "warn": "warn", "inconclusive": "INCONCLUSIVE",
                None: "—"}
VERDICT_ICON = {"pass": "✅ pass", "fail": "❌ fail", "warn": "⚠️ warn",
                "inconclusive": "❔ inconclusive", None: "—"}
HEAD_ICON = {"pass": "✅", "fail": "❌", "inconclusive": "❔"}
TOTAL_COLS = ("metric", "baseline", "current", "diff", "change", "limit", "verdict")
TASK_COLS = ("task", "baseline", "current", "diff", "change", "iterations", "latency",
             "verdict")
BUDGET_COLS = ("budget", "limit", "baseline", "current", "verdict")


def _value(unit: str, v: float | None, qual: str = "") -> str:
    if v is None:
        return "n/a"
    if unit == "usd":
        s = fmt.usd(v)
    elif unit in ("tokens", "count"):
        s = fmt.tok(round(v)) if float(v).is_integer() else f"{v:,.1f}"
    elif unit == "ratio":
        s = fmt.pct(v)
    elif unit == "seconds":
        s = fmt.secs(v)
    else:
        s = f"{v:g}"
    return f"{qual}{s}"


def _change(r: MetricRow) -> str:
    if r.unit == "ratio" or r.diff_pct is None:
        return ""
    return fmt_pct(r.diff_pct)


def _diff(r: MetricRow) -> str:
    return "" if r.diff is None else fmt_value(r.unit, r.diff, signed=True)


def total_cells(r: MetricRow, verdicts: dict[str | None, str]) -> list[str]:
    return [r.label, _value(r.unit, r.past, r.past_qualifier),
            _value(r.unit, r.current, r.current_qualifier), _diff(r), _change(r),
            ", ".join(r.limits), verdicts[r.verdict]]


def drift_cells(rep: CheckReport) -> list[str] | None:
    d = rep.price_drift
    if d is None:
        return None
    if d.method == "unknown":
        return ["price drift", _value("usd", d.recorded_usd), "unknown", "", "", "",
                "see note"]
    diff = d.drift_usd
    return ["price drift", _value("usd", d.recorded_usd), _value("usd", d.repriced_usd),
            "" if diff is None else fmt_value("usd", diff, signed=True),
            fmt_pct(d.drift_pct) if d.drift_pct is not None else "", "", "not gated"]


def task_cells(t: TaskResult, verdicts: dict[str | None, str]) -> list[str]:
    def with_diff(metric: str) -> str:
        r = t.row(metric)
        if r is None:
            return ""
        if t.status != "matched":
            return _value(r.unit, r.current if t.status == "new" else r.past)
        s = _value(r.unit, r.current, r.current_qualifier)
        return f"{s} ({_diff(r)})" if r.diff else s

    c = t.row("cost_usd")
    assert c is not None
    label = t.task_id if t.match != "name" else f"{t.task_id} ≈"
    return [label, _value("usd", c.past, c.past_qualifier),
            _value("usd", c.current, c.current_qualifier), _diff(c), _change(c),
            with_diff("iterations"), with_diff("latency_s"), verdicts[t.verdict]]


def budget_header(rep: CheckReport) -> tuple[str, ...]:
    return BUDGET_COLS if rep.baseline is not None else tuple(
        c for c in BUDGET_COLS if c != "baseline")


def budget_cells(rep: CheckReport, i: int, verdicts: dict[str | None, str]) -> list[str]:
    b = rep.budgets[i]
    cells = [f"{b.budget.key} ({b.budget.label})", b.budget.describe()
             + (" (warn)" if b.budget.action == "warn" else ""),
             _value(b.budget.unit, b.past), _value(b.budget.unit, b.current),
             verdicts[b.verdict]]
    if rep.baseline is None:
        del cells[2]
    return cells


def why_lines(rep: CheckReport) -> list[str]:
    """Failed and inconclusive gates (the reasons), then the warnings of ``warn`` gates."""
    return rep.reasons + [f"warn {g.kind} {g.name}: {g.message}" for g in rep.gates
                          if g.verdict == "warn"]


def audit_lines(rep: CheckReport) -> list[str]:
    """One line per audited prompt file: verdict, findings count, the top findings."""
    out: list[str] = []
    for p in (rep.audit or {}).get("prompts", []):
        out.append(f"{VERDICT_TEXT.get(p['verdict'], p['verdict'])} {p['path']}: {p['message']}")
    return out


def header_lines(rep: CheckReport) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if rep.baseline is not None:
        b = rep.baseline
        how = ("re-priced with the current price data" if b["has_steps"]
               else "as recorded (no steps to re-price)")
        out.append(("baseline", f"{b['label']} · {_n(b['tasks'], 'task')} · {how}"))
    c = rep.current
    label = f"{c['label']} · " if c.get("label") else ""
    out.append(("current", f"{label}{_n(c['tasks'], 'task')}"))
    if rep.tasks:
        m = rep.matched
        by_name = sum(1 for t in m if t.match == "name")
        out.append(("tasks", f"{len(m)} matched" + (f" ({by_name} by name)" if by_name else "")
                    + f", {len(rep.new_tasks)} new, {len(rep.missing_tasks)} missing"))
    return out


def footer_lines(rep: CheckReport) -> list[str]:
    """Where the prices came from, price drift, warnings."""
    cur = rep.current["pricing"]
    if rep.baseline is None:
        out = [f"prices: {cur}"]
    elif rep.baseline["pricing"] == cur:
        out = [f"prices: {cur} on both sides"]
    else:
        out = [f"prices: baseline recorded with {rep.baseline['pricing']}", f"prices: now {cur}"]
    if rep.price_drift is not None:
        out.append(f"price drift: {rep.price_drift.note}")
    out += [f"warning: {w}" for w in rep.warnings]
    return out


def by_name_lines(rep: CheckReport, top: int) -> list[str]:
    return [f"{t.task_id} ← {t.baseline_task_id} (name {t.name})"
            for t in rep.matched[:top] if t.match == "name"]


def _n(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _esc(v: Any) -> str:
    """Escaped for rich markup, control characters shown as escapes."""
    return safe.markup(v)


def _table(title: str) -> Any:
    from rich import box
    from rich.table import Table

    return Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", title_style="bold",
                 padding=(0, 1), pad_edge=False, show_edge=False, collapse_padding=True)


def render_console(rep: CheckReport, console: Console, top: int = 10) -> None:
    from rich.table import Table

    style = {"pass": "green", "fail": "bold red", "inconclusive": "bold yellow"}[rep.verdict]
    console.print(f"[bold]agentcost check[/bold] · [{style}]{rep.verdict.upper()}[/{style}]")
    console.print(_esc(rep.summary))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for k, v in header_lines(rep):
        grid.add_row(_esc(k), _esc(v))
    console.print(grid)
    _console_totals(rep, console)
    _console_tasks(rep, console, top)
    _console_notes(rep, console)


def _console_totals(rep: CheckReport, console: Console) -> None:
    """The totals gates and the budgets."""
    rows = _total_rows(rep, VERDICT_TEXT)
    if rows:
        console.print()
        t = _table("Totals")
        for c in TOTAL_COLS:
            t.add_column(c, justify="left" if c in ("metric", "limit", "verdict") else "right")
        for row in rows:
            t.add_row(*[_esc(x) for x in row])
        console.print(t)
    if rep.budgets:
        console.print()
        t = _table("Budgets")
        for c in budget_header(rep):
            t.add_column(c, justify="left" if c in ("budget", "verdict") else "right")
        for i in range(len(rep.budgets)):
            t.add_row(*[_esc(x) for x in budget_cells(rep, i, VERDICT_TEXT)])
        console.print(t)


def _console_tasks(rep: CheckReport, console: Console, top: int) -> None:
    """Matched tasks (the top ``top``), then the new and missing ones."""
    matched = rep.matched
    if matched:
        n = min(top, len(matched))
        console.print()
        t = _table(f"Tasks: cost (top {n} of {len(matched)} matched, by verdict and change)")
        for c in TASK_COLS:
            if c == "task":
                t.add_column(c, overflow="fold", min_width=min(24, max(
                    len(task_cells(x, VERDICT_TEXT)[0]) for x in matched[:top])))
            else:
                t.add_column(c, justify="left" if c == "verdict" else "right", no_wrap=True)
        for tr in matched[:top]:
            t.add_row(*[_esc(x) for x in task_cells(tr, VERDICT_TEXT)])
        console.print(t)
        by_name = by_name_lines(rep, top)
        if by_name:
            console.print("≈ matched by task name: " + _esc("; ".join(by_name)))
    for title, items in (("New tasks", rep.new_tasks), ("Missing tasks", rep.missing_tasks)):
        if items:
            ids = ", ".join(x.task_id if x.status == "new" else str(x.baseline_task_id)
                            for x in items[:top])
            more = f" … and {len(items) - top} more" if len(items) > top else ""
            console.print(f"[bold]{title}[/bold] ({len(items)}): {_esc(ids)}{more}")


def _console_notes(rep: CheckReport, console: Console) -> None:
    """The prompt audit, the reasons, and the footer."""
    if rep.audit:
        console.print()
        console.print(f"[bold]Audit[/bold]: {_esc(rep.audit.get('summary', ''))}")
        for line in audit_lines(rep):
            console.print("  " + _esc(line))
    why = why_lines(rep)
    if why:
        console.print()
        console.print("[bold]Why[/bold]")
        for line in why:
            console.print("  " + _esc(line))
    for line in footer_lines(rep):
        console.print("[dim]" + _esc(line) + "[/dim]")


def _md_cell(x: str) -> str:
    return x.replace("|", "\\|").replace("\n", " ")


def _md_table(header: tuple[str, ...], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows]
    return out


def _md_code(s: str) -> str:
    import html

    return f"<code>{html.escape(s)}</code>"


def render_markdown(rep: CheckReport, top: int = 50) -> str:
    """Markdown for a PR comment or ``$GITHUB_STEP_SUMMARY``: the summary sentence first."""
    import html

    word, _, rest = rep.summary.partition(": ")
    lines = [f"{HEAD_ICON[rep.verdict]} **agentcost check: {word}** — {rest}", ""]
    rows = _total_rows(rep, VERDICT_ICON)
    if rows:
        lines += _md_table(TOTAL_COLS, _md_indent(rows))
        lines.append("")
    if rep.budgets:
        lines += ["**Budgets**", ""]
        lines += _md_table(budget_header(rep), [budget_cells(rep, i, VERDICT_ICON)
                                         for i in range(len(rep.budgets))])
        lines.append("")
    if rep.audit:
        lines += [f"**Audit**: {html.escape(rep.audit.get('summary', ''))}", ""]
        lines += [f"- {html.escape(x)}" for x in audit_lines(rep)] + [""]
    if why_lines(rep):
        lines += ["**Why**", ""] + [f"- {html.escape(r)}" for r in why_lines(rep)] + [""]
    matched = rep.matched
    if rep.tasks:
        head = dict(header_lines(rep)).get("tasks", "")
        lines.append(f"**Tasks**: {head}")
        lines.append("")
    changed = [t for t in matched if t.verdict in ("fail", "warn", "inconclusive")
               or any(r.diff for r in t.rows)]
    for tr in changed[:top]:
        c = tr.row("cost_usd")
        assert c is not None
        change = f" ({_change(c)})" if _change(c) else ""
        name = f" = {_md_code(str(tr.baseline_task_id))}" if tr.match == "name" else ""
        lines.append(f"<details><summary>{VERDICT_ICON[tr.verdict]} {_md_code(tr.task_id)}{name}"
                     f" — cost {html.escape(_value('usd', c.past, c.past_qualifier))} → "
                     f"{html.escape(_value('usd', c.current, c.current_qualifier))}"
                     f"{html.escape(change)}</summary>")
        lines.append("")
        lines += _md_table(TOTAL_COLS, _md_indent([total_cells(r, VERDICT_ICON)
                                                   for r in tr.rows]))
        lines += ["", "</details>"]
    if len(changed) > top:
        lines.append(f"<sub>… {len(changed) - top} more changed tasks in the JSON report</sub>")
    if len(matched) > len(changed):
        lines.append(f"<sub>{_n(len(matched) - len(changed), 'matched task')} unchanged</sub>")
    for title, items in (("New tasks", rep.new_tasks), ("Missing tasks", rep.missing_tasks)):
        if items:
            ids = [x.task_id if x.status == "new" else str(x.baseline_task_id) for x in items]
            lines.append(f"<details><summary>{title} ({len(items)})</summary>")
            lines.append("")
            lines += [f"- {_md_code(i)}" for i in ids[:top]]
            if len(ids) > top:
                lines.append(f"- … and {len(ids) - top} more")
            lines += ["", "</details>"]
    lines.append("")
    foot = [f"{k}: {v}" for k, v in header_lines(rep) if k != "tasks"] + footer_lines(rep)
    lines.append("<sub>" + "<br>".join(html.escape(f) for f in foot) + "</sub>")
    lines.append("")
    lines.append(MARKER)
    return safe.printable("\n".join(lines)) + "\n"


def _total_rows(rep: CheckReport, verdicts: dict[str | None, str]) -> list[list[str]]:
    """Totals rows (with the price-drift line under cost); without a baseline only the gated."""
    rows: list[list[str]] = []
    for r in rep.totals:
        if rep.baseline is None and r.verdict is None:
            continue
        rows.append(total_cells(r, verdicts))
        if r.metric == "cost_usd" and (dc := drift_cells(rep)) is not None:
            rows.append(dc)
    return rows


def _md_indent(rows: list[list[str]]) -> list[list[str]]:
    """Markdown collapses leading spaces: indent sub-rows (token classes) with an em space."""
    return [[("&emsp;" + r[0].lstrip()) if r[0].startswith(" ") else r[0], *r[1:]]
            for r in rows]
