"""The sentences a simulation report rests on: the baseline's notes (prices, unknown cache
fields, filled times), each lever as applied, the reuse gaps between calls and the TTL they fit,
the range's assumptions, and why totals are lower bounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from agentcost.simulation.scenario import Scenario, Settings

if TYPE_CHECKING:
    from agentcost.simulation.shared import Figures


def reuse_gaps(ctx: Any) -> dict[str, Any]:
    """Gaps between consecutive llm calls of a task on the same model, and the TTL they fit."""
    import numpy as np

    w = ctx.w
    if w.n_llm < 2:
        return {"calls": 0, "gap_p50_s": None, "gap_p95_s": None, "over_5m": 0, "over_1h": 0,
                "ttl_fit": None}
    same = (w.l_task[1:] == w.l_task[:-1]) & (w.l_model[1:] == w.l_model[:-1])
    gaps = (w.l_start[1:] - w.l_start[:-1])[same] / 1e9
    if not len(gaps):
        return {"calls": 0, "gap_p50_s": None, "gap_p95_s": None, "over_5m": 0, "over_1h": 0,
                "ttl_fit": None}
    p50, p95 = float(np.quantile(gaps, 0.5)), float(np.quantile(gaps, 0.95))
    fit = "5m" if p95 <= 300 else ("1h" if p95 <= 3600 else "none")
    return {"calls": int(len(gaps)), "gap_p50_s": round(p50, 3), "gap_p95_s": round(p95, 3),
            "over_5m": int((gaps > 300).sum()), "over_1h": int((gaps > 3600).sum()),
            "ttl_fit": fit}


def reuse_sentence(r: dict[str, Any]) -> str | None:
    if not r.get("calls"):
        return None
    fit = r["ttl_fit"]
    tail = {"5m": "the 5m TTL fits (a 1h write would only add its premium)",
            "1h": "the 1h TTL fits (5m entries would expire between calls)",
            "none": "gaps over an hour: no TTL keeps those entries alive"}[fit]
    return (f"Reuse gaps between consecutive calls of a task: p50 {r['gap_p50_s']:g}s, p95 "
            f"{r['gap_p95_s']:g}s ({r['over_5m']} over 5 min, {r['over_1h']} over 1 h): {tail}.")


def _automatic_cachers(ctx: Any, models: Sequence[str]) -> list[str]:
    """The models among ``models`` whose provider caches prompts without being asked."""
    out = []
    for m in models:
        mech = ctx.mech(m, None)
        if mech.kind in ("implicit", "openai_explicit"):
            out.append(f"{mech.provider} {m}")
    return out


def _unknown_cache_baseline(ctx: Any, base: Figures) -> str:
    w = ctx.w
    sel = ~w.l_cache_known & w.l_usage
    models = sorted({str(m) for m in w.l_model[sel] if m is not None})
    auto = _automatic_cachers(ctx, models)
    n, of = base.cache_unknown_calls, base.llm_calls
    text = (f"{n:,} of {of:,} llm calls report no cache fields: the baseline prices their "
            f"{int(w.l_inp[sel].sum()):,} input tokens with no cache reads")
    if auto:
        text += (f"; {', '.join(auto)} cache{'s' if len(auto) == 1 else ''} prompts "
                 "automatically, so the bill was probably lower and this baseline is an upper "
                 "bound")
    return text + "."


def unknown_cache_scenario(ctx: Any, unk: dict[str, Any], delta: float) -> str:
    auto = _automatic_cachers(ctx, unk["models"])
    text = (f"Caching simulated for {unk['calls']:,} calls whose trace reports no cache fields "
            f"({unk['cache_read_tokens']:,} of their {unk['input_tokens']:,} input tokens "
            "read from the cache)")
    if auto:
        text += (f"; {', '.join(auto)} cache{'s' if len(auto) == 1 else ''} prompts "
                 f"automatically, so part or all of this scenario's Δ ({_usd(delta)}) is "
                 "probably already in the bill: it estimates that caching, it is not a saving "
                 "a change would add")
    return text + "."


def _usd(v: float) -> str:
    return f"−${-v:,.2f}" if v < 0 else f"+${v:,.2f}"


def _cascade_sentences(sc: Scenario, c: dict[str, Any], st: Settings) -> list[str]:
    """The cascade's models, role rule, escalation, tokenizers and per-model caches."""
    assert sc.cascade is not None
    out: list[str] = []
    al = c.get("aliases") or {}
    names = [f"{m} (alias {a!r})" if a != m else m
             for a, m in zip(sc.cascade_given or sc.cascade, sc.cascade, strict=False)]
    out.append(f"Cascade: cheap = {names[0]}, strong = {names[1]}" +
               (" (aliases resolved against the trace, see below)" if al else "") + ".")
    rules = "; ".join(f"{k} → {v}" for k, v in sc.roles) if sc.roles else ""
    out.append("Role rule: a step ending in tool calls (routing/tool decision) → cheap; "
               "the task's final step without tool calls (user-facing synthesis) → strong; "
               f"other steps with at most {st.short_output_tokens} output tokens (short, "
               "classifying) → cheap; the rest → strong" +
               (f"; overridden by name: {rules}" if rules else "") + ".")
    how = (f" ({sc.escalation_source})" if sc.escalation_source else
           " (default; set --escalation-rate)"
           if sc.escalation_rate == 0 else "")
    out.append(f"Escalation rate {c.get('escalation_rate', sc.escalation_rate):g}{how}"
               f": {c.get('escalated_steps', 0):,} of {c.get('cheap_steps', 0):,} cheap "
               "steps re-run on the strong model, paying both.")
    if sc.escalation_candidate and sc.escalation_candidate != c.get("cheap"):
        out.append(f"The escalation rate was measured on {sc.escalation_candidate}, not on "
                   f"the cascade's cheap model {c.get('cheap')}: it carries over only as "
                   "far as the two models behave alike.")
    ratios = c.get("tokenizer_ratios") or {}
    if ratios:
        out.append("Token counts carry over within a tokenizer; across tokenizers: "
                   + ", ".join(f"{k} x{v:g}" for k, v in ratios.items())
                   + " (provider-rules §G: Claude vs o200k +16-30%, Claude 4.7+ "
                   "tokenizer 1-1.35x).")
    out.append("Caches are per model: cheap and strong calls each build their own cache. "
               "Latency from each model's observed median TTFT and time per output token "
               "where the trace has it, else the call's own duration scaled by tier.")
    return out


