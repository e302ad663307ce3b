"""Replay recorded calls on a candidate model and measure what it does instead of assuming it.

:func:`plan_replay` reads an ``agentcost record`` file, picks the sample (``steps``: the
``routing`` steps a cascade sends to the cheap model, or ``all``; ``sample`` of them drawn with
``random.Random(seed)``, kept in file order) and estimates its cost before anything is sent:
every recorded input token at the candidate's *uncached* input price (caches are per model: a
replay starts cold) plus every recorded output token at its output price, at today's prices.
A ``max_cost`` the estimate exceeds, or cannot be checked against (no price for the
candidate), stops the replay before it starts. :func:`run_replay` then sends the sample through
the SDK (agentcost/replay/send.py), and stops before any call that would take the spend
(actual so far + that call's estimate) over ``max_cost``.

Per replayed call it measures usage as returned, cost at the candidate's price, duration, TTFT
for streams, and agreement with the recorded answer (agentcost/replay/agreement.py), optionally
with an LLM judge for text answers (:data:`JUDGE_RUBRIC`). The report gives agreement per step
role with a 95 % Wilson interval, and ``escalation``: the disagreement rate of the cheap-role
steps (``routing``, ``short``), which ``simulate --cascade … --escalation-from replay.json``
uses as its escalation rate. Calls that failed (API errors after the SDK's retries) are counted
apart and left out of the rates.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentcost.errors import InputError
from agentcost.replay.agreement import compare, rate
from agentcost.replay.recording import (
    CHEAP_ROLES,
    ROLES,
    RecordedCall,
    Recording,
    canonical_tokens,
    load_recording,
)
from agentcost.replay.send import PROVIDER_OF_API, Sender, check_keys, replay_body

SCHEMA_VERSION = 1
PROVIDER_NAME = {"anthropic": "Anthropic", "openai": "OpenAI"}
JUDGE_RUBRIC = (
    "You are agentcost's answer judge. You get a request's last user turn, a REFERENCE answer "
    "(from the production model) and a CANDIDATE answer (from another model). Decide whether "
    "the CANDIDATE serves the user as well as the REFERENCE: the same facts, the same decision "
    "and the same requested action. Wording, length and style do not matter. Reply with only a "
    'JSON object: {"agree": true or false, "reason": "one sentence"}.'
)


class CostCeilingError(InputError):
    """The estimated cost of the replay is over ``--max-cost`` (or cannot be checked)."""


@dataclass
class ReplayOptions:
    model: str
    sample: int = 50
    seed: int = 0
    steps: str = "routing"  # routing | all
    max_cost: float | None = None
    base_url: str | None = None
    judge: str | None = None
    threshold: float = 0.8
    batch: bool = False  # one Anthropic Message Batch, at batch prices
    batch_poll_s: float = 30.0
    batch_timeout_s: float = 24 * 3600.0


@dataclass
class ReplayPlan:
    recording: Recording
    options: ReplayOptions
    eligible: int
    chosen: list[RecordedCall]
    estimates: list[float | None]  # per chosen call, USD at the candidate's price
    estimate_usd: float | None  # None: the candidate (or judge) has no price
    providers: set[str]
    notes: list[str] = field(default_factory=list)
    config: Any = None  # agentcost.yaml: price overrides and aliases

    def summary(self) -> dict[str, Any]:
        o = self.options
        return {
            "calls": len(self.chosen),
            "steps": o.steps,
            "eligible": self.eligible,
            "model": o.model,
            "judge": o.judge,
            "estimate_usd": self.estimate_usd,
            "max_cost": o.max_cost,
        }


def _hour_now() -> str:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0).isoformat()


def rates_for(
    model: str, provider: str | None, hour: str | None, config: Any = None, tier: str | None = None
) -> Any:
    """The model's :class:`~agentcost.pricing.Rates` at ``hour`` (None: no price)."""
    from agentcost.pricing import Pricer

    return Pricer(config).rates(model, provider, tier, hour)


def _estimate(c: RecordedCall, rates: Any) -> float | None:
    from agentcost.pricing import call_cost

    if rates is None:
        return None
    t = c.tokens
    return call_cost(
        rates, {"input": t["input"], "read": 0, "w5": 0, "w1": 0, "output": t["output"]}
    )


