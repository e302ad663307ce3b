-- task_findings.sequential_tool_findings: the names of the tool calls of each turn of the tasks
-- {task_ids}, in the order they ran (for the turns sequential_tools.sql found)
WITH t AS (
    SELECT task_id, step, kind, name, started_ns, ended_ns,
           SUM(is_llm) OVER (PARTITION BY task_id ORDER BY step
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS turn
    FROM {w}
    WHERE task_id IN ({task_ids})
), tools AS (
    SELECT task_id, turn, step, started_ns, COALESCE(name, 'None') AS tool
    FROM t
    WHERE kind = 'tool' AND turn > 0 AND started_ns IS NOT NULL AND ended_ns IS NOT NULL
)
SELECT task_id, turn, {ordered_names} AS tools
FROM tools
GROUP BY task_id, turn
