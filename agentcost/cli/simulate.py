"""``agentcost simulate``: options → scenarios → :func:`agentcost.simulate` → renderer.

Only typer is imported at module level; everything else inside the command body.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agentcost.cli.edge import (
    check_outputs,
    load_traces,
    protect,
    run,
    write_output,
    write_rendered,
)
from agentcost.cli.options import InputFormat, Prices, Since, Strict, Until, command_signature

if TYPE_CHECKING:
    from agentcost.simulation.options import Levers


class SimFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"
    csv = "csv"


class Workspace(StrEnum):
    shared = "shared"
    source = "source"
    session = "session"
    task = "task"


HELP = """Replay the traced tasks under what-if configurations and project cost and latency.

Levers (combine freely; each run is compared with the baseline, the trace as observed):
--cache off|observed|auto|stable|stable+last [--ttl 5m|1h|30m|in_memory|24h],
--cascade CHEAP,STRONG [--escalation-rate R | --escalation-from replay.json], --batch [--batch-tasks GLOB],
--trim-history N, --max-output-tokens N, --parallel-tools, --max-iterations N,
--token-budget N, --tool-cache [--tool-cache-ttl 10m], --cap-tool-results N,
--prune-tool-results-after K [--stub-tokens S], --compact-at TOKENS [--summary-tokens S],
--response-cache [--similarity exact|near]. Or compare several scenarios side by side
with --scenarios file.yaml (or scenarios: in agentcost.yaml). --range adds optimistic and
pessimistic figures. Every report lists its assumptions.
"""


@dataclass
class SimulateOptions:
    """The arguments and options of ``agentcost simulate``, each declared once with its typer
    metadata; the command's signature is built from these fields, in this order."""

    paths: Annotated[list[str], typer.Argument(
        help="Trace files, folders (recursive), globs, or - for stdin.")]
    cache: Annotated[str | None, typer.Option(
        "--cache", help="Prompt caching: off, observed, auto (one breakpoint on the last "
        "block), stable (end of tools+system), stable+last.")] = None
    ttl: Annotated[str | None, typer.Option(
        "--ttl", help="Cache lifetime: 5m or 1h (Anthropic), 30m (OpenAI GPT-5.6+), "
        "in_memory or 24h (OpenAI retention).")] = None
    provider_rules: Annotated[Path | None, typer.Option(
        "--provider-rules", help="YAML overriding caching mechanics per model "
        "(min_cacheable_tokens, lookback_blocks, max_breakpoints, granularity, "
        "ttl_seconds).")] = None
    cascade: Annotated[str | None, typer.Option(
        "--cascade", help="CHEAP,STRONG models or aliases (haiku,sonnet; gpt-5-mini,gpt-5).")
    ] = None
    escalation_rate: Annotated[float | None, typer.Option(
        "--escalation-rate", min=0.0, max=1.0,
        help="Share of cheap steps re-run on the strong model (default 0).")] = None
    escalation_from: Annotated[Path | None, typer.Option(
        "--escalation-from", help="The escalation rate measured by agentcost replay -o "
        "FILE (its 95% interval bounds --range).")] = None
    batch: Annotated[bool, typer.Option("--batch", help="Price eligible calls at batch rates; "
                                        "their latency becomes the batch window.")] = False
    batch_tasks: Annotated[str | None, typer.Option(
        "--batch-tasks", help="Only tasks whose id matches this glob are batched.")] = None
    batch_window: Annotated[str | None, typer.Option(
        "--batch-window", help="Latency of a batched call (default 1h).")] = None
    trim_history: Annotated[int | None, typer.Option(
        "--trim-history", min=1, help="Keep the stable prefix and the last N turns.")] = None
    max_output_tokens: Annotated[int | None, typer.Option(
        "--max-output-tokens", min=1, help="Cap every call's output.")] = None
    parallel_tools: Annotated[bool, typer.Option(
        "--parallel-tools", help="A turn's tool calls cost the slowest, not the sum.")] = False
    state_changing: Annotated[list[str] | None, typer.Option(
        "--state-changing-tool", help="A tool that stays sequential under --parallel-tools "
        "(repeatable).")] = None
    max_iterations: Annotated[int | None, typer.Option(
        "--max-iterations", min=1, help="Cut tasks after N llm calls.")] = None
    token_budget: Annotated[int | None, typer.Option(
        "--token-budget", min=1, help="Cut tasks once input+output tokens reach N.")] = None
    tool_cache: Annotated[bool, typer.Option(
        "--tool-cache", help="Identical tool calls within a task reuse the result.")] = False
    tool_cache_ttl: Annotated[str | None, typer.Option(
        "--tool-cache-ttl", help="Also reuse results across tasks within this TTL (e.g. 10m).")
    ] = None
    cap_tool_results: Annotated[int | None, typer.Option(
        "--cap-tool-results", min=1, help="Truncate every tool result to N tokens from its "
        "first send on (needs segments).")] = None
    prune_tool_results_after: Annotated[int | None, typer.Option(
        "--prune-tool-results-after", min=0, help="Replace a tool result older than K turns "
        "by a stub (needs segments).")] = None
    stub_tokens: Annotated[int | None, typer.Option(
        "--stub-tokens", min=1, help="Size of that stub (default 20 tokens).")] = None
    compact_at: Annotated[int | None, typer.Option(
        "--compact-at", min=1, help="When a prompt would exceed TOKENS, replace the history "
        "before the last turn by a summary (needs segments).")] = None
    summary_tokens: Annotated[int | None, typer.Option(
        "--summary-tokens", min=1, help="Size of that summary (default 2,000 tokens).")] = None
    summary_model: Annotated[str | None, typer.Option(
        "--summary-model", help="Model that writes the summary (default: the cascade's cheap "
        "model, else the cheap member of the trace's model family).")] = None
    response_cache: Annotated[bool, typer.Option(
        "--response-cache", help="Answer repeated identical requests from a response cache "
        "(needs segments).")] = False
    similarity: Annotated[str | None, typer.Option(
        "--similarity", help="Response cache matching: exact (default) or near (lexical "
        "MinHash on the final message, not semantic; extra [near]).")] = None
    scenarios: Annotated[Path | None, typer.Option(
        "--scenarios", help="YAML file of scenarios to compare side by side.")] = None
    name: Annotated[str | None, typer.Option(
        "--name", help="Name of the scenario built from the options above.")] = None
    with_range: Annotated[bool, typer.Option(
        "--range", help="Also report optimistic and pessimistic figures.")] = False
    workspace: Annotated[Workspace | None, typer.Option(
        "--workspace", help="Which tasks share prompt caches (default: shared).")] = None
    fmt: Annotated[SimFormat, typer.Option("--format", "-f")] = SimFormat.table
    csv_raw: Annotated[bool, typer.Option(
        "--csv-raw", help="CSV format: keep text cells that start with = + - @ as they are.")
    ] = False
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write the report to this file instead of stdout.")] = None
    config: Annotated[Path | None, typer.Option(
        help="agentcost.yaml (default: ./agentcost.yaml if present).")] = None
    input_format: InputFormat = None
    since: Since = None
    until: Until = None
    strict: Strict = False
    prices: Prices = None


