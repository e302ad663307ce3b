-- loops.loop_profiles: per task, its llm calls, user turns (a turn ends with a call that
-- requested no tool) and tokens; role and format come from the task's first llm call. The
-- runaway-loop finding compares each task with its peers
WITH c AS (
    SELECT task_id, step, parent_task_id, format, input_tokens, output_tokens,
           CASE WHEN tool_calls IS NOT NULL THEN 1 ELSE 0 END AS listed,
           CASE WHEN tool_calls = '[]' THEN 1 ELSE 0 END AS ended
    FROM {w}
    WHERE kind = 'llm'
), agg AS (
    SELECT task_id, MIN(step) AS first_step, MAX(step) AS last_step, COUNT(*) AS calls,
           SUM(ended) AS ended, MAX(listed) AS known_tools,
           SUM(COALESCE(input_tokens, 0) + COALESCE(output_tokens, 0)) AS tokens
    FROM c
    GROUP BY task_id
)
SELECT agg.task_id, f.parent_task_id, f.format, agg.calls,
       agg.ended - l.ended + 1 AS turns, agg.known_tools, agg.tokens
FROM agg
JOIN c AS f ON f.task_id = agg.task_id AND f.step = agg.first_step
JOIN c AS l ON l.task_id = agg.task_id AND l.step = agg.last_step
ORDER BY agg.task_id
