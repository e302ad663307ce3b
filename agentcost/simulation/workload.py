"""The step table turned into what the simulator replays: numpy arrays per llm and tool step
and, per llm step, its prompt as a list of blocks with prefix identities.

Prompts
    With ``segments`` (from request bodies or given by the user) a prompt's blocks are its
    segments — tool definitions, system blocks, messages — and two prompts share a prefix exactly
    as far as their segment hashes agree: the prefix is exact. Without segments the simulator
    assumes the usual append-only agent loop: call k+1's prompt is call k's prompt plus its output
    plus the new tool results, so each call adds one block of ``input_k - input_(k-1)`` tokens;
    a prompt smaller than the one before starts a new chain (compaction or a new conversation).
    Without segments a first call that the trace shows reading from the cache is taken to share
    that many tokens with every other prompt that reads the same count (a system prompt shared
    across tasks); otherwise prompts of different tasks share nothing.

    A prefix identity is a chained hash over the blocks' content hashes, so "same prefix id" means
    "same bytes up to here"; it is computed once per chain and shared by every step of a task whose
    prompt extends the previous one.

Turns
    Block ``turn`` numbers the conversation: 0 is the stable prefix (tools, system, the first user
    message — or, without segments, the task's first prompt); turn ``t`` starts with the ``t``-th
    assistant message (the output of the chain's llm call ``t - 1``) and holds the tool results and
    user messages that follow it. Trimming, output caps and tool-result caching edit blocks by turn.

Times
    Steps without a start time are placed back to back after the previous step of their task (a
    task without any time starts after the previous task ends); the report says how many.
"""

from __future__ import annotations

from array import array
from collections.abc import MutableSequence, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from agentcost.table import StepTable

ROLE_CODES = {"tools": 0, "system": 1, "user": 2, "assistant": 3, "tool": 4}
R_TOOLS, R_SYSTEM, R_USER, R_ASSISTANT, R_TOOL, R_STABLE, R_TURN = range(7)
TOOL_STOP_REASONS = frozenset({"tool_use", "tool_calls", "function_call", "tool_call"})
NAT = -(2**63)
HOUR_NS = 3_600_000_000_000

Ints = MutableSequence[int]  # a list while built, an ``array`` once frozen


class Chain:
    """Blocks of the longest prompt of a run of append-only calls of one task.

    ``h`` content hashes, ``pid`` prefix ids (chained hashes), ``role`` role codes, ``turn`` turn
    numbers, ``cum`` cumulative tokens (the default; a step whose per-block counts differ keeps
    its own), ``seg`` True when built from segments, ``k0`` the task position of the chain's first
    llm call.

    A chain is built with lists and :meth:`freeze` turns them into typed arrays once no later
    call can extend it: 29 bytes a block instead of ~150 (no int object per value), and arrays
    whose buffers worker processes read without copying them (no reference counts to touch).
    """

    __slots__ = ("cum", "h", "k0", "pid", "raw", "role", "seg", "turn")

    def __init__(self, k0: int, seg: bool) -> None:
        self.h: Ints = []
        self.pid: Ints = []
        self.role: Ints = []
        self.turn: Ints = []
        self.cum: Ints = []
        self.raw: list[object] | None = []  # segment hashes as given (while building)
        self.k0 = k0
        self.seg = seg

    def add(self, h: int, role: int, turn: int, cum: int) -> None:
        prev = self.pid[-1] if self.pid else 0
        self.h.append(h)
        self.pid.append(hash((prev, h)))
        self.role.append(role)
        self.turn.append(turn)
        self.cum.append(cum)

    def freeze(self) -> None:
        """Lists to arrays (idempotent); the raw segment hashes are dropped."""
        if isinstance(self.h, list):
            self.h = array("q", self.h)
            self.pid = array("q", self.pid)
            self.role = array("b", self.role)
            self.turn = array("i", self.turn)
            self.cum = array("q", self.cum)
        self.raw = None


def chain_ids(hs: list[int]) -> list[int]:
    """Prefix ids of a block list (same chaining as :class:`Chain`)."""
    out = []
    prev = 0
    for h in hs:
        prev = hash((prev, h))
        out.append(prev)
    return out


