"""Inspect AI evaluation logs: the ``.json`` EvalLog and the ``.eval`` zip form.

* ``.json``: one object ``{version, status, eval: {task, eval_id, run_id, model, ...}, plan,
  results, stats: {model_usage}, samples: [...]}``.
* ``.eval``: a zip archive holding ``header.json`` (the log without samples; while a run is in
  progress only ``_journal/start.json``) and one ``samples/<id>_epoch_<n>.json`` per sample.

Each sample (one epoch of one dataset item) is a task, ``<task>/<sample id>/<epoch>``, in the
session ``eval.eval_id``. Its ``events`` (``transcript.events`` in logs written before Inspect
0.3.46) give the steps: one ``model`` event = one llm call
(``model`` as ``provider/model``; ``output.model`` the served model; ``output.usage`` the
tokens; ``timestamp`` to ``completed`` the time, ``working_time`` the duration; the tool calls
the output asked for; ``call.request`` the provider request body, from which ``segments`` are
derived), one ``tool`` event = one tool step. A model event answered from Inspect's own local
cache (``cache: "read"``) made no API call and is left out (counted); a ``pending`` one had not
finished.

Usage (``ModelUsage``): ``input_tokens``, ``output_tokens``, ``input_tokens_cache_read``,
``input_tokens_cache_write``, ``reasoning_tokens`` (inside output), ``total_tokens``. Inspect
passes each provider's own meaning of ``input_tokens`` through: Anthropic's excludes cache
reads and writes (``total = input + cache read + cache write + output``), OpenAI's includes
cache reads (``total = input + output``). The convention of each event is read from its
``total_tokens`` when that tells the two apart; otherwise a cache figure larger than the input,
or a Claude model (``anthropic/``, ``bedrock/…anthropic``, ``vertex/claude``), means
exclusive; anything else is taken as inclusive.

Cross-check: the tokens of the model events kept, per model, are compared with the log's own
``stats.model_usage`` (for a complete log); a difference is an ingest note naming both figures.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any

import orjson

from agentcost.ingest.base import IngestContext, Source
from agentcost.ingest.common import args_hash, as_list, as_str, label_text, nonneg_int
from agentcost.ingest.segments import from_request, is_request_body
from agentcost.steps import to_utc_ns

ZIP_MAGIC = b"PK\x03\x04"
_JSON_HEAD = re.compile(rb'^\s*\{\s*"version"\s*:\s*\d+\s*,\s*"status"\s*:')
_SAMPLE_NAME = re.compile(r"^samples/.+\.json$")
CACHED_REASON = "inspect: model events answered from Inspect's local cache (no API call)"
_USAGE_KEYS = ("input_tokens", "output_tokens", "input_tokens_cache_read",
               "input_tokens_cache_write", "reasoning_tokens")
_EXCLUSIVE_PROVIDERS = ("anthropic",)


def _eval_labels(ev: dict[str, Any], task: str) -> dict[str, str] | None:
    """The eval's task, model, run and its own metadata, for ``--group-by label:KEY``."""
    out = {"eval.task": task}
    for key, label in (("model", "eval.model"), ("run_id", "eval.run_id"),
                       ("task_version", "eval.task_version")):
        t = label_text(ev.get(key))
        if t is not None:
            out[label] = t
    meta = ev.get("metadata")
    if isinstance(meta, dict):
        out.update({str(k): t for k, v in meta.items() if (t := label_text(v)) is not None})
    return out


def _split_model(name: str | None) -> tuple[str | None, str | None]:
    """``anthropic/claude-sonnet-4-5`` → (``anthropic``, ``claude-sonnet-4-5``)."""
    if not name:
        return None, None
    if "/" not in name:
        return None, name
    prov, model = name.split("/", 1)
    return {"bedrock": "aws.bedrock", "google": "gcp.gemini", "vertex": "gcp.vertex_ai",
            "azureai": "azure", "mistral": "mistral_ai", "grok": "x_ai"}.get(prov, prov), model


def _exclusive(u: dict[str, Any], inp: int, cr: int, cw: int, out: int,
               provider: str | None, model: str | None) -> bool:
    total = nonneg_int(u.get("total_tokens"))
    if total is not None and (cr or cw):
        if total == inp + cr + cw + out:
            return True
        if total == inp + out:
            return False
    if cr + cw > inp:
        return True
    m = (model or "").lower()
    return (provider or "") in _EXCLUSIVE_PROVIDERS or "claude" in m or "anthropic." in m


