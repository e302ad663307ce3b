"""``agentcost simulate``: options → scenarios → :func:`agentcost.simulate` → renderer.

Only typer is imported at module level; everything else inside the command body.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from agentcost.commands.options import InputFormat, Since, Strict, Until


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
--cascade CHEAP,STRONG [--escalation-rate R], --batch [--batch-tasks GLOB],
--trim-history N, --max-output-tokens N, --parallel-tools, --max-iterations N,
--token-budget N, --tool-cache [--tool-cache-ttl 10m]. Or compare several scenarios side by side
with --scenarios file.yaml (or scenarios: in agentcost.yaml). --range adds optimistic and
pessimistic figures. Every report lists its assumptions.
"""


def simulate(
    paths: Annotated[list[str], typer.Argument(
        help="Trace files, folders (recursive), globs, or - for stdin.")],
    cache: Annotated[str | None, typer.Option(
        "--cache", help="Prompt caching: off, observed, auto (one breakpoint on the last "
        "block), stable (end of tools+system), stable+last.")] = None,
    ttl: Annotated[str | None, typer.Option(
        "--ttl", help="Cache lifetime: 5m or 1h (Anthropic), 30m (OpenAI GPT-5.6+), "
        "in_memory or 24h (OpenAI retention).")] = None,
    provider_rules: Annotated[Path | None, typer.Option(
        "--provider-rules", help="YAML overriding caching mechanics per model "
        "(min_cacheable_tokens, lookback_blocks, max_breakpoints, granularity, "
        "ttl_seconds).")] = None,
    cascade: Annotated[str | None, typer.Option(
        "--cascade", help="CHEAP,STRONG models or aliases (haiku,sonnet; gpt-5-mini,gpt-5).")
    ] = None,
    escalation_rate: Annotated[float | None, typer.Option(
        "--escalation-rate", min=0.0, max=1.0,
        help="Share of cheap steps re-run on the strong model (default 0).")] = None,
    batch: Annotated[bool, typer.Option("--batch", help="Price eligible calls at batch rates; "
                                        "their latency becomes the batch window.")] = False,
    batch_tasks: Annotated[str | None, typer.Option(
        "--batch-tasks", help="Only tasks whose id matches this glob are batched.")] = None,
    batch_window: Annotated[str | None, typer.Option(
        "--batch-window", help="Latency of a batched call (default 1h).")] = None,
    trim_history: Annotated[int | None, typer.Option(
        "--trim-history", min=1, help="Keep the stable prefix and the last N turns.")] = None,
    max_output_tokens: Annotated[int | None, typer.Option(
        "--max-output-tokens", min=1, help="Cap every call's output.")] = None,
    parallel_tools: Annotated[bool, typer.Option(
        "--parallel-tools", help="A turn's tool calls cost the slowest, not the sum.")] = False,
    state_changing: Annotated[list[str] | None, typer.Option(
        "--state-changing-tool", help="A tool that stays sequential under --parallel-tools "
        "(repeatable).")] = None,
    max_iterations: Annotated[int | None, typer.Option(
        "--max-iterations", min=1, help="Cut tasks after N llm calls.")] = None,
    token_budget: Annotated[int | None, typer.Option(
        "--token-budget", min=1, help="Cut tasks once input+output tokens reach N.")] = None,
    tool_cache: Annotated[bool, typer.Option(
        "--tool-cache", help="Identical tool calls within a task reuse the result.")] = False,
    tool_cache_ttl: Annotated[str | None, typer.Option(
        "--tool-cache-ttl", help="Also reuse results across tasks within this TTL (e.g. 10m).")
    ] = None,
    scenarios: Annotated[Path | None, typer.Option(
        "--scenarios", help="YAML file of scenarios to compare side by side.")] = None,
    name: Annotated[str | None, typer.Option(
        "--name", help="Name of the scenario built from the options above.")] = None,
    with_range: Annotated[bool, typer.Option(
        "--range", help="Also report optimistic and pessimistic figures.")] = False,
    workspace: Annotated[Workspace | None, typer.Option(
        "--workspace", help="Which tasks share prompt caches (default: shared).")] = None,
    fmt: Annotated[SimFormat, typer.Option("--format", "-f")] = SimFormat.table,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write the report to this file instead of stdout.")] = None,
    config: Annotated[Path | None, typer.Option(
        help="agentcost.yaml (default: ./agentcost.yaml if present).")] = None,
    input_format: InputFormat = None,
    since: Since = None,
    until: Until = None,
    strict: Strict = False,
) -> None:
    from agentcost.cli import _run

    def body() -> int:
        from agentcost import config as cfgmod
        from agentcost.simulation import simulate as run_simulate
        from agentcost.table import load

        cfg = cfgmod.load(config)
        scs, st = build_scenarios(
            cfg.raw, cfg.path or "agentcost.yaml", scenarios=scenarios, cache=cache, ttl=ttl,
            provider_rules=provider_rules, cascade=cascade, escalation_rate=escalation_rate,
            batch=batch, batch_tasks=batch_tasks, batch_window=batch_window,
            trim_history=trim_history, max_output_tokens=max_output_tokens,
            parallel_tools=parallel_tools, state_changing=state_changing or [],
            max_iterations=max_iterations, token_budget=token_budget, tool_cache=tool_cache,
            tool_cache_ttl=tool_cache_ttl, name=name, with_range=with_range,
            workspace=workspace.value if workspace else None)
        table = load(paths, config=cfg, input_format=input_format, since=since, until=until,
                     strict=strict)
        report = run_simulate(table, scs, st, config=cfg)
        _emit(report, fmt, output)
        return 0

    raise typer.Exit(_run(body))


