-- analysis._task_totals without one row per task in memory: the median and largest number
-- of llm calls per task and the median context growth (last llm input / first, 2 decimals)
SELECT {quantile}(a.llm_calls, 0.5) AS iterations_p50, MAX(a.llm_calls) AS iterations_max,
       {quantile}(g.growth, 0.5) AS context_growth_p50, COUNT(*) AS tasks
FROM (SELECT task_id, SUM(is_llm) AS llm_calls FROM {w} GROUP BY task_id) AS a
LEFT JOIN (SELECT task_id, ROUND(CAST(last_in AS DOUBLE) / first_in, 2) AS growth
           FROM ({task_meta}) AS m WHERE first_in <> 0 AND last_in IS NOT NULL) AS g
    ON g.task_id = a.task_id
