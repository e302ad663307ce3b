"""``agentcost export``: read traces once, price them, write the step table as a dataset.

Parquet output is hive-partitioned by UTC day (``day=YYYY-MM-DD/part-<run>.parquet``); CSV and
JSONL are one file per day in the same layout. ``manifest.json`` at the root lists every exported
input file by path, size, mtime and sha256, with the schema version and price-data fingerprint.
With ``append=True`` files already in the manifest (same path, size and mtime, or same content
hash) are skipped; overlapping steps that do get exported twice carry the same ``step_key``, and
the dataset reader keeps one row per key.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentcost.config import Config
from agentcost.errors import InputError

MANIFEST = "manifest.json"
FORMATS = ("parquet", "csv", "jsonl")


@dataclass
class ExportResult:
    out_dir: str
    fmt: str
    files_exported: list[str] = field(default_factory=list)
    files_skipped: list[str] = field(default_factory=list)
    steps_written: int = 0
    written: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_entry(path: Path) -> dict[str, Any]:
    st = path.stat()
    return {"path": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "sha256": _sha256(path)}


def load_manifest(out: Path, fmt: str) -> dict[str, Any]:
    mf = out / MANIFEST
    if not mf.exists():
        return {"schema_version": None, "format": fmt, "files": [], "runs": []}
    try:
        data: dict[str, Any] = json.loads(mf.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"unreadable export manifest: {exc}", str(mf)) from None
    if data.get("format") != fmt:
        raise InputError(f"the dataset was exported as {data.get('format')}, not {fmt}", str(mf))
    return data


def already_exported(entry: dict[str, Any], known: list[dict[str, Any]]) -> bool:
    for k in known:
        if k["path"] == entry["path"] and k["size"] == entry["size"] and (
                k["mtime_ns"] == entry["mtime_ns"]):
            return True
        if k["sha256"] == entry["sha256"]:
            return True
    return False


def input_files(paths: Sequence[str]) -> list[Path]:
    """The trace files of ``paths``: every file named explicitly, and the files found in
    folders that a reader recognises (as ingest skips the others: a README, a manifest)."""
    from agentcost.ingest import detect, readers, resolve_sources

    table = readers()
    files = []
    for src, explicit in resolve_sources(paths):
        if src.path is None:
            continue
        if explicit or (src.head.strip() and b"\x00" not in src.head[:4096]
                        and detect(src, table) is not None):
            files.append(src.path)
    if not files:
        raise InputError("export needs trace files or folders (stdin cannot be exported)")
    return files


def export(paths: Sequence[str], out_dir: str | Path, *, fmt: str = "parquet",
           append: bool = False, config: Config | None = None,
           input_format: str | None = None) -> ExportResult:
    """Export the priced steps of ``paths`` to ``out_dir`` (see the module docstring)."""
    from agentcost.columnar.schema import to_arrow
    from agentcost.table import load

    out = Path(out_dir)
    manifest, todo, res = plan(paths, out, fmt, append)
    if todo:
        table = load([str(p) for p, _ in todo], config=config, input_format=input_format)
        arrow = to_arrow(table.frame, table.pricing.data_fingerprint)
        run = f"{time.time_ns():x}"
        res.written = write_parts(arrow, out, fmt, run)
        res.steps_written = arrow.num_rows
        res.files_exported = [str(p) for p, _ in todo]
        manifest["files"].extend(e for _, e in todo)
        manifest["runs"].append(run_record(run, len(todo), arrow.num_rows, table.pricing,
                                           ingest=table.ingest))
    save_manifest(out, manifest, fmt)
    return res


def plan(paths: Sequence[str], out: Path, fmt: str, append: bool
         ) -> tuple[dict[str, Any], list[tuple[Path, dict[str, Any]]], ExportResult]:
    """The manifest so far, the input files still to export (with their manifest entries), and
    the result with the skipped ones filled in."""
    if fmt not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}")
    _check_target(out, paths, append)
    manifest = load_manifest(out, fmt)
    res = ExportResult(out_dir=str(out), fmt=fmt)
    todo: list[tuple[Path, dict[str, Any]]] = []
    for p in input_files(paths):
        entry = file_entry(p)
        if already_exported(entry, manifest["files"]):
            res.files_skipped.append(str(p))
        else:
            todo.append((p, entry))
    return manifest, todo, res


def run_record(run: str, files: int, steps: int, pricing: Any, unique_keys: bool = True,
               ingest: Any = None) -> dict[str, Any]:
    """The manifest's record of one export run (with the pricing record it priced with, and
    what reading the traces noted: ``ingest``, an IngestReport or its :func:`ingest_record`,
    said again on every read).
    ``unique_keys``: the run read its files as one load, so no ``step_key`` repeats in it."""
    rec = {"run": run, "files": files, "steps": steps, "unique_keys": unique_keys,
           "price_data_fingerprint": pricing.data_fingerprint,
           "genai_prices_version": pricing.version, "pricing": pricing.to_dict()}
    if ingest is not None:
        rec["ingest"] = ingest if isinstance(ingest, dict) else ingest_record(ingest)
    return rec


def ingest_record(ingest: Any) -> dict[str, Any]:
    """What one load's IngestReport noted, as the manifest keeps it (see :func:`run_record`)."""
    return {"notes": list(ingest.notes), "warnings": list(ingest.warnings),
            "malformed_lines": ingest.malformed_count,
            "malformed_examples": list(ingest.malformed)[:5],
            "duplicates_dropped": dict(sorted(ingest.duplicates.items()))}