def _candidate_provider(model: str, calls: list[RecordedCall]) -> str:
    from agentcost.rules import rule_for

    rule = rule_for(model)
    apis = sorted({c.api for c in calls})
    want = {PROVIDER_OF_API[a] for a in apis}
    if rule is not None and rule.provider in ("anthropic", "openai") and want != {rule.provider}:
        raise InputError(
            f"--model {model} is an {PROVIDER_NAME[rule.provider]} model but the sample holds "
            f"{', '.join(apis)} calls: replay re-sends a request in its own API, "
            "so the candidate must speak it (choose --steps or a recording of "
            "one provider)"
        )
    if len(want) > 1:
        raise InputError(
            "the sample holds calls of both providers' APIs: replay one provider's calls at a time"
        )
    return next(iter(want))


def plan_replay(path: str | Path, opts: ReplayOptions, config: Any = None) -> ReplayPlan:
    """The sample to replay and its estimated cost; raises before anything could be sent."""
    if opts.steps not in ("routing", "all"):
        raise InputError(f"--steps: routing or all, not {opts.steps!r}")
    if opts.sample < 1:
        raise InputError("--sample: at least 1")
    rec = load_recording(path)
    if not rec.calls:
        why = "; ".join(f"{n} {r}" for r, n in sorted(rec.skipped.items())) or "empty"
        raise InputError(f"no replayable calls ({why})", str(path))
    eligible = [c for c in rec.calls if opts.steps == "all" or c.role in CHEAP_ROLES]
    if not eligible:
        raise InputError(
            "no routing steps (calls that asked for tools, or short answers) to "
            "replay; --steps all replays every call",
            str(path),
        )
    rng = random.Random(opts.seed)
    idx = sorted(rng.sample(range(len(eligible)), min(opts.sample, len(eligible))))
    chosen = [eligible[i] for i in idx]
    provider = _candidate_provider(opts.model, chosen)
    if opts.batch and len({c.api for c in chosen}) > 1:
        raise InputError(
            "--batch: one batch holds calls of one API; the sample mixes "
            "Chat Completions and Responses (replay them one API at a time)"
        )
    rates = rates_for(opts.model, provider, _hour_now(), config, "batch" if opts.batch else None)
    estimates = [_estimate(c, rates) for c in chosen]
    notes = []
    total = None if rates is None else sum(e or 0.0 for e in estimates)
    if rates is None:
        notes.append(f"no price for {opts.model} in the price data: cost unknown")
    if opts.judge:
        jrates = rates_for(opts.judge, None, _hour_now(), config)
        n_text = sum(1 for c in chosen if c.role not in ("routing",))
        if jrates is None:
            total = None
            notes.append(f"no price for judge {opts.judge}: cost unknown")
        elif total is not None:  # a judge call: the two answers and the rubric, a short reply
            total += n_text * (jrates.uncached * 2000 + jrates.output * 100)
    plan = ReplayPlan(
        rec,
        opts,
        len(eligible),
        chosen,
        estimates,
        total,
        {provider} | ({_judge_provider(opts.judge)} if opts.judge else set()),
        notes,
        config,
    )
    _check_ceiling(plan)
    return plan


def _judge_provider(model: str) -> str:
    from agentcost.rules import rule_for

    rule = rule_for(model)
    if rule is not None and rule.provider == "anthropic" or "claude" in model.lower():
        return "anthropic"
    return "openai"


def _check_ceiling(plan: ReplayPlan) -> None:
    mc = plan.options.max_cost
    if mc is None:
        return
    if plan.estimate_usd is None:
        raise CostCeilingError(
            f"--max-cost {mc:g}: the cost cannot be estimated ("
            f"{'; '.join(plan.notes)}); nothing was sent"
        )
    if plan.estimate_usd > mc:
        raise CostCeilingError(
            f"estimated cost ${plan.estimate_usd:.4f} of {len(plan.chosen)} calls on "
            f"{plan.options.model} is over --max-cost ${mc:.2f}; nothing was sent (lower "
            "--sample or raise --max-cost)"
        )