def _loop_cap_sentence(sc: Scenario, fig: Figures) -> str:
    caps = []
    if sc.max_iterations is not None:
        caps.append(f"{sc.max_iterations} llm calls")
    if sc.token_budget is not None:
        caps.append(f"{sc.token_budget:,} tokens")
    return (f"Loop caps ({' / '.join(caps)}): tasks over the cap stop at it "
            f"({fig.tasks_cut:,} here); their spend so far is counted and they are "
            "marked as needing escalation, not as successes.")


def _tool_cache_sentence(sc: Scenario, tc: dict[str, Any]) -> str:
    s = ("Tool-result caching: a call with the same tool and argument fingerprint as an "
         "earlier call of its task returns that result at once and is not re-sent to the "
         "model (its latency and its tokens in later prompts are saved)")
    if sc.tool_cache_ttl_s is not None:
        s += (f"; identical calls of other tasks within {sc.tool_cache_ttl_s:g}s also "
              "return at once (latency only)")
    if tc.get("tool_calls_without_fingerprint"):
        s += (f"; {tc['tool_calls_without_fingerprint']:,} tool calls have no argument "
              "fingerprint and are never reused")
    return s + "."


def lever_sentences(sc: Scenario, fig: Figures, st: Settings) -> list[str]:
    out: list[str] = []
    d = fig.details
    if sc.cascade is not None:
        out.extend(_cascade_sentences(sc, d.get("cascade", {}), st))
    if sc.batch:
        b = d.get("batch", {})
        out.append(_batch_sentence(b, st))
    if sc.trim_history is not None:
        out.append(f"Trimming keeps the stable prefix (tools, system, first user message) and "
                   f"the last {sc.trim_history} turns; older turns (assistant messages with "
                   "their tool results) are dropped; answers are assumed unaffected.")
    if sc.max_output_tokens is not None:
        out.append(f"Outputs over {sc.max_output_tokens:,} tokens are cut at the cap and "
                   "assumed still usable; later prompts carry the shorter answer.")
    if sc.parallel_tools:
        scs = ", ".join(sc.state_changing_tools)
        out.append("Parallel tool calls: the tool calls of one turn run concurrently and the "
                   "turn takes as long as its slowest call" +
                   (f"; state-changing tools ({scs}) still run one after another" if scs
                    else "") + ".")
    if sc.max_iterations is not None or sc.token_budget is not None:
        out.append(_loop_cap_sentence(sc, fig))
    if sc.tool_cache:
        out.append(_tool_cache_sentence(sc, d.get("tool_cache", {})))
    return out