def merge_ingest_records(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Several loads' :func:`ingest_record` as one (a Spark ingest loads one folder per task):
    notes and warnings once each in the order first said, counts summed, the first five
    malformed-line examples."""
    out: dict[str, Any] = {"notes": [], "warnings": [], "malformed_lines": 0,
                           "malformed_examples": [], "duplicates_dropped": {}}
    for rec in records:
        for key in ("notes", "warnings"):
            out[key].extend(t for t in rec.get(key, []) if t not in out[key])
        out["malformed_lines"] += int(rec.get("malformed_lines") or 0)
        out["malformed_examples"].extend(rec.get("malformed_examples", []))
        for kind, n in (rec.get("duplicates_dropped") or {}).items():
            out["duplicates_dropped"][kind] = out["duplicates_dropped"].get(kind, 0) + int(n)
    out["malformed_examples"] = out["malformed_examples"][:5]
    out["duplicates_dropped"] = dict(sorted(out["duplicates_dropped"].items()))
    return out


def save_manifest(out: Path, manifest: dict[str, Any], fmt: str) -> None:
    from agentcost.columnar.schema import SCHEMA_VERSION

    manifest["schema_version"] = SCHEMA_VERSION
    manifest["format"] = fmt
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    tmp.replace(out / MANIFEST)  # a failed run never leaves half a manifest


def _check_target(out: Path, paths: Sequence[str], append: bool) -> None:
    """Never write over or among the user's files: the folder must be new or empty, or (with
    ``append``) an earlier export (it has a manifest), and must not lie inside an input."""
    if out.exists() and not out.is_dir():
        raise InputError("is a file, not a folder", str(out))
    target = out.resolve()
    for p in paths:
        src = Path(p).expanduser()
        if src.is_dir() and (target == src.resolve() or src.resolve() in target.parents):
            raise InputError(f"the output folder lies inside an input folder ({p})", str(out))
    if out.exists() and any(out.iterdir()):
        if not append:
            raise InputError("output folder is not empty (use --append to add to it)", str(out))
        if not (out / MANIFEST).is_file():
            raise InputError("folder is not an agentcost export (no manifest.json): "
                             "--append adds only to an earlier export", str(out))


def write_parts(arrow: Any, out: Path, fmt: str, run: str) -> list[str]:
    import pyarrow.compute as pc

    written: list[str] = []
    days = arrow.column("day").unique().to_pylist()
    for day in sorted(days, key=lambda d: (d is None, d)):
        part = out / f"day={day.isoformat() if day else '__HIVE_DEFAULT_PARTITION__'}"
        part.mkdir(parents=True, exist_ok=True)
        mask = pc.is_null(arrow.column("day")) if day is None else pc.equal(
            arrow.column("day"), day)
        chunk = arrow.filter(mask).drop_columns(["day"])  # the folder name carries it
        target = part / f"part-{run}.{fmt}"
        _write_one(chunk, target, fmt)
        written.append(str(target))
    return written


def _write_one(chunk: Any, target: Path, fmt: str) -> None:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(chunk, target, compression="zstd")
    elif fmt == "csv":
        import pyarrow.csv as pcsv

        pcsv.write_csv(chunk, target)
    else:
        import orjson

        with target.open("wb") as fh:
            for row in chunk.to_pylist():
                fh.write(orjson.dumps(row, default=str) + b"\n")
