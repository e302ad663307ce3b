"""Scenarios and settings from the ``simulate`` command's lever options, ``agentcost.yaml`` and
a ``--scenarios`` file (the command line only collects the options into :class:`Levers`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentcost.errors import ConfigError
from agentcost.simulation.scenario import (
    Scenario,
    Settings,
    auto_name,
    from_config,
    load_scenarios_file,
    parse_cache,
    parse_cascade,
    parse_duration,
    parse_model,
    parse_provider_rules,
    parse_similarity,
    parse_ttl,
)


@dataclass
class Levers:
    """The lever options of one ``simulate`` run, as given (None / False: not given)."""

    scenarios: Path | None = None
    cache: str | None = None
    ttl: str | None = None
    provider_rules: Path | None = None
    cascade: str | None = None
    escalation_rate: float | None = None
    escalation_from: Path | None = None
    batch: bool = False
    batch_tasks: str | None = None
    batch_window: str | None = None
    trim_history: int | None = None
    max_output_tokens: int | None = None
    parallel_tools: bool = False
    state_changing: tuple[str, ...] = ()
    max_iterations: int | None = None
    token_budget: int | None = None
    tool_cache: bool = False
    tool_cache_ttl: str | None = None
    name: str | None = None
    with_range: bool = False
    workspace: str | None = None
    # context levers (agentcost.simulation.context)
    cap_tool_results: int | None = None
    prune_tool_results_after: int | None = None
    stub_tokens: int | None = None
    compact_at: int | None = None
    summary_tokens: int | None = None
    summary_model: str | None = None
    response_cache: bool = False
    similarity: str | None = None

    @property
    def edits_context(self) -> bool:
        """A context lever is given on the command line: the traces' logged conversations
        are read for segments (Claude Code; ``load(conversations=True)``)."""
        return self.response_cache or any(v is not None for v in (
            self.cap_tool_results, self.prune_tool_results_after, self.compact_at))


def build_scenarios(raw: dict[str, Any], where: str, lv: Levers
                    ) -> tuple[list[Scenario], Settings]:
    """Scenarios and settings from agentcost.yaml, --scenarios and the lever options."""
    scs, st = from_config(raw, where)
    if lv.scenarios is not None:
        scs, st = load_scenarios_file(str(lv.scenarios), st)
    kw = _lever_kwargs(lv)
    if kw:
        sc = Scenario(**kw)
        sc = Scenario(**{**kw, "name": lv.name or auto_name(sc)})
        if sc.name in {s.name for s in scs} or sc.name == "baseline":
            raise ConfigError(f"--name: {sc.name!r} is already a scenario name")
        scs = [*scs, sc]
    elif lv.name is not None:
        raise ConfigError("--name: give lever options (e.g. --cache auto) to name a scenario")
    if not scs:
        raise ConfigError("nothing to simulate: give a lever (e.g. --cache auto, --cascade "
                          "haiku,sonnet, --batch, --trim-history 6) or --scenarios FILE "
                          "(or scenarios: in agentcost.yaml)")
    if lv.provider_rules is not None:
        st.provider_rules = {**st.provider_rules, **_provider_rules_file(lv.provider_rules)}
    if lv.batch_window is not None:
        st.batch_window_s = parse_duration(lv.batch_window, "--batch-window")
    if lv.workspace is not None:
        st.workspace = lv.workspace
    st.with_range = lv.with_range
    return scs, st


def _lever_kwargs(lv: Levers) -> dict[str, Any]:
    """The Scenario fields the lever options set."""
    kw: dict[str, Any] = {}
    if lv.cache is not None:
        kw["cache"] = parse_cache(lv.cache, "--cache")
    if lv.ttl is not None:
        kw["ttl"] = parse_ttl(lv.ttl, "--ttl")
    if lv.cascade is not None:
        kw["cascade"], kw["cascade_given"] = parse_cascade(lv.cascade, "--cascade")
    kw.update(_escalation_kwargs(lv))
    if lv.batch or lv.batch_tasks:
        kw["batch"] = True
        if lv.batch_tasks:
            kw["batch_tasks"] = lv.batch_tasks
    for key in ("trim_history", "max_output_tokens", "max_iterations", "token_budget"):
        if getattr(lv, key) is not None:
            kw[key] = getattr(lv, key)
    if lv.parallel_tools:
        kw["parallel_tools"] = True
    if lv.state_changing:
        if not lv.parallel_tools:
            raise ConfigError("--state-changing-tool: only meaningful with --parallel-tools")
        kw["state_changing_tools"] = tuple(lv.state_changing)
    if lv.tool_cache or lv.tool_cache_ttl:
        kw["tool_cache"] = True
        if lv.tool_cache_ttl:
            kw["tool_cache_ttl_s"] = parse_duration(lv.tool_cache_ttl, "--tool-cache-ttl")
    kw.update(_context_kwargs(lv))
    return kw


def _context_kwargs(lv: Levers) -> dict[str, Any]:
    """The Scenario fields of the context levers (each companion option needs its lever)."""
    kw: dict[str, Any] = {}
    for key in ("cap_tool_results", "prune_tool_results_after", "compact_at"):
        if getattr(lv, key) is not None:
            kw[key] = getattr(lv, key)
    for key, needs, flag in (("stub_tokens", "prune_tool_results_after", "--stub-tokens"),
                             ("summary_tokens", "compact_at", "--summary-tokens"),
                             ("summary_model", "compact_at", "--summary-model"),
                             ("similarity", "response_cache", "--similarity")):
        if getattr(lv, key) is None:
            continue
        if not getattr(lv, needs):
            raise ConfigError(f"{flag}: only meaningful with --{needs.replace('_', '-')}")
        kw[key] = getattr(lv, key)
    if "summary_model" in kw:
        kw["summary_model"] = parse_model(kw["summary_model"], "--summary-model")
    if "similarity" in kw:
        kw["similarity"] = parse_similarity(kw["similarity"], "--similarity")
    if lv.response_cache:
        kw["response_cache"] = True
    return kw


def _escalation_kwargs(lv: Levers) -> dict[str, Any]:
    """--escalation-rate (assumed) or --escalation-from (measured by a replay)."""
    if lv.escalation_rate is not None:
        if lv.cascade is None:
            raise ConfigError("--escalation-rate: only meaningful with --cascade")
        if lv.escalation_from is not None:
            raise ConfigError("--escalation-from and --escalation-rate exclude each other")
        return {"escalation_rate": float(lv.escalation_rate)}
    if lv.escalation_from is not None:
        if lv.cascade is None:
            raise ConfigError("--escalation-from: only meaningful with --cascade")
        return read_escalation(lv.escalation_from)
    return {}


def _provider_rules_file(path: Path) -> dict[str, Any]:
    import yaml

    if not path.is_file():
        raise ConfigError(f"{path}: provider rules file not found")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({exc})") from None
    except RecursionError:  # PyYAML's composer recurses once per nesting level
        raise ConfigError(f"{path}: invalid YAML (nested too deeply)") from None
    if isinstance(doc, dict) and "provider_rules" in doc:
        doc = doc["provider_rules"]
    return parse_provider_rules(doc, f"{path}: provider_rules")


def read_escalation(path: Path) -> dict[str, Any]:
    """The measured escalation of an ``agentcost replay`` report, as Scenario fields: the rate
    (disagreement of the replayed cheap-role steps), its 95% interval as the ``--range`` bounds,
    and a sentence saying where the figure comes from."""
    import orjson

    where = str(path)
    try:
        doc = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read: {exc.strerror}") from None
    except orjson.JSONDecodeError:
        raise ConfigError(f"{where}: not JSON (expected the report of agentcost replay -o)") \
            from None
    if not isinstance(doc, dict) or doc.get("kind") != "agentcost-replay":
        raise ConfigError(f"{where}: not an agentcost replay report (kind: agentcost-replay)")
    if doc.get("schema_version") != 1:
        raise ConfigError(f"{where}: replay report schema_version "
                          f"{doc.get('schema_version')!r} is not supported (1)")
    esc: dict[str, Any] = doc["escalation"] if isinstance(doc.get("escalation"), dict) else {}
    rate, ci = esc.get("rate"), esc.get("ci95")
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise ConfigError(f"{where}: escalation.rate: no measured rate (the replay sent no "
                          "routing or short step that succeeded)")
    out: dict[str, Any] = {"escalation_rate": float(rate)}
    if isinstance(ci, list) and len(ci) == 2 and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in ci):
        out["escalation_range"] = (float(ci[0]), float(ci[1]))
    steps = esc.get("steps") if isinstance(esc.get("steps"), int) else None
    dis = esc.get("disagree") if isinstance(esc.get("disagree"), int) else None
    cand = esc.get("candidate") if isinstance(esc.get("candidate"), str) else None
    ci_text = (f", 95% CI {out['escalation_range'][0]:g}-{out['escalation_range'][1]:g}"
               if "escalation_range" in out else "")
    share = f"{dis} of {steps}" if dis is not None and steps is not None else f"{rate:g}"
    out["escalation_source"] = (
        f"measured by {where}: {cand or 'the candidate'} disagreed with the recorded answers "
        f"on {share} replayed routing/short steps{ci_text}")
    out["escalation_candidate"] = cand
    return out
