"""Token counts estimated from content, for model calls whose source dropped the usage.

The OpenAI Agents SDK with streamed Chat Completions records every call's usage as zeros (the
API sends none unless ``stream_options.include_usage`` is set), and some span exporters carry
the messages but no token attributes. Where the prompt and the output are in the trace, they
are counted here; the step is marked ``cost_source = "estimated"`` and never passes for a
reported figure (DESIGN.md §2).

How (provider-rules §G, the counting in :mod:`agentcost.audit.tokens`):

* OpenAI models: tiktoken with the encoding the model uses (``o200k_base`` / ``cl100k_base``,
  shipped with agentcost), each field counted on its own as OpenAI's cookbook does; Claude: the
  calibrated estimate ``o200k × 1.16–1.30`` (×1.35 more for the tokenizer of Opus 4.7 and
  later), its midpoint, over the joined text; other models: ``o200k_base`` as an approximation.
* Chat framing as OpenAI's cookbook ("How to count tokens with tiktoken") states it: every
  message 3 tokens plus its role, 1 more (plus the name) when it has a ``name``, 3 that prime
  the reply. Function definitions as the same notebook's section 7 counts them (``name:description``
  per function, ``key:type:description`` per parameter, enum items, and the constants below).
* Tool calls and the output: constants measured on real ``gpt-4o`` usage (docs/tokens.md): an
  earlier tool call in the prompt is its name, its arguments and :data:`TOOL_CALL_IN_PROMPT`; a
  generated text is its tokens + :data:`TEXT_END`; a generated tool call its name, arguments and
  :data:`TOOL_CALL_OUTPUT`; several calls in one message add a wrapper once.

What is not in the trace is not counted: tool *definitions* where the trace lacks them (the
Agents SDK's spans hold only tool names; OTel GenAI ``gen_ai.tool.definitions``, a request body's
``tools`` and OpenInference ``llm.tools.*.tool.json_schema`` are counted), images and files, and
the reasoning tokens of reasoning models. An estimate says so (``input_lower_bound`` when the
calls show the model had tools whose definitions are missing, ``output_lower_bound`` for a
reasoning model). When the same input holds calls of the same agent (same model and system
prompt) with real usage, the reader shifts the estimates by the median difference it measured
on those calls and says so (:func:`calibrate`).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import orjson

# OpenAI cookbook, "How to count tokens with tiktoken" (gpt-3.5-turbo-0613 and later, gpt-4o)
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3
# the same notebook, section 7 (function definitions): gpt-4o / gpt-4o-mini; FUNC_INIT is 10 for
# the cl100k models (gpt-4, gpt-3.5-turbo)
FUNC_INIT = 7
FUNC_INIT_CL100K = 10
PROP_INIT = 3
PROP_KEY = 3
ENUM_INIT = -3
ENUM_ITEM = 3
FUNC_END = 12
# measured on real gpt-4o usage (tau2-bench telecom, 20 simulations, 2025-08; docs/tokens.md)
TOOL_CALL_IN_PROMPT = 9  # an earlier tool call: + name + arguments (66 call/result pairs)
PARALLEL_IN_PROMPT = 11  # once for an assistant message with several calls (12 messages)
TEXT_END = 1  # a generated text: + its tokens (137 of 139 replies)
TOOL_CALL_OUTPUT = 7  # a generated tool call: + name + arguments (60 of 60 single calls)
PARALLEL_OUTPUT = 12  # once for a reply with several calls (12 replies)

_REASONING_MODEL = re.compile(r"^(o\d|gpt-5(?!.*chat)|gpt-oss)")


@dataclass(frozen=True)
class Estimate:
    input_tokens: int
    output_tokens: int | None  # None: the trace kept no output to count
    method: str  # e.g. "tiktoken o200k_base", "o200k_base (approximation)", "estimate"
    input_lower_bound: bool = False  # the calls used tools whose definitions are not in the trace
    output_lower_bound: bool = False  # a reasoning model: its reasoning tokens are not in the trace
    tools_counted: bool = False  # tool definitions were in the trace and are counted


@dataclass
class _Parts:
    """Texts to count (each on its own) and framing tokens."""

    texts: list[str]
    framing: int = 0

    def add(self, *texts: str) -> None:
        self.texts.extend(t for t in texts if t)


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


def _args(v: Any) -> str:
    return v if isinstance(v, str) else ("" if v is None else orjson.dumps(v).decode())


def _calls(calls: Any) -> list[tuple[str, str]]:
    """(name, arguments) of Chat Completions ``tool_calls``."""
    out: list[tuple[str, str]] = []
    for c in calls if isinstance(calls, list) else []:
        fn = c.get("function") if isinstance(c, dict) else None
        if isinstance(fn, dict):
            out.append((str(fn.get("name") or ""), _args(fn.get("arguments"))))
    return out


def _add_calls(parts: _Parts, calls: list[tuple[str, str]], each: int, several: int) -> None:
    for name, args in calls:
        parts.add(name, args)
        parts.framing += each
    if len(calls) > 1:
        parts.framing += several


def chat_prompt_parts(messages: Iterable[Any]) -> tuple[list[str], int]:
    """The texts of a Chat Completions message list (Responses-style ``function_call`` /
    ``function_call_output`` items too) and its framing tokens."""
    parts = _Parts([], REPLY_PRIMING)
    for m in messages:
        if not isinstance(m, dict):
            continue
        t = m.get("type")
        if t in ("function_call", "custom_tool_call") and "role" not in m:
            _add_calls(parts, [(str(m.get("name") or ""), _args(m.get("arguments") or m.get(
                "input")))], TOOL_CALL_IN_PROMPT, 0)
            continue
        parts.framing += TOKENS_PER_MESSAGE
        if t in ("function_call_output", "custom_tool_call_output") and "role" not in m:
            parts.add("tool", _text(m.get("output")))
            continue
        parts.add(str(m.get("role") or ""), _text(m.get("content")))
        if m.get("name"):
            parts.framing += TOKENS_PER_NAME
            parts.add(str(m["name"]))
        _add_calls(parts, _calls(m.get("tool_calls")), TOOL_CALL_IN_PROMPT, PARALLEL_IN_PROMPT)
    return parts.texts, parts.framing


def _uses_tools(messages: Iterable[Any]) -> bool:
    """Whether a prompt shows that the model had tools (calls or results in it)."""
    for m in messages:
        if isinstance(m, dict) and (m.get("tool_calls") or m.get("role") == "tool" or m.get(
                "type") in ("function_call", "function_call_output")):
            return True
    return False


def tool_definition_parts(tools: Any, cl100k: bool = False) -> tuple[list[str], int]:
    """The texts and framing of function definitions, counted as OpenAI's cookbook counts them
    (Chat ``{"type": "function", "function": {...}}`` or flat ``{"name", "description",
    "parameters"}``). Schema parts the cookbook does not cover (nested ``properties``,
    ``items``, ``anyOf`` …) and non-function tools are counted as compact JSON."""
    parts = _Parts([])
    for tool in tools if isinstance(tools, list) else []:
        fn = tool.get("function") if isinstance(tool, dict) else None
        fn = fn if isinstance(fn, dict) else tool
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            parts.add(_args(tool))
            continue
        parts.framing += FUNC_INIT_CL100K if cl100k else FUNC_INIT
        desc = str(fn.get("description") or "")
        parts.add(f"{fn['name']}:{desc[:-1] if desc.endswith('.') else desc}")
        params = fn.get("parameters") or fn.get("input_schema")
        props = params.get("properties") if isinstance(params, dict) else None
        if isinstance(props, dict) and props:
            parts.framing += PROP_INIT
            for key, p in props.items():
                _property_parts(parts, str(key), p if isinstance(p, dict) else {})
    if parts.framing:
        parts.framing += FUNC_END
    return parts.texts, parts.framing


def _property_parts(parts: _Parts, key: str, p: dict[str, Any]) -> None:
    parts.framing += PROP_KEY
    enum = p.get("enum")
    if isinstance(enum, list):
        parts.framing += ENUM_INIT + ENUM_ITEM * len(enum)
        parts.add(*(str(e) for e in enum))
    typ = p.get("type")
    typ = "|".join(str(x) for x in typ) if isinstance(typ, list) else str(typ or "")
    desc = str(p.get("description") or "")
    parts.add(f"{key}:{typ}:{desc[:-1] if desc.endswith('.') else desc}")
    rest = {k: v for k, v in p.items() if k not in ("type", "description", "enum", "title")}
    if rest:
        parts.add(orjson.dumps(rest).decode())


def tool_names_tokens(names: Iterable[str], count: Callable[[list[str]], int],
                      cl100k: bool = False) -> int:
    """The part of function definitions that their names alone give (the Agents SDK's agent
    span lists the tools by name): a lower bound of the definitions' tokens."""
    names = [n for n in names if n]
    if not names:
        return 0
    init = FUNC_INIT_CL100K if cl100k else FUNC_INIT
    return count([f"{n}:" for n in names]) + init * len(names) + FUNC_END


