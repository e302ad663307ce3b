"""``agentcost.yaml``: price overrides, model aliases, analysis limits, budgets, scenarios.

Found in the working directory or given with ``--config``. Loaded with ``yaml.safe_load`` and
validated against a fixed schema; an unknown key or a value of the wrong type is a
:class:`ConfigError` naming its key path (``prices.my-llama.input_mtok``).

Schema::

    prices:                      # per model id as it appears in traces (case-insensitive)
      my-llama-70b:
        input_mtok: 0.60         # USD per million tokens (required)
        output_mtok: 0.80        # required
        cache_read_mtok: 0.06    # optional; default = input_mtok (no discount assumed)
        cache_write_mtok: 0.75   # optional (5-minute writes); default = input_mtok
        cache_write_1h_mtok: 1.2 # optional; default = cache_write_mtok
    aliases:                     # trace model id -> model id to price it as
      us.anthropic.claude-sonnet-4-5-20250929-v1:0: claude-sonnet-4-5
    default_model: gpt-4.1       # llm steps whose trace names no model are priced as this
    analyze:
      max_iterations: 40         # runaway-loop finding: tasks with more llm steps
      token_budget: 2000000      # tasks whose input+output tokens exceed this
    budgets: {...}               # used by `agentcost check` (validated there)
    scenarios: [...]             # used by `agentcost simulate` (validated there)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentcost.errors import ConfigError

DEFAULT_NAME = "agentcost.yaml"

PRICE_KEYS = {"input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok",
              "cache_write_1h_mtok"}
ANALYZE_KEYS = {"max_iterations", "token_budget", "runaway_factor", "anatomy_tool_share",
                "anatomy_max_sends", "anatomy_tools_share"}
TOP_KEYS = {"prices", "aliases", "default_model", "analyze", "budgets", "scenarios", "check",
            "simulate"}


@dataclass(frozen=True)
class PriceOverride:
    input_mtok: float
    output_mtok: float
    cache_read_mtok: float | None = None
    cache_write_mtok: float | None = None
    cache_write_1h_mtok: float | None = None


@dataclass
class Config:
    path: str | None = None
    prices: dict[str, PriceOverride] = field(default_factory=dict)  # lower-cased model id
    aliases: dict[str, str] = field(default_factory=dict)  # lower-cased trace id -> model
    default_model: str | None = None  # for llm steps that name no model (e.g. Agents SDK)
    max_iterations: int | None = None
    token_budget: int | None = None
    runaway_factor: float = 3.0
    # analyze --anatomy findings (agentcost.anatomy.AnatomyOptions)
    anatomy_tool_share: float = 0.30
    anatomy_max_sends: int = 20
    anatomy_tools_share: float = 0.20
    raw: dict[str, Any] = field(default_factory=dict)  # budgets/scenarios for other commands


def _num(v: Any, path: str, *, positive: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ConfigError(f"{path}: expected a number, got {type(v).__name__} {v!r}")
    if v < 0 or (positive and v == 0):
        raise ConfigError(f"{path}: must be {'positive' if positive else 'non-negative'}")
    return float(v)


def _mapping(v: Any, path: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise ConfigError(f"{path}: expected a mapping, got {type(v).__name__}")
    return v


def parse(data: Any, path: str | None = None) -> Config:
    where = path or DEFAULT_NAME
    if data is None:
        return Config(path=path)
    top = _mapping(data, where)
    cfg = Config(path=path, raw=dict(top))
    if bad := _unknown(top, TOP_KEYS):
        raise ConfigError(f"{where}: unknown key {bad[0]!r} (expected one of: {bad[1]})")
    _price_keys(_mapping(top.get("prices") or {}, "prices"), cfg)
    for alias, target in _mapping(top.get("aliases") or {}, "aliases").items():
        if not isinstance(target, str) or not target:
            raise ConfigError(f"aliases.{alias}: expected a model id string")
        cfg.aliases[str(alias).lower()] = target
    dm = top.get("default_model")
    if dm is not None:
        if not isinstance(dm, str) or not dm.strip():
            raise ConfigError(f"default_model: expected a model id string, got {dm!r}")
        cfg.default_model = dm.strip()
    an = _mapping(top.get("analyze") or {}, "analyze")
    if bad := _unknown(an, ANALYZE_KEYS):
        raise ConfigError(f"analyze.{bad[0]}: unknown key (expected one of: {bad[1]})")
    _analyze_keys(an, cfg)
    _anatomy_keys(an, cfg)
    return cfg


def _unknown(spec: dict[str, Any], keys: set[str]) -> tuple[Any, str] | None:
    """The first key of ``spec`` not in ``keys``, with the list of the expected ones."""
    for k in spec:
        if k not in keys:
            return k, ", ".join(sorted(keys))
    return None


def _price_keys(prices: dict[str, Any], cfg: Config) -> None:
    """``prices.<model>``: each override's known keys, the two required ones, numbers."""
    for model, spec in prices.items():
        p = f"prices.{model}"
        spec = _mapping(spec, p)
        if bad := _unknown(spec, PRICE_KEYS):
            raise ConfigError(f"{p}.{bad[0]}: unknown key (expected one of: {bad[1]})")
        for req in ("input_mtok", "output_mtok"):
            if req not in spec:
                raise ConfigError(f"{p}.{req}: required")
        vals = {k: _num(v, f"{p}.{k}") for k, v in spec.items()}
        cfg.prices[str(model).lower()] = PriceOverride(**vals)


