"""Per-file work in a process pool, results back in file order.

:func:`map_in_order` calls ``fn(i)`` for every file index in worker processes (forked where the
platform can, so a worker finds the caller's module state as it was) and yields the results in
index order, so that a caller replaying them sees what a loop over the files would have seen.
Files go to the workers in runs of consecutive files of about :data:`BATCH_BYTES` (fewer
round trips through the pool's pipes; results come back roughly in order). When the pool cannot be
started or breaks (a worker killed), the files whose results are still missing are done
in-process: the same results, only later. ``AGENTCOST_JOBS`` sets the number of workers
(default: one per core); :func:`jobs` reads it.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

R = TypeVar("R")

BATCH_BYTES = 8 * 1024 * 1024


def jobs() -> int:
    """Worker processes to use: ``AGENTCOST_JOBS`` if set to a number, else the core count."""
    env = os.environ.get("AGENTCOST_JOBS", "").strip()
    return int(env) if env.isdigit() else (os.cpu_count() or 1)


def batches(sizes: Sequence[int], n_jobs: int, order: Sequence[int] | None = None
            ) -> list[list[int]]:
    """Runs of file indexes of about :data:`BATCH_BYTES`, or less so that each worker gets
    about four (the last ones then finish together), taken in ``order`` (default: index
    order, so that results come back roughly in order and the caller works through them
    while the workers read on)."""
    target = max(1, min(BATCH_BYTES, sum(sizes) // (4 * max(n_jobs, 1))))
    out: list[list[int]] = []
    cur: list[int] = []
    acc = 0
    for i in range(len(sizes)) if order is None else order:
        cur.append(i)
        acc += sizes[i]
        if acc >= target:
            out.append(cur)
            cur, acc = [], 0
    if cur:
        out.append(cur)
    return out


def _batch(fn: Callable[[int], R], idx: list[int]) -> list[tuple[int, R]]:
    # a worker makes no reference cycles worth collecting: the collector would only walk
    # (and copy, page by page) the objects inherited from the parent
    gc.disable()
    return [(i, fn(i)) for i in idx]


def map_in_order(fn: Callable[[int], R], sizes: Sequence[int], n_jobs: int) -> Iterator[R]:
    """``fn(0)``, ``fn(1)``, … for every index of ``sizes`` (the files' byte counts), computed
    by ``n_jobs`` worker processes and yielded in index order. ``fn`` must be a module-level
    function (it is pickled by reference) whose result pickles."""
    done: dict[int, R] = {}
    nxt = 0
    # while the pool runs, the collector leaves the objects the workers inherit alone (they
    # stay shared, not copied page by page when a collection walks them)
    gc.freeze()
    try:
        for i, res in _pooled(fn, sizes, n_jobs):
            done[i] = res
            while nxt in done:
                yield done.pop(nxt)
                nxt += 1
    finally:
        gc.unfreeze()
    for i in range(nxt, len(sizes)):  # what the pool did not deliver
        yield done.pop(i) if i in done else fn(i)


def _pooled(fn: Callable[[int], R], sizes: Sequence[int], n_jobs: int
            ) -> Iterator[tuple[int, R]]:
    """``(index, result)`` as the workers deliver them; stops early (without raising) when the
    pool cannot start or breaks."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    methods = mp.get_all_start_methods()
    try:
        pool = ProcessPoolExecutor(max_workers=max(1, min(n_jobs, len(sizes))),
                                   mp_context=mp.get_context("fork" if "fork" in methods
                                                             else None))
    except OSError:
        return
    try:
        futures = [pool.submit(_batch, fn, b) for b in batches(sizes, n_jobs)]
        for fut in as_completed(futures):
            yield from fut.result()
    except (BrokenProcessPool, OSError):
        return  # the rest in-process
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
