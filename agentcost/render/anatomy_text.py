"""Console (rich) and markdown renderings of the context anatomy (``analyze --anatomy``).

Everything that comes from the trace (task ids, tool names, call ids) goes through
:mod:`agentcost.render.safe`; no prompt text is in the anatomy to begin with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentcost.render import fmt, safe

if TYPE_CHECKING:
    from rich.console import Console

ROLE_COLS = ("role", "tokens", "token share", "input cost", "cost share")
TOOL_COLS = ("tool", "results", "sends", "carried tokens", "carried cost", "cost share")
ITEM_COLS = ("step", "what", "tokens", "sends", "carried tokens", "carried cost", "stale", "task")


TASK_COLS = (
    "task",
    "calls",
    "input cost",
    "tool defs",
    "system",
    "user",
    "assistant",
    "tool results",
)


def task_cells(d: dict[str, Any]) -> list[str]:
    """One task's share of input cost per role (the same order as ``ROLES``)."""
    shares = [fmt.pct(r["cost_share"]) for r in d["by_role"]]
    return [safe.printable(d["task_id"]), f"{d['calls']:,}", fmt.usd(d["input_cost_usd"]), *shares]


def _cost(d: dict[str, Any], key: str) -> str:
    return fmt.usd(d.get(key), bool(d.get("cost_is_lower_bound")))


def role_cells(d: dict[str, Any]) -> list[str]:
    return [
        d["label"],
        fmt.tok(d["tokens"]),
        fmt.pct(d["token_share"]),
        fmt.usd(d["cost_usd"]),
        fmt.pct(d["cost_share"]),
    ]


def tool_cells(d: dict[str, Any]) -> list[str]:
    return [
        safe.printable(d["name"]),
        f"{d['results']:,}",
        f"{d['sends']:,}",
        fmt.tok(d["carried_tokens"]),
        fmt.usd(d["carried_cost_usd"]),
        fmt.pct(d["cost_share"]),
    ]


def item_cells(d: dict[str, Any], with_task: bool = True) -> list[str]:
    """One carried segment (the call id is in the JSON; the table names the tool)."""
    label = d.get("name") or ""
    if d["role"] != "tool":
        label = d["role"] + (f" · {label}" if label else "")
    cells = [
        str(d["first_step"]),
        safe.printable(label or "—"),
        fmt.tok(d["tokens"]),
        f"{d['sends']:,}",
        fmt.tok(d["carried_tokens"]),
        _cost(d, "carried_cost_usd"),
        str(d["stale_turns"]) if d["role"] == "tool" else "—",
    ]
    return cells + [safe.printable(d["task_id"])] if with_task else cells


def _items(a: dict[str, Any], key: str) -> tuple[tuple[str, ...], list[list[str]]]:
    many = len({d["task_id"] for d in a["tool_results"] + a["blocks"]}) > 1
    cols = ITEM_COLS if many else ITEM_COLS[:-1]
    return cols, [item_cells(d, many) for d in a[key]]


def headline(a: dict[str, Any]) -> str:
    return (
        f"{a['calls_with_segments']:,} of {a['llm_calls']:,} llm calls with segments · "
        f"{a['covered_input_tokens']:,} input tokens · input cost "
        f"{fmt.usd(a['covered_input_cost_usd'], a['cost_is_lower_bound'])}"
    )


def _table(console: Console, title: str, cols: tuple[str, ...], rows: list[list[str]]) -> None:
    from rich import box
    from rich.table import Table

    t = Table(
        title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title_justify="left"
    )
    for i, c in enumerate(cols):
        left = i == 0 or c in ("what", "task")
        t.add_column(c, justify="left" if left else "right", overflow="fold")
    for r in rows:
        t.add_row(*(safe.markup(x) for x in r))
    console.print(t)


def render_console(a: dict[str, Any], console: Console) -> None:
    console.print(
        "[bold]Context anatomy[/bold]"
        + (f" · task {safe.markup(a['task'])}" if a.get("task") else "")
    )
    console.print(safe.markup(headline(a)))
    if not a["calls_with_segments"]:
        for s in a["assumptions"]:
            console.print(safe.markup(f"  - {s}"))
        return
    _table(console, "Input by role", ROLE_COLS, [role_cells(d) for d in a["by_role"]])
    if len(a["tasks"]) > 1:
        _table(
            console,
            "Share of input cost by role, per task (costliest first)",
            TASK_COLS,
            [task_cells(d) for d in a["tasks"]],
        )
    if a["tools"]:
        _table(console, "Tool results by tool", TOOL_COLS, [tool_cells(d) for d in a["tools"]])
    if a["tool_results"]:
        _table(console, "Costliest tool results (carried)", *_items(a, "tool_results"))
    if a["blocks"]:
        _table(console, "Costliest user and system blocks (carried)", *_items(a, "blocks"))
    if a["findings"]:
        console.print(f"[bold]Context findings ({len(a['findings'])})[/bold]")
        for f in a["findings"]:
            console.print(safe.markup(f"  [{f['severity']}] {f['rule']} · {f['message']}"))
    console.print("[bold]assumptions[/bold]")
    for s in a["assumptions"]:
        console.print(safe.markup(f"  - {s}"))


def _md(cols: tuple[str, ...], rows: list[list[str]]) -> list[str]:
    def cell(x: str) -> str:
        return safe.printable(x).replace("|", "\\|")

    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    out += ["| " + " | ".join(cell(x) for x in r) + " |" for r in rows]
    return out + [""]


def render_markdown(a: dict[str, Any]) -> str:
    lines = [
        "### Context anatomy" + (f" · task `{safe.printable(a['task'])}`" if a.get("task") else ""),
        "",
        headline(a),
        "",
    ]
    if a["calls_with_segments"]:
        lines += _md(ROLE_COLS, [role_cells(d) for d in a["by_role"]])
        if len(a["tasks"]) > 1:
            lines += ["#### Share of input cost by role, per task", ""]
            lines += _md(TASK_COLS, [task_cells(d) for d in a["tasks"]])
        if a["tools"]:
            lines += ["#### Tool results by tool", ""]
            lines += _md(TOOL_COLS, [tool_cells(d) for d in a["tools"]])
        if a["tool_results"]:
            lines += ["#### Costliest tool results (carried)", ""]
            lines += _md(*_items(a, "tool_results"))
        if a["findings"]:
            lines += ["#### Context findings", ""]
            lines += [
                f"- **{f['rule']}** ({f['severity']}): {safe.printable(f['message'])}"
                for f in a["findings"]
            ] + [""]
    lines += ["#### Assumptions", ""] + [f"- {safe.printable(s)}" for s in a["assumptions"]]
    return "\n".join(lines) + "\n"
