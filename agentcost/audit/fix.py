"""``--fix``: the canonical form of a prompt file, written atomically.

Canonical form (``whitespace-drift``): no byte-order mark; LF line endings; no zero-width
characters; plain spaces instead of non-breaking ones; spaces (4 per tab) in indentation;
no trailing whitespace; at most one blank line in a row; exactly one final newline (an empty
file stays empty). Only the whitespace changes — words, dates and placeholders are left alone.

The file is replaced atomically: the new text is written to a temporary file in the same folder
(same permissions), flushed to disk and renamed over the original, so an error at any point
leaves the original content in place.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path

from agentcost.errors import InputError


def canonical(text: str) -> str:
    t = text.lstrip("\ufeff") if text.startswith("\ufeff") else text
    t = t.replace("\r\n", "\n").replace("\r", "\n")
    t = re.sub("[\u200b\u200c\u200d\u2060\ufeff]", "", t)
    t = re.sub("[\u00a0\u202f\u2007]", " ", t)
    t = re.sub(r"(?m)^[ \t]+", lambda m: m.group().replace("\t", "    "), t)
    t = re.sub(r"[ \t]+(?=\n|\Z)", "", t)
    t = re.sub(r"\n{3,}", "\n\n", t)
    t = t.rstrip("\n")
    return t + "\n" if t else ""


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path``'s content with ``text`` atomically (see the module docstring)."""
    target = path
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError as exc:
        raise InputError(f"cannot fix: {exc.strerror}", str(path)) from None
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                   dir=str(target.parent))
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise InputError(f"cannot fix: {exc.strerror or exc}", str(path)) from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
