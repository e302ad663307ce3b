-- the tasks a runaway-loop finding may name: over a cap or budget, or at or above the
-- smallest measure that is far above the typical one of its peers (computed per peer group)
SELECT task_id
FROM ({loop_measures}) AS m
WHERE {over_caps} OR {over_peers}
ORDER BY task_id
