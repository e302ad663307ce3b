"""Token counts estimated from content, for model calls whose source dropped the usage.

The OpenAI Agents SDK with streamed Chat Completions records every call's usage as zeros (the
API sends none unless ``stream_options.include_usage`` is set), and some span exporters carry
the messages but no token attributes. Where the prompt and the output are in the trace, they
are counted here; the step is marked ``cost_source = "estimated"`` and never passes for a
reported figure (DESIGN.md §2).

How (provider-rules §G, the counting in :mod:`agentcost.audit.tokens`):

* OpenAI models: tiktoken with the encoding the model uses (``o200k_base`` / ``cl100k_base``,
  shipped with agentcost); Claude: the calibrated estimate ``o200k × 1.16–1.30`` (×1.35 more
  for the tokenizer of Opus 4.7 and later), its midpoint; other models: ``o200k_base`` as an
  approximation.
* Chat framing as OpenAI's token-counting guide states it for these encodings: 3 tokens per
  message, 1 more when it has a ``name``, 3 that prime the reply; a message's tool calls count
  their function name and arguments.
* The output: the text and the tool calls' names and arguments of the response.

What is not in the trace is not counted: tool *definitions* where the trace lacks them (the
Agents SDK's spans hold only tool names; OTel GenAI ``gen_ai.tool.definitions``, a request body's
``tools`` and OpenInference ``llm.tools.*.tool.json_schema`` are counted), images and files. The estimate is then low by their size; when the same input
holds calls of the same agent (same model and system prompt) with real usage, the reader
shifts the estimates by the median difference it measured on those calls and says so
(:func:`calibrate`).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3


@dataclass(frozen=True)
class Estimate:
    input_tokens: int
    output_tokens: int | None  # None: the trace kept no output to count
    method: str  # e.g. "tiktoken o200k_base", "o200k_base (approximation)", "estimate"


def _text(v: Any) -> str:
    """The countable text of a message field: strings as they are, content parts' text,
    anything else as compact JSON."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, list):
        parts: list[str] = []
        for p in v:
            if isinstance(p, dict) and isinstance(p.get("text"), str):
                parts.append(p["text"])
            elif isinstance(p, str):
                parts.append(p)
            elif isinstance(p, dict) and p.get("type") in ("image_url", "input_image", "image",
                                                           "file", "input_file"):
                continue  # not counted (see the module docstring)
            else:
                parts.append(orjson.dumps(p).decode())
        return "\n".join(parts)
    return orjson.dumps(v).decode()


def _tool_call_text(calls: Any) -> str:
    out: list[str] = []
    for c in calls if isinstance(calls, list) else []:
        fn = c.get("function") if isinstance(c, dict) else None
        if isinstance(fn, dict):
            out.append(f"{fn.get('name') or ''}{fn.get('arguments') or ''}")
    return "".join(out)


def chat_prompt_parts(messages: Iterable[Any]) -> tuple[list[str], int]:
    """The texts of a Chat Completions message list and its framing tokens."""
    texts: list[str] = []
    framing = REPLY_PRIMING
    for m in messages:
        if not isinstance(m, dict):
            continue
        framing += TOKENS_PER_MESSAGE
        texts.append(str(m.get("role") or ""))
        texts.append(_text(m.get("content")))
        if m.get("name"):
            framing += TOKENS_PER_NAME
            texts.append(str(m["name"]))
        texts.append(_tool_call_text(m.get("tool_calls")))
    return texts, framing


def response_output_parts(output: Any) -> list[str]:
    """The texts of a response's output: Responses-shaped items (what the Agents SDK's
    generation span records) or Chat Completions messages."""
    texts: list[str] = []
    items = output if isinstance(output, list) else [output]
    for it in items:
        if not isinstance(it, dict):
            continue
        if isinstance(it.get("output"), list):  # a whole Response object
            texts += response_output_parts(it["output"])
            continue
        t = it.get("type")
        if t in ("function_call", "custom_tool_call"):
            texts.append(f"{it.get('name') or ''}{it.get('arguments') or it.get('input') or ''}")
        elif t == "message" or "content" in it:
            texts.append(_text(it.get("content")))
            texts.append(_tool_call_text(it.get("tool_calls")))
    return texts


