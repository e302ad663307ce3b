-- task_findings.sequential_tool_findings: the tool calls of one turn (after one llm step) that
-- ran one after another, none overlapping the one before (their names, for the turns shown:
-- sequential_names.sql)
WITH t AS (
    SELECT task_id, step, kind, name, started_ns, ended_ns, duration_ms,
           SUM(is_llm) OVER (PARTITION BY task_id ORDER BY step
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS turn,
           MAX(CASE WHEN kind = 'llm' THEN step END)
               OVER (PARTITION BY task_id ORDER BY step
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS llm_step
    FROM {w}
), tools AS (
    SELECT task_id, turn, llm_step, step, started_ns, ended_ns, duration_ms,
           COALESCE(name, 'None') AS tool,
           LAG(ended_ns) OVER (PARTITION BY task_id, turn ORDER BY started_ns, step) AS prev_end
    FROM t
    WHERE kind = 'tool' AND turn > 0 AND started_ns IS NOT NULL AND ended_ns IS NOT NULL
)
SELECT task_id, turn, COUNT(*) AS n,
       MAX(CASE WHEN started_ns < prev_end THEN 1 ELSE 0 END) AS any_overlap,
       COALESCE(SUM(duration_ms), 0) AS total, MAX(duration_ms) AS longest,
       MIN(llm_step) AS llm_step
FROM tools
GROUP BY task_id, turn
HAVING COUNT(*) >= 2 AND MAX(CASE WHEN started_ns < prev_end THEN 1 ELSE 0 END) = 0
   AND COALESCE(SUM(duration_ms), 0) > MAX(duration_ms)
ORDER BY task_id, turn
