"""The reader interface and the ingest context every reader reports into.

A reader is a module with one class implementing :class:`Reader`:

* ``name`` — the ``--input-format`` value (e.g. ``"claude-code"``).
* ``sniff(source) -> int`` — 0 when the content is not this format, else a confidence
  (higher wins; 100 = certain). Looks only at ``source.head`` (first 64 KiB, decompressed).
* ``read(source, ctx) -> Iterator[dict]`` — yields one dict per step, keys from
  ``agentcost.steps.COLUMNS`` (plus ``line``), tokens already in the canonical meaning
  (DESIGN.md §2). Readers that must see every file before deciding what to keep (Claude Code
  dedupe across resumed sessions) may implement ``read_many(sources, ctx)`` instead.

Readers never raise on a bad line: they call ``ctx.malformed(source, line, reason)``, which raises
:class:`InputError` under ``--strict`` and otherwise counts it. Duplicates a reader drops on purpose
are counted with ``ctx.dropped(reason)``. Time-window pruning happens while reading:
``ctx.in_window(ns)`` tells whether a step that started at ``ns`` is kept.
"""

from __future__ import annotations

import gzip
import io
import sys
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from agentcost.errors import InputError

HEAD_BYTES = 64 * 1024
# what reading a file can raise: I/O errors, and a damaged gzip archive's EOFError/zlib.error
READ_ERRORS = (OSError, EOFError, zlib.error)
MAX_MALFORMED_SHOWN = 5


@dataclass
class Source:
    """One input: a file (plain or ``.gz``) or standard input."""

    name: str  # what messages show: the path as given, or "<stdin>"
    path: Path | None = None
    data: bytes | None = None  # stdin content, read once
    _head: bytes | None = field(default=None, repr=False)

    @classmethod
    def stdin(cls) -> Source:
        return cls(name="<stdin>", data=sys.stdin.buffer.read())

    def open(self) -> IO[bytes]:
        """The content, decompressed when it starts with the gzip magic. Reading a damaged
        archive raises one of :data:`READ_ERRORS`: the readers below turn them into a one-line
        :class:`InputError`."""
        if self.data is not None:
            raw: IO[bytes] = io.BytesIO(self.data)
        else:
            assert self.path is not None
            try:
                # 1 MiB buffer: trace lines are often several KiB; the default 8 KiB buffer
                # makes line iteration ~3x slower on such files.
                raw = open(self.path, "rb", buffering=1 << 20)  # noqa: SIM115 - returned
            except OSError as exc:
                raise InputError(f"cannot open: {exc.strerror}", self.name) from None
        magic = raw.read(2)
        raw.seek(0)
        if magic == b"\x1f\x8b":
            return skip_bom(gzip.GzipFile(fileobj=raw, mode="rb"))  # type: ignore[arg-type]
        return skip_bom(raw)

    @property
    def head(self) -> bytes:
        if self._head is None:
            if self.path is not None and self.data is None:
                # one unbuffered read: sniffing hundreds of files must not read 1 MiB each
                try:
                    with open(self.path, "rb", buffering=0) as raw:
                        chunk = raw.read(HEAD_BYTES)
                except OSError as exc:
                    raise InputError(f"cannot open: {exc.strerror}", self.name) from None
                if chunk is not None and chunk[:2] != b"\x1f\x8b":
                    self._head = chunk[len(BOM):] if chunk.startswith(BOM) else chunk
                    return self._head
            with self.open() as fh:
                try:
                    self._head = fh.read(HEAD_BYTES)
                except READ_ERRORS as exc:
                    raise InputError(f"cannot read: {exc}", self.name) from None
        return self._head

    def forget_head(self) -> None:
        """Let go of the sniffed head of a file (64 KiB each: a folder of 2,000 sessions held
        ~120 MiB of heads for the whole run); a reader that asks again reads it again. The head
        of standard input or a named pipe is kept: it cannot be read twice."""
        if self.path is not None and self.data is None:
            self._head = None

    @property
    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        assert self.path is not None
        return self.path.stat().st_size

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """Yield ``(line_number, raw_line)`` for non-blank lines, 1-based."""
        with self.open() as fh:
            try:
                for n, line in enumerate(fh, 1):
                    if line.strip():
                        yield n, line
            except READ_ERRORS as exc:
                raise InputError(f"cannot read (truncated or corrupt file?): {exc}",
                                 self.name) from None

    def read_bytes(self) -> bytes:
        with self.open() as fh:
            try:
                return fh.read()
            except READ_ERRORS as exc:
                raise InputError(f"cannot read (truncated or corrupt file?): {exc}",
                                 self.name) from None


