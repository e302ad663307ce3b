-- DESIGN §4 totals.tasks: the number of distinct tasks
SELECT COUNT(*) AS tasks FROM (SELECT DISTINCT task_id FROM {w}) AS t
