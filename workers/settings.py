"""Everything the queue and the store read from the environment, in one place.

    EXTRACTOR_BROKER_URL        e.g. redis://127.0.0.1:6379/0 (default: embedded SQLite broker)
    EXTRACTOR_RESULT_BACKEND    e.g. redis://127.0.0.1:6379/0 (default: same server as the broker
                                for Redis, an SQLite file for the embedded broker)
    EXTRACTOR_DATABASE_URL      the store (default sqlite:///<data dir>/extractor.db)
    EXTRACTOR_DATA_DIR          page images, embedded broker files, local worker logs (./var)
    EXTRACTOR_DPI               rendering resolution of PDF pages (200)
    EXTRACTOR_PAGE_SOFT_LIMIT   seconds a page may take before it is failed (120)
    EXTRACTOR_PAGE_HARD_LIMIT   seconds after which the page's process is killed (180)
    EXTRACTOR_VISIBILITY_TIMEOUT seconds before Redis hands an unacknowledged task to
                                another worker (600; must exceed the hard limit plus
                                the longest retry back-off)
    EXTRACTOR_STALL_SECONDS     a document with no progress this long while the queues are
                                empty and no live worker runs one of its pages is re-queued
                                from the store (10)
    EXTRACTOR_WORKER_LOST_SECONDS a worker whose heartbeat is older than this is gone: its
                                running page is sent again (15; heartbeats every 3 s)
    EXTRACTOR_SWEEP_INTERVAL    seconds between recovery sweeps in a worker (3)
    EXTRACTOR_MAX_PAGE_ATTEMPTS a page started this many times without finishing is failed (3)

Paths are made absolute once, so worker processes started from another folder and the
submitting command agree on where things are.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

# Retries of transient errors back off exponentially up to this many seconds; the
# visibility timeout has to cover it on top of a page's hard limit.
RETRY_BACKOFF_MAX = 60
# Three queues, which a worker serves in turn: the pages of a big batch wait in
# theirs, while a document's start and its assembly (both quick) never wait behind the
# whole batch, so documents complete one after another instead of all at the end.
START_QUEUE = 'extractor.start'
PAGES_QUEUE = 'extractor.pages'
ASSEMBLE_QUEUE = 'extractor.assemble'
QUEUES = (START_QUEUE, PAGES_QUEUE, ASSEMBLE_QUEUE)


def _number(name: str, default: float) -> float:
    value = os.environ.get(name, '').strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f'{name} must be a number of seconds, not {value!r}') from None
    if number <= 0:
        raise ValueError(f'{name} must be positive, not {value!r}')
    return number


def _sqlite_url(scheme: str, path: str) -> str:
    return f'{scheme}:///{os.path.abspath(path)}'


@dataclass(frozen=True)
class Settings:
    broker_url: str
    result_backend: str
    database_url: str
    data_dir: str
    dpi: int
    page_soft_limit: float
    page_hard_limit: float
    visibility_timeout: float
    stall_seconds: float
    sweep_interval: float
    worker_lost_seconds: float
    max_page_attempts: int

    @property
    def embedded(self) -> bool:
        """True when the broker is the server-less SQLite one (one machine only)."""
        return self.broker_url.startswith('sqla+sqlite')

    @property
    def pages_dir(self) -> str:
        return os.path.join(self.data_dir, 'pages')

    @classmethod
    def from_env(cls) -> 'Settings':
        data_dir = os.path.abspath(os.environ.get('EXTRACTOR_DATA_DIR') or 'var')
        broker = os.environ.get('EXTRACTOR_BROKER_URL', '').strip()
        backend = os.environ.get('EXTRACTOR_RESULT_BACKEND', '').strip()
        if not broker:
            broker = _sqlite_url('sqla+sqlite', os.path.join(data_dir, 'broker.sqlite'))
        if not backend:
            if broker.startswith(('redis://', 'rediss://')):
                backend = broker
            else:
                backend = _sqlite_url('db+sqlite', os.path.join(data_dir, 'results.sqlite'))
        database = (os.environ.get('EXTRACTOR_DATABASE_URL', '').strip()
                    or _sqlite_url('sqlite', os.path.join(data_dir, 'extractor.db')))
        soft = _number('EXTRACTOR_PAGE_SOFT_LIMIT', 120)
        hard = _number('EXTRACTOR_PAGE_HARD_LIMIT', max(180, soft + 30))
        if hard <= soft:
            raise ValueError('EXTRACTOR_PAGE_HARD_LIMIT must be larger than EXTRACTOR_PAGE_SOFT_LIMIT')
        visibility = _number('EXTRACTOR_VISIBILITY_TIMEOUT', max(600, hard + RETRY_BACKOFF_MAX + 60))
        if visibility <= hard + RETRY_BACKOFF_MAX:
            # Shorter, and Redis would hand a task that is still running (or waiting for
            # its retry) to a second worker.
            raise ValueError(f'EXTRACTOR_VISIBILITY_TIMEOUT must exceed the page hard limit '
                             f'plus {RETRY_BACKOFF_MAX} s of retry back-off ({hard + RETRY_BACKOFF_MAX:g} s)')
        dpi = int(_number('EXTRACTOR_DPI', 200))
        if not 50 <= dpi <= 600:
            raise ValueError('EXTRACTOR_DPI must be between 50 and 600')
        return cls(broker_url=broker, result_backend=backend, database_url=database,
                   data_dir=data_dir, dpi=dpi, page_soft_limit=soft, page_hard_limit=hard,
                   visibility_timeout=visibility,
                   stall_seconds=_number('EXTRACTOR_STALL_SECONDS', 10),
                   sweep_interval=_number('EXTRACTOR_SWEEP_INTERVAL', 3),
                   worker_lost_seconds=_number('EXTRACTOR_WORKER_LOST_SECONDS', 15),
                   max_page_attempts=int(_number('EXTRACTOR_MAX_PAGE_ATTEMPTS', 3)))


def redact(url: str) -> str:
    """A URL without its password, for messages and the workers table."""
    if '@' not in url or '://' not in url:
        return url
    scheme, rest = url.split('://', 1)
    creds, host = rest.rsplit('@', 1)
    user = creds.split(':', 1)[0]
    return f'{scheme}://{user}:***@{host}' if ':' in creds else f'{scheme}://{user}@{host}'
