"""The finding shape (DESIGN.md §5) and the metadata of every rule and miss cause.

A finding is ``{rule, severity, message, line, column, excerpt, fix}`` plus ``file`` (the input it
is about), ``end_line``/``end_column`` where the span is known, ``edits`` (machine-applicable
replacements, used by ``--fix`` and by SARIF ``fixes``) and, for trace findings, ``task_id``,
``step`` and ``miss`` (the position, tokens and dollars of one cache miss).

Severities are ``info`` < ``warning`` < ``error``; ``--fail-on`` compares against this order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("info", "warning", "error")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class RuleInfo:
    id: str
    name: str  # PascalCase, for SARIF reportingDescriptor.name
    short: str
    full: str
    help: str
    default_level: str  # SARIF level: note | warning | error
    kind: str  # "static" (prompt rules) or "cause" (trace-level miss causes only)


RULES: dict[str, RuleInfo] = {r.id: r for r in (
    RuleInfo(
        "timestamp", "Timestamp",
        "A date or time in the cacheable prefix",
        "Dates and times (ISO 8601, RFC 2822, 'Today is ...', epoch seconds/millis, time of day) "
        "and template expressions that render the clock change the prompt prefix every day (day "
        "precision) or every request (time precision): every call misses the cache from there on.",
        "Move the date into the last user message (after every cache breakpoint), or round it "
        "to the precision the model needs and render it after the stable text.",
        "error", "static"),
    RuleInfo(
        "volatile-id", "VolatileId",
        "A per-request identifier in the cacheable prefix",
        "UUIDs, request/trace/session ids, random hex or base64 tokens and nonces differ on "
        "every request, so the prefix that contains them is never reused.",
        "Keep ids out of the prompt (send them as request metadata or headers); if the model "
        "needs one, put it in the last user message.",
        "error", "static"),
    RuleInfo(
        "user-content", "UserContent",
        "Per-user content in the shared prefix",
        "Per-user interpolations (names, e-mail addresses, phone numbers, account ids) in the "
        "system prompt or tool definitions give every user their own cache entry: the shared "
        "prefix is only reused by that user's own calls.",
        "Move per-user details to a block after the shared stable prefix (a user message or a "
        "second system block after the cache breakpoint).",
        "warning", "static"),
    RuleInfo(
        "whitespace-drift", "WhitespaceDrift",
        "Invisible whitespace that makes prefixes differ",
        "Trailing spaces, mixed line endings, tabs mixed with spaces, runs of blank lines, a "
        "missing or doubled final newline, non-breaking or zero-width spaces and a byte-order "
        "mark are invisible, and each is a different prefix when one code path normalises the "
        "text and another does not.",
        "Run `agentcost audit-prompt --fix FILE` to write the canonical form (LF line ends, no "
        "trailing spaces, spaces for indentation, at most one blank line in a row, exactly one "
        "final newline, plain spaces, no BOM).",
        "warning", "static"),
    RuleInfo(
        "short-prefix", "ShortPrefix",
        "The stable prefix is below the model's minimum cacheable length",
        "A prefix shorter than the target model's minimum cacheable length is processed "
        "uncached without an error: the cache_control marker is silently ignored.",
        "Grow the stable prefix past the minimum (move stable instructions or examples before "
        "the breakpoint) or drop the marker.",
        "warning", "static"),
    RuleInfo(
        "unpinned-model", "UnpinnedModel",
        "A floating model alias",
        "A `-latest` alias or an undated alias for which a dated snapshot exists moves to a new "
        "snapshot without notice; caches are per model, so the rotation empties the cache.",
        "Pin the dated snapshot id.",
        "warning", "static"),
    RuleInfo(
        "unstable-order", "UnstableOrder",
        "Tool definitions or JSON objects in a non-canonical order",
        "Objects emitted by code with unsorted or inconsistent key order, or tools listed in a "
        "set's order, serialise differently across processes and deploys: the prefix churns "
        "although nothing changed.",
        "Serialise with sorted keys (json.dumps(..., sort_keys=True)) and keep tools in a list "
        "with a fixed order.",
        "warning", "static"),
    RuleInfo(
        "volatile-before-stable", "VolatileBeforeStable",
        "Volatile content placed before stable content",
        "Volatile content (a date, an id, per-user data) before stable text, or inside a cache "
        "breakpoint's stable region, makes everything after it miss the cache on every call.",
        "Move the volatile part after the stable text (to the end of the prompt, or into the "
        "first user message) so the stable prefix can be cached.",
        "error", "static"),
    # ---- causes that only the trace audit reports
    RuleInfo(
        "model-change", "ModelChange", "The model changed between calls",
        "Caches are per model: a call on another model than the one that wrote the prefix "
        "reads nothing.",
        "Keep one model per conversation, or accept the re-write when switching.",
        "warning", "cause"),
    RuleInfo(
        "tools-change", "ToolsChange", "The tool definitions changed between calls",
        "Tools come first in the prefix: adding, removing or editing a tool invalidates the "
        "tools, system and message caches.",
        "Keep the tool list fixed for a conversation (declare every tool up front).",
        "warning", "cause"),
    RuleInfo(
        "system-edit", "SystemEdit", "The system prompt changed between calls",
        "A changed system prompt invalidates the system and message caches.",
        "Keep the system prompt byte-identical across calls; put changing parts in messages.",
        "warning", "cause"),
    RuleInfo(
        "history-edit", "HistoryEdit", "An earlier message changed between calls",
        "Conversation history that is rewritten (trimmed, compacted, re-rendered) invalidates "
        "the message cache from the first changed message on.",
        "Append to the history instead of rewriting it; compact rarely and at a breakpoint.",
        "warning", "cause"),
    RuleInfo(
        "ttl-expired", "TtlExpired", "The cache entry expired before the call",
        "The gap since the last request that wrote or read the prefix was longer than the "
        "cache lifetime (measured from that request's start).",
        "Use the 1-hour TTL for slow loops, or keep the entry warm.",
        "warning", "cause"),
    RuleInfo(
        "below-minimum", "BelowMinimum", "The prefix was below the minimum cacheable length",
        "The provider writes no cache entry for a prefix shorter than the model's minimum.",
        "Grow the stable prefix past the minimum, or do not pay for cache markers there.",
        "warning", "cause"),
    RuleInfo(
        "breakpoint-moved", "BreakpointMoved", "The breakpoint moved beyond the lookback window",
        "Anthropic looks back at most 20 blocks from each breakpoint for an earlier entry; a "
        "breakpoint that moved further than that finds nothing.",
        "Add an intermediate breakpoint so that consecutive breakpoints are < 20 blocks apart.",
        "warning", "cause"),
    RuleInfo(
        "concurrent", "Concurrent", "Sent before the writer's response began",
        "A cache entry becomes available only once the response of the request that writes it "
        "has begun; parallel requests with the same prefix all write.",
        "Send one request first and the parallel ones after its response begins.",
        "warning", "cause"),
    RuleInfo(
        "compaction", "Compaction", "The history was compacted and the cached prefix lost",
        "The prompt got shorter than the previous call's (history compacted, summarised or "
        "trimmed) and not even the part cached before the history was read back.",
        "Compact rarely, keep the tools and system prompt byte-identical across the "
        "compaction, and keep a breakpoint at the end of the system prompt.",
        "warning", "cause"),
    RuleInfo(
        "prefix-rebuilt", "PrefixRebuilt", "The cached prefix was rebuilt",
        "A call of the same model, within the cache lifetime, read less than an earlier call "
        "of its task had cached: the prompt changed inside that prefix (an edited system "
        "prompt, tools or earlier message) or the entry was evicted. Judged from usage alone "
        "(the trace has no prompt content), so which block changed is unknown.",
        "Record request bodies or segments (agentcost JSONL, raw request logs) to see which "
        "block changed; keep tools, system prompt and history byte-identical between calls.",
        "warning", "cause"),
    RuleInfo(
        "unexplained", "Unexplained", "A miss the trace does not explain",
        "The prefix was identical, within the lifetime, above the minimum and reachable, yet "
        "the provider served less from the cache (eviction, routing to another machine, a "
        "different workspace).",
        "Check the provider's cache diagnostics; OpenAI: set a stable prompt_cache_key.",
        "note", "cause"),
)}

STATIC_RULES = tuple(r for r, info in RULES.items() if info.kind == "static")
CAUSES = tuple(r for r, info in RULES.items() if info.kind == "cause")


@dataclass
class Edit:
    """Replace ``text[start:end]`` (0-based offsets into the file's text) with ``new``; ``line``/
    ``column`` and ``end_line``/``end_column`` give the same span 1-based for SARIF."""

    start: int
    end: int
    new: str
    line: int
    column: int
    end_line: int
    end_column: int

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "new": self.new, "line": self.line,
                "column": self.column, "end_line": self.end_line, "end_column": self.end_column}


@dataclass
class Finding:
    rule: str
    severity: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None
    excerpt: str | None = None
    fix: str | None = None
    edits: list[Edit] = field(default_factory=list)
    task_id: str | None = None
    step: int | None = None
    miss: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        assert self.rule in RULES, self.rule
        assert self.severity in SEVERITY_RANK, self.severity

    def at_least(self, severity: str) -> bool:
        return SEVERITY_RANK[self.severity] >= SEVERITY_RANK[severity]

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "rule": self.rule, "severity": self.severity, "message": self.message,
            "file": self.file, "line": self.line, "column": self.column,
            "end_line": self.end_line, "end_column": self.end_column,
            "excerpt": self.excerpt, "fix": self.fix,
        }
        if self.edits:
            d["edits"] = [e.to_dict() for e in self.edits]
        if self.task_id is not None:
            d["task_id"] = self.task_id
            d["step"] = self.step
        if self.miss is not None:
            d["miss"] = self.miss
        return d


def sort_key(f: Finding) -> tuple[Any, ...]:
    return (f.file or "", f.line or 0, f.column or 0, -SEVERITY_RANK[f.severity], f.rule)
