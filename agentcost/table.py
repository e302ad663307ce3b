"""``agentcost.load(paths) -> StepTable``: read, price, and hand back one table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentcost.config import Config
from agentcost.ingest import Loaded
from agentcost.ingest.base import IngestReport
from agentcost.perf import no_gc
from agentcost.pricing import PricingInfo

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class StepTable:
    """The priced step table (``frame``, columns of :data:`agentcost.steps.COLUMNS`), the ingest
    report, and the pricing record."""

    frame: pd.DataFrame
    ingest: IngestReport
    pricing: PricingInfo

    def __len__(self) -> int:
        return len(self.frame)


def load(
    paths: Sequence[str],
    *,
    config: Config | None = None,
    input_format: str | None = None,
    since: str | None = None,
    until: str | None = None,
    strict: bool = False,
    progress: Callable[[int, int], None] | None = None,
    segments: bool = True,
    prices: str | Path | None = None,
    conversations: bool = False,
) -> StepTable:
    """Read ``paths`` and price every step. ``prices``: a genai-prices data file to price with
    (else ``AGENTCOST_PRICES``, else the data ``agentcost prices update`` fetched, else the
    bundled data). ``conversations=True`` rebuilds prompt segments from logged conversations
    that carry no request bodies (Claude Code; slower: see docs/anatomy.md)."""
    from agentcost.pricing import price_frame, use_prices

    use_prices(prices)
    with no_gc():
        loaded = _read(paths, input_format=input_format, since=since, until=until,
                       strict=strict, progress=progress, segments=segments,
                       conversations=conversations)
        pricing = price_frame(loaded.frame, config)
    return StepTable(frame=loaded.frame, ingest=loaded.report, pricing=pricing)


def _read(paths: Sequence[str], **kw: Any) -> Loaded:
    """Trace files through their readers; step-table datasets (``agentcost export``, see
    :mod:`agentcost.columnar.dataset`) straight into the table. Both can be mixed."""
    from agentcost.ingest import read_sources

    datasets: list[str] = []
    if any(p != "-" for p in paths):
        from agentcost.columnar.dataset import split_inputs

        datasets, traces = split_inputs(paths)
    if not datasets:
        return read_sources(paths, **kw)
    from agentcost.columnar.read import read_datasets

    return read_datasets(datasets, traces, **kw)
