"""Settings of the gate: the metrics it compares, thresholds (``--max-increase``,
``check.max_increase``), noise floors (``--min-delta``), budgets (``budgets:``) and the
:class:`CheckOptions` built from ``agentcost.yaml``'s ``check:`` section and the command line.
Every validation error is a :class:`~agentcost.errors.ConfigError` naming its key path."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentcost.config import Config
from agentcost.errors import ConfigError
from agentcost.gate.numbers import fmt_value

SCHEMA_VERSION = 1
EPS = 1e-9
INF = math.inf

# ----------------------------------------------------------------------------- metrics


@dataclass(frozen=True)
class MetricDef:
    key: str
    label: str
    unit: str  # usd | tokens | count | ratio | seconds
    scope: str = "both"  # total | task | both
    lower_is_worse: bool = False


METRICS: tuple[MetricDef, ...] = (
    MetricDef("cost_usd", "cost", "usd"),
    MetricDef("input_tokens", "input tokens", "tokens"),
    MetricDef("uncached_input_tokens", "  uncached", "tokens"),
    MetricDef("cache_read_tokens", "  cache read", "tokens"),
    MetricDef("cache_write_tokens", "  cache write", "tokens"),
    MetricDef("output_tokens", "output tokens", "tokens"),
    MetricDef("iterations", "iterations", "count"),
    MetricDef("iterations_max", "iterations max", "count", scope="total"),
    MetricDef("cache_hit_ratio", "cache hit ratio", "ratio", lower_is_worse=True),
    MetricDef("latency_p50_s", "latency p50", "seconds", scope="total"),
    MetricDef("latency_p95_s", "latency p95", "seconds", scope="total"),
    MetricDef("latency_s", "latency", "seconds", scope="task"),
)
METRIC_BY_KEY = {m.key: m for m in METRICS}
METRIC_ALIASES = {"cost": "cost_usd", "latency": "latency_s"}
TOKEN_METRICS = ("input_tokens", "uncached_input_tokens", "cache_read_tokens",
                 "cache_write_tokens", "output_tokens")


# ----------------------------------------------------------------------------- thresholds


@dataclass(frozen=True)
class Threshold:
    """Maximum worsening of ``metric`` against the baseline: ``kind`` ``pct`` (a fraction of the
    baseline, 0.10 = 10%) or ``abs`` (in the metric's unit)."""

    metric: str
    kind: str
    value: float
    action: str = "fail"

    def describe(self) -> str:
        m = METRIC_BY_KEY[self.metric]
        if self.kind == "pct":
            amount = f"{self.value * 100:g}%"
        elif m.unit == "ratio":
            amount = f"{self.value * 100:g} pts"
        else:
            amount = fmt_value(m.unit, self.value)
        return f"max drop {amount}" if m.lower_is_worse else f"max +{amount}"

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "kind": self.kind, "value": self.value,
                "action": self.action}


def _metric_key(name: str, path: str) -> str:
    key = METRIC_ALIASES.get(name, name)
    if key not in METRIC_BY_KEY:
        raise ConfigError(f"{path}: unknown metric {name!r} (expected one of: cost, "
                          f"{', '.join(METRIC_BY_KEY)})")
    return key


def _amount(v: Any, path: str) -> tuple[str, float]:
    """``10%`` → ("pct", 0.10); ``0.50`` / ``"$0.50"`` / ``"0.5"`` → ("abs", 0.5)."""
    if isinstance(v, bool):
        raise ConfigError(f"{path}: expected a number or a percentage, got {v!r}")
    if isinstance(v, (int, float)):
        kind, x = "abs", float(v)
    elif isinstance(v, str):
        s = v.strip().replace(",", "")
        kind = "pct" if s.endswith("%") else "abs"
        s = s.rstrip("%").lstrip("+").lstrip("$")
        try:
            x = float(s)
        except ValueError:
            raise ConfigError(f"{path}: expected a number (0.50) or a percentage (10%), "
                              f"got {v!r}") from None
        if kind == "pct":
            x /= 100.0
    else:
        raise ConfigError(f"{path}: expected a number or a percentage, got "
                          f"{type(v).__name__}")
    if not math.isfinite(x) or x < 0:
        raise ConfigError(f"{path}: must be a non-negative number, got {v!r}")
    return kind, x


