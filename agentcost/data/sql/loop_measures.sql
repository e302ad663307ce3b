-- loops.LoopProfile.measure: each task's role (loops.task_role), whether it is compared per
-- user turn (an interactive main session whose calls list their tools), and its measure (llm
-- calls per user turn, or per task), from loop_tasks.sql
SELECT task_id, role, interactive, calls, tokens,
       CASE WHEN interactive = 1 AND turns > 0 THEN CAST(calls AS DOUBLE) / turns
            ELSE CAST(calls AS DOUBLE) END AS measure
FROM (
    SELECT t.*,
           CASE WHEN role = 'main' AND format IN ({interactive_formats}) AND known_tools = 1
                THEN 1 ELSE 0 END AS interactive
    FROM (
        SELECT lt.*,
               CASE WHEN task_id LIKE '%/agent-acompact%' THEN 'compaction'
                    WHEN parent_task_id IS NOT NULL AND parent_task_id <> ''
                         AND parent_task_id <> task_id THEN 'subagent'
                    ELSE 'main' END AS role
        FROM ({loop_tasks}) AS lt
    ) AS t
) AS m
