"""Scanning many Claude Code files: in a process pool (``AGENTCOST_JOBS`` workers) when there
is enough work for it, else in-process, with the subagent files each parent's progress
mirrors can skip."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath

from agentcost.ingest.base import IngestContext, Source
from agentcost.ingest.claude_code_scan import Scan, file_agent_id, scan_source
from agentcost.ingest.file_pool import batches
from agentcost.ingest.file_pool import jobs as worker_count

# pool only when it pays for its start-up
_POOL_MIN_BYTES = 16 * 1024 * 1024


def _covered_agents(sources: Sequence[Source]) -> list[frozenset[bytes]]:
    """Per source, the agent ids of its ``<session>/subagents/agent-<id>.jsonl`` files that
    are among the sources."""
    by_session: dict[str, set[bytes]] = {}
    for s in sources:
        p = PurePath(s.name)
        aid = file_agent_id(s.name)
        if aid and p.parent.name == "subagents":
            by_session.setdefault(str(p.parent.parent), set()).add(aid.encode())
    if not by_session:
        return [frozenset()] * len(sources)
    out = []
    for s in sources:
        p = PurePath(s.name)
        stem = p.name[: -len(".jsonl")] if p.name.endswith(".jsonl") else p.name
        out.append(frozenset(by_session.get(str(p.parent / stem), ())))
    return out


def _batches(sizes: list[int], jobs: int) -> list[list[int]]:
    """File indexes in batches (:func:`file_pool.batches`), biggest files first."""
    return batches(sizes, jobs, order=sorted(range(len(sizes)), key=lambda i: -sizes[i]))


def _scan_batch(items: list[tuple[Source, int, frozenset[bytes]]]) -> list[tuple[int, Scan]]:
    return [(i, scan_source(src, i, cov)) for src, i, cov in items]


def scan_all(sources: Sequence[Source], ctx: IngestContext | None = None) -> list[Scan]:
    """Scan every file, in a process pool when there is enough work for it."""
    jobs = worker_count()
    sizes = []
    for s in sources:
        try:
            sizes.append(s.size)
        except OSError:
            sizes.append(0)
    covered = _covered_agents(sources)
    use_pool = (jobs > 1 and len(sources) > 1 and sum(sizes) >= _POOL_MIN_BYTES
                and all(s.data is None for s in sources))
    if not use_pool:
        scans = []
        for i, s in enumerate(sources):
            scans.append(scan_source(s, i, covered[i]))
            if ctx is not None:
                ctx.advance(sizes[i])
        return scans
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    methods = mp.get_all_start_methods()
    mp_ctx = mp.get_context("fork" if "fork" in methods else None)
    out: list[Scan | None] = [None] * len(sources)
    with ProcessPoolExecutor(max_workers=min(jobs, len(sources)), mp_context=mp_ctx) as pool:
        # files go in batches (fewer round trips through the pool's pipes, which compete with
        # the workers for the CPU); plain copies of the sources: the sniffed heads stay here
        futures = {pool.submit(_scan_batch, [(Source(name=sources[i].name,
                                                     path=sources[i].path), i, covered[i])
                                             for i in batch]): batch
                   for batch in _batches(sizes, jobs)}
        for fut in as_completed(futures):
            for i, scan in fut.result():
                out[i] = scan
            if ctx is not None:
                ctx.advance(sum(sizes[i] for i in futures[fut]))
    return [s for s in out if s is not None]
