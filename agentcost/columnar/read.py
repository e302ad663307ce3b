"""Step-table datasets as input to every command (the in-memory path).

The dataset's rows become the step table as if its traces had just been read; the table is then
priced like any other (with the price data in force now), so a dataset and the traces it came
from give the same report under the same price data. The ingest report lists the dataset's
files and counts the steps two overlapping exports both held.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from agentcost.errors import InputError

if TYPE_CHECKING:
    from agentcost.ingest import Loaded

PARQUET_EXTRA = "reading a Parquet step table needs pyarrow: pip install 'agentcost-profiler[parquet]'"


def need_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise InputError(PARQUET_EXTRA) from None


def read_datasets(datasets: Sequence[str], traces: Sequence[str], *,
                  input_format: str | None = None, since: str | None = None,
                  until: str | None = None, strict: bool = False,
                  progress: Callable[[int, int], None] | None = None,
                  segments: bool = True, conversations: bool = False) -> Loaded:
    """The steps of ``datasets`` plus those read from ``traces`` (if any), one table
    (``conversations``: for the traces, as :func:`agentcost.ingest.read_sources`)."""
    import pandas as pd

    from agentcost.columnar.dataset import export_ingest, load_frame
    from agentcost.ingest import Loaded, read_sources, time_bound
    from agentcost.ingest.base import IngestReport
    from agentcost.steps import finalize

    need_pyarrow()
    since_ns = time_bound(since, "--since") if since else None
    until_ns = time_bound(until, "--until") if until else None
    frame, info = load_frame(datasets, since_ns, until_ns)
    report = IngestReport(files=info["files"], outside_window=info["outside_window"])
    if info["duplicates"]:
        report.duplicates["same step in two exports of the dataset"] += info["duplicates"]
    fingerprints = sorted({fp for m in info["manifests"] for fp in
                           (r.get("price_data_fingerprint") for r in m.get("runs", [])) if fp})
    if fingerprints:
        report.notes.append(f"step-table dataset priced at export with price data "
                            f"{', '.join(fingerprints)}; re-priced with the data in force now")
    notes, warnings = export_ingest(info["manifests"])
    report.notes += notes
    report.warnings += warnings
    if traces:
        more = read_sources(traces, input_format=input_format, since=since, until=until,
                            strict=strict, progress=progress, segments=segments,
                            conversations=conversations)
        frame = finalize(pd.concat([frame, more.frame], ignore_index=True))
        _merge(report, more.report)
    report.steps_kept = len(frame)
    return Loaded(frame=frame, report=report)


def _merge(into: object, other: object) -> None:
    from agentcost.ingest.base import IngestReport

    assert isinstance(into, IngestReport) and isinstance(other, IngestReport)
    into.files += other.files
    into.lines_read += other.lines_read
    into.duplicates.update(other.duplicates)
    into.malformed_count += other.malformed_count
    into.malformed += other.malformed
    into.outside_window += other.outside_window
    into.notes += [n for n in other.notes if n not in into.notes]
