"""Recorded HTTP cassettes: VCR.py / pytest-recording (YAML, and VCR.py's JSON serializer).

A cassette is ``{"interactions": [{"request": {method, uri, body, headers}, "response":
{status: {code, message}, headers, body: {string}}}], "version": 1}``, as the test suites of
many Python LLM projects commit them. One interaction is one call; interactions that are not
model calls (auth, file uploads, ``count_tokens``, embeddings) are counted and left out.

Bodies as VCR stores them:

* ``body: {string: ...}`` (response) or ``body: ...`` (request): a JSON string, SSE text, or
  bytes — YAML ``!!binary`` (base64), which is what VCR.py writes for gzip-compressed or other
  non-UTF-8 bodies; gzip (``Content-Encoding: gzip`` or the gzip magic) and deflate are
  decompressed; a base64 string that decodes to gzip is accepted too (JSON cassettes);
* ``parsed_body`` (request or response): the body already parsed, as pydantic-ai's cassette
  serializer writes it;
* Bedrock ConverseStream's binary event stream (see :mod:`agentcost.ingest.bedrock`).

The API, usage and task grouping are those of the raw reader
(:func:`agentcost.ingest.raw_provider.read_calls`): Anthropic Messages, OpenAI Chat
Completions and Responses, AWS Bedrock Converse (model id from the request URI). Times:
VCR.py records none; the response's ``Date`` header (1 s resolution) is taken as the end of
the call (a ``recorded_at`` field, as Ruby VCR and others write, wins), and the start is the
end minus the latency the response states (``openai-processing-ms``, Bedrock
``metrics.latencyMs``) when it states one. Folder walks read ``.yaml``/``.yml`` files only when
they start like a cassette (:func:`looks_like_cassette`).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import Any

import orjson

from agentcost.ingest.base import IngestContext, Source
from agentcost.ingest.http_bodies import NOT_A_CALL, decode_body, is_model_call
from agentcost.ingest.raw_provider import read_calls

_YAML_HEAD = re.compile(rb"^(?:\s*#[^\n]*\n|\s*---[^\n]*\n|\s*version:[^\n]*\n)*\s*interactions:\s*"
                        rb"(?:\n\s*-\s*request:|\[)")
_JSON_HEAD = re.compile(rb'^\s*\{\s*"(?:interactions|version)"\s*:')
_YAML_ITEM = re.compile(rb"^[ ]{0,4}-[ ]+request:", re.M)


def looks_like_cassette(head: bytes) -> bool:
    """Whether the first bytes of a file are a VCR cassette (cheap: one regex on the head)."""
    head = head.lstrip(b"\xef\xbb\xbf")
    if _YAML_HEAD.match(head):
        return True
    return bool(_JSON_HEAD.match(head)) and b'"interactions"' in head and b'"request"' in head


def _load(source: Source) -> Any:
    data = source.read_bytes()
    if data.lstrip()[:1] == b"{":
        return orjson.loads(data)
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(data, Loader=loader)  # noqa: S506 - a safe loader
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _header(headers: Any, name: str) -> str | None:
    """One header's value (case-insensitive; VCR stores each as a list of strings or bytes)."""
    if not isinstance(headers, dict):
        return None
    for k, v in headers.items():
        if str(k).lower() == name:
            v = v[0] if isinstance(v, list) and v else v
            if isinstance(v, bytes):
                v = v.decode("utf-8", "replace")
            return v if isinstance(v, str) else None
    return None


