-- task_findings.repeated_tool_findings: identical tool calls (name and argument hash) repeated
-- within a task, with the time the repeats took
WITH t AS (
    SELECT task_id, COALESCE(name, '') AS tool, tool_input_hash AS h, step, duration_ms,
           ROW_NUMBER() OVER (PARTITION BY task_id, COALESCE(name, ''), tool_input_hash
                              ORDER BY step) AS rn
    FROM {w}
    WHERE kind = 'tool' AND tool_input_hash IS NOT NULL
)
SELECT task_id, tool, h, COUNT(*) AS calls, {steps_sorted} AS steps,
       SUM(CASE WHEN rn > 1 THEN COALESCE(duration_ms, 0) ELSE 0 END) AS wasted_ms,
       MIN(step) AS first_step
FROM t
GROUP BY task_id, tool, h
HAVING COUNT(*) >= 2
ORDER BY task_id, first_step
