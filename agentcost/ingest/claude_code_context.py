"""Prompt ``segments`` for Claude Code calls, rebuilt from the logged conversation.

Opt-in (``IngestContext.conversations``, ``analyze --anatomy``): the fast reader in
:mod:`agentcost.ingest.claude_code` never decodes message content; this pass decodes every
line of the files whose calls won, once more, and costs about as much as a plain JSON load.

What a call's prompt is taken to be
    The messages logged before the call's first response line in its conversation (the main
    chain, or one subagent's sidechain), in file order: each user text as a ``user`` segment,
    each ``tool_result`` block as a ``tool`` segment naming its tool (from the ``tool_use``
    block that requested it) and its call id, each response (all lines sharing its
    ``message.id``) as one ``assistant`` segment. A ``compact_boundary`` system line or a
    compaction summary starts the conversation afresh. Claude Code does not log its system
    prompt or its tool definitions: they are one ``system`` segment, "not logged".

Sizes (calibrated, with the error stated)
    A segment's size is its content's byte length (thinking blocks by their text, signatures
    left out). Per task a least-squares fit of each call's reported input tokens against the
    bytes logged before it, ``input = F + r * bytes``, gives the unlogged prefix ``F`` (system
    prompt + tool definitions) and the tokens per byte ``r``; with fewer than three calls, or a
    fit that is not positive, ``r`` is 1/4 and ``F`` the median remainder. The fit's error on
    each call (before the sizes are scaled to add up to the reported input exactly) is stated
    in the ingest notes: mean and p95 of |fit − reported| / reported.
"""

from __future__ import annotations

import hashlib
from typing import IO, TYPE_CHECKING, Any

import orjson

from agentcost.ingest import conversation
from agentcost.ingest.conversation import Seg

if TYPE_CHECKING:
    from agentcost.ingest.base import IngestContext

UNLOGGED_NAME = "not logged: system prompt + tool definitions"


def _h(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()[:16]


def _block_bytes(block: Any) -> int:
    if isinstance(block, dict):
        t = block.get("type")
        if t == "thinking":
            return len(str(block.get("thinking") or "").encode())
        if t == "redacted_thinking":
            return len(str(block.get("data") or "").encode())
    return len(orjson.dumps(block))


class _Conversation:
    """The segments logged so far in one conversation of one file."""

    def __init__(self) -> None:
        self.segs: list[Seg] = []
        self.open: dict[str, int] = {}  # response message id -> index of its segment
        self.names: dict[str, str] = {}  # tool_use id -> tool name

    def reset(self) -> None:
        self.segs = []
        self.open = {}

    def assistant(self, mid: str, content: Any) -> None:
        size = sum(_block_bytes(b) for b in content) if isinstance(content, list) else 0
        for b in content if isinstance(content, list) else ():
            if (
                isinstance(b, dict)
                and b.get("type") == "tool_use"
                and isinstance(b.get("id"), str)
                and isinstance(b.get("name"), str)
            ):
                self.names[b["id"]] = b["name"]
        i = self.open.get(mid)
        if i is None:
            self.open[mid] = len(self.segs)
            self.segs.append(("assistant", size, "cc-msg:" + mid, None, None))
        else:
            r = self.segs[i]
            self.segs[i] = (r[0], r[1] + size, r[2], None, None)

    def user(self, content: Any) -> None:
        if isinstance(content, str):
            if content:
                data = content.encode()
                self.segs.append(("user", len(data), _h(data), None, None))
            return
        if not isinstance(content, list):
            return
        run: list[Any] = []
        for b in content:
            if isinstance(b, dict) and b.get("type") == "tool_result":
                self._text_run(run)
                run = []
                data = orjson.dumps(b)
                cid = b.get("tool_use_id") if isinstance(b.get("tool_use_id"), str) else None
                self.segs.append(("tool", len(data), _h(data), self.names.get(cid or ""), cid))
            else:
                run.append(b)
        self._text_run(run)

    def _text_run(self, run: list[Any]) -> None:
        if run:
            data = orjson.dumps(run)
            self.segs.append(("user", len(data), _h(data), None, None))


def _progress(
    obj: dict[str, Any],
    n: int,
    name: str,
    convs: dict[str, _Conversation],
    wanted: set[str],
    out: dict[str, list[Seg]],
) -> None:
    """An ``agent_progress`` line mirrors one line of a running subagent: it goes to that
    subagent's conversation (the calls known only from such mirrors get segments too)."""
    data = obj.get("data")
    if type(data) is not dict or data.get("type") != "agent_progress":
        return
    nested = data.get("message")
    if type(nested) is not dict:
        return
    aid = data.get("agentId")
    conv_id = f"mirror-agent-{aid}" if isinstance(aid, str) and aid else "mirror-sidechain"
    _line(nested, n, name, convs, wanted, out, conv_id)


def call_key(message_id: Any, request_id: Any, uuid: Any, name: str, n: int) -> str:
    """The key that identifies one API response across its lines and files: the message id,
    else the request id, else the line's uuid, else ``name:n`` (the fast pass and this
    rebuild both use it, so their calls match)."""
    if type(message_id) is str and message_id:
        return message_id
    if type(request_id) is str and request_id:
        return request_id
    return f"uuid:{uuid}" if type(uuid) is str and uuid else f"{name}:{n}"


def _conv_id(obj: dict[str, Any]) -> str:
    if not obj.get("isSidechain"):
        return ""
    aid = obj.get("agentId")
    return f"agent-{aid}" if isinstance(aid, str) and aid else "sidechain"


def prompts_of_file(fh: IO[bytes], name: str, wanted: set[str]) -> dict[str, list[Seg]]:
    """For each wanted call key: the segments logged before the call in its conversation
    (``fh``: the file's lines, as the fast pass read them; ``name``: the source name)."""
    convs: dict[str, _Conversation] = {}
    out: dict[str, list[Seg]] = {}
    for n, raw in enumerate(fh, 1):
        if not raw.strip():
            continue
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue  # the fast pass reported it
        if type(obj) is dict:
            _line(obj, n, name, convs, wanted, out)
    return out


def _line(
    obj: dict[str, Any],
    n: int,
    name: str,
    convs: dict[str, _Conversation],
    wanted: set[str],
    out: dict[str, list[Seg]],
    conv_id: str | None = None,
) -> None:
    t = obj.get("type")
    if t == "progress" and conv_id is None:
        _progress(obj, n, name, convs, wanted, out)
        return
    conv = convs.setdefault(conv_id if conv_id is not None else _conv_id(obj), _Conversation())
    if t == "system" and obj.get("subtype") == "compact_boundary":
        conv.reset()
        return
    msg = obj.get("message")
    if t not in ("user", "assistant") or type(msg) is not dict:
        return
    if t == "user":
        if obj.get("isCompactSummary"):
            conv.reset()
        conv.user(msg.get("content"))
        return
    if msg.get("model") == "<synthetic>" or obj.get("isApiErrorMessage"):
        return
    key = call_key(msg.get("id"), obj.get("requestId"), obj.get("uuid"), name, n)
    if key in wanted and key not in out:
        out[key] = list(conv.segs)  # the tuples are shared: a snapshot costs one list
    conv.assistant(key, msg.get("content"))


def calibrate(
    calls: list[tuple[str, str, int, list[Seg]]], ctx: IngestContext
) -> dict[str, list[dict[str, Any]]]:
    """The calibrated segments of Claude Code calls (:func:`conversation.calibrate`)."""
    return conversation.calibrate(calls, ctx, "claude-code", UNLOGGED_NAME)