def _analyze_keys(an: dict[str, Any], cfg: Config) -> None:
    """``analyze.max_iterations``, ``token_budget`` and ``runaway_factor``."""
    if "max_iterations" in an:
        cfg.max_iterations = int(_num(an["max_iterations"], "analyze.max_iterations",
                                      positive=True))
    if "token_budget" in an:
        cfg.token_budget = int(_num(an["token_budget"], "analyze.token_budget", positive=True))
    if "runaway_factor" in an:
        cfg.runaway_factor = _num(an["runaway_factor"], "analyze.runaway_factor", positive=True)


def _anatomy_keys(an: dict[str, Any], cfg: Config) -> None:
    """``analyze.anatomy_*``: the thresholds of the context-anatomy findings."""
    for k in ("anatomy_tool_share", "anatomy_tools_share"):
        if k in an:
            v = _num(an[k], f"analyze.{k}", positive=True)
            if v > 1:
                raise ConfigError(f"analyze.{k}: a share between 0 and 1, got {v:g}")
            setattr(cfg, k, v)
    if "anatomy_max_sends" in an:
        cfg.anatomy_max_sends = int(_num(an["anatomy_max_sends"], "analyze.anatomy_max_sends",
                                         positive=True))


def load(path: str | Path | None = None) -> Config:
    """Load ``path``; without one, the first of: ``$AGENTCOST_CONFIG``, then — in the current
    folder and each parent up to the repository root (the folder holding ``.git``) —
    ``agentcost.yaml``, else a ``[tool.agentcost]`` table of ``pyproject.toml``; else an
    empty config."""
    if path is None:
        env = os.environ.get("AGENTCOST_CONFIG")
        if env:
            return _parse_at(read_yaml(Path(env), "config file ($AGENTCOST_CONFIG)"), env)
        found = discover()
        if found is None:
            return Config()
        p, table = found
        if table is not None:
            return _parse_at(table, f"{p} [tool.agentcost]")
    else:
        p = Path(path)
    return _parse_at(read_yaml(p, "config file"), str(p))


def _parse_at(data: Any, where: str) -> Config:
    """:func:`parse`, with errors naming the file (or pyproject table) as well as the key."""
    try:
        return parse(data, where)
    except ConfigError as exc:
        if str(exc).startswith(where):
            raise
        raise ConfigError(f"{where}: {exc}") from None


def discover(start: Path | None = None) -> tuple[Path, dict[str, Any] | None] | None:
    """The nearest config from ``start`` (default: the current folder) up to the repository
    root: (path, None) for an ``agentcost.yaml``, (pyproject path, table) for a
    ``[tool.agentcost]`` table."""
    import tomllib

    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        yml = folder / DEFAULT_NAME
        if yml.is_file():
            return yml, None
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            try:
                doc = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"{pyproject}: cannot read ({exc})") from None
            table = doc.get("tool", {}).get("agentcost")
            if isinstance(table, dict):
                return pyproject, table
        if (folder / ".git").exists():
            return None
    return None


def read_yaml(path: str | Path, what: str = "file") -> Any:
    """``yaml.safe_load`` of a file; a missing file or bad YAML is a ConfigError naming
    ``file:line``."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: {what} not found")
    try:
        return yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        loc = f"{p}:{mark.line + 1}" if mark is not None else str(p)
        raise ConfigError(f"{loc}: invalid YAML ({getattr(exc, 'problem', exc)})") from None
    except RecursionError:  # PyYAML's composer recurses once per nesting level
        raise ConfigError(f"{p}: invalid YAML (nested too deeply)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read ({exc})") from None
