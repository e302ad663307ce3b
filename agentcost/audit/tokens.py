"""Token counts for ``short-prefix``, offline (provider-rules.md §G).

* **OpenAI models** are counted with tiktoken, exactly and without any download: the
  ``o200k_base`` (GPT-4o, GPT-4.1, o-series, GPT-5.x) and ``cl100k_base`` (GPT-4, GPT-3.5)
  ranks ship with agentcost and are checked against OpenAI's published hashes on load
  (:mod:`agentcost.encodings`). Models whose tokenizer is not published (GPT-6, provider-rules
  §U9) are counted with ``o200k_base`` and the count is labelled an approximation.
* **Claude models**: Anthropic publishes no local tokenizer (§G). The count is an *estimate*:
  the o200k_base count (GPT-4o's tokenizer, the one the measurement compared with) times a
  ratio range. A public measurement (Claude 3.5 Sonnet vs GPT-4o, May 2025) found +16 % tokens
  on English prose and +30 % on code; models with the tokenizer introduced by Opus 4.7
  (``claude-4.7+`` in the rules data) produce 1.0x–1.35x as many tokens as before. So the
  estimate is ``o200k × [1.16, 1.30]`` (pre-4.7) or ``o200k × [1.16, 1.30 × 1.35]`` (4.7+),
  reported as a range with its midpoint. ``short-prefix`` says "below the
  minimum" only when the whole range is, and "may be below" when the range straddles it.
* ``--exact`` asks Anthropic's free ``/v1/messages/count_tokens`` endpoint (only when asked and
  ``ANTHROPIC_API_KEY`` is set).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Claude estimate ratios vs o200k_base (see module docstring; provider-rules §G, TOK-3P, A-TC).
CLAUDE_LOW = 1.16
CLAUDE_HIGH = 1.30
CLAUDE_NEW_TOKENIZER_HIGH = 1.35

ANTHROPIC_COUNT_URL = "https://api.anthropic.com/v1/messages/count_tokens"
ANTHROPIC_VERSION = "2023-06-01"


@dataclass(frozen=True)
class TokenCount:
    """``tokens`` is the count (or the midpoint of an estimate); ``low``/``high`` bound it."""

    tokens: int
    low: int
    high: int
    method: str  # "tiktoken o200k_base", "o200k_base (approximation)", "estimate", "anthropic"
    exact: bool
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"tokens": self.tokens, "low": self.low, "high": self.high, "method": self.method,
                "exact": self.exact, "note": self.note}


def _encoded(text: str, name: str) -> int:
    from agentcost.encodings import count as encoded

    return encoded(text, name)


def _provider_and_tokenizer(model: str, provider: str | None) -> tuple[str | None, str | None]:
    from agentcost.rules import rule_for

    rule = rule_for(model, provider)
    if rule is not None:
        return rule.provider, rule.tokenizer
    m = model.lower()
    if "claude" in m or (provider or "").lower() in ("anthropic", "claude"):
        return "anthropic", None
    if m.startswith(("gpt-", "o1", "o3", "o4", "chatgpt", "text-embedding")) or (
            provider or "").lower() == "openai":
        return "openai", None
    return None, None


def _openai_encoding(model: str, tokenizer: str | None) -> str | None:
    """tiktoken encoding name the model uses, or None if unknown."""
    if tokenizer in ("o200k_base", "cl100k_base"):
        return tokenizer
    try:
        import tiktoken

        return str(tiktoken.encoding_name_for_model(model))
    except (KeyError, ValueError, ImportError):
        return None


def count(text: str, model: str | None, provider: str | None = None) -> TokenCount:
    """Count ``text`` for ``model`` offline (see the module docstring)."""
    n = _encoded(text, "o200k_base")
    if not model:
        return TokenCount(n, n, n, "o200k_base (approximation)", False,
                          "no target model: counted with o200k_base")
    prov, tokenizer = _provider_and_tokenizer(model, provider)
    if prov == "anthropic":
        high_ratio = CLAUDE_HIGH * (CLAUDE_NEW_TOKENIZER_HIGH if tokenizer == "claude-4.7+" else 1)
        low, high = int(n * CLAUDE_LOW), int(round(n * high_ratio))
        return TokenCount((low + high) // 2, low, high, "estimate", False,
                          f"Claude token counts are an estimate (o200k x {CLAUDE_LOW:g}-"
                          f"{high_ratio:.2f}); --exact asks Anthropic's count_tokens endpoint")
    if prov == "openai" or prov is None:
        enc = _openai_encoding(model, tokenizer)
        if enc == "cl100k_base":
            c = _encoded(text, "cl100k_base")
            return TokenCount(c, c, c, "tiktoken cl100k_base", True)
        if enc == "o200k_base":
            return TokenCount(n, n, n, "tiktoken o200k_base", True)
        return TokenCount(n, n, n, "o200k_base (approximation)", False,
                          f"no published tokenizer for {model}; counted with o200k_base")
    return TokenCount(n, n, n, "o200k_base (approximation)", False,
                      f"no local tokenizer for {prov} models; counted with o200k_base")


def count_anthropic_exact(body: dict[str, Any], api_key: str, timeout: float = 20.0) -> int:
    """Input tokens of ``body`` (Messages shape: model, system, tools, messages) from Anthropic's
    ``/v1/messages/count_tokens``. Raises :class:`~agentcost.errors.InputError` on failure."""
    import json
    import urllib.error
    import urllib.request

    from agentcost.errors import InputError

    req = urllib.request.Request(
        ANTHROPIC_COUNT_URL, data=json.dumps(body).encode("utf-8"), method="POST",
        headers={"x-api-key": api_key, "anthropic-version": ANTHROPIC_VERSION,
                 "content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - fixed https URL
            data = json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        raise InputError(f"--exact: Anthropic count_tokens answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise InputError(f"--exact: cannot reach Anthropic count_tokens ({exc})") from None
    n = data.get("input_tokens") if isinstance(data, dict) else None
    if not isinstance(n, int):
        raise InputError("--exact: unexpected answer from Anthropic count_tokens")
    return n
