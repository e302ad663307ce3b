-- analysis._latency: the p50 and p95 of one duration column over the steps of one kind (one
-- column at a time: an exact percentile holds that column's values, 8 bytes a step)
SELECT {quantile}({column}, {p50_p95}) AS q
FROM {w}
WHERE kind = '{kind}' AND {column} IS NOT NULL
