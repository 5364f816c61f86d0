"""Opening the store: one engine per process and URL, migrated to the newest schema
on first use.

SQLite is the default (one file, nothing to run). Several worker processes write to it
at once, so connections use WAL (readers never wait for the writer), wait up to 30 s
for the write lock instead of failing at once, and writing sessions take that lock at
BEGIN (`BEGIN IMMEDIATE`): a transaction that read first and then tried to write could
otherwise fail on a snapshot another process had changed meanwhile.

PostgreSQL (or anything SQLAlchemy speaks) is used by URL; `postgresql://` is read as
psycopg 3, the driver the project installs.
"""
from __future__ import annotations

import fcntl
import os
import threading
from contextlib import contextmanager
from typing import Iterator, Optional

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'migrations')
SQLITE_BUSY_MS = 30_000
# Any constant: the PostgreSQL advisory lock that serialises migrations of one database.
MIGRATION_LOCK_KEY = 0x5E1FE7A1


def normalise_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ('postgresql', 'postgres'):
        parsed = parsed.set(drivername='postgresql+psycopg')
    return parsed.render_as_string(hide_password=False)


def _create_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != 'sqlite':
        return create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=4)
    if parsed.database and parsed.database != ':memory:':
        os.makedirs(os.path.dirname(os.path.abspath(parsed.database)), exist_ok=True)
    engine = create_engine(url, connect_args={'timeout': SQLITE_BUSY_MS / 1000})

    @event.listens_for(engine, 'connect')
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's 'begin' event below issue BEGIN, not the sqlite3 module.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute('PRAGMA journal_mode=WAL')
        cursor.execute(f'PRAGMA busy_timeout={SQLITE_BUSY_MS}')
        cursor.execute('PRAGMA foreign_keys=ON')
        cursor.close()

    @event.listens_for(engine, 'begin')
    def _on_begin(connection):
        immediate = connection.get_execution_options().get('sqlite_write', False)
        connection.exec_driver_sql('BEGIN IMMEDIATE' if immediate else 'BEGIN')

    return engine


class Store:
    """The store of one database URL: sessions, migrated on first use."""

    def __init__(self, url: str):
        self.url = normalise_url(url)
        self.engine = _create_engine(self.url)
        self.is_sqlite = self.engine.dialect.name == 'sqlite'
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        writer = self.engine.execution_options(sqlite_write=True) if self.is_sqlite else self.engine
        self._write = sessionmaker(writer, expire_on_commit=False)
        migrate(self.engine)

    @contextmanager
    def session(self, write: bool = False) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back if it raises.
        Use write=True when the block changes anything."""
        session = (self._write if write else self._read)()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


_stores: dict[tuple[int, str], Store] = {}
_stores_lock = threading.Lock()


def open_store(url: Optional[str] = None) -> Store:
    """The process's Store for `url` (default: EXTRACTOR_DATABASE_URL / the SQLite file).
    Keyed by process id too: a forked worker child must not share its parent's
    connections."""
    if url is None:
        from store.settings import Settings
        url = Settings.from_env().database_url
    key = (os.getpid(), normalise_url(url))
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = Store(url)
        return store


def forget_inherited_stores() -> None:
    """In a freshly forked process: drop the parent's pooled connections without
    closing them (they still belong to the parent)."""
    with _stores_lock:
        for (pid, _url), store in list(_stores.items()):
            if pid != os.getpid():
                store.engine.dispose(close=False)
                del _stores[(pid, _url)]


# ------------------------------------------------------------------ migrations

def _alembic_config(connection):
    from alembic.config import Config
    config = Config()
    config.set_main_option('script_location', MIGRATIONS_DIR)
    config.attributes['connection'] = connection
    return config


def _at_head(connection) -> bool:
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    head = ScriptDirectory.from_config(_alembic_config(connection)).get_current_head()
    return MigrationContext.configure(connection).get_current_revision() == head


@contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    database = engine.url.database
    if not database or database == ':memory:':
        yield
        return
    with open(os.path.abspath(database) + '.migrate-lock', 'a') as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def migrate(engine: Engine) -> None:
    """Bring the database to the newest revision. Many processes may start at once
    (workers on several machines): they queue on a lock, and all but the first find
    the schema already current."""
    import logging
    logging.getLogger('alembic').setLevel(logging.WARNING)     # not in every worker's log
    from alembic import command
    with engine.connect() as connection:
        if _at_head(connection):
            return
    if engine.dialect.name == 'sqlite':
        with _sqlite_file_lock(engine):
            with engine.execution_options(sqlite_write=True).begin() as connection:
                if not _at_head(connection):
                    command.upgrade(_alembic_config(connection), 'head')
        return
    with engine.begin() as connection:
        if engine.dialect.name == 'postgresql':
            connection.execute(text('SELECT pg_advisory_xact_lock(:key)'), {'key': MIGRATION_LOCK_KEY})
        if not _at_head(connection):
            command.upgrade(_alembic_config(connection), 'head')
