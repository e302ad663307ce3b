"""Cascade models resolved against the trace, and the split of a cascade's Δ.

A family alias (``haiku``, ``sonnet``, ``cheap``/``strong`` …) names a family, not a model. Taken
literally it is the newest member, so ``--cascade haiku,sonnet`` on a trace of
claude-sonnet-4-5 would move every step to Sonnet 5.5 — a model upgrade, a tokenizer change and
prices of a model that did not exist on the trace's dates, reported as if it were routing. Here:

* the strong alias is the trace's own model of that family where there is one (the one with the
  most llm calls);
* the cheap alias is the member of its family of the same generation as the strong model (same
  version numbers: sonnet-4-5 → haiku-4-5); failing that, the newest member released on or
  before the trace's last call (a note says so). A model whose release date the rules data
  lacks counts as released no earlier than the latest dated older version of its family;
* a model whose release date is after some of the trace's calls is priced at its current
  prices for those calls, with a warning;
* when the strong model is not the trace's own, the Δ is split into "model change" (every step
  on the strong model) and "routing" (the cascade against that), so a user sees both.

Concrete model ids (and versioned aliases such as ``sonnet-4.5``) are the user's choice and are
used as given.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from agentcost.simulation.scenario import Scenario

if TYPE_CHECKING:
    from agentcost.simulation.workload import Workload

_DATE_LIKE = re.compile(r"^\d{8}$")


@dataclass
class CascadeResolution:
    """How a scenario's cascade models were chosen for this trace."""

    scenario: Scenario
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    model_change: bool = False  # the strong model is not (all of) the trace's own models


def version_of(model: str) -> tuple[int, ...]:
    """Version numbers in a model id (``claude-haiku-4-5-20251001`` → (4, 5))."""
    parts = re.split(r"[^0-9]+", model)
    return tuple(int(p) for p in parts if p and not _DATE_LIKE.match(p) and len(p) <= 3)


def _family_members(family: str) -> list[Any]:
    from agentcost.rules import all_rules

    return [r for r in all_rules() if r.family == family]


def _is_family_alias(given: str) -> bool:
    from agentcost.rules import TIERS, aliases

    key = given.strip().lower()
    return key in aliases() or key in TIERS


def _trace_dates(w: Workload) -> tuple[date | None, date | None]:
    import numpy as np

    starts = w.l_start[w.l_start > 0] if len(w.l_start) else w.l_start
    if not len(starts):
        return None, None
    lo, hi = int(np.min(starts)), int(np.max(starts))
    return (datetime.fromtimestamp(lo / 1e9, UTC).date(),
            datetime.fromtimestamp(hi / 1e9, UTC).date())


def _trace_model_of_family(w: Workload, family: str) -> str | None:
    from agentcost.rules import rule_for

    counts = Counter(m for m in w.l_model.tolist() if m)
    for m, _ in counts.most_common():
        r = rule_for(str(m))
        if r is not None and r.family == family:
            return str(m)
    return None


def _released_no_earlier(r: Any, members: list[Any]) -> date | None:
    """The rule's release date, or where the data has none, the latest release of an older
    version of its family (a newer version cannot predate an older one)."""
    if r.released is not None:
        return r.released  # type: ignore[no-any-return]
    v = version_of(r.model)
    older = [m.released for m in members if m.released is not None and version_of(m.model) < v]
    return max(older, default=None)


def _newest_by(family: str, last: date | None) -> Any | None:
    members = _family_members(family)
    avail = [r for r in members if last is None or (_released_no_earlier(r, members) or last)
             <= last]
    return max(avail, key=lambda r: version_of(r.model), default=None)


def _same_generation(family: str, strong: str) -> Any | None:
    want = version_of(strong)
    if not want:
        return None
    return next((r for r in _family_members(family) if version_of(r.model) == want), None)


