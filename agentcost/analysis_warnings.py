"""The warnings of an analysis report: what the figures leave out or only estimate (unpriced
models, steps without usage or with part of it, estimated tokens, unknown cache reads, pricing
notes, reported costs, malformed input), each saying what it means for the totals."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentcost.table import StepTable


def _implicit_cachers_clause(models: list[str]) -> str:
    from agentcost.rules import rule_for

    auto = [m for m in models if (r := rule_for(m)) is not None and r.caches_implicitly]
    if not auto:
        return ""
    return (f"; {', '.join(auto)} cache{'s' if len(auto) == 1 else ''} prompts automatically, "
            "so their cost is an upper bound")


def _usd(v: Any) -> str:
    return "unknown" if v is None else f"${v:,.4f}"


def report_warnings(table: StepTable, totals: dict[str, Any]) -> list[str]:
    p = table.pricing
    out: list[str] = []
    for m in p.unpriced_models:
        tokens = f"{m['input_tokens']:,} input and {m['output_tokens']:,} output tokens"
        if m["model"] == "(no model)":
            out.append(f"{m['steps']} llm steps name no model ({tokens}): their cost is left out, "
                       "the total is a lower bound; price them with --default-model MODEL (or "
                       "default_model: in agentcost.yaml)")
            continue
        out.append(f"no price for model {m['model']} ({m['steps']} steps, {tokens}): "
                   "its cost is left out, the total is a lower bound; if the model is newer "
                   "than the price data, `agentcost prices update` fetches the current data; "
                   "else add it under prices: in agentcost.yaml")
    if p.no_usage_steps:
        out.append(f"{p.no_usage_steps} llm steps carry no token usage: their cost is unknown")
    partial = int(totals.get("partial_usage_steps") or 0)
    if partial:
        out.append(f"{partial} llm steps report only part of their usage (input or output "
                   "tokens missing): their cost counts only the part reported, the total is a "
                   "lower bound")
    est = totals.get("estimated")
    if est:
        usd = est.get("cost_usd")
        out.append(f"{est['llm_calls']} llm steps had their usage dropped by the source: their "
                   f"tokens ({est['input_tokens']:,} input, {est['output_tokens']:,} output) "
                   f"were estimated from the recorded content (≈{_usd(usd)} of the total, "
                   "shown with ≈; see the ingest notes)")
    if p.default_model_steps:
        out.append(f"{p.default_model_steps} llm steps name no model: priced as "
                   f"{p.default_model} (default_model)")
    if p.failed_no_usage_steps:
        out.append(f"{p.failed_no_usage_steps} failed llm calls carry no token usage: counted as "
                   "$0 (providers do not bill rejected requests)")
    if p.cache_read_unknown_steps:
        out.append(f"{p.cache_read_unknown_steps} llm steps come from a format that does not "
                   f"report cache reads ({', '.join(p.cache_read_unknown_models) or 'unknown model'}"
                   "): their cache hits are unknown and they are priced as uncached"
                   + _implicit_cachers_clause(p.cache_read_unknown_models))
    out += [f"pricing: {n}" for n in p.notes]
    if p.reported_cost_steps:
        out.append(f"{p.reported_cost_steps} steps use the cost the trace reported (model not in "
                   "the price data)")
    ing = table.ingest
    out += ing.warnings
    if ing.malformed_count:
        out.append(f"{ing.malformed_count} malformed lines skipped (first: "
                   f"{ing.malformed[0]}); use --strict to fail on them")
    return out