@dataclass
class Workload:
    """Arrays over llm steps (``l_*``, ordered by task then step), tool steps (``t_*``) and tasks
    (``task_*``), plus each llm step's prompt (``chains[i]``, ``nblocks[i]``, ``cums[i]``)."""

    n_tasks: int
    task_ids: list[str]
    task_source: np.ndarray
    task_session: np.ndarray
    task_start: np.ndarray  # ns
    task_end: np.ndarray  # ns
    task_wall_ms: np.ndarray
    task_llm_offset: np.ndarray  # index of the task's first llm step
    task_n_llm: np.ndarray
    task_cache_used: np.ndarray  # any cache read or write observed in the task
    task_interactive: np.ndarray  # streamed (TTFT) or a multi-step loop
    # llm steps
    l_task: np.ndarray
    l_k: np.ndarray
    l_start: np.ndarray
    l_hour: np.ndarray  # start hour (ns // 1h) the price applies to, -1: no time (today's price)
    l_end: np.ndarray
    l_dur: np.ndarray  # ms (0 when unknown)
    l_ttft: np.ndarray  # ms, NaN when unknown
    l_inp: np.ndarray
    l_rd: np.ndarray
    l_w5: np.ndarray
    l_w1: np.ndarray
    l_out: np.ndarray
    l_usage: np.ndarray  # bool: the step carries token usage
    l_partial: np.ndarray  # bool: only one of input / output tokens is known (a lower bound)
    l_cache_known: np.ndarray  # bool: the trace reports the step's cache reads (0 included)
    l_model: np.ndarray  # object
    l_provider: np.ndarray
    l_tier: np.ndarray
    l_reported: np.ndarray
    l_name: np.ndarray
    l_has_tools: np.ndarray
    l_n_tools: np.ndarray
    l_last: np.ndarray
    l_has_segments: np.ndarray
    chains: list[Chain]
    nblocks: list[int]
    cums: list[Ints | None]  # None: the chain's cum applies
    obs_bps: list[tuple[int, ...] | None]
    l_stable: list[int]  # last block of the stable prefix (tools + system), -1: none
    # tool steps
    t_task: np.ndarray
    t_turn: np.ndarray  # task position of the llm step that requested it (-1: none)
    t_ord: np.ndarray  # ordinal within its turn
    t_start: np.ndarray
    t_end: np.ndarray
    t_dur: np.ndarray
    t_name: np.ndarray
    t_hash: np.ndarray
    times_filled: int = 0
    speed: dict[str, tuple[float, float]] = field(default_factory=dict)  # model -> (ttft, ms/tok)
    rows: int = 0
    l_source: np.ndarray | None = None  # file and line each llm step came from (object, Int)
    l_line: np.ndarray | None = None

    @property
    def n_llm(self) -> int:
        return len(self.l_task)

    def prompt(self, i: int) -> tuple[Chain, int, Ints]:
        ch = self.chains[i]
        c = self.cums[i]
        return ch, self.nblocks[i], ch.cum if c is None else c


def _ns(s: pd.Series) -> np.ndarray:
    import numpy as np
    import pandas as pd

    if len(s) == 0:
        return np.zeros(0, dtype="int64")
    return np.asarray(pd.DatetimeIndex(s.astype("datetime64[ns, UTC]")).asi8, dtype="int64")


def _fill_times(task: np.ndarray, start: np.ndarray, end: np.ndarray,
                dur: np.ndarray) -> int:
    """Fill missing start/end in place (back to back within a task); returns rows filled."""
    import numpy as np

    miss = (start == NAT) | (end == NAT)
    if not miss.any():
        return 0
    n = len(task)
    clock = 0
    known_start = start[start != NAT]
    if len(known_start):
        clock = int(known_start.min())
    filled = 0
    prev_task = -1
    prev_end = clock
    task_bad = np.zeros(int(task.max()) + 1 if n else 0, dtype=bool)
    task_bad[task[miss]] = True
    last_end_global = clock
    for i in range(n):
        t = int(task[i])
        if t != prev_task:
            prev_task = t
            prev_end = last_end_global
        if not task_bad[t]:
            if end[i] != NAT:
                last_end_global = max(last_end_global, int(end[i]))
            continue
        d = 0 if np.isnan(dur[i]) else int(dur[i] * 1e6)
        if start[i] == NAT:
            start[i] = end[i] - d if end[i] != NAT else prev_end
            filled += 1
        if end[i] == NAT:
            end[i] = start[i] + d
        prev_end = max(prev_end, int(end[i]))
        last_end_global = max(last_end_global, prev_end)
    return filled


