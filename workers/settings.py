"""The queue's names; the settings themselves (Settings, redact) live in store/settings.py,
the one place the workers, the store and the review app read them from (pydantic-settings:
EXTRACTOR_* environment variables, an optional TOML file, command-line options).

Kept here under their old names so `from workers.settings import Settings` still works.
"""
from __future__ import annotations

from store.settings import RETRY_BACKOFF_MAX, Settings, add_options, redact  # noqa: F401

# Three queues, which a worker serves in turn: the pages of a big batch wait in
# theirs, while a document's start and its assembly (both quick) never wait behind the
# whole batch, so documents complete one after another instead of all at the end.
START_QUEUE = 'extractor.start'
PAGES_QUEUE = 'extractor.pages'
ASSEMBLE_QUEUE = 'extractor.assemble'
QUEUES = (START_QUEUE, PAGES_QUEUE, ASSEMBLE_QUEUE)
