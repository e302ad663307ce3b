"""Generate realistic OpenTelemetry OTLP/JSON trace files for the OTLP ingest benchmark.

The files are what an OpenTelemetry Collector's file exporter writes (rotated by size): one
``ExportTraceServiceRequest`` per line, each line one batch of one service process
(``BatchSpanProcessor``: the spans that ended in one 5 s window, at most 512, in end order,
children before parents), ``resourceSpans`` → ``scopeSpans`` (one per instrumentation scope) →
``spans``. Encoding as in shared/authentic-traces: lowerCamelCase keys, hex ids, 64-bit integers
as strings (``startTimeUnixNano``, ``intValue``), enums as integers, attributes as
``{"key": ..., "value": {"stringValue"|"intValue"|"doubleValue"|"boolValue"|"arrayValue"}}``.

Several service processes run agent runs concurrently, so a line mixes runs and a run's spans
are spread over several lines and sometimes two files. Every run is one trace:

* an ``invoke_agent <agent>`` root (``opentelemetry.util.genai.handler``) carrying the run's
  summed usage (``gen_ai.usage.*``: a roll-up that must not be counted again);
* model calls, by the service's instrumentation:

  - OTel GenAI ``chat <model>`` spans (current names: ``gen_ai.operation.name``,
    ``gen_ai.request.model``, ``gen_ai.response.model``, ``gen_ai.provider.name``,
    ``gen_ai.usage.input_tokens`` — inclusive of cache reads and writes —,
    ``output_tokens``, ``cache_read.input_tokens``, ``cache_creation.input_tokens``) with the
    content on the span (``gen_ai.system_instructions``, ``gen_ai.input.messages``,
    ``gen_ai.output.messages``, ``gen_ai.tool.definitions``); OpenAI spans state no cache
    write (the API reports none);
  - OpenInference ``ChatCompletion`` / ``messages.create`` LLM spans
    (``openinference.instrumentation.openai`` / ``.anthropic``: ``llm.token_count.prompt``
    (inclusive), ``.completion``, ``.total``, ``.prompt_details.cache_read|cache_write`` —
    the Anthropic instrumentation omits zero cache details —, the raw request and response in
    ``input.value`` / ``output.value`` and the messages flattened again in
    ``llm.input_messages.*``); one Anthropic process also has the anthropic SDK's own
    ``anthropic.messages.create`` span (``com.anthropic.sdk.python``, 5m/1h split) as the only
    child of each LLM span: the same call, counted once;

* ``execute_tool <name>`` spans (GenAI) or OpenInference TOOL spans with arguments and the
  (heavy-tailed) result, a few failing; now and then a call that failed (429/529: error status,
  no usage) and was retried, a helper model summarising the run, a conversation continued over
  several runs (``gen_ai.conversation.id`` / ``session.id``), and context compaction.

Token counts follow the content (~4 characters a token) and the providers' caching: Anthropic
with a moving ``cache_control`` breakpoint (5-minute TTL; a run after a long pause or with a
slow tool rewrites the cache), OpenAI's automatic prefix caching (1,024-token minimum,
128-token steps). Content attributes are most of the bytes, as in real exports.

Models: claude-sonnet-4-6, claude-opus-4-6, claude-haiku-4-5 (response
claude-haiku-4-5-20251001), gpt-4.1 / gpt-4.1-mini (response snapshots ...-2025-04-14) and
gpt-5-mini (response gpt-5-mini-2025-08-07, with reasoning tokens).

Writes ``DIR/traces-<time>.jsonl`` files (1-5 MiB each) and ``DIR/manifest.json`` with the
expected totals in DESIGN.md §2 meaning (``input_tokens`` includes cache reads and writes;
the roll-ups and the SDK duplicates counted once) and the naive sums a parse-and-sum baseline
should find.

    python bench/gen_otlp.py --size 100M            # -> bench/data/otlp-100M/
    python bench/gen_otlp.py --size 1G --seed 7
"""

from __future__ import annotations

import argparse
import calendar
import heapq
import json
import random
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from gen_claude_code import parse_size  # noqa: E402

MIB = 1 << 20
WINDOW_NS = 5_000_000_000  # BatchSpanProcessor schedule delay
MAX_BATCH = 512
SCHEMA_URL = "https://opentelemetry.io/schemas/1.37.0"

# scopes
HANDLER = ("opentelemetry.util.genai.handler", "1.1b0")
OTEL_ANTHROPIC = ("opentelemetry.instrumentation.anthropic", "0.4b0")
OI_OPENAI = ("openinference.instrumentation.openai", "0.1.66")
OI_ANTHROPIC = ("openinference.instrumentation.anthropic", "3.1.0")
ANTHROPIC_SDK = ("com.anthropic.sdk.python", "2.12.0")

# model id -> (provider, response model, ms per output token, min cacheable tokens)
MODELS: dict[str, tuple[str, str, float, int]] = {
    "claude-sonnet-4-6": ("anthropic", "claude-sonnet-4-6", 18.0, 1024),
    "claude-opus-4-6": ("anthropic", "claude-opus-4-6", 28.0, 1024),
    "claude-haiku-4-5": ("anthropic", "claude-haiku-4-5-20251001", 8.0, 4096),
    "gpt-4.1": ("openai", "gpt-4.1-2025-04-14", 14.0, 1024),
    "gpt-4.1-mini": ("openai", "gpt-4.1-mini-2025-04-14", 7.0, 1024),
    "gpt-5-mini": ("openai", "gpt-5-mini-2025-08-07", 9.0, 1024),
}

PROSE = ("the", "a", "to", "of", "and", "in", "is", "for", "that", "with", "on", "as", "this",
         "order", "customer", "refund", "shipping", "account", "invoice", "policy", "flight",
         "weather", "forecast", "currency", "booking", "hotel", "request", "response", "data",
         "table", "query", "column", "result", "error", "timeout", "retry", "function", "test",
         "review", "change", "commit", "branch", "module", "config", "value", "should", "would",
         "could", "please", "thanks", "however", "because", "therefore", "first", "second",
         "next", "finally", "summary", "details", "report", "analysis", "revenue", "quarter",
         "growth", "users", "latency", "p95", "budget", "cost", "tokens", "cache", "model",
         "agent", "tool", "step", "plan", "check", "update", "status", "pending", "approved",
         "déjà", "naïve", "café", "Zürich", "São", "Paulo", "€", "—", "→", "✓", "東京", "数据")
CODE_WORDS = ("def", "return", "self", "import", "class", "value", "None", "if", "else", "for",
              "result", "error", "path", "config", "token", "request", "session", "async",
              "await", "assert", "raise", "yield", "lambda", "with", "open", "json", "dict",
              "list", "str", "int", "len", "range", "print", "try", "except", "pass")

