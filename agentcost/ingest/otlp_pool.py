"""Reading large OTLP/JSON inputs in worker processes.

The OTLP reader resolves what crosses files (re-exported spans, roll-ups, two
instrumentations of one call, sessions) over all of them, so a worker cannot make the final
rows. What costs is per span, though: decoding the lines and mapping each span's attributes.
Workers do that, one *piece* at a time — a whole file, or a byte range of lines of a compact
JSON-lines file bigger than 2 × :data:`CHUNK_BYTES` (a single Collector export of 1 GiB uses
every core too) — and record every effect as an event (:class:`_FileRun`); the main process
replays the pieces' events in file and line order (:meth:`SpanRun.replay`), so the rows,
notes, counts and malformed-line reports are those an in-process read makes, in the same
order. A piece whose reading raised in a worker is read again in the main process, which
raises (or reports) there as it would have. Inputs under :data:`POOL_MIN_BYTES`, standard
input, pipes, and ``AGENTCOST_JOBS=1`` are read in-process.
"""

from __future__ import annotations

import functools
import stat
from collections.abc import Iterable
from pathlib import Path

from agentcost.ingest.base import IngestContext, Source
from agentcost.ingest.file_pool import jobs, map_in_order
from agentcost.ingest.otel_span import Span
from agentcost.ingest.otlp_decode import LineRange, compact_lines, line_ranges
from agentcost.ingest.otlp_run import SAME_SPAN_REASON, Event, FileResult, SpanRun

# inputs smaller than this in all are read in-process: a pool would cost more than it saves
# (2-core VM: the pool's start-up and ~13 % more CPU against half the wall time of the
# decoding; about level at 32 MiB with both cores free, behind when another process holds one)
POOL_MIN_BYTES = 48 * 1024 * 1024
# compact JSON-lines files bigger than twice this are read in ranges of about this size
CHUNK_BYTES = 8 * 1024 * 1024

Piece = tuple[int, int, int]  # (file index, start, end); end -1: the whole file


class _Recorder(IngestContext):
    """A worker's context: malformed lines, notes, drops and unread usage keys are kept as
    events (in the order they happened) for the main process to replay."""

    def __init__(self, segments: bool) -> None:
        super().__init__(segments=segments)
        self.events: list[Event] = []

    def malformed(self, source: Source | str, line: int | None, reason: str) -> None:
        self.events.append(("m", line, reason))

    def note(self, text: str) -> None:
        self.events.append(("n", text))

    def dropped(self, reason: str, n: int = 1) -> None:
        self.events.append(("d", reason, n))

    def unread_usage(self, source: Source | str, keys: Iterable[str], n: int = 1) -> None:
        self.events.append(("u", list(keys), n))


class _FileRun(SpanRun):
    """One file (or range of its lines) read in a worker. Each span read for the first time
    in it becomes one ``("s", key, events, rows, counts…)`` event: the main process drops it
    whole when an earlier file or range held the same ids (what :meth:`SpanRun.take_span` would
    have done)."""

    def __init__(self, segments: bool) -> None:
        self.rec = _Recorder(segments)
        super().__init__(self.rec)

    def note(self, text: str) -> None:
        self.rec.note(text)  # not deduplicated here: the span that said it may be dropped

    def add_log_records(self, src: Source, n: int) -> None:
        self.rec.events.append(("l", n))

    def take_span(self, span: Span, src: Source) -> None:
        key = (span.trace_id, span.span_id)
        if key in self.seen:
            self.rec.dropped(SAME_SPAN_REASON)
            return
        self.seen.add(key)
        outer, self.rec.events = self.rec.events, []
        n_rows, other, est, (low_in, low_out) = (len(self.rows), self.other_spans,
                                                  self.estimated, self.est_low)
        self.map_span(span, src)
        inner, self.rec.events = self.rec.events, outer
        outer.append(("s", key, inner, self.rows[n_rows:], self.other_spans - other,
                      self.estimated - est, self.est_low[0] - low_in,
                      self.est_low[1] - low_out))
        del self.rows[n_rows:]


def read_piece_events(files: list[tuple[str, Path]], plan: list[Piece], segments: bool,
                      k: int) -> FileResult | None:
    """Piece ``k`` of ``plan`` (over ``files``: name, path) read in a worker, its lines
    numbered from 1; ``None`` when reading it raised (the main process then reads it itself,
    and raises what it raises)."""
    i, start, end = plan[k]
    name, path = files[i]
    src = Source(name=name, path=path)
    run = _FileRun(segments)
    lines = LineRange(start, end) if end >= 0 else None
    try:
        if lines is None:
            run.read_file(src)
        else:
            run.read_lines(src, lines)
    except Exception:  # re-raised by the main process reading the piece itself
        return None
    return run.rec.events, run.rec.report.lines_read, lines.count if lines else 0


def pool_jobs(sources: list[Source]) -> int:
    """Worker processes for reading ``sources``: 0 (in-process) unless they are regular
    files, together at least :data:`POOL_MIN_BYTES`, and there is more than one job."""
    n = jobs()
    if n < 2:
        return 0
    total = 0
    for s in sources:
        if s.data is not None or s.path is None:
            return 0
        try:
            st = s.path.stat()
        except OSError:
            return 0
        if not stat.S_ISREG(st.st_mode):
            return 0
        total += st.st_size
    return n if total >= POOL_MIN_BYTES else 0


def _splittable(src: Source) -> bool:
    """A plain (not gzipped) file of compact JSON lines."""
    assert src.path is not None
    try:
        with open(src.path, "rb") as fh:
            if fh.read(2) == b"\x1f\x8b":
                return False
        return compact_lines(src.head)
    except Exception:  # unreadable: read whole, where the error is reported
        return False


def plan_pieces(sources: list[Source], sizes: list[int]) -> list[Piece]:
    """The pieces of ``sources`` in file and line order."""
    plan: list[Piece] = []
    for i, (src, size) in enumerate(zip(sources, sizes, strict=True)):
        if size > 2 * CHUNK_BYTES and _splittable(src):
            assert src.path is not None
            plan.extend((i, a, b) for a, b in line_ranges(src.path, size, CHUNK_BYTES))
        else:
            plan.append((i, 0, -1))
    return plan


def read_pooled(run: SpanRun, sources: list[Source], n_jobs: int) -> bool:
    """Read ``sources`` into ``run`` with ``n_jobs`` workers; ``False`` (nothing read) when
    they make fewer than two pieces."""
    ctx: IngestContext = run.ctx
    sizes = [s.size for s in sources]
    plan = plan_pieces(sources, sizes)
    if len(plan) < 2:
        return False
    files = [(s.name, s.path) for s in sources if s.path is not None]
    piece_sizes = [sizes[i] if end < 0 else end - start for i, start, end in plan]
    fn = functools.partial(read_piece_events, files, plan, ctx.segments)
    base = 0  # lines of the file before the piece
    for k, res in enumerate(map_in_order(fn, piece_sizes, n_jobs)):
        i, start, end = plan[k]
        src = sources[i]
        if start == 0:
            base = 0
        if res is not None:
            run.replay(src, res, base)
            base += res[2]
        elif end < 0:
            run.read_file(src)
        else:
            lines = LineRange(start, end, base + 1)
            run.read_lines(src, lines)
            base += lines.count
        ctx.advance(piece_sizes[k])
    return True
