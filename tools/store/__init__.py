"""fixloop's records in SQLite (embedded, the state directory) or PostgreSQL: one store layer.

`database.py` opens a database and migrates it, `tables.py` describes the tables the adapters
write to, `migrations/` holds the Alembic revisions, applied when a database is opened.
"""