# agent profiles: tools (name, description, result kind)
TOOLSETS: dict[str, list[tuple[str, str, str]]] = {
    "support": [("search_kb", "Search the help-center knowledge base.", "search"),
                ("get_order", "Fetch an order with its items, payments and shipments.", "record"),
                ("lookup_customer", "Look a customer up by email or id.", "record"),
                ("refund_order", "Refund an order or some of its items.", "small"),
                ("send_email", "Send an email to the customer.", "small")],
    "research": [("web_search", "Search the web and return the top results.", "search"),
                 ("fetch_url", "Fetch a web page and return its text.", "page"),
                 ("run_python", "Run Python code in a sandbox and return stdout.", "log")],
    "code": [("read_file", "Read a file of the repository.", "code"),
             ("grep", "Search the repository with a regular expression.", "log"),
             ("git_diff", "Show the diff of the pull request.", "code"),
             ("run_tests", "Run the test suite and return its output.", "log"),
             ("post_comment", "Post a review comment on a line of the diff.", "small")],
    "travel": [("get_weather", "Get a 3-day weather forecast for a city.", "small"),
               ("search_flights", "Search indicative economy fares between two cities on a "
                                  "date.", "record"),
               ("search_hotels", "Search hotels in a city for given dates.", "search"),
               ("convert_currency", "Convert an amount between two currencies (ISO 4217 "
                                    "codes).", "small")],
    "data": [("list_tables", "List the tables of the warehouse.", "small"),
             ("describe_table", "Show the columns of a table.", "record"),
             ("run_sql", "Run a read-only SQL query and return the rows as CSV.", "table"),
             ("make_chart", "Render a chart from a query result.", "small")],
}

# service processes: (service, agent name, toolset, instrumentation, main models with weights,
# helper model, concurrent runs, session continuation probability)
PROCESSES: list[dict[str, Any]] = [
    {"service": "support-assistant", "agent": "support-agent", "tools": "support",
     "inst": "genai", "models": [("claude-sonnet-4-6", 0.8), ("claude-opus-4-6", 0.2)],
     "helper": "claude-haiku-4-5", "conc": 3, "cont": 0.45},
    {"service": "support-assistant", "agent": "support-agent", "tools": "support",
     "inst": "genai", "models": [("claude-sonnet-4-6", 0.8), ("claude-opus-4-6", 0.2)],
     "helper": "claude-haiku-4-5", "conc": 2, "cont": 0.45},
    {"service": "research-agent", "agent": "researcher", "tools": "research",
     "inst": "genai", "models": [("gpt-4.1", 0.7), ("gpt-4.1-mini", 0.3)],
     "helper": "gpt-4.1-mini", "conc": 2, "cont": 0.2},
    {"service": "data-analyst", "agent": "sql-analyst", "tools": "data",
     "inst": "genai", "models": [("gpt-4.1-mini", 1.0)], "helper": None, "conc": 1,
     "cont": 0.5},
    {"service": "code-review-bot", "agent": "reviewer", "tools": "code",
     "inst": "openinference", "models": [("claude-sonnet-4-6", 0.75), ("claude-opus-4-6", 0.25)],
     "helper": "claude-haiku-4-5", "conc": 2, "cont": 0.1, "sdk_spans": True},
    {"service": "travel-planner", "agent": "atlas", "tools": "travel",
     "inst": "openinference", "models": [("gpt-5-mini", 1.0)], "helper": None, "conc": 2,
     "cont": 0.35},
]


def kv(key: str, value: Any) -> dict[str, Any]:
    """One OTLP attribute (protobuf JSON mapping: int64 as a string)."""
    if isinstance(value, bool):
        v: dict[str, Any] = {"boolValue": value}
    elif isinstance(value, int):
        v = {"intValue": str(value)}
    elif isinstance(value, float):
        v = {"doubleValue": value}
    elif isinstance(value, list):
        v = {"arrayValue": {"values": [{"stringValue": x} for x in value]}}
    else:
        v = {"stringValue": value}
    return {"key": key, "value": v}


