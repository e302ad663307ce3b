"""Tool-calling agent loops written the way an application uses the real SDKs, run against the
stand-in server (tests/standin_server.py). Also a script, so ``agentcost record -- python
tests/agent_loops.py PORT API MODE`` can record a program it did not write:

    API:  messages | chat | responses
    MODE: sync | stream | async | async-stream | raw   (raw: with_raw_response)
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

TOOLS_ANTHROPIC = [
    {"name": n, "description": f"{n} tool", "input_schema": {"type": "object"}}
    for n in ("search_docs", "fetch_doc", "lookup_order")
]
TOOLS_CHAT = [
    {
        "type": "function",
        "function": {"name": n, "description": f"{n} tool", "parameters": {"type": "object"}},
    }
    for n in ("search_docs", "fetch_doc", "lookup_order")
]
TOOLS_RESPONSES = [
    {"type": "function", "name": n, "description": f"{n} tool", "parameters": {"type": "object"}}
    for n in ("search_docs", "fetch_doc", "lookup_order")
]
SYSTEM = "You are a support agent. Use the tools to answer the customer's question."
QUESTION = "Can I get a refund for order A-1001?"
MAX_TURNS = 8


def run_tool(name: str, args: Any) -> str:
    return f"result of {name}({json.dumps(args, sort_keys=True)})"


# -- Anthropic Messages ---------------------------------------------------------------------------


def _anthropic_next(msgs: list[dict[str, Any]], m: Any) -> bool:
    msgs.append(
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in m.content]}
    )
    uses = [b for b in m.content if b.type == "tool_use"]
    if m.stop_reason != "tool_use" or not uses:
        return False
    msgs.append(
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": u.id, "content": run_tool(u.name, u.input)}
                for u in uses
            ],
        }
    )
    return True


def anthropic_loop(client: Any, mode: str, model: str = "claude-sonnet-4-5") -> int:
    msgs: list[dict[str, Any]] = [{"role": "user", "content": QUESTION}]
    kw = {"model": model, "max_tokens": 512, "system": SYSTEM, "tools": TOOLS_ANTHROPIC}
    for turn in range(MAX_TURNS):
        if mode == "stream":
            with client.messages.stream(messages=msgs, **kw) as s:
                m = s.get_final_message()
        elif mode == "raw":
            m = client.messages.with_raw_response.create(messages=msgs, **kw).parse()
        else:
            m = client.messages.create(messages=msgs, **kw)
        if not _anthropic_next(msgs, m):
            return turn + 1
    return MAX_TURNS


async def anthropic_loop_async(client: Any, mode: str, model: str = "claude-sonnet-4-5") -> int:
    msgs: list[dict[str, Any]] = [{"role": "user", "content": QUESTION}]
    kw = {"model": model, "max_tokens": 512, "system": SYSTEM, "tools": TOOLS_ANTHROPIC}
    for turn in range(MAX_TURNS):
        if mode == "async-stream":
            async with client.messages.stream(messages=msgs, **kw) as s:
                m = await s.get_final_message()
        else:
            m = await client.messages.create(messages=msgs, **kw)
        if not _anthropic_next(msgs, m):
            return turn + 1
    return MAX_TURNS


# -- OpenAI Chat Completions ----------------------------------------------------------------------


def _chat_accumulate(chunks: Any) -> tuple[str | None, dict[int, dict[str, str]], str]:
    calls: dict[int, dict[str, str]] = {}
    finish, text = None, ""
    for ch in chunks:
        for c in ch.choices:
            finish = c.finish_reason or finish
            text += c.delta.content or ""
            for tc in c.delta.tool_calls or []:
                d = calls.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
                d["id"] = tc.id or d["id"]
                d["name"] += tc.function.name or "" if tc.function else ""
                d["arguments"] += tc.function.arguments or "" if tc.function else ""
    return finish, calls, text


def _chat_next(
    msgs: list[dict[str, Any]], finish: str | None, calls: dict[int, dict[str, str]], text: str
) -> bool:
    if finish != "tool_calls" or not calls:
        msgs.append({"role": "assistant", "content": text})
        return False
    msgs.append(
        {
            "role": "assistant",
            "content": text or None,
            "tool_calls": [
                {
                    "id": d["id"],
                    "type": "function",
                    "function": {"name": d["name"], "arguments": d["arguments"]},
                }
                for d in calls.values()
            ],
        }
    )
    for d in calls.values():
        msgs.append(
            {
                "role": "tool",
                "tool_call_id": d["id"],
                "content": run_tool(d["name"], json.loads(d["arguments"] or "{}")),
            }
        )
    return True


def _chat_message(m: Any) -> tuple[str | None, dict[int, dict[str, str]], str]:
    msg = m.choices[0].message
    calls = {
        i: {"id": tc.id, "name": tc.function.name, "arguments": tc.function.arguments}
        for i, tc in enumerate(msg.tool_calls or [])
    }
    return m.choices[0].finish_reason, calls, msg.content or ""


def chat_loop(client: Any, mode: str, model: str = "gpt-5") -> int:
    msgs: list[dict[str, Any]] = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": QUESTION},
    ]
    for turn in range(MAX_TURNS):
        kw = {"model": model, "messages": msgs, "tools": TOOLS_CHAT}
        if mode == "stream":
            res = _chat_accumulate(
                client.chat.completions.create(
                    stream=True, stream_options={"include_usage": True}, **kw
                )
            )
        elif mode == "raw":
            res = _chat_message(client.chat.completions.with_raw_response.create(**kw).parse())
        else:
            res = _chat_message(client.chat.completions.create(**kw))
        if not _chat_next(msgs, *res):
            return turn + 1
    return MAX_TURNS


async def chat_loop_async(client: Any, mode: str, model: str = "gpt-5") -> int:
    msgs: list[dict[str, Any]] = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": QUESTION},
    ]
    for turn in range(MAX_TURNS):
        kw = {"model": model, "messages": msgs, "tools": TOOLS_CHAT}
        if mode == "async-stream":
            chunks = [
                c
                async for c in await client.chat.completions.create(
                    stream=True, stream_options={"include_usage": True}, **kw
                )
            ]
            res = _chat_accumulate(chunks)
        else:
            res = _chat_message(await client.chat.completions.create(**kw))
        if not _chat_next(msgs, *res):
            return turn + 1
    return MAX_TURNS


# -- OpenAI Responses -----------------------------------------------------------------------------


def _responses_next(inp: list[Any], resp: Any) -> bool:
    calls = [i for i in resp.output if i.type == "function_call"]
    for item in resp.output:
        inp.append(item.model_dump(exclude_none=True))
    for c in calls:
        inp.append(
            {
                "type": "function_call_output",
                "call_id": c.call_id,
                "output": run_tool(c.name, json.loads(c.arguments or "{}")),
            }
        )
    return bool(calls)


def responses_loop(client: Any, mode: str, model: str = "gpt-5") -> int:
    inp: list[Any] = [{"role": "user", "content": QUESTION}]
    for turn in range(MAX_TURNS):
        kw = {"model": model, "instructions": SYSTEM, "input": inp, "tools": TOOLS_RESPONSES}
        if mode == "stream":
            resp = None
            for ev in client.responses.create(stream=True, **kw):
                if ev.type == "response.completed":
                    resp = ev.response
        elif mode == "raw":
            resp = client.responses.with_raw_response.create(**kw).parse()
        else:
            resp = client.responses.create(**kw)
        if not _responses_next(inp, resp):
            return turn + 1
    return MAX_TURNS


async def responses_loop_async(client: Any, mode: str, model: str = "gpt-5") -> int:
    inp: list[Any] = [{"role": "user", "content": QUESTION}]
    for turn in range(MAX_TURNS):
        kw = {"model": model, "instructions": SYSTEM, "input": inp, "tools": TOOLS_RESPONSES}
        if mode == "async-stream":
            async with client.responses.stream(**kw) as s:
                resp = await s.get_final_response()
        else:
            resp = await client.responses.create(**kw)
        if not _responses_next(inp, resp):
            return turn + 1
    return MAX_TURNS


def run(port: int, api: str, mode: str) -> int:
    """One agent loop; returns the number of model calls it made."""
    import anthropic
    import openai

    a_url, o_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/v1"
    if mode.startswith("async"):

        async def main() -> int:
            if api == "messages":
                async with anthropic.AsyncAnthropic(
                    base_url=a_url, api_key="sk-ant-secret-123"
                ) as ac:
                    return await anthropic_loop_async(ac, mode)
            fn = chat_loop_async if api == "chat" else responses_loop_async
            async with openai.AsyncOpenAI(base_url=o_url, api_key="sk-secret-456") as oc:
                return await fn(oc, mode)

        return asyncio.run(main())
    if api == "messages":
        return anthropic_loop(
            anthropic.Anthropic(base_url=a_url, api_key="sk-ant-secret-123"), mode
        )
    fn2 = chat_loop if api == "chat" else responses_loop
    return fn2(openai.OpenAI(base_url=o_url, api_key="sk-secret-456"), mode)


if __name__ == "__main__":
    print(run(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