def simulate(**options: Any) -> None:
    """The command: typer reads its options from the signature below (the fields of
    :class:`SimulateOptions`) and passes them by name."""
    run(lambda: _simulate(SimulateOptions(**options)))


simulate.__signature__ = command_signature(SimulateOptions)  # type: ignore[attr-defined]


def _simulate(o: SimulateOptions) -> int:
    from agentcost import config as cfgmod
    from agentcost.simulation import simulate as run_simulate
    from agentcost.simulation.options import build_scenarios

    protect(*o.paths, o.config, o.scenarios, o.provider_rules, o.prices, o.escalation_from)
    check_outputs(o.output)
    cfg = cfgmod.load(o.config)
    levers = _levers(o)
    scs, st = build_scenarios(cfg.raw, cfg.path or "agentcost.yaml", levers)
    table = load_traces(o.paths, config=cfg, input_format=o.input_format, since=o.since,
                        until=o.until, strict=o.strict, prices=o.prices,
                        conversations=levers.edits_context)
    _emit(run_simulate(table, scs, st, config=cfg), o.fmt, o.output, o.csv_raw)
    return 0


def _levers(o: SimulateOptions) -> Levers:
    """The lever options, as the library takes them."""
    from agentcost.simulation.options import Levers

    return Levers(
        scenarios=o.scenarios, cache=o.cache, ttl=o.ttl, provider_rules=o.provider_rules,
        cascade=o.cascade, escalation_rate=o.escalation_rate,
        escalation_from=o.escalation_from, batch=o.batch, batch_tasks=o.batch_tasks,
        batch_window=o.batch_window, trim_history=o.trim_history,
        max_output_tokens=o.max_output_tokens, parallel_tools=o.parallel_tools,
        state_changing=tuple(o.state_changing or ()), max_iterations=o.max_iterations,
        token_budget=o.token_budget, tool_cache=o.tool_cache, tool_cache_ttl=o.tool_cache_ttl,
        name=o.name, with_range=o.with_range,
        workspace=o.workspace.value if o.workspace else None,
        cap_tool_results=o.cap_tool_results, prune_tool_results_after=o.prune_tool_results_after,
        stub_tokens=o.stub_tokens, compact_at=o.compact_at, summary_tokens=o.summary_tokens,
        summary_model=o.summary_model, response_cache=o.response_cache,
        similarity=o.similarity)


def _emit(report: Any, fmt: SimFormat, output: Path | None, csv_raw: bool = False) -> None:
    from agentcost.render import data, simulate_text

    if fmt is SimFormat.table:
        write_rendered(lambda con: simulate_text.render_console(report, con), output)
    elif fmt is SimFormat.markdown:
        write_output(simulate_text.render_markdown(report), output)
    elif fmt is SimFormat.csv:
        write_output(simulate_text.render_csv(report, csv_raw), output)
    else:
        write_output(data.to_json(report.to_dict()), output)
