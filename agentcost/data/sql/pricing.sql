-- pricing.price_frame's record, read back from a priced step table: unpriced models and the
-- steps whose cost is unknown or was taken from the trace
SELECT COALESCE(model, response_model, '(no model)') AS model, cost_source,
       COUNT(*) AS steps,
       COALESCE(SUM(input_tokens), 0) AS input_tokens,
       COALESCE(SUM(output_tokens), 0) AS output_tokens,
       SUM(CASE WHEN cache_read_tokens IS NULL
                     AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL)
                THEN 1 ELSE 0 END) AS cr_unknown
FROM {w}
WHERE kind = 'llm'
GROUP BY COALESCE(model, response_model, '(no model)'), cost_source
