"""HAR files (HTTP Archive 1.2: browser devtools, mitmproxy, Charles, Proxyman captures)
holding calls to the Anthropic, OpenAI or AWS Bedrock APIs.

``{"log": {"entries": [{startedDateTime, time, request: {method, url, headers: [{name,
value}], postData: {text}}, response: {status, headers, content: {text, encoding}},
timings: {blocked, dns, connect, ssl, send, wait, receive}}]}}``. Each entry that is a model
call (a POST to a Messages, Chat Completions, Responses or Bedrock Converse / InvokeModel
path) is one llm step; the others (page loads, auth, ``count_tokens``) are counted and left
out. Bodies: ``postData.text`` and ``content.text`` (``encoding: base64`` decoded; gzip undone
where a capture kept it compressed). API, usage, streaming (SSE) and tasks are those of the raw
reader (:func:`agentcost.ingest.raw_provider.read_calls`).

Times: ``startedDateTime`` is the start, ``time`` (ms) the duration. For a streamed response
(``text/event-stream``) the time to first token is taken as the time to the first response
byte: ``blocked + dns + connect + send + wait`` (``ssl`` is inside ``connect``; -1 means
not applicable). A capture that truncated or omitted a response body leaves that call's tokens
unknown (noted by the raw reader).
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from collections.abc import Iterator
from typing import Any

import orjson

from agentcost.ingest.base import IngestContext, Source
from agentcost.ingest.http_bodies import NOT_A_CALL, decode_body, is_model_call
from agentcost.ingest.raw_provider import read_calls

_HEAD = re.compile(rb'^\s*\{\s*"log"\s*:\s*\{')
_TTFB_PHASES = ("blocked", "dns", "connect", "send", "wait")


def _headers(items: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(items, list):
        for h in items:
            if isinstance(h, dict) and isinstance(h.get("name"), str) \
                    and isinstance(h.get("value"), str):
                out.setdefault(h["name"].lower(), h["value"])
    return out


def _content(content: Any, encoding: str | None) -> Any:
    if not isinstance(content, dict):
        return None
    text = content.get("text")
    if isinstance(text, str) and content.get("encoding") == "base64":
        try:
            return decode_body(base64.b64decode(text), encoding)
        except (binascii.Error, ValueError):
            return None
    return decode_body(text, encoding) if isinstance(text, str) else None


def _ttfb(timings: Any) -> float | None:
    if not isinstance(timings, dict):
        return None
    total = 0.0
    for k in _TTFB_PHASES:
        v = timings.get(k)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0:
            total += float(v)
    return total if total > 0 else None


def envelope(entry: dict[str, Any]) -> dict[str, Any] | str:
    """One HAR entry as the raw reader's HTTP envelope, or a malformed reason."""
    req, resp = entry.get("request"), entry.get("response")
    if not isinstance(req, dict) or not isinstance(resp, dict):
        return "entry without a request and a response"
    rh, sh = _headers(req.get("headers")), _headers(resp.get("headers"))
    post = req.get("postData")
    body = decode_body(post.get("text"), rh.get("content-encoding")) if isinstance(
        post, dict) else None
    rbody = _content(resp.get("content"), sh.get("content-encoding"))
    obj: dict[str, Any] = {
        "request": {"url": req.get("url"), "headers": rh, "body": body},
        "response": {"status": resp.get("status") if isinstance(resp.get("status"), int)
                     else None, "headers": sh, "body": rbody},
        "started_at": entry.get("startedDateTime"),
    }
    t = entry.get("time")
    if isinstance(t, (int, float)) and not isinstance(t, bool) and t >= 0:
        obj["duration_ms"] = float(t)
    mime = (resp.get("content") or {}).get("mimeType") if isinstance(resp.get("content"),
                                                                      dict) else None
    if isinstance(mime, str) and "event-stream" in mime:
        ttfb = _ttfb(entry.get("timings"))
        if ttfb is not None:
            obj["ttft_ms"] = ttfb
    return obj


class HarReader:
    name = "har"
    description = "HAR captures (browser devtools, proxies) of Anthropic, OpenAI and Bedrock calls"

    def sniff(self, source: Source) -> int:
        head = source.head.lstrip(b"\xef\xbb\xbf")
        if _HEAD.match(head) and b'"entries"' in head or (
                _HEAD.match(head) and b'"creator"' in head):
            return 95
        return 0

    def read(self, source: Source, ctx: IngestContext) -> Iterator[dict[str, Any]]:
        try:
            doc = orjson.loads(source.read_bytes())
        except orjson.JSONDecodeError as exc:
            ctx.malformed(source, None, f"invalid JSON ({str(exc).split(':')[0]})")
            return
        log = doc.get("log") if isinstance(doc, dict) else None
        entries = log.get("entries") if isinstance(log, dict) else None
        if not isinstance(entries, list):
            ctx.malformed(source, None, "no log.entries list")
            return
        yield from read_calls(self._objects(source, entries, ctx), source, ctx)

    @staticmethod
    def _objects(source: Source, entries: list[Any],
                 ctx: IngestContext) -> Iterator[tuple[int, dict[str, Any]]]:
        for i, entry in enumerate(entries, 1):
            ctx.report.lines_read += 1
            if not isinstance(entry, dict):
                ctx.malformed(source, i, f"entry {i} is not an object")
                continue
            req = entry.get("request")
            req = req if isinstance(req, dict) else {}
            url = req.get("url")
            if not isinstance(url, str) or not is_model_call(url, req.get("method")):
                ctx.dropped(NOT_A_CALL)
                continue
            try:
                obj = envelope(entry)
            except (OSError, EOFError, ValueError, zlib.error) as exc:
                ctx.malformed(source, i, f"entry {i}: body cannot be decoded ({exc})")
                continue
            if isinstance(obj, str):
                ctx.malformed(source, i, f"entry {i}: {obj}")
                continue
            yield i, obj


READER = HarReader()
