"""Running a simulation's scenario runs, in this process alone or shared with forked worker
processes for large traces."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentcost.simulation.scenario import Scenario

if TYPE_CHECKING:
    from agentcost.simulation.shared import Figures

# Runs go to worker processes (fork: the prepared workload is shared copy-on-write) when the
# trace has at least this many llm calls; AGENTCOST_JOBS sets the number of processes running
# them (1: this one alone). This process runs its share too: one worker fewer to fork, whose
# copied pages and run state would add to the peak memory, for the same parallelism.
PARALLEL_MIN_CALLS = 20_000


_CTX: Any = None


_JOBS: list[tuple[Scenario, str]] = []


_EDITING = {"cache", "cascade", "trim_history", "max_output_tokens", "tool_cache",
            "tool_results", "compaction", "response_cache"}


def _job(i: int) -> Figures:
    from agentcost.simulation.engine import run

    sc, variant = _JOBS[i]
    return run(_CTX, sc, variant)


def run_jobs(ctx: Any, jobs: list[tuple[Scenario, str]]) -> list[Figures]:
    """Run every (scenario, variant): shared with worker processes for large traces, else in
    turn. Results come back in the order of ``jobs`` whoever ran them."""
    import multiprocessing as mp
    import os

    from agentcost.simulation.engine import run

    env = os.environ.get("AGENTCOST_JOBS", "").strip()
    n = int(env) if env.isdigit() else (os.cpu_count() or 1)
    forkable = "fork" in mp.get_all_start_methods()
    if n <= 1 or len(jobs) <= 1 or ctx.w.n_llm < PARALLEL_MIN_CALLS or not forkable:
        return [run(ctx, sc, variant) for sc, variant in jobs]
    global _CTX, _JOBS
    if ctx.st.calibrate and any(set(sc.levers()) & _EDITING for sc, _ in jobs):
        from agentcost.simulation.engine import reference

        reference(ctx)  # computed once here, inherited by every worker
    _CTX, _JOBS = ctx, jobs
    try:
        return _shared_run(min(n, len(jobs)) - 1, len(jobs))
    finally:
        _CTX, _JOBS = None, []


def _shared_run(workers: int, n_jobs: int) -> list[Figures]:
    """Jobs ``0..n_jobs-1`` taken in order by ``workers`` forked processes and this one, each
    taking the next job when it is free (a worker is handed one job at a time)."""
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

    results: list[Figures | None] = [None] * n_jobs
    nxt = 0
    running: dict[Future[Figures], int] = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as pool:
        while nxt < n_jobs or running:
            while nxt < n_jobs and len(running) < workers:
                running[pool.submit(_job, nxt)] = nxt
                nxt += 1
            if nxt < n_jobs:
                results[nxt] = _job(nxt)
                nxt += 1
                done = {f for f in running if f.done()}
            else:
                done = wait(running, return_when=FIRST_COMPLETED).done
            for f in done:
                results[running.pop(f)] = f.result()
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]
