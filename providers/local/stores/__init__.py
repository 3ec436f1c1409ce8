"""Where the local provider keeps things: the catalog (SQLite), the MLflow registry, the
DuckDB feature and capture stores, data files and monitor profiles. Each store is opened
through client.py, on first use."""