def run_replay(plan: ReplayPlan, sender: Sender | None = None) -> ReplayReport:
    """Send the plan's calls (the caller has confirmed) and measure them."""
    check_keys(plan.providers)
    own = sender is None
    snd = sender or Sender(plan.options.base_url)
    rep = ReplayReport(plan)
    try:
        if plan.options.batch:
            from agentcost.replay.batch import run_batch

            run_batch(plan, rep, snd)
            return rep
        for i, (c, est) in enumerate(zip(plan.chosen, plan.estimates, strict=True)):
            mc = plan.options.max_cost
            if mc is not None and rep.cost_unknown:
                rep.not_sent = len(plan.chosen) - i
                rep.notes.append(
                    f"stopped before call {i + 1} of {len(plan.chosen)}: a cost "
                    "is unknown, so --max-cost cannot be checked"
                )
                break
            if mc is not None and rep.spent + (est or 0.0) > mc:
                rep.not_sent = len(plan.chosen) - i
                rep.notes.append(
                    f"stopped before call {i + 1} of {len(plan.chosen)}: the "
                    f"spend would pass --max-cost ${mc:.2f}"
                )
                break
            rep.calls.append(_replay_one(c, plan, snd, f"replay-{i}", rep))
    finally:
        if own:
            snd.close()
    return rep


def _replay_one(
    c: RecordedCall, plan: ReplayPlan, snd: Sender, task: str, rep: ReplayReport
) -> dict[str, Any]:
    sent = snd.send(c.api, replay_body(c.request, c.api, plan.options.model), task)
    return measure(c, sent.line, sent.attempts, sent.error, plan, snd, task, rep)


def measure(
    c: RecordedCall,
    line: dict[str, Any] | None,
    attempts: int,
    error: str | None,
    plan: ReplayPlan,
    snd: Sender,
    task: str,
    rep: ReplayReport,
    tier: str | None = None,
) -> dict[str, Any]:
    """The report row of one replayed call from its recorder line (``tier``: the price tier
    it was sent at, e.g. batch)."""
    from agentcost.pricing import call_cost

    opts = plan.options
    line = line or {}
    out: dict[str, Any] = {
        "line": c.line,
        "task_id": c.task_id,
        "role": c.role,
        "api": c.api,
        "recorded_model": c.model,
        "model": opts.model,
        "served_model": line.get("response_model"),
        "attempts": attempts,
        "error": error or (line.get("error") or {}).get("type"),
    }
    if out["error"] or not line:
        out["error"] = out["error"] or "no response"
        return out
    provider = PROVIDER_OF_API[c.api]
    tokens = canonical_tokens(line.get("usage"), provider)
    rates = rates_for(opts.model, provider, _hour_now(), plan.config, tier)
    cost = call_cost(rates, tokens) if rates is not None and line.get("usage") else None
    rep.add_cost(cost, f"{opts.model}: no price or no usage for a replayed call")
    answer = line.get("answer") or {}
    judge = _judge(c, answer, plan, snd, task, rep) if opts.judge and c.role != "routing" else None
    v = compare(c.answer, c.stop_reason, answer, line.get("stop_reason"), opts.threshold, judge)
    out.update(
        {
            "usage": line.get("usage"),
            "tokens": tokens,
            "recorded_tokens": c.tokens,
            "cost_usd": cost,
            "duration_ms": line.get("duration_ms"),
            "ttft_ms": line.get("ttft_ms"),
            "stop_reason": line.get("stop_reason"),
            "recorded_stop_reason": c.stop_reason,
            "tool_calls": line.get("tool_calls"),
            "recorded_tool_calls": [t.get("name") for t in c.answer.get("tool_calls") or []],
            "same_stop_reason": v.same_stop,
            "same_tools": v.same_tools,
            "same_tool_names": v.same_tool_names,
            "similarity": v.similarity,
            "judge_agrees": judge,
            "agree": v.agree,
        }
    )
    return out


def _last_user_text(req: dict[str, Any]) -> str:
    msgs = req.get("messages") or req.get("input") or []
    if isinstance(msgs, str):
        return msgs
    for m in reversed(msgs if isinstance(msgs, list) else []):
        if isinstance(m, dict) and m.get("role") == "user":
            content = m.get("content")
            if isinstance(content, str):
                return content
            return " ".join(
                str(b.get("text") or b.get("content") or "")
                for b in content or []
                if isinstance(b, dict)
            )
    return ""


