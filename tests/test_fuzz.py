"""Fuzzing the CLI with mutated real traces, and one regression test per bug it found.

Rule checked (DESIGN.md §7): bad input gives exit 0 (a counted malformed line or note) or 2 (a
one-line error naming the file), never 70 (a bug) nor an uncaught exception, and nothing from a
trace reaches the terminal as a control character (ESC, BEL, CR, NUL, DEL, C1).

The fuzz test (``test_fuzz_cli_on_mutated_traces``) mutates small real trace files, one or two
per supported format plus SWE-agent ``.traj`` (which no reader takes). Mutant ``i`` is made
from ``random.Random(f"{FUZZ_SEED}-{i}")`` alone, so each failure reproduces on its own: the
message names the seed, the mutation and the mutant saved under pytest's ``tmp_path``, e.g.::

    AGENTCOST_DEBUG=1 agentcost analyze /tmp/pytest-of-root/.../fuzz/017-codex-wrong_type.jsonl

``AGENTCOST_FUZZ_MUTANTS=3000 AGENTCOST_FUZZ_SEED=7`` runs a longer or another campaign.
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
import os
import random
import re
import time
import traceback
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AUTHENTIC, REAL, REPO

# what must never reach the terminal: C0 controls except \n and \t, DEL, and C1 controls
BAD_OUTPUT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _check(res: Any, allowed: set[int]) -> str | None:
    """Why a CLI run broke the rule, or None."""
    exc = res.exception
    if exc is not None and not isinstance(exc, SystemExit):
        tb = "".join(traceback.format_exception(exc)).strip().splitlines()
        return f"uncaught {type(exc).__name__}: {exc}; {' | '.join(tb[-6:])}"
    if res.exit_code not in allowed:
        err = res.stderr.strip().splitlines()
        return f"exit {res.exit_code}; stderr: {err[-3:]}"
    for stream in ("stdout", "stderr"):
        text = getattr(res, stream)
        m = BAD_OUTPUT.search(text)
        if m:
            ctx = text[max(0, m.start() - 60): m.end() + 20]
            return f"control character {m.group()!r} on {stream}: {ctx!r}"
    return None


def _invoke(args: list[str], debug: bool = False) -> Any:
    """The CLI in-process (exceptions caught: an uncaught one shows as ``res.exception``)."""
    from typer.testing import CliRunner

    from agentcost.cli import app

    return CliRunner().invoke(app, args, env={"AGENTCOST_DEBUG": "1" if debug else None})


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """As the golden files were made, from a folder with no agentcost.yaml."""
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("AGENTCOST_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)


def _ok(res: Any, allowed: tuple[int, ...] = (0,)) -> None:
    why = _check(res, set(allowed))
    assert why is None, why


def _agentcost_line(**fields: Any) -> str:
    """One agentcost JSONL step (an llm call of task t1 unless ``fields`` say otherwise)."""
    row = {"task_id": "t1", "kind": "llm", "name": "plan", "provider": "openai",
           "model": "gpt-4o", "started_at": "2026-11-02T09:00:00Z", "duration_ms": 100,
           "input_tokens": 100, "output_tokens": 10, **fields}
    return json.dumps(row) + "\n"


# ------------------------------------------------------------------ the fuzz test

FUZZ_SEED = 20260512
N_MUTANTS = 300
MAX_SEED_BYTES = 200_000

# (name, file): small real traces. Codex, tau-bench and tau2-bench files are all larger: their
# seeds are cut from one (_derived_seeds).
SEED_FILES: list[tuple[str, Path]] = [
    ("claude-code", REAL / "claude-code-spotter" / "short.jsonl"),
    ("claude-code-agent", REAL / "claude-code-codemie" / "metrics-v2.0.64" / "-tmp-private"
     / "agent-50243ee8.jsonl"),
    ("gemini-cli", REAL / "gemini-cli-codemie" / "session-2026-01-16T11-01-file-ops-37b7abef.json"),
    ("openhands", REAL / "openhands" / "runtime-trajs" / "basic.json"),
    ("langfuse", REAL / "langfuse-framework-traces" / "ag2-2026-03-09.json"),
    ("agentops", REAL / "agentops-openai-agents" / "api_output.json"),
    ("swe-agent", REAL / "swe-agent-traj" / "gpt4__6e44b9__sweagenttestrepo-1c2844.traj"),
    ("openinference", REAL / "vercel-ai-sdk-v6-spans-openinference" / "all-spans.json"),
    ("otlp", AUTHENTIC / "otel-genai-openai-v2" / "stream_bare.otlp.jsonl"),
    ("otlp-anthropic", AUTHENTIC / "anthropic-sdk-native" / "metadata_only.otlp.jsonl"),
    ("openai-agents", AUTHENTIC / "openai-agents-sdk" / "responses.agents.jsonl"),
    ("raw-wire", AUTHENTIC / "stand-in-wire-capture" / "anthropic.wire.jsonl"),
    ("agentcost", REPO / "sample_traces" / "research_agent.jsonl"),
]

# what the mutations put in strings: SGR, an OSC title change ended by BEL, CR, BEL, NUL, BS, C1
# CSI, DEL, a right-to-left override, erase-display
CONTROL_INSERTS = ["\x1b[31m", "\x1b]0;pwned\x07", "\r", "\x07", "\x00", "\x08", "\x9b31m",
                   "\x7f", "\u202e", "\x1b[2J"]


@dataclass
class Seed:
    """A seed file's content, with the suffix its mutants are saved under."""

    name: str
    suffix: str
    data: bytes