def _limit_spec(v: Any, path: str) -> tuple[Any, str]:
    """A value or ``{limit: x, action: fail|warn}`` → (value, action)."""
    if isinstance(v, dict):
        for k in v:
            if k not in ("limit", "action"):
                raise ConfigError(f"{path}.{k}: unknown key (expected limit, action)")
        if "limit" not in v:
            raise ConfigError(f"{path}.limit: required")
        action = v.get("action", "fail")
        if action not in ("fail", "warn"):
            raise ConfigError(f"{path}.action: expected fail or warn, got {action!r}")
        return v["limit"], action
    return v, "fail"


def parse_max_increase(spec: str) -> Threshold:
    """A ``--max-increase`` value: ``10%``, ``0.50`` (cost) or ``METRIC=VALUE``."""
    metric, _, val = spec.rpartition("=")
    path = f"--max-increase {spec}"
    kind, x = _amount(val, path)
    return Threshold(_metric_key(metric.strip() or "cost", path), kind, x)


def parse_min_delta(spec: str) -> tuple[str, float]:
    """A ``--min-delta`` value: ``0.01`` (dollars, for cost) or ``METRIC=VALUE``."""
    metric, _, val = spec.rpartition("=")
    path = f"--min-delta {spec}"
    kind, x = _amount(val, path)
    if kind == "pct":
        raise ConfigError(f"{path}: the noise floor is an amount in the metric's unit, "
                          "not a percentage")
    return _metric_key(metric.strip() or "cost", path), x


def _yaml_thresholds(raw: Any, path: str) -> list[Threshold]:
    out: list[Threshold] = []

    def one(metric: str, v: Any, p: str) -> None:
        items = v if isinstance(v, list) else [v]
        for i, item in enumerate(items):
            pi = f"{p}[{i}]" if isinstance(v, list) else p
            val, action = _limit_spec(item, pi)
            kind, x = _amount(val, pi if not isinstance(item, dict) else f"{pi}.limit")
            out.append(Threshold(metric, kind, x, action))

    if isinstance(raw, dict):
        for name, v in raw.items():
            p = f"{path}.{name}"
            one(_metric_key(str(name), p), v, p)
    else:
        one("cost_usd", raw, path)
    return out


# ----------------------------------------------------------------------------- budgets

BUDGETS: dict[str, tuple[str, str, str]] = {  # key -> (label, unit, "max" | "min")
    "total_cost": ("total cost", "usd", "max"),
    "cost_per_task_p95": ("cost per task p95", "usd", "max"),
    "iterations_max": ("iterations per task", "count", "max"),
    "tokens_per_task_max": ("tokens per task", "tokens", "max"),
    "latency_p95_s": ("task latency p95", "seconds", "max"),
    "cache_hit_ratio_min": ("cache hit ratio", "ratio", "min"),
}


@dataclass(frozen=True)
class Budget:
    key: str
    limit: float
    action: str = "fail"

    @property
    def label(self) -> str:
        return BUDGETS[self.key][0]

    @property
    def unit(self) -> str:
        return BUDGETS[self.key][1]

    @property
    def direction(self) -> str:
        return BUDGETS[self.key][2]

    def describe(self) -> str:
        op = "≥" if self.direction == "min" else "≤"
        return f"{op} {fmt_value(self.unit, self.limit)}"


def parse_budgets(raw: Any, path: str = "budgets") -> list[Budget]:
    """Validate the ``budgets:`` mapping of ``agentcost.yaml`` (errors name the key path)."""
    if raw is None:
        return []
    if isinstance(raw, (list, tuple)) and all(isinstance(b, Budget) for b in raw):
        return list(raw)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping, got {type(raw).__name__}")
    out: list[Budget] = []
    for key, spec in raw.items():
        p = f"{path}.{key}"
        if key not in BUDGETS:
            raise ConfigError(f"{p}: unknown budget (expected one of: {', '.join(BUDGETS)})")
        val, action = _limit_spec(spec, p)
        vp = f"{p}.limit" if isinstance(spec, dict) else p
        if isinstance(val, bool) or not isinstance(val, (int, float)) or not math.isfinite(val):
            raise ConfigError(f"{vp}: expected a number, got {type(val).__name__} {val!r}")
        if val < 0:
            raise ConfigError(f"{vp}: must be non-negative")
        if key == "cache_hit_ratio_min" and val > 1:
            raise ConfigError(f"{vp}: a ratio between 0 and 1 (0.6 = 60%), got {val!r}")
        out.append(Budget(str(key), float(val), action))
    return out