def stable_end(roles: Sequence[int], n: int) -> int:
    """Index of the last block of the stable prefix: the leading tools + system blocks, or —
    without segments — the task's first prompt. -1 if the prompt has none."""
    s = -1
    for j in range(n):
        r = roles[j]
        if r == R_TOOLS or r == R_SYSTEM or r == R_STABLE:
            s = j
        else:
            break
    return s


def _stable_ends(chains: list[Chain], nblocks: list[int]) -> list[int]:

    memo: dict[int, int] = {}
    out = []
    for ch, n in zip(chains, nblocks, strict=True):
        s = memo.get(id(ch))
        if s is None:
            s = memo[id(ch)] = stable_end(ch.role, len(ch.role))
        out.append(min(s, n - 1))
    return out


def _ordered(table: StepTable | pd.DataFrame) -> pd.DataFrame:
    """The table's frame, rows ordered by task then step, with a fresh index."""
    import pandas as pd

    df = table if isinstance(table, pd.DataFrame) else table.frame
    if len(df) and not (df["task_id"].is_monotonic_increasing):
        df = df.sort_values(["task_id", "step"], kind="stable")
    return df.reset_index(drop=True)


def _floats(df: pd.DataFrame, col: str, rows: np.ndarray) -> np.ndarray:
    import numpy as np

    return np.asarray(df[col].to_numpy(dtype="float64", na_value=np.nan)[rows])


def _objs(df: pd.DataFrame, col: str, rows: np.ndarray) -> np.ndarray:
    """Column ``col`` at ``rows`` as an object array, None where missing."""
    return shared_objects(df[col].iloc[rows])


def shared_objects(s: pd.Series) -> np.ndarray:
    """The values of ``s`` as an object array, None where missing. Equal values of a typed
    column share one object (a column of a few model names costs a pointer per row, not a
    string per row); an object column keeps its values as they are."""
    import numpy as np
    import pandas as pd

    if not (pd.api.types.is_extension_array_dtype(s.dtype) and s.dtype.na_value is pd.NA):
        return np.array([None if (v is None or v is pd.NA) else v
                         for v in s.astype("object").to_numpy()], dtype=object)
    codes, uniques = pd.factorize(s, sort=False)
    table = np.empty(len(uniques) + 1, dtype=object)  # the last slot (code -1): None
    table[:-1] = list(uniques.astype(object))
    return np.asarray(table[codes])