def _derived_seeds() -> list[Seed]:
    """Seeds for formats whose real files are all larger than MAX_SEED_BYTES: the first lines
    of a Codex rollout, the first tasks of a tau-bench and a tau2-bench results file."""
    out: list[Seed] = []
    codex = sorted((REAL / "codex-codemie").glob("*.jsonl"))[0]
    lines: list[bytes] = []
    for line in codex.read_bytes().splitlines(keepends=True):
        if sum(map(len, lines)) + len(line) > MAX_SEED_BYTES // 2:
            break
        lines.append(line)
    out.append(Seed("codex", ".jsonl", b"".join(lines)))
    tau = json.loads((REAL / "tau-bench" / "gpt-4o-airline.json").read_bytes())
    out.append(Seed("tau-bench", ".json", json.dumps(tau[:1], indent=1).encode()))
    tau2_path = sorted((REAL / "tau2-bench").glob("*.json"))[0]
    tau2 = json.loads(tau2_path.read_bytes())
    sims = tau2["simulations"][:1]
    ids = {s["task_id"] for s in sims}
    tau2 = {**tau2, "simulations": sims, "tasks": [t for t in tau2["tasks"] if t["id"] in ids]}
    out.append(Seed("tau2-bench", ".json", json.dumps(tau2, indent=1).encode()))
    return out


@pytest.fixture(scope="module")
def seeds(real: Path, authentic: Path) -> list[Seed]:
    out = []
    for name, path in SEED_FILES:
        data = path.read_bytes()
        assert len(data) < MAX_SEED_BYTES, path
        out.append(Seed(name, "".join(path.suffixes[-1:]), data))
    out += _derived_seeds()
    for s in out:
        assert len(s.data) < MAX_SEED_BYTES, s.name
    return out


# ------------------------------------------------------------------ JSON tree helpers