def _batch_sentence(b: dict[str, Any], st: Settings) -> str:
    """The batch lever as applied: the discount is the one the prices gave, not a constant."""
    from agentcost.simulation.latency import duration_label

    window = duration_label(b.get("window_s", st.batch_window_s))
    own, batched, n = b.get("own_tier_cost_usd"), b.get("batch_cost_usd"), b.get("priced_calls")
    if n and own:
        price = (f"{n:,} batched call{'s' if n != 1 else ''} priced at the provider's batch "
                 f"prices: ${batched:,.4f} instead of ${own:,.4f} at their own tier "
                 f"({(batched - own) / own * 100:+.1f}%; cache discounts stack as the price "
                 "data has them)")
    elif b.get("calls"):
        price = ("the batched calls have no known price, so no batch discount is applied "
                 "(see warnings)")
    else:
        price = "no call was eligible, so nothing was priced at batch prices"
    return (f"Batch: {price}; each batched call's latency becomes the batch window ({window}; "
            "most batches finish within 1 h, results may take up to 24 h).")


def range_sentence(sc: Scenario, st: Settings) -> str:
    from agentcost.simulation.latency import duration_label

    parts = []
    if sc.cascade is not None:
        from agentcost.simulation.shared import escalation_rate_for

        parts.append(f"escalation rate {escalation_rate_for(sc, 'optimistic'):g} / "
                     f"{escalation_rate_for(sc, 'pessimistic'):g}")
        parts.append("tokenizer ratio at the low / high end")
    parts.append(f"cache hits lost to eviction under load 0% / {st.eviction_share:.0%}")
    parts.append("OpenAI retention at its stated maximum / typical minimum")
    if sc.batch:
        parts.append(f"batch cache hits kept 100% / {st.batch_hit_share_pessimistic:.0%}, batch "
                     f"window {duration_label(st.batch_window_s)} / "
                     f"{duration_label(st.batch_window_pessimistic_s)}")
    return ("Range (optimistic / pessimistic): " + "; ".join(parts)
            + " — the range reports the cheapest and the costliest of those runs and the "
            "expected one.")


def price_line(pricing: dict[str, Any]) -> str:
    """The prices sentence, naming the price data that was actually used."""
    data = str(pricing.get("data") or "")
    which = (f"bundled data {pricing.get('data_fingerprint')}" if data.startswith("bundled")
             else f"price data {pricing.get('data_fingerprint')}: {data}")
    return (f"Prices: genai-prices {pricing.get('version')} ({which}) at each step's hour, the "
            "same data for the baseline and every scenario"
            + (f"; agentcost.yaml prices for {', '.join(pricing['overrides'])}"
               if pricing.get("overrides") else "") + ".")


def base_notes(ctx: Any, base: Figures, price_line: str) -> list[str]:
    notes = ["The trace as observed (tokens, cache reads and writes, latency), re-priced.",
             price_line]
    if base.cache_unknown_calls:
        notes.append(_unknown_cache_baseline(ctx, base))
    if ctx.w.times_filled:
        notes.append(f"{ctx.w.times_filled:,} steps have no start time: placed back to back "
                     "after the previous step of their task.")
    notes.append("Task latency = wall time from the task's first step start to its last "
                 "step end; p50/p95 over tasks.")
    return notes


def lower_bound_warnings(base: Figures) -> list[str]:
    """Why the baseline (and so every scenario) is a lower bound, if it is."""
    parts = [f"{n:,} {what}" for n, what in (
        (base.unpriced_calls, "llm call(s) have no known price"),
        (base.no_usage_calls, "llm call(s) have no usage"),
        (base.partial_usage_calls, "llm call(s) report only input or only output tokens"))
        if n]
    if not parts:
        return []
    return ["; ".join(parts) + ": every total leaves the unknown part out and is a lower bound"]