def estimate_chat(messages: Any, output: Any, model: str | None,
                  provider: str | None = None, tools: Any = None) -> Estimate | None:
    """Estimated input and output tokens of one Chat-shaped call, or ``None`` when the trace
    holds no prompt to count. ``tools``: the tool definitions, where the trace kept them
    (counted as their compact JSON)."""
    from agentcost.audit.tokens import count

    if not isinstance(messages, list) or not messages:
        return None
    texts, framing = chat_prompt_parts(messages)
    if isinstance(tools, list) and tools:
        texts.insert(0, orjson.dumps(tools).decode())
    prompt = "\n".join(t for t in texts if t)
    if not prompt:
        return None
    tc = count(prompt, model, provider)
    # framing tokens are per message: each text joined above adds a separator token at most,
    # which the framing constants already stand for
    inp = tc.tokens + framing
    out_text = "\n".join(t for t in response_output_parts(output) if t)
    out = count(out_text, model, provider).tokens if out_text else None
    return Estimate(inp, out, tc.method)


def calibrate(pairs: Iterable[tuple[int, int]]) -> int | None:
    """The shift to add to estimated input tokens: the median of (real − estimated) over calls
    of the same agent whose usage is known; ``None`` without such calls."""
    diffs = [real - est for real, est in pairs]
    return int(statistics.median(diffs)) if diffs else None


def _json_value(v: Any) -> Any:
    if isinstance(v, str) and v.lstrip()[:1] in ("[", "{"):
        try:
            return orjson.loads(v)
        except orjson.JSONDecodeError:
            return None
    return v


def genai_messages(v: Any) -> list[dict[str, Any]] | None:
    """OTel GenAI ``gen_ai.input.messages`` / ``gen_ai.output.messages`` (``[{role, parts:
    [{type: text, content} | {type: tool_call, name, arguments} | {type:
    tool_call_response, response}]}]``) as Chat-shaped messages."""
    v = _json_value(v)
    if not isinstance(v, list):
        return None
    out: list[dict[str, Any]] = []
    for m in v:
        if not isinstance(m, dict) or not isinstance(m.get("parts"), list):
            return None
        texts, calls = [], []
        for p in m["parts"]:
            if not isinstance(p, dict):
                continue
            if p.get("type") == "tool_call":
                args = p.get("arguments")
                calls.append({"function": {"name": p.get("name"), "arguments": args if isinstance(
                    args, str) else orjson.dumps(args).decode()}})
            elif "content" in p:
                texts.append(_text(p.get("content")))
            elif "response" in p:
                texts.append(_text(p.get("response")))
        out.append({"role": m.get("role"), "content": "\n".join(texts), "tool_calls": calls})
    return out


def estimate_from_span(attrs: dict[str, Any], model: str | None,
                       provider: str | None) -> Estimate | None:
    """An estimate from the content a span recorded: OpenInference ``input.value`` /
    ``output.value`` holding the messages (or a request body with ``messages``), or OTel GenAI
    ``gen_ai.input.messages`` / ``gen_ai.output.messages``."""
    msgs = genai_messages(attrs.get("gen_ai.input.messages"))
    output: Any = genai_messages(attrs.get("gen_ai.output.messages"))
    tools = _json_value(attrs.get("gen_ai.tool.definitions"))
    if msgs is None:
        iv = _json_value(attrs.get("input.value"))
        msgs = iv.get("messages") if isinstance(iv, dict) else iv
        if isinstance(iv, dict) and tools is None:
            tools = iv.get("tools")
        output = _json_value(attrs.get("output.value"))
    if tools is None:  # OpenInference: llm.tools.<i>.tool.json_schema
        tools = [_json_value(v) for k, v in sorted(attrs.items())
                 if k.startswith("llm.tools.") and k.endswith(".tool.json_schema")] or None
    if not isinstance(msgs, list):
        return None
    return estimate_chat(msgs, output, model, provider, tools)
