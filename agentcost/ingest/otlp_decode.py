"""OTLP/JSON files → JSON values, and the small decoders of span fields.

A file is read as compact JSON lines (the Collector's file exporter: one export request per
line) when its first line holds more than an opening bracket; otherwise (pretty-printed
objects back to back, a pretty-printed array) its whole text is decoded, resuming at the next
line that opens an object after a broken region (one malformed report per region).

Span times (:func:`span_ns`) are OTLP ``*UnixNano`` integers or strings, OTel-JS hrtime
``[s, ns]`` pairs, or anything :func:`agentcost.steps.to_utc_ns` reads; a span status is an
error for code 2 / ``ERROR`` / ``STATUS_CODE_ERROR`` (:func:`status_error`). Decimal integer
ids beyond 64 bits (any-agent) are parsed exactly (:func:`loads`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from agentcost.errors import InputError
from agentcost.ingest.base import READ_ERRORS, IngestContext, Source, first_json_line, skip_bom
from agentcost.ingest.common import as_list
from agentcost.steps import MAX_NS, int_text, to_utc_ns

_WS = re.compile(r"\s*")
_RE_INT_ID = re.compile(rb'"trace_id"\s*:\s*\d')


def span_ns(v: Any) -> int | None:
    """Span time → UTC ns: OTLP ``*UnixNano`` (int or string), OTel-JS hrtime ``[s, ns]``,
    or anything :func:`to_utc_ns` accepts."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, int):
        # ns as given (exact); anything else, or past what a time column holds, via to_utc_ns
        return v if 10**17 < v <= MAX_NS else to_utc_ns(v)
    if isinstance(v, str):
        s = v.strip()
        if s.isascii() and s.isdigit():
            return span_ns(int_text(s))
        return to_utc_ns(s)
    if isinstance(v, (list, tuple)) and len(v) == 2 and all(
            isinstance(x, int) and not isinstance(x, bool)
            or isinstance(x, float) and math.isfinite(x) for x in v):
        return span_ns(int(v[0]) * 1_000_000_000 + int(v[1]))
    if isinstance(v, float):
        return to_utc_ns(v)
    return None


def status_error(status: Any) -> bool | None:
    """A span status: ``True`` for an error, ``False`` for another code, ``None`` unstated."""
    if not isinstance(status, dict):
        return None
    code = status.get("code", status.get("status_code"))
    if code is None:
        return None
    if isinstance(code, int):
        return code == 2
    if isinstance(code, str):
        return code.strip().upper() in ("2", "ERROR", "STATUS_CODE_ERROR")
    return None


def loads(data: bytes, careful: bool = True) -> Any:
    """orjson, except where decimal integer ids (any-agent) exceed 64 bits: orjson would turn
    them into floats, so the standard library parses those exactly. ``careful=False`` skips
    the search for such ids (a file whose head has no ``"trace_id"`` key: OTLP proper)."""
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    if careful and b'"trace_id"' in data and _RE_INT_ID.search(data):
        try:
            return json.loads(data)
        except RecursionError:  # orjson says so for depth > 1024; the standard library raises
            raise ValueError("nested too deeply") from None
    return orjson.loads(data)


def json_values(src: Source, ctx: IngestContext) -> Iterator[tuple[Any, int]]:
    """Top-level JSON values of ``src`` with the line each starts on.

    Compact JSON (the first line holds more than an opening bracket) is read line by line;
    anything else (pretty-printed objects back to back, a pretty-printed array) is decoded
    from the whole text.
    """
    if compact_lines(src.head):
        careful = careful_ids(src.head)
        for n, raw in src.lines():
            obj = _line_value(raw, n, src, ctx, careful)
            if obj is not _BAD:
                yield obj, n
        return
    data = src.read_bytes()
    ctx.report.lines_read += data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    try:
        whole = loads(data)
    except ValueError:
        pass
    else:
        yield whole, 1
        return
    text = data.decode("utf-8-sig", errors="replace")
    del data
    dec = json.JSONDecoder()
    pos, n, line, counted = 0, len(text), 1, 0
    resyncing = False
    while True:
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if pos >= n:
            break
        line += text.count("\n", counted, pos)
        counted = pos
        try:
            obj, end = dec.raw_decode(text, pos)
        except (json.JSONDecodeError, RecursionError) as exc:
            # one report per broken region, then resume at the next line opening an object
            if not resyncing:
                why = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
                ctx.malformed(src, line, f"invalid JSON ({why})")
                resyncing = True
            nxt = text.find("\n{", pos + 1)
            if nxt < 0:
                break
            pos = nxt + 1
            continue
        resyncing = False
        yield obj, line
        pos = end


