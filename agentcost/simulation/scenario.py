"""Scenarios (what-if configurations) and simulation settings, from CLI options or YAML.

A :class:`Scenario` names the levers it pulls; every lever left at its default changes nothing.
YAML (``--scenarios file.yaml`` or ``scenarios:`` in ``agentcost.yaml``) is validated here and
every error is a :class:`~agentcost.errors.ConfigError` naming its key path
(``scenarios[1].trim_history: expected a positive integer``).

Scenario keys (hyphens and underscores are interchangeable)::

    - name: lean                       # required in YAML; shown in reports
      cache: off|observed|auto|stable|stable+last
      ttl: 5m|1h|30m|in_memory|24h     # Anthropic TTL or OpenAI retention
      cascade: haiku,sonnet            # or [haiku, sonnet]; aliases resolve to concrete ids
      escalation_rate: 0.1             # share of cheap steps re-run on the strong model
      escalation_range: [0.05, 0.25]   # --range: optimistic / pessimistic escalation rate
      roles: {classify: cheap, answer: strong}   # per step name, overrides the role rule
      batch: true
      batch_tasks: "nightly-*"         # glob on task ids (default: every task)
      trim_history: 6                  # keep the stable prefix and the last 6 turns
      max_output_tokens: 800
      parallel_tools: true
      state_changing_tools: [charge_card]        # stay sequential under parallel_tools
      max_iterations: 20
      token_budget: 400000
      tool_cache: true                 # or {ttl: 10m}: also across tasks within the TTL
      cap_tool_results: 1000           # every tool result truncated to 1,000 tokens
      prune_tool_results_after: 5      # results older than 5 turns become a stub ...
      stub_tokens: 20                  # ... of 20 tokens (default)
      compact_at: 150000               # compact the history when a prompt would exceed this
      summary_tokens: 2000             # the summary's size (default)
      summary_model: haiku             # who writes it (default: cascade cheap, else own model)
      response_cache: true             # or {similarity: near, threshold: 0.9}

Settings (``simulate:`` in ``agentcost.yaml`` or in the scenarios file)::

    simulate:
      workspace: shared|source|session|task   # which tasks share prompt caches
      batch_window: 1h                 # latency of a batched call (pessimistic: 24h)
      short_output_tokens: 64          # cascade: a step this short is "classifying"
      provider_rules:                  # caching mechanics overrides per model id
        claude-sonnet-4-6: {min_cacheable_tokens: 2048, lookback_blocks: 20,
                            ttl_seconds: {5m: 300}}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from typing import Any

from agentcost.errors import ConfigError

CACHE_STRATEGIES = ("off", "observed", "auto", "stable", "stable+last")
TTL_NAMES = ("5m", "1h", "30m", "12h", "in_memory", "24h")
WORKSPACES = ("shared", "source", "session", "task")
ROLES = ("cheap", "strong")

# Canonical lever order: per-lever contributions are attributed by adding levers in this order.
LEVERS = ("cache", "cascade", "trim_history", "max_output_tokens", "tool_cache",
          "parallel_tools", "loop_caps", "batch", "tool_results", "compaction",
          "response_cache")

LEVER_LABELS = {
    "cache": "prompt caching",
    "cascade": "model cascade",
    "trim_history": "context trimming",
    "max_output_tokens": "output cap",
    "tool_cache": "tool-result caching",
    "parallel_tools": "parallel tool calls",
    "loop_caps": "loop caps",
    "batch": "batch",
    "tool_results": "tool-result caps and pruning",
    "compaction": "compaction",
    "response_cache": "response cache",
}

# Scenario fields that belong to each lever (reset to defaults when the lever is left out).
_LEVER_FIELDS = {
    "cache": ("cache", "ttl"),
    "cascade": ("cascade", "cascade_given", "escalation_rate", "escalation_range",
                "escalation_source", "escalation_candidate", "roles"),
    "trim_history": ("trim_history",),
    "max_output_tokens": ("max_output_tokens",),
    "tool_cache": ("tool_cache", "tool_cache_ttl_s"),
    "parallel_tools": ("parallel_tools", "state_changing_tools"),
    "loop_caps": ("max_iterations", "token_budget"),
    "batch": ("batch", "batch_tasks"),
    "tool_results": ("cap_tool_results", "prune_tool_results_after", "stub_tokens"),
    "compaction": ("compact_at", "summary_tokens", "summary_model"),
    "response_cache": ("response_cache", "similarity", "near_threshold"),
}

SIMILARITIES = ("exact", "near")
DEFAULT_STUB_TOKENS = 20
DEFAULT_SUMMARY_TOKENS = 2000
DEFAULT_NEAR_THRESHOLD = 0.9


@dataclass(frozen=True)
class Scenario:
    """One what-if configuration. Defaults change nothing (the no-op scenario)."""

    name: str = "scenario"
    cache: str | None = None  # None: as observed
    ttl: str | None = None
    cascade: tuple[str, str] | None = None  # resolved (cheap, strong) model ids
    cascade_given: tuple[str, str] | None = None  # as the user typed them
    escalation_rate: float = 0.0
    escalation_range: tuple[float, float] | None = None
    escalation_source: str | None = None  # where a measured rate comes from (a replay report)
    escalation_candidate: str | None = None  # the model the replay measured
    roles: tuple[tuple[str, str], ...] = ()  # (step name, cheap|strong)
    batch: bool = False
    batch_tasks: str | None = None
    trim_history: int | None = None
    max_output_tokens: int | None = None
    parallel_tools: bool = False
    state_changing_tools: tuple[str, ...] = ()
    max_iterations: int | None = None
    token_budget: int | None = None
    tool_cache: bool = False
    tool_cache_ttl_s: float | None = None  # also across tasks within this TTL
    # context levers (agentcost.simulation.context)
    cap_tool_results: int | None = None
    prune_tool_results_after: int | None = None
    stub_tokens: int = DEFAULT_STUB_TOKENS
    compact_at: int | None = None
    summary_tokens: int = DEFAULT_SUMMARY_TOKENS
    summary_model: str | None = None  # resolved id; None: cascade cheap, else own model
    response_cache: bool = False
    similarity: str = "exact"
    near_threshold: float = DEFAULT_NEAR_THRESHOLD

    def levers(self) -> list[str]:
        """The levers this scenario pulls, in canonical order."""
        on = {
            "cache": self.cache not in (None, "observed") or self.ttl is not None,
            "cascade": self.cascade is not None,
            "trim_history": self.trim_history is not None,
            "max_output_tokens": self.max_output_tokens is not None,
            "tool_cache": self.tool_cache,
            "parallel_tools": self.parallel_tools,
            "loop_caps": self.max_iterations is not None or self.token_budget is not None,
            "batch": self.batch,
            "tool_results": self.cap_tool_results is not None
            or self.prune_tool_results_after is not None,
            "compaction": self.compact_at is not None,
            "response_cache": self.response_cache,
        }
        return [lv for lv in LEVERS if on[lv]]

    def only(self, levers: list[str] | tuple[str, ...]) -> Scenario:
        """This scenario with only ``levers`` pulled (the others back at their defaults)."""
        defaults = {f.name: f.default for f in fields(Scenario)}
        changes: dict[str, Any] = {}
        for lv, names in _LEVER_FIELDS.items():
            if lv not in levers:
                for n in names:
                    changes[n] = defaults[n]
        return replace(self, **changes)

    @property
    def role_map(self) -> dict[str, str]:
        return dict(self.roles)


@dataclass
class Settings:
    """Options shared by every scenario of one run."""

    workspace: str = "shared"
    batch_window_s: float = 3600.0
    batch_window_pessimistic_s: float = 86400.0
    short_output_tokens: int = 64
    provider_rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    with_range: bool = False
    # Calls a scenario leaves unchanged keep the trace's cache figures (False: pure simulation).
    calibrate: bool = True
    # --range, pessimistic side: share of cache hits lost to eviction under load, and the share
    # of hits a batch keeps (Anthropic: "best-effort, typically 30-98 %", provider-rules §D).
    eviction_share: float = 0.2
    batch_hit_share_pessimistic: float = 0.3


# ----------------------------------------------------------------------------- parsing helpers

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$", re.IGNORECASE)
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(v: Any, path: str) -> float:
    """``"5m"``, ``"1h"``, ``"90s"``, ``"250ms"`` or a number of seconds → seconds."""
    if isinstance(v, bool):
        raise ConfigError(f"{path}: expected a duration such as 5m or 1h, got {v!r}")
    if isinstance(v, (int, float)):
        if v < 0:
            raise ConfigError(f"{path}: must be non-negative")
        return float(v)
    if isinstance(v, str):
        m = _DURATION.match(v)
        if m:
            return float(m.group(1)) * _UNIT_S[(m.group(2) or "s").lower()]
    raise ConfigError(f"{path}: expected a duration such as 5m, 1h or 90s, got {v!r}")


def _pos_int(v: Any, path: str, *, allow_zero: bool = False) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < (0 if allow_zero else 1):
        if isinstance(v, float) and v.is_integer() and v >= (0 if allow_zero else 1):
            return int(v)
        kind = "non-negative" if allow_zero else "positive"
        raise ConfigError(f"{path}: expected a {kind} integer, got {v!r}")
    return v


def _rate(v: Any, path: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
        raise ConfigError(f"{path}: expected a share between 0 and 1, got {v!r}")
    return float(v)


def _bool(v: Any, path: str) -> bool:
    if not isinstance(v, bool):
        raise ConfigError(f"{path}: expected true or false, got {v!r}")
    return v


def _str_list(v: Any, path: str) -> tuple[str, ...]:
    if isinstance(v, str):
        return tuple(s.strip() for s in v.split(",") if s.strip())
    if not isinstance(v, list) or not all(isinstance(s, str) and s for s in v):
        raise ConfigError(f"{path}: expected a list of names")
    return tuple(v)


def parse_cache(v: Any, path: str) -> str:
    s = str(v).strip().lower() if isinstance(v, str) else v
    if s is False:  # YAML `off` is the boolean false
        return "off"
    if s not in CACHE_STRATEGIES:
        raise ConfigError(f"{path}: must be one of {', '.join(CACHE_STRATEGIES)}, got {v!r}")
    return str(s)


def parse_ttl(v: Any, path: str) -> str:
    s = str(v).strip().lower() if isinstance(v, (str, int)) else None
    if s == "in-memory":
        s = "in_memory"
    if s not in TTL_NAMES:
        raise ConfigError(f"{path}: must be one of {', '.join(TTL_NAMES)} (Anthropic 5m/1h, "
                          f"OpenAI 30m/12h or in_memory/24h retention), got {v!r}")
    return s


def parse_cascade(v: Any, path: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """``"haiku,sonnet"`` or ``[haiku, sonnet]`` → ((cheap id, strong id), as given)."""
    from agentcost.rules import resolve_alias

    parts = list(_str_list(v, path)) if isinstance(v, (str, list)) else None
    if not parts or len(parts) != 2:
        raise ConfigError(f"{path}: expected two models CHEAP,STRONG (e.g. haiku,sonnet), "
                          f"got {v!r}")
    resolved = []
    for i, name in enumerate(parts):
        try:
            resolved.append(resolve_alias(name))
        except ValueError as exc:
            raise ConfigError(f"{path}[{i}]: {exc}") from None
    return (resolved[0], resolved[1]), (parts[0], parts[1])


SCENARIO_KEYS = {
    "name", "cache", "ttl", "cascade", "escalation_rate", "escalation_range", "roles", "batch",
    "batch_tasks", "trim_history", "max_output_tokens", "parallel_tools",
    "state_changing_tools", "max_iterations", "token_budget", "tool_cache", "tool_cache_ttl",
    "cap_tool_results", "prune_tool_results_after", "stub_tokens", "compact_at",
    "summary_tokens", "summary_model", "response_cache",
}
CONTEXT_INT_KEYS = ("cap_tool_results", "prune_tool_results_after", "stub_tokens",
                    "compact_at", "summary_tokens")
SETTINGS_KEYS = {"workspace", "batch_window", "short_output_tokens", "provider_rules",
                 "calibrate"}
PROVIDER_RULE_KEYS = {"min_cacheable_tokens", "lookback_blocks", "max_breakpoints",
                      "granularity", "ttl_seconds"}


def _key(k: Any) -> str:
    return str(k).strip().replace("-", "_")


def _escalation_range(v: Any, p: str) -> tuple[float, float]:
    if not isinstance(v, list) or len(v) != 2:
        raise ConfigError(f"{p}: expected [optimistic, pessimistic] shares")
    lo, hi = _rate(v[0], f"{p}[0]"), _rate(v[1], f"{p}[1]")
    if lo > hi:
        raise ConfigError(f"{p}: the optimistic share must not exceed the pessimistic")
    return lo, hi


def _roles(v: Any, p: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(v, dict):
        raise ConfigError(f"{p}: expected a mapping of step name to cheap|strong")
    roles = []
    for sname, role in v.items():
        if role not in ROLES:
            raise ConfigError(f"{p}.{sname}: must be cheap or strong, got {role!r}")
        roles.append((str(sname), str(role)))
    return tuple(roles)


def _tool_cache(v: Any, p: str) -> dict[str, Any]:
    """``tool_cache: true|false`` or ``tool_cache: {ttl: DURATION}``."""
    if not isinstance(v, dict):
        return {"tool_cache": _bool(v, p)}
    for tk in v:
        if _key(tk) != "ttl":
            raise ConfigError(f"{p}.{tk}: unknown key (expected: ttl)")
    out: dict[str, Any] = {"tool_cache": True}
    if v.get("ttl") is not None:
        out["tool_cache_ttl_s"] = parse_duration(v["ttl"], f"{p}.ttl")
    return out


def _scenario_key(kw: dict[str, Any], k: str, v: Any, p: str) -> None:
    """Parse one scenario option into ``kw``."""
    if k == "cache":
        kw["cache"] = parse_cache(v, p)
    elif k == "ttl":
        kw["ttl"] = parse_ttl(v, p)
    elif k == "cascade":
        kw["cascade"], kw["cascade_given"] = parse_cascade(v, p)
    elif k == "escalation_rate":
        kw["escalation_rate"] = _rate(v, p)
    elif k == "escalation_range":
        kw["escalation_range"] = _escalation_range(v, p)
    elif k == "roles":
        kw["roles"] = _roles(v, p)
    elif k in ("batch", "parallel_tools"):
        kw[k] = _bool(v, p)
    elif k == "batch_tasks":
        if not isinstance(v, str) or not v:
            raise ConfigError(f"{p}: expected a glob pattern on task ids")
        kw["batch_tasks"] = v
        kw["batch"] = kw.get("batch", True)
    elif k in ("trim_history", "max_output_tokens", "max_iterations", "token_budget"):
        kw[k] = _pos_int(v, p)
    elif k == "state_changing_tools":
        kw[k] = _str_list(v, p)
    elif k == "tool_cache":
        kw.update(_tool_cache(v, p))
    elif k == "tool_cache_ttl":
        kw["tool_cache_ttl_s"] = parse_duration(v, p)
        kw["tool_cache"] = True
    else:
        kw.update(_context_key(k, v, p))


def scenario_from_mapping(m: Any, path: str) -> Scenario:
    if not isinstance(m, dict):
        raise ConfigError(f"{path}: expected a mapping of scenario options, got "
                          f"{type(m).__name__}")
    kw: dict[str, Any] = {}
    items = {_key(k): v for k, v in m.items()}
    for k in items:
        if k not in SCENARIO_KEYS:
            raise ConfigError(f"{path}.{k}: unknown key (expected one of: "
                              f"{', '.join(sorted(SCENARIO_KEYS))})")
    name = items.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{path}.name: required (a non-empty string)")
    kw["name"] = name.strip()
    for k, v in items.items():
        if k != "name" and v is not None:
            _scenario_key(kw, k, v, f"{path}.{k}")
    _check_context(kw, path)
    if "cascade" not in kw:
        for k in ("escalation_rate", "escalation_range", "roles"):
            if k in kw and kw[k]:
                raise ConfigError(f"{path}.{k}: only meaningful with cascade")
    return Scenario(**kw)


def _context_key(k: str, v: Any, p: str) -> dict[str, Any]:
    """Scenario fields of one context-lever key (``cap_tool_results`` … ``response_cache``)."""
    if k in CONTEXT_INT_KEYS:
        return {k: _pos_int(v, p, allow_zero=k == "prune_tool_results_after")}
    if k == "summary_model":
        return {"summary_model": parse_model(v, p)}
    if k != "response_cache":
        return {}
    if not isinstance(v, dict):
        return {"response_cache": _bool(v, p)}
    out: dict[str, Any] = {"response_cache": True}
    for rk, rv in v.items():
        key = _key(rk)
        if key == "similarity":
            out["similarity"] = parse_similarity(rv, f"{p}.similarity")
        elif key == "threshold":
            out["near_threshold"] = parse_threshold(rv, f"{p}.threshold")
        else:
            raise ConfigError(f"{p}.{rk}: unknown key (expected: similarity, threshold)")
    return out


def _check_context(kw: dict[str, Any], path: str) -> None:
    for key, needs in (("stub_tokens", "prune_tool_results_after"),
                       ("summary_tokens", "compact_at"), ("summary_model", "compact_at")):
        if key in kw and needs not in kw:
            raise ConfigError(f"{path}.{key}: only meaningful with {needs}")


def parse_model(v: Any, path: str) -> str:
    from agentcost.rules import resolve_alias

    if not isinstance(v, str) or not v.strip():
        raise ConfigError(f"{path}: expected a model id or alias")
    try:
        return resolve_alias(v.strip())
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def parse_similarity(v: Any, path: str) -> str:
    if v not in SIMILARITIES:
        raise ConfigError(f"{path}: must be one of {', '.join(SIMILARITIES)}, got {v!r}")
    return str(v)


def parse_threshold(v: Any, path: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 1:
        raise ConfigError(f"{path}: expected a Jaccard similarity in (0, 1], got {v!r}")
    return float(v)


def parse_settings(m: Any, path: str, base: Settings | None = None) -> Settings:
    st = replace(base) if base is not None else Settings()
    if m is None:
        return st
    if not isinstance(m, dict):
        raise ConfigError(f"{path}: expected a mapping, got {type(m).__name__}")
    for k0, v in m.items():
        k = _key(k0)
        p = f"{path}.{k}"
        if k not in SETTINGS_KEYS:
            raise ConfigError(f"{p}: unknown key (expected one of: "
                              f"{', '.join(sorted(SETTINGS_KEYS))})")
        if k == "workspace":
            if v not in WORKSPACES:
                raise ConfigError(f"{p}: must be one of {', '.join(WORKSPACES)}, got {v!r}")
            st.workspace = str(v)
        elif k == "batch_window":
            st.batch_window_s = parse_duration(v, p)
        elif k == "short_output_tokens":
            st.short_output_tokens = _pos_int(v, p, allow_zero=True)
        elif k == "calibrate":
            st.calibrate = _bool(v, p)
        elif k == "provider_rules":
            st.provider_rules = {**st.provider_rules, **parse_provider_rules(v, p)}
    return st


def parse_provider_rules(v: Any, path: str) -> dict[str, dict[str, Any]]:
    """``{model: {min_cacheable_tokens, lookback_blocks, max_breakpoints, granularity,
    ttl_seconds: {ttl: seconds}}}`` — caching mechanics overrides (prices stay price data)."""
    if not isinstance(v, dict):
        raise ConfigError(f"{path}: expected a mapping of model id to rule overrides")
    out: dict[str, dict[str, Any]] = {}
    for model, spec in v.items():
        mp = f"{path}.{model}"
        if not isinstance(spec, dict):
            raise ConfigError(f"{mp}: expected a mapping")
        o: dict[str, Any] = {}
        for k0, val in spec.items():
            k = _key(k0)
            if k not in PROVIDER_RULE_KEYS:
                raise ConfigError(f"{mp}.{k}: unknown key (expected one of: "
                                  f"{', '.join(sorted(PROVIDER_RULE_KEYS))})")
            if k == "ttl_seconds":
                if not isinstance(val, dict):
                    raise ConfigError(f"{mp}.ttl_seconds: expected a mapping of ttl to seconds")
                o[k] = {str(t): parse_duration(s, f"{mp}.ttl_seconds.{t}")
                        for t, s in val.items()}
            else:
                o[k] = _pos_int(val, f"{mp}.{k}", allow_zero=True)
        out[str(model).lower()] = o
    return out


def load_scenarios_doc(doc: Any, where: str,
                       settings: Settings | None = None) -> tuple[list[Scenario], Settings]:
    """Scenarios (and settings) from a parsed YAML document: a list of scenarios, or a mapping
    with ``scenarios:`` (and optionally ``simulate:``)."""
    st = settings or Settings()
    if doc is None:
        return [], st
    if isinstance(doc, dict):
        for k in doc:
            if _key(k) not in ("scenarios", "simulate"):
                raise ConfigError(f"{where}: unknown key {k!r} (expected scenarios, simulate)")
        st = parse_settings(doc.get("simulate"), f"{where}: simulate", st)
        items = doc.get("scenarios")
        if items is None:
            return [], st
    else:
        items = doc
    if not isinstance(items, list):
        raise ConfigError(f"{where}: scenarios: expected a list of scenarios")
    out = []
    names: set[str] = set()
    for i, m in enumerate(items):
        sc = scenario_from_mapping(m, f"{where}: scenarios[{i}]")
        if sc.name in names or sc.name == "baseline":
            raise ConfigError(f"{where}: scenarios[{i}].name: {sc.name!r} is used twice "
                              "(or is the reserved name 'baseline')")
        names.add(sc.name)
        out.append(sc)
    return out, st


def load_scenarios_file(path: str, settings: Settings | None = None
                        ) -> tuple[list[Scenario], Settings]:
    """Read ``--scenarios file.yaml`` (its ``simulate:`` settings apply over ``settings``)."""
    from agentcost.config import read_yaml

    return load_scenarios_doc(read_yaml(path, "scenarios file"), str(path), settings)


def from_config(raw: dict[str, Any], where: str = "agentcost.yaml"
                ) -> tuple[list[Scenario], Settings]:
    """Scenarios and settings from ``agentcost.yaml`` (``Config.raw``)."""
    st = parse_settings(raw.get("simulate"), f"{where}: simulate")
    sc = raw.get("scenarios")
    if sc is None:
        return [], st
    return load_scenarios_doc({"scenarios": sc}, where, st)


def auto_name(sc: Scenario) -> str:
    """A readable name for a scenario built from CLI options."""
    parts = []
    if sc.cache not in (None, "observed") or sc.ttl:
        parts.append(f"cache {sc.cache or 'observed'}" + (f" {sc.ttl}" if sc.ttl else ""))
    if sc.cascade_given:
        parts.append(f"cascade {sc.cascade_given[0]},{sc.cascade_given[1]}")
    if sc.batch:
        parts.append("batch" + (f" {sc.batch_tasks}" if sc.batch_tasks else ""))
    if sc.trim_history is not None:
        parts.append(f"trim {sc.trim_history}")
    if sc.max_output_tokens is not None:
        parts.append(f"max-out {sc.max_output_tokens}")
    if sc.parallel_tools:
        parts.append("parallel tools")
    if sc.max_iterations is not None:
        parts.append(f"max-iter {sc.max_iterations}")
    if sc.token_budget is not None:
        parts.append(f"budget {sc.token_budget:,}")
    if sc.tool_cache:
        parts.append("tool cache")
    if sc.cap_tool_results is not None:
        parts.append(f"cap tool results {sc.cap_tool_results:,}")
    if sc.prune_tool_results_after is not None:
        parts.append(f"prune tool results after {sc.prune_tool_results_after}")
    if sc.compact_at is not None:
        parts.append(f"compact at {sc.compact_at:,}")
    if sc.response_cache:
        parts.append("response cache" + (" near" if sc.similarity == "near" else ""))
    return " + ".join(parts) or "as observed"
