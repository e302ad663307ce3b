"""DuckDB engine and step-table datasets: every metric equal to the in-memory path.

Parity runs on the inputs of the golden files (sample_traces, the cache-miss fixture) under
every --group-by, and on every real and authentic trace folder in ../shared; datasets are made
with ``agentcost export`` from the same traces."""

from __future__ import annotations

import json
import math
import shutil
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("duckdb")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from agentcost.analysis import GROUP_BY, AnalyzeOptions, analyze  # noqa: E402
from agentcost.columnar.duck import analyze_dataset, analyze_table  # noqa: E402
from agentcost.columnar.export import export  # noqa: E402
from agentcost.errors import InputError  # noqa: E402
from agentcost.table import load  # noqa: E402
from tests.conftest import AUTHENTIC, FIXTURES, REAL, REPO  # noqa: E402

SAMPLES = REPO / "sample_traces"
GOLDEN_INPUTS = [SAMPLES, SAMPLES / "research_agent.jsonl", FIXTURES / "traces"]
METRICS = ("totals", "tasks", "models", "groups", "findings")


def same(a: Any, b: Any, where: str = "") -> None:
    """Equal, floats to 1e-9 relative (sums add up in another order)."""
    if isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), where
    elif isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), f"{where}: {set(a) ^ set(b)}"
        for k in a:
            same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), f"{where}: {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def assert_parity(a: dict[str, Any], b: dict[str, Any], keys: tuple[str, ...] = METRICS) -> None:
    for k in keys:
        same(a.get(k), b.get(k), k)


@pytest.mark.parametrize("group_by", GROUP_BY)
@pytest.mark.parametrize("path", GOLDEN_INPUTS, ids=lambda p: p.name)
def test_duckdb_equals_in_memory_on_golden_inputs(path: Path, group_by: str) -> None:
    t = load([str(path)])
    opts = AnalyzeOptions(group_by=group_by, timezone="Europe/Berlin" if group_by in (
        "hour", "day") else None)
    mem, duck = analyze(t, opts).to_dict(), analyze_table(t, opts).to_dict()
    assert_parity(mem, duck, (*METRICS, "warnings", "pricing", "ingest"))
    assert mem["totals"]["llm_calls"] > 0


def _trace_dirs() -> list[Path]:
    return sorted(d for root in (REAL, AUTHENTIC) for d in root.iterdir() if d.is_dir())


def test_duckdb_equals_in_memory_on_real_and_authentic(real: Path, authentic: Path) -> None:
    """Every folder of ../shared that holds traces, with caps low enough that runaway-loop
    findings appear (so the candidate path of the SQL engine is exercised)."""
    checked, runaways, cache = 0, 0, 0
    for d in _trace_dirs():
        try:
            t = load([str(d)])
        except InputError:
            continue  # formats agentcost does not read (documented in SOURCES.md)
        for opts in (AnalyzeOptions(group_by="model"),
                     AnalyzeOptions(group_by="week", max_iterations=8, token_budget=50_000)):
            mem, duck = analyze(t, opts).to_dict(), analyze_table(t, opts).to_dict()
            assert_parity(mem, duck, (*METRICS, "warnings"))
            runaways += sum(f["type"] == "runaway-loop" for f in duck["findings"])
            cache += sum(f["type"].startswith("cache") for f in duck["findings"])
        checked += 1
    assert checked >= 15 and runaways > 0 and cache > 0


