"""The Celery app: `celery -A workers worker` finds it as `workers.app`.

Broker and result backend come from EXTRACTOR_BROKER_URL / EXTRACTOR_RESULT_BACKEND
(workers/settings.py). Unset, the broker is kombu's SQLAlchemy transport on an SQLite
file and results go to another SQLite file, both in the data dir: nothing to install
or start, and several worker processes on the one machine share them safely (SQLite
locks the file; kombu claims each message in a `BEGIN IMMEDIATE` transaction, so no
two processes get the same one). See workers/README.md for why not the filesystem
transport, and for Redis.

Delivery is at least once: a page task is acknowledged only after it ran
(acks_late), is handed back if its process dies (reject_on_worker_lost), and Redis
gives an unacknowledged task to another worker after the visibility timeout, which
settings.py keeps longer than the longest a task can take. Running a task twice is
harmless because every effect is keyed in the store (see tasks.py).
"""
from __future__ import annotations

import importlib.util
import logging
import os
import sys
import time
import warnings
from datetime import timedelta

from celery import Celery, signals
from celery.exceptions import CPendingDeprecationWarning
from kombu import Queue

from workers.settings import ASSEMBLE_QUEUE, PAGES_QUEUE, QUEUES, START_QUEUE, Settings

log = logging.getLogger(__name__)

# `celery -A workers` puts the current folder on sys.path only while it imports the
# app; the tasks import `extractor` later. From a source checkout that is not
# pip-installed, keep the checkout (where extractor/ sits beside workers/) importable.
_CHECKOUT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if importlib.util.find_spec('extractor') is None and _CHECKOUT not in sys.path:
    sys.path.append(_CHECKOUT)


def _is_redis(url: str) -> bool:
    return url.startswith(('redis://', 'rediss://', 'sentinel://'))


def make_app(settings: Settings) -> Celery:
    app = Celery('extractor', broker=settings.broker_url, backend=settings.result_backend,
                 include=['workers.tasks'])
    redis_broker = _is_redis(settings.broker_url)
    transport_options = {}
    if redis_broker:
        transport_options = {
            'visibility_timeout': settings.visibility_timeout,
            # Look for abandoned (unacknowledged, timed out) tasks every 5 s: cheap,
            # and a dead worker's page is picked up soon after its timeout.
            'unacked_restore_interval': 5,
            'unacked_restore_throttle': 1,
            'socket_connect_timeout': 10,
            'socket_timeout': 60,
        }
    else:
        # kombu's SQLAlchemy transport hands these to create_engine: wait up to 30 s
        # for the SQLite lock rather than fail while another process holds it.
        transport_options = {'connect_args': {'timeout': 30}}
    app.conf.update(
        task_queues=[Queue(name, routing_key=name) for name in QUEUES],
        task_default_queue=START_QUEUE,
        task_default_routing_key=START_QUEUE,
        task_routes={
            'extractor.process_page': {'queue': PAGES_QUEUE, 'routing_key': PAGES_QUEUE},
            'extractor.assemble_document': {'queue': ASSEMBLE_QUEUE, 'routing_key': ASSEMBLE_QUEUE},
            # Waits for a chord's pages when the result backend is a database.
            'celery.chord_unlock': {'queue': ASSEMBLE_QUEUE, 'routing_key': ASSEMBLE_QUEUE},
        },
        task_serializer='json', result_serializer='json', accept_content=['json'],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One task at a time per process: with acks_late nothing waits unacknowledged
        # in a worker's memory while another worker is idle.
        worker_prefetch_multiplier=1,
        worker_max_tasks_per_child=500,
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,           # a restarted Redis is waited for
        # A running page stores its result in the store whatever happens to the broker
        # connection: let it finish rather than cancel it.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        result_expires=timedelta(days=1),
        result_backend_always_retry=True,
        result_backend_max_retries=30,
        redis_socket_connect_timeout=10,
        redis_socket_timeout=60,
        redis_retry_on_timeout=True,
        # Events for Flower; they need a broker with broadcast (Redis, not SQLite).
        worker_send_task_events=redis_broker,
        task_send_sent_event=redis_broker,
        worker_enable_remote_control=redis_broker,
    )
    app.extractor_settings = settings
    return app


app = make_app(Settings.from_env())


# ------------------------------------------------------------ worker lifecycle

