"""Reading a step-table dataset (what ``agentcost export --format parquet`` writes) back.

An input is a dataset, not a trace, when it is a ``.parquet`` file, a folder holding
``.parquet`` files (an export's ``manifest.json`` is optional), a glob matching ``.parquet``
files, or a URL: ``file://`` (a local path), ``s3://`` / ``gs://`` (pyarrow's own file systems,
with the credentials the user has configured for them) and ``http(s)://`` to one ``.parquet``
file (fetched once, streamed to a temporary file; only when the user names such a URL).

Every file must carry the step schema (:mod:`agentcost.columnar.schema`): a file of another
schema version, or without the canonical columns, is an error naming the file. Rows that share
a ``step_key`` (one step exported twice by overlapping ``--append`` runs) are kept once: the
copy from the newest file wins.
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentcost.errors import InputError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

# columns later versions of the step table added within schema version 1: an older export
# lacks them and reads as unknown (null) there, never as 0
OPTIONAL_COLUMNS = ("cache_read_cost_usd", "cache_write_cost_usd", "labels")
REMOTE_SCHEMES = ("s3://", "gs://", "gcs://")
HTTP_SCHEMES = ("http://", "https://")
FILE_SCHEME = "file://"
SUFFIX = ".parquet"


@dataclass
class DatasetFiles:
    """The files of the dataset inputs, resolved: local paths (``local``), or files on a
    pyarrow file system (``fs`` + ``remote``), plus the manifests found beside them."""

    local: list[str] = field(default_factory=list)
    remote: list[tuple[Any, str]] = field(default_factory=list)  # (pyarrow filesystem, path)
    manifests: list[dict[str, Any]] = field(default_factory=list)
    temp_dirs: list[Any] = field(default_factory=list)  # downloads; removed with the object
    rows: list[int] = field(default_factory=list)  # rows of each file, once read

    @property
    def names(self) -> list[str]:
        return self.local + [p for _, p in self.remote]


def needs_dedupe(files: DatasetFiles) -> bool:
    """Whether a step may be in the dataset twice: more than one export run (or dataset), a
    run that did not read its files as one load (Spark ingest), or no manifest to say."""
    if len(files.names) <= 1:
        return False
    if len(files.manifests) != 1:
        return True
    runs = [r for r in files.manifests[0].get("runs", []) if r.get("steps")]
    return len(runs) != 1 or not runs[0].get("unique_keys", False)


def is_dataset(path: str) -> bool:
    """Whether ``path`` names a step-table dataset rather than trace files."""
    if path.startswith(REMOTE_SCHEMES + HTTP_SCHEMES + (FILE_SCHEME,)):
        return True
    p = Path(path).expanduser()
    if p.is_file():
        return p.name.lower().endswith(SUFFIX)
    if p.is_dir():
        if (p / "manifest.json").is_file():
            return _manifest_format(p / "manifest.json") == "parquet"
        return next(p.rglob(f"*{SUFFIX}"), None) is not None and not _has_traces(p)
    if any(ch in path for ch in "*?["):
        matches = glob.glob(os.path.expanduser(path), recursive=True)
        return bool(matches) and all(m.lower().endswith(SUFFIX) for m in matches)
    return False


def _has_traces(folder: Path) -> bool:
    from agentcost.ingest import TRACE_SUFFIXES

    return any(f.name.lower().endswith(TRACE_SUFFIXES) for f in folder.rglob("*")
               if f.is_file() and f.name != "manifest.json")


def _manifest_format(path: Path) -> str | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("format") if isinstance(data, dict) else None


def split_inputs(paths: Sequence[str]) -> tuple[list[str], list[str]]:
    """``(datasets, traces)``: the inputs that are step-table datasets, and the rest."""
    datasets = [p for p in paths if p != "-" and is_dataset(p)]
    return datasets, [p for p in paths if p not in datasets]


def resolve(paths: Sequence[str]) -> DatasetFiles:
    """The Parquet files of the dataset inputs (sorted, so the newest export run comes last
    within a day's folder)."""
    out = DatasetFiles()
    for raw in paths:
        if raw.startswith(FILE_SCHEME):
            from urllib.parse import unquote, urlparse

            raw = unquote(urlparse(raw).path)
        if raw.startswith(HTTP_SCHEMES):
            out.local.append(_download(raw, out))
        elif raw.startswith(REMOTE_SCHEMES):
            _remote(raw, out)
        else:
            _local(raw, out)
    return out


def _local(raw: str, out: DatasetFiles) -> None:
    p = Path(raw).expanduser()
    if p.is_dir():
        files = sorted(str(f) for f in p.rglob(f"*{SUFFIX}") if f.is_file())
        if not files:
            raise InputError("folder holds no .parquet files", raw)
        out.local += files
        if (p / "manifest.json").is_file():
            out.manifests.append(_read_manifest(p / "manifest.json"))
    elif p.is_file():
        out.local.append(str(p))
    else:
        matches = sorted(glob.glob(os.path.expanduser(raw), recursive=True))
        if not matches:
            raise InputError("no such file or folder", raw)
        out.local += [m for m in matches if Path(m).is_file()]


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        return _manifest_of(path.read_bytes(), str(path))
    except OSError as exc:
        raise InputError(f"unreadable export manifest: {exc}", str(path)) from None


def _manifest_of(raw: bytes, name: str) -> dict[str, Any]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except ValueError as exc:
        raise InputError(f"unreadable export manifest: {exc}", name) from None
    if not isinstance(data, dict):
        raise InputError("export manifest is not a JSON object", name)
    return data


def _remote(uri: str, out: DatasetFiles) -> None:
    import pyarrow.fs as pafs

    try:
        fs, base = pafs.FileSystem.from_uri(uri)
        info = fs.get_file_info(base)
        if info.type == pafs.FileType.Directory:
            sel = fs.get_file_info(pafs.FileSelector(base, recursive=True))
            files = sorted(f.path for f in sel if f.is_file and f.path.endswith(SUFFIX))
            manifest = f"{base.rstrip('/')}/manifest.json"
            if any(f.path == manifest and f.is_file for f in sel):
                with fs.open_input_stream(manifest) as fh:
                    out.manifests.append(_manifest_of(fh.read(), uri))
        elif info.type == pafs.FileType.File:
            files = [base]
        else:
            raise InputError("no such object or prefix", uri)
    except (OSError, ValueError) as exc:  # pyarrow: no credentials, no network, bad URI
        raise InputError(f"cannot read the dataset: {str(exc).splitlines()[0]}", uri) from None
    if not files:
        raise InputError("no .parquet objects under this prefix", uri)
    out.remote += [(fs, f) for f in files]


def _download(url: str, out: DatasetFiles) -> str:
    """Stream one ``http(s)://`` Parquet file to a temporary file (kept for the run)."""
    import shutil
    import tempfile
    import urllib.error
    import urllib.request

    tmp = tempfile.TemporaryDirectory(prefix="agentcost-dataset-")
    out.temp_dirs.append(tmp)
    target = Path(tmp.name) / "part-0.parquet"
    try:
        with urllib.request.urlopen(url, timeout=60) as resp, target.open("wb") as fh:  # noqa: S310
            shutil.copyfileobj(resp, fh, 1 << 20)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise InputError(f"cannot fetch the dataset: {exc}", url) from None
    return str(target)


def read_table(files: DatasetFiles, since_ns: int | None = None,
               until_ns: int | None = None) -> tuple[pa.Table, int, int]:
    """The step rows of every file as one Arrow table: ``(table, duplicates dropped, rows
    outside the time window)``."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from agentcost.columnar.schema import read_columns

    parts: list[pa.Table] = []
    for name, opener in _openers(files):
        try:
            pf = pq.ParquetFile(opener())
            check_schema(pf.schema_arrow, name)
            parts.append(pf.read(columns=read_columns(pf.schema_arrow)))
            files.rows.append(parts[-1].num_rows)
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"not a readable Parquet file: {str(exc).splitlines()[0]}",
                             name) from None
    table = with_optional(pa.concat_tables(parts, promote_options="permissive"))
    before = table.num_rows
    keys = table.column("step_key").to_pandas()
    keep = ~keys.duplicated(keep="last").to_numpy()
    if not keep.all():
        table = table.filter(pa.array(keep))
    dups = before - table.num_rows
    n = table.num_rows
    start = table.column("started_at")
    mask = None
    if since_ns is not None:
        mask = pc.or_kleene(pc.is_null(start), pc.greater_equal(start, _ts(since_ns)))
    if until_ns is not None:
        upper = pc.or_kleene(pc.is_null(start), pc.less(start, _ts(until_ns)))
        mask = upper if mask is None else pc.and_(mask, upper)
    if mask is not None:
        table = table.filter(mask)
    return table, dups, n - table.num_rows


def with_optional(table: pa.Table) -> pa.Table:
    """``table`` with the :data:`OPTIONAL_COLUMNS` it lacks added as nulls (unknown)."""
    import pyarrow as pa

    from agentcost.columnar.schema import arrow_type
    from agentcost.steps import COLUMNS

    for c in OPTIONAL_COLUMNS:
        if c not in table.column_names:
            table = table.append_column(c, pa.nulls(table.num_rows, arrow_type(COLUMNS[c])))
    return table


def export_ingest(manifests: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """What the export runs noted while reading the traces (stored in the manifest by
    ``agentcost export``), to be said again wherever the dataset is read: ``(notes,
    warnings)``, each prefixed "at export:" (a warning is among the notes too)."""
    notes: list[str] = []
    warnings: list[str] = []
    for m in manifests:
        for r in m.get("runs", []):
            ing = r.get("ingest") or {}
            said = [*ing.get("notes", [])]
            if ing.get("malformed_lines"):
                ex = (ing.get("malformed_examples") or [""])[0]
                said.append(f"{ing['malformed_lines']} malformed lines skipped"
                            + (f" (first: {ex})" if ex else ""))
            for text in (f"at export: {n}" for n in said):
                if text not in notes:
                    notes.append(text)
            for text in (f"at export: {w}" for w in ing.get("warnings", [])):
                if text not in warnings:
                    warnings.append(text)
    return notes, warnings


def _ts(ns: int) -> Any:
    import pyarrow as pa

    return pa.scalar(ns, type=pa.timestamp("ns", tz="UTC"))


def _openers(files: DatasetFiles) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = [(f, (lambda f=f: f)) for f in files.local]
    out += [(p, (lambda fs=fs, p=p: fs.open_input_file(p))) for fs, p in files.remote]
    return out


def check_schema(schema: pa.Schema, name: str) -> None:
    """An :class:`InputError` naming ``name`` unless ``schema`` is a step table this version
    reads."""
    from agentcost.columnar.schema import SCHEMA_VERSION
    from agentcost.steps import COLUMNS

    meta = schema.metadata or {}
    version = meta.get(b"agentcost.schema_version")
    if version is not None and version.decode() != SCHEMA_VERSION:
        raise InputError(f"step table schema version {version.decode()}; this agentcost reads "
                         f"version {SCHEMA_VERSION}", name)
    missing = [c for c in (*COLUMNS, "step_key") if c not in schema.names
               and c not in OPTIONAL_COLUMNS]
    if missing:
        raise InputError(f"not an agentcost step table: missing columns "
                         f"{', '.join(missing[:6])}{' …' if len(missing) > 6 else ''}", name)


def load_frame(paths: Sequence[str], since_ns: int | None = None,
               until_ns: int | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The canonical step frame of the dataset inputs (ordered and numbered as a freshly read
    table) and what was read: ``{"files", "duplicates", "outside_window", "manifests"}``."""
    from agentcost.columnar.schema import from_arrow
    from agentcost.steps import finalize

    files = resolve(paths)
    table, dups, outside = read_table(files, since_ns, until_ns)
    frame = finalize(from_arrow(table))
    return frame, {"files": [{"path": n, "format": "agentcost-steps", "steps": rows}
                             for n, rows in zip(files.names, files.rows, strict=True)],
                   "duplicates": dups, "outside_window": outside, "manifests": files.manifests}
