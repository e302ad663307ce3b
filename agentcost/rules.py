"""Provider prompt-caching rules per model (packaged data ``agentcost/data/cache_rules.yaml``).

The data is transcribed from ``provider-rules.md`` (compiled 2026-11-21); every row carries its
source tags and the date it was checked. This module only reads it:

* :func:`rule_for` finds the rule of a model id as it appears in a trace. Ids are normalised
  first (case, ``anthropic/`` / ``openai/`` / ``converse/`` and other path prefixes, Bedrock
  ``us.anthropic.`` prefixes and ``-v1:0`` suffixes, Vertex ``@20250929`` suffixes, dated
  snapshots ``-20250929`` / ``-2025-08-07``, ``-latest``, OpenRouter ``:beta``, fine-tune
  ``ft:base:org::id``, ``claude-sonnet-4.5`` / ``claude-4-5-sonnet`` spellings). Caching rules
  belong to the model, not the platform: the page states the minimums apply "on every platform
  where each model is available" (provider-rules §A3), so a Bedrock id gets the Anthropic rule.
* ``provider`` is a hint: when it names a model maker's own API (``anthropic``, ``openai``,
  ``google``/``gemini``, ``deepseek``) rows of that maker are searched first; the others are
  still searched, so gateways and OpenAI-compatible proxies that report another provider name
  do not hide a rule.
* ``at`` selects date-dependent values (``changes`` in the data, e.g. Sonnet 5.5 cache reads
  0.1x before 2026-10-07 and 0.05x from then). A change is effective from 00:00 UTC of its date;
  without ``at`` the latest values apply.
* :func:`resolve_alias` turns the short names of the cascade simulator (``haiku``, ``sonnet``,
  ``sol``, ``mini`` …, and ``cheap``/``mid``/``strong`` with a provider) into concrete model ids.

Multipliers are relative to the model's base input price and are the price of the tokens in that
class; "no write charge" is a write multiplier of 1.0 (written tokens billed as plain input).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

__all__ = [
    "CacheRule",
    "RuleChange",
    "TtlOption",
    "aliases",
    "all_rules",
    "data_info",
    "normalize_model_id",
    "resolve_alias",
    "rule_for",
]

DATA_PACKAGE = "agentcost"
DATA_PATH = ("data", "cache_rules.yaml")
TIERS = ("cheap", "mid", "strong")


@dataclass(frozen=True)
class TtlOption:
    """One cache lifetime setting of a model.

    ``ttl`` is the provider's own name (``5m``, ``1h``, ``30m``, ``in_memory``, ``24h`` …);
    ``seconds`` the lifetime to assume (guaranteed minimum where stated, low end of the typical
    range otherwise; None if not stated); ``max_seconds`` the stated upper bound.
    """

    ttl: str
    write_multiplier: float
    seconds: int | None = None
    max_seconds: int | None = None
    default: bool = False
    note: str | None = None


@dataclass(frozen=True)
class RuleChange:
    """Values of a rule that apply from ``start`` (00:00 UTC); None = unchanged."""

    start: date
    read_multiplier: float | None = None
    min_cacheable_tokens: int | None = None
    note: str | None = None


@dataclass(frozen=True)
class CacheRule:
    """Prompt-caching rule of one model (or model family pattern)."""

    provider: str  # anthropic | openai | google | deepseek
    model: str  # canonical id, as genai-prices names it where it knows the model
    family: str
    tier: str | None  # cheap | mid | strong (relative within the provider), None = mixed
    match: tuple[str, ...]
    min_cacheable_tokens: int | None  # None: not stated / not confirmed (see notes)
    ttl_options: tuple[TtlOption, ...]
    read_multiplier: float
    max_breakpoints: int | None
    lookback_blocks: int | None
    mode: str  # e.g. "explicit+automatic", "implicit+explicit", "implicit"
    granularity: int | None  # reported cached tokens are a multiple of this (1 = exact)
    tokenizer: str | None
    released: date | None
    source: str  # provider-rules §S tags, "; "-separated
    checked: date
    notes: str | None = None
    changes: tuple[RuleChange, ...] = ()
    exclude: tuple[str, ...] = ()

    @property
    def modes(self) -> tuple[str, ...]:
        return tuple(self.mode.split("+"))

    @property
    def caches_implicitly(self) -> bool:
        """The provider caches prompts of this model without being asked (OpenAI, Gemini 2.5+,
        DeepSeek); Anthropic's automatic mode still needs a request-level ``cache_control``."""
        return "implicit" in self.modes

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(s.strip() for s in self.source.split(";") if s.strip())

    @property
    def default_ttl(self) -> TtlOption | None:
        for opt in self.ttl_options:
            if opt.default:
                return opt
        return self.ttl_options[0] if self.ttl_options else None

    def ttl_option(self, ttl: str | None = None) -> TtlOption | None:
        """The option named ``ttl`` (case-insensitive), or the default one when ``ttl`` is None."""
        if ttl is None:
            return self.default_ttl
        for opt in self.ttl_options:
            if opt.ttl.lower() == ttl.lower():
                return opt
        return None

    def write_multiplier(self, ttl: str | None = None) -> float:
        """Write multiplier of ``ttl`` (default TTL if None); KeyError if the model lacks it."""
        opt = self.ttl_option(ttl)
        if opt is None:
            known = ", ".join(o.ttl for o in self.ttl_options) or "none"
            raise KeyError(f"{self.model} has no cache TTL {ttl!r} (known: {known})")
        return opt.write_multiplier

    def as_of(self, at: datetime | date | None = None) -> CacheRule:
        """This rule with the ``changes`` effective at ``at`` applied (None: all of them)."""
        if not self.changes:
            return self
        day = _as_date(at)
        updates: dict[str, Any] = {}
        for ch in self.changes:  # sorted by start at load
            if day is not None and ch.start > day:
                break
            if ch.read_multiplier is not None:
                updates["read_multiplier"] = ch.read_multiplier
            if ch.min_cacheable_tokens is not None:
                updates["min_cacheable_tokens"] = ch.min_cacheable_tokens
            if ch.note is not None:
                updates["notes"] = f"{self.notes} {ch.note}" if self.notes else ch.note
        return replace(self, **updates) if updates else self

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (lists, ISO dates)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            out[f.name] = _jsonable(getattr(self, f.name))
        return out


