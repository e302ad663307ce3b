"""Findings about one task's spend and time, computed column-wise over the whole step table
(no per-task slicing): caching that lost money, 1-hour writes that 5-minute ones would have
served, tool calls that ran one after another, identical tool calls repeated, runaway loops
(:mod:`agentcost.loops`). Each finding is a plain dict (the JSON report's ``findings``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentcost.frames import by_task_step, json_float, records

if TYPE_CHECKING:
    import pandas as pd

FIVE_MINUTES_S = 300.0
ORDER = {"cache-lost-money": 0, "cache-write-unread": 1, "runaway-loop": 2,
         "cache-1h-unneeded": 3, "sequential-tools": 4, "repeated-tool-call": 5}
COLUMNS = ["task_id", "step", "kind", "name", "model", "response_model", "started_at",
           "ended_at", "duration_ms", "cache_read_tokens", "cache_write_tokens",
           "cache_write_1h_tokens", "cache_savings_usd", "cache_1h_premium_usd",
           "tool_input_hash"]


def find_findings(df: pd.DataFrame, runaway_factor: float = 3.0,
                  max_iterations: int | None = None, token_budget: int | None = None
                  ) -> list[dict[str, Any]]:
    """All findings of ``df``, most important first."""
    from agentcost.loops import loop_profiles, peer_measures, runaway_findings

    full = by_task_step(df)
    part = full[COLUMNS]
    profiles = loop_profiles(full)
    # every task's peers sorted once: linear in tasks instead of quadratic
    peers = peer_measures((p.role, p.interactive, p.measure) for p in profiles.values())
    findings = [*cache_findings(part), *sequential_tool_findings(part),
                *repeated_tool_findings(part),
                *runaway_findings(profiles, runaway_factor, max_iterations, token_budget,
                                  peers)]
    return sort_findings(findings)


def cache_findings(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Caching that lost money, writes never read, 1h writes where 5m would do — per task and
    model."""
    import pandas as pd

    out: list[dict[str, Any]] = []
    llm = df.loc[df["kind"] == "llm", ["task_id", "model", "response_model", "started_at",
                                       "cache_read_tokens", "cache_write_tokens",
                                       "cache_write_1h_tokens", "cache_savings_usd",
                                       "cache_1h_premium_usd"]]
    if len(llm):
        model_key = llm["model"].fillna(llm["response_model"]).fillna("(unknown)")
        cw = llm["cache_write_tokens"].fillna(0).astype("int64")
        cr = llm["cache_read_tokens"].fillna(0).astype("int64")
        keys = [llm["task_id"], model_key]
        prior_writes = cw.groupby(keys, sort=False).cumsum() - cw
        gaps = llm.groupby(keys, sort=False)["started_at"].diff().dt.total_seconds()
        agg = pd.DataFrame({
            "cw": cw, "cr": cr, "reads_after": cr.where(prior_writes > 0, 0),
            "w1": llm["cache_write_1h_tokens"].fillna(0).astype("int64"),
            "sav": llm["cache_savings_usd"].astype("float64"),
            "prem": llm["cache_1h_premium_usd"].astype("float64"),
            "gap": gaps, "task": llm["task_id"], "model": model_key,
        }).groupby(["task", "model"], sort=False).agg(
            cw=("cw", "sum"), cr=("cr", "sum"), reads_after=("reads_after", "sum"),
            w1=("w1", "sum"), sav=("sav", "sum"), prem=("prem", "sum"),
            max_gap=("gap", "max"), n=("cw", "size"))
        for (tid, model), r in records(agg[agg["cw"] > 0]):
            out += cache_items(str(tid), None if model == "(unknown)" else str(model), r)
    return out


def cache_items(tid: str, mname: str | None, r: Any) -> list[dict[str, Any]]:
    """The cache findings of one task and model from its sums (``cw``, ``cr``, ``reads_after``,
    ``w1``, ``sav``, ``prem``, ``max_gap``, ``n``): the one definition the in-memory and the
    SQL engines share."""
    import pandas as pd

    out: list[dict[str, Any]] = []
    savings = float(r["sav"])
    if r["reads_after"] == 0:
        out.append({
            "type": "cache-write-unread", "severity": "warning", "task_id": tid,
            "model": mname,
            "message": (f"{int(r['cw']):,} tokens written to cache were never read: "
                        "the write premium was wasted"),
            "usd_at_stake": json_float(-savings if savings < 0 else 0.0),
            "seconds_at_stake": None,
            "details": {"cache_write_tokens": int(r["cw"])},
        })
    elif savings < 0:
        out.append({
            "type": "cache-lost-money", "severity": "warning", "task_id": tid,
            "model": mname,
            "message": (f"caching cost ${-savings:.4f} more than no caching: "
                        f"{int(r['cw']):,} tokens written, {int(r['cr']):,} read"),
            "usd_at_stake": json_float(-savings), "seconds_at_stake": None,
            "details": {"cache_write_tokens": int(r["cw"]),
                        "cache_read_tokens": int(r["cr"])},
        })
    if r["w1"] > 0 and r["n"] > 1 and not pd.isna(r["max_gap"]) \
            and float(r["max_gap"]) < FIVE_MINUTES_S:
        out.append({
            "type": "cache-1h-unneeded", "severity": "info", "task_id": tid,
            "model": mname,
            "message": (f"{int(r['w1']):,} tokens written with the 1h TTL, but every "
                        f"reuse gap was under 5 minutes (max {r['max_gap']:.0f}s): "
                        "5m writes would do"),
            "usd_at_stake": json_float(r["prem"]), "seconds_at_stake": None,
            "details": {"cache_write_1h_tokens": int(r["w1"]),
                        "max_gap_s": json_float(r["max_gap"], 1)},
        })
    return out


