-- analysis._model_rows: llm step duration percentiles and the provider, per model
SELECT
    COALESCE(model, response_model, '(unknown)') AS group_key,
    {quantile}(duration_ms, 0.5) AS p50,
    {quantile}(duration_ms, 0.95) AS p95,
    {arg_min}(provider, order_key) FILTER (WHERE provider IS NOT NULL) AS provider
FROM {w}
WHERE kind = 'llm'
GROUP BY COALESCE(model, response_model, '(unknown)')
