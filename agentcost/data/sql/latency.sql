-- analysis._latency: step duration and time-to-first-token percentiles by kind
SELECT
    {quantile}(CASE WHEN kind = 'llm' THEN duration_ms END, 0.5) AS llm_p50,
    {quantile}(CASE WHEN kind = 'llm' THEN duration_ms END, 0.95) AS llm_p95,
    {quantile}(CASE WHEN kind = 'tool' THEN duration_ms END, 0.5) AS tool_p50,
    {quantile}(CASE WHEN kind = 'tool' THEN duration_ms END, 0.95) AS tool_p95,
    {quantile}(CASE WHEN kind = 'llm' THEN ttft_ms END, 0.5) AS ttft_p50,
    {quantile}(CASE WHEN kind = 'llm' THEN ttft_ms END, 0.95) AS ttft_p95,
    COUNT(DISTINCT task_id) AS tasks
FROM {w}
