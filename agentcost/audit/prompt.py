"""Static audit of prompt inputs: run the rules of :mod:`agentcost.audit.static` on every block of
a :class:`~agentcost.audit.document.PromptDoc` and add the rules that need the whole document
(``volatile-before-stable``, ``short-prefix``, ``unpinned-model``, ``unstable-order``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from agentcost.audit import static
from agentcost.audit.document import Block, PromptDoc
from agentcost.audit.findings import SEVERITY_RANK, Edit, Finding, sort_key
from agentcost.audit.sources import load_doc, read_text_file, text_doc
from agentcost.audit.tokens import TokenCount, count, count_exact
from agentcost.errors import InputError

VOLATILE_RULES = ("timestamp", "volatile-id", "user-content")
# volatile-before-stable: the stable text after the first volatile item must be at least this
# many tokens and this share of the prompt to be worth a finding (agentcost's own thresholds).
VBS_MIN_TOKENS = 128
VBS_MIN_SHARE = 0.10


@dataclass
class PromptOptions:
    model: str | None = None
    provider: str | None = None
    symbol: str | None = None
    exact: bool = False
    fix: bool = False
    api_key: str | None = None  # for --exact (default: the SDK's ANTHROPIC_/OPENAI_API_KEY)


@dataclass
class PromptResult:
    findings: list[Finding] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- helpers


def _visible(s: str) -> str:
    return (s.replace("\ufeff", "<BOM>").replace("\u200b", "<ZWSP>").replace("\u200c", "<ZWNJ>")
            .replace("\u200d", "<ZWJ>").replace("\u2060", "<WJ>").replace("\u00a0", "<NBSP>")
            .replace("\u202f", "<NNBSP>").replace("\u2007", "<FIGSP>").replace("\t", "<TAB>")
            .replace("\r", "<CR>"))


def excerpt(text: str, start: int, end: int, width: int = 100, visible: bool = False) -> str:
    ls = text.rfind("\n", 0, start) + 1
    le = text.find("\n", start)
    if le < 0:
        le = len(text)
    line = text[ls:le]
    a = start - ls
    if visible:
        b = max(a, min(end, le) - ls)
        line = line[:a] + _visible(line[a:b]).replace(" ", "·") + line[b:]
        line = _visible(line)
    if len(line) > width:
        lo = max(0, min(a - width // 3, len(line) - width))
        line = ("…" if lo else "") + line[lo: lo + width] + ("…" if lo + width < len(line) else "")
    return line.rstrip("\n")


def _finding(doc: PromptDoc, blk: Block, h: static.Hit) -> Finding:
    line, col = blk.locate(h.start)
    eline, ecol = blk.locate(h.end) if h.end > h.start else (line, col)
    msg = h.message if blk.whole_file or blk.role == "text" else f"{blk.label}: {h.message}"
    edits: list[Edit] = []
    if h.edits and blk.offsets is None:  # file text itself: edits are exact
        for a, b, new in h.edits:
            la, ca = doc.lines.pos(a)
            lb, cb = doc.lines.pos(b)
            edits.append(Edit(a, b, new, la, ca, lb, cb))
    return Finding(rule=h.rule, severity=h.severity, message=msg, file=doc.path, line=line,
                   column=col, end_line=eline, end_column=ecol,
                   excerpt=excerpt(blk.text, h.start, h.end,
                                   visible=h.rule == "whitespace-drift"),
                   fix=h.fix, edits=edits)


def block_hits(blk: Block) -> list[static.Hit]:
    """Every hit of the per-text rules in one block."""
    hits: list[static.Hit] = []
    if blk.scan:
        phs = static.placeholders(blk.text, blk.style)
        hits += static.template_hits(blk.text, blk.style)
        masked = static.mask(blk.text, [(p.start, p.end) for p in phs])
        hits += static.timestamp_hits(masked)
        hits += static.id_hits(masked)
        hits += static.user_hits(masked)
    hits += static.whitespace_hits(blk.text, blk.whole_file)
    # one finding per span: a labelled id inside a user-content match etc.
    hits.sort(key=lambda h: (h.start, -SEVERITY_RANK[h.severity]))
    out: list[static.Hit] = []
    for h in hits:
        if h.rule != "whitespace-drift" and any(
                o.rule != "whitespace-drift" and h.start < o.end and o.start < h.end
                for o in out):
            continue
        out.append(h)
    return out


def _count(text: str, model: str | None, provider: str | None) -> TokenCount:
    return count(text, model, provider)


# -------------------------------------------------------------------- whole-doc rules


def _volatile_before_stable(doc: PromptDoc, blk: Block, hits: list[static.Hit],
                            model: str | None, provider: str | None) -> Finding | None:
    vol = sorted((h for h in hits if h.rule in VOLATILE_RULES
                  and SEVERITY_RANK[h.severity] >= SEVERITY_RANK["warning"]),
                 key=lambda h: h.start)
    if not vol:
        return None
    first = vol[0]
    nl = blk.text.find("\n", first.end)
    tail = blk.text[nl + 1:] if nl >= 0 else ""
    if tail:  # stable text only: drop the lines that hold volatile content themselves
        base = nl + 1
        marked = {blk.text.count("\n", 0, h.start) for h in vol if h.start >= base}
        first_line = blk.text.count("\n", 0, base)
        tail = "\n".join(line for i, line in enumerate(tail.split("\n"), first_line)
                          if i not in marked)
    tail_label = None
    stable_total = blk.text
    bp_label = None
    if blk.seg is not None and doc.segments:
        later = [s for s in doc.segments[blk.seg + 1:] if s.role in ("tools", "system")]
        tail += "".join("\n" + s.text for s in later)
        stable_total = "".join(s.text for s in doc.segments if s.role in ("tools", "system"))
        if later:
            tail_label = later[-1].label
        bps = [s for s in doc.segments[blk.seg:] if s.breakpoint]
        if bps:
            bp_label = bps[0].label
    phs = static.placeholders(tail, blk.style)
    tail_clean = static.mask(tail, [(p.start, p.end) for p in phs]).strip()
    if not tail_clean:
        return None
    n_tail = _count(tail_clean, model, provider).tokens
    n_total = max(1, _count(stable_total, model, provider).tokens)
    if n_tail < VBS_MIN_TOKENS or n_tail < VBS_MIN_SHARE * n_total:
        return None
    line, col = blk.locate(first.start)
    vol_lines = sorted({blk.locate(h.start)[0] for h in vol})
    last_line = doc.lines.pos(blk.file_offset(len(blk.text.rstrip()) - 1))[0]
    where = (f"line {vol_lines[0]}" if len(vol_lines) == 1 else
             "lines " + ", ".join(str(x) for x in vol_lines[:6]))
    if blk.whole_file or blk.role == "text":
        fix = (f"move {where} to the end of the prompt (after line {last_line}), or into the "
               "first user message, so that the stable text before it can be cached")
    else:
        after = tail_label or blk.label
        fix = (f"move the volatile part of {blk.label} out of the stable prefix: put it in a "
               f"system block after {after} (after the cache breakpoint) or in the first user "
               "message")
    region = (f", inside the stable region of the cache breakpoint at {bp_label}"
              if bp_label else "")
    sev = "error" if n_tail >= 1024 else "warning"
    label = "" if blk.whole_file or blk.role == "text" else f"{blk.label}: "
    return Finding(
        rule="volatile-before-stable", severity=sev,
        message=(f"{label}volatile content ({first.rule}) at line {line} comes before ~{n_tail:,}"
                 f" tokens of stable text{region}: those tokens are re-sent uncached on every "
                 "request"),
        file=doc.path, line=line, column=col,
        excerpt=excerpt(blk.text, first.start, first.end), fix=fix)


# label, text, (line, column) of the prefix, whether it ends at a cache marker
_Check = tuple[str, str, tuple[int, int] | None, bool]


def _short_prefix(doc: PromptDoc, hits_by_block: dict[int, list[static.Hit]],
                  opts: PromptOptions, model: str, info: dict[str, Any]) -> list[Finding]:
    from agentcost.rules import rule_for

    rule = rule_for(model, opts.provider)
    if rule is None:
        info["notes"].append(f"no cache rule for model {model}: short-prefix not checked")
        return []
    minimum = rule.min_cacheable_tokens
    info["min_cacheable_tokens"] = minimum
    if minimum is None:
        info["notes"].append(f"minimum cacheable length of {rule.model} is not stated or not "
                             "confirmed (rules data): short-prefix not checked")
        return []
    provider = opts.provider or rule.provider
    checks = _segment_checks(doc) if doc.segments else [_text_check(doc, hits_by_block)]
    out: list[Finding] = []
    for label, text, loc, marker in checks:
        tc = _count(text, model, provider)
        if opts.exact:
            tc = _exact(doc, text, model, tc, opts)
        info.setdefault("prefixes", []).append({"label": label, **tc.to_dict()})
        if tc.note and tc.note not in info["notes"]:
            info["notes"].append(tc.note)
        if tc.high < minimum:
            sev, verdict = "warning", "is below"
        elif tc.low < minimum <= tc.high or (not tc.exact and tc.tokens < minimum * 1.1
                                               and tc.tokens < minimum):
            sev, verdict = "info", "may be below"
        else:
            continue
        est = "" if tc.exact else (f" (estimated {tc.low:,}–{tc.high:,})"
                                   if tc.low != tc.high else f" (approximate: {tc.method})")
        missing = max(0, minimum - tc.tokens)
        consequence, fix = _short_prefix_advice(marker, provider, minimum, missing)
        line, col = loc if loc else (1, 1)
        out.append(Finding(
            rule="short-prefix", severity=sev,
            message=(f"{label} is ~{tc.tokens:,} tokens{est} and {verdict} the minimum "
                     f"cacheable length of {rule.model} ({minimum:,}): ~{missing:,} tokens "
                     f"missing; {consequence}"),
            file=doc.path, line=line, column=col, fix=fix,
        ))
    return out


def _segment_checks(doc: PromptDoc) -> list[_Check]:
    """The prefixes of a request body: the text up to each cache breakpoint, or — without
    breakpoints — the tools and system prompt."""
    checks: list[_Check] = []
    cum = ""
    any_bp = any(s.breakpoint for s in doc.segments)
    for s in doc.segments:
        cum += s.text + "\n"
        if s.breakpoint:
            checks.append((s.label, cum, s.location, True))
    if not any_bp:
        stable = "".join(s.text + "\n" for s in doc.segments if s.role in ("tools", "system"))
        if stable.strip():
            checks.append(("the tools and system prompt", stable,
                           doc.segments[0].location, False))
    return checks


def _text_check(doc: PromptDoc, hits_by_block: dict[int, list[static.Hit]]) -> _Check:
    """The stable prefix of a plain prompt text, judged as it will be once the reported
    volatile lines are moved out of it (a volatile first line is its own finding, not a short
    prefix)."""
    blk = doc.blocks[0]
    hits = [h for h in hits_by_block.get(0, []) if h.rule in VOLATILE_RULES
            and SEVERITY_RANK[h.severity] >= SEVERITY_RANK["warning"]]
    stable = _without_lines(blk.text, hits)
    phs = static.placeholders(stable, blk.style)
    stable = static.mask(stable, [(p.start, p.end) for p in phs])
    label = ("the stable text (without the volatile lines reported)" if hits
             else "the stable prefix")
    return (label, stable, blk.locate(0), False)


def _without_lines(text: str, hits: list[static.Hit]) -> str:
    """``text`` without the lines that hold a hit."""
    if not hits:
        return text
    lines = text.splitlines(keepends=True)
    starts, pos = [], 0
    for ln in lines:
        starts.append(pos)
        pos += len(ln)
    drop = set()
    for h in hits:
        for i, st in enumerate(starts):
            if st <= h.start < st + len(lines[i]) or (st < h.end <= st + len(lines[i])):
                drop.add(i)
    return "".join(ln for i, ln in enumerate(lines) if i not in drop)


def _short_prefix_advice(marker: bool, provider: str | None, minimum: int,
                         missing: int) -> tuple[str, str]:
    """(consequence, fix) of a short prefix, in the terms of the input: a cache_control marker
    only where the request has one; OpenAI and Gemini have no marker to drop."""
    grow = (f"grow the stable prefix by ~{missing:,} tokens (stable instructions, examples, "
            "tool definitions at its start)")
    if marker:
        return ("the cache_control marker there is silently ignored",
                grow.replace("at its start", "before the breakpoint") + " or drop the marker")
    if provider and provider != "anthropic":
        return (f"{provider} caches only prompts of at least {minimum:,} tokens: it is sent "
                "uncached on every request", grow)
    return ("it will not be cached, even with a cache breakpoint after it", grow)


def _exact(doc: PromptDoc, text: str, model: str, tc: TokenCount,
           opts: PromptOptions) -> TokenCount:
    """The count from the provider's counting endpoint: the request with ``text`` as its system
    prompt (instructions) minus the same request without it, so the request's own framing
    tokens are not counted."""
    import os

    from agentcost.rules import rule_for

    rule = rule_for(model, opts.provider)
    provider = rule.provider if rule is not None else opts.provider
    if provider not in ("anthropic", "openai") or (provider == "openai" and tc.exact):
        return tc  # exact offline already (tiktoken), or no counting endpoint for it
    env = "ANTHROPIC_API_KEY" if provider == "anthropic" else "OPENAI_API_KEY"
    if not (opts.api_key or os.environ.get(env)):
        raise InputError(f"--exact needs {env} for {'Claude' if env[0] == 'A' else 'OpenAI'} "
                         "models")
    if provider == "anthropic":
        probe: list[dict[str, Any]] = [{"role": "user", "content": "."}]
        with_text = count_exact({"model": model, "system": text, "messages": probe},
                                provider, opts.api_key)
        without = count_exact({"model": model, "messages": probe}, provider, opts.api_key)
    else:
        with_text = count_exact({"model": model, "instructions": text, "input": "."},
                                provider, opts.api_key)
        without = count_exact({"model": model, "input": "."}, provider, opts.api_key)
    n = max(0, with_text - without)
    method = "anthropic count_tokens" if provider == "anthropic" else "openai input_tokens"
    return TokenCount(n, n, n, method, True)


@lru_cache(maxsize=1)
def _snapshots() -> dict[str, list[str]]:
    """Normalised model id → dated snapshot ids known to the bundled price data."""
    from importlib.util import find_spec

    from agentcost.rules import normalize_model_id

    spec = find_spec("genai_prices.data")
    if spec is None or spec.origin is None:  # pragma: no cover
        return {}
    with open(spec.origin, encoding="utf-8") as fh:
        src = fh.read()
    out: dict[str, set[str]] = {}
    for m in re.finditer(r"['\"]([A-Za-z0-9._:/-]*?-(?:20\d{6}|20\d\d-\d\d-\d\d))['\"]", src):
        snap = m.group(1).rsplit("/", 1)[-1]
        if "." in snap.split("-", 1)[0]:  # bedrock region prefixes
            continue
        if snap.lower().startswith("claude") and "." in snap:
            continue  # Anthropic snapshot ids are hyphenated; dotted spellings are aliases
        base = normalize_model_id(snap)
        if base and base != snap.lower():
            out.setdefault(base, set()).add(snap)
    return {k: sorted(v, key=lambda s: re.sub(r"\D", "", s[-10:])) for k, v in out.items()}


def pin_suggestion(model: str) -> tuple[str, str | None] | None:
    """(why it floats, a dated snapshot to pin) for a floating alias, else None."""
    from agentcost.rules import aliases, normalize_model_id, resolve_alias

    low = model.strip().lower()
    if re.search(r"-(?:\d{8}|\d{4}-\d{2}-\d{2})(?:-v\d+(?::\d+)?)?$", low) or "@" in low:
        return None
    snaps = _snapshots()
    if low in aliases():
        target = resolve_alias(low)
        cands = snaps.get(normalize_model_id(target), [])
        return (f"'{model}' is a short alias (now {target})", cands[-1] if cands else target)
    base = normalize_model_id(model)
    cands = [s for s in snaps.get(base, []) if s.lower().startswith(base.split("-")[0])]
    same_spelling = [s for s in cands if s.lower().startswith(re.sub(r"-latest$", "", low))]
    pick: str | None = (same_spelling or cands)[-1] if (same_spelling or cands) else None
    if low.endswith("-latest"):
        return f"'{model}' floats to the newest snapshot", pick
    if pick is not None:
        return f"'{model}' is an undated alias; dated snapshots exist", pick
    return None


def _unpinned(doc: PromptDoc) -> list[Finding]:
    if not doc.model:
        return []
    s = pin_suggestion(doc.model)
    if s is None:
        return []
    why, pick = s
    line, col = doc.model_location or (1, 1)
    fix = f"pin a dated snapshot, e.g. \"{pick}\" (newest known)" if pick else \
        "pin a dated snapshot id"
    return [Finding(rule="unpinned-model", severity="warning",
                    message=f"{why}: a snapshot rotation starts an empty cache",
                    file=doc.path, line=line, column=col, excerpt=doc.model, fix=fix)]


def _unstable_order(doc: PromptDoc) -> list[Finding]:
    groups: dict[frozenset[str], list[tuple[Any, list[str], tuple[int, int]]]] = {}
    for p, keys, loc in sorted(doc.objects, key=lambda o: o[2]):
        if len(keys) >= 2 and len(set(keys)) == len(keys):
            groups.setdefault(frozenset(keys), []).append((p, keys, loc))
    out: list[Finding] = []
    for objs in groups.values():
        orders = {tuple(k) for _, k, _ in objs}
        if len(orders) < 2:
            continue
        first = objs[0][1]
        odd = next(o for o in objs if o[1] != first)
        p, keys, (line, col) = odd
        where = "/".join(str(x) for x in p) or "(top level)"
        out.append(Finding(
            rule="unstable-order", severity="warning",
            message=(f"{where}: keys in a different order ({', '.join(keys)}) than in another "
                     f"object with the same keys ({', '.join(first)}): the serialiser does not "
                     "fix key order, so identical content can produce different prefixes"),
            file=doc.path, line=line, column=col,
            fix="serialise with sorted keys (json.dumps(obj, sort_keys=True)) or a fixed order"))
    return out


# ------------------------------------------------------------------------------- entry


def audit_doc(doc: PromptDoc, opts: PromptOptions) -> tuple[list[Finding], dict[str, Any]]:
    info: dict[str, Any] = {"path": doc.path, "kind": doc.kind, "notes": []}
    model = opts.model or doc.model
    if opts.model and doc.model and opts.model != doc.model:
        info["notes"].append(f"--model {opts.model} used for token counts (the body says "
                             f"{doc.model})")
    info["model"] = model
    findings: list[Finding] = []
    hits_by_block: dict[int, list[static.Hit]] = {}
    vbs_done = False
    for i, blk in enumerate(doc.blocks):
        hits = block_hits(blk)
        hits_by_block[i] = hits
        findings += [_finding(doc, blk, h) for h in hits]
        if not vbs_done and blk.role in ("text", "system", "tools"):
            f = _volatile_before_stable(doc, blk, hits, model, opts.provider)
            if f is not None:
                findings.append(f)
                vbs_done = True
    if model:
        findings += _short_prefix(doc, hits_by_block, opts, model, info)
    else:
        info["notes"].append("short-prefix needs the target model (--model, or a model in the "
                             "request body)")
    findings += _unpinned(doc)
    findings += _unstable_order(doc)
    findings.sort(key=sort_key)
    return findings, info


def audit_text(text: str, *, model: str | None = None, provider: str | None = None,
               path: str = "<prompt>", symbol: str | None = None,
               exact: bool = False, api_key: str | None = None) -> list[Finding]:
    """Audit one prompt given as text (plain text/template, JSON/YAML body by ``path``'s suffix,
    or a Python source with ``symbol``)."""
    doc = (load_doc(path, text, symbol) if (symbol or path != "<prompt>")
           else text_doc(path, text, in_memory=True))
    return audit_doc(doc, PromptOptions(model=model, provider=provider, symbol=symbol,
                                        exact=exact, api_key=api_key))[0]


def _cross_file_tool_order(docs: list[PromptDoc]) -> list[Finding]:
    out: list[Finding] = []
    seen: list[PromptDoc] = []
    for doc in docs:
        if len(doc.tool_names) < 2:
            continue
        for prev in seen:
            if sorted(prev.tool_names) == sorted(doc.tool_names) and \
                    prev.tool_names != doc.tool_names:
                line, col = doc.tools_location or (1, 1)
                out.append(Finding(
                    rule="unstable-order", severity="warning",
                    message=(f"the same {len(doc.tool_names)} tools are listed in another order "
                             f"than in {prev.path} ({', '.join(doc.tool_names)} vs "
                             f"{', '.join(prev.tool_names)}): each order is a different prefix"),
                    file=doc.path, line=line, column=col,
                    fix="build the tool list in one fixed order (e.g. sorted by name)"))
                break
        seen.append(doc)
    return out


def audit_files(paths: list[Path], opts: PromptOptions) -> PromptResult:
    res = PromptResult()
    docs: list[PromptDoc] = []
    for path in paths:
        name = str(path)
        text = read_text_file(path)
        doc = load_doc(name, text, opts.symbol)
        findings, info = audit_doc(doc, opts)
        if opts.fix and any(f.rule == "whitespace-drift" for f in findings):
            if doc.kind == "text":
                from agentcost.audit.fix import canonical, write_atomic

                new = canonical(text)
                if new != text:
                    write_atomic(path, new)
                    info["fixed"] = True
                    n = sum(1 for f in findings if f.rule == "whitespace-drift")
                    res.notes.append(f"fixed {name}: {n} whitespace-drift finding(s) rewritten "
                                     "in canonical form")
                    doc = load_doc(name, new, opts.symbol)
                    findings, info2 = audit_doc(doc, opts)
                    info2["fixed"] = True
                    info = info2
            else:
                res.notes.append(f"--fix rewrites plain-text prompt files only; {name} is "
                                 f"{doc.kind}: not changed")
        docs.append(doc)
        res.findings += findings
        res.files.append(info)
        for note in info["notes"]:
            if note not in res.notes:
                res.notes.append(note)
    res.findings += _cross_file_tool_order(docs)
    res.findings.sort(key=sort_key)
    return res