def _judge(
    c: RecordedCall,
    answer: dict[str, Any],
    plan: ReplayPlan,
    snd: Sender,
    task: str,
    rep: ReplayReport,
) -> bool | None:
    import json

    from agentcost.pricing import call_cost

    judge = plan.options.judge
    assert judge is not None
    user = (
        f"LAST USER TURN:\n{_last_user_text(c.request)[:4000]}\n\nREFERENCE:\n"
        f"{c.answer.get('text') or ''}\n\nCANDIDATE:\n{answer.get('text') or ''}"
    )
    provider = _judge_provider(judge)
    if provider == "anthropic":
        api, body = (
            "messages",
            {
                "model": judge,
                "max_tokens": 200,
                "system": JUDGE_RUBRIC,
                "messages": [{"role": "user", "content": user}],
            },
        )
    else:
        api, body = (
            "chat.completions",
            {
                "model": judge,
                "messages": [
                    {"role": "system", "content": JUDGE_RUBRIC},
                    {"role": "user", "content": user},
                ],
            },
        )
    sent = snd.send(api, body, f"{task}-judge")
    line = sent.line or {}
    rates = rates_for(judge, provider, _hour_now(), plan.config)
    jcost = (
        call_cost(rates, canonical_tokens(line["usage"], provider))
        if rates is not None and line.get("usage")
        else None
    )
    rep.add_cost(jcost, f"judge {judge}: no price or no usage for a judge call", judge=True)
    text = str((line.get("answer") or {}).get("text") or "")
    try:
        verdict = json.loads(text[text.index("{") : text.rindex("}") + 1])
    except ValueError:
        rep.judge_unreadable += 1
        return None
    agree = verdict.get("agree") if isinstance(verdict, dict) else None
    if not isinstance(agree, bool):
        rep.judge_unreadable += 1
        return None
    return agree


