"""``analyze --chart``: a bar chart of cost per task (or per day with ``--group-by day``) and,
with ``--task``, a sparkline of the cache hit ratio of each llm step, drawn with rich.

Labels and costs are never cut: they are measured first and the bars take what width is left.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text

from agentcost.render.fmt import usd
from agentcost.render.safe import printable

if TYPE_CHECKING:
    from rich.console import Console

    from agentcost.analysis import AnalyzeReport

BLOCKS = " ▁▂▃▄▅▆▇█"
EIGHTHS = " ▏▎▍▌▋▊▉█"


# a terminal at least this wide gets the charts without --chart
AUTO_CHART_WIDTH = 120


def auto_chart(console: Console) -> bool:
    """Whether ``analyze`` draws its charts without being asked: on an interactive terminal
    of at least :data:`AUTO_CHART_WIDTH` columns (never into a pipe, a file or CI logs)."""
    return bool(console.is_terminal) and console.width >= AUTO_CHART_WIDTH


def bar(value: float, top: float, width: int) -> str:
    """A horizontal bar of ``width`` cells at most, in eighths of a cell."""
    if top <= 0 or width <= 0:
        return ""
    eighths = round(max(0.0, value) / top * width * 8)
    full, part = divmod(eighths, 8)
    return "█" * full + (EIGHTHS[part] if part else "")


def sparkline(values: list[float | None]) -> str:
    """One cell per value in 0..1 (``·`` for an unknown)."""
    return "".join("·" if v is None else BLOCKS[min(8, max(0, round(v * 8)))] for v in values)


def cost_rows(report: AnalyzeReport) -> tuple[str, list[tuple[str, float | None, bool]]]:
    if report.group_by == "day" and report.groups:
        return "Cost per day", [(str(g["day"]), g["cost_usd"], g["cost_is_lower_bound"])
                                for g in report.groups]
    return "Cost per task", [(t["task_id"], t["cost_usd"], t["cost_is_lower_bound"])
                             for t in report.tasks[:report.top]]


def render_cost_chart(report: AnalyzeReport, console: Console) -> None:
    title, rows = cost_rows(report)
    if not rows:
        return
    labels = [printable(r[0]) for r in rows]
    costs = [usd(c, lb) for _, c, lb in rows]
    lw, cw = max(map(len, labels)), max(map(len, costs))
    width = max(4, console.width - lw - cw - 4)
    top = max((c or 0.0) for _, c, _ in rows)
    console.print(Text(title, style="bold"))
    for label, (_, c, _), shown in zip(labels, rows, costs, strict=True):
        line = Text(label.ljust(lw) + "  ")
        line.append(bar(c or 0.0, top, width).ljust(width), style="cyan")
        line.append("  " + shown.rjust(cw))
        console.print(line, no_wrap=True, overflow="ignore", crop=False)


def step_hit_ratios(steps: Any) -> list[float | None]:
    llm = steps[steps["kind"] == "llm"]
    out: list[float | None] = []
    for cr, inp in zip(llm["cache_read_tokens"].tolist(), llm["input_tokens"].tolist(),
                       strict=True):
        known = cr is not None and inp is not None and str(cr) != "<NA>" and str(inp) != "<NA>"
        out.append(float(cr) / float(inp) if known and inp else None)
    return out


def render_hit_sparkline(report: AnalyzeReport, console: Console) -> None:
    if report.task_steps is None:
        return
    ratios = step_hit_ratios(report.task_steps)
    if not ratios:
        return
    console.print(Text(f"Cache hit ratio per llm step, {printable(report.task_id)}", style="bold"))
    width = max(10, console.width - 2)
    for i in range(0, len(ratios), width):  # wraps between steps, never inside one
        console.print(Text(sparkline(ratios[i:i + width]), style="green"), no_wrap=True,
                      crop=False)
    known = [r for r in ratios if r is not None]
    lo, hi = (f"{min(known) * 100:.0f}%", f"{max(known) * 100:.0f}%") if known else ("?", "?")
    console.print(f"{len(ratios)} steps, min {lo}, max {hi} (▁ 0% … █ 100%, · unknown)")
