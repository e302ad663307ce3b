-- analysis._task_totals without one row per task in memory: per task, its llm calls and its
-- context growth (last llm input / first, 2 decimals); the engine takes the median and
-- largest of them (agentcost.columnar.quantiles)
SELECT a.task_id, a.llm_calls, g.growth
FROM (SELECT task_id, SUM(is_llm) AS llm_calls FROM {w} GROUP BY task_id) AS a
LEFT JOIN (SELECT task_id, ROUND(CAST(last_in AS DOUBLE) / first_in, 2) AS growth
           FROM ({task_meta}) AS m WHERE first_in <> 0 AND last_in IS NOT NULL) AS g
    ON g.task_id = a.task_id