@signals.worker_init.connect
def _limit_threads(**_kwargs):
    # Each worker process runs one page at a time on one core: several processes
    # share the machine instead of each spreading OCR over every core.
    os.environ.setdefault('EXTRACTOR_OCR_THREADS', '1')
    os.environ.setdefault('OMP_NUM_THREADS', '1')


@signals.worker_process_init.connect
def _prepare_process(**_kwargs):
    from store.db import forget_inherited_stores
    forget_inherited_stores()
    try:
        import cv2
        cv2.setNumThreads(1)
        from extractor import ocr
        ocr.default_recognizer()         # load the model once, before the first page
    except Exception:                    # the first page task will report it properly
        log.exception('could not preload the OCR model')


# kombu's polling transports sleep this long whenever a poll finds nothing, and a
# worker busy with a task polls in vain: at the default 1 s the embedded broker lost
# about a second per task. It cannot go in broker_transport_options, which the
# SQLAlchemy transport hands to create_engine.
EMBEDDED_POLLING_SECONDS = 0.1


@signals.worker_ready.connect
def _on_ready(sender=None, **_kwargs):
    from workers.recovery import Caretaker
    transport = getattr(getattr(sender, 'connection', None), 'transport', None)
    if app.extractor_settings.embedded and transport is not None:
        transport.polling_interval = EMBEDDED_POLLING_SECONDS
    hostname = getattr(sender, 'hostname', None) or f'worker-{os.getpid()}'
    Caretaker.start(app, hostname)


@signals.worker_shutting_down.connect
def _stop_caretaker(**_kwargs):
    from workers.recovery import Caretaker
    Caretaker.request_stop()             # from a signal handler: only set a flag


@signals.worker_shutdown.connect
def _say_goodbye(**_kwargs):
    from workers.recovery import Caretaker
    Caretaker.stop()



# ------------------------------------------------------------ one line per outage

class OneLinePerOutage(logging.Filter):
    """While the broker (or the result backend) is unreachable, Celery and kombu log
    a warning with a traceback on every reconnection attempt. This lets the first one
    through as a single line and drops the rest until the connection is back."""

    _LOST = ('Cannot connect to', 'Connection to broker lost', 'Connection refused',
             'Error 111', 'Error while reading from', 'Connection closed by server',
             'Trying again in', 'Retry limit exceeded while trying to reconnect',
             'not reachable', 'Connection reset by peer', 'Connection to Redis lost')
    # The consumer says `Connected to` when it is back; a pool process (whose result
    # backend retried) shows it by finishing a task.
    _BACK = ('Connected to', 'reachable again', 'succeeded in')
    REMIND_SECONDS = 600          # a long outage is mentioned again every 10 minutes

    def __init__(self):
        super().__init__()
        self.down, self.since = False, 0.0

    def _is_connection_error(self, record: logging.LogRecord, message: str) -> bool:
        if any(marker in message for marker in self._LOST):
            return True
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None:
            return False
        return isinstance(exc, ConnectionError) or (
            type(exc).__module__.split('.')[0] in ('redis', 'kombu', 'amqp')
            and 'Error' in type(exc).__name__)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(marker in message for marker in self._BACK):
            self.down = False
            return True
        if not self._is_connection_error(record, message):
            return True
        if self.down and time.monotonic() - self.since < self.REMIND_SECONDS:
            return False
        self.down, self.since = True, time.monotonic()
        first = message.strip().splitlines()[0] if message.strip() else 'connection lost'
        exc = record.exc_info[1] if record.exc_info else None
        detail = f' ({type(exc).__name__}: {str(exc).strip().splitlines()[0][:160]})' if exc and str(exc).strip() else ''
        record.msg, record.args = f'{first}{detail} [further connection errors are not logged until it is back]', ()
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


_OUTAGE_FILTER = OneLinePerOutage()
# Celery warns at every reconnection that a setting we set on purpose
# (worker_cancel_long_running_tasks_on_connection_loss=False) will change in 6.0.
warnings.filterwarnings('ignore', message=r'(?s).*worker_cancel_long_running_tasks_on_connection_loss',
                        category=CPendingDeprecationWarning)


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _quiet_outages(logger=None, **_kwargs):
    for handler in getattr(logger, 'handlers', []):
        if _OUTAGE_FILTER not in handler.filters:
            handler.addFilter(_OUTAGE_FILTER)
