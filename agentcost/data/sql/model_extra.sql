-- analysis._model_rows: the provider and the cost by token class (over the steps whose cost
-- pricing split: analysis._cost_by_class), per model (the duration percentiles are
-- agentcost.columnar.quantiles)
SELECT
    COALESCE(model, response_model, '(unknown)') AS group_key,
    COUNT(split_cost) AS split_steps,
    COUNT(CASE WHEN split_cost IS NOT NULL AND (cache_read_cost_usd IS NULL
                                                OR cache_write_cost_usd IS NULL) THEN 1 END)
        AS split_unknown,
    SUM(split_cost) AS split_total,
    SUM(CASE WHEN split_cost IS NOT NULL THEN output_cost_usd END) AS split_output,
    SUM(CASE WHEN split_cost IS NOT NULL THEN cache_read_cost_usd END) AS split_read,
    SUM(CASE WHEN split_cost IS NOT NULL THEN cache_write_cost_usd END) AS split_write,
    {arg_min}(provider, order_key) FILTER (WHERE provider IS NOT NULL) AS provider
FROM {w}
WHERE kind = 'llm'
GROUP BY COALESCE(model, response_model, '(unknown)')
