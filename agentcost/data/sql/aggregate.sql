-- analysis._aggregate: the sums behind every metrics row (totals, tasks, models, groups);
-- {tasks} and {first} (the tasks and first step of a group) only where a group row shows them
SELECT
    {key} AS group_key,
    SUM(is_llm) AS llm_calls,
    SUM(is_tool) AS tool_calls,
    COALESCE(SUM(input_tokens), 0) AS input_tokens,
    COALESCE(SUM(cache_read_tokens), 0) AS cache_read_tokens,
    COALESCE(SUM(cache_write_tokens), 0) AS cache_write_tokens,
    COALESCE(SUM(cache_write_5m_tokens), 0) AS cache_write_5m_tokens,
    COALESCE(SUM(cache_write_1h_tokens), 0) AS cache_write_1h_tokens,
    COALESCE(SUM(uncached_input_tokens), 0) AS uncached_input_tokens,
    COALESCE(SUM(output_tokens), 0) AS output_tokens,
    COALESCE(SUM(reasoning_tokens), 0) AS reasoning_tokens,
    COALESCE(SUM(cost_usd), 0) AS cost_usd,
    COALESCE(SUM(in_cost), 0) AS _in_cost,
    COALESCE(SUM(split_cost), 0) AS _split_cost,
    COALESCE(SUM(cache_savings_usd), 0) AS cache_net_savings_usd,
    COALESCE(SUM(llm_ms), 0) AS _llm_ms,
    COALESCE(SUM(tool_ms), 0) AS _tool_ms,
    COALESCE(SUM(wait_ms), 0) AS _wait_ms,
    SUM(unpriced) AS unpriced_steps,
    SUM(priced) AS _priced,
    SUM(no_usage) AS no_usage_steps,
    SUM(partial_usage) AS partial_usage_steps,
    SUM(cr_unknown) AS cache_read_unknown_steps,
    SUM(est) AS _est,
    COALESCE(SUM(CASE WHEN est = 1 THEN cost_usd END), 0) AS _est_cost,
    COALESCE(SUM(CASE WHEN est = 1 THEN input_tokens END), 0) AS _est_in,
    COALESCE(SUM(CASE WHEN est = 1 THEN output_tokens END), 0) AS _est_out,
    MIN(started_ns) AS _start,
    MAX(ended_ns) AS _end,
    {tasks} AS _tasks,
    {first} AS _first
FROM {w}
WHERE {where}
GROUP BY {key}
