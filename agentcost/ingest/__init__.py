"""Ingest: resolve input paths, detect each file's format, run its reader, build the step table.

Formats are detected from content (``Reader.sniff``), never from file names; ``--input-format``
forces one. Folders are read recursively; globs and ``-`` (stdin) are accepted; ``.gz`` is
decompressed transparently.
"""

from __future__ import annotations

import glob
import importlib
import importlib.util
import os
import stat
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentcost.errors import InputError
from agentcost.ingest.base import IngestContext, IngestReport, Reader, Source
from agentcost.ingest.same_run import drop_same_run_other_format
from agentcost.steps import (
    CORRECTIONS,
    MAX_DURATION_MS,
    MAX_NS,
    StepBuilder,
    build_frame,
    check_tokens,
    correct_tokens,
    to_utc_ns,
)

if TYPE_CHECKING:
    import pandas as pd

    from agentcost.ingest.segments import SegmentPool

# Module names under agentcost.ingest, in sniffing priority order (ties go to the earlier one).
READER_MODULES = (
    "agentcost_jsonl",
    "claude_code",
    "codex",
    "otlp",
    "openai_agents",
    "agentops",
    "raw_provider",
    "langfuse",
    "gemini_cli",
    "tau2",
    "openhands",
    "cassette",
    "har",
    "inspect_ai",
    "otel_json",
)

# The ``--input-format`` name of each module's ``READER`` (a test checks them against the
# modules): names are known without importing a reader, and a reader module is imported only
# when detection asks it to sniff (a file its reader is certain of leaves the later ones
# unimported). A module not listed here is imported to learn its name.
READER_NAMES = {
    "agentcost_jsonl": "agentcost",
    "claude_code": "claude-code",
    "codex": "codex",
    "otlp": "otlp",
    "openai_agents": "openai-agents",
    "agentops": "agentops",
    "raw_provider": "raw",
    "langfuse": "langfuse",
    "gemini_cli": "gemini-cli",
    "tau2": "tau2",
    "openhands": "openhands",
    "cassette": "cassette",
    "har": "har",
    "inspect_ai": "inspect-ai",
    "otel_json": "otel-json",
}

# Extensions a folder walk considers; anything else in a folder is skipped silently.
TRACE_SUFFIXES = (".jsonl", ".json", ".ndjson", ".gz", ".log", ".traj", ".har", ".eval",
                  ".yaml", ".yml")
# ... of which these are read only when their content is a cassette (a folder of test data
# holds many YAML files that are not traces: they are passed over without a note)
_CASSETTE_ONLY_SUFFIXES = (".yaml", ".yml")


def _wanted(f: Path) -> bool:
    """Whether a folder walk reads ``f``: a trace suffix, and for YAML a cassette's head."""
    name = f.name.lower()
    if not name.endswith(TRACE_SUFFIXES):
        return False
    if not name.endswith(_CASSETTE_ONLY_SUFFIXES):
        return True
    from agentcost.ingest.cassette import looks_like_cassette

    try:
        with open(f, "rb") as fh:
            return looks_like_cassette(fh.read(4096))
    except OSError:
        return True  # let the read report it


class ReaderTable(Mapping[str, Reader]):
    """The readers by format name, in sniffing order (``READER_MODULES``); each module is
    imported the first time its reader is looked up. A module that is not there is left out."""

    def __init__(self, modules: Sequence[str]) -> None:
        self._modules: dict[str, str] = {}  # format name -> module name
        self._loaded: dict[str, Reader] = {}
        for mod_name in modules:
            name = READER_NAMES.get(mod_name)
            if name is None:
                reader = _import_reader(mod_name)
                if reader is None:
                    continue
                name = reader.name
                self._loaded[name] = reader
            elif importlib.util.find_spec(f"agentcost.ingest.{mod_name}") is None:
                continue
            self._modules[name] = mod_name

    def __getitem__(self, name: str) -> Reader:
        reader = self._loaded.get(name)
        if reader is None:
            loaded = _import_reader(self._modules[name])  # KeyError: not a format
            if loaded is None:  # pragma: no cover (find_spec saw it)
                raise KeyError(name)
            reader = self._loaded[name] = loaded
        return reader

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)


