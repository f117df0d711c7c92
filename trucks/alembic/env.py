"""Alembic environment: the database URL comes from the app's ini file."""
from alembic import context
from pyramid.paster import get_appsettings, setup_logging

from trucks.db import get_engine
from trucks.models import Base

config = context.config
if config.config_file_name:
    setup_logging(config.config_file_name)
settings = config.attributes.get("settings") or get_appsettings(config.config_file_name)
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=settings["sqlalchemy.url"], target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = get_engine(settings)
    with engine.connect() as connection:
        _run(connection)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