BOM = b"\xef\xbb\xbf"  # a UTF-8 byte-order mark: some Windows tools start every file with it


def skip_bom(fh: IO[bytes]) -> IO[bytes]:
    """``fh`` positioned after a leading UTF-8 byte-order mark, if it has one."""
    try:
        if fh.read(len(BOM)) != BOM:
            fh.seek(0)
    except READ_ERRORS:
        fh.seek(0)  # a damaged archive: the caller's read reports it
    return fh


@dataclass
class IngestReport:
    """What ingest read, kept and dropped. Rendered in every report's ``ingest`` section."""

    files: list[dict[str, Any]] = field(default_factory=list)  # {path, format, lines, steps}
    lines_read: int = 0
    steps_kept: int = 0
    duplicates: Counter[str] = field(default_factory=Counter)  # reason -> count
    malformed_count: int = 0
    malformed: list[str] = field(default_factory=list)  # first few "file:line: reason"
    outside_window: int = 0
    notes: list[str] = field(default_factory=list)  # e.g. corrections applied per library
    # notes a report must also show among its warnings (e.g. a log whose own totals disagree
    # with its calls); each is in ``notes`` too
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "lines_read": self.lines_read,
            "steps_kept": self.steps_kept,
            "duplicates_dropped": dict(sorted(self.duplicates.items())),
            "malformed_lines": self.malformed_count,
            "malformed_examples": list(self.malformed),
            "outside_time_window": self.outside_window,
            "notes": list(self.notes),
        }


@dataclass
class IngestContext:
    strict: bool = False
    since_ns: int | None = None
    until_ns: int | None = None
    report: IngestReport = field(default_factory=IngestReport)
    # progress(done_bytes, total_bytes) for a progress bar: ingest calls it once at the start
    # and after each file or group; readers that work through many files call advance()
    progress: Callable[[int, int], None] | None = None
    bytes_total: int = 0
    bytes_done: int = 0
    # derive prompt segments from recorded request bodies (needed by --steps output, miss
    # explanations, audit and simulate; plain summaries can skip the work). Segments a
    # trace states itself, and those that stand in for a missing input count, are kept.
    segments: bool = True
    # usage keys no normaliser understood, per file: {file: {key: calls}}; named once per
    # file in the notes when ingest finishes (see flush_unread_usage)
    unread: dict[str, Counter[str]] = field(default_factory=dict)
    # rebuild segments from logged conversations that hold every message but no request body
    # (Claude Code): a second, full decode of those files, so only when asked (--anatomy)
    conversations: bool = False

    def advance(self, nbytes: int) -> None:
        """``nbytes`` more input bytes have been read."""
        self.bytes_done += nbytes
        if self.progress is not None:
            self.progress(min(self.bytes_done, self.bytes_total), self.bytes_total)
    def malformed(self, source: Source | str, line: int | None, reason: str) -> None:
        name = source.name if isinstance(source, Source) else source
        loc = f"{name}:{line}" if line else name
        if self.strict:
            raise InputError(reason, loc)
        self.report.malformed_count += 1
        if len(self.report.malformed) < MAX_MALFORMED_SHOWN:
            self.report.malformed.append(f"{loc}: {reason}")

    def warn(self, text: str) -> None:
        """A note that reports also list among their warnings."""
        self.note(text)
        if text not in self.report.warnings:
            self.report.warnings.append(text)

    def dropped(self, reason: str, n: int = 1) -> None:
        self.report.duplicates[reason] += n

    def note(self, text: str) -> None:
        if text not in self.report.notes:
            self.report.notes.append(text)

    def unread_usage(self, source: Source | str, keys: Iterable[str], n: int = 1) -> None:
        """Count usage keys of one call (or ``n`` calls) that no normaliser read."""
        name = source.name if isinstance(source, Source) else source
        per = self.unread.get(name)
        if per is None:
            per = self.unread[name] = Counter()
        for k in keys:
            per[k] += n

    def flush_unread_usage(self) -> None:
        """One note per file naming the usage fields that were not read, with call counts."""
        for name, per in self.unread.items():
            if per:
                shown = ", ".join(f"{k} ({c:,} call{'s' if c != 1 else ''})"
                                  for k, c in sorted(per.items()))
                self.note(f"{name}: usage field(s) not read (not counted in any token class "
                          f"or cost): {shown}")
        self.unread = {}

    def in_window(self, started_ns: int | None) -> bool:
        """False when the step is outside ``--since/--until`` (unknown times are kept)."""
        if started_ns is None:
            return True
        if self.since_ns is not None and started_ns < self.since_ns:
            self.report.outside_window += 1
            return False
        if self.until_ns is not None and started_ns >= self.until_ns:
            self.report.outside_window += 1
            return False
        return True


