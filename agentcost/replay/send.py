"""Sending a recorded request to another model through the official SDK, measured by the
recorder itself (so a replayed call is measured exactly as a recorded one: usage as returned,
duration, TTFT for streams, stop reason, tool calls).

The request body is the recorded one with ``model`` replaced; a streamed Chat Completions
request also gets ``stream_options.include_usage`` so its usage can be measured. Body fields the
installed SDK's method does not name go through ``extra_body`` unchanged. Keys come from the
SDKs' own environment variables (``ANTHROPIC_API_KEY``, ``OPENAI_API_KEY``); ``base_url``
points both at a gateway or proxy.
"""

from __future__ import annotations

import inspect
import os
import tempfile
from dataclasses import dataclass
from typing import Any

from agentcost.errors import InputError

KEY_ENV = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
PROVIDER_OF_API = {"messages": "anthropic", "chat.completions": "openai", "responses": "openai"}


@dataclass
class Sent:
    line: dict[str, Any] | None  # the recorder's line of the final attempt
    attempts: int
    error: str | None = None


def replay_body(body: dict[str, Any], api: str, model: str) -> dict[str, Any]:
    out = {**body, "model": model}
    if api == "chat.completions" and out.get("stream"):
        out["stream_options"] = {**(out.get("stream_options") or {}), "include_usage": True}
    return out


def check_keys(providers: set[str]) -> None:
    """Refuse before sending anything when a provider's key is not set."""
    missing = [KEY_ENV[p] for p in sorted(providers) if not os.environ.get(KEY_ENV[p])]
    if missing:
        raise InputError(f"replay sends requests only with an API key: set {', '.join(missing)}")


def _backoff(poll_s: float) -> Any:
    """1 s, 2 s, 4 s … up to ``poll_s`` between polls of a batch."""
    wait = min(1.0, poll_s)
    while True:
        yield wait
        wait = min(wait * 2, poll_s)


class Sender:
    """Sends bodies through the SDKs with a recorder on; one temporary file for the run."""

    def __init__(self, base_url: str | None = None, timeout: float = 120.0) -> None:
        import agentcost.record as record

        self.base_url, self.timeout = base_url, timeout
        self._clients: dict[str, Any] = {}
        fd, self._path = tempfile.mkstemp(prefix="agentcost-replay-", suffix=".jsonl")
        os.close(fd)
        self._rec = record.instrument(self._path, overwrite=True)
        self._read = open(self._path, "rb")  # noqa: SIM115 - closed in close()

    def close(self) -> None:
        import agentcost.record as record

        record.uninstrument(self._rec)
        self._read.close()
        os.unlink(self._path)
        for c in self._clients.values():
            c.close()

    def _client(self, provider: str) -> Any:
        if provider not in self._clients:
            try:
                if provider == "anthropic":
                    import anthropic

                    self._clients[provider] = anthropic.Anthropic(
                        base_url=self.base_url, timeout=self.timeout
                    )
                else:
                    import openai

                    self._clients[provider] = openai.OpenAI(
                        base_url=self.base_url, timeout=self.timeout
                    )
            except ImportError:
                raise InputError(
                    "replay sends through the providers' SDKs: pip install "
                    "'agentcost-profiler[sdk]'"
                ) from None
        return self._clients[provider]

    def send(self, api: str, body: dict[str, Any], task: str) -> Sent:
        import agentcost.record as record

        client = self._client(PROVIDER_OF_API[api])
        fn = {
            "messages": lambda: client.messages.create,
            "chat.completions": lambda: client.chat.completions.create,
            "responses": lambda: client.responses.create,
        }[api]()
        params = set(inspect.signature(fn).parameters)
        kw = {k: v for k, v in body.items() if k in params}
        extra = {k: v for k, v in body.items() if k not in params}
        if extra:
            kw["extra_body"] = extra
        error = None
        with record.task(task):
            try:
                res = fn(**kw)
                if body.get("stream"):
                    with res:
                        for _ in res:
                            pass
            except Exception as exc:  # the SDK's errors after its retries
                error = f"{type(exc).__name__}: {getattr(exc, 'message', exc)}"
        import orjson

        lines = [orjson.loads(x) for x in self._read.read().splitlines() if x.strip()]
        mine = [x for x in lines if x.get("task_id") == task]
        return Sent(mine[-1] if mine else None, len(mine), error)

    def send_anthropic_batch(
        self, requests: dict[str, dict[str, Any]], poll_s: float, timeout_s: float
    ) -> tuple[dict[str, dict[str, Any]], str]:
        """Send Messages requests as one Message Batch and wait for it: ``(custom id → result
        as a dict, final processing status)``. A batch still running at ``timeout_s`` is
        cancelled; its results are then missing."""
        import time

        client = self._client("anthropic")
        try:
            batch = client.messages.batches.create(
                requests=[{"custom_id": cid, "params": params} for cid, params in requests.items()]
            )
            deadline = time.monotonic() + timeout_s
            waits = _backoff(poll_s)
            while batch.processing_status != "ended":
                if time.monotonic() > deadline:
                    client.messages.batches.cancel(batch.id)
                    return {}, "cancelled at the timeout"
                time.sleep(next(waits))
                batch = client.messages.batches.retrieve(batch.id)
            results = {
                r.custom_id: r.result.model_dump(mode="json", exclude_unset=True)
                for r in client.messages.batches.results(batch.id)
            }
        except Exception as exc:  # the SDK's errors after its retries
            raise InputError(
                f"--batch: the Message Batch failed ({type(exc).__name__}: "
                f"{getattr(exc, 'message', exc)})"
            ) from None
        return results, "ended"

    def send_openai_batch(
        self, requests: dict[str, dict[str, Any]], endpoint: str, poll_s: float, timeout_s: float
    ) -> tuple[dict[str, dict[str, Any]], str]:
        """Send Chat Completions or Responses requests as one OpenAI Batch (a JSONL file
        uploaded with ``files.create(purpose="batch")``, ``batches.create``, polled with
        ``batches.retrieve``, the output read with ``files.content``): ``(custom id → response
        body, final status)``; failed lines are missing from the result."""
        import time

        import orjson

        client = self._client("openai")
        data = b"".join(
            orjson.dumps({"custom_id": cid, "method": "POST", "url": endpoint, "body": body})
            + b"\n"
            for cid, body in requests.items()
        )
        try:
            f = client.files.create(file=("agentcost-replay.jsonl", data), purpose="batch")
            batch = client.batches.create(
                input_file_id=f.id, endpoint=endpoint, completion_window="24h"
            )
            deadline = time.monotonic() + timeout_s
            waits = _backoff(poll_s)
            while batch.status in ("validating", "in_progress", "finalizing"):
                if time.monotonic() > deadline:
                    client.batches.cancel(batch.id)
                    return {}, "cancelled at the timeout"
                time.sleep(next(waits))
                batch = client.batches.retrieve(batch.id)
            out = (
                client.files.content(batch.output_file_id).content if batch.output_file_id else b""
            )
        except Exception as exc:  # the SDK's errors after its retries
            raise InputError(
                f"--batch: the OpenAI batch failed ({type(exc).__name__}: "
                f"{getattr(exc, 'message', exc)})"
            ) from None
        results: dict[str, dict[str, Any]] = {}
        for raw in out.splitlines():
            line = orjson.loads(raw) if raw.strip() else {}
            resp = line.get("response") or {}
            if resp.get("status_code") == 200 and isinstance(resp.get("body"), dict):
                results[str(line.get("custom_id"))] = resp["body"]
        return results, str(batch.status)