def _resolve_strong(w: Workload, given: str, default: str, last: date | None
                    ) -> tuple[str, str | None]:
    from agentcost.rules import rule_for

    fam_rule = rule_for(default)
    if fam_rule is None:
        return default, None
    own = _trace_model_of_family(w, fam_rule.family)
    if own is not None:
        return own, (f"strong alias {given!r} → {own}, the trace's own {fam_rule.family} model")
    newest = _newest_by(fam_rule.family, last)
    if newest is not None and newest.model != default:
        return newest.model, (f"strong alias {given!r} → {newest.model}: the trace has no "
                              f"{fam_rule.family} model; the newest released on or before "
                              f"its last call ({last})")
    return default, None


def _resolve_cheap(given: str, default: str, strong: str, last: date | None
                   ) -> tuple[str, str | None]:
    from agentcost.rules import rule_for

    fam_rule = rule_for(default)
    if fam_rule is None:
        return default, None
    same = _same_generation(fam_rule.family, strong)
    if same is not None:
        return same.model, (f"cheap alias {given!r} → {same.model}, the {fam_rule.family} of "
                            f"the same generation as {strong}")
    newest = _newest_by(fam_rule.family, last)
    if newest is None:
        return default, None
    return newest.model, (f"cheap alias {given!r} → {newest.model}: no {fam_rule.family} of "
                          f"{strong}'s generation; the newest released on or before the "
                          f"trace's last call ({last})")


def _release_warnings(models: tuple[str, str], first: date | None) -> list[str]:
    from agentcost.rules import rule_for

    out = []
    for m in dict.fromkeys(models):
        r = rule_for(m)
        if r is not None and r.released is not None and first is not None \
                and r.released > first:
            out.append(f"{m} was released on {r.released}, after some of the trace's calls "
                       f"(from {first}): those calls are priced at its first known prices")
    return out


def resolve_for_trace(sc: Scenario, w: Workload) -> CascadeResolution:
    """``sc`` with its cascade's family aliases resolved against the trace ``w``."""
    if sc.cascade is None:
        return CascadeResolution(sc)
    given = sc.cascade_given or sc.cascade
    cheap, strong = sc.cascade
    first, last = _trace_dates(w)
    notes: list[str] = []
    if _is_family_alias(given[1]):
        strong, note = _resolve_strong(w, given[1], strong, last)
        notes += [note] if note else []
    if _is_family_alias(given[0]):
        cheap, note = _resolve_cheap(given[0], cheap, strong, last)
        notes += [note] if note else []
    trace_models = {str(m) for m in w.l_model.tolist() if m}
    res = CascadeResolution(replace(sc, cascade=(cheap, strong)), notes,
                            _release_warnings((cheap, strong), first))
    res.model_change = bool(trace_models) and trace_models != {strong}
    return res


def all_on_strong(sc: Scenario) -> Scenario:
    """The model-change half of a cascade: every step on its strong model, no routing."""
    assert sc.cascade is not None
    strong = sc.cascade[1]
    return replace(sc.only(["cascade"]), name=f"{sc.name} (all on {strong})",
                   cascade=(strong, strong), cascade_given=(strong, strong),
                   escalation_rate=0.0, escalation_range=None, roles=())


def _signed(x: float) -> str:
    return ("+" if x >= 0 else "−") + f"${abs(x):,.4f}"


def split_sentence(strong: str, base_cost: float, all_strong: float, cascade_only: float
                   ) -> tuple[str, dict[str, float]]:
    """The cascade's Δ as model change + routing, as a sentence and as numbers."""
    change = all_strong - base_cost
    routing = cascade_only - all_strong
    text = (f"Cascade Δ {_signed(cascade_only - base_cost)} = model change {_signed(change)} "
            f"(every step on {strong} instead of the trace's models) + routing "
            f"{_signed(routing)} (cheap steps moved off {strong}, escalations paid).")
    return text, {"model_change_usd": round(change, 8), "routing_usd": round(routing, 8)}