def _jsonable(v: Any) -> Any:
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    if isinstance(v, tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, (TtlOption, RuleChange)):
        return {f.name: _jsonable(getattr(v, f.name)) for f in fields(v)}
    return v


def _as_date(at: datetime | date | None) -> date | None:
    if at is None:
        return None
    if isinstance(at, datetime):
        if at.tzinfo is not None:
            at = at.astimezone(UTC)
        return at.date()
    return at


# ---------------------------------------------------------------------------- normalisation

_REGION = r"(?:us|eu|apac|au|jp|ca|in|us-gov|global|regional)"
_BEDROCK_PREFIX = re.compile(
    rf"^(?:{_REGION}\.)?(?:anthropic|openai|deepseek|google|meta|amazon|mistral|cohere|ai21)\.")
_BEDROCK_VERSION = re.compile(r"-v\d+(?::\d+)?$")
_COLON_SUFFIX = re.compile(
    r":(?:\d+|beta|batch|thinking|free|extended|online|nitro|floor|latest|exacto)$")
_DATE_SUFFIX = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2})$")
_LATEST_SUFFIX = re.compile(r"-latest$")
_CLAUDE_FAMILIES = "opus|sonnet|haiku|fable|mythos"
_CLAUDE_REORDER = re.compile(rf"^claude-(\d+(?:-\d+)?)-({_CLAUDE_FAMILIES})(.*)$")
_GPT_DASH_VERSION = re.compile(r"^gpt-(\d+)-(\d)(?=-|$)")
_GEMINI_SUFFIX = re.compile(r"-(?:\d{2}-\d{2}|\d{3})$")


def _strip_platform(model: str) -> str:
    """Lower-case and strip platform wrappers, but keep dated snapshot suffixes."""
    s = model.strip().lower()
    if s.startswith("ft:"):  # ft:gpt-4o-mini-2024-07-18:org:name:id
        s = s[3:].split(":", 1)[0]
    s = s.rsplit("/", 1)[-1].lstrip("~")  # anthropic/…, converse/…, publishers/…/models/…, ARNs
    s = s.split("@", 1)[0]  # Vertex claude-sonnet-4-5@20250929
    s = _BEDROCK_VERSION.sub("", s)
    prev = None
    while prev != s:
        prev = s
        s = _COLON_SUFFIX.sub("", s)
    s = _BEDROCK_PREFIX.sub("", s)
    return _BEDROCK_VERSION.sub("", s)