class Reader(Protocol):
    """A trace format. ``read`` yields step rows as dicts (any subset of the step columns,
    checked and normalised by the ingest loop). Optional, looked up with ``getattr``:
    ``read_many(sources, ctx)`` reads several files together (cross-file dedupe), and
    ``read_table(sources, ctx) -> (column names, row tuples)`` hands over rows that are
    already canonical and validated, skipping the per-row dict (the large-log fast path)."""

    name: str
    description: str

    def sniff(self, source: Source) -> int: ...

    def read(self, source: Source, ctx: IngestContext) -> Iterator[dict[str, Any]]: ...


def first_json_line(head: bytes) -> bytes:
    """The first non-blank line of ``head`` (for JSONL sniffing): what the first non-blank
    item of ``head.splitlines()`` is, stripped, without splitting the whole head."""
    rest = head.lstrip()
    end = len(rest)
    for sep in (b"\n", b"\r"):
        i = rest.find(sep, 0, end)
        if i >= 0:
            end = i
    return rest[:end].strip()


def first_json_object(head: bytes) -> dict[str, Any] | None:
    """The first non-blank line of ``head`` decoded as a JSON object, or ``None`` (for sniffing
    JSONL formats)."""
    import orjson

    line = first_json_line(head)
    if not line.startswith(b"{"):
        return None
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None


def iter_json_objects(source: Source, ctx: IngestContext) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line_number, object)`` for each JSON-object line of a JSONL source. Counts lines read;
    invalid JSON and non-object lines are reported to ``ctx`` as malformed and skipped."""
    return json_objects(source.lines(), source, ctx)


def json_objects(lines: Iterable[tuple[int, bytes]], source: Source, ctx: IngestContext
                 ) -> Iterator[tuple[int, dict[str, Any]]]:
    """:func:`iter_json_objects` over ``(line_number, raw_line)`` pairs already read (blank
    lines are skipped): the one JSON-lines loop every reader shares."""
    import orjson

    for n, raw in lines:
        if not raw.strip():
            continue
        ctx.report.lines_read += 1
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            ctx.malformed(source, n, f"invalid JSON ({exc.args[0].split(':')[0]})")
            continue
        if not isinstance(obj, dict):
            ctx.malformed(source, n, f"expected a JSON object, got {type(obj).__name__}")
            continue
        yield n, obj
