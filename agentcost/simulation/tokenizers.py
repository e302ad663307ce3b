"""Token-count ratios between tokenizers, for a cascade that crosses model families.

Within one tokenizer counts carry over unchanged. Across tokenizers the ratio is built from the
hops below (provider-rules §G), each as (optimistic, expected, pessimistic) "target tokens per
source token":

* ``o200k_base`` → ``claude-pre-4.7``: 1.16 / 1.16 / 1.30 — a public measurement of Claude 3.5
  Sonnet against GPT-4o on identical inputs: +16 % English, +21 % math, +30 % Python (TOK-3P;
  not re-measured for 4.x/5.x).
* ``claude-pre-4.7`` → ``claude-4.7+``: 1.00 / 1.30 / 1.35 — Opus 4.7's tokenizer gives "roughly
  1x to 1.35x as many tokens"; Sonnet 5 ≈ +30 % vs Sonnet 4.6 and Haiku 5.5 ≈ +30 % vs Haiku 4.5
  (A-TC, A-MIG).

A path over several hops multiplies them; the reverse direction uses the reciprocals (the
optimistic side stays the one with fewer tokens). Tokenizers without data (Gemini, DeepSeek,
GPT-6's unmapped encoding) get 1.0 and the report says so.
"""

from __future__ import annotations

# Ordered chain of tokenizers with the hop from each to the next.
CHAIN = ("o200k_base", "claude-pre-4.7", "claude-4.7+")
HOPS: tuple[tuple[float, float, float], ...] = (
    (1.16, 1.16, 1.30),
    (1.00, 1.30, 1.35),
)


def ratio(src: str | None, dst: str | None) -> tuple[float, float, float] | None:
    """(optimistic, expected, pessimistic) target tokens per source token, or None when either
    tokenizer has no data (the caller carries counts over unchanged and says so)."""
    if src == dst:
        return (1.0, 1.0, 1.0)
    if src not in CHAIN or dst not in CHAIN:
        return None
    i, j = CHAIN.index(src), CHAIN.index(dst)
    lo = mid = hi = 1.0
    if i < j:
        for h in HOPS[i:j]:
            lo, mid, hi = lo * h[0], mid * h[1], hi * h[2]
    else:
        for h in HOPS[j:i]:
            lo, mid, hi = lo / h[2], mid / h[1], hi / h[0]
    return (lo, mid, hi)
