"""``replay --batch``: the sample as one batch, at batch prices.

The requests (the recorded bodies, ``model`` replaced, streaming off: a batch does not stream)
go out as one Anthropic Message Batch (``messages.batches.create``, polled with
``messages.batches.retrieve``, results from ``messages.batches.results``) or one OpenAI Batch
(a JSONL file uploaded with ``files.create(purpose="batch")``, ``batches.create`` for
``/v1/chat/completions`` or ``/v1/responses``, polled with ``batches.retrieve``, the output file
read with ``files.content``). A batch still running after ``batch_timeout_s`` is cancelled and
its calls are counted as failed. A batched call
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


ENDPOINT = {"chat.completions": "/v1/chat/completions", "responses": "/v1/responses"}


def batch_params(body: dict[str, Any], model: str) -> dict[str, Any]:
    return {
        k: v for k, v in {**body, "model": model}.items() if k not in ("stream", "stream_options")
    }


def _line(api: str, body: dict[str, Any]) -> dict[str, Any]:
    """A recorder-like line for one batch result (a response body)."""
    a = from_body(api, body)
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
    apis = {c.api for c in plan.chosen}
    if apis == {"messages"}:
        raw, status = snd.send_anthropic_batch(requests, opts.batch_poll_s, opts.batch_timeout_s)
        results = {
            cid: r["message"]
            for cid, r in raw.items()
            if r.get("type") == "succeeded" and isinstance(r.get("message"), dict)
        }
    else:
        (api,) = apis
        results, status = snd.send_openai_batch(
            requests, ENDPOINT[api], opts.batch_poll_s, opts.batch_timeout_s
        )
    elapsed = time.monotonic() - t0
    for i, c in enumerate(plan.chosen):
        body = results.get(f"replay-{i}")
        line = _line(c.api, body) if body is not None else None
        error = None if line else "no batch result"
        rep.calls.append(measure(c, line, 1, error, plan, snd, f"replay-{i}", rep, "batch"))
    rep.notes.append(
        f"--batch: {len(requests)} requests sent as one batch ({status} "
        f"after {elapsed:.0f}s): no per-call latency or TTFT; priced at batch "
        "rates; --max-cost was checked once, before sending"
    )