def _import_reader(mod_name: str) -> Reader | None:
    try:
        mod = importlib.import_module(f"agentcost.ingest.{mod_name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"agentcost.ingest.{mod_name}":
            return None
        raise
    reader: Reader = mod.READER
    return reader


def readers() -> ReaderTable:
    """Every reader by format name, in sniffing order (imported as they are used)."""
    return ReaderTable(READER_MODULES)


def format_names() -> list[str]:
    return list(readers())


def claude_code_roots() -> list[Path]:
    """Claude Code's project folders: ``$CLAUDE_CONFIG_DIR/projects`` (each entry of a
    comma-separated list) and ``~/.claude/projects``."""
    roots: list[Path] = []
    env = os.environ.get("CLAUDE_CONFIG_DIR")
    if env:
        for part in env.split(","):
            if part.strip():
                roots.append(Path(part.strip()).expanduser() / "projects")
    roots.append(Path.home() / ".claude" / "projects")
    roots.append(Path.home() / ".config" / "claude" / "projects")
    seen: list[Path] = []
    for r in roots:
        if r.is_dir() and r not in seen:
            seen.append(r)
    return seen


_SPAN = {"m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def time_bound(value: str, label: str = "--since", now_ns: int | None = None) -> int:
    """A ``--since`` / ``--until`` bound in UTC nanoseconds: an ISO date or time (UTC unless it
    names a zone), a span back from now (``30m``, ``12h``, ``7d``, ``2w``), ``today`` or
    ``yesterday`` (UTC midnight)."""
    import re
    import time

    from agentcost.errors import InputError

    now = time.time_ns() if now_ns is None else now_ns
    v = value.strip().lower()
    m = re.fullmatch(r"(\d+)\s*([mhdw])", v)
    if m:
        return now - int(m.group(1)) * _SPAN[m.group(2)] * 1_000_000_000
    if v in ("today", "yesterday"):
        day = 86_400 * 1_000_000_000
        return now - now % day - (day if v == "yesterday" else 0)
    ns = to_utc_ns(value)
    if ns is None:
        raise InputError(f"{label} {value!r} is not a date, an ISO-8601 time or a span such as "
                         "7d, 12h, 30m, 2w, today")
    return ns


def resolve_inputs(paths: list[str], claude_code: bool = False,
                   input_format: str | None = None) -> tuple[list[str], str | None]:
    """The paths and format to read: ``claude_code`` with no path reads Claude Code's own
    project folders (:func:`claude_code_roots`). No input at all is an :class:`InputError`."""
    from agentcost.errors import InputError

    paths = list(paths)
    if claude_code:
        input_format = input_format or "claude-code"
        if not paths:
            roots = claude_code_roots()
            if not roots:
                raise InputError("no Claude Code logs found (looked in $CLAUDE_CONFIG_DIR, "
                                 "~/.claude/projects and ~/.config/claude/projects)")
            paths = [str(r) for r in roots]
    if not paths:
        raise InputError("no input: give trace files or folders, - for stdin, or "
                         "--claude-code")
    return paths, input_format


def resolve_sources(paths: Sequence[str]) -> list[tuple[Source, bool]]:
    """Expand paths into sources. The bool says whether the file was named explicitly (an
    unrecognised explicit file is an error; an unrecognised file found in a folder is skipped).
    A file reached twice (named, in a folder, by a glob) is read once."""
    out: list[tuple[Source, bool]] = []
    seen: set[object] = set()
    for raw in paths:
        for src, explicit in _expand(raw):
            if src.path is not None:  # (stdin and pipes are read once, as they come)
                key = _identity(src.path)
                if key in seen:
                    continue
                seen.add(key)
            out.append((src, explicit))
    return out


def _identity(path: Path) -> object:
    """What makes two names one file: its device and inode (one ``stat``; resolving the path
    instead costs an ``lstat`` per component, ~0.05 s for 1,800 files)."""
    try:
        st = os.stat(path)
    except OSError:
        return path.resolve()
    return (st.st_dev, st.st_ino)


def _expand(raw: str) -> Iterator[tuple[Source, bool]]:
    """The sources one input path names: ``-``, a folder, a file, a glob or a pipe."""
    if raw == "-":
        yield Source.stdin(), True
        return
    p = Path(raw).expanduser()
    if p.is_dir():
        yield from ((Source(name=str(f), path=f), False) for f in _folder_files(p, raw))
    elif p.is_file():
        yield Source(name=str(p), path=p), True
    elif any(ch in raw for ch in "*?["):
        yield from ((Source(name=str(f), path=f), True) for f in _glob_files(raw))
    elif p.exists() and stat.S_ISFIFO(p.stat().st_mode):
        yield _pipe(p, raw), True
    elif p.exists():
        raise InputError("not a regular file", raw)
    else:
        raise InputError("no such file or folder", raw)


def _folder_files(p: Path, raw: str) -> list[Path]:
    files = sorted(f for f in p.rglob("*") if f.is_file() and _wanted(f))
    if not files:
        raise InputError("folder holds no trace files (*.jsonl, *.json, *.gz, ...)", raw)
    return files


def _glob_files(raw: str) -> list[Path]:
    matches = sorted(glob.glob(os.path.expanduser(raw), recursive=True))
    if not matches:
        raise InputError("glob matched no files", raw)
    return [mp for mp in map(Path, matches) if mp.is_file()]


def _pipe(p: Path, raw: str) -> Source:
    """A pipe (`agentcost analyze <(zcat run.jsonl.gz)`): read once, like stdin."""
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", raw) from None
    return Source(name=raw, data=data)


ZIP_MAGIC = b"PK\x03\x04"  # Inspect AI's .eval logs are zip archives: sniffed, not skipped


def _looks_binary(head: bytes) -> bool:
    return b"\x00" in head[:4096] and not head.startswith(ZIP_MAGIC)


def detect(source: Source, table: Mapping[str, Reader]) -> Reader | None:
    best: tuple[int, Reader | None] = (0, None)
    for reader in table.values():
        try:
            score = reader.sniff(source)
        except InputError:
            raise
        except Exception:  # a sniffer must never take ingest down
            score = 0
        if score > best[0]:
            best = (score, reader)
            if score >= 95:  # certain enough: don't ask the remaining readers
                break
    return best[1]


@dataclass
class Loaded:
    frame: pd.DataFrame
    report: IngestReport


def read_sources(
    paths: Sequence[str],
    *,
    input_format: str | None = None,
    since: str | None = None,
    until: str | None = None,
    strict: bool = False,
    progress: Callable[[int, int], None] | None = None,
    segments: bool = True,
    conversations: bool = False,
) -> Loaded:
    """Read every path into one step DataFrame (not yet priced) plus the ingest report.

    ``segments=False`` skips deriving prompt segments from recorded request bodies (a
    summary that never looks at them reads OTLP exports ~20 % faster). ``conversations=True``
    also rebuilds segments from logged conversations without request bodies (Claude Code;
    a second, full decode of those files)."""
    table = readers()
    if input_format is not None and input_format not in table:
        raise InputError(
            f"unknown --input-format {input_format!r}; choose one of: {', '.join(table)}")
    ctx = IngestContext(strict=strict, progress=progress, segments=segments,
                        conversations=conversations)
    ctx.since_ns = time_bound(since, "--since") if since else None
    ctx.until_ns = time_bound(until, "--until") if until else None
    by_reader = _assign_readers(paths, table, input_format, ctx)
    builder = StepBuilder()
    ctx.bytes_total = sum(s.size for group in by_reader.values() for s in group)
    ctx.advance(0)
    from agentcost.ingest.segments import SegmentPool

    pool = SegmentPool()  # identical segments of different calls: one shared dict
    for name, srcs in by_reader.items():
        _read_group(table[name], name, srcs, builder, ctx, pool)
    if len(by_reader) > 1:
        # the tie-break ranks formats by name, in the order their readers are listed
        builder = drop_same_run_other_format(
            builder, ctx, [READER_NAMES.get(m, m) for m in READER_MODULES])
    ctx.flush_unread_usage()
    ctx.report.steps_kept = len(builder)
    return Loaded(frame=build_frame(builder), report=ctx.report)


def _assign_readers(paths: Sequence[str], table: Mapping[str, Reader], input_format: str | None,
                    ctx: IngestContext) -> dict[str, list[Source]]:
    """The input files grouped by the reader that takes them (detected, or forced). A file
    given by name that is empty, binary or unrecognised is an error; one found in a folder
    is skipped with a note; nothing recognised at all is an error listing the skips."""
    sources = resolve_sources(paths)
    if not sources:
        raise InputError("no input given")
    by_reader: dict[str, list[Source]] = {}
    for src, explicit in sources:
        head = src.head
        why = ("file is empty" if not head.strip() else
               "binary file, not a trace" if _looks_binary(head) else None)
        reader = None if why else (table[input_format] if input_format else detect(src, table))
        src.forget_head()
        if reader is None:
            why = why or ("not a recognised trace format (use --input-format to force one "
                          f"of: {', '.join(table)})")
            if explicit:
                raise InputError(why, src.name)
            kind = {"file is empty": "empty", "binary file, not a trace": "binary"}.get(
                why, "unrecognised")
            ctx.note(f"skipped {kind} file {src.name}")
            continue
        by_reader.setdefault(reader.name, []).append(src)
    if not by_reader:
        raise InputError(_nothing_recognised(ctx.report.notes))
    return by_reader


def _read_group(reader: Reader, name: str, srcs: list[Source], builder: StepBuilder,
                ctx: IngestContext, pool: SegmentPool) -> None:
    """One reader's files into the builder, by the fastest interface the reader offers."""
    read_table = getattr(reader, "read_table", None)
    read_many = getattr(reader, "read_many", None)
    group_end = ctx.bytes_done + sum(s.size for s in srcs)
    if read_table is not None:
        # rows come canonical and validated, as columns: no per-row dict on the way
        names, columns = read_table(srcs, ctx)
        if "segments" in names:
            for segs in columns[names.index("segments")]:
                if segs:
                    pool.share(segs)
        per_file = Counter(columns[names.index("source")])
        builder.add_columns(names, columns)
        del columns
        for s in srcs:
            ctx.report.files.append({"path": s.name, "format": name,
                                     "steps": per_file.get(s.name, 0)})
    elif read_many is not None:
        _consume(read_many(srcs, ctx), builder, ctx, name, srcs, pool)
    else:
        for src in srcs:
            _consume(reader.read(src, ctx), builder, ctx, name, [src], pool)
            ctx.advance(src.size)
    ctx.advance(max(0, group_end - ctx.bytes_done))  # readers that did not report


def _nothing_recognised(notes: list[str]) -> str:
    """The error for inputs in which no file is a trace: what was skipped, and why."""
    skipped = [n.removeprefix("skipped ") for n in notes if n.startswith("skipped ")]
    shown = "; ".join(skipped[:5]) + (f"; … {len(skipped) - 5} more" if len(skipped) > 5 else "")
    return (f"no trace found: {len(skipped)} file{'s' if len(skipped) != 1 else ''} skipped"
            + (f" ({shown})" if shown else "")
            + "; use --input-format to force a format")


def _share(row: dict[str, Any], calls: dict[tuple[str, ...], tuple[str, ...]],
           pool: SegmentPool) -> None:
    """The row's ``tool_calls`` as a tuple (one per distinct list) and its segments pooled."""
    tc = row.get("tool_calls")
    if tc is not None and not isinstance(tc, tuple):
        tc = tuple(str(t) for t in tc)
        row["tool_calls"] = calls.setdefault(tc, tc)
    segs = row.get("segments")
    if segs and type(segs) is list:
        pool.share(segs)


def _consume(rows: Iterable[dict[str, Any]], builder: StepBuilder, ctx: IngestContext,
             fmt: str, srcs: list[Source], pool: SegmentPool | None = None) -> None:
    if pool is None:
        from agentcost.ingest.segments import SegmentPool

        pool = SegmentPool()
    per_file: dict[str, int] = {s.name: 0 for s in srcs}
    bad_durations: dict[str, int] = {}
    corrected: dict[tuple[str, str], int] = {}
    calls: dict[tuple[str, ...], tuple[str, ...]] = {}
    for row in rows:
        src_name = row.get("source") or srcs[0].name
        row["source"] = src_name
        row.setdefault("format", fmt)
        for tcol in ("started_at", "ended_at"):
            v = row.get(tcol)
            if v is not None and not (type(v) is int and -MAX_NS <= v <= MAX_NS):
                row[tcol] = to_utc_ns(v)  # None for what no time column can hold
        for dcol in ("duration_ms", "ttft_ms"):
            v = row.get(dcol)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))
                                  or not abs(v) <= MAX_DURATION_MS):
                row[dcol] = None  # NaN, infinite, text, or longer than a year: unknown
                bad_durations[src_name] = bad_durations.get(src_name, 0) + 1
        if row.get("kind") not in ("llm", "tool", "agent"):
            ctx.malformed(src_name, row.get("line"), f"unknown step kind {row.get('kind')!r}")
            continue
        for rule in correct_tokens(row):
            corrected[(src_name, rule)] = corrected.get((src_name, rule), 0) + 1
        reason = check_tokens(row, src_name)
        if reason:
            ctx.malformed(src_name, row.get("line"), reason)
            continue
        if row.get("task_id") is None:
            ctx.malformed(src_name, row.get("line"), "step has no task id")
            continue
        row["task_id"] = str(row["task_id"])
        _share(row, calls, pool)
        builder.add(row)
        per_file[src_name] = per_file.get(src_name, 0) + 1
    for s in srcs:
        ctx.report.files.append({"path": s.name, "format": fmt, "steps": per_file.get(s.name, 0)})
    for (name, rule), n in corrected.items():
        ctx.note(f"{name}: {n} call(s) corrected, {CORRECTIONS[rule]}")
    for name, n in bad_durations.items():
        ctx.note(f"{name}: {n} step duration(s) or time(s) to first token that are not a "
                 "number of milliseconds up to a year, taken as unknown")
