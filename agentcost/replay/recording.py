"""The calls of an ``agentcost record`` file that can be replayed, each with its step role.

A call can be replayed when its line carries the request body (``request``: not recorded with
``--no-content``) and its recorded answer, it succeeded (``is_error`` false), and its body does
not lean on server-side state (a Responses ``previous_response_id`` or ``conversation``, which
a replay could not reproduce).

Step roles follow the cascade rule of ``simulate`` (agentcost/simulation/engine.py), per task
in the order the calls started: ``routing`` — the call asked for tool calls (a routing or tool
decision); ``final`` — the task's last call without tool calls (the user-facing answer);
``short`` — any other call whose output was at most 64 tokens (short and classifying); ``other``
— the rest. A cascade sends ``routing`` and ``short`` steps to the cheap model.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentcost.errors import InputError

SHORT_OUTPUT_TOKENS = 64  # as simulate's Settings.short_output_tokens
CHEAP_ROLES = ("routing", "short")
ROLES = ("routing", "short", "final", "other")


@dataclass
class RecordedCall:
    line: int
    task_id: str
    api: str
    model: str | None
    started_at: str
    request: dict[str, Any]
    answer: dict[str, Any]
    stop_reason: str | None
    usage: dict[str, Any] | None
    tokens: dict[str, int]  # canonical: input, read, w5, w1, output (0 if unknown)
    role: str = "other"


@dataclass
class Recording:
    path: str
    calls: list[RecordedCall]  # replayable, in file order
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> lines

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def canonical_tokens(usage: Any, provider: str) -> dict[str, int]:
    from agentcost.ingest.usage import detect_and_normalize

    out = {"input": 0, "read": 0, "w5": 0, "w1": 0, "output": 0}
    if not isinstance(usage, dict):
        return out
    try:
        n = detect_and_normalize(usage, provider)
    except ValueError:
        return out
    for k, col in (
        ("input", "input_tokens"),
        ("read", "cache_read_tokens"),
        ("w5", "cache_write_5m_tokens"),
        ("w1", "cache_write_1h_tokens"),
        ("output", "output_tokens"),
    ):
        v = n.get(col)
        out[k] = int(v) if isinstance(v, int) else 0
    if not out["w5"] and not out["w1"] and isinstance(n.get("cache_write_tokens"), int):
        out["w5"] = int(n["cache_write_tokens"])  # no TTL split: the default 5m
    return out


def _why_not(obj: dict[str, Any]) -> str | None:
    from agentcost.record.wire import APIS

    if obj.get("api") not in APIS:
        return "not a recorded SDK call (no api field)"
    if obj.get("is_error"):
        return "failed calls (errors, retried attempts)"
    req = obj.get("request")
    if not isinstance(req, dict):
        return "no request body (recorded with --no-content)"
    if req.get("previous_response_id") or req.get("conversation"):
        return "server-side conversation state (previous_response_id / conversation)"
    if not isinstance(obj.get("answer"), dict) or "text" not in obj["answer"]:
        return "no recorded answer"
    return None


def load_recording(path: str | Path) -> Recording:
    """The replayable calls of a recording; lines that are not are counted by reason."""
    import orjson

    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", str(path)) from None
    rec = Recording(str(path), [])
    for n, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            rec.skip("invalid JSON")
            continue
        if not isinstance(obj, dict):
            rec.skip("not a JSON object")
            continue
        why = _why_not(obj)
        if why is not None:
            rec.skip(why)
            continue
        api = str(obj["api"])
        provider = "anthropic" if api == "messages" else "openai"
        rec.calls.append(
            RecordedCall(
                line=n,
                task_id=str(obj.get("task_id")),
                api=api,
                model=obj.get("model") if isinstance(obj.get("model"), str) else None,
                started_at=str(obj.get("started_at") or ""),
                request=obj["request"],
                answer=obj["answer"],
                stop_reason=obj.get("stop_reason"),
                usage=obj.get("usage") if isinstance(obj.get("usage"), dict) else None,
                tokens=canonical_tokens(obj.get("usage"), provider),
            )
        )
    assign_roles(rec.calls)
    return rec


def assign_roles(calls: list[RecordedCall]) -> None:
    by_task: dict[str, list[RecordedCall]] = defaultdict(list)
    for c in calls:
        by_task[c.task_id].append(c)
    for group in by_task.values():
        group.sort(key=lambda c: c.started_at)
        for i, c in enumerate(group):
            tools = bool(c.answer.get("tool_calls"))
            if tools:
                c.role = "routing"
            elif i == len(group) - 1:
                c.role = "final"
            elif c.tokens["output"] and c.tokens["output"] <= SHORT_OUTPUT_TOKENS:
                c.role = "short"
            else:
                c.role = "other"