def response_output_parts(output: Any) -> tuple[list[str], int]:
    """The texts and framing of a response's output: Responses-shaped items (what the Agents
    SDK's generation span records) or Chat Completions messages."""
    texts: list[str] = []
    calls: list[tuple[str, str]] = []
    _output_items(output, texts, calls)
    parts = _Parts([])
    parts.add(*texts)
    if parts.texts:
        parts.framing += TEXT_END
    _add_calls(parts, calls, TOOL_CALL_OUTPUT, PARALLEL_OUTPUT)
    return parts.texts, parts.framing


def _output_items(output: Any, texts: list[str], calls: list[tuple[str, str]]) -> None:
    for it in output if isinstance(output, list) else [output]:
        if not isinstance(it, dict):
            continue
        if isinstance(it.get("output"), list):  # a whole Response object
            _output_items(it["output"], texts, calls)
            continue
        t = it.get("type")
        if t in ("function_call", "custom_tool_call"):
            calls.append((str(it.get("name") or ""), _args(it.get("arguments") or it.get(
                "input"))))
        elif t == "message" or "content" in it:
            texts.append(_text(it.get("content")))
            calls.extend(_calls(it.get("tool_calls")))


def counter(model: str | None, provider: str | None) -> tuple[Callable[[list[str]], int], str]:
    """A function counting a list of texts for ``model`` and the method's name. OpenAI's
    encodings count each text on its own (as the API's chat format separates them); the Claude
    estimate is a ratio, applied once to the joined texts."""
    from agentcost import encodings
    from agentcost.audit.tokens import count

    method = count("", model, provider).method
    if method.startswith("tiktoken") or method.endswith("(approximation)"):
        enc = "cl100k_base" if "cl100k" in method else "o200k_base"
        return (lambda texts: sum(encodings.count(t, enc) for t in texts if t)), method
    return (lambda texts: count("\n".join(t for t in texts if t), model, provider).tokens
            if any(texts) else 0), method


