"""Levers on the context: capping and pruning tool results, compaction, a response cache.

Every lever edits the prompts of the calls (blocks of a task's chain, see
:mod:`agentcost.simulation.workload`) and the edited prompts go through the same prompt-cache
replay as every other lever, so a prune that changes an early block breaks the cached prefix of
every later call and pays for it in cache writes. They need prompt ``segments`` (request bodies,
agentcost JSONL ``segments``, Claude Code logs read with their content): calls without segments
are left as observed, and the report says how many.

* ``cap_tool_results N`` — every tool result is truncated to ``N`` tokens from its first send
  on: the capped block is the same in every call, so the prefix stays cacheable.
* ``prune_tool_results_after K`` (``stub_tokens S``) — a tool result older than ``K`` turns
  (assistant messages since the one that requested it) is replaced by an ``S``-token stub from
  that call on (never larger than the result).
* ``compact_at T`` (``summary_tokens S``) — when a call's prompt would exceed ``T`` tokens, the
  history before its last turn (everything after the leading tool definitions and system
  blocks) is replaced by an ``S``-token summary, which later calls of the task carry until the
  next compaction. Each compaction adds one summarising call: the replaced history as uncached
  input, ``S`` output tokens, priced at ``summary_model`` at the call's hour (default: the
  cascade's cheap model; else the cheap member of the trace's model family, see
  :func:`with_summary_model`; else the call's own model).
* ``response_cache`` (``similarity exact|near``) — a call whose request equals an earlier
  call's (same model, same prefix and the same final message; any task of the same workspace)
  and starts after that call ended is answered from a response cache: no tokens, no cost, no
  model time. ``near`` also accepts a final message whose normalised text is lexically close
  (:mod:`agentcost.simulation.near`: MinHash over word shingles, a Jaccard estimate of at least
  ``near_threshold``); it is lexical, not semantic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentcost.simulation.workload import R_SYSTEM, R_TOOL, R_TOOLS, R_USER

if TYPE_CHECKING:
    import numpy as np

    from agentcost.simulation.scenario import Scenario
    from agentcost.simulation.workload import Workload

Blocks = tuple[list[int], list[int], list[int], list[int]]  # hashes, tokens, roles, turns


def edits_context(sc: Scenario) -> bool:
    """The scenario edits tool results or compacts."""
    return (
        sc.cap_tool_results is not None
        or sc.prune_tool_results_after is not None
        or sc.compact_at is not None
    )


@dataclass
class Summary:
    """One summarising call a compaction adds."""

    step: int  # the llm step whose prompt was compacted
    input_tokens: int
    output_tokens: int


@dataclass
class ContextEditor:
    """Edits one scenario's prompts, call by call in task order (compaction keeps state)."""

    w: Workload
    sc: Scenario
    capped: int = 0
    stubbed: int = 0
    tokens_capped: int = 0
    tokens_stubbed: int = 0
    summaries: list[Summary] = field(default_factory=list)
    _task: int = -1
    _cut_turn: int | None = None
    _summary_hash: int = 0
    _capped_seen: set[tuple[int, int]] = field(default_factory=set)
    _stubbed_seen: set[tuple[int, int]] = field(default_factory=set)

    def edit(self, i: int, blocks: Blocks) -> Blocks:
        """The blocks of llm step ``i``'s prompt after the context levers."""
        hs, toks, roles, turns = blocks
        if not self.w.chains[i].seg:
            return blocks
        t = int(self.w.l_task[i])
        if t != self._task:
            self._task, self._cut_turn = t, None
        hs, toks = list(hs), list(toks)
        now = turns[-1] if turns else 0
        for j, r in enumerate(roles):
            if r == R_TOOL:
                self._tool_result(t, j, hs, toks, turns[j], now)
        if self.sc.compact_at is not None:
            return self._compact(i, t, (hs, toks, list(roles), list(turns)))
        return hs, toks, list(roles), list(turns)

    def _tool_result(
        self, t: int, j: int, hs: list[int], toks: list[int], turn: int, now: int
    ) -> None:
        sc, key = self.sc, (t, hs[j])
        if sc.cap_tool_results is not None and toks[j] > sc.cap_tool_results:
            if key not in self._capped_seen:
                self._capped_seen.add(key)
                self.capped += 1
            self.tokens_capped += toks[j] - sc.cap_tool_results
            hs[j], toks[j] = hash((hs[j], "cap", sc.cap_tool_results)), sc.cap_tool_results
        k = sc.prune_tool_results_after
        if k is not None and now - turn > k and toks[j] > sc.stub_tokens:
            if key not in self._stubbed_seen:
                self._stubbed_seen.add(key)
                self.stubbed += 1
            self.tokens_stubbed += toks[j] - sc.stub_tokens
            hs[j], toks[j] = hash((hs[j], "stub", sc.stub_tokens)), sc.stub_tokens

    def _compact(self, i: int, t: int, blocks: Blocks) -> Blocks:
        out = self._apply_cut(blocks)
        limit = self.sc.compact_at
        assert limit is not None
        if sum(out[1]) > limit and blocks[3]:
            last = blocks[3][-1]
            # only a prompt with history before its last turn can be compacted
            first = next(
                (
                    tn
                    for r, tn in zip(blocks[2], blocks[3], strict=True)
                    if r not in (R_TOOLS, R_SYSTEM)
                ),
                last,
            )
            if last > first and (self._cut_turn is None or last > self._cut_turn):
                self.summaries.append(Summary(i, sum(out[1]), self.sc.summary_tokens))
                self._cut_turn = last
                self._summary_hash = hash((t, "summary", len(self.summaries)))
                out = self._apply_cut(blocks)
        return out

    def _apply_cut(self, blocks: Blocks) -> Blocks:
        """The prompt with everything between the stable head and the cut turn summarised."""
        if self._cut_turn is None:
            return blocks
        hs, toks, roles, turns = blocks
        head = 0
        while head < len(roles) and roles[head] in (R_TOOLS, R_SYSTEM):
            head += 1
        keep = [j for j in range(head, len(turns)) if turns[j] >= self._cut_turn]
        summary_turn = self._cut_turn
        return (
            [*hs[:head], self._summary_hash, *(hs[j] for j in keep)],
            [*toks[:head], self.sc.summary_tokens, *(toks[j] for j in keep)],
            [*roles[:head], R_USER, *(roles[j] for j in keep)],
            [*turns[:head], summary_turn, *(turns[j] for j in keep)],
        )

    def details(self, calls_without_segments: int) -> dict[str, Any]:
        d: dict[str, Any] = {"calls_without_segments": calls_without_segments}
        if self.sc.cap_tool_results is not None:
            d.update(tool_results_capped=self.capped, tokens_capped=self.tokens_capped)
        if self.sc.prune_tool_results_after is not None:
            d.update(tool_results_stubbed=self.stubbed, tokens_stubbed=self.tokens_stubbed)
        if self.sc.compact_at is not None:
            d["compactions"] = len(self.summaries)
        return d


