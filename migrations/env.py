"""Alembic environment: runs on the connection that `server.db.migrate` hands over."""

from alembic import context

from server.db.metadata import metadata

target_metadata = metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `rekisteri db upgrade`, which provides the connection")

context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
with context.begin_transaction():
    # A migration takes as long as the data it converts needs: the statement time-out of
    # the service's connections (STATEMENT_TIMEOUT_MS) is meant for requests.
    connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
    context.run_migrations()
