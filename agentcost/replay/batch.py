"""``replay --batch``: the sample as one Anthropic Message Batch, at batch prices.

The requests (the recorded bodies, ``model`` replaced, streaming off: a batch does not stream)
go out in one ``messages.batches.create``; the batch is polled with ``messages.batches.retrieve``
until it has ended (or ``batch_timeout_s`` passed: the batch is then cancelled and its calls
counted as failed), and the results are read with ``messages.batches.results``. A batched call
has no latency of its own (the batch's duration is reported instead) and no TTFT; it is priced
at the provider's batch rates. ``--max-cost`` is checked once, before the batch is sent, as every
request is sent at once.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from agentcost.record.wire import from_body

if TYPE_CHECKING:
    from agentcost.replay import ReplayPlan, ReplayReport
    from agentcost.replay.send import Sender


def batch_params(body: dict[str, Any], model: str) -> dict[str, Any]:
    return {k: v for k, v in {**body, "model": model}.items() if k not in ("stream",)}


def _line(message: dict[str, Any]) -> dict[str, Any]:
    """A recorder-like line for one batch result message."""
    a = from_body("messages", message)
    return {
        "usage": a.usage,
        "response_model": a.response_model,
        "stop_reason": a.stop_reason,
        "tool_calls": [t.name for t in a.tool_calls],
        "duration_ms": None,
        "ttft_ms": None,
        "answer": {"text": a.text, "tool_calls": [t.to_dict() for t in a.tool_calls]},
    }


def run_batch(plan: ReplayPlan, rep: ReplayReport, snd: Sender) -> None:
    from agentcost.replay import measure

    opts = plan.options
    requests = {
        f"replay-{i}": batch_params(c.request, opts.model) for i, c in enumerate(plan.chosen)
    }
    t0 = time.monotonic()
    results, status = snd.send_batch(requests, opts.batch_poll_s, opts.batch_timeout_s)
    elapsed = time.monotonic() - t0
    for i, c in enumerate(plan.chosen):
        res = results.get(f"replay-{i}") or {}
        kind = res.get("type")
        message = res.get("message") if kind == "succeeded" else None
        error = None if message else f"batch result {kind or 'missing'}"
        line = _line(message) if isinstance(message, dict) else None
        rep.calls.append(measure(c, line, 1, error, plan, snd, f"replay-{i}", rep, "batch"))
    rep.notes.append(
        f"--batch: {len(requests)} requests sent as one Message Batch ({status} "
        f"after {elapsed:.0f}s): no per-call latency or TTFT; priced at batch "
        "rates; --max-cost was checked once, before sending"
    )