def usage(u: Any, provider: str | None, model: str | None) -> dict[str, Any] | str:
    """An Inspect ``ModelUsage`` in the canonical meaning (DESIGN.md §2), or a malformed
    reason. A figure the log does not carry stays unknown."""
    if not isinstance(u, dict):
        return {}
    vals: dict[str, int | None] = {}
    for k in _USAGE_KEYS:
        v = u.get(k)
        n = nonneg_int(v)
        if v is not None and n is None:
            return f"usage.{k} is not a token count: {str(v)[:30]!r}"
        vals[k] = n
    inp, out = vals["input_tokens"], vals["output_tokens"]
    cr, cw = vals["input_tokens_cache_read"], vals["input_tokens_cache_write"]
    row: dict[str, Any] = {"output_tokens": out, "reasoning_tokens": vals["reasoning_tokens"],
                           "cache_read_tokens": cr, "cache_write_tokens": cw}
    if inp is not None:
        if _exclusive(u, inp, cr or 0, cw or 0, out or 0, provider, model):
            inp += (cr or 0) + (cw or 0)
        row["input_tokens"] = inp
    if cw:
        row["cache_write_5m_tokens"], row["cache_write_1h_tokens"] = cw, 0
    return row


def _tool_names(output: Any) -> list[str]:
    choices = as_list(output.get("choices")) if isinstance(output, dict) else []
    msg = choices[0].get("message") if choices and isinstance(choices[0], dict) else None
    calls = as_list(msg.get("tool_calls")) if isinstance(msg, dict) else []
    return [c["function"] for c in calls if isinstance(c, dict) and isinstance(
        c.get("function"), str)]


def _duration_ms(ev: dict[str, Any]) -> float | None:
    wt = ev.get("working_time")
    if isinstance(wt, (int, float)) and not isinstance(wt, bool) and wt >= 0:
        return float(wt) * 1000.0
    return None


def model_row(ev: dict[str, Any]) -> dict[str, Any] | str:
    """One ``model`` event → an llm row (or a malformed reason)."""
    provider, model = _split_model(as_str(ev.get("model")))
    output: dict[str, Any] = ev["output"] if isinstance(ev.get("output"), dict) else {}
    tok = usage(output.get("usage"), provider, model)
    if isinstance(tok, str):
        return tok
    choices = as_list(output.get("choices"))
    stop = choices[0].get("stop_reason") if choices and isinstance(choices[0], dict) else None
    row: dict[str, Any] = {
        "kind": "llm", "name": "generate", "provider": provider, "model": model,
        "response_model": as_str(output.get("model")), "stop_reason": as_str(stop),
        "started_at": to_utc_ns(ev.get("timestamp")), "ended_at": to_utc_ns(ev.get("completed")),
        "duration_ms": _duration_ms(ev), "tool_calls": _tool_names(output),
        "is_error": ev.get("error") is not None, "span_id": as_str(ev.get("uuid")),
        **tok,
    }
    call = ev.get("call")
    req = call.get("request") if isinstance(call, dict) else None
    if isinstance(req, dict) and is_request_body(req):
        inp = row.get("input_tokens")
        try:
            row["segments"] = from_request(req, inp if isinstance(inp, int) else None)
        except (TypeError, ValueError, AttributeError):
            pass
    return row


def tool_row(ev: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "tool", "name": as_str(ev.get("function")) or "tool",
            "started_at": to_utc_ns(ev.get("timestamp")),
            "ended_at": to_utc_ns(ev.get("completed")), "duration_ms": _duration_ms(ev),
            "tool_call_id": as_str(ev.get("id")), "tool_input_hash": args_hash(
                ev.get("arguments")), "is_error": ev.get("error") is not None}


def _events(sample: dict[str, Any]) -> list[Any]:
    """The sample's events: ``events`` since Inspect 0.3.46, ``transcript.events`` before."""
    if "events" in sample:
        return as_list(sample.get("events"))
    transcript = sample.get("transcript")
    return as_list(transcript.get("events")) if isinstance(transcript, dict) else []