def _flat_headers(headers: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(headers, dict):
        for k in headers:
            v = _header(headers, str(k).lower())
            if v is not None:
                out[str(k).lower()] = v
    return out


def _time_ns(resp: dict[str, Any], interaction: dict[str, Any]) -> int | None:
    from agentcost.steps import to_utc_ns

    rec = interaction.get("recorded_at") or resp.get("recorded_at")
    if rec is not None:
        ns = to_utc_ns(rec)
        if ns is not None:
            return ns
    date = _header(resp.get("headers"), "date")
    if date:
        try:
            return int(parsedate_to_datetime(date).timestamp()) * 1_000_000_000
        except (TypeError, ValueError, OverflowError):
            return None
    return None


def envelope(interaction: Any) -> dict[str, Any] | str:
    """One cassette interaction as the raw reader's HTTP envelope, or a malformed reason."""
    if not isinstance(interaction, dict):
        return "interaction is not a mapping"
    req, resp = interaction.get("request"), interaction.get("response")
    if not isinstance(req, dict) or not isinstance(resp, dict):
        return "interaction without a request and a response"
    uri = req.get("uri") or req.get("url")
    if not isinstance(uri, str):
        return "request without a uri"
    rbody = req["parsed_body"] if "parsed_body" in req else req.get("body")
    rbody = decode_body(rbody, _header(req.get("headers"), "content-encoding"))
    if "parsed_body" in resp:
        body = resp["parsed_body"]
    else:
        body = decode_body(resp.get("body"), _header(resp.get("headers"), "content-encoding"))
    status = resp.get("status")
    code = status.get("code") if isinstance(status, dict) else status
    obj: dict[str, Any] = {
        "request": {"url": uri, "headers": _flat_headers(req.get("headers")), "body": rbody},
        "response": {"status": code if isinstance(code, int) else None,
                     "headers": _flat_headers(resp.get("headers")), "body": body},
    }
    end = _time_ns(resp, interaction)
    ms = _header(resp.get("headers"), "openai-processing-ms")
    latency = float(ms) if ms and ms.strip().isdigit() else None
    if latency is None and isinstance(body, dict) and isinstance(body.get("metrics"), dict):
        lat = body["metrics"].get("latencyMs")
        latency = float(lat) if isinstance(lat, (int, float)) and lat >= 0 else None
    if end is not None and latency is not None:
        obj["ended_at"] = end
        obj["started_at"] = end - round(latency * 1_000_000)
    elif end is not None:
        obj["started_at"] = end  # the response time: the call's start within its latency
    if latency is not None:
        obj["duration_ms"] = latency
    return obj


class CassetteReader:
    name = "cassette"
    description = ("recorded HTTP cassettes (VCR.py / pytest-recording YAML or JSON) of "
                   "Anthropic, OpenAI and Bedrock Converse calls")

    def sniff(self, source: Source) -> int:
        return 95 if looks_like_cassette(source.head) else 0

    def read(self, source: Source, ctx: IngestContext) -> Iterator[dict[str, Any]]:
        import yaml

        try:
            doc = _load(source)
        except (ValueError, orjson.JSONDecodeError) as exc:
            ctx.malformed(source, None, f"not a readable cassette ({str(exc)[:80]})")
            return
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            ctx.malformed(source, line, f"invalid YAML ({getattr(exc, 'problem', None) or exc})")
            return
        items = doc.get("interactions") if isinstance(doc, dict) else None
        if not isinstance(items, list):
            ctx.malformed(source, None, "no interactions list")
            return
        untimed = 0
        for row in read_calls(self._objects(source, items, ctx), source, ctx):
            untimed += row.get("started_at") is None
            yield row
        if untimed:
            ctx.warn(f"cassette: {untimed} call(s) of {source.name} carry no time (no Date "
                     "header or recorded_at): priced at today's prices")

    def _objects(self, source: Source, items: list[Any],
                 ctx: IngestContext) -> Iterator[tuple[int, dict[str, Any]]]:
        lines = self._lines(source, len(items))
        for i, item in enumerate(items):
            n = lines[i] if i < len(lines) else i + 1
            ctx.report.lines_read += 1
            req = item.get("request") if isinstance(item, dict) else None
            req = req if isinstance(req, dict) else {}
            uri = req.get("uri")
            if isinstance(uri, str) and not is_model_call(uri, req.get("method")):
                ctx.dropped(NOT_A_CALL)
                continue
            try:
                obj = envelope(item)
            except (OSError, EOFError, zlib.error, ValueError) as exc:
                ctx.malformed(source, n, f"interaction {i + 1}: body cannot be decoded ({exc})")
                continue
            if isinstance(obj, str):
                ctx.malformed(source, n, f"interaction {i + 1}: {obj}")
                continue
            yield n, obj

    @staticmethod
    def _lines(source: Source, count: int) -> list[int]:
        """Line of each interaction in a YAML cassette (for messages); JSON: the index."""
        head = source.head
        if head.lstrip()[:1] == b"{":
            return []
        data = source.read_bytes()
        return [data.count(b"\n", 0, m.start()) + 1 for m in _YAML_ITEM.finditer(data)][:count]


READER = CassetteReader()
