"""Process-level speed helpers shared by ingest, pricing and analysis (a leaf module)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk step.

    Reading and summarising a large trace allocates millions of objects that live until the
    step ends and form no reference cycles; the collector's full passes over them (triggered
    only by the allocation count) cost ~10 % of a run and free nothing. Reference counting
    still frees everything as usual; the collector resumes (and catches up) afterwards.
    Nested uses are fine: only the outermost one re-enables it.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