def compact_lines(head: bytes) -> bool:
    """Whether a file is read as compact JSON lines: its first line holds more than an
    opening bracket."""
    first = first_json_line(head)
    return first.startswith(b"{") and len(first) > 1


def careful_ids(head: bytes) -> bool:
    """Whether the lines of a file are searched for 64-bit-overflowing decimal ids (see
    :func:`loads`): that costs as much as a third of decoding a line, so only in files that
    use snake_case ``trace_id`` keys at all."""
    return b'"trace_id"' in head


_BAD = object()


def _line_value(raw: bytes, n: int, src: Source, ctx: IngestContext, careful: bool) -> Any:
    ctx.report.lines_read += 1
    try:
        return loads(raw, careful)
    except ValueError as exc:
        ctx.malformed(src, n, f"invalid JSON ({str(exc).split(':')[0]})")
        return _BAD


class LineRange:
    """The compact JSON lines (:func:`compact_lines`) in bytes ``start``–``end`` of a plain
    file, ``start`` just after a newline (or 0) and ``end`` just after one (or the size),
    numbered from ``first_line``. After :meth:`values` has run through, ``count`` is the
    number of lines the range held, blank ones included."""

    __slots__ = ("start", "end", "first_line", "count")

    def __init__(self, start: int, end: int, first_line: int = 1) -> None:
        self.start, self.end, self.first_line = start, end, first_line
        self.count = 0

    def values(self, src: Source, ctx: IngestContext) -> Iterator[tuple[Any, int]]:
        """``(value, line)`` for each non-blank line of the range, as :func:`json_values`."""
        assert src.path is not None
        careful = careful_ids(src.head)
        try:
            fh = open(src.path, "rb", buffering=1 << 20)  # noqa: SIM115 - closed below
        except OSError as exc:
            raise InputError(f"cannot open: {exc.strerror}", src.name) from None
        n = self.first_line - 1
        with fh:
            fh.seek(self.start)
            if self.start == 0:
                skip_bom(fh)
            pos = fh.tell()
            try:
                for raw in fh:
                    n += 1
                    pos += len(raw)
                    if raw.strip():
                        obj = _line_value(raw, n, src, ctx, careful)
                        if obj is not _BAD:
                            yield obj, n
                    if pos >= self.end:
                        break
            except READ_ERRORS as exc:
                raise InputError(f"cannot read (truncated or corrupt file?): {exc}",
                                 src.name) from None
        self.count = n - self.first_line + 1


def line_ranges(path: Path, size: int, chunk: int) -> list[tuple[int, int]]:
    """``path`` cut into byte ranges of about ``chunk`` bytes, each ending just after a
    newline (the last at ``size``)."""
    cuts = [0]
    with open(path, "rb") as fh:
        at = chunk
        while at < size:
            fh.seek(at)
            fh.readline()
            end = fh.tell()
            if end >= size:
                break
            cuts.append(end)
            at = end + chunk
    cuts.append(size)
    return list(zip(cuts, cuts[1:], strict=False))


def count_log_records(resource_logs: Any) -> int:
    """Log records of an ``ExportLogsServiceRequest``'s ``resourceLogs`` (only counted)."""
    n = 0
    if not isinstance(resource_logs, list):
        return 0
    for rl in resource_logs:
        if not isinstance(rl, dict):
            continue
        for sl in as_list(rl.get("scopeLogs", rl.get("scope_logs"))):
            if isinstance(sl, dict):
                recs = sl.get("logRecords", sl.get("log_records", []))
                n += len(recs) if isinstance(recs, list) else 0
    return n
