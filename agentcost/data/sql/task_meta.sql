-- analysis._task_rows: first and last llm input (context growth) and the task's labels
SELECT
    task_id,
    {arg_min}(input_tokens, step) FILTER (WHERE kind = 'llm' AND input_tokens IS NOT NULL)
        AS first_in,
    {arg_max}(input_tokens, step) FILTER (WHERE kind = 'llm' AND input_tokens IS NOT NULL)
        AS last_in,
    {arg_min}(session_id, step) FILTER (WHERE session_id IS NOT NULL) AS session_id,
    {arg_min}(parent_task_id, step) FILTER (WHERE parent_task_id IS NOT NULL) AS parent_task_id,
    {arg_min}(source, step) FILTER (WHERE source IS NOT NULL) AS source,
    {arg_min}(format, step) FILTER (WHERE format IS NOT NULL) AS format
FROM {w}
GROUP BY task_id
