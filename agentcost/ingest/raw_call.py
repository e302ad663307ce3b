"""One logged provider call unpacked, and which API it used.

:func:`unpack` pulls the request body, the response (a JSON body, SSE events, or an AWS event
stream), the path, the request headers and the status out of one line in any shape
:mod:`agentcost.ingest.raw_provider` accepts (HTTP envelopes included). :func:`detect_api`
tells the API from the path (``/v1/messages``, ``/chat/completions``, ``/responses``, a
Bedrock ``converse`` path), then the headers (``anthropic-version``), then the response shape,
then the request shape.
"""

from __future__ import annotations

from typing import Any

import orjson

from agentcost.ingest import bedrock
from agentcost.ingest.raw_sse import looks_sse, parse_sse
from agentcost.ingest.segments import is_request_body

ANTHROPIC = "messages"
CHAT = "chat.completions"
RESPONSES = "responses"
CONVERSE = bedrock.CONVERSE  # AWS Bedrock Converse / ConverseStream

REQ_KEYS = ("request", "request_body")
RESP_KEYS = ("response", "response_body", "response_sse")


# -- small helpers ----------------------------------------------------------------------------


def as_dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def as_text(v: Any) -> str | None:
    """A non-empty string as is, an integer as text, else ``None``."""
    if isinstance(v, str) and v:
        return v
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return None


def json_or_text(v: Any) -> Any:
    """A body given as a string: parsed JSON, or the string itself (SSE text). Bytes that are
    not UTF-8 (a Bedrock event stream) stay bytes."""
    if isinstance(v, (bytes, bytearray)):
        try:
            v = bytes(v).decode("utf-8")
        except UnicodeDecodeError:
            return bytes(v)
    if isinstance(v, str) and v.lstrip().startswith(("{", "[")):
        try:
            return orjson.loads(v)
        except orjson.JSONDecodeError:
            return v
    return v


def _lower_keys(h: Any) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in h.items()} if isinstance(h, dict) else {}


# -- one call ---------------------------------------------------------------------------------


class Call:
    """Everything the reader extracts from one line."""

    def __init__(self) -> None:
        self.api: str | None = None
        self.request: dict[str, Any] = {}
        self.path: str = ""
        self.req_headers: dict[str, Any] = {}
        self.status: int | None = None
        self.body: Any = None  # parsed response JSON (dict) or None
        self.sse: list[tuple[str | None, Any]] | None = None
        self.events: list[tuple[str | None, Any]] | None = None  # AWS event stream


def unpack(obj: dict[str, Any]) -> Call | str:
    """Pull request, response, path and headers out of a line; a str is a malformed reason."""
    c = Call()
    req: Any = None
    for k in REQ_KEYS:
        if k in obj:
            req = json_or_text(obj[k])
            break
    if not isinstance(req, dict):
        return "no request body ('request' or 'request_body' object)"
    c.path = as_text(obj.get("path")) or as_text(obj.get("url")) or as_text(obj.get("endpoint")) or ""
    c.req_headers = _lower_keys(obj.get("request_headers"))
    if not is_request_body(req) and ("body" in req or "url" in req or "headers" in req):
        c.path = c.path or as_text(req.get("url")) or as_text(req.get("path")) or ""
        c.req_headers = c.req_headers or _lower_keys(req.get("headers"))
        req = json_or_text(req.get("body"))
        if not isinstance(req, dict):
            return "request envelope without a JSON body"
    c.request = req
    status = obj.get("status", obj.get("status_code"))
    resp: Any = None
    for k in RESP_KEYS:
        if obj.get(k) is not None:
            resp = json_or_text(obj[k])
            break
    if isinstance(resp, dict) and "body" in resp and not any(
            k in resp for k in ("usage", "content", "choices", "output", "type", "object")):
        status = resp.get("status", resp.get("status_code", status))
        resp = json_or_text(resp.get("body"))
    if isinstance(status, int) and not isinstance(status, bool):
        c.status = status
    reason = _set_response(c, resp)
    return reason if reason else c