def _nodes(obj: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) slot in the tree."""
    out: list[tuple[Any, Any]] = []
    todo = [obj]
    while todo:
        cur = todo.pop()
        items = cur.items() if isinstance(cur, dict) else enumerate(cur)
        for k, v in items:
            out.append((cur, k))
            if isinstance(v, dict | list) and v:
                todo.append(v)
    return out


def _mutate_json(rng: random.Random, data: bytes,
                 fn: Callable[[random.Random, Any], tuple[Any, str] | None]) -> tuple[bytes, str]:
    """Apply ``fn`` (root -> (new root, detail) or None) to the document, or to one random
    JSON-object line of a JSONL file. Falls back to a byte flip when nothing parses."""
    try:
        doc = json.loads(data)
    except ValueError:  # JSONL
        lines = data.splitlines(keepends=True)
        order = list(range(len(lines)))
        rng.shuffle(order)
        for i in order[:50]:
            try:
                line_obj = json.loads(lines[i])
            except ValueError:
                continue
            if not isinstance(line_obj, dict | list):
                continue
            res = fn(rng, line_obj)
            if res is None:
                continue
            root, detail = res
            eol = b"\n" if lines[i].endswith(b"\n") else b""
            lines[i] = _dump(root, False) + eol
            return b"".join(lines), f"line {i + 1}: {detail}"
    else:
        res = fn(rng, doc) if isinstance(doc, dict | list) else None
        if res is not None:
            root, detail = res
            pretty = b"\n" in data.strip()[:200]  # keep a pretty-printed file pretty-printed
            return _dump(root, pretty), detail
    return _flip(rng, data)


DEEP = "__agentcost_fuzz_deep__"


def _dump(obj: Any, pretty: bool) -> bytes:
    text = json.dumps(obj, indent=1 if pretty else None, ensure_ascii=False)
    m = re.search(rf'"{DEEP}(\d+)"', text)
    if m:
        depth = int(m.group(1))
        text = text.replace(m.group(), "[" * depth + "]" * depth)
    return text.encode("utf-8", "surrogatepass")


def _pick(rng: random.Random, root: Any,
          want: Callable[[Any, Any], bool] = lambda k, v: True) -> tuple[Any, Any] | None:
    slots = [(c, k) for c, k in _nodes(root) if want(k, c[k])]
    return rng.choice(slots) if slots else None


def _wrong_type(rng: random.Random, root: Any) -> tuple[Any, str] | None:
    slot = _pick(rng, root)
    if slot is None:
        return None
    c, k = slot
    old = c[k]
    choices = ["x", "", "12", "-5", "1e3", "\u00b2", "9" * 5000, 0, 7, -1, 1.5, None, True, [],
               [1, "a"], {}, {"a": 1}]
    new = rng.choice([v for v in choices if type(v) is not type(old)])
    c[k] = new
    return root, f"{k!r}: {type(old).__name__} -> {new!r}"


def _number_slot(k: Any, v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _huge_number(rng: random.Random, root: Any) -> tuple[Any, str] | None:
    slot = _pick(rng, root, _number_slot) or _pick(rng, root)
    if slot is None:
        return None
    c, k = slot
    c[k] = rng.choice([10**30, 2**63, 2**64 + 1, -(2**63) - 1, 1e308, 10**400, 1e-320])
    return root, f"{k!r} -> {str(c[k])[:20]}"


def _tokenish(k: Any, v: Any) -> bool:
    return (isinstance(k, str) and bool(re.search("token|count|usage|cost|input|output", k, re.I))
            and _number_slot(k, v))


def _negative_tokens(rng: random.Random, root: Any) -> tuple[Any, str] | None:
    slots = [(c, k) for c, k in _nodes(root) if _tokenish(k, c[k])]
    if not slots:
        return _huge_number(rng, root)
    for c, k in rng.sample(slots, min(len(slots), rng.randint(1, 3))):
        c[k] = -abs(c[k]) - rng.choice([1, 1000, 10**12])
    return root, "negative token counts"


def _nan(rng: random.Random, root: Any) -> tuple[Any, str] | None:
    slot = _pick(rng, root, _number_slot) or _pick(rng, root)
    if slot is None:
        return None
    c, k = slot
    c[k] = rng.choice([float("nan"), float("inf"), float("-inf")])
    return root, f"{k!r} -> {c[k]}"


def _deep(rng: random.Random, root: Any) -> tuple[Any, str] | None:
    slot = _pick(rng, root)
    if slot is None:
        return None
    c, k = slot
    depth = rng.choice([200, 1100, 5000, 100_000])
    c[k] = f"{DEEP}{depth}"
    return root, f"{k!r} -> nested list depth {depth}"


def _poison(rng: random.Random, root: Any) -> tuple[Any, str] | None:
    """Control characters in string values: all of those named like ids, models and tools,
    and a share of the others."""
    share = rng.choice([0.05, 0.3, 1.0])
    named = re.compile(r"id$|name|model|tool|agent|session|task|type|role|error|message", re.I)
    hit = 0
    for c, k in _nodes(root):
        v = c[k]
        if isinstance(v, str) and (isinstance(k, str) and named.search(k) and rng.random() < 0.7
                                   or rng.random() < share):
            ctrl = rng.choice(CONTROL_INSERTS)
            pos = rng.randint(0, len(v))
            c[k] = v[:pos] + ctrl + v[pos:]
            hit += 1
    return (root, f"{hit} strings given control characters") if hit else None


# ------------------------------------------------------------------ byte-level mutations


def _truncate(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    at = rng.randrange(len(data))
    return data[:at], f"truncated at byte {at}"


def _flip(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    buf = bytearray(data)
    where = []
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(buf))
        buf[i] ^= 1 << rng.randrange(8)
        where.append(i)
    return bytes(buf), f"bits flipped at {where}"


def _replace_bytes(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    buf = bytearray(data)
    where = []
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(buf))
        buf[i] = rng.choice([0, 0x1B, 0x07, 0x0D, 0x22, 0x5C, 0x7B, 0x7D, 0x5B, 0xFF, 0x80,
                             rng.randrange(256)])
        where.append(i)
    return bytes(buf), f"bytes replaced at {where}"


def _insert_controls(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """Raw control bytes: inside string literals (after a quote) or anywhere."""
    buf = data
    quotes = [m.end() for m in re.finditer(rb'"', data[:MAX_SEED_BYTES])]
    where = []
    for _ in range(rng.randint(1, 5)):
        ctrl = rng.choice(CONTROL_INSERTS).encode()
        i = rng.choice(quotes) if quotes and rng.random() < 0.7 else rng.randrange(len(buf) + 1)
        buf = buf[:i] + ctrl + buf[i:]
        where.append(i)
    return buf, f"raw control bytes inserted at {where}"


def _lines_dup_del(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    lines = data.splitlines(keepends=True)
    if len(lines) < 2:
        return _truncate(rng, data)
    op = rng.choice(["duplicate", "delete", "swap"])
    idx = sorted(rng.sample(range(len(lines)), min(len(lines), rng.randint(1, 4))))
    if op == "duplicate":
        for i in reversed(idx):
            lines.insert(i, lines[i])
    elif op == "delete":
        for i in reversed(idx):
            del lines[i]
    else:
        a, b = rng.sample(range(len(lines)), 2)
        lines[a], lines[b] = lines[b], lines[a]
        idx = [a, b]
    return b"".join(lines), f"lines {op}d: {[i + 1 for i in idx]}"


def _bom(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    return b"\xef\xbb\xbf" + data, "UTF-8 BOM prefixed"


def _invalid_utf8(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    quotes = [m.end() for m in re.finditer(rb'"[A-Za-z]', data)] or [0]
    where = []
    buf = data
    for _ in range(rng.randint(1, 3)):
        bad = rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf0\x28\x8c\x28", b"\x80"])
        i = rng.choice(quotes)
        buf = buf[:i] + bad + buf[i:]
        where.append(i)
    return buf, f"invalid UTF-8 inserted at {where}"


def _empty(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    out = rng.choice([b"", b"\n", b"  \n\n\t\n", b"\x00" * 16, b"{}", b"[]", b"null"])
    return out, f"replaced by {out!r}"


JSON_MUTATIONS: dict[str, Callable[[random.Random, Any], tuple[Any, str] | None]] = {
    "wrong_type": _wrong_type,
    "huge_number": _huge_number,
    "negative_tokens": _negative_tokens,
    "nan_infinity": _nan,
    "deep_nesting": _deep,
    "control_strings": _poison,
}
BYTE_MUTATIONS: dict[str, Callable[[random.Random, bytes], tuple[bytes, str]]] = {
    "truncate": _truncate,
    "flip_bits": _flip,
    "replace_bytes": _replace_bytes,
    "insert_controls": _insert_controls,
    "lines": _lines_dup_del,
    "bom": _bom,
    "invalid_utf8": _invalid_utf8,
    "empty": _empty,
}
# relative weights: the JSON-aware mutations keep the file readable, so they get further in
WEIGHTS = {"wrong_type": 6, "huge_number": 2, "negative_tokens": 2, "nan_infinity": 2,
           "deep_nesting": 1, "control_strings": 6, "truncate": 2, "flip_bits": 2,
           "replace_bytes": 1, "insert_controls": 2, "lines": 2, "bom": 1, "invalid_utf8": 1,
           "empty": 1, "gzip": 2}


def mutate(rng: random.Random, data: bytes, name: str | None = None) -> tuple[bytes, str, bool]:
    """(mutant, description, gzipped) for one random (or the named) mutation."""
    if name is None:
        name = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
    if name == "gzip":
        inner = rng.choice([n for n in WEIGHTS if n != "gzip"])
        out, detail, _ = mutate(rng, data, inner)
        packed = gzip.compress(out, mtime=0)
        if rng.random() < 0.3:  # a damaged archive too
            packed, more = (_truncate if rng.random() < 0.5 else _flip)(rng, packed)
            return packed, f"gzip of [{inner}: {detail}], then {more}", True
        return packed, f"gzip of [{inner}: {detail}]", True
    if name in JSON_MUTATIONS:
        out, detail = _mutate_json(rng, data, JSON_MUTATIONS[name])
        return out, f"{name}: {detail}", False
    out, detail = BYTE_MUTATIONS[name](rng, data)
    return out, f"{name}: {detail}", False


# ------------------------------------------------------------------ running the CLI


def _worker_init(cwd: str) -> None:
    """A worker runs the CLI as ``cli_env`` sets it up."""
    os.environ.update(COLUMNS="100", NO_COLOR="1", TZ="UTC")
    os.environ.pop("AGENTCOST_DEBUG", None)
    os.chdir(cwd)
    # CliRunner.invoke rebuilds the click command from the Typer app on every call (~50 ms,
    # a fifth of a run): a worker builds it once
    import functools

    import typer.testing

    typer.testing._get_command = functools.cache(  # type: ignore[attr-defined]
        typer.testing._get_command)


def _commands(i: int, path: Path) -> list[tuple[list[str], set[int]]]:
    cmds: list[tuple[list[str], set[int]]] = [(["analyze", str(path)], {0, 2})]
    if i % 6 == 1:
        cmds.append((["analyze", str(path), "--format", "json"], {0, 2}))
    if i % 25 == 7:
        cmds.append((["simulate", str(path), "--cache", "auto"], {0, 2}))
    if i % 25 == 19:
        # exit 1: findings at or above --fail-on (the default, warning)
        cmds.append((["audit-prompt", str(path)], {0, 1, 2}))
    return cmds


def run_mutant(job: tuple[int, str, str, str]) -> list[tuple[int, str]]:
    """Run the commands for one saved mutant: [(exit code, failure or "")]."""
    i, seed_name, desc, name = job
    path = Path(name)
    out: list[tuple[int, str]] = []
    for args, allowed in _commands(i, path):
        res = _invoke(args)
        why = _check(res, allowed)
        if why is None:
            out.append((res.exit_code, ""))
            continue
        if res.exit_code == 70:  # the traceback an internal error hides
            dbg = _invoke(args, debug=True).exception
            if dbg is not None and not isinstance(dbg, SystemExit):
                tb = "".join(traceback.format_exception(dbg)).strip().splitlines()
                why += " | traceback: " + " | ".join(x.strip() for x in tb[-5:])
        out.append((res.exit_code, f"mutant {i} of seed {seed_name!r} ({desc}), saved at "
                                    f"{path}: `agentcost {' '.join(args[:1] + args[2:])}` {why}"))
    return out


def make_mutants(seeds: list[Seed], out_dir: Path, n: int,
                 base: int = FUZZ_SEED) -> list[tuple[int, str, str, str]]:
    jobs = []
    for i in range(n):
        rng = random.Random(f"{base}-{i}")
        seed = seeds[i % len(seeds)]
        data, desc, gz = mutate(rng, seed.data)
        label = desc.split(":")[0].split(" ")[0]
        path = out_dir / f"{i:03d}-{seed.name}-{label}{seed.suffix}{'.gz' if gz else ''}"
        path.write_bytes(data)
        jobs.append((i, seed.name, desc, str(path)))
    return jobs


def run_all(jobs: list[tuple[int, str, str, str]], cwd: Path,
            workers: int = 2) -> tuple[list[str], Counter[int]]:
    """Run every mutant on ``workers`` processes (spawned: a clean interpreter each)."""
    failures: list[str] = []
    exits: Counter[int] = Counter()
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init,
                             initargs=(str(cwd),)) as pool:
        for results in pool.map(run_mutant, jobs, chunksize=4):
            for code, why in results:
                exits[code] += 1
                if why:
                    failures.append(why)
    return failures, exits


def test_fuzz_cli_on_mutated_traces(seeds: list[Seed], tmp_path: Path) -> None:
    n = int(os.environ.get("AGENTCOST_FUZZ_MUTANTS", N_MUTANTS))
    base = int(os.environ.get("AGENTCOST_FUZZ_SEED", FUZZ_SEED))
    out_dir = tmp_path / "fuzz"
    out_dir.mkdir()
    started = time.monotonic()
    jobs = make_mutants(seeds, out_dir, n, base)
    failures, exits = run_all(jobs, tmp_path, workers=min(2, os.cpu_count() or 1))
    took = time.monotonic() - started
    report = out_dir / "failures.txt"
    report.write_text("\n".join(failures) + "\n")
    assert not failures, (f"{len(failures)} failing runs on {n} mutants ({took:.0f}s, exit codes "
                          f"{dict(exits)}; all listed in {report}):\n" + "\n".join(failures[:20]))
    # most mutants must still be read (a harness whose mutants all fail early tests nothing)
    assert exits[0] >= n // 2, f"only {exits[0]} of {sum(exits.values())} runs exited 0: {exits}"


# ------------------------------------------------------------------ regressions
# One small hand-made input per root cause the fuzzer found; each failed before its fix.


def _run_all_ok(path: Path, allowed: tuple[int, ...] = (0,)) -> None:
    for args in (["analyze", str(path)], ["analyze", str(path), "--format", "json"],
                 ["simulate", str(path), "--cache", "auto"]):
        _ok(_invoke(args), allowed)


CONTROL_TRACE = "".join(_agentcost_line(**kw) for kw in (
    dict(task_id="t\x1b[31m1", name="plan\x07", model="gpt-4o\x9b31m",
         tool_calls=["bash\x1b]0;pwned\x07"], stop_reason="tool_use\r"),
    dict(task_id="t\x1b[31m1", kind="tool", name="bash\x1b]0;pwned\x07", model=None,
         input_tokens=None, output_tokens=None, started_at="2026-11-02T09:00:01Z"),
    dict(task_id="\u202eevil\x00", model="claude-sonnet-4-5\x7f", provider="anthropic"),
))


@pytest.mark.parametrize("args", [
    [], ["--steps"], ["--task", "t\x1b[31m1"], ["--task", "t\x1b[31m1", "--chart"],
    ["--chart"], ["--group-by", "model"], ["--explain-misses"], ["-f", "markdown"],
    ["-f", "csv"], ["-f", "json"], ["-f", "jsonl"], ["-f", "markdown", "--task", "t\x1b[31m1"],
    ["-f", "csv", "--steps"], ["-f", "markdown", "--explain-misses"],
])
def test_regression_control_characters_in_analyze(cli_env: None, tmp_path: Path,
                                                  args: list[str]) -> None:
    """render.safe: task ids, model and tool names holding ESC, BEL, CR, NUL, DEL, C1 and a
    bidi override print as visible escapes in every analyze format; JSON keeps them exactly."""
    path = tmp_path / "controls.jsonl"
    path.write_text(CONTROL_TRACE)
    res = _invoke(["analyze", str(path), *args])
    _ok(res)
    if "-f" not in args:
        assert "\\x1b[31m" in res.stdout or "\\x9b31m" in res.stdout  # shown, not obeyed
    elif args[1] in ("json", "jsonl"):
        docs = ([json.loads(x) for x in res.stdout.splitlines()] if args[1] == "jsonl"
                else json.loads(res.stdout)["tasks"])
        assert "t\x1b[31m1" in {d["task_id"] for d in docs}  # lossless


@pytest.mark.parametrize("args", [
    ["simulate", "--cache", "auto"], ["simulate", "--cache", "auto", "-f", "markdown"],
    ["simulate", "--cache", "auto", "-f", "csv"], ["simulate", "--cache", "auto", "-f", "json"],
    ["check", "--baseline", "baseline.json"],
    ["check", "--baseline", "baseline.json", "-f", "markdown", "--junit", "junit.xml"],
    ["audit-prompt"], ["audit-prompt", "-f", "markdown"], ["audit-prompt", "-f", "sarif"],
])
def test_regression_control_characters_in_other_commands(cli_env: None, tmp_path: Path,
                                                         args: list[str]) -> None:
    """render.safe in simulate, check (against a baseline with other token counts, JUnit too)
    and audit-prompt (a prompt file whose excerpts hold ANSI sequences)."""
    path = tmp_path / "controls.jsonl"
    path.write_text(CONTROL_TRACE)
    if args[0] == "check":
        (tmp_path / "base.jsonl").write_text(CONTROL_TRACE.replace('"input_tokens": 100',
                                                                   '"input_tokens": 40'))
        _ok(_invoke(["analyze", "base.jsonl", "-f", "json", "--steps", "-o", "baseline.json"]))
    if args[0] == "audit-prompt":
        path = tmp_path / "prompt.txt"
        path.write_text("You are a support agent for ACME.\nCurrent time: 2026-05-12T10:00:00Z "
                        "\x1b[31mred\x1b[0m \x07\x9b2J request 3f9a2c1e-aaaa-bbbb-cccc-1234567\n")
    res = _invoke([args[0], str(path), *args[1:]])
    _ok(res, (0, 1, 3))  # 1: a gate failed or findings; 3: inconclusive (an unpriced model)
    if "--junit" in args:
        assert not BAD_OUTPUT.search((tmp_path / "junit.xml").read_text())


def test_regression_control_characters_in_error_messages(cli_env: None, tmp_path: Path) -> None:
    """cli._fail: the one-line error quotes the file name, escaped."""
    path = tmp_path / "run\x1b[2J\x07.jsonl"
    path.write_text("")
    res = _invoke(["analyze", str(path)])
    _ok(res, (2,))
    assert "file is empty" in res.stderr and "run\\x1b[2J\\x07.jsonl" in res.stderr


@pytest.mark.parametrize("seed", [REPO / "sample_traces" / "support_agent.jsonl",
                                  REAL / "claude-code-spotter" / "short.jsonl"])
def test_regression_damaged_gzip(cli_env: None, tmp_path: Path, seed: Path) -> None:
    """ingest.base.Source and the Claude Code scanner (which reads lines itself): a corrupt
    deflate stream (zlib.error) is a one-line error naming the file, not an internal error."""
    data = bytearray(gzip.compress(seed.read_bytes(), mtime=0))
    mid = len(data) // 2
    data[mid: mid + 40] = bytes(b ^ 0x55 for b in data[mid: mid + 40])
    path = tmp_path / f"{seed.stem}.jsonl.gz"
    path.write_bytes(bytes(data))
    res = _invoke(["analyze", str(path)])
    _ok(res, (2,))
    assert f"{path}: cannot read" in res.stderr


DEEP_LIST = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("cmd,name,text", [
    # the OTLP reader's fallback decoder, the standard library's, on a pretty-printed file
    ("analyze", "deep.json", '{\n "resourceSpans": [{"scopeSpans": []}],\n "x": ' + DEEP_LIST
     + "}"),
    # audit's request-body sniff (the standard library's decoder) on a trace file
    ("audit-prompt", "deep.json", '{"resourceSpans": [], "x": ' + DEEP_LIST + "}"),
    # audit.positions.JsonPositions, a recursive parser, on a request body
    ("audit-prompt", "body.json", '{"model": "gpt-4o", "messages": ' + DEEP_LIST + "}"),
    # PyYAML's composer on a YAML request body
    ("audit-prompt", "body.yaml", "model: gpt-4o\nmessages: " + DEEP_LIST[:4000]
     + DEEP_LIST[-4000:]),
])
def test_regression_deeply_nested_json(cli_env: None, tmp_path: Path, cmd: str, name: str,
                                       text: str) -> None:
    """Nesting deeper than a parser recurses is bad JSON or YAML (exit 2, or a counted
    malformed line), not a RecursionError."""
    path = tmp_path / name
    path.write_text(text + "\n")
    _ok(_invoke([cmd, str(path)]), (0, 1, 2))


def _span_js(start: str) -> str:
    """An OTel-JS span export (Vercel AI SDK) whose start time is ``start`` (raw JSON)."""
    return ('[{"name": "ai.generateText.doGenerate", "spanContext": {"traceId": '
            '"b3e700af9eab81e19f72f964d62a35af", "spanId": "39d6e9b3ddec9996"}, "attributes": '
            '{"ai.operationId": "ai.generateText.doGenerate", "ai.model.provider": '
            '"openai.responses", "ai.model.id": "gpt-4o-mini", "gen_ai.request.model": '
            '"gpt-4o-mini", "ai.usage.promptTokens": 14, "ai.usage.completionTokens": 20}, '
            f'"status": {{"code": 0}}, "startTime": {start}, "endTime": [1770131994, 21415667], '
            '"events": []}]\n')


@pytest.mark.parametrize("name,text", [
    # otlp._ns: an OTel-JS hrtime [seconds, nanos] holding Infinity or NaN, or past 2262
    ("hrtime-infinity", _span_js("[Infinity, 0]")),
    ("hrtime-nan", _span_js("[1770131992, NaN]")),
    ("hrtime-2**64", _span_js("[18446744073709551617, 0]")),
    # steps.to_utc_ns: epoch numbers and ISO times past what datetime64[ns] holds
    ("epoch-1e30", _agentcost_line(started_at=1e30)),
    ("iso-year-9999", _agentcost_line(started_at="9999-12-31T23:59:59Z")),
    # claude_code._ns, the Claude Code reader's fast path for its own timestamps
    ("claude-code-year-9999", '{"type": "assistant", "uuid": "u1", "parentUuid": null, '
     '"sessionId": "s1", "timestamp": "9999-02-12T16:02:25.227Z", "message": {"id": "m1", '
     '"model": "claude-sonnet-4-5", "role": "assistant", "content": [], "usage": '
     '{"input_tokens": 10, "output_tokens": 5}}}\n'),
])
def test_regression_times_out_of_range(cli_env: None, tmp_path: Path, name: str,
                                       text: str) -> None:
    """A time that is not finite or lies outside 1740-2200 is unknown, not an OverflowError
    when the time columns are built."""
    path = tmp_path / f"{name}.json"
    path.write_text(text)
    _run_all_ok(path)


@pytest.mark.parametrize("value", [-10**400, 10**400, -(2**63), 0, -1.5e308])
def test_to_utc_ns_of_numbers_out_of_range_is_unknown(value: float) -> None:
    """steps.to_utc_ns: an epoch number that is not a time (huge, zero, negative) is unknown;
    float() of a huge int of either sign used to raise OverflowError (readers that decode with
    Python's json can hand such an int over)."""
    from agentcost.steps import to_utc_ns

    assert to_utc_ns(value) is None


@pytest.mark.parametrize("duration", [1e300, 2**63])
def test_regression_durations_out_of_range(cli_env: None, tmp_path: Path,
                                           duration: float) -> None:
    """ingest._consume: a step duration pandas cannot add to its start time (OutOfBounds-
    Timedelta) is unknown, and the ingest report says so."""
    path = tmp_path / "run.jsonl"
    path.write_text(_agentcost_line(duration_ms=duration))
    _run_all_ok(path)
    notes = json.loads(_invoke(["analyze", str(path), "-f", "json"]).stdout)["ingest"]["notes"]
    assert any("taken as unknown" in n for n in notes)


def _otlp_line(attributes: str, spans: str | None = None) -> str:
    """One OTLP/JSON line: one GenAI chat span with the given raw attribute list (or the raw
    ``spans`` value instead)."""
    span = ('{"traceId": "23d1e36d0fc30956b278b21a62df4d2a", "spanId": "dfcc3261e6fb7d67", '
            '"name": "chat gpt-4.1-mini", "kind": 3, "startTimeUnixNano": "1795278811579898575", '
            '"endTimeUnixNano": "1795278811720037183", "attributes": ' + attributes + '}')
    return ('{"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"scope": '
            '{"name": "opentelemetry.util.genai.handler"}, "spans": '
            + (spans if spans is not None else f"[{span}]") + '}]}]}\n')


GENAI_ATTRS = ('{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}}, '
               '{"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4.1-mini"}}, '
               '{"key": "gen_ai.usage.input_tokens", "value": {"intValue": "2894"}}, '
               '{"key": "gen_ai.usage.output_tokens", "value": {"intValue": "26"}}')


@pytest.mark.parametrize("key", ["null", '[1, "a"]', "1.5"])
def test_regression_attribute_key_not_a_string(cli_env: None, tmp_path: Path, key: str) -> None:
    """otel_attrs.attr_dict: an OTLP attribute whose key is not a string is left out, not a
    TypeError (unhashable) or AttributeError (``.startswith``) further on."""
    path = tmp_path / "run.otlp.jsonl"
    path.write_text(_otlp_line(f'[{{"key": {key}, "value": {{"stringValue": "x"}}}}, '
                               f'{GENAI_ATTRS}]'))
    _run_all_ok(path)


RAW_CALL = ('{"request": {"model": "gpt-4o", "messages": MESSAGES}, "response": {"id": "c1", '
            '"object": "chat.completion", "model": "gpt-4o", "choices": CHOICES, "usage": '
            '{"prompt_tokens": 10, "completion_tokens": 2}}}\n')


@pytest.mark.parametrize("name,text", [
    ("otlp-spans", lambda: _otlp_line("[]", spans="7")),
    ("raw-choices", lambda: RAW_CALL.replace("MESSAGES", "[]").replace("CHOICES", "-1")),
    ("raw-tool-calls", lambda: RAW_CALL.replace("MESSAGES", "[]").replace(
        "CHOICES", '[{"index": 0, "message": {"role": "assistant", "tool_calls": 3}}]')),
    ("raw-messages", lambda: RAW_CALL.replace("MESSAGES", "5").replace("CHOICES", "[]")),
    ("openhands-tool-calls", lambda: _openhands(1, "tool_call_metadata", "model_response",
                                                "choices", 0, "message", "tool_calls", value=-1)),
])
def test_regression_number_where_a_list_belongs(cli_env: None, tmp_path: Path, name: str,
                                                text: Callable[[], str]) -> None:
    """common.as_list in the readers: a list field (spans, choices, tool_calls, messages)
    holding a number contributes nothing instead of raising TypeError ("not iterable")."""
    path = tmp_path / f"{name}.json"
    path.write_text(text())
    _run_all_ok(path)


def _openhands(event: int, *keys: str | int, value: Any) -> str:
    """The real OpenHands trajectory basic.json with ``events[event][keys...]`` set."""
    events = json.loads((REAL / "openhands" / "runtime-trajs" / "basic.json").read_bytes())
    node = events[event]
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = value
    return json.dumps(events)


def _codex(line: int, value: Any) -> str:
    """The first lines of the real Codex rollout, line ``line``'s ``payload.type`` set."""
    path = sorted((REAL / "codex-codemie").glob("*.jsonl"))[0]
    lines = path.read_bytes().splitlines()[:12]
    obj = json.loads(lines[line - 1])
    obj["payload"]["type"] = value
    lines[line - 1] = json.dumps(obj).encode()
    return b"\n".join(lines).decode() + "\n"


@pytest.mark.parametrize("name,text", [
    ("codex-item-type", lambda: _codex(3, [1, "a"])),
    ("codex-event-type", lambda: _codex(next(
        i for i, raw in enumerate(sorted((REAL / "codex-codemie").glob("*.jsonl"))[0]
                                  .read_bytes().splitlines()[:12], 1)
        if b'"type":"event_msg"' in raw), {"a": 1})),
    ("openhands-action", lambda: _openhands(1, "action", value={"a": 1})),
    ("openhands-cause", lambda: _openhands(2, "cause", value=[3])),
    ("openhands-id", lambda: _openhands(1, "id", value={"a": 1})),
])
def test_regression_unhashable_type_fields(cli_env: None, tmp_path: Path, name: str,
                                           text: Callable[[], str]) -> None:
    """common.as_str and openhands._event_id: a ``type``, ``action``, ``id`` or ``cause``
    holding a list or an object matches nothing, instead of raising TypeError (unhashable)
    when looked up in a set or a dict."""
    path = tmp_path / f"{name}.json"
    path.write_text(text())
    _run_all_ok(path)


@pytest.mark.parametrize("name,text", [
    ("token-superscript", lambda: _agentcost_line(cache_read_tokens="\u00b2")),
    ("token-5000-digits", lambda: _agentcost_line(output_tokens="9" * 5000)),
    ("otlp-time-superscript", lambda: _otlp_line(f"[{GENAI_ATTRS}]").replace(
        '"1795278811579898575"', '"\u00b2"')),
    ("iso-fraction-superscript", lambda: _agentcost_line(
        started_at="2026-11-02T09:00:00.1234567\u00b2Z")),
])
def test_regression_digit_strings(cli_env: None, tmp_path: Path, name: str,
                                  text: Callable[[], str]) -> None:
    """steps.int_text: ``str.isdigit`` is true for "²" and for digit runs longer than
    ``int()`` converts, which then raised ValueError; such a count is malformed, such a time
    unknown."""
    path = tmp_path / f"{name}.json"
    path.write_text(text())
    _run_all_ok(path)
