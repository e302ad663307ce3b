"""Near-duplicate requests for the response cache (``--similarity near``). Lexical, not
semantic: two questions that mean the same in other words are not near-duplicates here.

* Text: the final message of each request body, read back from the trace file (the step table
  keeps no text): agentcost JSONL ``request``, raw logs' ``request`` / ``request_body``.
* Normalised: Unicode NFKC, lower case, every run of characters that are not letters or digits
  becomes one space.
* Compared: MinHash signatures (`datasketch <https://github.com/ekzhu/datasketch>`_, 128
  permutations, a fixed seed) of the word 3-shingles (the words themselves for a text of fewer
  than three words) estimate the Jaccard similarity of two texts. Two requests are
  near-identical when everything before the final message is identical (same prefix) and the
  estimate is at least the threshold (default 0.9). A request whose text cannot be read
  back (segments only, Claude Code logs) is matched exactly.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any

from agentcost.errors import AgentcostError, ConfigError

if TYPE_CHECKING:
    from agentcost.simulation.workload import Workload

NUM_PERM = 128
SEED = 17
_NON_WORD = re.compile(r"[^\w]+|_+")


def normalise(text: str) -> list[str]:
    """The words of ``text`` after normalisation (module docstring)."""
    t = unicodedata.normalize("NFKC", text).lower()
    return [w for w in _NON_WORD.sub(" ", t).split(" ") if w]


def shingles(words: list[str]) -> set[str]:
    if len(words) < 3:
        return set(words)
    return {" ".join(words[i : i + 3]) for i in range(len(words) - 2)}


def _text(part: Any) -> str:
    if isinstance(part, str):
        return part
    if isinstance(part, dict):
        for k in ("text", "content", "input_text"):
            if k in part:
                return _text(part[k])
        return ""
    if isinstance(part, list):
        return "\n".join(_text(p) for p in part)
    return ""


def final_text(obj: Any) -> str | None:
    """The final message's text of the request body a trace line carries, if any."""
    import orjson

    if not isinstance(obj, dict):
        return None
    body = obj.get("request")
    if body is None:
        body = obj.get("request_body")
    if isinstance(body, (str, bytes)):
        try:
            body = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
    if not isinstance(body, dict):
        return None
    msgs = body.get("messages")
    if msgs is None:
        msgs = body.get("input")
    if isinstance(msgs, str):
        return msgs
    if isinstance(msgs, list) and msgs:
        return _text(msgs[-1])
    return None


def _texts(w: Workload) -> dict[int, str]:
    """llm step -> final message text, read back from the trace files by line."""
    import orjson

    from agentcost.ingest.base import Source

    wanted: dict[str, dict[int, list[int]]] = {}
    src, line = w.l_source, w.l_line
    if src is None or line is None:
        return {}
    for i in range(w.n_llm):
        if w.l_has_segments[i] and isinstance(src[i], str) and line[i] is not None:
            wanted.setdefault(src[i], {}).setdefault(int(line[i]), []).append(i)
    out: dict[int, str] = {}
    for name, lines in wanted.items():
        try:
            from pathlib import Path

            for n, raw in Source(name=name, path=Path(name)).lines():
                if n in lines:
                    try:
                        text = final_text(orjson.loads(raw))
                    except orjson.JSONDecodeError:
                        continue
                    if text is not None:
                        out.update(dict.fromkeys(lines[n], text))
        except (OSError, ValueError, AgentcostError):  # gone, stdin, unreadable: exact
            continue
    return out


def near_groups(w: Workload, threshold: float) -> tuple[list[int | None], dict[str, Any]]:
    """Per llm step a near-duplicate group id (None: matched exactly), and what was done."""
    try:
        from datasketch import MinHash
    except ImportError:
        raise ConfigError(
            "--similarity near needs the datasketch package: pip install 'agentcost-profiler[near]'"
        ) from None
    texts = _texts(w)
    groups: list[int | None] = [None] * w.n_llm
    reps: dict[int, list[tuple[Any, int]]] = {}  # prefix id -> (signature, group id)
    for i in sorted(texts, key=lambda k: int(w.l_start[k])):
        n = w.nblocks[i]
        prefix = w.chains[i].pid[n - 2] if n >= 2 else 0
        m = MinHash(num_perm=NUM_PERM, seed=SEED)
        for sh in shingles(normalise(texts[i])):
            m.update(sh.encode())
        found = None
        for sig, gid in reps.get(prefix, []):
            if sig.jaccard(m) >= threshold:
                found = gid
                break
        if found is None:
            found = hash((prefix, "near", i))
            reps.setdefault(prefix, []).append((m, found))
        groups[i] = found
    return groups, {
        "threshold": threshold,
        "calls_compared": len(texts),
        "calls_matched_exactly": int(w.l_has_segments.sum()) - len(texts),
        "num_perm": NUM_PERM,
    }
