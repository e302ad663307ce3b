"""A stand-in provider server for tests: a real HTTP server on 127.0.0.1 (ephemeral port) that
speaks enough of three APIs for the real ``anthropic`` and ``openai`` SDKs to run an agent loop
against it, with ``base_url`` pointed here. Nothing is mocked on the client side.

Built from the providers' documented wire formats (no code copied from other projects):

* Anthropic Messages ``POST /v1/messages`` — JSON, or SSE when ``stream`` is true:
  ``message_start`` (the prompt side of ``usage``: ``input_tokens`` excluding cache tokens,
  ``cache_read_input_tokens``, ``cache_creation_input_tokens`` and its
  ``cache_creation.ephemeral_5m/1h_input_tokens`` split), ``content_block_start`` /
  ``content_block_delta`` (``text_delta`` / ``input_json_delta``) / ``content_block_stop``,
  ``message_delta`` (stop reason, cumulative usage), ``message_stop``.
  ``POST /v1/messages/count_tokens`` → ``{"input_tokens": N}``.
* OpenAI Chat Completions ``POST /v1/chat/completions`` — JSON, or SSE chunks ending with a
  usage-only chunk (``choices: []``) when ``stream_options.include_usage`` is set, then
  ``data: [DONE]``.
* OpenAI Responses ``POST /v1/responses`` — JSON, or SSE (``response.created`` …
  ``response.output_text.delta`` / ``response.function_call_arguments.delta`` …
  ``response.completed`` carrying the full response and its usage).
  ``POST /v1/responses/input_tokens`` → ``{"object": "response.input_tokens", "input_tokens": N}``.

Answers follow a script (:data:`SCRIPT`): turn *k* of a conversation (k = the number of
assistant turns already in the request) asks for the script's k-th tool call, and the turn
after the last tool call answers in text. ``variants`` swaps the answer of a turn for models
whose id contains a given string (a "cheaper model" that decides differently).

Token counts are a deterministic function of the request (whitespace-separated words of every
string in it), so two identical requests get identical usage. Every answered call is appended
to ``calls`` with the usage object exactly as sent, so a test can compare a recording with what
the server returned, call for call.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Turn:
    tool: str | None  # a tool call, or None: a final text answer
    args: dict[str, Any] | None = None
    text: str = ""


SCRIPT: tuple[Turn, ...] = (
    Turn("search_docs", {"query": "refund policy", "limit": 3}, "Let me search."),
    Turn("fetch_doc", {"doc_id": "policy-7"}, ""),
    Turn("lookup_order", {"order_id": "A-1001"}, "Checking the order."),
    Turn(None, None, "Your order A-1001 is eligible for a refund within 30 days."),
)


def _is_judge(body: dict[str, Any]) -> bool:
    system = body.get("system")
    if system is None:
        msgs = body.get("messages") or []
        system = msgs[0].get("content") if msgs and msgs[0].get("role") == "system" else ""
    return isinstance(system, str) and system.startswith("You are agentcost's answer judge")


def words(obj: Any) -> int:
    """Whitespace-separated words of every string in ``obj`` (keys excluded)."""
    if isinstance(obj, str):
        return len(obj.split())
    if isinstance(obj, dict):
        return sum(words(v) for v in obj.values())
    if isinstance(obj, list):
        return sum(words(v) for v in obj)
    return 0


BASE_PROMPT_TOKENS = 2000  # what a real agent's hidden system prompt and tool schemas add


def count_tokens(body: dict[str, Any]) -> int:
    """The stand-in's token count of a request's prompt: a fixed base, its words and 3 per
    message."""
    prompt = {k: body.get(k) for k in ("system", "tools", "messages", "instructions", "input")}
    msgs = body.get("messages") or body.get("input") or []
    return BASE_PROMPT_TOKENS + words(prompt) + 3 * (len(msgs) if isinstance(msgs, list) else 1)


@dataclass
class Standin:
    """The server's state: script, variants, failures to inject, and the log of answers."""

    script: tuple[Turn, ...] = SCRIPT
    variants: dict[str, dict[int, Turn]] = field(default_factory=dict)
    fail_next: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    event_delay_s: float = 0.002
    calls: list[dict[str, Any]] = field(default_factory=list)
    seen_headers: list[dict[str, str]] = field(default_factory=list)
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    files: dict[str, bytes] = field(default_factory=dict)  # OpenAI Files: id -> content
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    batch_polls_before_end: int = 1  # retrieve answers "in_progress" this many times first

    @property
    def anthropic_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    judge_agrees: bool = True  # the verdict a judge request (system: agentcost's rubric) gets

    def turn_for(self, model: str, k: int, body: dict[str, Any] | None = None) -> tuple[Turn, int]:
        if body is not None and _is_judge(body):
            verdict = json.dumps({"agree": self.judge_agrees, "reason": "stand-in verdict"})
            return Turn(None, None, verdict), 0
        k = min(k, len(self.script) - 1)
        for needle, turns in self.variants.items():
            if needle in model and k in turns:
                return turns[k], k
        return self.script[k], k

    def model_calls(self) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["api"] in ("messages", "chat", "responses")]


