"""agentcost — profile and optimise the cost and latency of LLM agent traces.

Library entry points (imported lazily so ``agentcost --help`` stays fast)::

    import agentcost
    table = agentcost.load(["traces/"])          # read + price -> StepTable
    report = agentcost.analyze(table)            # metrics, findings -> AnalyzeReport
    sim = agentcost.simulate(table, scenarios)   # what-if replay -> SimulationReport
    result = agentcost.check(table, budgets, baseline, options)  # CI gate -> CheckReport
    findings = agentcost.audit_prompt(text, model="claude-sonnet-4-6")  # prompt audit (offline)

The simulator lives in ``agentcost.simulation`` and the gate in ``agentcost.gate`` (not
``agentcost.simulate`` / ``agentcost.check``: a submodule named like the public
function would shadow it once imported).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "load", "analyze", "simulate", "check", "audit_prompt"]


def simulate(*args: Any, **kwargs: Any) -> Any:
    """``agentcost.simulate(table, scenarios, settings=None, *, config=None)`` ->
    :class:`agentcost.simulation.SimulationReport` (imported on first use)."""
    from agentcost.simulation import simulate as _simulate

    return _simulate(*args, **kwargs)


def __getattr__(name: str) -> Any:
    if name == "load":
        from agentcost.table import load

        return load
    if name == "analyze":
        from agentcost.analysis import analyze

        return analyze
    if name == "check":
        from agentcost.gate import check

        return check
    if name == "audit_prompt":
        from agentcost.audit import audit_prompt

        return audit_prompt
    if name == "StepTable":
        from agentcost.table import StepTable

        return StepTable
    raise AttributeError(name)
