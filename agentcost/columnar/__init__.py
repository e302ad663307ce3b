"""The step table as a columnar contract: a versioned Arrow schema, Parquet/CSV/JSONL export,
and SQL metrics over it (DuckDB). Needs the ``parquet`` extra (pyarrow, duckdb); every import
of those is lazy."""