CHEAP_ALIAS = {"anthropic": "haiku", "openai": "mini"}  # the cheap family per provider


def with_summary_model(sc: Scenario, w: Workload) -> Scenario:
    """``sc`` with the model that writes compaction summaries made explicit when the scenario
    names none and has no cascade: the cheap family member (Anthropic ``haiku``, OpenAI
    ``mini``) of the trace's most used model, resolved against the trace as a cascade's cheap
    alias is (same generation, else the newest released by the trace's last call)."""
    if sc.compact_at is None or sc.summary_model is not None or sc.cascade is not None:
        return sc
    from collections import Counter
    from dataclasses import replace

    from agentcost.rules import resolve_alias, rule_for
    from agentcost.simulation.cascade import resolve_for_trace

    models = Counter(str(m) for m in w.l_model.tolist() if m)
    if not models:
        return sc
    own = models.most_common(1)[0][0]
    rule = rule_for(own)
    alias = CHEAP_ALIAS.get(rule.provider) if rule is not None else None
    if alias is None:
        return sc
    try:
        cheap = resolve_alias(alias)
    except ValueError:
        return sc
    res = resolve_for_trace(replace(sc, cascade=(cheap, own), cascade_given=(alias, own)), w)
    assert res.scenario.cascade is not None
    return replace(sc, summary_model=res.scenario.cascade[0])


# --------------------------------------------------------------------------- response cache


