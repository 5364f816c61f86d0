"""The app's store (store.db.Store), set up by create_app.

On SQLite one writer at a time holds the database (BEGIN IMMEDIATE) and the others
wait in SQLite's busy handler, which polls with growing sleeps (up to 100 ms between
looks): five reviewers claiming items at once gave a p95 of several hundred ms. The
app's write transactions therefore take turns on a lock in this process first, and
one that ends hands over at once. Reads do not wait; other processes still meet in
SQLite's busy handler.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

from flask import current_app


class TakingTurns:
    """A Store whose write sessions take turns in this process (SQLite only)."""

    def __init__(self, store):
        self._store = store
        self._writing = threading.RLock() if store.is_sqlite else None

    def __getattr__(self, name):
        return getattr(self._store, name)

    @contextmanager
    def session(self, write: bool = False):
        if write and self._writing is not None:
            with self._writing, self._store.session(write=True) as session:
                yield session
        else:
            with self._store.session(write=write) as session:
                yield session


def store():
    return current_app.extensions['review_store']
