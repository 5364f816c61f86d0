"""Alembic environment of the store. The store runs migrations itself on first use
(store.db.migrate), passing its connection in `config.attributes`; a developer
making a new revision runs, from the repo root:

    EXTRACTOR_DATABASE_URL=sqlite:////tmp/dev.db \
        alembic -c store/alembic.ini revision --autogenerate -m 'what changed'
"""
from alembic import context
from sqlalchemy import create_engine

from store.models import Base

config = context.config


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      # SQLite cannot ALTER most things: copy-and-move tables instead.
                      render_as_batch=connection.dialect.name == 'sqlite',
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get('connection')
if connection is not None:
    _run(connection)
else:
    from store.settings import Settings
    from store.db import normalise_url
    engine = create_engine(normalise_url(Settings.from_env().database_url))
    with engine.begin() as conn:
        _run(conn)