def normalize_model_id(model: str) -> str:
    """Canonical spelling used for matching: ``US.Anthropic.claude-sonnet-4-5-20250929-v1:0``
    → ``claude-sonnet-4-5``; ``openai/gpt-4o-2024-08-06`` → ``gpt-4o``."""
    s = _strip_platform(model)
    prev = None
    while prev != s:
        prev = s
        s = _DATE_SUFFIX.sub("", s)
        s = _LATEST_SUFFIX.sub("", s)
    if s.startswith("claude-"):
        s = re.sub(r"(?<=\d)\.(?=\d)", "-", s)  # claude-sonnet-4.5 -> claude-sonnet-4-5
        m = _CLAUDE_REORDER.match(s)  # claude-4-5-sonnet -> claude-sonnet-4-5
        if m:
            s = f"claude-{m.group(2)}-{m.group(1)}{m.group(3)}"
        s = re.sub(r"-fast$", "", s)  # OpenRouter fast-mode ids: same caching rules
    elif s.startswith("gpt-"):
        s = _GPT_DASH_VERSION.sub(r"gpt-\1.\2", s)  # gpt-5-1 -> gpt-5.1
    elif s.startswith("gemini-"):
        s = _GEMINI_SUFFIX.sub("", s)  # gemini-2.5-pro-preview-06-05, gemini-2.0-flash-001
    return s


# ------------------------------------------------------------------------------ data loading

_PROVIDER_HINTS = {
    "anthropic": "anthropic", "claude": "anthropic",
    "openai": "openai",
    "deepseek": "deepseek",
    "google": "google", "gemini": "google", "gcp.gemini": "google", "google-gla": "google",
    "google-vertex": "google", "gcp.vertex_ai": "google", "vertex_ai": "google",
    "gcp.gen_ai": "google",
}

_ROW_KEYS = {f.name for f in fields(CacheRule)}
_REQUIRED = _ROW_KEYS - {"notes", "changes", "exclude", "released", "tier"}
_TOP_KEYS = {"schema_version", "compiled", "defaults", "aliases", "tier_aliases", "rules"}


@dataclass(frozen=True)
class _Data:
    rules: tuple[CacheRule, ...]
    exact: dict[str, int]
    prefixes: tuple[tuple[str, int], ...]  # longest first
    regexes: tuple[tuple[re.Pattern[str], int], ...]
    aliases: dict[str, str]
    tier_aliases: dict[str, dict[str, str]]
    schema_version: int
    compiled: date | None
    sha256: str


def _read_text() -> str:
    ref = resources.files(DATA_PACKAGE)
    for part in DATA_PATH:
        ref = ref / part
    return ref.read_text(encoding="utf-8")


def _to_date(v: Any, what: str) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, str):
        return date.fromisoformat(v)
    raise ValueError(f"{what}: expected a date, got {v!r}")


def _build_rule(row: dict[str, Any], i: int) -> CacheRule:
    where = f"cache_rules.yaml rules[{i}] ({row.get('model', '?')})"
    unknown = set(row) - _ROW_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    missing = _REQUIRED - set(row)
    if missing:
        raise ValueError(f"{where}: missing keys {sorted(missing)}")
    ttls = tuple(TtlOption(**opt) for opt in row["ttl_options"] or ())
    if ttls and sum(o.default for o in ttls) != 1:
        raise ValueError(f"{where}: exactly one ttl_option must be the default")
    changes = []
    for ch in row.get("changes") or ():
        ch = dict(ch)
        start = _to_date(ch.pop("from"), f"{where} changes.from")
        changes.append(RuleChange(start=start, **ch))
    tier = row.get("tier")
    if tier is not None and tier not in TIERS:
        raise ValueError(f"{where}: tier must be one of {TIERS} or null")
    if not str(row["source"]).strip():
        raise ValueError(f"{where}: empty source")
    released = row.get("released")
    return CacheRule(
        provider=str(row["provider"]),
        model=str(row["model"]),
        family=str(row["family"]),
        tier=tier,
        match=tuple(str(m) for m in row["match"]),
        min_cacheable_tokens=row["min_cacheable_tokens"],
        ttl_options=ttls,
        read_multiplier=float(row["read_multiplier"]),
        max_breakpoints=row["max_breakpoints"],
        lookback_blocks=row["lookback_blocks"],
        mode=str(row["mode"]),
        granularity=row["granularity"],
        tokenizer=row["tokenizer"],
        released=None if released is None else _to_date(released, f"{where} released"),
        source=str(row["source"]),
        checked=_to_date(row["checked"], f"{where} checked"),
        notes=row.get("notes"),
        changes=tuple(sorted(changes, key=lambda c: c.start)),
        exclude=tuple(str(x).strip().lower() for x in row.get("exclude") or ()),
    )


