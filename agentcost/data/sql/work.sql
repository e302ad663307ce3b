-- analysis._work: one row per step with the helper columns the aggregates sum
SELECT
    task_id, step, kind, name, model, response_model, provider, session_id, parent_task_id,
    source, format, tool_calls, tool_input_hash, cost_source, started_ns, ended_ns,
    duration_ms, ttft_ms, input_tokens, cache_read_tokens, cache_write_tokens,
    cache_write_5m_tokens, cache_write_1h_tokens, uncached_input_tokens, output_tokens,
    reasoning_tokens, cost_usd, output_cost_usd, cache_read_cost_usd, cache_write_cost_usd,
    cache_savings_usd, cache_1h_premium_usd,
    {order_key} AS order_key,
    CASE WHEN kind = 'llm' THEN 1 ELSE 0 END AS is_llm,
    CASE WHEN kind = 'tool' THEN 1 ELSE 0 END AS is_tool,
    CASE WHEN kind = 'llm' THEN duration_ms END AS llm_ms,
    CASE WHEN kind = 'tool' AND (name IS NULL OR name NOT IN ({wait_tools}))
         THEN duration_ms END AS tool_ms,
    CASE WHEN kind = 'tool' AND name IN ({wait_tools}) THEN duration_ms END AS wait_ms,
    CASE WHEN kind = 'llm' AND duration_ms IS NOT NULL THEN 1 ELSE 0 END AS llm_timed,
    CASE WHEN kind = 'tool' AND (name IS NULL OR name NOT IN ({wait_tools})) THEN 1 ELSE 0 END
        AS tool_n,
    CASE WHEN kind = 'tool' AND (name IS NULL OR name NOT IN ({wait_tools}))
              AND duration_ms IS NOT NULL THEN 1 ELSE 0 END AS tool_timed,
    CASE WHEN kind = 'llm' AND cost_usd IS NOT NULL THEN 1 ELSE 0 END AS priced,
    CASE WHEN kind = 'llm' AND cost_usd IS NULL
              AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL) THEN 1 ELSE 0 END
        AS unpriced,
    CASE WHEN kind = 'llm' AND ((input_tokens IS NULL AND output_tokens IS NOT NULL)
                                OR (input_tokens IS NOT NULL AND output_tokens IS NULL))
         THEN 1 ELSE 0 END AS partial_usage,
    CASE WHEN kind = 'llm' AND input_tokens IS NULL AND output_tokens IS NULL
              AND (cost_source IS NULL OR cost_source <> 'failed-call') THEN 1 ELSE 0 END
        AS no_usage,
    CASE WHEN kind = 'llm' AND cache_read_tokens IS NULL AND input_tokens IS NOT NULL
         THEN 1 ELSE 0 END AS cr_unknown,
    CASE WHEN kind = 'llm' AND cost_source = 'estimated' THEN 1 ELSE 0 END AS est,
    CASE WHEN output_cost_usd IS NOT NULL AND cost_usd IS NOT NULL
         THEN cost_usd - output_cost_usd END AS in_cost,
    CASE WHEN output_cost_usd IS NOT NULL AND cost_usd IS NOT NULL
         THEN cost_usd END AS split_cost
FROM {steps}
