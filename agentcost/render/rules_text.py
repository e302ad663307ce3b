"""Console/markdown rendering of ``agentcost rules``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, (list, tuple)):
        return ("; " if any(isinstance(x, dict) for x in v) else ", ").join(
            _fmt(x) for x in v) if v else "—"
    if isinstance(v, dict):
        if "ttl" in v:  # a TTL option
            extra = " default" if v.get("default") else ""
            return f"{v['ttl']}: write x{_fmt(v.get('write_multiplier'))}{extra}"
        return ", ".join(f"{k}={_fmt(x)}" for k, x in v.items() if x is not None)
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def rows(rep: dict[str, Any]) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = [("model", "", rep["model"])]
    if rep["resolved_model"] != rep["model"]:
        out.append(("resolves to", "", rep["resolved_model"]))
    for section in ("cache_rules", "prices_usd_per_mtok", "batch_prices_usd_per_mtok"):
        d = rep.get(section)
        if d is None:
            out.append((section.replace("_", " "), "", "not known"))
            continue
        for k, v in d.items():
            out.append((section.replace("_", " "), k, _fmt(v)))
    return out


def render_rules(rep: dict[str, Any], console: Console, markdown: bool = False) -> None:
    from rich import box
    from rich.table import Table

    from agentcost.render.safe import markup, printable

    if markdown:
        lines = ["| section | field | value |", "|---|---|---|"]
        lines += [f"| {a} | {b} | {c.replace('|', '/')} |" for a, b, c in rows(rep)]
        console.print(printable("\n".join(lines)), markup=False, highlight=False)
        return
    t = Table(box=box.SIMPLE_HEAD, show_edge=False, title=f"agentcost rules {markup(rep['model'])}",
              title_justify="left")
    t.add_column("section")
    t.add_column("field")
    t.add_column("value", overflow="fold")
    last = None
    for a, b, c in rows(rep):
        t.add_row(markup(a) if a != last else "", markup(b), markup(c))
        last = a
    console.print(t)