def test_dataset_gives_the_same_report_by_both_engines(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    export([str(SAMPLES)], ds)
    traces = analyze(load([str(SAMPLES)]), AnalyzeOptions(group_by="day")).to_dict()
    duck = analyze_dataset([str(ds)], AnalyzeOptions(group_by="day")).to_dict()
    mem = analyze(load([str(ds)]), AnalyzeOptions(group_by="day")).to_dict()
    assert_parity(traces, duck, (*METRICS, "warnings"))
    assert_parity(traces, mem, (*METRICS, "warnings"))
    assert duck["ingest"]["steps_kept"] == traces["ingest"]["steps_kept"] == 79
    assert duck["pricing"]["data_fingerprint"] == traces["pricing"]["data_fingerprint"]
    assert duck["pricing"]["data"].startswith("as exported")


def test_unpriced_steps_stay_unknown_in_the_dataset(tmp_path: Path) -> None:
    src = tmp_path / "t.jsonl"
    src.write_text(
        '{"task_id": "a", "kind": "llm", "model": "no-such-model-x1", "input_tokens": 1000,'
        ' "output_tokens": 10, "started_at": "2026-03-02T10:00:00Z", "duration_ms": 900}\n'
        '{"task_id": "a", "kind": "llm", "model": "claude-sonnet-4-5", "input_tokens": 2000,'
        ' "output_tokens": 20, "started_at": "2026-03-02T10:00:05Z", "duration_ms": 800}\n')
    export([str(src)], tmp_path / "ds")
    duck = analyze_dataset([str(tmp_path / "ds")]).to_dict()
    mem = analyze(load([str(src)])).to_dict()
    assert_parity(mem, duck, (*METRICS, "warnings"))
    assert duck["totals"]["unpriced_steps"] == 1 and duck["totals"]["cost_is_lower_bound"]
    assert duck["pricing"]["unpriced_models"][0]["model"] == "no-such-model-x1"
    assert any("no price for model no-such-model-x1" in w for w in duck["warnings"])


def test_append_of_a_grown_file_counts_each_step_once(tmp_path: Path) -> None:
    """A session file that grew after the first export is exported again whole; the steps both
    exports hold share a step_key and are read once, by both engines."""
    live = tmp_path / "traces" / "run.jsonl"
    live.parent.mkdir()
    shutil.copy(SAMPLES / "research_agent.jsonl", live)
    ds = tmp_path / "ds"
    first = export([str(live)], ds)
    with live.open("a") as fh:
        fh.write((SAMPLES / "support_agent.jsonl").read_text())
    second = export([str(live)], ds, append=True)
    assert second.files_exported == [str(live)] and second.steps_written > first.steps_written
    fresh = analyze(load([str(live)])).to_dict()
    duck = analyze_dataset([str(ds)]).to_dict()
    mem = analyze(load([str(ds)])).to_dict()
    assert_parity(fresh, duck)
    assert_parity(fresh, mem)
    for d in (duck, mem):
        assert d["ingest"]["duplicates_dropped"] == {
            "same step in two exports of the dataset": first.steps_written}
    assert len(json.loads((ds / "manifest.json").read_text())["runs"]) == 2


def test_time_window_on_a_dataset(tmp_path: Path) -> None:
    export([str(SAMPLES)], tmp_path / "ds")
    since = "2026-11-03T00:00:00Z"
    want = analyze(load([str(SAMPLES)], since=since)).to_dict()
    duck = analyze_dataset([str(tmp_path / "ds")], since=since).to_dict()
    mem = analyze(load([str(tmp_path / "ds")], since=since)).to_dict()
    assert_parity(want, duck)
    assert_parity(want, mem)
    assert duck["ingest"]["outside_time_window"] == mem["ingest"]["outside_time_window"] > 0


def _one_part(ds: Path) -> Path:
    return sorted(ds.rglob("*.parquet"))[-1]


def test_file_url_and_loopback_http(tmp_path: Path) -> None:
    """Remote inputs against local stand-ins: a file:// URL of the dataset folder, and one
    Parquet part served over HTTP on 127.0.0.1 (fetched once to a temporary file)."""
    ds = tmp_path / "ds"
    export([str(SAMPLES)], ds)
    want = analyze(load([str(ds)])).to_dict()
    assert_parity(want, analyze(load([ds.as_uri()])).to_dict())
    assert_parity(want, analyze_dataset([ds.as_uri()]).to_dict())
    part = _one_part(ds)
    handler = partial(SimpleHTTPRequestHandler, directory=str(part.parent))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/{part.name}"
        local = analyze(load([str(part)])).to_dict()
        assert_parity(local, analyze(load([url])).to_dict())
        assert_parity(local, analyze_dataset([url]).to_dict())
        with pytest.raises(InputError, match="cannot fetch"):
            load([f"http://127.0.0.1:{server.server_port}/missing.parquet"])
    finally:
        server.shutdown()


def test_cli_export_then_analyze_both_engines(run: Any, tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    res = run("export", "sample_traces", "-o", str(ds))
    assert res.exit_code == 0 and "exported 79 steps from 2 files" in res.stdout
    duck = json.loads(run("analyze", str(ds), "-f", "json").stdout)
    mem = json.loads(run("analyze", str(ds), "-f", "json", "--engine", "pandas").stdout)
    assert duck["pricing"]["data"].startswith("as exported")  # auto picked DuckDB
    assert_parity(mem, duck, (*METRICS, "warnings"))
    again = run("export", "sample_traces", "-o", str(ds), "--append")
    assert again.exit_code == 0 and "2 files already exported, skipped" in again.stdout
    refused = run("export", "sample_traces", "-o", str(ds))
    assert refused.exit_code == 2 and "not empty" in refused.stderr
    steps = run("analyze", str(ds), "--engine", "duckdb", "--task", "ticket-4711")
    assert steps.exit_code == 2 and "--engine pandas" in steps.stderr
    task = run("analyze", str(ds), "--task", "ticket-4711")  # auto: in memory for --task
    assert task.exit_code == 0 and "ticket-4711" in task.stdout


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
def test_cli_bad_parquet_is_one_line_exit_2(run: Any, tmp_path: Path, engine: str) -> None:
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"a": [1, 2]}), other)
    bumped = tmp_path / "v9.parquet"
    export([str(SAMPLES / "research_agent.jsonl")], tmp_path / "ds")
    t = pq.read_table(_one_part(tmp_path / "ds"))
    pq.write_table(t.replace_schema_metadata({"agentcost.schema_version": "9"}), bumped)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(_one_part(tmp_path / "ds").read_bytes()[:300])
    for path, msg in ((other, "not an agentcost step table"), (bumped, "schema version 9"),
                      (broken, "not a readable Parquet file")):
        res = run("analyze", str(path), "--engine", engine)
        err = res.stderr.strip()
        assert res.exit_code == 2, err
        assert msg in err and str(path) in err and "\n" not in err and "Traceback" not in err