def build_scenarios(raw: dict[str, Any], where: str, *, scenarios: Path | None, cache: str | None,
                    ttl: str | None, provider_rules: Path | None, cascade: str | None,
                    escalation_rate: float | None, batch: bool, batch_tasks: str | None,
                    batch_window: str | None, trim_history: int | None,
                    max_output_tokens: int | None, parallel_tools: bool,
                    state_changing: list[str], max_iterations: int | None,
                    token_budget: int | None, tool_cache: bool, tool_cache_ttl: str | None,
                    name: str | None, with_range: bool, workspace: str | None
                    ) -> tuple[list[Any], Any]:
    """Scenarios and settings from agentcost.yaml, --scenarios and the lever options."""
    from agentcost.errors import ConfigError
    from agentcost.simulation.scenario import (
        Scenario,
        auto_name,
        from_config,
        load_scenarios_file,
        parse_cache,
        parse_cascade,
        parse_duration,
        parse_provider_rules,
        parse_ttl,
    )

    scs, st = from_config(raw, where)
    if scenarios is not None:
        scs, st = load_scenarios_file(str(scenarios), st)
    kw: dict[str, Any] = {}
    if cache is not None:
        kw["cache"] = parse_cache(cache, "--cache")
    if ttl is not None:
        kw["ttl"] = parse_ttl(ttl, "--ttl")
    if cascade is not None:
        kw["cascade"], kw["cascade_given"] = parse_cascade(cascade, "--cascade")
    if escalation_rate is not None:
        if cascade is None:
            raise ConfigError("--escalation-rate: only meaningful with --cascade")
        kw["escalation_rate"] = float(escalation_rate)
    if batch or batch_tasks:
        kw["batch"] = True
        if batch_tasks:
            kw["batch_tasks"] = batch_tasks
    if trim_history is not None:
        kw["trim_history"] = trim_history
    if max_output_tokens is not None:
        kw["max_output_tokens"] = max_output_tokens
    if parallel_tools:
        kw["parallel_tools"] = True
    if state_changing:
        if not parallel_tools:
            raise ConfigError("--state-changing-tool: only meaningful with --parallel-tools")
        kw["state_changing_tools"] = tuple(state_changing)
    if max_iterations is not None:
        kw["max_iterations"] = max_iterations
    if token_budget is not None:
        kw["token_budget"] = token_budget
    if tool_cache or tool_cache_ttl:
        kw["tool_cache"] = True
        if tool_cache_ttl:
            kw["tool_cache_ttl_s"] = parse_duration(tool_cache_ttl, "--tool-cache-ttl")
    if kw:
        sc = Scenario(**kw)
        sc = Scenario(**{**kw, "name": name or auto_name(sc)})
        if sc.name in {s.name for s in scs} or sc.name == "baseline":
            raise ConfigError(f"--name: {sc.name!r} is already a scenario name")
        scs = [*scs, sc]
    elif name is not None:
        raise ConfigError("--name: give lever options (e.g. --cache auto) to name a scenario")
    if not scs:
        raise ConfigError("nothing to simulate: give a lever (e.g. --cache auto, --cascade "
                          "haiku,sonnet, --batch, --trim-history 6) or --scenarios FILE "
                          "(or scenarios: in agentcost.yaml)")
    if provider_rules is not None:
        import yaml

        if not provider_rules.is_file():
            raise ConfigError(f"{provider_rules}: provider rules file not found")
        try:
            doc = yaml.safe_load(provider_rules.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"{provider_rules}: invalid YAML ({exc})") from None
        except RecursionError:  # PyYAML's composer recurses once per nesting level
            raise ConfigError(f"{provider_rules}: invalid YAML (nested too deeply)") from None
        if isinstance(doc, dict) and "provider_rules" in doc:
            doc = doc["provider_rules"]
        st.provider_rules = {**st.provider_rules,
                             **parse_provider_rules(doc, f"{provider_rules}: provider_rules")}
    if batch_window is not None:
        st.batch_window_s = parse_duration(batch_window, "--batch-window")
    if workspace is not None:
        st.workspace = workspace
    st.with_range = with_range
    return scs, st


def _emit(report: Any, fmt: SimFormat, output: Path | None) -> None:
    import os

    from agentcost.cli import _console, write_output
    from agentcost.render import data, simulate_text

    if fmt is SimFormat.table:
        if output is None:
            simulate_text.render_console(report, _console())
            return
        from rich.console import Console

        with open(os.devnull, "w") as sink:
            con = Console(record=True, file=sink, width=120, highlight=False, color_system=None)
            simulate_text.render_console(report, con)
        write_output(con.export_text(), output)
    elif fmt is SimFormat.markdown:
        write_output(simulate_text.render_markdown(report), output)
    elif fmt is SimFormat.csv:
        write_output(simulate_text.render_csv(report), output)
    else:
        write_output(data.to_json(report.to_dict()), output)


def register(app: typer.Typer) -> None:
    app.command("simulate", help=HELP)(simulate)