@lru_cache(maxsize=1)
def _data() -> _Data:
    text = _read_text()
    doc = yaml.safe_load(text)
    unknown = set(doc) - _TOP_KEYS
    if unknown:
        raise ValueError(f"cache_rules.yaml: unknown top-level keys {sorted(unknown)}")
    rules = tuple(_build_rule(row, i) for i, row in enumerate(doc["rules"]))
    exact: dict[str, int] = {}
    prefixes: list[tuple[str, int]] = []
    regexes: list[tuple[re.Pattern[str], int]] = []

    def add_exact(key: str, idx: int) -> None:
        other = exact.setdefault(key, idx)
        if other != idx:
            raise ValueError(f"cache_rules.yaml: id {key!r} matches both "
                             f"{rules[other].model} and {rules[idx].model}")

    for idx, rule in enumerate(rules):
        for pat in (rule.model, *rule.match):
            if pat.startswith("re:"):
                regexes.append((re.compile(pat[3:], re.IGNORECASE), idx))
            elif pat.endswith("*"):
                prefixes.append((pat[:-1].lower(), idx))
            else:
                add_exact(pat.strip().lower(), idx)
                add_exact(normalize_model_id(pat), idx)
    prefixes.sort(key=lambda p: -len(p[0]))
    aliases = {str(k).lower(): str(v) for k, v in (doc.get("aliases") or {}).items()}
    tier_aliases = {str(p).lower(): {str(k): str(v) for k, v in m.items()}
                    for p, m in (doc.get("tier_aliases") or {}).items()}
    compiled = doc.get("compiled")
    return _Data(
        rules=rules, exact=exact, prefixes=tuple(prefixes), regexes=tuple(regexes),
        aliases=aliases, tier_aliases=tier_aliases,
        schema_version=int(doc.get("schema_version", 1)),
        compiled=None if compiled is None else _to_date(compiled, "compiled"),
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


# ---------------------------------------------------------------------------------- lookups

def _candidates(model: str) -> tuple[list[str], set[str]]:
    raw = model.strip().lower()
    platform = _strip_platform(model)
    forms = [raw, platform, normalize_model_id(model)]
    out: list[str] = []
    for f in forms:
        if f and f not in out:
            out.append(f)
    return out, {raw, platform}


def _match(forms: list[str], undated: set[str], allowed: set[int] | None) -> int | None:
    d = _data()

    def ok(idx: int) -> bool:
        if allowed is not None and idx not in allowed:
            return False
        return not (undated & set(d.rules[idx].exclude))

    for f in forms:
        idx = d.exact.get(f)
        if idx is not None and ok(idx):
            return idx
    for prefix, idx in d.prefixes:  # longest first
        if ok(idx) and any(f.startswith(prefix) for f in forms):
            return idx
    for rx, idx in d.regexes:
        if ok(idx) and any(rx.search(f) for f in forms):
            return idx
    return None


@lru_cache(maxsize=4096)
def _lookup(model: str, hint: str | None) -> CacheRule | None:
    forms, undated = _candidates(model)
    if not forms:
        return None
    d = _data()
    idx = None
    if hint is not None:
        idx = _match(forms, undated, {i for i, r in enumerate(d.rules) if r.provider == hint})
    if idx is None:
        idx = _match(forms, undated, None)
    return None if idx is None else d.rules[idx]


def _provider_hint(provider: str | None) -> str | None:
    if not provider:
        return None
    return _PROVIDER_HINTS.get(provider.strip().lower())


def rule_for(model: str, provider: str | None = None,
             at: datetime | date | None = None) -> CacheRule | None:
    """The caching rule of ``model`` (any id spelling seen in traces), or None if unknown.

    ``provider`` is a hint (see the module docstring); ``at`` applies date-dependent changes
    (None: latest values).
    """
    if not model or not model.strip():
        return None
    rule = _lookup(model, _provider_hint(provider))
    return None if rule is None else rule.as_of(at)


def all_rules(at: datetime | date | None = None) -> list[CacheRule]:
    """Every row of the data, with the values effective at ``at`` (None: latest)."""
    return [r.as_of(at) for r in _data().rules]


def aliases() -> dict[str, str]:
    """Short alias → model id (a copy); ``cheap``/``mid``/``strong`` are resolved per provider."""
    return dict(_data().aliases)


_VERSIONED_ALIAS = re.compile(rf"^({_CLAUDE_FAMILIES})[-_ ]?(\d+(?:[.-]\d+)?)$")


def _known_to_genai_prices(model: str, provider: str | None) -> bool:
    from genai_prices import Usage, calc_price

    gp_provider = _provider_hint(provider)
    for pid in ([gp_provider] if gp_provider else []) + [None]:
        try:
            calc_price(Usage(input_tokens=1), model, provider_id=pid)
            return True
        except (LookupError, ValueError):
            continue
    return False


def _alias_help() -> str:
    d = _data()
    names = ", ".join(f"{k} -> {v}" for k, v in d.aliases.items())
    tiers = "; ".join(f"{p}: " + ", ".join(f"{k} -> {v}" for k, v in m.items())
                      for p, m in d.tier_aliases.items())
    return (f"known aliases: {names}; family+version such as sonnet-4.5 or opus-5; "
            f"cheap/mid/strong with a provider ({tiers})")


def resolve_alias(name: str, provider: str | None = None) -> str:
    """Concrete model id for a cascade alias; full model ids pass through unchanged.

    ``haiku``/``sonnet``/``opus``/``fable``/``mythos`` → the newest current Anthropic model of
    that family; ``sol``/``terra``/``luna``/``astra``/``mini``/``nano`` → OpenAI ids;
    ``sonnet-4.5`` → ``claude-sonnet-4-5``; ``cheap``/``mid``/``strong`` need ``provider``
    (``anthropic`` or ``openai``). A name that is neither an alias nor a model known to the
    rules data or to genai-prices raises ValueError listing the known aliases.
    """
    key = name.strip().lower() if name else ""
    if not key:
        raise ValueError(f"empty model name; {_alias_help()}")
    d = _data()
    if key in d.aliases:
        return d.aliases[key]
    if key in TIERS:
        hint = _provider_hint(provider)
        table = d.tier_aliases.get(hint or "")
        if table is None or key not in table:
            raise ValueError(f"tier alias {name!r} needs provider='anthropic' or 'openai' "
                             f"(got {provider!r}); {_alias_help()}")
        return table[key]
    m = _VERSIONED_ALIAS.match(key)
    if m:
        rule = rule_for(f"claude-{m.group(1)}-{m.group(2).replace('.', '-')}")
        if rule is not None:
            return rule.model
    if rule_for(name, provider) is not None or _known_to_genai_prices(name.strip(), provider):
        return name.strip()
    raise ValueError(f"unknown model or alias {name!r} (not in agentcost's cache-rules data nor "
                     f"in genai-prices); {_alias_help()}")


def data_info() -> dict[str, Any]:
    """Provenance of the rules data, for reports."""
    d = _data()
    checked = sorted(r.checked for r in d.rules)
    providers: dict[str, int] = {}
    for r in d.rules:
        providers[r.provider] = providers.get(r.provider, 0) + 1
    return {
        "file": "agentcost/" + "/".join(DATA_PATH),
        "schema_version": d.schema_version,
        "compiled": d.compiled.isoformat() if d.compiled else None,
        "rows": len(d.rules),
        "providers": providers,
        "checked_min": checked[0].isoformat() if checked else None,
        "checked_max": checked[-1].isoformat() if checked else None,
        "sources": sorted({s for r in d.rules for s in r.sources}),
        "sha256": d.sha256[:16],
    }
