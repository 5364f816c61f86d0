"""The app's store (store.db.Store), set up by create_app."""
from __future__ import annotations

from flask import current_app


def store():
    return current_app.extensions['review_store']