# -- usage --------------------------------------------------------------------------------------


def _anthropic_usage(prompt: int, k: int, out: int) -> dict[str, Any]:
    # turn 0 writes the base prompt to the 1h cache; later turns read it (and what earlier
    # turns wrote) and write their new tail to the 5m cache
    read = 0 if k == 0 else BASE_PROMPT_TOKENS - 200 + 40 * k
    w5, w1 = (0, BASE_PROMPT_TOKENS - 200) if k == 0 else (30 + k, 3)
    uncached = max(1, prompt - read - w5 - w1)
    return {
        "input_tokens": uncached,
        "cache_creation_input_tokens": w5 + w1,
        "cache_read_input_tokens": read,
        "cache_creation": {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1},
        "output_tokens": out,
        "service_tier": "standard",
    }


def _openai_cached(prompt: int, k: int) -> int:
    return 0 if k == 0 else 1024 + 128 * k  # OpenAI reports reads in 128-token steps


def _chat_usage(prompt: int, k: int, out: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": out,
        "total_tokens": prompt + out,
        "prompt_tokens_details": {"cached_tokens": _openai_cached(prompt, k), "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 4,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _responses_usage(prompt: int, k: int, out: int) -> dict[str, Any]:
    return {
        "input_tokens": prompt,
        "input_tokens_details": {
            "cached_tokens": _openai_cached(prompt, k),
            "cache_write_tokens": 0,
        },
        "output_tokens": out,
        "output_tokens_details": {"reasoning_tokens": 4},
        "total_tokens": prompt + out,
    }


def _output_tokens(turn: Turn) -> int:
    return 6 + words(turn.text) + (words(turn.args) + 8 if turn.tool else 0)


# -- answers ------------------------------------------------------------------------------------


def _k_anthropic(body: dict[str, Any]) -> int:
    return sum(1 for m in body.get("messages") or [] if m.get("role") == "assistant")


def _k_chat(body: dict[str, Any]) -> int:
    return sum(1 for m in body.get("messages") or [] if m.get("role") == "assistant")


def _k_responses(body: dict[str, Any]) -> int:
    inp = body.get("input")
    if not isinstance(inp, list):
        return 0
    return sum(1 for it in inp if isinstance(it, dict) and it.get("type") == "function_call")


def _tool_id(prefix: str, k: int) -> str:
    return f"{prefix}_{k:02d}{uuid.uuid4().hex[:10]}"


def anthropic_message(body: dict[str, Any], st: Standin) -> tuple[dict[str, Any], list[str]]:
    model = str(body.get("model"))
    turn, k = st.turn_for(model, _k_anthropic(body), body)
    content: list[dict[str, Any]] = []
    if turn.text:
        content.append({"type": "text", "text": turn.text})
    if turn.tool:
        content.append(
            {
                "type": "tool_use",
                "id": _tool_id("toolu", k),
                "name": turn.tool,
                "input": turn.args or {},
            }
        )
    usage = _anthropic_usage(count_tokens(body), k, _output_tokens(turn))
    msg = {
        "id": f"msg_{uuid.uuid4().hex[:20]}",
        "type": "message",
        "role": "assistant",
        "model": _served(model),
        "content": content,
        "stop_reason": "tool_use" if turn.tool else "end_turn",
        "stop_sequence": None,
        "usage": usage,
    }
    return msg, [b["type"] for b in content]


def _served(model: str) -> str:
    """The dated model id a provider answers with for an alias."""
    return model if model[-8:].isdigit() else f"{model}-20260101"


def _ev(etype: str, /, **fields: Any) -> tuple[str, dict[str, Any]]:
    """An SSE event whose data names its own type (both providers do)."""
    return etype, {"type": etype, **fields}


def _anthropic_block_events(i: int, block: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    if block["type"] == "text":
        yield _ev("content_block_start", index=i, content_block={"type": "text", "text": ""})
        text = block["text"]
        for j in range(0, len(text), 12):
            delta = {"type": "text_delta", "text": text[j : j + 12]}
            yield _ev("content_block_delta", index=i, delta=delta)
    else:
        yield _ev("content_block_start", index=i, content_block={**block, "input": {}})
        raw = json.dumps(block["input"])
        for j in range(0, len(raw), 7):
            delta = {"type": "input_json_delta", "partial_json": raw[j : j + 7]}
            yield _ev("content_block_delta", index=i, delta=delta)
    yield _ev("content_block_stop", index=i)


def anthropic_events(msg: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    u = msg["usage"]
    start = {**msg, "content": [], "stop_reason": None, "usage": {**u, "output_tokens": 1}}
    yield _ev("message_start", message=start)
    for i, block in enumerate(msg["content"]):
        yield from _anthropic_block_events(i, block)
    # message_delta's usage is cumulative: every prompt-side count again, the final output
    keys = (
        "input_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "output_tokens",
    )
    delta = {"stop_reason": msg["stop_reason"], "stop_sequence": None}
    yield _ev("message_delta", delta=delta, usage={k: u[k] for k in keys})
    yield _ev("message_stop")


def chat_completion(body: dict[str, Any], st: Standin) -> dict[str, Any]:
    model = str(body.get("model"))
    turn, k = st.turn_for(model, _k_chat(body), body)
    message: dict[str, Any] = {
        "role": "assistant",
        "content": turn.text or None,
        "refusal": None,
        "annotations": [],
    }
    if turn.tool:
        message["tool_calls"] = [
            {
                "id": _tool_id("call", k),
                "type": "function",
                "function": {"name": turn.tool, "arguments": json.dumps(turn.args or {})},
            }
        ]
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": _served(model),
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "tool_calls" if turn.tool else "stop",
            }
        ],
        "usage": _chat_usage(count_tokens(body), k, _output_tokens(turn)),
        "service_tier": "default",
        "system_fingerprint": "fp_standin",
    }


def chat_chunks(done: dict[str, Any], include_usage: bool) -> Iterator[dict[str, Any]]:
    base = {
        "id": done["id"],
        "object": "chat.completion.chunk",
        "created": done["created"],
        "model": done["model"],
        "service_tier": "default",
        "system_fingerprint": "fp_standin",
    }
    msg = done["choices"][0]["message"]

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        c = {
            **base,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        return {**c, "usage": None} if include_usage else c

    yield chunk({"role": "assistant", "content": "", "refusal": None})
    text = msg.get("content") or ""
    for j in range(0, len(text), 12):
        yield chunk({"content": text[j : j + 12]})
    for i, tc in enumerate(msg.get("tool_calls") or []):
        yield chunk(
            {
                "tool_calls": [
                    {
                        "index": i,
                        "id": tc["id"],
                        "type": "function",
                        "function": {"name": tc["function"]["name"], "arguments": ""},
                    }
                ]
            }
        )
        args = tc["function"]["arguments"]
        for j in range(0, len(args), 7):
            yield chunk({"tool_calls": [{"index": i, "function": {"arguments": args[j : j + 7]}}]})
    yield chunk({}, done["choices"][0]["finish_reason"])
    if include_usage:
        yield {**base, "choices": [], "usage": done["usage"]}


def response_object(body: dict[str, Any], st: Standin) -> dict[str, Any]:
    model = str(body.get("model"))
    turn, k = st.turn_for(model, _k_responses(body))
    output: list[dict[str, Any]] = []
    if turn.text:
        output.append(
            {
                "id": f"msg_{uuid.uuid4().hex[:16]}",
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": turn.text, "annotations": [], "logprobs": []}
                ],
            }
        )
    if turn.tool:
        output.append(
            {
                "id": f"fc_{uuid.uuid4().hex[:16]}",
                "type": "function_call",
                "status": "completed",
                "call_id": _tool_id("call", k),
                "name": turn.tool,
                "arguments": json.dumps(turn.args or {}),
            }
        )
    return {
        "id": f"resp_{uuid.uuid4().hex[:24]}",
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed",
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "model": _served(model),
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": body.get("tools") or [],
        "temperature": 1.0,
        "top_p": 1.0,
        "service_tier": "default",
        "store": False,
        "text": {"format": {"type": "text"}},
        "truncation": "disabled",
        "metadata": {},
        "usage": _responses_usage(count_tokens(body), k, _output_tokens(turn)),
    }


def response_events(done: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    seq = iter(range(10_000))

    def ev(etype: str, /, **fields: Any) -> tuple[str, dict[str, Any]]:
        return _ev(etype, sequence_number=next(seq), **fields)

    pending = {**done, "status": "in_progress", "output": [], "usage": None}
    yield ev("response.created", response=pending)
    yield ev("response.in_progress", response=pending)
    for i, item in enumerate(done["output"]):
        if item["type"] == "message":
            yield from _response_message_events(item, i, ev)
            continue
        added = {**item, "arguments": "", "status": "in_progress"}
        yield ev("response.output_item.added", output_index=i, item=added)
        args = item["arguments"]
        for j in range(0, len(args), 7):
            yield ev(
                "response.function_call_arguments.delta",
                item_id=item["id"],
                output_index=i,
                delta=args[j : j + 7],
            )
        yield ev(
            "response.function_call_arguments.done",
            item_id=item["id"],
            name=item["name"],
            output_index=i,
            arguments=args,
        )
        yield ev("response.output_item.done", output_index=i, item=item)
    yield ev("response.completed", response=done)


def _response_message_events(
    item: dict[str, Any], i: int, ev: Any
) -> Iterator[tuple[str, dict[str, Any]]]:
    text = item["content"][0]["text"]
    part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    at = {"item_id": item["id"], "output_index": i, "content_index": 0}
    yield ev(
        "response.output_item.added",
        output_index=i,
        item={**item, "content": [], "status": "in_progress"},
    )
    yield ev("response.content_part.added", **at, part=part)
    for j in range(0, len(text), 12):
        yield ev("response.output_text.delta", **at, delta=text[j : j + 12], logprobs=[])
    yield ev("response.output_text.done", **at, text=text, logprobs=[])
    yield ev("response.content_part.done", **at, part={**part, "text": text})
    yield ev("response.output_item.done", output_index=i, item=item)


# -- the HTTP handler ---------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    state: Standin


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    @property
    def st(self) -> Standin:
        return self.server.state

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        n = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(n)
        with self.st.lock:
            self.st.seen_headers.append({k.lower(): v for k, v in self.headers.items()})
        if not (self.headers.get("x-api-key") or self.headers.get("authorization")):
            return self._json(
                401,
                {"type": "error", "error": {"type": "authentication_error", "message": "no key"}},
            )
        with self.st.lock:
            failure = self.st.fail_next.pop(0) if self.st.fail_next else None
        if failure is not None:
            return self._json(failure[0], failure[1], {"retry-after-ms": "5"})
        if self.path.split("?")[0] == "/v1/files":
            return self._file_upload(raw)
        try:
            body = json.loads(raw)
        except ValueError:
            return self._json(400, {"error": {"message": "bad json"}})
        self._route(self.path.split("?")[0], body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        """Anthropic Message Batches: retrieve a batch, and its results as JSONL."""
        parts = self.path.split("?")[0].strip("/").split("/")
        if parts[:2] in (["v1", "batches"], ["v1", "files"]):
            return self._openai_get(parts)
        if parts[:3] != ["v1", "messages", "batches"] or len(parts) < 4:
            return self._json(404, {"error": {"message": f"no route {self.path}"}})
        with self.st.lock:
            batch = self.st.batches.get(parts[3])
        if batch is None:
            return self._json(
                404,
                {"type": "error", "error": {"type": "not_found_error", "message": "no such batch"}},
            )
        if len(parts) == 5 and parts[4] == "results":
            data = "".join(json.dumps(r) + "\n" for r in batch["results"]).encode()
            self.send_response(200)
            self.send_header("content-type", "application/binary")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return None
        with self.st.lock:
            batch["polls"] += 1
            ended = batch["polls"] > self.st.batch_polls_before_end
        self._json(200, _batch_object(batch, self.st, ended))

    def _file_upload(self, raw: bytes) -> None:
        """OpenAI Files: a multipart/form-data upload with ``purpose`` and ``file``."""
        from email import policy
        from email.parser import BytesParser

        ctype = self.headers.get("content-type") or ""
        msg = BytesParser(policy=policy.default).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw
        )
        fields = {
            p.get_param("name", header="content-disposition"): p.get_payload(decode=True)
            for p in msg.iter_parts()
        }
        if fields.get("purpose") != b"batch" or not fields.get("file"):
            return self._json(400, {"error": {"message": "purpose=batch and a file needed"}})
        fid = f"file-{uuid.uuid4().hex[:20]}"
        with self.st.lock:
            self.st.files[fid] = fields["file"]
        self._json(
            200,
            {
                "id": fid,
                "object": "file",
                "bytes": len(fields["file"]),
                "created_at": int(time.time()),
                "filename": "batch.jsonl",
                "purpose": "batch",
                "status": "processed",
            },
        )

    def _openai_batch_create(self, body: dict[str, Any]) -> None:
        with self.st.lock:
            data = self.st.files.get(str(body.get("input_file_id")))
        if data is None:
            return self._json(404, {"error": {"message": "no such file"}})
        out = []
        for raw in data.splitlines():
            req = json.loads(raw)
            api, answer = (
                ("chat", chat_completion)
                if req["url"] == "/v1/chat/completions"
                else ("responses", response_object)
            )
            done = answer(req["body"], self.st)
            done["service_tier"] = "batch"
            self._log(api, req["body"], False, done["usage"], done)
            out.append(
                {
                    "id": f"batch_req_{uuid.uuid4().hex[:12]}",
                    "custom_id": req["custom_id"],
                    "response": {"status_code": 200, "request_id": uuid.uuid4().hex, "body": done},
                    "error": None,
                }
            )
        fid = f"file-{uuid.uuid4().hex[:20]}"
        bid = f"batch_{uuid.uuid4().hex[:20]}"
        batch = {
            "id": bid,
            "endpoint": body.get("endpoint"),
            "polls": 0,
            "output": fid,
            "input": body.get("input_file_id"),
            "n": len(out),
            "created": time.time(),
        }
        with self.st.lock:
            self.st.files[fid] = "".join(json.dumps(o) + "\n" for o in out).encode()
            self.st.batches[bid] = batch
        self._json(200, _openai_batch_object(batch, False))

    def _openai_get(self, parts: list[str]) -> None:
        if parts[1] == "files" and len(parts) == 4 and parts[3] == "content":
            with self.st.lock:
                data = self.st.files.get(parts[2])
            if data is None:
                return self._json(404, {"error": {"message": "no such file"}})
            self.send_response(200)
            self.send_header("content-type", "application/octet-stream")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return None
        with self.st.lock:
            batch = self.st.batches.get(parts[2]) if len(parts) == 3 else None
            if batch is not None:
                batch["polls"] += 1
                ended = batch["polls"] > self.st.batch_polls_before_end
        if batch is None:
            return self._json(404, {"error": {"message": "no such batch"}})
        self._json(200, _openai_batch_object(batch, ended))

    def _batch_create(self, body: dict[str, Any]) -> None:
        bid = f"msgbatch_{uuid.uuid4().hex[:20]}"
        results = []
        for req in body.get("requests") or []:
            msg, _ = anthropic_message(req["params"], self.st)
            msg["usage"]["service_tier"] = "batch"
            self._log("messages", req["params"], False, msg["usage"], msg)
            results.append(
                {"custom_id": req["custom_id"], "result": {"type": "succeeded", "message": msg}}
            )
        batch = {"id": bid, "results": results, "polls": 0, "created": time.time()}
        with self.st.lock:
            self.st.batches[bid] = batch
        self._json(200, _batch_object(batch, self.st, False))

    def _route(self, path: str, body: dict[str, Any]) -> None:
        if path == "/v1/messages/batches":
            return self._batch_create(body)
        if path == "/v1/batches":
            return self._openai_batch_create(body)
        if path == "/v1/messages/count_tokens":
            self._log("count_tokens", body, False, None)
            return self._json(200, {"input_tokens": count_tokens(body)})
        if path == "/v1/responses/input_tokens":
            self._log("input_tokens", body, False, None)
            return self._json(
                200, {"object": "response.input_tokens", "input_tokens": count_tokens(body)}
            )
        stream = bool(body.get("stream"))
        if path == "/v1/messages":
            msg, _ = anthropic_message(body, self.st)
            self._log("messages", body, stream, msg["usage"], msg)
            if stream:
                return self._sse(anthropic_events(msg))
            return self._json(200, msg)
        if path == "/v1/chat/completions":
            done = chat_completion(body, self.st)
            inc = bool((body.get("stream_options") or {}).get("include_usage"))
            self._log("chat", body, stream, done["usage"] if inc or not stream else None, done)
            if stream:
                return self._sse(((None, c) for c in chat_chunks(done, inc)), True)
            return self._json(200, done)
        if path == "/v1/responses":
            done = response_object(body, self.st)
            self._log("responses", body, stream, done["usage"], done)
            if stream:
                return self._sse(response_events(done))
            return self._json(200, done)
        self._json(404, {"error": {"message": f"no route {path}"}})

    def _log(
        self,
        api: str,
        body: dict[str, Any],
        stream: bool,
        usage: dict[str, Any] | None,
        answer: dict[str, Any] | None = None,
    ) -> None:
        with self.st.lock:
            self.st.calls.append(
                {
                    "api": api,
                    "model": body.get("model"),
                    "stream": stream,
                    "usage": usage,
                    "answer": answer,
                    "request": body,
                }
            )

    def _json(
        self, status: int, obj: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", f"req_{uuid.uuid4().hex[:12]}")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _sse(self, events: Any, done_marker: bool = False) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True
        for name, data in events:
            time.sleep(self.st.event_delay_s)
            head = f"event: {name}\n" if name else ""
            self.wfile.write(f"{head}data: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()
        if done_marker:
            self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


def _openai_batch_object(batch: dict[str, Any], ended: bool) -> dict[str, Any]:
    n = batch["n"]
    return {
        "id": batch["id"],
        "object": "batch",
        "endpoint": batch["endpoint"],
        "input_file_id": batch["input"],
        "completion_window": "24h",
        "status": "completed" if ended else "in_progress",
        "output_file_id": batch["output"] if ended else None,
        "error_file_id": None,
        "created_at": int(batch["created"]),
        "completed_at": int(time.time()) if ended else None,
        "request_counts": {"total": n, "completed": n if ended else 0, "failed": 0},
    }


def _batch_object(batch: dict[str, Any], st: Standin, ended: bool) -> dict[str, Any]:
    def iso(t: float) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))

    n = len(batch["results"])
    return {
        "id": batch["id"],
        "type": "message_batch",
        "created_at": iso(batch["created"]),
        "expires_at": iso(batch["created"] + 86400),
        "archived_at": None,
        "cancel_initiated_at": None,
        "ended_at": iso(time.time()) if ended else None,
        "processing_status": "ended" if ended else "in_progress",
        "request_counts": {
            "processing": 0 if ended else n,
            "succeeded": n if ended else 0,
            "errored": 0,
            "canceled": 0,
            "expired": 0,
        },
        "results_url": (
            f"{st.anthropic_url}/v1/messages/batches/{batch['id']}/results" if ended else None
        ),
    }


class StandinServer:
    """Start with :meth:`start`, stop with :meth:`stop` (or use as a context manager)."""

    def __init__(self, state: Standin | None = None) -> None:
        self.state = state or Standin()
        self._httpd = _Server(("127.0.0.1", 0), Handler)
        self._httpd.state = self.state
        self._httpd.daemon_threads = True
        self.state.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> Standin:
        self._thread.start()
        return self.state

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Standin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def standin_fixture() -> Iterator[Standin]:
    """The body of the ``standin`` pytest fixture: a fresh server per test."""
    server = StandinServer()
    try:
        yield server.start()
    finally:
        server.stop()