def _times(df: pd.DataFrame, codes: np.ndarray) -> tuple[np.ndarray, ...]:
    """Start, end, price hour and duration (ms) of every row, missing times filled; plus the
    number of rows filled (as a 0-d array)."""
    import numpy as np

    start = _ns(df["started_at"])
    end = _ns(df["ended_at"])
    hour = np.where(start == NAT, -1, start // HOUR_NS)  # price hour, as the table was priced
    dur = df["duration_ms"].to_numpy(dtype="float64", na_value=np.nan)
    filled = _fill_times(codes, start, end, dur) if len(df) else 0
    dur = np.where(np.isnan(dur), (end - start) / 1e6, dur)
    dur = np.nan_to_num(dur, nan=0.0)
    return start, end, hour, dur, np.asarray(filled)


def _task_fields(codes: np.ndarray, start: np.ndarray, end: np.ndarray,
                 T: int) -> tuple[np.ndarray, dict[str, Any]]:
    """First row of each task (rows are contiguous per task) and the tasks' time fields."""
    import numpy as np

    n = len(codes)
    first_row = np.zeros(T, dtype="int64")
    if n:
        first_row = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    task_start = np.minimum.reduceat(start, first_row) if n else np.zeros(0, "int64")
    task_end = np.maximum.reduceat(end, first_row) if n else np.zeros(0, "int64")
    return first_row, {"task_start": task_start, "task_end": task_end,
                       "task_wall_ms": (task_end - task_start) / 1e6}


def _llm_usage(df: pd.DataFrame, li: np.ndarray) -> dict[str, Any]:
    """Token counts of the llm steps and whether they are known."""
    import numpy as np

    inp_f = _floats(df, "input_tokens", li)
    out_f = _floats(df, "output_tokens", li)
    # failed calls without usage were not billed: known zeros (as pricing treats them)
    failed = (df["cost_source"] == "failed-call").to_numpy(dtype=bool, na_value=False)[li] \
        if "cost_source" in df else np.zeros(len(li), dtype=bool)
    rd_f = _floats(df, "cache_read_tokens", li)
    cw = np.nan_to_num(_floats(df, "cache_write_tokens", li)).astype("int64")
    l_w1 = np.nan_to_num(_floats(df, "cache_write_1h_tokens", li)).astype("int64")
    return {
        "l_usage": ~(np.isnan(inp_f) & np.isnan(out_f)) | failed,
        "l_partial": (np.isnan(inp_f) ^ np.isnan(out_f)) & ~failed,
        "l_inp": np.nan_to_num(inp_f).astype("int64"),
        "l_out": np.nan_to_num(out_f).astype("int64"),
        "l_cache_known": ~np.isnan(rd_f) | failed,
        "l_rd": np.nan_to_num(rd_f).astype("int64"),
        "l_w1": l_w1,
        "l_w5": np.maximum(cw - l_w1, 0),
        "_cw": cw,
    }


def _llm_labels(df: pd.DataFrame, li: np.ndarray) -> dict[str, Any]:
    """Model, provider, tier, names, reported cost, TTFT and tool use of the llm steps."""
    import numpy as np
    import pandas as pd

    m, rm = df["model"].iloc[li], df["response_model"].iloc[li]
    if not (isinstance(m.dtype, pd.StringDtype) and isinstance(rm.dtype, pd.StringDtype)
            and m.dtype.na_value is pd.NA and rm.dtype.na_value is pd.NA):
        model = m.astype("object").where(m.notna(), rm.astype("object"))
        l_model = np.array([None if (v is None or v is pd.NA or (isinstance(v, float) and v != v))
                            else str(v) for v in model.to_numpy()], dtype=object)
    else:
        l_model = shared_objects(m.where(m.notna(), rm))
    tool_calls = df["tool_calls"].to_numpy()[li]
    stop = _objs(df, "stop_reason", li)
    l_n_tools = np.array([len(v) if isinstance(v, (list, tuple)) else 0 for v in tool_calls],
                         dtype="int64")
    l_has_tools = (l_n_tools > 0) | np.array([s in TOOL_STOP_REASONS for s in stop], dtype=bool)
    return {
        "l_model": l_model, "l_provider": _objs(df, "provider", li),
        "l_tier": _objs(df, "service_tier", li), "l_name": _objs(df, "name", li),
        "l_reported": df["reported_cost_usd"].to_numpy(dtype="float64", na_value=np.nan)[li],
        "l_ttft": df["ttft_ms"].to_numpy(dtype="float64", na_value=np.nan)[li],
        "l_n_tools": l_n_tools, "l_has_tools": l_has_tools,
        "l_source": _objs(df, "source", li), "l_line": _objs(df, "line", li),
    }


def _llm_positions(l_task: np.ndarray, T: int) -> dict[str, Any]:
    """Each llm step's task position, each task's first llm step and count, the last steps."""
    import numpy as np

    llm_count = np.bincount(l_task, minlength=T)
    task_llm_offset = np.r_[0, np.cumsum(llm_count)[:-1]] if T else np.zeros(0, "int64")
    n = len(l_task)
    l_k = np.arange(n) - task_llm_offset[l_task] if n else np.zeros(0, "int64")
    l_last = np.zeros(n, dtype=bool)
    if n:
        l_last[task_llm_offset[llm_count > 0] + llm_count[llm_count > 0] - 1] = True
    return {"l_task": l_task, "l_k": l_k, "task_llm_offset": task_llm_offset,
            "task_n_llm": llm_count, "l_last": l_last}


def _task_flags(f: dict[str, Any], T: int) -> dict[str, Any]:
    """Tasks that used the cache, and interactive tasks (streamed or a multi-step loop)."""
    import numpy as np

    l_task = f["l_task"]
    active = (f["l_rd"] > 0) | (f["_cw"] > 0)
    streamed = np.bincount(l_task[~np.isnan(f["l_ttft"])], minlength=T) > 0
    return {"task_cache_used": np.bincount(l_task[active], minlength=T) > 0,
            "task_interactive": streamed | (f["task_n_llm"] > 1)}


def _segments_of(segs: object) -> tuple[list[Any], list[Any], list[int]] | None:
    """Raw hashes, token counts and breakpoint positions of a step's segments; None when the
    step has none (or they are not a list of mappings)."""
    if not (isinstance(segs, list) and segs):
        return None
    try:
        raw = [sg.get("hash") for sg in segs]
        toks = [sg.get("tokens") or 0 for sg in segs]
        bp_flags = [j for j, sg in enumerate(segs) if sg.get("breakpoint")]
    except AttributeError:  # not a list of mappings: treat as no segments
        return None
    return raw, toks, bp_flags


def _segment_chain(chain: Chain | None, segs: list[Any], raw: list[Any],
                   cum: list[int]) -> Chain:
    """The chain a segments prompt extends (or a new one), with the prompt's blocks added."""
    m = len(raw)
    j0 = 0
    if chain is not None and chain.seg:
        L = len(chain.h)
        assert chain.raw is not None  # still being built
        if m <= L and chain.raw[:m] == raw:
            j0 = m  # the prompt is a prefix of the chain
        elif m > L and chain.raw == raw[:L]:
            j0 = L
        else:
            chain = None
    if chain is None or not chain.seg:
        chain = Chain(0, True)
        j0 = 0
    if j0 < m:
        turn = chain.turn[-1] if chain.turn else 0
        for j in range(j0, m):
            r = ROLE_CODES.get(str(segs[j].get("role")), R_USER)
            if r == R_ASSISTANT:
                turn += 1
            chain.add(hash((r, str(raw[j]))), r, turn, cum[j])
        assert chain.raw is not None
        chain.raw.extend(raw[j0:m])
    return chain


def _loop_chain(chain: Chain | None, prev_inp: int, inp: int, rd: int, key: str,
                k: int) -> Chain:
    """The append-only chain a prompt without segments extends (or a new one)."""
    if chain is not None and not chain.seg and prev_inp >= 0 and inp >= prev_inp:
        if inp > prev_inp:
            chain.add(hash(("ao", key, k)), R_TURN, k - chain.k0, inp)
        return chain
    chain = Chain(k, False)
    if 0 < rd < inp:
        chain.add(hash(("shared", rd)), R_STABLE, 0, rd)
    if inp > 0:
        chain.add(hash(("ao", key, k)), R_STABLE, 0, inp)
    return chain


def _prompts(f: dict[str, Any], segs_col: np.ndarray, task_key: list[str]) -> dict[str, Any]:
    """Each llm step's prompt: its chain, block count, own cumulative tokens, breakpoints."""
    import numpy as np

    from agentcost.ingest.segments import scale_to

    l_task, l_k, l_inp, l_rd, usage = f["l_task"], f["l_k"], f["l_inp"], f["l_rd"], f["l_usage"]
    chains: list[Chain] = []
    nblocks: list[int] = []
    cums: list[Ints | None] = []
    obs_bps: list[tuple[int, ...] | None] = []
    has_seg = np.zeros(len(l_task), dtype=bool)
    chain: Chain | None = None
    prev_task = prev_inp = -1
    for i in range(len(l_task)):
        t = int(l_task[i])
        if t != prev_task:
            if chain is not None:
                chain.freeze()  # chains do not cross tasks
            chain = None
            prev_task = t
            prev_inp = -1
        was = chain
        inp = int(l_inp[i])
        parsed = _segments_of(segs_col[i])
        if parsed is not None:
            raw, toks, bp_flags = parsed
            has_seg[i] = True
            if usage[i] and inp > 0 and sum(toks) != inp:
                tmp = [{"tokens": int(x)} for x in toks]
                scale_to(tmp, inp)
                toks = [x["tokens"] for x in tmp]
            cum = list(accumulate(toks))
            obs_bps.append(tuple(bp_flags) if bp_flags else None)
            chain = _segment_chain(chain, segs_col[i], raw, cum)
            nblocks.append(len(raw))
            cums.append(None if chain.cum[:len(raw)] == cum else array("q", cum))
            prev_inp = -1
        else:  # append-only agent loop
            obs_bps.append(None)
            chain = _loop_chain(chain, prev_inp, inp, int(l_rd[i]), task_key[t], int(l_k[i]))
            nblocks.append(len(chain.h))
            cums.append(None)
            prev_inp = inp
        if was is not None and was is not chain:
            was.freeze()  # replaced: no later call extends it
        chains.append(chain)
    if chain is not None:
        chain.freeze()
    return {"chains": chains, "nblocks": nblocks, "cums": cums, "obs_bps": obs_bps,
            "l_has_segments": has_seg, "l_stable": _stable_ends(chains, nblocks)}


def _tool_fields(df: pd.DataFrame, codes: np.ndarray, is_llm: np.ndarray, is_tool: np.ndarray,
                 task_llm_offset: np.ndarray) -> dict[str, Any]:
    """Tool steps: task, the llm step (task position) that requested each, ordinal, names."""
    import numpy as np
    import pandas as pd

    ti = np.flatnonzero(is_tool)
    llm_before = np.cumsum(is_llm) - is_llm  # llm rows before each row (global)
    t_task = codes[ti]
    t_turn = (llm_before[ti] - task_llm_offset[t_task]) - 1 if len(ti) else np.zeros(0, "int64")
    t_ord = np.zeros(len(ti), dtype="int64")
    if len(ti):
        key = t_task * (int(t_turn.max()) + 2) + (t_turn + 1)
        t_ord = pd.Series(key).groupby(key, sort=False).cumcount().to_numpy()
    return {"t_task": t_task, "t_turn": t_turn, "t_ord": t_ord,
            "t_name": _objs(df, "name", ti), "t_hash": _objs(df, "tool_input_hash", ti)}


def _speed(l_model: np.ndarray, ttft: np.ndarray, ld: np.ndarray,
           l_out: np.ndarray) -> dict[str, tuple[float, float]]:
    """Speed profiles of the observed models: median TTFT and ms per output token."""
    import numpy as np
    import pandas as pd

    speed: dict[str, tuple[float, float]] = {}
    if not len(l_model):
        return speed
    gen = np.where(np.isnan(ttft), ld, ld - np.nan_to_num(ttft))
    ok = l_out > 0
    prof = pd.DataFrame({"m": l_model, "ttft": ttft,
                         "mspt": np.where(ok, gen / np.maximum(l_out, 1), np.nan)})
    prof = prof[prof["m"].notna()]
    for m, g in prof.groupby("m", sort=False):
        tt = g["ttft"].median()
        ms = g["mspt"].median()
        if not np.isnan(ms):
            speed[str(m)] = (0.0 if np.isnan(tt) else float(tt), float(ms))
    return speed


def prepare(table: StepTable | pd.DataFrame) -> Workload:
    """Build the :class:`Workload` of a priced step table (pure; the table is not changed)."""
    import numpy as np
    import pandas as pd

    df = _ordered(table)
    n = len(df)
    codes, uniques = pd.factorize(df["task_id"].astype("object").fillna("(no task)"), sort=False)
    codes = codes.astype("int64")
    T = len(uniques)
    kind = df["kind"].astype("object").to_numpy()
    is_llm = kind == "llm"
    is_tool = kind == "tool"
    start, end, hour, dur, filled = _times(df, codes)
    first_row, f = _task_fields(codes, start, end, T)
    li = np.flatnonzero(is_llm)
    f.update(_llm_positions(codes[li], T))
    f.update(_llm_usage(df, li))
    f.update(_llm_labels(df, li))
    f.update(_task_flags(f, T))
    f.update(_prompts(f, df["segments"].to_numpy()[li], [str(u) for u in uniques]))
    f.update(_tool_fields(df, codes, is_llm, is_tool, f["task_llm_offset"]))
    ti = np.flatnonzero(is_tool)
    del f["_cw"]
    return Workload(
        n_tasks=T, task_ids=[str(u) for u in uniques],
        task_source=df["source"].iloc[first_row].astype("object").to_numpy() if n
        else np.zeros(0, object),
        task_session=df["session_id"].iloc[first_row].astype("object").to_numpy() if n
        else np.zeros(0, object),
        l_start=start[li], l_hour=hour[li], l_end=end[li], l_dur=dur[li],
        t_start=start[ti], t_end=end[ti], t_dur=dur[ti], times_filled=int(filled),
        speed=_speed(f["l_model"], f["l_ttft"], dur[li], f["l_out"]), rows=n, **f,
    )
