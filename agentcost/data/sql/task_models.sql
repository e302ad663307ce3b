-- analysis._task_rows: the models each task's llm steps named
SELECT DISTINCT task_id, model
FROM {w}
WHERE kind = 'llm' AND model IS NOT NULL
