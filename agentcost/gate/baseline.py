"""Baselines for ``agentcost check``: load a saved ``analyze --format json`` report, re-price it
with the current price data, and match its tasks to the current run's.

A baseline is what ``agentcost analyze TRACES --format json --steps -o baseline.json`` writes on
the main branch. With ``--steps`` it carries every step, so :func:`reprice` rebuilds the step table
from it and prices it with *today's* price data and ``agentcost.yaml`` — the same prices the
current run gets (DESIGN.md §7). Without steps only the recorded figures are available; their
cost can be compared only when the price data is provably the same (see
:func:`same_price_data`).

Task matching (:func:`match_tasks`): first by task id; the tasks left over on both sides are then
matched by *task name* — the task id with its run-specific parts (UUIDs, dates and times, hex
ids of 8+ characters, digit runs of 6+) replaced by ``*``, e.g. ``eval-refund-3f9a2c1e`` →
``eval-refund-*``. When nothing but separators and ``*`` is left (a bare UUID), the name is the
source file's stem instead (``cases/refund.jsonl`` → ``refund``). A name matches only when it is
unique among the unmatched tasks of each side; everything else is listed as new or missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentcost.config import Config
from agentcost.errors import InputError

if TYPE_CHECKING:
    from agentcost.analysis import AnalyzeReport

# Fields of a step record that pricing recomputes: never taken from the baseline.
_COMPUTED = {"cost_usd", "output_cost_usd", "cache_read_cost_usd", "cache_write_cost_usd",
             "cache_savings_usd", "cache_1h_premium_usd",
             "cost_source", "uncached_input_tokens", "step"}
_REQUIRED_KEYS = ("totals", "tasks", "pricing")


@dataclass
class Baseline:
    """A loaded baseline report (``data`` is the parsed JSON object)."""

    label: str  # the path as given, for messages
    data: dict[str, Any]

    @property
    def has_steps(self) -> bool:
        return isinstance(self.data.get("steps"), list)

    @property
    def pricing(self) -> dict[str, Any]:
        p = self.data.get("pricing")
        return p if isinstance(p, dict) else {}

    @property
    def totals(self) -> dict[str, Any]:
        return self.data["totals"]  # type: ignore[no-any-return]

    @property
    def tasks(self) -> list[dict[str, Any]]:
        return self.data["tasks"]  # type: ignore[no-any-return]


def from_dict(data: Any, label: str = "baseline") -> Baseline:
    """Validate a parsed baseline object (the shape of ``analyze --format json``)."""
    if not isinstance(data, dict):
        raise InputError(f"expected a JSON object, got {type(data).__name__}", label)
    missing = [k for k in _REQUIRED_KEYS if k not in data]
    if missing:
        raise InputError(f"not an agentcost analyze report (missing {', '.join(missing)}); "
                         "create it with: agentcost analyze TRACES --format json --steps "
                         "-o baseline.json", label)
    if data.get("schema_version") != 1:
        raise InputError(f"unsupported schema_version {data.get('schema_version')!r} "
                         "(this agentcost reads 1)", label)
    if not isinstance(data["totals"], dict):
        raise InputError("totals: expected an object", label)
    if not isinstance(data["tasks"], list) or not all(
            isinstance(t, dict) and isinstance(t.get("task_id"), str) for t in data["tasks"]):
        raise InputError("tasks: expected a list of objects with a task_id", label)
    if "steps" in data and not (isinstance(data["steps"], list)
                                and all(isinstance(s, dict) for s in data["steps"])):
        raise InputError("steps: expected a list of objects", label)
    return Baseline(label=label, data=data)


def load_baseline(path: str | Path) -> Baseline:
    """Read a baseline file. A missing, unreadable or malformed file is an :class:`InputError`
    (exit code 2) naming the file."""
    import orjson

    p = Path(path).expanduser()
    label = str(path)
    if p.is_dir():
        raise InputError("is a folder, not a baseline file", label)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InputError("baseline file not found", label) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", label) from None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({str(exc).split(':')[0]})", label) from None
    return from_dict(data, label)


# ----------------------------------------------------------------------------- price data


@dataclass
class PriceIdentity:
    """What decides a price: the genai-prices data and the ``agentcost.yaml`` overrides."""

    version: str | None
    fingerprint: str | None
    overrides: list[str] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, pricing: dict[str, Any]) -> PriceIdentity:
        return cls(version=pricing.get("version"), fingerprint=pricing.get("data_fingerprint"),
                   overrides=sorted(pricing.get("overrides") or []),
                   aliases=dict(pricing.get("aliases_used") or {}))

    def describe(self) -> str:
        s = f"genai-prices {self.version or '?'} (data {self.fingerprint or '?'})"
        if self.overrides:
            s += f" + agentcost.yaml prices for {', '.join(self.overrides)}"
        return s


def same_price_data(a: PriceIdentity, b: PriceIdentity) -> tuple[bool, str | None]:
    """Whether two reports' costs are comparable without re-pricing, and why not.

    Equal genai-prices data fingerprints are the same data. ``agentcost.yaml`` overrides are
    recorded by model name only, so a report that used any cannot be shown to match: only a
    re-priced baseline (one saved with ``--steps``) is comparable then.
    """
    if not a.fingerprint or not b.fingerprint:
        return False, "the baseline does not record its price data fingerprint"
    if a.fingerprint != b.fingerprint:
        return False, (f"the price data changed: baseline {a.describe()}, now {b.describe()}")
    if a.overrides or b.overrides:
        return False, ("prices come from agentcost.yaml overrides "
                       f"({', '.join(sorted(set(a.overrides) | set(b.overrides)))}), whose values "
                       "the baseline does not record")
    if a.aliases != b.aliases:
        return False, "the agentcost.yaml model aliases differ"
    return True, None


# ----------------------------------------------------------------------------- re-pricing


def reprice(baseline: Baseline, config: Config | None = None) -> AnalyzeReport:
    """Rebuild the baseline's step table from its ``steps`` and analyze it with the current price
    data and ``config`` (the same prices the current run gets)."""
    from agentcost.analysis import AnalyzeOptions, analyze
    from agentcost.ingest.base import IngestReport
    from agentcost.pricing import price_frame
    from agentcost.steps import COLUMNS, StepBuilder, build_frame, check_tokens, to_utc_ns
    from agentcost.table import StepTable

    if not baseline.has_steps:
        raise InputError("has no steps to re-price (save it with analyze --steps)",
                         baseline.label)
    builder = StepBuilder()
    for i, rec in enumerate(baseline.data["steps"]):
        loc = f"{baseline.label}: steps[{i}]"
        row: dict[str, Any] = {k: v for k, v in rec.items()
                               if k in COLUMNS and k not in _COMPUTED and v is not None}
        if row.get("kind") not in ("llm", "tool", "agent") or not isinstance(
                row.get("task_id"), str):
            raise InputError("a step needs a task_id string and a kind of llm, tool or agent",
                             loc)
        for tcol in ("started_at", "ended_at"):
            if tcol in row:
                ns = to_utc_ns(row[tcol])
                if ns is None:
                    raise InputError(f"{tcol} is not a valid time: {row[tcol]!r}", loc)
                row[tcol] = ns
        for fcol in ("duration_ms", "ttft_ms", "reported_cost_usd"):
            v = row.get(fcol)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                raise InputError(f"{fcol} must be a number", loc)
        tc = row.get("tool_calls")
        if tc is not None:
            if not isinstance(tc, list):
                raise InputError("tool_calls must be a list", loc)
            row["tool_calls"] = tuple(str(t) for t in tc)
        reason = check_tokens(row, loc)
        if reason:
            raise InputError(reason, loc)
        builder.add(row)
    frame = build_frame(builder)
    pricing = price_frame(frame, config)
    ing = IngestReport()
    rec_ing = baseline.data.get("ingest")
    if isinstance(rec_ing, dict):
        ing.files = list(rec_ing.get("files") or [])
        ing.lines_read = int(rec_ing.get("lines_read") or 0)
        ing.malformed_count = int(rec_ing.get("malformed_lines") or 0)
        ing.malformed = list(rec_ing.get("malformed_examples") or [])
        ing.notes = list(rec_ing.get("notes") or [])
    ing.steps_kept = len(frame)
    table = StepTable(frame=frame, ingest=ing, pricing=pricing)
    return analyze(table, AnalyzeOptions(), config)


# ----------------------------------------------------------------------------- matching

_VOLATILE = re.compile(
    r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}"  # UUID
    r"|\d{6,}(?:T\d{4,6}(?:\.\d+)?Z?)?"  # run numbers, epoch times, compact timestamps
    r"|\d{4}-\d{2}-\d{2}(?:[T_ ]\d{2}[:\-]?\d{2}(?:[:\-]?\d{2}(?:\.\d+)?)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?)?"  # dates and times
    r"|(?<![0-9a-z])(?=[0-9a-f]*\d)[0-9a-f]{8,}(?![0-9a-z])",  # hex ids with a digit
    re.IGNORECASE,
)
_STAR_RUN = re.compile(r"\*(?:[\W_]*\*)+")
_SUFFIXES = (".gz", ".jsonl", ".ndjson", ".json", ".log", ".traj")


def _stem(source: str | None) -> str | None:
    if not source:
        return None
    name = Path(source).name
    changed = True
    while changed:
        changed = False
        for suf in _SUFFIXES:
            if name.lower().endswith(suf):
                name = name[: -len(suf)]
                changed = True
    return name or None


def task_name(task_id: str, source: str | None = None) -> str | None:
    """A run-independent name for a task (see the module docstring), or ``None``."""
    name = _STAR_RUN.sub("*", _VOLATILE.sub("*", task_id))
    if re.search(r"[A-Za-z0-9]", name.replace("*", "")):
        return name
    stem = _stem(source)
    if stem is None:
        return None
    stem = _STAR_RUN.sub("*", _VOLATILE.sub("*", stem))
    return stem if re.search(r"[A-Za-z0-9]", stem.replace("*", "")) else None


@dataclass
class TaskMatch:
    current: dict[str, Any] | None
    baseline: dict[str, Any] | None
    match: str | None  # "id", "name", or None (new / missing)
    name: str | None

    @property
    def status(self) -> str:
        if self.current is not None and self.baseline is not None:
            return "matched"
        return "new" if self.current is not None else "missing"


def match_tasks(current: list[dict[str, Any]],
                baseline: list[dict[str, Any]]) -> list[TaskMatch]:
    """Pair current and baseline tasks by id, then by unique task name; the rest are new or
    missing. Order: matched (current order), new, missing."""
    base_by_id = {t["task_id"]: t for t in baseline}
    out: list[TaskMatch] = []
    left_cur: list[dict[str, Any]] = []
    used: set[str] = set()
    for t in current:
        b = base_by_id.get(t["task_id"])
        if b is not None:
            used.add(t["task_id"])
            out.append(TaskMatch(t, b, "id", task_name(t["task_id"], t.get("source"))))
        else:
            left_cur.append(t)
    left_base = [t for t in baseline if t["task_id"] not in used]

    def by_name(tasks: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        d: dict[str, list[dict[str, Any]]] = {}
        for t in tasks:
            n = task_name(t["task_id"], t.get("source"))
            if n is not None:
                d.setdefault(n, []).append(t)
        return d

    cur_names, base_names = by_name(left_cur), by_name(left_base)
    paired: set[int] = set()
    for n, ts in cur_names.items():
        bs = base_names.get(n)
        if len(ts) == 1 and bs is not None and len(bs) == 1:
            out.append(TaskMatch(ts[0], bs[0], "name", n))
            paired.add(id(ts[0]))
            paired.add(id(bs[0]))
    for t in left_cur:
        if id(t) not in paired:
            out.append(TaskMatch(t, None, None, task_name(t["task_id"], t.get("source"))))
    for t in left_base:
        if id(t) not in paired:
            out.append(TaskMatch(None, t, None, task_name(t["task_id"], t.get("source"))))
    return out
