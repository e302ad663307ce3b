"""Prompt ``segments`` for Codex calls, rebuilt from the rollout's logged items.

Opt-in (``IngestContext.conversations``, ``analyze --anatomy``). A Codex rollout logs every
Responses API item the CLI sends or receives (``response_item`` lines) and one ``token_count``
event per model call, after that call's output items. A call's prompt is taken to be the
items logged before its first output item: the session's ``base_instructions`` (a ``system``
segment), developer messages (``system``), user messages (``user``), each tool output
(``tool``, naming its tool from the call that requested it and its call id) and each earlier
response's output items — reasoning, messages, tool calls — merged into one ``assistant``
segment per response. A ``compacted`` line starts the conversation afresh with its summary.
The tool definitions are not logged: they are the unlogged prefix of
:func:`agentcost.ingest.conversation.calibrate`, which sizes the segments from byte lengths
calibrated to each call's reported input tokens and states the error.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import orjson

from agentcost.ingest import conversation
from agentcost.ingest.conversation import Seg

if TYPE_CHECKING:
    from agentcost.ingest.base import IngestContext

UNLOGGED_NAME = "not logged: tool definitions"
TOOL_CALLS = {"function_call", "custom_tool_call", "local_shell_call"}
TOOL_OUTPUTS = {"function_call_output", "custom_tool_call_output", "local_shell_call_output"}
OUTPUTS = {"reasoning", "web_search_call", *TOOL_CALLS}


def _h(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()[:16]


class CodexConversation:
    """The items logged so far in one rollout."""

    def __init__(self) -> None:
        self.segs: list[Seg] = []
        self.names: dict[str, str] = {}  # call id -> tool name
        self.mark: int | None = None  # index of the current response's output segment

    def reset(self, summary: Any = None) -> None:
        self.segs, self.mark = [], None
        if isinstance(summary, str) and summary:
            data = summary.encode()
            self.segs.append(("user", len(data), _h(data), None, None))

    def instructions(self, text: Any) -> None:
        if isinstance(text, str) and text:
            data = text.encode()
            self.segs.append(("system", len(data), _h(data), None, None))

    def item(self, p: dict[str, Any]) -> None:
        t, role = p.get("type"), p.get("role")
        data = orjson.dumps(p)
        if (t == "message" and role == "assistant") or t in OUTPUTS:
            cid, name = p.get("call_id") or p.get("id"), p.get("name")
            if t in TOOL_CALLS and isinstance(cid, str) and isinstance(name, str):
                self.names[cid] = name
            self._output(data)
            return
        if t == "message" and role in ("user", "developer", "system"):
            seg: Seg = ("user" if role == "user" else "system", len(data), _h(data), None, None)
        elif t in TOOL_OUTPUTS:
            cid = p.get("call_id") if isinstance(p.get("call_id"), str) else None
            seg = ("tool", len(data), _h(data), self.names.get(cid or ""), cid)
        else:
            return
        self.mark = None
        self.segs.append(seg)

    def _output(self, data: bytes) -> None:
        if self.mark is None:
            self.mark = len(self.segs)
            self.segs.append(("assistant", len(data), _h(data), None, None))
            return
        r = self.segs[self.mark]
        self.segs[self.mark] = (r[0], r[1] + len(data), _h(r[2].encode() + data), None, None)

    def prompt(self) -> list[Seg]:
        """The segments before the current response's output (the call just counted)."""
        n = self.mark if self.mark is not None else len(self.segs)
        self.mark = None
        return self.segs[:n]


def attach(rows: list[dict[str, Any]], ctx: IngestContext) -> None:
    """Calibrated ``segments`` on every llm row that carries a logged prompt (``_prompt``)."""
    calls = []
    for i, row in enumerate(rows):
        segs = row.pop("_prompt", None)
        if row.get("kind") == "llm" and segs is not None:
            calls.append((str(row.get("task_id")), str(i), int(row.get("input_tokens") or 0), segs))
    done = conversation.calibrate(calls, ctx, "codex", UNLOGGED_NAME)
    for key, segs in done.items():
        rows[int(key)]["segments"] = segs