def reasons(model: str | None) -> bool:
    """A model whose output includes reasoning tokens that a trace does not show."""
    m = (model or "").lower().rsplit("/", 1)[-1]
    return bool(_REASONING_MODEL.match(m))


def estimate_chat(messages: Any, output: Any, model: str | None,
                  provider: str | None = None, tools: Any = None) -> Estimate | None:
    """Estimated input and output tokens of one Chat-shaped call, or ``None`` when the trace
    holds no prompt to count. ``tools``: the tool definitions, where the trace kept them."""
    if not isinstance(messages, list) or not messages:
        return None
    texts, framing = chat_prompt_parts(messages)
    if not any(texts):
        return None
    n, method = counter(model, provider)
    has_tools = isinstance(tools, list) and bool(tools)
    if has_tools:
        t_texts, t_framing = tool_definition_parts(tools, "cl100k" in method)
        texts, framing = t_texts + texts, framing + t_framing
    out_texts, out_framing = response_output_parts(output)
    out = n(out_texts) + out_framing if out_texts else None
    return Estimate(n(texts) + framing, out, method,
                    input_lower_bound=not has_tools and _uses_tools(messages),
                    output_lower_bound=out is not None and reasons(model),
                    tools_counted=has_tools)


def with_tool_names(est: Estimate, names: Iterable[str], model: str | None,
                    provider: str | None) -> Estimate:
    """``est`` plus what the names of the agent's tools give of their definitions (the Agents
    SDK's agent span lists them; the schemas are not in the trace): still a lower bound."""
    n, method = counter(model, provider)
    extra = tool_names_tokens(names, n, "cl100k" in method)
    return replace(est, input_tokens=est.input_tokens + extra, input_lower_bound=True)


def lower_bound_clause(inputs: int, outputs: int, missing_tools: str) -> str:
    """The part of a reader's estimate note that says which estimates are lower bounds
    (``inputs`` with :attr:`Estimate.input_lower_bound`, whose tool definitions are missing as
    ``missing_tools`` words it for the source; ``outputs`` with
    :attr:`Estimate.output_lower_bound`): ``""`` when none is."""
    low = []
    if inputs:
        low.append(f"the input of {inputs} is a lower bound: {missing_tools}, which the API "
                   "counts")
    if outputs:
        low.append(f"the output of {outputs} is a lower bound: reasoning tokens are not in "
                   "the trace")
    return "".join("; " + c for c in low)


def calibrate(pairs: Iterable[tuple[int, int]]) -> int | None:
    """The shift to add to estimated input tokens: the median of (real − estimated) over calls
    of the same agent whose usage is known; ``None`` without such calls."""
    diffs = [real - est for real, est in pairs]
    return int(statistics.median(diffs)) if diffs else None


def calibrate_rows(rows: list[dict[str, Any]]) -> int:
    """Calibrate the estimated rows (``cost_source == "estimated"``) against the known rows of
    the same agent: input shifted by the median difference (:func:`calibrate`), output scaled
    by the summed ratio. A reader marks rows with ``_est`` (the :class:`Estimate` of the
    call's content) and ``_agent`` (the agent's key); both are removed here. Returns the
    number of rows shifted."""
    known: dict[str, list[tuple[int, int, int, int]]] = {}
    for r in rows:
        est, key = r.get("_est"), r.get("_agent")
        if est is not None and key and r.get("cost_source") != "estimated" \
                and isinstance(r.get("input_tokens"), int):
            known.setdefault(key, []).append((r["input_tokens"], est.input_tokens,
                                              r.get("output_tokens") or 0,
                                              est.output_tokens or 0))
    shifted = 0
    for r in rows:
        key = r.pop("_agent", None)
        r.pop("_est", None)
        if r.get("cost_source") != "estimated" or key not in known:
            continue
        pairs = known[key]
        shift = calibrate((a, b) for a, b, _, _ in pairs) or 0
        est_out = sum(p[3] for p in pairs)
        ratio = sum(p[2] for p in pairs) / est_out if est_out else 1.0
        r["input_tokens"] = max(0, r["input_tokens"] + shift)
        if r.get("output_tokens") is not None:
            r["output_tokens"] = max(0, round(r["output_tokens"] * ratio))
        shifted += 1
    return shifted


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
