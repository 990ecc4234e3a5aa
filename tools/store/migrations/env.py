"""Alembic's entry: migrations run on the connection `database.migrate` passes, in its
transaction."""

from alembic import context

from tools.store.tables import metadata

context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=metadata,
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
