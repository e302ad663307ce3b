-- loops.loop_profiles: the llm calls of the tasks a runaway-loop finding may name
SELECT task_id, step, kind, parent_task_id, format, cost_usd, input_tokens, output_tokens,
       tool_calls
FROM {w}
WHERE kind = 'llm' AND task_id IN ({task_ids})
ORDER BY task_id, step
