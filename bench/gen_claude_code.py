"""Generate realistic Claude Code logs for the ingest benchmark.

Shape modelled on the real sessions in shared/real-traces/claude-code-* (CLI 2.0.x/2.1.x):

* ``projects/<project>/<session>.jsonl`` with file-history-snapshot, user prompt, assistant lines
  (one per content block: thinking with a signature, text, tool_use; streamed partial copies
  share ``message.id``/``requestId`` and carry a placeholder ``output_tokens`` until the last),
  ``user`` tool_result lines with bulky output twice (``message.content`` and ``toolUseResult``),
  ``progress`` lines (hook_progress, bash_progress with output), system stop_hook_summary /
  turn_duration lines, queue-operation lines;
* subagents in ``<session>/subagents/agent-<id>.jsonl`` (``isSidechain``/``agentId``), mirrored
  in the parent by ``agent_progress`` lines, and a Task tool_result whose ``toolUseResult.usage``
  is the subagent's aggregate (must not be counted);
* now and then a ``<synthetic>`` message, a 1h-TTL session, and a resumed session (a new file
  repeating an earlier session's lines, then going on).

Byte mix of the real logs: about 60 % tool_result lines, 20 % assistant lines, 20 % progress.

Writes ``manifest.json`` beside the projects with the expected deduplicated totals.

Two profiles:

* ``sparse`` (the default): ~36 KB per API call, one model per chain (Opus 4.6 main,
  Sonnet 4.5 subagents), one session at a time from 2026-01-05;
* ``dense``: ~14.5 KB per API call (smaller tool output, fewer thinking blocks and progress
  lines), ~2.2 usage lines per call, 8 current models (Opus 5.5 / 5 / 4.8, Sonnet 5.5 / 5 /
  4.6, Haiku 5.5 / 4.5: all priced by genai-prices) mixed within sessions, sessions running
  concurrently over 2026-10-03 … 2026-11-17 (thousands of (model, hour) groups; the window
  crosses the 2026-10-07 Sonnet 5.5 cache-read price change and Haiku 5.5's release), and
  1M-context sessions whose prompts pass 200k tokens (Haiku 5.5 prompts over 100k take its
  higher tier).

    python bench/gen_claude_code.py --size 100M            # -> bench/data/cc-100M/
    python bench/gen_claude_code.py --size 1G --seed 7
    python bench/gen_claude_code.py --size 1G --profile dense   # -> bench/data/cc-dense-1G/
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
TOOLS = ("Bash", "Read", "Edit", "Grep", "Glob", "Write", "TodoWrite")
WORDS = ("def", "return", "self", "import", "class", "value", "None", "if", "else", "for",
         "the", "result", "error", "path", "config", "token", "cache", "request", "session",
         "async", "await", "fn", "map", "x", "y", "i", "assert", "test", "data", "é", "λ")
PROFILES = ("sparse", "dense")
# dense profile: (model, weight) of a session's main chain, and of its subagents
MAIN_MODELS = (("claude-opus-4-8", 25), ("claude-opus-5", 15), ("claude-opus-5-5", 10),
               ("claude-sonnet-5", 15), ("claude-sonnet-5-5", 15), ("claude-sonnet-4-6", 10),
               ("claude-haiku-5-5", 10))
SUB_MODELS = (("claude-haiku-4-5-20251001", 40), ("claude-haiku-5-5", 40), ("claude-sonnet-5", 20))
HAIKU_5_5_FROM_MS = int(time.mktime((2026, 10, 7, 0, 0, 0, 0, 0, 0))) * 1000
DENSE_START_MS = int(time.mktime((2026, 10, 3, 0, 0, 0, 0, 0, 0))) * 1000
DENSE_DAYS = 45


def parse_size(text: str) -> int:
    t = text.strip().upper().rstrip("B").rstrip("I")
    mult = {"K": 1024, "M": 1024**2, "G": 1024**3}.get(t[-1:], 1)
    return int(float(t.rstrip("KMG")) * mult)


class Gen:
    def __init__(self, seed: int, profile: str = "sparse") -> None:
        self.r = random.Random(seed)
        self.dense = profile == "dense"
        self.t_ms = int(time.mktime((2026, 1, 5, 9, 0, 0, 0, 0, 0))) * 1000
        # a pool of code-like chunks (quotes, backslashes, newlines, some non-ASCII)
        self.pool = [self._chunk(self.r.choice((512, 2048, 8192, 32768, 65536)))
                     for _ in range(96)]
        self.sigs = [base64.b64encode(self.r.randbytes(self.r.randint(300, 1500))).decode()
                     for _ in range(32)]
        self.expected = {"calls": 0, "input_raw": 0, "cache_read": 0, "cache_write": 0,
                         "cache_write_1h": 0, "output": 0, "tool_steps": 0}
        self.models: Counter[str] = Counter()  # calls per model
        self.model_hours: set[tuple[str, int]] = set()  # (model, UTC hour of the first line)
        self.usage_lines = 0
        self.long_prompts = 0  # calls whose prompt (input + cache) is over 200k tokens

    def model(self, choices: tuple[tuple[str, int], ...]) -> str:
        m = self.r.choices([c[0] for c in choices], [c[1] for c in choices])[0]
        if m == "claude-haiku-5-5" and self.t_ms < HAIKU_5_5_FROM_MS:
            m = "claude-haiku-4-5-20251001"  # not released yet
        return m

    def _chunk(self, n: int) -> str:
        r = self.r
        parts: list[str] = []
        size = 0
        while size < n:
            line = "    " * r.randint(0, 3) + " ".join(r.choice(WORDS)
                                                      for _ in range(r.randint(2, 14)))
            if r.random() < 0.2:
                line += ' = "' + r.choice(WORDS) + '\\n"'
            parts.append(line)
            size += len(line) + 1
        return "\n".join(parts)[:n]

    def text(self, lo: int, hi: int) -> str:
        c = self.r.choice(self.pool)
        n = self.r.randint(lo, hi)
        while len(c) < n:
            c += "\n" + self.r.choice(self.pool)
        return c[:n]

    def bulky(self) -> str:
        # heavy-tailed tool output: mostly a few KB, sometimes tens of KB
        r = self.r.random()
        if self.dense:
            if r < 0.65:
                return self.text(80, 1200)
            if r < 0.94:
                return self.text(1200, 5000)
            return self.text(5000, 20000)
        if r < 0.55:
            return self.text(100, 3000)
        if r < 0.9:
            return self.text(3000, 15000)
        return self.text(15000, 60000)

    def uuid(self) -> str:
        h = f"{self.r.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"

    def tick(self, lo: int, hi: int) -> str:
        self.t_ms += self.r.randint(lo, hi)
        s = self.t_ms // 1000
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + f".{self.t_ms % 1000:03d}Z"


class Session:
    """Writes one session (and its subagents) line by line."""

    def __init__(self, g: Gen, folder: Path, budget: int, one_hour: bool, version: str) -> None:
        self.g = g
        self.r = g.r
        self.folder = folder
        self.sid = g.uuid()
        self.budget = budget
        self.one_hour = one_hour
        self.version = version
        self.final_stop = self.r.random() < 0.5  # 2.0.x logs set stop_reason on the last line
        self.lines: list[bytes] = []
        self.size = 0
        self.ctx = self.r.randint(8000, 20000)
        self.end_ms = 0
        self.main_model, self.alt_model = "claude-opus-4-6", "claude-opus-4-6"
        self.sub_model = "claude-sonnet-4-5-20250929"
        self.compact_at = 165_000
        if g.dense:  # concurrent sessions: each starts at its own time in the window
            g.t_ms = DENSE_START_MS + int(self.r.random() * DENSE_DAYS * 86_400_000)
            self.main_model, self.alt_model = g.model(MAIN_MODELS), g.model(MAIN_MODELS)
            self.sub_model = g.model(SUB_MODELS)
            if self.r.random() < 0.15 and "haiku" not in self.main_model:
                self.compact_at = 600_000  # a 1M-context session

    def base(self, parent: str | None, sidechain: bool = False,
             agent: str | None = None) -> dict[str, Any]:
        d: dict[str, Any] = {"parentUuid": parent, "isSidechain": sidechain,
                             "userType": "external", "cwd": "/home/user/proj",
                             "sessionId": self.sid, "version": self.version,
                             "gitBranch": "main"}
        if agent:
            d["agentId"] = agent
        return d

    def emit(self, out: list[bytes], obj: dict[str, Any]) -> None:
        b = orjson.dumps(obj) + b"\n"
        out.append(b)
        self.size += len(b)

    def usage(self, out_tokens: int, final: bool) -> dict[str, Any]:
        r = self.r
        write = r.randint(200, 4000) if r.random() < 0.7 else 0
        if r.random() < 0.05:
            write = r.randint(20000, 60000)  # cache miss: rewrite
        read = max(0, self.ctx - write)
        u: dict[str, Any] = {"input_tokens": r.randint(1, 12),
                             "cache_creation_input_tokens": write,
                             "cache_read_input_tokens": read,
                             "cache_creation": {
                                 "ephemeral_5m_input_tokens": 0 if self.one_hour else write,
                                 "ephemeral_1h_input_tokens": write if self.one_hour else 0},
                             "output_tokens": out_tokens,
                             "service_tier": "standard", "inference_geo": "not_available"}
        return u

    def call(self, out: list[bytes], parent: str, sidechain: bool, agent: str | None,
             tools: list[tuple[str, dict[str, Any]]], mirror: list[bytes] | None,
             mirror_parent: list[str]) -> tuple[str, list[tuple[str, str, str]]]:
        """One API response as several assistant lines; returns (last uuid, tool uses)."""
        r, g = self.r, self.g
        mid = "msg_01" + "".join(r.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123"
                                          "456789") for _ in range(22))
        req = "req_011C" + "".join(r.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789")
                                   for _ in range(20))
        blocks: list[dict[str, Any]] = []
        p_think, p_text = (0.3, 0.4) if g.dense else (0.6, 0.7)
        if r.random() < p_think:
            blocks.append({"type": "thinking", "thinking": g.text(100, 2500),
                           "signature": r.choice(g.sigs)})
        if r.random() < p_text or not tools:
            blocks.append({"type": "text", "text": g.text(20, 1500)})
        uses: list[tuple[str, str, str]] = []
        for name, inp in tools:
            tid = "toolu_01" + "".join(r.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijk0123456789")
                                       for _ in range(22))
            blocks.append({"type": "tool_use", "id": tid, "name": name, "input": inp})
        final_out = r.randint(30, 1500)
        u_final = self.usage(final_out, True)
        placeholder = r.randint(1, 30)
        last = parent
        first_ms = g.t_ms
        model = self.sub_model if sidechain else self.main_model
        if g.dense and not sidechain and r.random() < 0.2:
            model = self.alt_model  # /model switches, helper calls
        for i, blk in enumerate(blocks):
            is_last = i == len(blocks) - 1
            u = dict(u_final, output_tokens=final_out if is_last else placeholder)
            stop = None
            if is_last and self.final_stop:
                stop = "tool_use" if tools else "end_turn"
            msg = {"model": model, "id": mid, "type": "message", "role": "assistant",
                   "content": [blk], "stop_reason": stop, "stop_sequence": None, "usage": u}
            ts = g.tick(300, 6000) if i == 0 else g.tick(5, 1500)
            first_ms = g.t_ms if i == 0 else first_ms
            uid = g.uuid()
            obj = self.base(last, sidechain, agent)
            obj.update(message=msg, requestId=req, type="assistant", uuid=uid, timestamp=ts)
            self.emit(out, obj)
            if mirror is not None:
                self.mirror(mirror, mirror_parent, agent, {"type": "assistant", "timestamp": ts,
                                                           "message": msg, "requestId": req,
                                                           "uuid": uid})
            last = uid
            if blk["type"] == "tool_use":
                uses.append((blk["id"], blk["name"], uid))
        e = self.g.expected
        g.models[model] += 1
        g.model_hours.add((model, first_ms // 3_600_000))
        g.usage_lines += len(blocks)
        if u_final["input_tokens"] + u_final["cache_read_input_tokens"] \
                + u_final["cache_creation_input_tokens"] > 200_000:
            g.long_prompts += 1
        e["calls"] += 1
        e["input_raw"] += u_final["input_tokens"]
        e["cache_read"] += u_final["cache_read_input_tokens"]
        e["cache_write"] += u_final["cache_creation_input_tokens"]
        e["cache_write_1h"] += u_final["cache_creation"]["ephemeral_1h_input_tokens"]
        e["output"] += final_out
        e["tool_steps"] += len(uses)
        self.ctx += u_final["cache_creation_input_tokens"] + final_out + r.randint(50, 3000)
        if self.ctx > self.compact_at:  # auto-compaction
            self.ctx = r.randint(20_000, 40_000)
        return last, uses

    def mirror(self, out: list[bytes], parent: list[str], agent: str | None,
               nested: dict[str, Any]) -> None:
        uid = self.g.uuid()
        obj = self.base(parent[0])
        obj.update(type="progress", data={"message": nested, "normalizedMessages": [],
                                          "type": "agent_progress", "prompt": "Explore",
                                          "agentId": agent},
                   toolUseID="agent_msg_x", parentToolUseID="toolu_task",
                   uuid=uid, timestamp=nested.get("timestamp"))
        self.emit(out, obj)
        parent[0] = uid

    def tool_input(self, name: str) -> dict[str, Any]:
        r = self.r
        if name == "Bash":
            return {"command": f"pytest tests/test_{r.randint(1, 60)}.py -q",
                    "description": "Run tests"}
        if name in ("Read", "Write", "Edit"):
            d: dict[str, Any] = {"file_path": f"/home/user/proj/src/mod{r.randint(1, 80)}.py"}
            if name == "Edit":
                d.update(old_string=self.g.text(20, 400), new_string=self.g.text(20, 400))
            if name == "Write":
                d["content"] = self.g.text(200, 4000)
            return d
        if name == "TodoWrite":
            return {"todos": [{"content": "step", "status": "pending", "activeForm": "doing"}]}
        return {"pattern": r.choice(WORDS), "path": "/home/user/proj"}

    def results(self, out: list[bytes], last: str, uses: list[tuple[str, str, str]],
                sidechain: bool, agent: str | None, mirror: list[bytes] | None,
                mirror_parent: list[str]) -> str:
        r, g = self.r, self.g
        for tid, name, src_uuid in uses:
            if name == "Bash" and not sidechain:
                for k in range(r.randint(0, 1 if g.dense else 4)):
                    obj = self.base(last)
                    chunk = g.text(200, 3000)
                    obj.update(type="progress", data={
                        "type": "bash_progress", "output": chunk[:400], "fullOutput": chunk,
                        "elapsedTimeSeconds": k + 1, "totalLines": 40, "timeoutMs": 120000},
                        toolUseID=f"bash-progress-{k}", parentToolUseID=tid,
                        uuid=g.uuid(), timestamp=g.tick(200, 2000))
                    self.emit(out, obj)
            for event in ("PreToolUse", "PostToolUse") if not sidechain else ():
                obj = self.base(last)
                obj.update(type="progress", data={"type": "hook_progress",
                                                  "hookEvent": event,
                                                  "hookName": f"{event}:{name}",
                                                  "command": "~/.claude/hooks/tool-hook.sh"},
                           parentToolUseID=tid, toolUseID=tid, uuid=g.uuid(),
                           timestamp=g.tick(1, 50))
                self.emit(out, obj)
            body = g.bulky()
            err = r.random() < 0.04
            content = [{"tool_use_id": tid, "type": "tool_result", "content": body,
                        "is_error": err}]
            if name == "Read":
                tur: Any = {"type": "text", "file": {"filePath": "/home/user/proj/x.py",
                                                     "content": body, "numLines": 200,
                                                     "startLine": 1, "totalLines": 200}}
            else:
                tur = {"stdout": body, "stderr": "", "interrupted": False,
                       "isImage": False}
            uid = g.uuid()
            ts = g.tick(20, 20000 if name == "Bash" else 800)
            obj = self.base(last, sidechain, agent)
            obj.update(type="user", message={"role": "user", "content": content}, uuid=uid,
                       timestamp=ts, toolUseResult=tur, sourceToolAssistantUUID=src_uuid)
            self.emit(out, obj)
            if mirror is not None:
                self.mirror(mirror, mirror_parent, agent,
                            {"type": "user", "message": {"role": "user", "content": content},
                             "uuid": uid, "timestamp": ts})
            last = uid
        return last

    def subagent(self, parent_uuid: str, task_tid: str) -> tuple[list[bytes], list[bytes]]:
        """A subagent run: its own file's lines, and the parent's agent_progress mirror."""
        r, g = self.r, self.g
        agent = f"a{r.getrandbits(28):07x}"
        sub: list[bytes] = []
        mirror: list[bytes] = []
        mparent = [parent_uuid]
        uid = g.uuid()
        obj = self.base(None, True, agent)
        obj.update(type="user", message={"role": "user", "content": "Explore the codebase"},
                   uuid=uid, timestamp=g.tick(50, 500))
        self.emit(sub, obj)
        last = uid
        saved_ctx = self.ctx
        self.ctx = r.randint(5000, 15000)
        for k in range(r.randint(3, 12)):
            names = [r.choice(("Read", "Grep", "Glob"))
                     for _ in range(r.choice((1, 1, 2, 3)))] if k < 11 else []
            last, uses = self.call(sub, last, True, agent,
                                   [(n, self.tool_input(n)) for n in names], mirror, mparent)
            last = self.results(sub, last, uses, True, agent, mirror, mparent)
        self.ctx = saved_ctx
        (self.folder / self.sid / "subagents").mkdir(parents=True, exist_ok=True)
        with open(self.folder / self.sid / "subagents" / f"agent-{agent}.jsonl", "wb") as fh:
            fh.write(b"".join(sub))
        return sub, mirror

    def write(self) -> tuple[Path, int]:
        r, g = self.r, self.g
        out: list[bytes] = []
        last: str | None = None
        while self.size < self.budget:
            if g.dense and out:  # the user away between prompts
                g.t_ms += int(r.expovariate(1 / 1_500_000))
            snap = {"type": "file-history-snapshot", "messageId": g.uuid(),
                    "snapshot": {"messageId": g.uuid(), "trackedFileBackups": {},
                                 "timestamp": g.tick(1000, 60000)},
                    "isSnapshotUpdate": False}
            self.emit(out, snap)
            uid = g.uuid()
            obj = self.base(last)
            obj.update(type="user", message={"role": "user", "content": g.text(30, 800)},
                       uuid=uid, timestamp=g.tick(10, 100), permissionMode="default")
            self.emit(out, obj)
            last = uid
            turn_start = g.t_ms
            for k in range(r.randint(2, 25)):
                if self.size >= self.budget:
                    break
                if r.random() < 0.01:  # an API error shown as a synthetic message
                    obj = self.base(last)
                    sid = g.uuid()
                    obj.update(type="assistant", uuid=sid, timestamp=g.tick(100, 2000),
                               isApiErrorMessage=True,
                               message={"model": "<synthetic>", "id": g.uuid(),
                                        "role": "assistant", "type": "message",
                                        "content": [{"type": "text", "text": "API Error"}],
                                        "stop_reason": "stop_sequence",
                                        "usage": {"input_tokens": 0, "output_tokens": 0}})
                    self.emit(out, obj)
                    last = sid
                if r.random() < 0.025 and self.budget > 400_000:
                    last, uses = self.call(out, last, False, None,
                                           [("Task", {"description": "explore",
                                                      "prompt": g.text(50, 500),
                                                      "subagent_type": "Explore"})],
                                           None, [])
                    _, mirror = self.subagent(last, uses[0][0])
                    out.extend(mirror)
                    tid, _, src = uses[0]
                    body = g.text(500, 6000)
                    uid = g.uuid()
                    obj = self.base(last)
                    obj.update(type="user", message={"role": "user", "content": [
                        {"tool_use_id": tid, "type": "tool_result",
                         "content": [{"type": "text", "text": body}]}]},
                        uuid=uid, timestamp=g.tick(100, 1000),
                        toolUseResult={"status": "completed", "prompt": "explore",
                                       "content": [{"type": "text", "text": body}],
                                       "totalDurationMs": 60000, "totalTokens": 70000,
                                       "usage": {"input_tokens": 0,
                                                 "cache_creation_input_tokens": 475,
                                                 "cache_read_input_tokens": 70782,
                                                 "output_tokens": 5108}},
                        sourceToolAssistantUUID=src)
                    self.emit(out, obj)
                    last = uid
                    continue
                n_tools = r.choice((0, 1, 1, 1, 2, 2, 3)) if k < 24 else 0
                names = [r.choice(TOOLS) for _ in range(n_tools)]
                last, uses = self.call(out, last, False, None,
                                       [(n, self.tool_input(n)) for n in names], None, [])
                last = self.results(out, last, uses, False, None, None, [])
                if not uses:
                    break
            for sub in ("stop_hook_summary", "turn_duration"):
                obj = self.base(last)
                uid = g.uuid()
                obj.update(type="system", subtype=sub, uuid=uid, timestamp=g.tick(5, 50),
                           isMeta=False)
                if sub == "turn_duration":
                    obj["durationMs"] = g.t_ms - turn_start
                self.emit(out, obj)
                last = uid
            if r.random() < 0.3:
                self.emit(out, {"type": "queue-operation", "operation": "enqueue",
                                "timestamp": g.tick(5, 50), "sessionId": self.sid,
                                "content": g.text(20, 200)})
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{self.sid}.jsonl"
        data = b"".join(out)
        path.write_bytes(data)
        self.end_ms = g.t_ms
        self.lines = out if len(data) < 8_000_000 else []  # kept for a later resumed copy
        return path, len(data)


def resumed_copy(g: Gen, orig: Session, folder: Path) -> int:
    """A session resumed from ``orig``: its lines copied (timestamps unchanged), then more."""
    s = Session(g, folder, 0, orig.one_hour, orig.version)
    if g.dense:  # resumed after the original ended, with its models
        g.t_ms = orig.end_ms
        s.main_model, s.alt_model, s.sub_model = orig.main_model, orig.alt_model, orig.sub_model
        s.compact_at = orig.compact_at
    g.t_ms += 3_600_000
    copy = list(orig.lines)
    s.budget = sum(len(b) for b in copy) + g.r.randint(100_000, 600_000)
    s.size = sum(len(b) for b in copy)
    path, _ = s.write()
    data = b"".join(copy) + path.read_bytes()
    path.write_bytes(data)
    s.lines = []
    return len(data)


def data_name(profile: str, size: str) -> str:
    """The default folder name under bench/data of a profile and size."""
    return f"cc-{size}" if profile == "sparse" else f"cc-{profile}-{size}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="100M", help="total bytes to write, e.g. 100M, 1G")
    ap.add_argument("--out", type=Path, default=None, help="default: bench/data/cc-<size>")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", choices=PROFILES, default="sparse",
                    help="sparse: ~36 KB per API call; dense: ~14.5 KB, 8 models (see above)")
    args = ap.parse_args(argv)
    target = parse_size(args.size)
    out = args.out or HERE / "data" / data_name(args.profile, args.size)
    if out.exists() and any(out.iterdir()):
        print(f"{out} exists and is not empty; remove it first", file=sys.stderr)
        return 2
    g = Gen(args.seed, args.profile)
    t0 = time.perf_counter()
    total = 0
    n_sessions = 0
    project = 0
    sessions: list[Session] = []
    while total < target:
        if n_sessions % 20 == 0:
            project += 1
        folder = out / "projects" / f"-home-user-proj{project}"
        r = g.r
        budget = int(min(max(r.lognormvariate(14.8, 1.0), 150_000), 40_000_000))
        budget = min(budget, max(target - total, 100_000))
        if sessions and r.random() < 0.05 and any(x.lines for x in sessions):
            total += resumed_copy(g, r.choice([x for x in sessions if x.lines]), folder)
        else:
            s = Session(g, folder, budget, r.random() < 0.3,
                        r.choice(("2.0.76", "2.1.7", "2.1.39")))
            _, size = s.write()
            sub_bytes = sum(p.stat().st_size for p in (folder / s.sid).rglob("*.jsonl")) \
                if (folder / s.sid).exists() else 0
            total += size + sub_bytes
            sessions.append(s)
            if len(sessions) > 8:  # keep memory flat: only recent sessions can be resumed
                sessions.pop(0).lines = []
        n_sessions += 1
    files = sorted(out.rglob("*.jsonl"))
    manifest = {"bytes": sum(p.stat().st_size for p in files), "files": len(files),
                "sessions": n_sessions, "seed": args.seed, "profile": args.profile,
                "expected": g.expected,
                "shape": {"usage_lines": g.usage_lines, "models": dict(sorted(g.models.items())),
                          "model_hours": len(g.model_hours),
                          "prompts_over_200k": g.long_prompts}}
    # beside projects/ (not inside it, where a folder walk would pick it up)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    dt = time.perf_counter() - t0
    calls = g.expected["calls"]
    print(f"wrote {manifest['bytes'] / 2**20:,.1f} MiB in {len(files)} files "
          f"({n_sessions} sessions) to {out} in {dt:.1f}s: {calls:,} calls, "
          f"{manifest['bytes'] / max(calls, 1) / 1000:.1f} KB and "
          f"{g.usage_lines / max(calls, 1):.2f} usage lines per call, {len(g.models)} models, "
          f"{len(g.model_hours):,} (model, hour) groups, {g.long_prompts:,} prompts over 200k")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
