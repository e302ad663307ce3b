"""What every stage of a scenario run shares: the run's :class:`Figures`, the per-simulation
:class:`Context` (workload, settings, pricer and caches of rules and mechanics) and the
:class:`Plan` one run builds up stage by stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentcost.simulation.cache import Mechanics, mechanics_for
from agentcost.simulation.scenario import Scenario, Settings
from agentcost.simulation.workload import Workload

if TYPE_CHECKING:
    import numpy as np

    from agentcost.config import Config

VARIANTS = ("expected", "optimistic", "pessimistic")


ESCALATION_SEED = 20_260_414  # fixed: the same steps escalate in every run of the same trace


@dataclass
class Figures:
    """Result of one scenario run (totals plus per-task vectors and lever details)."""

    cost_usd: float
    cost_is_lower_bound: bool
    unpriced_calls: int
    cache_unknown_calls: int  # calls whose trace reports no cache figures (counted as 0 reads)
    partial_usage_calls: int  # calls reporting only input or only output tokens
    no_usage_calls: int  # calls without any usage (unknown cost; failed calls excluded)
    input_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cache_write_1h_tokens: int
    output_tokens: int
    llm_calls: int
    tasks: int
    task_cost: np.ndarray
    task_latency_s: np.ndarray
    tasks_cut: int = 0
    cut_cost_usd: float = 0.0
    replayed: bool = False
    details: dict[str, Any] = field(default_factory=dict)
    assumptions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def cache_hit_ratio(self) -> float | None:
        """Cache reads / input; None when no call's cache reads are known."""
        if not self.input_tokens or self.cache_unknown_calls >= self.llm_calls:
            return None
        return self.cache_read_tokens / self.input_tokens

    def latency(self, q: float) -> float | None:
        import numpy as np

        v = self.task_latency_s[~np.isnan(self.task_latency_s)]
        return float(np.quantile(v, q)) if len(v) else None


class Context:
    """Per-run caches shared by every scenario of one :func:`simulate` call."""

    def __init__(self, w: Workload, settings: Settings, config: Config | None) -> None:
        from agentcost.pricing import Pricer

        self.w = w
        self.st = settings
        self.pricer = Pricer(config)
        self._mech: dict[tuple[str | None, str | None], Mechanics] = {}
        self._rule: dict[str, Any] = {}
        self._ws: list[Any] | None = None
        self._ws_codes: np.ndarray | None = None
        # the reference replay (:func:`agentcost.simulation.engine.reference`), once computed
        self.ref: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.ref_steps: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.ref_fig: Figures | None = None
        self._esc_rank: np.ndarray | None = None

    def escalation_rank(self) -> np.ndarray:
        """A fixed pseudo-random rank of every llm step (seed ``ESCALATION_SEED``): which
        cheap steps a cascade escalates, the same for every rate and every run."""
        import numpy as np

        if self._esc_rank is None:
            rng = np.random.default_rng(ESCALATION_SEED)
            self._esc_rank = rng.permutation(self.w.n_llm)
        return self._esc_rank

    def mech(self, model: str | None, provider: str | None) -> Mechanics:
        k = (model, provider)
        m = self._mech.get(k)
        if m is None:
            m = self._mech[k] = mechanics_for(model, provider, self.st.provider_rules)
        return m

    def rule(self, model: str | None) -> Any:
        if not model:
            return None
        if model not in self._rule:
            from agentcost.rules import rule_for

            self._rule[model] = rule_for(model)
        return self._rule[model]

    def workspace_codes(self) -> np.ndarray:
        """Workspace of each task as an integer code (tasks of one code share caches)."""
        import numpy as np
        import pandas as pd

        if self._ws_codes is None:
            codes, _ = pd.factorize(pd.Series([self.workspace(t) for t in range(self.w.n_tasks)],
                                              dtype=object), use_na_sentinel=False)
            self._ws_codes = np.asarray(codes, dtype="int64")
        return self._ws_codes

    def workspace(self, task: int) -> Any:
        if self._ws is None:
            w = self.w
            mode = self.st.workspace
            if mode == "shared":
                self._ws = [0] * w.n_tasks
            elif mode == "source":
                self._ws = [str(s) for s in w.task_source]
            elif mode == "session":
                import pandas as pd

                # a task without a session (None, NaN or pd.NA) is a workspace of its own
                self._ws = [w.task_ids[t] if pd.isna(s) else str(s)
                            for t, s in enumerate(w.task_session)]
            else:
                self._ws = list(w.task_ids)
        return self._ws[task]


def escalation_rate_for(sc: Scenario, variant: str) -> float:
    r = sc.escalation_rate
    if variant == "expected" or sc.cascade is None:
        return r
    lo, hi = sc.escalation_range or (r / 2.0, min(1.0, r + max(r, 0.1)))
    return lo if variant == "optimistic" else hi


@dataclass
class Plan:
    """What one scenario run builds up, stage by stage (:func:`run`). Per llm step (1-5):
    ``keep``, ``model``, ``provider``, ``ratio``, ``esc``, ``strong_ratio``, ``out_new``,
    ``cut_src``; per tool step: ``tool_keep``, ``t_cached``, ``t_dropped``; per task: ``cut``,
    ``last_kept``; prompts edited: ``edited``; per simulated call (6-8): the ``c_*`` arrays."""

    ctx: Context
    sc: Scenario
    variant: str = "expected"
    force_replay: bool = False
    raw: bool = False
    det: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warns: list[str] = field(default_factory=list)
    N: Any = None
    NT: Any = None
    batch_task: Any = None
    c_batch: Any = None
    c_dur: Any = None
    c_esc: Any = None
    c_inp: Any = None
    c_model: Any = None
    c_out: Any = None
    c_provider: Any = None
    c_ratio: Any = None
    strategy: str = "observed"
    c_rd: Any = None
    c_step: Any = None
    c_task: Any = None
    c_unc: Any = None
    c_unknown: Any = None
    c_w1: Any = None
    c_w5: Any = None
    cut: Any = None
    cut_src: Any = None
    edited: Any = None
    esc: Any = None
    keep: Any = None
    last_kept: Any = None
    lat: Any = None
    model: Any = None
    out_new: Any = None
    passthrough: Any = None
    provider: Any = None
    ratio: Any = None
    strong_ratio: Any = None
    t_cached: Any = None
    t_dropped: Any = None
    tool_keep: Any = None
    served: Any = None  # llm steps a response cache answers (context levers)
    summaries: Any = None  # summarising calls compaction adds

    @property
    def vi(self) -> int:
        """Index of the variant into (optimistic, expected, pessimistic) ratio triples."""
        return {"optimistic": 0, "expected": 1, "pessimistic": 2}[self.variant]
