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

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the real signatures for type checkers; resolved lazily at run time
    from agentcost.analysis import AnalyzeReport as AnalyzeReport
    from agentcost.analysis import analyze as analyze
    from agentcost.audit import audit_prompt as audit_prompt
    from agentcost.gate import CheckReport as CheckReport
    from agentcost.gate import check as check
    from agentcost.simulation import SimulationReport as SimulationReport
    from agentcost.simulation import simulate as simulate
    from agentcost.table import StepTable as StepTable
    from agentcost.table import load as load

__version__ = "0.1.0"

__all__ = ["AnalyzeReport", "CheckReport", "SimulationReport", "StepTable", "__version__",
           "analyze", "audit_prompt", "check", "load", "simulate"]

_LAZY = {
    "load": ("agentcost.table", "load"),
    "StepTable": ("agentcost.table", "StepTable"),
    "analyze": ("agentcost.analysis", "analyze"),
    "AnalyzeReport": ("agentcost.analysis", "AnalyzeReport"),
    "simulate": ("agentcost.simulation", "simulate"),
    "SimulationReport": ("agentcost.simulation", "SimulationReport"),
    "check": ("agentcost.gate", "check"),
    "CheckReport": ("agentcost.gate", "CheckReport"),
    "audit_prompt": ("agentcost.audit", "audit_prompt"),
}


def __getattr__(name: str) -> Any:
    """Import the public names on first use, so ``agentcost --help`` stays fast."""
    if name not in _LAZY:
        raise AttributeError(f"module 'agentcost' has no attribute {name!r}")
    from importlib import import_module

    module, attr = _LAZY[name]
    return getattr(import_module(module), attr)


def __dir__() -> list[str]:
    return sorted(__all__)
