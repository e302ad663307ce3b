-- task_findings.cache_findings: per task and model, writes, reads after the first write,
-- savings and the longest gap between calls (for writes never read / caching that lost money /
-- 1h writes whose reuse gaps were all under 5 minutes)
WITH llm AS (
    SELECT task_id, step, COALESCE(model, response_model, '(unknown)') AS mk,
           COALESCE(cache_write_tokens, 0) AS cw, COALESCE(cache_read_tokens, 0) AS cr,
           COALESCE(cache_write_1h_tokens, 0) AS w1, cache_savings_usd AS sav,
           cache_1h_premium_usd AS prem, started_ns
    FROM {w}
    WHERE kind = 'llm'
), x AS (
    SELECT llm.*,
           SUM(cw) OVER (PARTITION BY task_id, mk ORDER BY step
                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - cw AS prior,
           started_ns - LAG(started_ns) OVER (PARTITION BY task_id, mk ORDER BY step) AS gap_ns
    FROM llm
)
SELECT task_id, mk AS model, SUM(cw) AS cw, SUM(cr) AS cr,
       SUM(CASE WHEN prior > 0 THEN cr ELSE 0 END) AS reads_after, SUM(w1) AS w1,
       COALESCE(SUM(sav), 0) AS sav, COALESCE(SUM(prem), 0) AS prem,
       MAX(gap_ns) / 1e9 AS max_gap, COUNT(*) AS n, MIN(step) AS first_step
FROM x
GROUP BY task_id, mk
HAVING SUM(cw) > 0
ORDER BY task_id, first_step
