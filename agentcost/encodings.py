"""OpenAI's ``o200k_base`` and ``cl100k_base`` tiktoken encodings, offline and verified.

The ranks ship as package data (``agentcost/data/encodings/*.json.gz``): the ``bpe_ranks``
of the npm package ``tiktoken`` 1.0.22 (MIT, ``encoders/<name>.json``: one line
``"! <first rank> <token> <token> …"``, tokens base64 in rank order). On load they are turned
back into the ``.tiktoken`` file OpenAI publishes (``<token> <rank>`` per line) and its SHA-256
is checked against the published hash — the one tiktoken's own ``tiktoken_ext.openai_public``
states — so a count is exact or the encoding is refused, never silently different.

The regular expression and special tokens are tiktoken's own: its ``openai_public`` constructor
for the encoding is run with the verified ranks handed in, so nothing is downloaded and nothing
is written to tiktoken's cache folder.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import threading
from functools import lru_cache
from importlib import resources
from typing import Any

import orjson

#: the published SHA-256 of each ``.tiktoken`` file (tiktoken_ext/openai_public.py)
PUBLISHED_SHA256 = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}
NAMES = tuple(PUBLISHED_SHA256)
_BUILD = threading.Lock()


class EncodingDataError(RuntimeError):
    """The packaged ranks do not reproduce the published file (a damaged install)."""


def mergeable_ranks(name: str) -> dict[bytes, int]:
    """``{token bytes: rank}`` of ``name``, checked against the published hash."""
    if name not in PUBLISHED_SHA256:
        raise KeyError(f"no packaged encoding {name!r} (have: {', '.join(NAMES)})")
    raw = resources.files("agentcost").joinpath(f"data/encodings/{name}.json.gz").read_bytes()
    spec = orjson.loads(gzip.decompress(raw))
    lines: list[str] = []
    ranks: dict[bytes, int] = {}
    for row in str(spec["bpe_ranks"]).split("\n"):
        if not row:
            continue
        parts = row.split(" ")
        first = int(parts[1])
        for i, tok in enumerate(parts[2:]):
            lines.append(f"{tok} {first + i}\n")
            ranks[base64.b64decode(tok)] = first + i
    digest = hashlib.sha256("".join(lines).encode()).hexdigest()
    if digest != PUBLISHED_SHA256[name]:
        raise EncodingDataError(f"packaged {name} ranks do not match the published file "
                                f"(sha256 {digest[:12]}…); reinstall agentcost")
    return ranks


@lru_cache(maxsize=len(NAMES))
def encoding(name: str) -> Any:
    """The ``tiktoken.Encoding`` for ``name`` (``o200k_base`` or ``cl100k_base``)."""
    import tiktoken
    import tiktoken_ext.openai_public as public

    ranks = mergeable_ranks(name)
    with _BUILD:  # tiktoken's constructor loads ranks through this module-level function
        fetch = public.load_tiktoken_bpe
        public.load_tiktoken_bpe = lambda *_a, **_k: ranks
        try:
            spec = getattr(public, name)()
        finally:
            public.load_tiktoken_bpe = fetch
    return tiktoken.Encoding(spec["name"], pat_str=spec["pat_str"],
                             mergeable_ranks=spec["mergeable_ranks"],
                             special_tokens=spec["special_tokens"])


def count(text: str, name: str) -> int:
    """Tokens of ``text`` in encoding ``name`` (special-token text counted as plain text)."""
    return len(encoding(name).encode(text, disallowed_special=()))
