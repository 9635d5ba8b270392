"""The Parquet lake: table schemas, layout (partitions by day) and query backends."""