# ----------------------------------------------------------------------------- options

CHECK_KEYS = ("max_increase", "min_delta", "per_task", "prompts", "fail_on", "model")
SEVERITIES = ("info", "warning", "error")  # as agentcost.audit (not imported here: kept light)


@dataclass
class CheckOptions:
    thresholds: list[Threshold] = field(default_factory=list)
    min_delta: dict[str, float] = field(default_factory=dict)  # metric -> noise floor
    per_task: bool = False
    config: Config | None = None  # prices/aliases used to re-price the baseline
    prompts: list[str] = field(default_factory=list)  # prompt files for the audit gate
    fail_on: str = "warning"  # the audit gate fails on findings at or above this severity
    model: str | None = None  # the audit's target model (short-prefix needs it)
    current_label: str | None = None  # what the current run was read from (for reports)

    @classmethod
    def from_config(cls, config: Config | None = None, *,
                    max_increase: Sequence[str] = (), min_delta: Sequence[str] = (),
                    per_task: bool | None = None, fail_on: str | None = None,
                    prompts: Sequence[str] = (), model: str | None = None,
                    current_label: str | None = None) -> CheckOptions:
        """Options from ``agentcost.yaml``'s ``check:`` section, overridden per metric by the
        command-line values (``--max-increase``, ``--min-delta``, ``--per-task``, ``--fail-on``,
        ``--model``). ``check.prompts`` are relative to the config file's folder; ``prompts``
        given here (``--prompt``) to the current directory, and are added to them."""
        cfg = config or Config()
        sec = cfg.raw.get("check") or {}
        if not isinstance(sec, dict):
            raise ConfigError(f"check: expected a mapping, got {type(sec).__name__}")
        for k in sec:
            if k not in CHECK_KEYS:
                raise ConfigError(f"check.{k}: unknown key (expected one of: "
                                  f"{', '.join(CHECK_KEYS)})")
        ths = _yaml_thresholds(sec["max_increase"], "check.max_increase") \
            if "max_increase" in sec else []
        cli = [parse_max_increase(s) for s in max_increase]
        overridden = {t.metric for t in cli}
        ths = [t for t in ths if t.metric not in overridden] + cli
        md: dict[str, float] = {}
        raw_md = sec.get("min_delta")
        if raw_md is not None:
            items = raw_md.items() if isinstance(raw_md, dict) else [("cost", raw_md)]
            for name, v in items:
                p = f"check.min_delta.{name}" if isinstance(raw_md, dict) else "check.min_delta"
                kind, x = _amount(v, p)
                if kind == "pct":
                    raise ConfigError(f"{p}: an amount in the metric's unit, not a percentage")
                md[_metric_key(str(name), p)] = x
        md.update(dict(parse_min_delta(s) for s in min_delta))
        pt = sec.get("per_task", False)
        if not isinstance(pt, bool):
            raise ConfigError("check.per_task: expected true or false")
        raw_prompts = sec.get("prompts") or []
        if isinstance(raw_prompts, str):
            raw_prompts = [raw_prompts]
        if not isinstance(raw_prompts, list) or not all(isinstance(x, str) and x
                                                        for x in raw_prompts):
            raise ConfigError("check.prompts: expected a list of file paths")
        base = Path(cfg.path).parent if cfg.path else Path(".")
        files = [_rel(base / Path(x).expanduser()) for x in raw_prompts]
        files += [x for x in prompts if x not in files]
        fo = fail_on if fail_on is not None else sec.get("fail_on", "warning")
        if fo not in SEVERITIES:
            where = "--fail-on" if fail_on is not None else "check.fail_on"
            raise ConfigError(f"{where}: expected one of {', '.join(SEVERITIES)}, got {fo!r}")
        mdl = model if model is not None else sec.get("model")
        if mdl is not None and not isinstance(mdl, str):
            raise ConfigError("check.model: expected a model name")
        return cls(thresholds=ths, min_delta=md, per_task=pt if per_task is None else per_task,
                   config=cfg, prompts=files, fail_on=fo, model=mdl,
                   current_label=current_label)


def _rel(p: Path) -> str:
    """``p`` relative to the current directory when it lies under it (shorter in reports)."""
    if p.is_absolute():
        try:
            return str(p.relative_to(Path.cwd()))
        except ValueError:
            return str(p)
    return str(p)