def tok(text: str) -> int:
    return max(1, len(text) // 4)


class Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.t0 = calendar.timegm((2026, 1, 5, 9, 0, 0, 0, 0, 0)) * 1_000_000_000
        self.prose = [self._prose(65536) for _ in range(24)]
        self.code = [self._code(65536) for _ in range(16)]
        self.systems = {name: self._system(name) for name in TOOLSETS}
        self.tooldefs = {name: [self._tooldef(t) for t in tools]
                         for name, tools in TOOLSETS.items()}
        self.used: dict[int, list[tuple[int, int]]] = {}  # input tokens -> call intervals
        self.expected = dict.fromkeys(
            ("tasks", "llm_calls", "tool_calls", "input_tokens", "cache_read_tokens",
             "cache_write_tokens", "output_tokens", "reasoning_tokens"), 0)
        self.extra: Counter[str] = Counter()
        self.by_model: dict[str, Counter[str]] = {}
        # what a parse-and-sum loop over every span's gen_ai.usage.* finds (roll-ups and
        # the SDK's duplicate spans included)
        self.naive = dict.fromkeys(("spans", "gen_ai_usage_spans", "input_tokens",
                                    "output_tokens"), 0)

    # --- text -------------------------------------------------------------------------------
    def _prose(self, n: int) -> str:
        r = self.r
        out: list[str] = []
        size = 0
        while size < n:
            words = [r.choice(PROSE) for _ in range(r.randint(6, 24))]
            s = " ".join(words).capitalize() + r.choice((".", ".", ".", "?", ":", "!"))
            if r.random() < 0.15:
                s += "\n\n"
            elif r.random() < 0.1:
                s += '\n- "' + " ".join(r.choice(PROSE) for _ in range(4)) + '"\n'
            else:
                s += " "
            out.append(s)
            size += len(s)
        return "".join(out)[:n]

    def _code(self, n: int) -> str:
        r = self.r
        out: list[str] = []
        size = 0
        while size < n:
            line = "    " * r.randint(0, 3) + " ".join(r.choice(CODE_WORDS)
                                                      for _ in range(r.randint(2, 12)))
            if r.random() < 0.2:
                line += ' = "' + r.choice(CODE_WORDS) + '\\n"'
            if r.random() < 0.1:
                line += "  # " + " ".join(r.choice(PROSE) for _ in range(5))
            out.append(line)
            size += len(line) + 1
        return "\n".join(out)[:n]

    def text(self, lo: int, hi: int, code: bool = False) -> str:
        r = self.r
        n = r.randint(lo, hi)
        pool = self.code if code else self.prose
        c = r.choice(pool)
        start = c.find(" ", r.randrange(0, len(c) - 1)) + 1  # at a word boundary
        s = c[start:start + n]
        while len(s) < n:
            s += "\n" + r.choice(pool)[: n - len(s)]
        return s

    def _system(self, name: str) -> str:
        r = self.r
        parts = [f"## 1. Role\n1.1 You are the {name} assistant of a mid-sized company. "]
        for i in range(2, r.randint(6, 12)):
            parts.append(f"\n\n## {i}. " + self.text(20, 60).strip().capitalize() + "\n")
            for j in range(1, r.randint(3, 8)):
                parts.append(f"{i}.{j} " + self.text(150, 900) + "\n")
        return "".join(parts)

    def _tooldef(self, t: tuple[str, str, str]) -> dict[str, Any]:
        r = self.r
        props = {}
        for k in range(r.randint(1, 5)):
            pname = r.choice(("city", "query", "order_id", "email", "path", "sql", "date",
                              "amount", "limit", "table", "url", "pattern", "body"))
            props[f"{pname}{'_' + str(k) if k else ''}"] = {
                "type": r.choice(("string", "string", "integer", "number")),
                "description": self.text(20, 120).strip()}
        return {"name": t[0], "description": t[1],
                "parameters": {"type": "object", "properties": props,
                               "required": list(props)[:1], "additionalProperties": False}}

    def tool_result(self, kind: str) -> str:
        r = self.r
        if kind == "small":
            d = {"ok": True, "id": f"{r.getrandbits(40):010x}",
                 "status": r.choice(("done", "pending", "queued")),
                 "note": self.text(20, 300)}
            return orjson.dumps(d).decode()
        if kind == "record":
            d = {"id": r.randint(10000, 999999), "created_at": "2026-01-04T17:22:05Z",
                 "items": [{"sku": f"SKU-{r.randint(1000, 9999)}", "qty": r.randint(1, 5),
                            "price": round(r.uniform(3, 400), 2),
                            "description": self.text(30, 200)}
                           for _ in range(r.randint(1, 12))],
                 "notes": self.text(50, 1500)}
            return orjson.dumps(d).decode()
        if kind == "search":
            res = [{"title": self.text(20, 80).strip(),
                    "url": f"https://example.{r.choice(('com', 'org', 'io'))}/"
                           f"{r.getrandbits(32):08x}",
                    "snippet": self.text(150, 900)} for _ in range(r.randint(3, 10))]
            return orjson.dumps({"results": res}).decode()
        if kind == "table":
            cols = r.randint(3, 9)
            rows = [",".join(f"c{i}" for i in range(cols))]
            for _ in range(r.randint(5, 400)):
                rows.append(",".join(str(r.randint(0, 99999)) if i % 2 else
                                     r.choice(PROSE) for i in range(cols)))
            return "\n".join(rows)
        if kind == "code":
            return self.heavy(code=True)
        if kind == "page":
            return self.heavy()
        return self.heavy(code=r.random() < 0.5)  # log

    def heavy(self, code: bool = False) -> str:
        x = self.r.random()
        if x < 0.55:
            return self.text(200, 3000, code)
        if x < 0.9:
            return self.text(3000, 12000, code)
        return self.text(12000, 40000, code)

    def hexid(self, nbytes: int) -> str:
        return f"{self.r.getrandbits(nbytes * 8):0{nbytes * 2}x}"

    def alnum(self, n: int) -> str:
        return "".join(self.r.choices("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
                                      "0123456789", k=n))

    def unique_input(self, inp: int, start: int, end: int) -> int:
        """Bump ``inp`` until no earlier call with these input tokens overlaps [start, end]:
        agentcost merges overlapping calls of two instrumentations with equal tokens (its
        "same call" rule), which these are not."""
        while True:
            lst = self.used.get(inp)
            if not lst or all(e < start or s > end for s, e in lst):
                self.used.setdefault(inp, []).append((start, end))
                return inp
            inp += 1


class Proc:
    """One service process: its resource, batches and concurrent run slots."""

    def __init__(self, g: Gen, spec: dict[str, Any], idx: int, t_start: int) -> None:
        self.g = g
        self.spec = spec
        self.idx = idx
        self.origin = t_start
        self.resource = orjson.dumps({"attributes": [
            kv("telemetry.sdk.language", "python"), kv("telemetry.sdk.name", "opentelemetry"),
            kv("telemetry.sdk.version", "1.38.0"),
            kv("service.name", spec["service"]), kv("service.version", "2.3.1"),
            kv("service.instance.id", str(uuid.UUID(int=g.r.getrandbits(128), version=4))),
            kv("deployment.environment.name", "production"),
            kv("host.name", f"ip-10-0-{g.r.randint(1, 254)}-{g.r.randint(1, 254)}")]})
        self.pending: dict[int, list[tuple[int, tuple[str, str], bytes]]] = {}
        self.sessions: list[Session] = []  # conversations a later run may continue
        self.sys_cache: dict[str, int] = {}  # model -> end time of the last call (prefix warm)

    def add(self, end_ns: int, scope: tuple[str, str], data: bytes) -> None:
        w = (end_ns - self.origin) // WINDOW_NS
        self.pending.setdefault(w, []).append((end_ns, scope, data))

    def lines(self, horizon: int | None) -> list[tuple[int, int, bytes]]:
        """Batches of the windows closed by ``horizon`` (all if None) as OTLP lines."""
        out: list[tuple[int, int, bytes]] = []
        for w in sorted(self.pending):
            close = self.origin + (w + 1) * WINDOW_NS
            if horizon is not None and close > horizon:
                break
            spans = sorted(self.pending.pop(w), key=lambda s: s[0])
            for k in range(0, len(spans), MAX_BATCH):
                chunk = spans[k:k + MAX_BATCH]
                by_scope: dict[tuple[str, str], list[bytes]] = {}
                for _, scope, data in chunk:
                    by_scope.setdefault(scope, []).append(data)
                blocks = []
                for (name, ver), datas in by_scope.items():
                    blocks.append(b'{"scope":{"name":"' + name.encode() + b'","version":"'
                                  + ver.encode() + b'"},"spans":[' + b",".join(datas)
                                  + b'],"schemaUrl":"' + SCHEMA_URL.encode() + b'"}')
                line = (b'{"resourceSpans":[{"resource":' + self.resource
                        + b',"scopeSpans":[' + b",".join(blocks) + b"]}]}\n")
                out.append((close + self.g.r.randint(0, 40_000_000), self.idx, line))
        return out


class Session:
    """A conversation: messages so far and each model's cache state."""

    def __init__(self, g: Gen) -> None:
        self.id = str(uuid.UUID(int=g.r.getrandbits(128), version=4))
        self.msgs: list[dict[str, Any]] = []  # {"role", "text", "calls", "call_id", "name"}
        self.msg_tokens = 0
        self.cache: dict[str, tuple[int, int]] = {}  # model -> (cached prefix tokens, time)
        self.last_end = 0
        self.runs = 0


class Run:
    """One agent run (one trace)."""

    def __init__(self, g: Gen, proc: Proc, sess: Session, t0: int) -> None:
        self.g = g
        self.r = g.r
        self.proc = proc
        self.spec = proc.spec
        self.sess = sess
        self.trace = g.hexid(16)
        self.root = g.hexid(8)
        self.t = t0
        self.t0 = t0
        self.tools = TOOLSETS[self.spec["tools"]]
        self.tooldefs = g.tooldefs[self.spec["tools"]]
        self.system = g.systems[self.spec["tools"]]
        self.sys_tokens = tok(self.system) + sum(tok(orjson.dumps(d).decode())
                                                 for d in self.tooldefs)
        models, weights = zip(*self.spec["models"], strict=True)
        self.model = self.r.choices(models, weights)[0]
        self.sums = dict.fromkeys(("input", "output", "cache_read", "cache_write"), 0)
        self.any_write = False

    # --- span encoding ----------------------------------------------------------------------
    def span(self, scope: tuple[str, str], span_id: str, parent: str | None, name: str,
             kind: int, start: int, end: int, attrs: list[dict[str, Any]],
             status: dict[str, Any] | None = None) -> None:
        d: dict[str, Any] = {"traceId": self.trace, "spanId": span_id}
        if parent:
            d["parentSpanId"] = parent
        d.update(name=name, kind=kind, startTimeUnixNano=str(start), endTimeUnixNano=str(end),
                 attributes=attrs, status=status if status is not None else {}, flags=256)
        self.proc.add(end, scope, orjson.dumps(d))
        n = self.g.naive
        n["spans"] += 1
        has = False
        for a in attrs:
            if a["key"] == "gen_ai.usage.input_tokens":
                n["input_tokens"] += int(a["value"]["intValue"])
                has = True
            elif a["key"] == "gen_ai.usage.output_tokens":
                n["output_tokens"] += int(a["value"]["intValue"])
                has = True
        n["gen_ai_usage_spans"] += has

    # --- tokens ------------------------------------------------------------------------------
    def context_tokens(self) -> int:
        return self.sys_tokens + self.sess.msg_tokens + 3 * len(self.sess.msgs) + 7

    def usage(self, model: str, cached: bool, start: int) -> tuple[int, int, int | None]:
        """(input incl. cache, cache read, cache write or None) for a call at ``start``."""
        r = self.r
        provider, _, _, min_cache = MODELS[model]
        inp = self.context_tokens()
        st = self.sess.cache.get(model)
        warm = self.proc.sys_cache.get(model)
        if provider == "anthropic":
            if not cached:
                return inp, 0, 0
            tail = r.randint(1, 12)
            bp = inp - tail  # the moving breakpoint sits on the last message
            if bp < min_cache:
                return inp, 0, 0
            if st and start - st[1] <= 300 * 10**9 and st[0] <= bp and r.random() > 0.02:
                read = st[0]
            elif warm and start - warm <= 300 * 10**9 and self.sys_tokens <= bp:
                read = self.sys_tokens  # system + tools cached by another run
            else:
                read = 0
            self.sess.cache[model] = (bp, start)
            self.proc.sys_cache[model] = start
            return inp, read, bp - read
        # openai: automatic prefix caching, no write count reported
        shared = 0
        if st and start - st[1] <= 600 * 10**9 and r.random() > 0.08:
            shared = st[0]
        elif warm and start - warm <= 600 * 10**9 and r.random() > 0.2:
            shared = self.sys_tokens
        read = (shared // 128) * 128 if shared >= min_cache else 0
        self.sess.cache[model] = (inp, start)
        self.proc.sys_cache[model] = start
        return inp, min(read, inp), None

    # --- one model call --------------------------------------------------------------------
    def call(self, model: str, tool_calls: list[tuple[str, str, dict[str, Any]]], final: bool,
             cached: bool = True) -> None:
        r, g = self.r, self.g
        provider, resp_model, ms_tok, _ = MODELS[model]
        inst = self.spec["inst"]
        # a failed attempt first (rate limit / overloaded): error span, no usage, retried
        if inst == "genai" and r.random() < 0.006:
            s = self.t
            e = s + r.randint(150, 2500) * 1_000_000
            err = "RateLimitError" if provider == "openai" else "OverloadedError"
            self.span(OTEL_ANTHROPIC if provider == "anthropic" else HANDLER, g.hexid(8),
                      self.root, f"chat {model}", 3, s, e,
                      [kv("gen_ai.operation.name", "chat"), kv("gen_ai.request.model", model),
                       kv("gen_ai.provider.name", provider), kv("error.type", err),
                       kv("server.address", f"api.{provider}.com"), kv("server.port", 443)],
                      {"code": 2, "message": f"{err}: {'429' if provider == 'openai' else '529'}"})
            g.expected["llm_calls"] += 1
            g.extra["failed_llm_calls"] += 1
            self.t = e + r.randint(500, 8000) * 1_000_000
        text = g.text(200, 3500) if final else (g.text(30, 600) if r.random() < 0.6 else "")
        prefix = "toolu_01" if provider == "anthropic" else "call_"
        calls = [(prefix + g.alnum(22 if provider == "anthropic" else 24), name, args)
                 for _, name, args in tool_calls]
        reasoning = r.randint(64, 2500) if model == "gpt-5-mini" else 0
        out = tok(text) + sum(tok(orjson.dumps(a).decode()) + 12 for _, _, a in calls) \
            + reasoning + r.randint(1, 8)
        start = self.t
        ttft = r.randint(300, 1800) * 1_000_000 + (reasoning * 8_000_000)
        end = start + ttft + int(out * ms_tok * 1_000_000 * r.uniform(0.7, 1.4))
        inp, cr, cw = self.usage(model, cached, start)
        bump = g.unique_input(inp, start, end) - inp
        inp += bump
        exp = g.expected
        exp["llm_calls"] += 1
        exp["input_tokens"] += inp
        exp["cache_read_tokens"] += cr
        exp["cache_write_tokens"] += cw or 0
        exp["output_tokens"] += out
        exp["reasoning_tokens"] += reasoning
        bm = g.by_model.setdefault(model, Counter())
        bm["llm_calls"] += 1
        bm["input_tokens"] += inp
        bm["output_tokens"] += out
        self.sums["input"] += inp
        self.sums["output"] += out
        self.sums["cache_read"] += cr
        self.sums["cache_write"] += cw or 0
        self.any_write = self.any_write or cw is not None
        finish = "tool_calls" if calls else "stop"
        if provider == "anthropic":
            finish = "tool_use" if calls else "end_turn"
        sid = g.hexid(8)
        if inst == "genai":
            self.genai_chat(sid, model, resp_model, provider, start, end, ttft, inp, cr, cw,
                            out, text, calls, finish)
        elif provider == "openai":
            self.oi_openai(sid, model, resp_model, start, end, inp, cr, out, reasoning, text,
                           calls, finish)
        else:
            self.oi_anthropic(sid, model, resp_model, start, end, inp, cr, cw or 0, out, text,
                              calls, finish)
        self.sess.msgs.append({"role": "assistant", "text": text, "calls": calls})
        self.sess.msg_tokens += tok(text) + sum(tok(orjson.dumps(a).decode()) + 12
                                                for _, _, a in calls) if (text or calls) else 1
        self.t = end

    def genai_messages(self, sess_msgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for m in sess_msgs:
            if m["role"] == "tool":
                out.append({"role": "tool", "parts": [{"type": "tool_call_response",
                                                       "id": m["call_id"],
                                                       "response": m["text"]}]})
            elif m["role"] == "assistant":
                parts: list[dict[str, Any]] = []
                if m["text"]:
                    parts.append({"type": "text", "content": m["text"]})
                for cid, name, args in m["calls"]:
                    parts.append({"type": "tool_call", "id": cid, "name": name,
                                  "arguments": args})
                out.append({"role": "assistant", "parts": parts})
            else:
                out.append({"role": "user", "parts": [{"type": "text", "content": m["text"]}]})
        return out

    def genai_chat(self, sid: str, model: str, resp_model: str, provider: str, start: int,
                   end: int, ttft: int, inp: int, cr: int, cw: int | None, out: int, text: str,
                   calls: list[tuple[str, str, dict[str, Any]]], finish: str) -> None:
        g = self.g
        parts: list[dict[str, Any]] = []
        if text:
            parts.append({"type": "text", "content": text})
        for cid, name, args in calls:
            parts.append({"type": "tool_call", "id": cid, "name": name, "arguments": args})
        out_msgs = [{"role": "assistant", "parts": parts,
                     "finish_reason": "tool_call" if calls else "stop"}]
        resp_id = ("msg_01" + g.alnum(22)) if provider == "anthropic" else \
            ("chatcmpl-" + g.alnum(29))
        attrs = [kv("gen_ai.operation.name", "chat"), kv("gen_ai.request.model", model),
                 kv("gen_ai.provider.name", provider),
                 kv("server.address", f"api.{provider}.com"), kv("server.port", 443),
                 kv("gen_ai.request.max_tokens", 4096 if provider == "anthropic" else 2048)]
        if provider == "openai" and model != "gpt-5-mini":
            attrs.append(kv("gen_ai.request.temperature", 0.2))
        attrs += [kv("gen_ai.response.finish_reasons", [finish]),
                  kv("gen_ai.response.model", resp_model), kv("gen_ai.response.id", resp_id),
                  kv("gen_ai.usage.input_tokens", inp), kv("gen_ai.usage.output_tokens", out),
                  kv("gen_ai.usage.cache_read.input_tokens", cr)]
        if cw is not None:
            attrs.append(kv("gen_ai.usage.cache_creation.input_tokens", cw))
        attrs += [kv("gen_ai.conversation.id", self.sess.id),
                  kv("gen_ai.system_instructions",
                     orjson.dumps([{"type": "text", "content": self.system}]).decode()),
                  kv("gen_ai.tool.definitions",
                     orjson.dumps([{"type": "function", **d} for d in self.tooldefs]).decode()),
                  kv("gen_ai.input.messages",
                     orjson.dumps(self.genai_messages(self.sess.msgs)).decode()),
                  kv("gen_ai.output.messages", orjson.dumps(out_msgs).decode())]
        if provider == "openai":
            attrs += [kv("openai.response.service_tier", "default"),
                      kv("openai.response.system_fingerprint", "fp_" + g.hexid(5))]
        else:
            attrs.append(kv("gen_ai.response.time_to_first_chunk", round(ttft / 1e9, 6)))
        self.span(OTEL_ANTHROPIC if provider == "anthropic" else HANDLER, sid, self.root,
                  f"chat {model}", 3, start, end, attrs)

    def oi_openai(self, sid: str, model: str, resp_model: str, start: int, end: int, inp: int,
                  cr: int, out: int, reasoning: int, text: str,
                  calls: list[tuple[str, str, dict[str, Any]]], finish: str) -> None:
        g = self.g
        msgs: list[dict[str, Any]] = [{"role": "system", "content": self.system}]
        for m in self.sess.msgs:
            if m["role"] == "tool":
                msgs.append({"role": "tool", "tool_call_id": m["call_id"], "content": m["text"]})
            elif m["role"] == "assistant":
                am: dict[str, Any] = {"role": "assistant", "content": m["text"] or None}
                if m["calls"]:
                    am["tool_calls"] = [{"id": c, "type": "function",
                                         "function": {"name": n,
                                                      "arguments": json.dumps(a)}}
                                        for c, n, a in m["calls"]]
                msgs.append(am)
            else:
                msgs.append({"role": "user", "content": m["text"]})
        inv = {"model": model, "max_completion_tokens": 2048}
        body = {"model": model, "messages": msgs,
                "tools": [{"type": "function", "function": d} for d in self.tooldefs],
                "max_completion_tokens": 2048}
        resp_id = "chatcmpl-" + g.alnum(29)
        msg_out: dict[str, Any] = {"content": text or None, "role": "assistant"}
        if calls:
            msg_out["tool_calls"] = [{"id": c, "function": {"arguments": json.dumps(a),
                                                            "name": n}, "type": "function"}
                                     for c, n, a in calls]
        resp = {"id": resp_id, "choices": [{"finish_reason": finish, "index": 0,
                                            "message": msg_out}],
                "created": start // 10**9, "model": resp_model, "object": "chat.completion",
                "service_tier": "default", "usage": {
                    "completion_tokens": out, "prompt_tokens": inp, "total_tokens": inp + out,
                    "completion_tokens_details": {"reasoning_tokens": reasoning},
                    "prompt_tokens_details": {"cached_tokens": cr}}}
        attrs = [kv("llm.system", "openai"), kv("input.value", json.dumps(body)),
                 kv("input.mime_type", "application/json"),
                 kv("output.value", orjson.dumps(resp).decode()),
                 kv("output.mime_type", "application/json"), kv("session.id", self.sess.id),
                 kv("llm.invocation_parameters", json.dumps(inv)),
                 kv("llm.model_name", resp_model), kv("llm.token_count.total", inp + out),
                 kv("llm.token_count.prompt", inp), kv("llm.token_count.completion", out),
                 kv("llm.token_count.prompt_details.cache_read", cr),
                 kv("llm.token_count.prompt_details.audio", 0),
                 kv("llm.token_count.completion_details.reasoning", reasoning),
                 kv("llm.token_count.completion_details.audio", 0)]
        for i, m in enumerate(msgs):
            p = f"llm.input_messages.{i}.message."
            attrs.append(kv(p + "role", m["role"]))
            if m.get("content"):
                attrs.append(kv(p + "content", m["content"]))
            for j, tc in enumerate(m.get("tool_calls") or ()):
                q = f"{p}tool_calls.{j}.tool_call."
                attrs += [kv(q + "id", tc["id"]), kv(q + "function.name", tc["function"]["name"]),
                          kv(q + "function.arguments", tc["function"]["arguments"])]
            if m.get("tool_call_id"):
                attrs.append(kv(p + "tool_call_id", m["tool_call_id"]))
        attrs.append(kv("llm.output_messages.0.message.role", "assistant"))
        if text:
            attrs.append(kv("llm.output_messages.0.message.content", text))
        for j, (c, n, a) in enumerate(calls):
            q = f"llm.output_messages.0.message.tool_calls.{j}.tool_call."
            attrs += [kv(q + "id", c), kv(q + "function.name", n),
                      kv(q + "function.arguments", json.dumps(a))]
        attrs.append(kv("llm.finish_reason", finish))
        for i, d in enumerate(self.tooldefs):
            attrs.append(kv(f"llm.tools.{i}.tool.json_schema",
                            json.dumps({"type": "function", "function": d})))
        attrs.append(kv("openinference.span.kind", "LLM"))
        self.span(OI_OPENAI, sid, self.root, "ChatCompletion", 1, start, end, attrs,
                  {"code": 1})

    def oi_anthropic(self, sid: str, model: str, resp_model: str, start: int, end: int,
                     inp: int, cr: int, cw: int, out: int, text: str,
                     calls: list[tuple[str, str, dict[str, Any]]], finish: str) -> None:
        r, g = self.r, self.g
        msgs: list[dict[str, Any]] = []
        for m in self.sess.msgs:
            if m["role"] == "tool":
                block = {"type": "tool_result", "tool_use_id": m["call_id"],
                         "content": m["text"]}
                if msgs and msgs[-1]["role"] == "user" and isinstance(msgs[-1]["content"], list):
                    msgs[-1]["content"].append(block)
                else:
                    msgs.append({"role": "user", "content": [block]})
            elif m["role"] == "assistant":
                content: list[dict[str, Any]] = []
                if m["text"]:
                    content.append({"type": "text", "text": m["text"]})
                for c, n, a in m["calls"]:
                    content.append({"type": "tool_use", "id": c, "name": n, "input": a})
                msgs.append({"role": "assistant", "content": content})
            else:
                msgs.append({"role": "user", "content": m["text"]})
        if msgs and cw:  # the moving breakpoint on the last message
            last = msgs[-1]
            if isinstance(last["content"], str):
                last["content"] = [{"type": "text", "text": last["content"]}]
            last["content"][-1] = {**last["content"][-1], "cache_control": {"type": "ephemeral"}}
        body: dict[str, Any] = {"model": model, "max_tokens": 4096,
                "system": [{"type": "text", "text": self.system,
                            "cache_control": {"type": "ephemeral"}}],
                "messages": msgs,
                "tools": [{"name": d["name"], "description": d["description"],
                           "input_schema": d["parameters"]} for d in self.tooldefs]}
        resp_id = "msg_01" + g.alnum(22)
        content_out: list[dict[str, Any]] = []
        if text:
            content_out.append({"citations": None, "text": text, "type": "text"})
        for c, n, a in calls:
            content_out.append({"id": c, "input": a, "name": n, "type": "tool_use"})
        resp = {"id": resp_id, "container": None, "content": content_out, "model": resp_model,
                "role": "assistant", "stop_reason": finish, "stop_sequence": None,
                "type": "message",
                "usage": {"cache_creation": {"ephemeral_1h_input_tokens": 0,
                                             "ephemeral_5m_input_tokens": cw},
                          "cache_creation_input_tokens": cw, "cache_read_input_tokens": cr,
                          "input_tokens": inp - cr - cw, "output_tokens": out,
                          "server_tool_use": None, "service_tier": "standard"}}
        attrs = [kv("llm.provider", "anthropic"), kv("llm.system", "anthropic"),
                 kv("input.value", json.dumps(body)), kv("input.mime_type", "application/json"),
                 kv("session.id", self.sess.id), kv("llm.request.model_name", model)]
        i = 0
        attrs += [kv(f"llm.input_messages.{i}.message.role", "system"),
                  kv(f"llm.input_messages.{i}.message.contents.0.message_content.type", "text"),
                  kv(f"llm.input_messages.{i}.message.contents.0.message_content.text",
                     self.system)]
        for m in msgs:
            i += 1
            p = f"llm.input_messages.{i}.message."
            attrs.append(kv(p + "role", m["role"]))
            cont = m["content"]
            if isinstance(cont, str):
                cont = [{"type": "text", "text": cont}]
            for k, blk in enumerate(cont):
                q = f"{p}contents.{k}.message_content."
                if blk["type"] == "text":
                    attrs += [kv(q + "type", "text"), kv(q + "text", blk["text"])]
                elif blk["type"] == "tool_result":
                    attrs += [kv(q + "type", "tool_result"), kv(q + "text", blk["content"])]
                else:
                    attrs += [kv(q + "type", "tool_use"),
                              kv(f"{p}tool_calls.{k}.tool_call.id", blk["id"]),
                              kv(f"{p}tool_calls.{k}.tool_call.function.name", blk["name"]),
                              kv(f"{p}tool_calls.{k}.tool_call.function.arguments",
                                 json.dumps(blk["input"]))]
        for k, d in enumerate(body["tools"]):
            attrs.append(kv(f"llm.tools.{k}.tool.json_schema", json.dumps(d)))
        attrs += [kv("llm.invocation_parameters", '{"max_tokens": 4096}'),
                  kv("llm.model_name", resp_model), kv("llm.response.model_name", resp_model),
                  kv("llm.output_messages.0.message.role", "assistant"),
                  kv("llm.finish_reason", finish)]
        k = 0
        if text:
            attrs += [kv("llm.output_messages.0.message.contents.0.message_content.type",
                         "text"),
                      kv("llm.output_messages.0.message.contents.0.message_content.text", text)]
            k = 1
        for j, (c, n, a) in enumerate(calls):
            q = f"llm.output_messages.0.message.tool_calls.{j}.tool_call."
            attrs += [kv(q + "id", c), kv(q + "function.name", n),
                      kv(q + "function.arguments", json.dumps(a)),
                      kv(f"llm.output_messages.0.message.contents.{k + j}.message_content.type",
                         "tool_use")]
        attrs += [kv("llm.token_count.prompt", inp), kv("llm.token_count.completion", out)]
        if cr:  # the instrumentation omits zero cache details
            attrs.append(kv("llm.token_count.prompt_details.cache_read", cr))
        if cw:
            attrs.append(kv("llm.token_count.prompt_details.cache_write", cw))
        attrs += [kv("llm.token_count.total", inp + out),
                  kv("output.value", orjson.dumps(resp).decode()),
                  kv("output.mime_type", "application/json"),
                  kv("openinference.span.kind", "LLM")]
        self.span(OI_ANTHROPIC, sid, self.root, "messages.create", 1, start, end, attrs,
                  {"code": 1})
        if self.spec.get("sdk_spans"):
            # the anthropic SDK's own span of the same call, the only child of the LLM span
            s2 = start + r.randint(50_000, 400_000)
            e2 = end - r.randint(50_000, 400_000)
            sdk = [kv("server.address", "api.anthropic.com"), kv("server.port", 443),
                   kv("gen_ai.provider.name", "anthropic"), kv("gen_ai.operation.name", "chat"),
                   kv("gen_ai.request.model", model), kv("gen_ai.request.max_tokens", 4096),
                   kv("http.request.method", "POST"), kv("http.route", "/v1/messages"),
                   kv("url.scheme", "https"), kv("url.path", "/v1/messages"),
                   kv("url.full", "https://api.anthropic.com/v1/messages"),
                   kv("gen_ai.usage.input_tokens", inp),
                   kv("http.response.status_code", 200),
                   kv("anthropic.request.id", "req_" + g.alnum(24)),
                   kv("gen_ai.response.id", resp_id), kv("gen_ai.response.model", resp_model),
                   kv("gen_ai.usage.cache_write.input_tokens", cw),
                   kv("gen_ai.usage.cache_read.input_tokens", cr),
                   kv("anthropic.usage.cache_creation.ephemeral_5m_input_tokens", cw),
                   kv("anthropic.usage.cache_creation.ephemeral_1h_input_tokens", 0),
                   kv("anthropic.response.service_tier", "standard"),
                   kv("gen_ai.usage.output_tokens", out),
                   kv("anthropic.message.stop_reason", finish)]
            self.span(ANTHROPIC_SDK, g.hexid(8), sid, "anthropic.messages.create", 3, s2, e2,
                      sdk, {"code": 1})
            g.extra["sdk_duplicate_spans"] += 1

    # --- tools ---------------------------------------------------------------------------
    def tool_args(self, name: str) -> dict[str, Any]:
        r, g = self.r, self.g
        if name in ("run_sql",):
            return {"sql": "SELECT " + ", ".join(r.choice(PROSE) for _ in range(4))
                           + " FROM events WHERE day >= '2025-12-01' GROUP BY 1"}
        if name in ("run_python", "make_chart"):
            return {"code": g.text(80, 1200, code=True)}
        if name in ("send_email", "post_comment"):
            return {"to": "customer@example.com", "body": g.text(100, 1500)}
        if name in ("read_file", "git_diff"):
            return {"path": f"src/pkg/mod{r.randint(1, 90)}.py"}
        city = r.choice(("Lisbon", "Kyoto", "Zürich", "São Paulo", "Montreal", "Oslo"))
        if name == "get_weather":
            return {"city": city, "unit": r.choice(("celsius", "fahrenheit"))}
        if name in ("search_flights", "search_hotels"):
            return {"origin": "Lisbon", "destination": city,
                    "date": f"2026-0{r.randint(2, 9)}-{r.randint(10, 28)}"}
        if name == "convert_currency":
            return {"amount": round(r.uniform(10, 900), 2), "from_currency": "EUR",
                    "to_currency": r.choice(("JPY", "CHF", "BRL", "CAD", "NOK"))}
        if name in ("get_order", "refund_order"):
            return {"order_id": f"ORD-{r.randint(100000, 999999)}",
                    **({"reason": g.text(20, 200).strip()} if name == "refund_order" else {})}
        if name == "lookup_customer":
            return {"email": f"user{r.randint(1, 99999)}@example.com"}
        if name in ("describe_table", "list_tables"):
            return {"table": r.choice(("events", "orders", "users", "sessions"))}
        if name == "grep":
            return {"pattern": r.choice(CODE_WORDS) + r"\(", "path": "src/"}
        if name == "fetch_url":
            return {"url": f"https://example.org/{r.getrandbits(32):08x}"}
        return {"query": g.text(10, 80).strip(), "limit": r.randint(3, 20)}

    def run_tools(self, calls: list[tuple[str, str, dict[str, Any]]]) -> None:
        r, g = self.r, self.g
        parallel = len(calls) > 1 and r.random() < 0.5
        t = self.t + r.randint(1, 30) * 1_000_000
        latest = t
        kinds = {n: k for n, _, k in self.tools}
        descs = {n: d for n, d, _ in self.tools}
        for cid, name, args in calls:
            dur = int(r.lognormvariate(19.5, 1.4))  # ~300 ms median, heavy tail
            dur = min(dur, 90 * 10**9)
            s = t
            e = s + dur
            failed = r.random() < 0.03
            result = (f"Error: {r.choice(('timeout after 30s', 'HTTP 502 from upstream', 'not found'))}"
                      if failed else g.tool_result(kinds[name]))
            status: dict[str, Any] = {}
            if self.spec["inst"] == "genai":
                attrs = [kv("gen_ai.operation.name", "execute_tool"), kv("gen_ai.tool.name", name),
                         kv("gen_ai.tool.call.id", cid), kv("gen_ai.tool.type", "function"),
                         kv("gen_ai.tool.description", descs[name]),
                         kv("gen_ai.tool.call.arguments", json.dumps(args)),
                         kv("gen_ai.tool.call.result", result),
                         kv("gen_ai.conversation.id", self.sess.id)]
                if failed:
                    attrs.append(kv("error.type", "ToolError"))
                    status = {"code": 2, "message": result}
                self.span(HANDLER, g.hexid(8), self.root, f"execute_tool {name}", 1, s, e,
                          attrs, status)
            else:
                attrs = [kv("session.id", self.sess.id), kv("tool.name", name),
                         kv("tool.description", descs[name]), kv("tool_call.id", cid),
                         kv("input.value", json.dumps(args)),
                         kv("input.mime_type", "application/json"),
                         kv("output.value", result),
                         kv("output.mime_type", "application/json" if result[:1] == "{"
                            else "text/plain"),
                         kv("openinference.span.kind", "TOOL")]
                status = {"code": 2, "message": result} if failed else {"code": 1}
                self.span((f"{self.spec['service'].replace('-', '_')}.tools", "2.3.1"),
                          g.hexid(8), self.root, name, 1, s, e, attrs, status)
            g.expected["tool_calls"] += 1
            self.sess.msgs.append({"role": "tool", "text": result, "call_id": cid,
                                   "name": name})
            self.sess.msg_tokens += tok(result) + 5
            latest = max(latest, e)
            t = s + r.randint(50, 500) * 1000 if parallel else e + r.randint(1, 20) * 1_000_000
        self.t = latest + r.randint(2, 40) * 1_000_000

    # --- the run ---------------------------------------------------------------------------
    def go(self) -> int:
        r, g, sess = self.r, self.g, self.sess
        self.compact()
        user = g.text(80, 1500) if r.random() < 0.8 else \
            g.text(40, 300) + "\n\n```\n" + g.text(500, 8000, code=True) + "\n```"
        sess.msgs.append({"role": "user", "text": user})
        sess.msg_tokens += tok(user) + 4
        self.t += r.randint(2, 30) * 1_000_000
        steps = min(int(r.lognormvariate(1.6, 0.6)) + 1, 25)
        for k in range(steps):
            final = k == steps - 1
            calls = []
            if not final:
                n = r.choice((1, 1, 1, 1, 2, 2, 3))
                for _ in range(n):
                    name = r.choice(self.tools)[0]
                    calls.append(("", name, self.tool_args(name)))
            self.call(self.model, calls, final)
            if calls:
                self.run_tools([c for c in self._last_calls()])
            self.compact()
        helper = self.spec.get("helper")
        if helper and r.random() < 0.3:
            # a cheaper model summarises the conversation (no cache_control, no tools)
            self.t += r.randint(5, 50) * 1_000_000
            self.call(helper, [], True, cached=False)
            g.extra["helper_calls"] += 1
        end = self.t + r.randint(1, 20) * 1_000_000
        provider = MODELS[self.model][0]
        attrs = [kv("gen_ai.operation.name", "invoke_agent"),
                 kv("gen_ai.provider.name", provider),
                 kv("gen_ai.request.model", self.model),
                 kv("gen_ai.agent.name", self.spec["agent"]),
                 kv("gen_ai.agent.id", f"agent_{self.spec['agent']}_v3"),
                 kv("gen_ai.agent.description", f"{self.spec['agent']} for "
                                                f"{self.spec['service']}"),
                 kv("gen_ai.conversation.id", sess.id),
                 kv("gen_ai.usage.input_tokens", self.sums["input"]),
                 kv("gen_ai.usage.output_tokens", self.sums["output"]),
                 kv("gen_ai.usage.cache_read.input_tokens", self.sums["cache_read"])]
        if self.any_write:
            attrs.append(kv("gen_ai.usage.cache_creation.input_tokens", self.sums["cache_write"]))
        self.span(HANDLER, self.root, None, f"invoke_agent {self.spec['agent']}", 1, self.t0,
                  end, attrs)
        g.expected["tasks"] += 1
        g.extra["rollup_spans"] += 1
        sess.last_end = end
        sess.runs += 1
        return end

    def _last_calls(self) -> list[tuple[str, str, dict[str, Any]]]:
        return self.sess.msgs[-1]["calls"]

    def compact(self) -> None:
        """Context over ~120k tokens: keep the first user message and the last few."""
        sess = self.sess
        if self.context_tokens() < 120_000 or len(sess.msgs) < 8:
            return
        keep = sess.msgs[-6:]
        while keep and keep[0]["role"] == "tool":
            keep.pop(0)
        sess.msgs = [sess.msgs[0], {"role": "user", "text": self.g.text(800, 4000)}, *keep]
        sess.msg_tokens = sum(tok(m["text"]) + 5 + sum(tok(orjson.dumps(a).decode()) + 12
                                                       for _, _, a in m.get("calls") or ())
                              for m in sess.msgs)
        sess.cache.clear()
        self.g.extra["compactions"] += 1


class Writer:
    """Size-rotated output files, as the Collector's file exporter with rotation."""

    def __init__(self, g: Gen, out: Path) -> None:
        self.g = g
        self.out = out
        self.fh: Any = None
        self.size = 0
        self.cap = 0
        self.total = 0
        self.files: list[Path] = []

    def write(self, t: int, line: bytes) -> None:
        if self.fh is None or (self.size + len(line) > self.cap and self.size):
            if self.fh is not None:
                self.fh.close()
            ms = t // 10**6
            while True:
                stamp = time.strftime("%Y-%m-%dT%H-%M-%S", time.gmtime(ms // 1000))
                path = self.out / f"traces-{stamp}.{ms % 1000:03d}.jsonl"
                if path not in self.files:
                    break
                ms += 1
            self.fh = open(path, "wb")  # noqa: SIM115 - closed on rotation / close()
            self.files.append(path)
            self.size = 0
            self.cap = int(self.g.r.uniform(1.0, 5.0) * MIB)
        self.fh.write(line)
        self.size += len(line)
        self.total += len(line)

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()


def generate(g: Gen, out: Path, target: int) -> dict[str, Any]:
    r = g.r
    procs = [Proc(g, spec, i, g.t0 + r.randint(0, 4000) * 1_000_000)
             for i, spec in enumerate(PROCESSES)]
    slots: list[tuple[int, int, int]] = []  # (next run start, process, slot)
    for p in procs:
        for s in range(p.spec["conc"]):
            slots.append((p.origin + r.randint(0, 60_000) * 1_000_000, p.idx, s))
    heapq.heapify(slots)
    lines: list[tuple[int, int, bytes]] = []
    w = Writer(g, out)
    pending_bytes = 0
    n_runs = 0
    while w.total + pending_bytes < target:
        t, pi, s = heapq.heappop(slots)
        p = procs[pi]
        # close the batch windows no later run can add to, write lines in time order
        for p2 in procs:
            for ln in p2.lines(t):
                heapq.heappush(lines, ln)
        while lines and lines[0][0] <= t:
            lt, _, data = heapq.heappop(lines)
            pending_bytes -= len(data)
            w.write(lt, data)
        cands = [x for x in p.sessions if x.runs < 4 and t - x.last_end < 3600 * 10**9]
        if cands and r.random() < p.spec["cont"]:
            sess = r.choice(cands)
            p.sessions.remove(sess)
        else:
            sess = Session(g)
        before = sum(len(d) for lst in p.pending.values() for _, _, d in lst)
        run = Run(g, p, sess, t)
        end = run.go()
        pending_bytes += sum(len(d) for lst in p.pending.values() for _, _, d in lst) - before
        n_runs += 1
        p.sessions.append(sess)
        if len(p.sessions) > 6:
            p.sessions.pop(0)
        gap = int(r.expovariate(1 / 40.0) * 10**9)  # idle seconds before the next run
        heapq.heappush(slots, (end + gap, pi, s))
    for p in procs:
        for ln in p.lines(None):
            heapq.heappush(lines, ln)
    while lines:
        lt, _, data = heapq.heappop(lines)
        w.write(lt, data)
    w.close()
    return {"runs": n_runs, "files": len(w.files), "bytes": w.total}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="100M", help="total bytes to write, e.g. 100M, 1G")
    ap.add_argument("--out", type=Path, default=None, help="default: bench/data/otlp-<size>")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    target = parse_size(args.size)
    out = args.out or HERE / "data" / f"otlp-{args.size}"
    if out.exists() and any(out.iterdir()):
        print(f"{out} exists and is not empty; remove it first", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    g = Gen(args.seed)
    info = generate(g, out, target)
    files = sorted(out.glob("traces-*.jsonl"))
    exp = {k: v for k, v in g.expected.items() if k != "reasoning_tokens"}
    manifest = {"bytes": sum(p.stat().st_size for p in files), "files": len(files),
                "runs": info["runs"], "seed": args.seed, "expected": exp,
                "expected_reasoning_tokens": g.expected["reasoning_tokens"],
                "by_model": {m: dict(c) for m, c in sorted(g.by_model.items())},
                "shape": dict(sorted(g.extra.items())),
                "baseline_expected": g.naive}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    dt = time.perf_counter() - t0
    print(f"wrote {manifest['bytes'] / MIB:,.1f} MiB in {len(files)} files ({info['runs']} runs, "
          f"{exp['llm_calls']} llm calls, {exp['tool_calls']} tool calls) to {out} in {dt:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
