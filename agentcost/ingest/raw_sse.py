"""Server-Sent Events text → ``(event name, data)`` pairs (also used by other readers)."""

from __future__ import annotations

from typing import Any

import orjson


def parse_sse(text: str) -> list[tuple[str | None, Any]]:
    """Parse Server-Sent Events text into ``(event name, data)`` pairs.

    ``data`` is the JSON value of the event's (joined) ``data:`` lines, or the raw string when it
    is not JSON (e.g. ``[DONE]``). Comment lines (``:``) and ``id:`` / ``retry:`` are ignored.
    """
    events: list[tuple[str | None, Any]] = []
    name: str | None = None
    data: list[str] = []

    def flush() -> None:
        nonlocal name, data
        if data:
            raw = "\n".join(data)
            try:
                val: Any = orjson.loads(raw)
            except orjson.JSONDecodeError:
                val = raw
            events.append((name, val))
        name, data = None, []

    for line in text.splitlines():
        if not line.strip():
            flush()
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "event":
            name = value.strip()
        elif field == "data":
            data.append(value)
    flush()
    return events


def looks_sse(s: str) -> bool:
    """Whether a response string is SSE text (not JSON, not an error page)."""
    head = s.lstrip()[:16]
    return head.startswith(("event:", "data:", ":"))
