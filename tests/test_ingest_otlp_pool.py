"""The OTLP reader's worker pool (``agentcost.ingest.otlp_pool``, ``agentcost.ingest.file_pool``):
the same rows, report and CLI output with and without workers, whole files or line ranges;
bad input read in a worker reported as in-process (one ``file:line`` message, counted), never
a traceback."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import agentcost.ingest.otlp_pool as otlp_pool
from agentcost.errors import InputError
from agentcost.ingest import file_pool, read_sources
from agentcost.ingest.otlp_decode import LineRange, line_ranges
from tests.conftest import AUTHENTIC, REPO


def _generated(tmp: Path, size: str = "3M", seed: int = 2) -> Path:
    out = tmp / f"otlp-{size}-{seed}"
    subprocess.run([sys.executable, str(REPO / "bench" / "gen_otlp.py"), "--size", size,
                    "--seed", str(seed), "--out", str(out)], check=True, capture_output=True)
    (out / "manifest.json").unlink()
    return out


def _pool(monkeypatch: pytest.MonkeyPatch, jobs: int, chunk: int = 64 * 1024) -> list[int]:
    """Pool on for any input (or off with jobs=1); returns a list counting pool uses."""
    monkeypatch.setenv("AGENTCOST_JOBS", str(jobs))
    monkeypatch.setattr(otlp_pool, "POOL_MIN_BYTES", 0)
    monkeypatch.setattr(otlp_pool, "CHUNK_BYTES", chunk)
    used: list[int] = []
    real = otlp_pool.map_in_order

    def counting(fn: Any, sizes: Any, n: int) -> Any:
        used.append(len(sizes))
        return real(fn, sizes, n)

    monkeypatch.setattr(otlp_pool, "map_in_order", counting)
    return used


def _read(paths: list[Path], **kw: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    res = read_sources([str(p) for p in paths], **kw)
    rows = json.loads(res.frame.to_json(orient="records", date_format="iso"))
    return rows, res.report.to_dict()


def _both(monkeypatch: pytest.MonkeyPatch, paths: list[Path], chunk: int = 64 * 1024,
          **kw: Any) -> tuple[Any, Any, list[int]]:
    _pool(monkeypatch, 1)
    alone = _read(paths, **kw)
    used = _pool(monkeypatch, 2, chunk)
    pooled = _read(paths, **kw)
    return alone, pooled, used


@pytest.mark.parametrize("chunk", [64 * 1024, 1 << 30])  # line ranges / whole files
def test_same_rows_and_report_with_and_without_workers(tmp_path: Path, monkeypatch:
                                                       pytest.MonkeyPatch, chunk: int) -> None:
    data = _generated(tmp_path)
    alone, pooled, used = _both(monkeypatch, [data], chunk=chunk)
    assert used and used[0] >= 2
    assert pooled == alone
    assert alone[1]["duplicates_dropped"]  # roll-ups and SDK spans crossed the workers


def test_one_big_file_in_line_ranges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _generated(tmp_path)
    one = tmp_path / "one.jsonl"
    # a BOM, blank lines, and every file twice: spans exported twice across ranges
    parts = [f.read_bytes() for f in sorted(data.glob("*.jsonl"))]
    one.write_bytes(b"\xef\xbb\xbf" + b"\n\n".join(parts + parts))
    alone, pooled, used = _both(monkeypatch, [one], segments=False)
    assert used and used[0] > 4
    assert pooled == alone
    assert alone[1]["duplicates_dropped"]["otlp: span exported twice (same trace and span id)"]
    assert {r["line"] for r in pooled[0]} == {r["line"] for r in alone[0]}


def _bad_file(tmp_path: Path) -> Path:
    data = _generated(tmp_path)
    lines = b"\n".join(f.read_bytes().rstrip(b"\n") for f in sorted(data.glob("*.jsonl")))
    out: list[bytes] = []
    for i, line in enumerate(lines.split(b"\n")):
        out.append(line)
        if i % 7 == 3:
            out.append(b'{"resourceSpans": [ broken')
        if i % 11 == 5:
            out.append(b"[1, 2]")
        if i % 13 == 2:
            out.append(line.replace(b'"gen_ai.usage.output_tokens","value":{"intValue":"',
                                    b'"gen_ai.usage.output_tokens","value":{"stringValue":"x'))
    bad = tmp_path / "bad" / "bad.jsonl"
    bad.parent.mkdir()
    bad.write_bytes(b"\n".join(out) + b"\n")
    return bad


def test_bad_lines_in_workers_are_reported_as_in_process(tmp_path: Path, monkeypatch:
                                                         pytest.MonkeyPatch) -> None:
    bad = _bad_file(tmp_path)
    alone, pooled, used = _both(monkeypatch, [bad])
    assert used
    assert pooled == alone
    report = pooled[1]
    assert report["malformed_lines"] > 10
    assert all(e.startswith(f"{bad}:") for e in report["malformed_examples"])
    assert "invalid JSON" in report["malformed_examples"][0]


def test_strict_stops_at_the_same_line_with_workers(tmp_path: Path, monkeypatch:
                                                    pytest.MonkeyPatch) -> None:
    bad = _bad_file(tmp_path)
    errors = []
    for jobs in (1, 2):
        _pool(monkeypatch, jobs)
        with pytest.raises(InputError) as exc:
            read_sources([str(bad)], strict=True)
        errors.append(str(exc.value))
    assert errors[0] == errors[1]
    assert errors[0].startswith(f"{bad}:")


def _run_cli(args: list[str], jobs: int, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    code = ("import agentcost.ingest.otlp_pool as p; p.POOL_MIN_BYTES = 0; "
            "p.CHUNK_BYTES = 64 * 1024; from agentcost.cli import main; main()")
    env = {**os.environ, "AGENTCOST_JOBS": str(jobs), "COLUMNS": "120", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                          text=True, env=env, cwd=tmp_path)


def test_cli_output_and_errors_alike_with_workers(tmp_path: Path) -> None:
    bad = _bad_file(tmp_path)
    # a truncated gzip among the inputs: its worker raises, the main process reads it again
    good = sorted(bad.parent.parent.glob("otlp-*/*.jsonl"))[0]
    broken = bad.parent / "z-broken.jsonl.gz"
    broken.write_bytes(gzip.compress(good.read_bytes())[:-200])
    runs = {}
    for jobs in (1, 2):
        ok = _run_cli(["analyze", str(bad), "--format", "json"], jobs, tmp_path)
        steps = _run_cli(["analyze", str(bad), "--steps"], jobs, tmp_path)
        err = _run_cli(["analyze", str(bad.parent), "--format", "json"], jobs, tmp_path)
        runs[jobs] = (ok.returncode, ok.stdout, steps.stdout, err.returncode, err.stderr)
    assert runs[1] == runs[2]
    code, out, _, err_code, err = runs[2]
    assert code == 0 and json.loads(out)["ingest"]["malformed_lines"] > 10
    assert err_code == 2
    assert "Traceback" not in err and err.strip().count("\n") == 0
    assert "z-broken.jsonl.gz" in err


@pytest.mark.skipif(not AUTHENTIC.is_dir(), reason="shared authentic traces not available")
def test_authentic_folders_alike_in_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    for folder in ("openinference-anthropic", "openlit", "anthropic-sdk-native",
                   "openllmetry-anthropic"):
        files = sorted((AUTHENTIC / folder).glob("*.otlp.jsonl"))
        alone, pooled, used = _both(monkeypatch, files, chunk=2048)
        assert used, folder
        assert pooled == alone, folder


# ---------------------------------------------------------------------------------------------
# the pieces


def test_line_ranges_cover_the_file_at_line_starts(tmp_path: Path) -> None:
    f = tmp_path / "x.jsonl"
    body = b"".join(b'{"a": %d}\n' % i + (b"\n" if i % 5 == 0 else b"") for i in range(500))
    f.write_bytes(body + b'{"last": 1}')
    ranges = line_ranges(f, f.stat().st_size, 300)
    assert ranges[0][0] == 0 and ranges[-1][1] == f.stat().st_size
    assert all(a == pb for (a, _), (_, pb) in zip(ranges[1:], ranges, strict=False))
    assert all(body[a - 1:a] == b"\n" for a, _ in ranges[1:])

    class Ctx:
        class report:  # noqa: N801 - stands in for IngestReport
            lines_read = 0

    from agentcost.ingest.base import Source

    src = Source(name=str(f), path=f)
    got, first = [], 1
    for a, b in ranges:
        lr = LineRange(a, b, first)
        got.extend(lr.values(src, Ctx()))  # type: ignore[arg-type]
        first += lr.count
    assert got == [(json.loads(line), n) for n, line in src.lines()]


def _square(i: int) -> int:
    return i * i


def _dies_in_a_worker(i: int) -> int:
    if i == 3 and os.getpid() != _MAIN_PID:
        os._exit(1)  # a worker killed: the pool breaks
    return i + 100


_MAIN_PID = os.getpid()


def test_map_in_order_yields_in_index_order() -> None:
    sizes = [5, 1, 9, 3, 7, 2, 8]
    assert list(file_pool.map_in_order(_square, sizes, 2)) == [i * i for i in range(7)]


def test_map_in_order_finishes_in_process_when_the_pool_breaks() -> None:
    assert list(file_pool.map_in_order(_dies_in_a_worker, [1] * 6, 2)) == [
        i + 100 for i in range(6)]


def test_batches_take_every_index_once() -> None:
    sizes = [10, 3, 30, 1, 1, 50, 7]
    got = file_pool.batches(sizes, 2)
    assert [i for b in got for i in b] == list(range(len(sizes)))  # consecutive runs
    assert len(got) > 2