def served_from_cache(
    w: Workload,
    sc: Scenario,
    keep: np.ndarray,
    final_ids: list[int | None],
    workspaces: np.ndarray,
    near_groups: list[int | None] | None = None,
) -> np.ndarray:
    """Which llm steps a response cache answers: the request (model, final prefix id; with
    ``near``, the near-duplicate group instead) was answered before in the same workspace and
    that answer had ended when this call started. ``final_ids[i]`` None: no segments."""
    import numpy as np

    served = np.zeros(w.n_llm, dtype=bool)
    done: dict[tuple[Any, ...], int] = {}  # request key -> end of the first answer
    order = np.argsort(w.l_start, kind="stable")
    for i in order.tolist():
        fid = final_ids[i]
        if not keep[i] or fid is None:
            continue
        ident = near_groups[i] if near_groups is not None and near_groups[i] is not None else fid
        key = (int(workspaces[w.l_task[i]]), w.l_model[i], ident)
        end = done.get(key)
        if end is not None and end <= int(w.l_start[i]):
            served[i] = True
        elif end is None:
            done[key] = int(w.l_end[i])
    return served


# ------------------------------------------------------------------------------ sentences


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _usd(v: float | None) -> str:
    return "unknown" if v is None else f"${v:,.4f}"


def sentences(
    sc: Scenario, details: dict[str, Any], saved_tokens: int, saved_usd: float
) -> list[str]:
    """The context levers' assumption sentences, from what the run did."""
    out: list[str] = []
    c = details.get("context") or {}
    if sc.cap_tool_results is not None:
        out.append(
            f"Tool results capped at {sc.cap_tool_results:,} tokens from their first "
            f"send on: {_n(c.get('tool_results_capped', 0), 'result')} capped, "
            f"{c.get('tokens_capped', 0):,} prompt tokens removed over the calls that "
            "carry them; a capped result is the same in every call, so the prefix "
            "stays cacheable; answers are assumed unaffected."
        )
    if sc.prune_tool_results_after is not None:
        out.append(
            f"Tool results older than {sc.prune_tool_results_after} turns replaced by a "
            f"{sc.stub_tokens:,}-token stub from that call on: "
            f"{_n(c.get('tool_results_stubbed', 0), 'result')} stubbed, "
            f"{c.get('tokens_stubbed', 0):,} prompt tokens removed; the stub changes "
            "the prompt at that result, so the next call misses the cache from there "
            "on and writes it again (the replay prices it)."
        )
    if sc.compact_at is not None:
        models = ", ".join(c.get("summary_models") or []) or "the call's own model"
        out.append(
            f"Compaction at {sc.compact_at:,} tokens: {_n(c.get('compactions', 0), 'compaction')}"
            f", each replacing the history before the last turn (after the "
            f"tool definitions and system blocks) by a {sc.summary_tokens:,}-token "
            "summary and adding one summarising call (the history as uncached input, "
            f"the summary as output) at {models}: "
            f"{_usd(c.get('summary_cost_usd'))} in all."
        )
    out.extend(_response_cache_sentences(sc, details))
    n = max(
        c.get("calls_without_segments", 0),
        (details.get("response_cache") or {}).get("calls_without_segments", 0),
    )
    if n:
        out.append(
            f"{_n(n, 'llm call')} without prompt segments: the context levers leave them as observed."
        )
    if saved_tokens and saved_usd and (saved_tokens > 0) != (saved_usd > 0):
        out.append(
            f"Tokens and dollars disagree: {abs(saved_tokens):,} input tokens "
            f"{'fewer' if saved_tokens > 0 else 'more'}, but "
            f"${abs(saved_usd):,.4f} {'more' if saved_usd < 0 else 'less'} — the "
            "edited prompts change what the prompt cache can serve."
        )
    return out


def _response_cache_sentences(sc: Scenario, details: dict[str, Any]) -> list[str]:
    rc = details.get("response_cache")
    if not sc.response_cache or rc is None:
        return []
    out = [
        f"Response cache ({sc.similarity}): {_n(rc['calls_served'], 'call')} answered from it "
        "(same model, same prefix and final message, in the same workspace, after the "
        f"first answer ended): {rc['input_tokens_not_sent']:,} input and "
        f"{rc['output_tokens_not_generated']:,} output tokens and "
        f"{rc['seconds_saved']:g}s of model time not spent; the cached answer is taken to "
        "be the one the trace shows, so the task goes on as observed."
    ]
    near = details.get("response_cache_near")
    if near is not None:
        out.append(
            f"Near matching is lexical, not semantic: MinHash ({near['num_perm']} "
            "permutations, datasketch) over word 3-shingles of the normalised final "
            f"message, Jaccard estimate ≥ {near['threshold']:g}, with an identical "
            f"prefix; {near['calls_compared']:,} calls compared by text, "
            f"{near['calls_matched_exactly']:,} matched exactly (no text to read back)."
        )
    return out