def sequential_item(tid: str, r: Any, tool_names: list[str]) -> dict[str, Any]:
    """The sequential-tools finding of one turn from its sums (``n``, ``total``, ``longest``,
    ``llm_step``), shared with the SQL engines."""
    import pandas as pd

    gain = float(r["total"] - r["longest"]) / 1000.0
    step_no = int(r["llm_step"]) if not pd.isna(r["llm_step"]) else None
    return {
        "type": "sequential-tools", "severity": "info", "task_id": tid,
        "model": None,
        "message": (f"{int(r['n'])} tool calls requested in step {step_no} ran one "
                    f"after another ({', '.join(tool_names)}); parallel dispatch would "
                    f"save {gain:.2f}s"),
        "usd_at_stake": None, "seconds_at_stake": json_float(gain, 3),
        "details": {"step": step_no, "tools": tool_names},
    }


def repeated_item(tid: str, name: str, h: str, steps: list[int], wasted: float
                  ) -> dict[str, Any]:
    """The repeated-tool-call finding of one (task, tool, arguments) group, shared with the SQL
    engines; ``wasted`` is the seconds the repeats took."""
    return {
        "type": "repeated-tool-call", "severity": "info", "task_id": tid,
        "model": None,
        "message": (f"tool {name!s} called {len(steps)} times with identical arguments "
                    f"(steps {', '.join(str(x) for x in steps)})"),
        "usd_at_stake": None,
        "seconds_at_stake": json_float(wasted, 3) if wasted else None,
        "details": {"tool": name, "calls": len(steps), "args_hash": h},
    }


def sort_findings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Most important first (stable: equal keys keep the order they were found in)."""
    findings.sort(key=lambda f: (ORDER.get(f["type"], 9), -(f["usd_at_stake"] or 0),
                                 -(f["seconds_at_stake"] or 0)))
    return findings


def sequential_tool_findings(df: pd.DataFrame) -> list[dict[str, Any]]:
    """The tool calls one model call requested that ran one after another."""
    import pandas as pd

    out: list[dict[str, Any]] = []
    ordered = df
    turn = (ordered["kind"] == "llm").astype("int64").groupby(ordered["task_id"],
                                                               sort=False).cumsum()
    llm_step = ordered["step"].where(ordered["kind"] == "llm").groupby(
        ordered["task_id"], sort=False).ffill()
    tools = ordered.loc[(ordered["kind"] == "tool") & (turn > 0)
                        & ordered["started_at"].notna() & ordered["ended_at"].notna(),
                        ["task_id", "name", "started_at", "ended_at", "duration_ms"]].copy()
    if len(tools):
        tools["_turn"] = turn[tools.index]
        tools["_llm_step"] = llm_step[tools.index]
        tools = tools.sort_values(["task_id", "_turn", "started_at"], kind="stable")
        gk = [tools["task_id"], tools["_turn"]]
        prev_end = tools.groupby(gk, sort=False)["ended_at"].shift()
        overlap = (tools["started_at"] < prev_end).fillna(False).astype(bool)
        dur = tools["duration_ms"].astype("float64")
        per_turn = pd.DataFrame({"task": tools["task_id"], "turn": tools["_turn"],
                                 "overlap": overlap, "dur": dur,
                                 "llm_step": tools["_llm_step"]}).groupby(
            ["task", "turn"], sort=False).agg(n=("dur", "size"), any_overlap=("overlap", "any"),
                                              total=("dur", "sum"), longest=("dur", "max"),
                                              llm_step=("llm_step", "first"))
        seq = per_turn[(per_turn["n"] >= 2) & ~per_turn["any_overlap"]
                       & (per_turn["total"] > per_turn["longest"])]
        wanted = set(seq.index)
        names: dict[tuple[Any, Any], list[str]] = {}
        for tid_, t_, n_ in zip(tools["task_id"].tolist(), tools["_turn"].tolist(),
                                tools["name"].tolist(), strict=True):
            if (tid_, t_) in wanted:
                names.setdefault((tid_, t_), []).append(str(n_))
        for (tid, t_no), r in records(seq):
            out.append(sequential_item(str(tid), r, names[(tid, t_no)]))
    return out


def repeated_tool_findings(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Identical tool calls (same name and argument fingerprint) repeated within a task."""
    out: list[dict[str, Any]] = []
    order_cols = ["task_id", "step"]
    keyed = df.loc[(df["kind"] == "tool") & df["tool_input_hash"].notna(),
                   ["task_id", "name", "tool_input_hash", "step", "duration_ms"]]
    if len(keyed):
        gk2 = [keyed["task_id"], keyed["name"].fillna(""), keyed["tool_input_hash"]]
        size = keyed.groupby(gk2, sort=False)["step"].transform("size")
        rep = keyed[size >= 2].sort_values(order_cols, kind="stable")
        dur = rep["duration_ms"].astype("float64")
        first = rep.groupby([rep["task_id"], rep["name"].fillna(""), rep["tool_input_hash"]],
                            sort=False).cumcount() == 0
        groups: dict[tuple[Any, Any, Any], tuple[list[int], list[float]]] = {}
        for key3, st_, w_ in zip(
                zip(rep["task_id"].tolist(), rep["name"].fillna("").tolist(),
                    rep["tool_input_hash"].tolist(), strict=True),
                rep["step"].astype("int64").tolist(),
                dur.where(~first, 0.0).fillna(0.0).tolist(), strict=True):
            g_ = groups.setdefault(key3, ([], []))
            g_[0].append(st_)
            g_[1].append(w_)
        for (tid, name, h), (steps, waste) in groups.items():
            out.append(repeated_item(str(tid), str(name), str(h), steps,
                                     float(sum(waste)) / 1000.0))
    return out
