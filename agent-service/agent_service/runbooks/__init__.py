"""Runbooks and resolved incidents as one searchable knowledge index (SQLite FTS5, BM25)."""
