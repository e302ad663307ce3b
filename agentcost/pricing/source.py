"""Which price data prices the steps: genai-prices' bundled data, or a newer copy of the same
published data — fetched with ``agentcost prices update`` (the one network call, opt-in) into the
user cache, or given as a file (``--prices FILE`` / ``AGENTCOST_PRICES``) for air-gapped mirrors.

The data is genai-prices' own (its ``update_prices.DEFAULT_UPDATE_URL`` JSON, loaded into a
genai-prices ``DataSnapshot`` and installed with ``set_custom_snapshot``, the mechanism its
background updater uses), so every price rule — dated prices, tiers, long-context thresholds —
is applied by genai-prices exactly as for the bundled data. Every report names the data it used:
bundled, or the file with its sha256 fingerprint and, for the cache, the date it was fetched.

Order: an explicit file, then ``AGENTCOST_PRICES``, then the cache written by ``prices update``
(``$AGENTCOST_CACHE_DIR``, else ``$XDG_CACHE_HOME/agentcost``, else ``~/.cache/agentcost``),
else the bundled data.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from agentcost.errors import InputError

CACHE_FILE = "prices.json"
META_FILE = "prices.meta.json"


@dataclass(frozen=True)
class PriceSource:
    """The price data in use."""

    kind: str  # bundled | file | cache
    fingerprint: str | None
    path: str | None = None
    url: str | None = None
    fetched_at: str | None = None
    providers: int | None = None

    def describe(self) -> str:
        if self.kind == "bundled":
            return "bundled snapshot (no network updates)"
        if self.kind == "cache":
            return (f"updated {self.fetched_at} from {self.url} (agentcost prices update; "
                    f"{self.path})")
        return f"file {self.path}"


_active: PriceSource | None = None
_active_key: tuple[str, float] | None = None


def default_url() -> str:
    from genai_prices.update_prices import DEFAULT_UPDATE_URL

    return str(DEFAULT_UPDATE_URL)


def cache_dir() -> Path:
    env = os.environ.get("AGENTCOST_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "agentcost"


@lru_cache(maxsize=1)
def bundled_fingerprint() -> str | None:
    """sha256 prefix of genai-prices' bundled data module. The file is found without importing
    genai-prices (``find_spec`` of the submodule would import the package, ~0.05 s); hashing
    its 1.6 MB takes ~2 ms."""
    from importlib.util import find_spec

    spec = find_spec("genai_prices")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "data.py"
        if path.is_file():
            return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return None  # pragma: no cover


def parse(raw: bytes, where: str) -> list[Any]:
    """genai-prices providers from its published JSON; an :class:`InputError` when ``raw`` is
    not such data."""
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise InputError(f"not JSON ({exc})", where) from None
    if not isinstance(doc, list) or not doc:
        raise InputError("not genai-prices price data (expected a list of providers)", where)
    # genai-prices publishes this format and loads it in its own updater (UpdatePrices.fetch),
    # through this function; it has no other loader for a file
    from genai_prices.types import _providers_from_raw

    try:
        providers: list[Any] = _providers_from_raw(doc)
    except (ValueError, TypeError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"not genai-prices price data ({first})", where) from None
    return providers


def _install(providers: list[Any] | None) -> None:
    from genai_prices import data_snapshot

    snap = None if providers is None else data_snapshot.DataSnapshot(providers,
                                                                      from_auto_update=True)
    data_snapshot.set_custom_snapshot(snap)


def activate(path: str | Path | None = None) -> PriceSource:
    """Make the price data of ``path`` (else ``AGENTCOST_PRICES``, else the user cache, else
    the bundled data) the data every price is read from, and return its description."""
    global _active, _active_key
    chosen = path or os.environ.get("AGENTCOST_PRICES")
    kind = "file"
    if not chosen and (cache_dir() / CACHE_FILE).is_file():
        chosen, kind = cache_dir() / CACHE_FILE, "cache"
    if not chosen:
        if _active is None or _active.kind != "bundled":
            if _active is not None:
                _install(None)
            _active, _active_key = PriceSource("bundled", bundled_fingerprint()), None
        return _active
    p = Path(chosen).expanduser()
    if not p.is_file():
        raise InputError("price data file not found", str(p))
    if p.resolve() == (cache_dir() / CACHE_FILE).resolve():
        kind = "cache"
    key = (str(p.resolve()), p.stat().st_mtime)
    if _active is not None and _active_key == key:
        return _active
    raw = p.read_bytes()
    providers = parse(raw, str(p))
    meta = _meta(p) if kind == "cache" else {}
    _install(providers)
    _active = PriceSource(kind, hashlib.sha256(raw).hexdigest()[:16], str(p),
                          meta.get("url"), meta.get("fetched_at"), len(providers))
    _active_key = key
    return _active


def active() -> PriceSource:
    """The price data in use (the bundled data until :func:`activate` chose another)."""
    return _active if _active is not None else PriceSource("bundled", bundled_fingerprint())


def _meta(p: Path) -> dict[str, Any]:
    m = p.with_name(META_FILE)
    try:
        doc = json.loads(m.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def update(url: str | None = None, timeout: float = 30.0) -> PriceSource:
    """Fetch genai-prices' current published data into the user cache (atomically; the old
    copy stays when anything fails) and make it the active data."""
    import tempfile
    import urllib.error
    import urllib.request

    url = url or default_url()
    req = urllib.request.Request(url, headers={"User-Agent": "agentcost"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (user's URL)
            raw = resp.read()
    except urllib.error.HTTPError as exc:
        raise InputError(f"cannot fetch the price data: HTTP {exc.code} {exc.reason}",
                         url) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise InputError(f"cannot fetch the price data: {exc}", url) from None
    providers = parse(raw, url)
    d = cache_dir()
    d.mkdir(parents=True, exist_ok=True)
    meta = {"url": url, "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "sha256": hashlib.sha256(raw).hexdigest()}
    for name, data in ((CACHE_FILE, raw), (META_FILE, json.dumps(meta, indent=2).encode())):
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=d)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, d / name)
    return PriceSource("cache", meta["sha256"][:16], str(d / CACHE_FILE), url,
                       meta["fetched_at"], len(providers))
