"""Console rendering of a replay report (its dict form, as ``replay --format json`` prints)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentcost.render import fmt, safe

if TYPE_CHECKING:
    from rich.console import Console


def _pct(v: Any) -> str:
    return "n/a" if v is None else f"{float(v) * 100:.1f}%"


def _ci(r: dict[str, Any]) -> str:
    ci = r.get("ci95")
    if not ci or not r.get("n"):
        return "n/a"
    return f"{ci[0] * 100:.0f}–{ci[1] * 100:.0f}%"


def plan_summary(p: dict[str, Any]) -> str:
    """One line for the confirmation: what would be sent, to whom, at what estimated cost."""
    est = p["estimate_usd"]
    cost = "cost unknown (no price)" if est is None else f"estimated {fmt.usd(est)}"
    judge = f", judged by {safe.printable(p['judge'])}" if p.get("judge") else ""
    return (
        f"replay {p['calls']} recorded call{'s' * (p['calls'] != 1)} ({p['steps']} steps, "
        f"{p['eligible']} eligible) on {safe.printable(p['model'])}{judge}: {cost}"
    )


def render_console(d: dict[str, Any], con: Console) -> None:
    from rich.table import Table

    s, c = d["sample"], d["cost"]
    con.print(f"agentcost replay · {safe.markup(d['recording'])} on {safe.markup(d['candidate'])}")
    con.print(
        f"sample     {s['sent']} of {s['eligible']} eligible calls sent "
        f"({s['replayable']} replayable, seed {d['options']['seed']}); "
        f"{s['errors']} failed, {s['not_sent']} not sent"
    )
    con.print(
        f"cost       {fmt.usd(c['actual_usd'])} spent (estimated "
        f"{fmt.usd(c['estimate_usd'])}); the same calls as recorded: "
        f"{fmt.usd(c['recorded_usd'])}"
    )
    lat = d["latency"]
    con.print(
        f"latency    p50 {fmt.ms(lat['duration_p50_ms'])}, TTFT p50 {fmt.ms(lat['ttft_p50_ms'])}"
    )
    t = Table(box=None, pad_edge=False)
    for col in ("role", "calls", "agree", "rate", "95% CI", "similarity"):
        t.add_column(col, justify="left" if col == "role" else "right")
    by_role = d["agreement"]["by_role"]
    for role, r in [*by_role.items(), ("all", d["agreement"]["overall"])]:
        sim = r.get("mean_similarity")
        t.add_row(
            role,
            str(r["n"]),
            str(r["agree"]),
            _pct(r["rate"]),
            _ci(r),
            "—" if sim is None else f"{sim:.2f}",
        )
    con.print(t)
    e = d["escalation"]
    if e["rate"] is not None:
        con.print(
            f"escalation {_pct(e['rate'])} of {e['steps']} routing/short steps disagree "
            f"(95% CI {_pct(e['ci95'][0])}–{_pct(e['ci95'][1])}): simulate --cascade … "
            "--escalation-from this report uses it"
        )
    for line in d["agreement"]["criteria"]:
        con.print(f"criteria   {safe.markup(line)}")
    for n in d["notes"]:
        con.print(f"note       {safe.markup(n)}")