def test_export_never_writes_among_user_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="no manifest.json"):
        export([str(SAMPLES)], tmp_path, append=True)
    with pytest.raises(InputError, match="inside an input folder"):
        export([str(SAMPLES)], SAMPLES / "out")
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert not (SAMPLES / "out").exists()


@pytest.mark.parametrize("args", [["sample_traces"], ["sample_traces", "--group-by", "model"],
                                  ["sample_traces", "--max-iterations", "3", "--top", "2"]])
def test_console_table_is_the_same_by_both_engines(run: Any, args: list[str]) -> None:
    """The console table of the DuckDB engine fetches only the costliest tasks and the first
    findings of each kind (bounded memory), and prints what the in-memory path prints."""
    duck = run("analyze", *args, "--engine", "duckdb")
    mem = run("analyze", *args, "--engine", "pandas")
    assert duck.exit_code == mem.exit_code == 0
    assert duck.stdout == mem.stdout


def _fleet(path: Path, tasks: int = 30) -> Path:
    """Tasks of agentcost JSONL (DESIGN.md §3), each with two tools run one after the other
    and one tool call repeated with identical arguments: two findings per task."""
    lines = []
    for i in range(tasks):
        t0 = 1_772_400_000 + 600 * i
        lines.append({"task_id": f"t{i:03d}", "kind": "llm", "model": "claude-sonnet-4-5",
                      "input_tokens": 1000 + i, "output_tokens": 50, "started_at": t0,
                      "duration_ms": 900, "tool_calls": ["grep", "grep"]})
        for j in range(2):
            lines.append({"task_id": f"t{i:03d}", "kind": "tool", "name": "grep",
                          "started_at": t0 + 1 + 2 * j, "duration_ms": 1000 + 10 * i + j,
                          "tool_input_hash": "same-args"})
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def test_summary_mode_holds_only_the_top(tmp_path: Path) -> None:
    t = load([str(_fleet(tmp_path / "fleet.jsonl"))])
    opts = AnalyzeOptions(top=3)
    full = analyze_table(t, opts).to_dict()
    top = analyze_table(t, opts, summary=True)
    assert [x["task_id"] for x in top.tasks] == [x["task_id"] for x in full["tasks"][:3]]
    assert top.totals == full["totals"]
    assert {f["type"] for f in full["findings"]} == {"sequential-tools", "repeated-tool-call"}
    assert top.extra["findings_total"] == len(full["findings"]) == 60
    assert len(top.findings) == 20  # the first 10 of each kind
    assert top.findings[:10] == full["findings"][:10]


def test_time_sums_of_steps_without_durations_are_unknown_in_both_engines(
        tmp_path: Path) -> None:
    """A task whose llm steps state no duration has an unknown llm time (and so an unknown llm
    time share), not 0 s; tool time stays known when its tools were timed. Same in DuckDB."""
    rows = [
        {"task_id": "untimed", "kind": "llm", "model": "claude-sonnet-4-5",
         "provider": "anthropic", "started_at": "2026-03-01T10:00:00Z",
         "input_tokens": 1000, "output_tokens": 10},
        {"task_id": "untimed", "kind": "tool", "name": "bash",
         "started_at": "2026-03-01T10:00:05Z", "duration_ms": 1500},
        {"task_id": "timed", "kind": "llm", "model": "claude-sonnet-4-5",
         "provider": "anthropic", "started_at": "2026-03-01T11:00:00Z", "duration_ms": 2000,
         "input_tokens": 1000, "output_tokens": 10},
    ]
    p = tmp_path / "t.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    t = load([str(p)])
    for doc in (analyze(t).to_dict(), analyze_table(t).to_dict()):
        tasks = {r["task_id"]: r for r in doc["tasks"]}
        u, k = tasks["untimed"], tasks["timed"]
        assert (u["llm_time_s"], u["tool_time_s"], u["llm_time_share"]) == (None, 1.5, None)
        assert (k["llm_time_s"], k["tool_time_s"], k["llm_time_share"]) == (2.0, 0.0, 1.0)
        # the totals: one of two llm steps timed, so the sum of what is known
        assert doc["totals"]["llm_time_s"] == 2.0


@pytest.mark.parametrize("per_query", [1, 5000])
def test_sequential_tool_names_by_one_pass_or_by_id_lists(monkeypatch: pytest.MonkeyPatch,
                                                          real: Path, per_query: int) -> None:
    """Past the ids one query names (5,000 tasks), the tool names of the sequential-tool
    findings come from one pass over every task: the same findings either way."""
    from agentcost.columnar import sql_findings

    monkeypatch.setattr(sql_findings, "_IDS_PER_QUERY", per_query)
    t = load([str(real / "claude-code-spotter")])
    mem, duck = analyze(t).to_dict(), analyze_table(t).to_dict()
    seq = [f for f in duck["findings"] if f["type"] == "sequential-tools"]
    assert len({f["task_id"] for f in seq}) > 1  # more than one task's ids: 1 takes one pass
    assert_parity(mem, duck, ("findings",))