class _Totals:
    """Tokens of the kept model events per model, in Inspect's own convention."""

    def __init__(self) -> None:
        self.by_model: dict[str, list[int]] = {}

    def add(self, ev: dict[str, Any]) -> None:
        out = ev.get("output")
        u = out.get("usage") if isinstance(out, dict) else None
        name = as_str(ev.get("model"))
        if not isinstance(u, dict) or name is None:
            return
        acc = self.by_model.setdefault(name, [0, 0])
        acc[0] += nonneg_int(u.get("input_tokens")) or 0
        acc[1] += nonneg_int(u.get("output_tokens")) or 0


class InspectAiReader:
    name = "inspect-ai"
    description = "Inspect AI evaluation logs (.json EvalLog and the .eval zip form)"

    def sniff(self, source: Source) -> int:
        head = source.head
        if head.startswith(ZIP_MAGIC):
            return 95 if (b"header.json" in head or b"_journal/" in head
                          or b"samples/" in head) else 0
        head = head.lstrip(b"\xef\xbb\xbf")
        if _JSON_HEAD.match(head) and b'"eval"' in head:
            return 95
        return 0

    def read(self, source: Source, ctx: IngestContext) -> Iterator[dict[str, Any]]:
        try:
            header, samples = self._load(source)
        except (ValueError, zipfile.BadZipFile, KeyError, OSError, EOFError, zlib.error,
                NotImplementedError, RecursionError) as exc:  # a damaged or cut-off archive
            ctx.malformed(source, None, f"not a readable Inspect log ({str(exc)[:80]})")
            return
        ev: dict[str, Any] = header["eval"] if isinstance(header.get("eval"), dict) else {}
        task = as_str(ev.get("task")) or "task"
        session = as_str(ev.get("eval_id")) or as_str(ev.get("run_id"))
        totals = _Totals()
        cached = 0
        labels = _eval_labels(ev, task)
        for i, sample in enumerate(samples, 1):
            ctx.report.lines_read += 1
            if not isinstance(sample, dict):
                ctx.malformed(source, i, f"sample {i} is not an object")
                continue
            tid = f"{task}/{sample.get('id')}/{sample.get('epoch', 1)}"
            for n, e in enumerate(_events(sample), 1):
                kind = e.get("event") if isinstance(e, dict) else None
                if kind == "model" and not e.get("pending"):
                    if e.get("cache") == "read":
                        cached += 1
                        continue
                    row = model_row(e)
                    if isinstance(row, str):
                        ctx.malformed(source, i, f"sample {tid} event {n}: {row}")
                        continue
                    totals.add(e)
                elif kind == "tool" and not e.get("pending"):
                    row = tool_row(e)
                else:
                    continue
                if not ctx.in_window(row.get("started_at")):
                    continue
                row.update(task_id=tid, session_id=session, line=i, labels=labels)
                yield row
        if cached:
            ctx.dropped(CACHED_REASON, cached)
        self._cross_check(source, header, totals, ctx)

    @staticmethod
    def _load(source: Source) -> tuple[dict[str, Any], list[Any]]:
        data = source.read_bytes()
        if not data.startswith(ZIP_MAGIC):
            doc = orjson.loads(data)
            if not isinstance(doc, dict):
                raise ValueError("the log is not a JSON object")
            return doc, as_list(doc.get("samples"))
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
            head_name = "header.json" if "header.json" in names else "_journal/start.json"
            header = orjson.loads(zf.read(head_name)) if head_name in names else {}
            samples = [orjson.loads(zf.read(n)) for n in sorted(names)
                       if _SAMPLE_NAME.match(n)]
        return (header if isinstance(header, dict) else {}), samples

    @staticmethod
    def _cross_check(source: Source, header: dict[str, Any], totals: _Totals,
                     ctx: IngestContext) -> None:
        stats = header.get("stats")
        mu = stats.get("model_usage") if isinstance(stats, dict) else None
        if not isinstance(mu, dict) or header.get("status") not in ("success", "error",
                                                                     "cancelled"):
            return
        for model, u in sorted(mu.items()):
            if not isinstance(u, dict):
                continue
            want = (nonneg_int(u.get("input_tokens")) or 0,
                    nonneg_int(u.get("output_tokens")) or 0)
            got = tuple(totals.by_model.get(model, [0, 0]))
            if got != want:
                ctx.warn(f"inspect: {source.name}: the model events of {model} add up to "
                         f"{got[0]:,} input / {got[1]:,} output tokens, the log's "
                         f"stats.model_usage says {want[0]:,} / {want[1]:,}; the events were "
                         "used")


READER = InspectAiReader()