@dataclass
class ReplayReport:
    plan: ReplayPlan
    calls: list[dict[str, Any]] = field(default_factory=list)
    spent: float = 0.0  # known costs only; see cost_unknown
    judge_spent: float = 0.0
    cost_unknown: bool = False  # a sent call's cost is unknown: the totals are None
    judge_unreadable: int = 0
    not_sent: int = 0
    notes: list[str] = field(default_factory=list)

    def add_cost(self, cost: float | None, why: str, judge: bool = False) -> None:
        """Count a sent call's cost; an unknown one makes the totals unknown (never $0)."""
        if cost is None:
            self.cost_unknown = True
            if why not in self.notes:
                self.notes.append(why)
            return
        self.spent += cost
        if judge:
            self.judge_spent += cost

    def _by_role(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        ok = [c for c in self.calls if not c.get("error")]
        for role in ROLES:
            rs = [c for c in ok if c["role"] == role]
            if rs:
                r = rate(sum(1 for c in rs if c["agree"]), len(rs))
                sims = [c["similarity"] for c in rs if c.get("similarity") is not None]
                if sims:
                    r["mean_similarity"] = round(statistics.fmean(sims), 4)
                out[role] = r
        return out

    def escalation(self) -> dict[str, Any]:
        cheap = [c for c in self.calls if not c.get("error") and c["role"] in CHEAP_ROLES]
        n, k = len(cheap), sum(1 for c in cheap if c["agree"])
        r = rate(k, n)
        opts = self.plan.options
        models = sorted({str(c.model) for c in self.plan.chosen if c.model})
        return {
            "rate": 1 - k / n if n else None,  # unrounded: simulate escalates floor(n x rate)
            "disagree": n - k,
            "ci95": [round(1 - r["ci95"][1], 4), round(1 - r["ci95"][0], 4)] if n else None,
            "steps": n,
            "roles": list(CHEAP_ROLES),
            "candidate": opts.model,
            "recorded_models": models,
            "source": (
                f"replay of {n} routing/short step{'s' * (n != 1)} of "
                f"{self.plan.recording.path} on {opts.model} (recorded on "
                f"{', '.join(models) or 'unknown models'}), seed {opts.seed}"
            ),
        }

    def to_dict(self) -> dict[str, Any]:
        p, opts = self.plan, self.plan.options
        ok = [c for c in self.calls if not c.get("error")]

        def p50(key: str, rows: list[dict[str, Any]]) -> float | None:
            vals = [r[key] for r in rows if isinstance(r.get(key), (int, float))]
            return round(statistics.median(vals), 3) if vals else None

        recorded_cost = self._recorded_cost()
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": "agentcost-replay",
            "recording": p.recording.path,
            "candidate": opts.model,
            "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "options": {
                "sample": opts.sample,
                "seed": opts.seed,
                "steps": opts.steps,
                "max_cost": opts.max_cost,
                "threshold": opts.threshold,
                "judge": opts.judge,
                "base_url": _without_credentials(opts.base_url),
                "batch": opts.batch,
            },
            "sample": {
                "replayable": len(p.recording.calls),
                "eligible": p.eligible,
                "chosen": len(p.chosen),
                "sent": len(self.calls),
                "not_sent": self.not_sent,
                "errors": sum(1 for c in self.calls if c.get("error")),
                "skipped_lines": dict(sorted(p.recording.skipped.items())),
            },
            "cost": {
                "estimate_usd": _r(p.estimate_usd),
                "actual_usd": None if self.cost_unknown else _r(self.spent),
                "judge_usd": _r(self.judge_spent) if opts.judge and not self.cost_unknown else None,
                "recorded_usd": _r(recorded_cost),
                "estimate_basis": self._estimate_basis(),
            },
            "latency": {
                "duration_p50_ms": p50("duration_ms", ok),
                "ttft_p50_ms": p50("ttft_ms", ok),
            },
            "agreement": {
                "overall": rate(sum(1 for c in ok if c["agree"]), len(ok)),
                "by_role": self._by_role(),
                "criteria": self.criteria(),
                "judge_unreadable": self.judge_unreadable if opts.judge else None,
            },
            "escalation": self.escalation(),
            "notes": [*p.notes, *self.notes],
            "calls": self.calls,
        }

    def _estimate_basis(self) -> str:
        opts = self.plan.options
        text = (
            f"{len(self.plan.chosen)} calls: recorded input tokens at {opts.model}'s "
            "uncached input price (caches are per model) + recorded output tokens at its "
            "output price, at today's prices"
        )
        if opts.judge:
            n = sum(1 for c in self.plan.chosen if c.role != "routing")
            text += f"; {n} judge calls on {opts.judge} at 2,000 input + 100 output tokens each"
        return text

    def criteria(self) -> list[str]:
        opts = self.plan.options
        out = [
            "routing steps: same stop reason and the same tool calls in order, arguments JSON-equal"
        ]
        if opts.judge:
            out.append(
                f"text steps: same stop reason and the judge {opts.judge} agrees "
                f"(rubric: {JUDGE_RUBRIC})"
            )
        else:
            out.append(
                "text steps: same stop reason and text similarity (difflib ratio, "
                f"whitespace-normalised) of at least {opts.threshold:g}"
            )
        out.append("rates with a 95% Wilson score interval; failed calls are left out")
        return out

    def _recorded_cost(self) -> float | None:
        from agentcost.pricing import call_cost

        sent = {c["line"] for c in self.calls if not c.get("error")}
        total = 0.0
        for c in self.plan.chosen:
            if c.line not in sent or not c.model:
                continue
            hour = c.started_at[:13] + ":00:00+00:00" if c.started_at else None
            rates = rates_for(c.model, PROVIDER_OF_API[c.api], hour, self.plan.config)
            if rates is None:
                return None
            total += call_cost(rates, c.tokens)
        return total


def _without_credentials(url: str | None) -> str | None:
    """A gateway URL as it can be shown: no user:password, no query string."""
    if not url:
        return url
    from urllib.parse import urlsplit, urlunsplit

    u = urlsplit(url)
    host = u.hostname or ""
    netloc = host + (f":{u.port}" if u.port else "")
    return urlunsplit((u.scheme, netloc, u.path, "", ""))


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 8)
