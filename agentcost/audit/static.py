"""Detectors of the static rules inside one text: template expressions, literal dates/ids/user
data, and invisible whitespace. Each returns :class:`Hit` objects with offsets into the text;
:mod:`agentcost.audit.prompt` turns them into findings with file positions.

Precision comes first (a long, clean production prompt must give no finding), so literal
detectors look for *evidence of rendering*, not for any date-like string:

* ``timestamp``: a date-time with a time of day (ISO 8601, RFC 2822) anywhere; a date after
  "Today is" / "The current date is" / "Current time:" / a ``Date:`` line; epoch seconds or
  milliseconds (2017–2033) after a time word; ``HH:MM:SS`` with a zone or am/pm. A bare static
  date ("policy effective 2025-01-01", "knowledge cutoff: January 2025") is not flagged. Day
  precision is a warning (the cache turns over daily), a time of day an error.
* ``volatile-id``: UUIDs; values labelled request/trace/session/run/... id or nonce; random hex
  (16+ chars) and base64/base62 tokens (20+ chars, mixed case and digits, high entropy).
* ``user-content``: personal e-mail addresses (not role addresses such as support@ and not
  example domains); phone numbers and account ids next to a user/customer word; "the user's
  name is ...", "logged in as ...".
* template expressions (``{{ now() }}``, ``{current_time}``, ``{session_id}``,
  ``{{ user.email }}``) by the words in their names.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

# ----------------------------------------------------------------------------- Hit


@dataclass
class Hit:
    rule: str
    severity: str
    start: int
    end: int
    message: str
    fix: str
    replacement: str | None = None  # machine-applicable replacement of text[start:end]
    kind: str = ""  # sub-kind, e.g. "trailing-whitespace"
    count: int = 1
    edits: list[tuple[int, int, str]] | None = None  # every occurrence: (start, end, new)


# --------------------------------------------------------------------------- templates

_JINJA = re.compile(r"\{\{-?(.*?)-?\}\}|\{%-?(.*?)-?%\}|\{#.*?#\}", re.S)
_FORMAT = re.compile(r"\{\{|\}\}|\{([A-Za-z_][^{}\n]*)\}")
_FSTRING = re.compile(r"\{\{|\}\}|\{([^{}\n]+)\}")
_DOLLAR = re.compile(r"\$\{([A-Za-z_][\w.]*)\}")


@dataclass
class Placeholder:
    start: int
    end: int
    expr: str


def placeholders(text: str, style: str) -> list[Placeholder]:
    out: list[Placeholder] = []
    if style == "jinja":
        for m in _JINJA.finditer(text):
            expr = m.group(1) if m.group(1) is not None else (m.group(2) or "")
            out.append(Placeholder(m.start(), m.end(), expr.strip()))
    elif style in ("format", "fstring"):
        rx = _FSTRING if style == "fstring" else _FORMAT
        for m in rx.finditer(text):
            if m.group(1) is not None:
                out.append(Placeholder(m.start(), m.end(), m.group(1).strip()))
    for m in _DOLLAR.finditer(text):
        out.append(Placeholder(m.start(), m.end(), m.group(1)))
    out.sort(key=lambda p: p.start)
    return out


def _words(expr: str) -> tuple[set[str], list[str]]:
    idents = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expr)
    words: set[str] = set()
    for ident in idents:
        for part in re.split(r"_+", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", ident)):
            if part:
                words.add(part.lower())
    return words, [i.lower() for i in idents]


_CLOCK_WORDS = {"now", "utcnow", "timestamp", "datetime", "clock", "today", "todays"}
_CLOCK_IDENTS = {"date", "time", "ts", "current_date", "current_time", "current_datetime",
                 "currentdatetime", "currentdate", "currenttime", "today_date", "date_now",
                 "time_now", "local_time", "localtime", "gmtime", "strftime"}
_DAY_ONLY = {"today", "todays", "date", "day"}
_TIME_PRECISION = {"now", "utcnow", "timestamp", "datetime", "time", "clock", "ts"}
_ID_WORDS = {"uuid", "guid", "nonce", "idempotency", "salt", "random", "rand", "uuid4",
             "ulid", "nanoid"}
_ID_SUBJECTS = {"request", "req", "trace", "span", "session", "run", "correlation",
                "conversation", "call", "execution", "invocation", "job", "message", "msg",
                "thread", "interaction", "turn"}
_USER_WORDS = {"user", "username", "customer", "client", "account", "member", "patient",
               "email", "phone", "caller", "recipient", "subscriber", "buyer", "visitor",
               "profile", "tenant", "org", "organization", "organisation", "firstname",
               "lastname", "fullname", "displayname", "employee", "student", "learner"}
_USER_IDENTS = {"first_name", "last_name", "full_name", "display_name", "name_of_user"}


def classify_placeholder(expr: str) -> tuple[str, str, str] | None:
    """(rule, severity, what) for a template expression, or None if it looks stable."""
    words, idents = _words(expr)
    low = expr.lower()
    calls_clock = bool(re.search(r"\b(?:now|utcnow|today|time|localtime|gmtime)\s*\(", low))
    if (words & _CLOCK_WORDS) or (set(idents) & _CLOCK_IDENTS) or calls_clock or (
            "current" in words and words & {"date", "time", "day", "datetime"}):
        fmt = re.search(r"%[a-zA-Z]", expr)
        if fmt:
            time_fmt = re.search(r"%[HIMSTXcfprsz]", expr)
            sev = "error" if time_fmt else "warning"
        elif "isoformat" in low or "timestamp" in words:
            sev = "error"
        elif words & _DAY_ONLY and not (words & _TIME_PRECISION) and "now" not in low:
            sev = "warning"
        elif "today" in words and "now" not in words:
            sev = "warning"
        else:
            sev = "error"
        what = "renders the date" if sev == "warning" else "renders the clock (time of day)"
        return "timestamp", sev, what
    if (words & _ID_WORDS) or (words & _ID_SUBJECTS and words & {"id", "key", "uuid", "ids"}):
        return "volatile-id", "error", "renders a per-request identifier"
    if (words & _USER_WORDS) or (set(idents) & _USER_IDENTS):
        return "user-content", "warning", "renders per-user data"
    return None


def template_hits(text: str, style: str) -> list[Hit]:
    hits: list[Hit] = []
    for ph in placeholders(text, style):
        c = classify_placeholder(ph.expr)
        if c is None:
            continue
        rule, sev, what = c
        shown = text[ph.start: ph.end]
        if rule == "timestamp":
            fix = ("render the date in the last user message (after every cache breakpoint), "
                   "not in the cached prefix" if sev == "warning" else
                   "drop the time from the prompt or render it in the last user message, after "
                   "every cache breakpoint")
        elif rule == "volatile-id":
            fix = "send the id as request metadata, not in the prompt"
        else:
            fix = ("move per-user details after the shared prefix (into a user message, or a "
                   "second system block after the cache breakpoint)")
        hits.append(Hit(rule, sev, ph.start, ph.end,
                        f"template expression {shown} {what}", fix, kind="template"))
    return hits


def mask(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    chars = list(text)
    for a, b in spans:
        for i in range(a, min(b, len(chars))):
            if chars[i] not in "\r\n":
                chars[i] = " "
    return "".join(chars)


# ------------------------------------------------------------------------ timestamps

_MONTHS = (r"(?:January|February|March|April|May|June|July|August|September|October|November|"
           r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?")
_WEEKDAYS = (r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Mon|Tues|Tue|Wed|"
             r"Thurs|Thur|Thu|Fri|Sat|Sun)\.?")
_DATE_ISO_CORE = r"(?<![\w-])(?:19|20)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
_DATE_ISO = _DATE_ISO_CORE + r"(?![\w])"
_HHMM = r"(?:[01]?\d|2[0-3]):[0-5]\d"
_HHMMSS = _HHMM + r":[0-5]\d(?:[.,]\d{1,9})?"
_ZONE = r"(?:\s?(?:Z|UTC|GMT|[ECMP][SD]T|[+-](?:[01]\d|2[0-3]):?[0-5]\d)|\s?[AaPp]\.?[Mm]\.?)"
ISO_DATETIME = re.compile(
    _DATE_ISO_CORE + r"[T ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:[.,]\d{1,9})?)?"
    r"(?:Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d|\s?UTC)?(?![\w:])")
RFC2822 = re.compile(
    r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s+\d{1,2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|"
    r"Oct|Nov|Dec)\s+\d{4}\s+\d{2}:\d{2}(?::\d{2})?(?:\s+(?:[+-]\d{4}|GMT|UTC?|[ECMP][SD]T))?")
_NL_DATE = (rf"(?:{_WEEKDAYS},?\s+)?(?:{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|"
            rf"(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS},?\s+\d{{4}})")
_NUM_DATE = r"\d{1,2}[/.]\d{1,2}[/.](?:\d{4}|\d{2})\b"
_ANY_DATE = rf"(?:{_DATE_ISO}|{_NL_DATE}|{_NUM_DATE}|{_WEEKDAYS}(?![\w]))"
_VALUE = (rf"(?P<value>(?:{_ANY_DATE})(?:(?:,?\s+(?:at\s+)?|T){_HHMM}(?::[0-5]\d)?{_ZONE}?)?|"
          rf"{_HHMM}(?::[0-5]\d)?{_ZONE}?)")
CURRENT_PHRASE = re.compile(
    r"(?i:\btoday\s+is|\btoday's\s+date\s+is|\btoday's\s+date\s*:|\bthe\s+(?:current\s+)?"
    r"date\s+is|\bcurrent\s+date\s*(?:is|:|=)|\b(?:the\s+)?current\s+(?:date\s*(?:and|&)\s*)?"
    r"time\s*(?:is|:|=)|\bthe\s+time\s+is|\bit\s+is\s+now|\bright\s+now\s+it\s+is|"
    r"\bas\s+of\s+today\s*,?|(?m:^[ \t>*-]*(?:current\s+)?(?:date|time|now|date/time)\s*:))"
    rf"\s*(?:\*\*)?{_VALUE}")
EPOCH = re.compile(r"(?i)\b(?:timestamp|epoch|ts|time|now|generated(?:_at)?|created(?:_at)?|"
                   r"updated(?:_at)?|sent(?:_at)?|unix)\b[\"']?\s*[:=]?\s*[\"']?"
                   r"(?P<value>1[5-9]\d{8}(?:\d{3})?)(?![\d.])")
TIME_WITH_ZONE = re.compile(rf"(?<![\d:]){_HHMMSS}{_ZONE}(?![\w])")
# diff mode (a changed span is known): any date, time or epoch counts
DIFF_TIMESTAMP = re.compile(
    rf"{_DATE_ISO}|{_NL_DATE}|{_NUM_DATE}|(?<![\d:]){_HHMM}(?::[0-5]\d)?(?![\d:])|"
    r"(?<!\d)1[5-9]\d{8}(?:\d{3})?(?!\d)")


def timestamp_hits(text: str) -> list[Hit]:
    hits: list[Hit] = []
    taken: list[tuple[int, int]] = []

    def add(a: int, b: int, sev: str, what: str) -> None:
        if any(a < y and x < b for x, y in taken):
            return
        taken.append((a, b))
        fix = ("move the date into the last user message (after every cache breakpoint), or "
               "drop it" if sev == "warning" else
               "remove the time from the cached prefix; if the model needs it, put it in the "
               "last user message")
        hits.append(Hit("timestamp", sev, a, b, what, fix, kind="literal"))

    for m in ISO_DATETIME.finditer(text):
        add(m.start(), m.end(), "error",
            f"ISO 8601 date-time {m.group()!r}: the prefix changes with every rendering")
    for m in RFC2822.finditer(text):
        add(m.start(), m.end(), "error",
            f"RFC 2822 date-time {m.group()!r}: the prefix changes with every rendering")
    for m in CURRENT_PHRASE.finditer(text):
        v = m.group("value")
        has_time = bool(re.search(_HHMM, v))
        sev = "error" if has_time else "warning"
        what = ("the current time" if has_time else "the current date")
        add(m.start(), m.end(), sev,
            f"{what} in the cached prefix ({m.group().strip()!r}): "
            + ("a new prefix every minute" if has_time else "the cache turns over daily"))
    for m in EPOCH.finditer(text):
        add(m.start("value"), m.end("value"), "error",
            f"epoch timestamp {m.group('value')}: the prefix changes with every rendering")
    for m in TIME_WITH_ZONE.finditer(text):
        add(m.start(), m.end(), "error",
            f"time of day {m.group().strip()!r}: the prefix changes with every rendering")
    return hits


# ---------------------------------------------------------------------------- ids

UUID = re.compile(r"(?i)(?<![0-9a-f-])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                  r"[0-9a-f]{12}(?![0-9a-f-])")
_ID_LABEL = (r"(?:request|req|trace|span|session|run|correlation|conversation|message|msg|"
             r"call|execution|invocation|job|idempotency|thread|interaction|turn)[ _-]?"
             r"(?:id|key|uuid)")
LABELLED_ID = re.compile(rf"(?i)\b{_ID_LABEL}\b[\"']?\s*(?:[:=#]|\bis\b)\s*[\"']?"
                         r"(?P<value>[A-Za-z0-9][A-Za-z0-9_.:\-]{5,})")
NONCE = re.compile(r"(?i)\bnonce\b[\"']?\s*(?:[:=]|\bis\b)\s*[\"']?(?P<value>[A-Za-z0-9+/=_\-]{6,})")
HEX_TOKEN = re.compile(r"(?<![\w-])(?:[0-9a-f]{16,}|[0-9A-F]{16,})(?![\w-])")
B64_TOKEN = re.compile(r"(?<![\w+/=-])[A-Za-z0-9+/_-]{20,}={0,2}(?![\w+/=-])")
_LABEL_NEAR = re.compile(rf"(?i)\b{_ID_LABEL}\b|\bnonce\b|\bid\s*[:=]")


def _entropy(s: str) -> float:
    c = Counter(s)
    n = len(s)
    return -sum(v / n * math.log2(v / n) for v in c.values())


def _labelled_before(text: str, start: int) -> bool:
    return bool(_LABEL_NEAR.search(text[max(0, start - 40): start]))


def _looks_random_b64(tok: str) -> bool:
    core = tok.rstrip("=")
    if sum(ch.isdigit() for ch in core) < 3 or sum(ch.isupper() for ch in core) < 3 or sum(
            ch.islower() for ch in core) < 3:
        return False
    if "/" in core:
        parts = [p for p in core.split("/") if p]
        if len(parts) >= 2 and all(re.fullmatch(r"[A-Za-z][a-z0-9_-]*", p) for p in parts):
            return False  # a path
    caps = [m.start() for m in re.finditer(r"[A-Z]", core)]
    wordy = sum(1 for i in caps if re.match(r"[a-z]{2}", core[i + 1: i + 3]))
    if caps and wordy >= 0.7 * len(caps):
        return False  # camelCase identifiers: each capital starts a word
    # case/class changes per character: random tokens switch often, words rarely
    switches = sum(1 for a, b in zip(core, core[1:], strict=False)
                   if (a.isdigit(), a.isupper()) != (b.isdigit(), b.isupper()))
    return _entropy(core) >= 3.6 and switches >= len(core) * 0.3


def id_hits(text: str) -> list[Hit]:
    hits: list[Hit] = []
    taken: list[tuple[int, int]] = []
    fix = "send the id as request metadata (headers, metadata field), not in the prompt"

    def add(a: int, b: int, sev: str, msg: str) -> None:
        if any(a < y and x < b for x, y in taken):
            return
        taken.append((a, b))
        hits.append(Hit("volatile-id", sev, a, b, msg, fix, kind="literal"))

    for m in LABELLED_ID.finditer(text):
        v = m.group("value")
        if not re.search(r"\d", v):
            continue
        add(m.start(), m.end(), "error",
            f"per-request identifier {m.group().strip()!r}: no two requests share this prefix")
    for m in NONCE.finditer(text):
        add(m.start(), m.end(), "error", f"nonce {m.group().strip()!r}: unique per request")
    for m in UUID.finditer(text):
        if set(m.group().replace("-", "")) == {"0"}:
            continue
        labelled = _labelled_before(text, m.start())
        add(m.start(), m.end(), "error" if labelled else "warning",
            f"UUID {m.group()}" + (": a per-request id" if labelled else
                                   ": if it changes per request or per deploy, so does the prefix"))
    for m in HEX_TOKEN.finditer(text):
        tok = m.group()
        if sum(ch.isdigit() for ch in tok) < 2 or sum(ch.isalpha() for ch in tok) < 2:
            continue
        labelled = _labelled_before(text, m.start())
        add(m.start(), m.end(), "error" if labelled else "warning",
            f"random-looking hex token {tok[:24]}{'…' if len(tok) > 24 else ''}: a per-request "
            "id or nonce makes every prefix unique")
    for m in B64_TOKEN.finditer(text):
        tok = m.group()
        if HEX_TOKEN.fullmatch(tok) or UUID.fullmatch(tok) or not _looks_random_b64(tok):
            continue
        add(m.start(), m.end(), "warning",
            f"random-looking token {tok[:24]}{'…' if len(tok) > 24 else ''}: a per-request "
            "token makes every prefix unique")
    return hits


# ----------------------------------------------------------------------- user content

EMAIL = re.compile(r"(?<![\w.+-])(?P<local>[A-Za-z0-9._%+-]+)@(?P<domain>[A-Za-z0-9-]+"
                   r"(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})(?![\w-])")
_ROLE_LOCAL = re.compile(
    r"(?i)^(?:support|help|helpdesk|info|billing|sales|contact|no-?reply|do-?not-?reply|admin|"
    r"team|security|privacy|legal|hello|feedback|abuse|press|media|careers|jobs|hr|ops|it|"
    r"service|customer-?service|care|accounts?|orders?|returns|refunds|escalations?|office|"
    r"webmaster|postmaster|dpo|compliance|partners?|developers?|api|status|alerts?|"
    r"notifications?|bookings?|reservations?)(?:[._+-].*)?$")
_EXAMPLE_DOMAIN = re.compile(r"(?i)(?:^|\.)(?:example\.(?:com|org|net)|test|invalid|localhost|"
                             r"example|acme\.(?:com|org))$")
_USER_CONTEXT = (r"(?i)\b(?:user|users|customer|customers|client|caller|member|patient|"
                 r"account\s+holder|subscriber|recipient|buyer|employee|student)(?:'s)?\b")
PHONE = re.compile(r"(?<![\w+-])(?:\+\d[\d ().-]{7,18}\d|\(?\d{2,4}\)?(?:[ .-]\d{2,4}){2,4})"
                   r"(?![\w-])")
ACCOUNT_ID = re.compile(
    r"(?i)\b(?:account|customer|user|member|client|patient|subscriber|tenant|org(?:anization)?)"
    r"[ _-]?(?:id\b|no\.|no\b|number\b|#)[\"']?\s*(?:[:=#]|\bis\b)?\s*[\"']?"
    r"(?P<value>[A-Za-z0-9][A-Za-z0-9_-]{3,})")
NAME_PHRASE = re.compile(
    r"(?i:\bthe\s+user(?:'s)?\s+name\s+is|\buser\s*name\s*:|\b(?:the\s+)?customer(?:'s)?\s+"
    r"name\s+is|\bcustomer\s+name\s*:|\byou\s+are\s+(?:talking|speaking|chatting)\s+(?:to|with)|"
    r"\blogged\s+in\s+as|\bsigned\s+in\s+as|\bthe\s+user\s+is|\bthe\s+customer\s+is)\s+"
    r"(?P<value>[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+){0,2}|[\w.+-]+@[\w.-]+)")


def user_hits(text: str) -> list[Hit]:
    hits: list[Hit] = []
    taken: list[tuple[int, int]] = []
    fix = ("move per-user details after the shared prefix (into a user message, or a second "
           "system block after the cache breakpoint)")

    def add(a: int, b: int, msg: str) -> None:
        if any(a < y and x < b for x, y in taken):
            return
        taken.append((a, b))
        hits.append(Hit("user-content", "warning", a, b, msg, fix, kind="literal"))

    for m in NAME_PHRASE.finditer(text):
        add(m.start(), m.end(), f"per-user data {m.group().strip()!r}: each user gets their "
                                "own cache entry")
    for m in ACCOUNT_ID.finditer(text):
        if re.search(r"\d", m.group("value")):
            add(m.start(), m.end(), f"per-user identifier {m.group().strip()!r}: each user gets "
                                    "their own cache entry")
    for m in EMAIL.finditer(text):
        if _ROLE_LOCAL.match(m.group("local")) or _EXAMPLE_DOMAIN.search(m.group("domain")):
            continue
        add(m.start(), m.end(), f"personal e-mail address {m.group()}: per-user data in the "
                                "shared prefix")
    for m in PHONE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if len(digits) < 9 or len(digits) > 15:
            continue
        if re.search(_USER_CONTEXT, text[max(0, m.start() - 40): m.start()]):
            add(m.start(), m.end(), f"a user's phone number {m.group()}: per-user data in the "
                                    "shared prefix")
    return hits


# ----------------------------------------------------------------------- whitespace

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
NBSP = "\u00a0\u202f\u2007"


def whitespace_hits(text: str, whole_file: bool) -> list[Hit]:
    """Invisible differences. Sub-kinds: bom, zero-width, nbsp, line-endings, trailing,
    tabs-spaces, blank-lines, final-newline. Several occurrences of one sub-kind are one hit
    (the first), carrying ``count`` and one replacement per occurrence in ``edits``."""
    out: list[Hit] = []
    fix_all = "run agentcost audit-prompt --fix (rewrites the file in canonical form)"

    def group(kind: str, sev: str, spans: list[tuple[int, int, str]], what: str) -> None:
        if not spans:
            return
        a, b, new = spans[0]
        n = len(spans)
        h = Hit("whitespace-drift", sev, a, b, f"{what}" + (f" ({n} places)" if n > 1 else ""),
                fix_all if whole_file else "normalise the text before it is sent", new,
                kind=kind, count=n)
        h.edits = spans
        out.append(h)

    start = 0
    if whole_file and text.startswith("\ufeff"):
        group("bom", "warning", [(0, 1, "")], "byte-order mark at the start of the file: "
              "a reader that keeps it sends a different prefix")
        start = 1
    zw = [(m.start(), m.end(), "") for m in re.finditer(f"[{ZERO_WIDTH}]", text)
          if m.start() >= start]
    group("zero-width", "warning", zw, "zero-width character (invisible, but part of the prefix)")
    nb = [(m.start(), m.end(), " ") for m in re.finditer(f"[{NBSP}]", text)]
    group("nbsp", "warning", nb, "non-breaking space where a plain space is expected")
    crlf = [(m.start(), m.end(), "\n") for m in re.finditer(r"\r\n?", text)]
    lf = len(re.findall(r"(?<!\r)\n", text))
    if crlf and lf:
        group("line-endings", "warning", crlf,
              f"mixed line endings ({len(crlf)} CRLF/CR, {lf} LF): one normalising code path "
              "sends a different prefix")
    trailing = [(m.start(), m.end(), "") for m in re.finditer(r"[ \t\u00a0]+(?=\r?\n|\r|\Z)",
                                                             text)]
    if not whole_file:  # a string value: trailing space at its very end is content, not drift
        trailing = [t for t in trailing if t[1] != len(text)]
    group("trailing", "warning", trailing, "trailing whitespace")
    indents = [(m.start(1), m.end(1), m.group(1)) for m in re.finditer(r"(?m)^([ \t]+)(?=\S)",
                                                                       text)]
    tab_lines = [i for i in indents if "\t" in i[2]]
    space_lines = [i for i in indents if " " in i[2]]
    if tab_lines and space_lines:
        group("tabs-spaces", "warning",
              [(a, b, ind.replace("\t", "    ")) for a, b, ind in tab_lines],
              "tabs mixed with spaces in indentation")
    blank = [(m.start(), m.end(), "\n\n") for m in re.finditer(r"\n(?:[ \t]*\n){2,}", text)]
    group("blank-lines", "info", blank, "run of blank lines (more than one in a row)")
    if whole_file and text:
        if not text.endswith(("\n", "\r")):
            group("final-newline", "info", [(len(text), len(text), "\n")],
                  "missing final newline")
        else:
            m = re.search(r"(?:\r?\n|\r)(?:[ \t]*(?:\r?\n|\r))+\Z", text)
            if m:
                group("final-newline", "info", [(m.start(), m.end(), "\n")],
                      "more than one final newline")
    return out


# ------------------------------------------------------------------------ diff mode


def change_rule(old: str, new: str) -> tuple[str | None, int]:
    """Why ``old`` became ``new`` as far as a static rule tells: (rule or None, offset of the
    first differing character in ``new``)."""
    p = 0
    n = min(len(old), len(new))
    while p < n and old[p] == new[p]:
        p += 1
    if old == new:
        return None, p
    if _canonical_ws(old) == _canonical_ws(new):
        return "whitespace-drift", p
    s = 0
    while s < n - p and old[len(old) - 1 - s] == new[len(new) - 1 - s]:
        s += 1
    a, b = p, len(new) - s
    lo, hi = max(0, a - 40), min(len(new), b + 40)
    window = new[lo:hi]

    def overlaps(mm: re.Match[str]) -> bool:
        x, y = lo + mm.start(), lo + mm.end()
        return x <= b and a <= y if a != b else x <= a <= y

    for rx, rule in ((DIFF_TIMESTAMP, "timestamp"), (UUID, "volatile-id"),
                     (HEX_TOKEN, "volatile-id"), (LABELLED_ID, "volatile-id"),
                     (B64_TOKEN, "volatile-id"), (EMAIL, "user-content"),
                     (ACCOUNT_ID, "user-content"), (NAME_PHRASE, "user-content")):
        for mm in rx.finditer(window):
            if overlaps(mm) and (rx is not B64_TOKEN or _looks_random_b64(mm.group())):
                return rule, p
    return None, p


def _canonical_ws(text: str) -> str:
    from agentcost.audit.fix import canonical

    return re.sub(r"[ \t]+", " ", canonical(text)).strip()