def _set_response(c: Call, resp: Any) -> str | None:
    """Put the response body on ``c``: parsed JSON, SSE events, or an AWS event stream."""
    if isinstance(resp, str):
        if c.status is not None and c.status >= 400 and not looks_sse(resp):
            c.body = {}  # an error page: the call failed (status), no usage
        elif not looks_sse(resp):
            return "response is neither JSON nor SSE text"
        else:
            c.sse = parse_sse(resp)
    elif isinstance(resp, list) and all(isinstance(e, dict) for e in resp):
        # a stream given as a list of already-parsed events / chunks
        c.sse = [(as_text(e.get("type")), e) for e in resp]
    elif isinstance(resp, dict):
        c.body = resp
    elif isinstance(resp, bytes):
        return _event_stream(resp, c)
    elif resp is not None:
        return f"response must be an object or SSE text, got {type(resp).__name__}"
    return None


def _event_stream(data: bytes, c: Call) -> str | None:
    """A binary response body: an AWS event stream (ConverseStream, or InvokeModel's
    ``chunk`` events wrapping the provider's own stream events); else a malformed reason."""
    import base64
    import binascii

    events = bedrock.event_stream(data)
    if events is None:
        return "response body is binary and not an AWS event stream"
    if any(t == "chunk" for t, _ in events):
        sse: list[tuple[str | None, Any]] = []
        for t, v in events:
            raw = v.get("bytes") if t == "chunk" and isinstance(v, dict) else None
            try:
                inner = orjson.loads(base64.b64decode(raw)) if isinstance(raw, str) else None
            except (binascii.Error, ValueError):
                inner = None
            if isinstance(inner, dict):
                sse.append((as_text(inner.get("type")), inner))
        c.sse = sse
    else:
        c.events = events
    return None


def detect_api(c: Call, hint: str | None) -> str | None:
    """The call's API: from the path, the headers, the response, the request (in that order),
    or ``None``. ``hint`` is the line's own ``provider``."""
    return (_api_from_path(c) or _api_from_body(c.body) or _api_from_stream(c.sse)
            or _api_from_request(c.request, hint))


def _api_from_path(c: Call) -> str | None:
    p = c.path.lower().split("?", 1)[0]
    op = bedrock.model_from_path(p)
    if c.events is not None or bedrock.is_converse_body(c.body) or (
            op is not None and op[1].startswith("converse")):
        return CONVERSE
    if p.endswith("/messages") or "/v1/messages" in p:
        return ANTHROPIC
    if "chat/completions" in p:
        return CHAT
    if p.rstrip("/").endswith("/responses") or "/v1/responses" in p:
        return RESPONSES
    if "anthropic-version" in c.req_headers:
        return ANTHROPIC
    return None


def _api_from_body(b: Any) -> str | None:
    if not isinstance(b, dict):
        return None
    if b.get("type") == "message" or ("stop_reason" in b and "content" in b):
        return ANTHROPIC
    if b.get("type") == "error" and isinstance(b.get("error"), dict):
        return ANTHROPIC
    obj = b.get("object")
    if obj in ("chat.completion", "chat.completion.chunk") or "choices" in b:
        return CHAT
    if obj == "response" or isinstance(b.get("output"), list):
        return RESPONSES
    return None


def _api_from_stream(sse: list[tuple[str | None, Any]] | None) -> str | None:
    for _name, data in sse or []:
        if not isinstance(data, dict):
            continue
        t = data.get("type")
        if isinstance(t, str):
            if t.startswith(("message_", "content_block_")):
                return ANTHROPIC
            if t.startswith("response."):
                return RESPONSES
        if data.get("object") == "chat.completion.chunk" or "choices" in data:
            return CHAT
    return None


def _api_from_request(r: dict[str, Any], hint: str | None) -> str | None:
    if "input" in r or "instructions" in r or "previous_response_id" in r:
        return RESPONSES
    model = as_text(r.get("model")) or ""
    prov = (hint or "").lower()
    if "anthropic" in prov or "claude" in prov or model.startswith("claude") or "system" in r \
            or "anthropic_version" in r:
        return ANTHROPIC
    if "messages" in r:
        return CHAT
    return None
