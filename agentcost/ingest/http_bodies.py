"""HTTP bodies as recorders store them, shared by the cassette and HAR readers."""

from __future__ import annotations

import base64
import binascii
import gzip
import zlib
from typing import Any

import orjson

NOT_A_CALL = "http: recorded requests that are not model calls (auth, files, count_tokens, ...)"
_CALL_PATHS = ("/messages", "/chat/completions", "/responses", "/converse", "/invoke",
               "/completions")
_NOT_CALL_PATHS = ("count_tokens", "count-tokens", "/embeddings", "/files", "/batches")


def decode_body(body: Any, encoding: str | None = None) -> Any:
    """A body as a cassette or capture stores it → parsed JSON, text, or bytes (an event
    stream). gzip / deflate are undone; a base64 string that decodes to gzip is accepted."""
    if isinstance(body, dict) and "string" in body:
        body = body["string"]
    if isinstance(body, str) and encoding in ("gzip", "deflate") and body.lstrip()[:1] not in (
            "{", "["):
        try:
            body = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            pass
    if isinstance(body, bytes):
        if encoding == "br":
            raise ValueError("a brotli-compressed body (Content-Encoding: br) cannot be read; "
                             "record with decode_compressed_response=True")
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            return body
    if isinstance(body, str) and body.lstrip()[:1] in ("{", "["):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            return body
    return body


def is_model_call(uri: str, method: Any) -> bool:
    """Whether a recorded request is a model call: a POST to a Messages, Chat Completions,
    Responses or Bedrock Converse / InvokeModel path (not count_tokens, embeddings, files)."""
    u = uri.lower().split("?", 1)[0]
    if isinstance(method, str) and method.upper() not in ("POST", ""):
        return False
    if any(p in u for p in _NOT_CALL_PATHS):
        return False
    return any(p in u for p in _CALL_PATHS)
