"""Which engine runs ``analyze``: the in-memory path (pandas, :mod:`agentcost.analysis`) or
DuckDB over the step table (:mod:`agentcost.columnar.duck`), with the same report.

``auto`` (the default) picks DuckDB when every input is a step-table dataset (``agentcost
export``) and DuckDB is installed, and nothing asked for what only the in-memory path gives:
the step table itself (``--task``, ``--steps``, JSONL), cache-miss explanations (they read
prompt segments), or re-pricing (``--prices``, ``--default-model``: DuckDB keeps the costs
stored at export). Trace files always go through the readers into memory first, so for them
``auto`` is the in-memory path: DuckDB would only add a copy (docs/scale.md has the figures).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentcost.errors import InputError

if TYPE_CHECKING:
    from agentcost.analysis import AnalyzeOptions, AnalyzeReport
    from agentcost.config import Config
    from agentcost.table import StepTable

ENGINES = ("auto", "pandas", "duckdb")


@dataclass
class EngineRequest:
    engine: str = "auto"
    needs_steps: bool = False  # --task, --steps, --explain-misses, --anatomy, JSONL
    reprices: bool = False  # --prices or --default-model given
    since: str | None = None
    until: str | None = None
    summary: bool = False  # the console table: the costliest tasks and first findings only


def choose(req: EngineRequest, paths: Sequence[str]) -> str:
    """``pandas`` or ``duckdb`` for ``paths`` (see the module docstring)."""
    if req.engine not in ENGINES:
        raise InputError(f"--engine must be one of {', '.join(ENGINES)}")
    if req.engine == "pandas":
        return "pandas"
    if req.engine == "duckdb":
        if req.needs_steps:
            raise InputError("--engine duckdb computes summaries: --task, --steps, "
                             "--explain-misses, --anatomy and JSONL output need --engine "
                             "pandas")
        return "duckdb"
    from agentcost.columnar.dataset import split_inputs

    datasets, traces = split_inputs(paths) if "-" not in paths else ([], list(paths))
    if traces or req.needs_steps or req.reprices or not _has_duckdb():
        return "pandas"
    return "duckdb"


def _has_duckdb() -> bool:
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return False
    return True


def analyze_inputs(paths: Sequence[str], req: EngineRequest, options: AnalyzeOptions,
                   config: Config, load: Callable[[], StepTable]
                   ) -> tuple[AnalyzeReport, StepTable | None]:
    """The analyze report of ``paths`` by the chosen engine, and the table when one was
    loaded into memory (``load`` reads it: the caller's options, progress bar and all)."""
    from agentcost.analysis import LABEL_PREFIX, analyze

    engine = choose(req, paths)
    if engine == "duckdb" and options.group_by.startswith(LABEL_PREFIX):
        # labels are a JSON text column in the dataset: the in-memory path groups by them
        if req.engine == "duckdb":
            raise InputError("--group-by label:KEY needs --engine pandas (or auto)")
        engine = "pandas"
    if engine == "pandas":
        table = load()
        return analyze(table, options, config), table
    from agentcost.columnar.dataset import split_inputs
    from agentcost.columnar.duck import analyze_dataset, analyze_table

    datasets, traces = split_inputs(paths) if "-" not in paths else ([], list(paths))
    if traces:  # trace files (or a mix): read into memory, then DuckDB over the table
        table = load()
        return analyze_table(table, options, config, req.summary), table
    if req.reprices:
        raise InputError("--engine duckdb keeps the costs stored at export: --prices and "
                         "--default-model re-price, which needs --engine pandas")
    report = analyze_dataset(datasets, options, config, req.since, req.until,
                             summary=req.summary)
    _price_drift(report)
    return report, None


def _price_drift(report: Any) -> None:
    """Say so when the dataset was priced with other price data than the current."""
    from agentcost.pricing import data_fingerprint

    now = data_fingerprint()
    stored = report.pricing.get("data_fingerprint")
    if stored and now and stored != now:
        report.warnings.append(f"costs are those stored at export (price data {stored}); the "
                               f"current price data is {now}: --engine pandas re-prices")
