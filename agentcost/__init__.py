"""agentcost — profile and optimise the cost and latency of LLM agent traces.

Library entry points (imported lazily so ``agentcost --help`` stays fast)::

    import agentcost
    table = agentcost.load(["traces/"])          # read + price -> StepTable
    report = agentcost.analyze(table)            # metrics, findings -> AnalyzeReport
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "load", "analyze"]


def __getattr__(name: str) -> Any:
    if name == "load":
        from agentcost.table import load

        return load
    if name == "analyze":
        from agentcost.analysis import analyze

        return analyze
    if name == "StepTable":
        from agentcost.table import StepTable

        return StepTable
    raise AttributeError(name)
