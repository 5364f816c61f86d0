"""Recovery from lost work, keyed on the store.

Work can be lost: a worker killed with `kill -9` (or its machine gone) takes the page
it was running with it, a Redis without persistence restarts empty (its queues, its
unacknowledged tasks and the chord counters are gone), and the server-less SQLite
broker keeps a message a killed worker had taken marked as taken. The store loses
nothing, so it is the reference. Every worker writes a heartbeat to the `workers`
table every 3 s; every `sweep_interval` (3 s) one worker (whoever holds the `sweep`
lease in the store) does this:

  * a page `running` on a worker whose heartbeat is older than `worker_lost_seconds`
    (15 s), or running longer than the hard time limit allows, goes back to pending
    and is sent again: a page lost with its worker runs again within ~20 s;
  * a document whose pages are all finished but that is still not final after
    `stall_seconds` (10 s) with the queues empty, or after the hard time limit + 60 s
    when they are not, gets its assembly sent again (its chord was lost);
  * if the queues are empty and a document has shown no progress for `stall_seconds`
    while no live worker is running one of its pages, its unfinished pages (or its
    start) are sent again: after a broker restart the batch resumes within ~15 s of
    the broker answering again.

Re-sent work is harmless if the original turns up after all: every task checks the
store first (tasks.py), and results are keyed. What this guarantees: every stored
document ends extracted or failed, once, as long as some worker runs. What it does
not: a file submitted while the broker was down is stored but only queued by the next
sweep, and work lost while no worker runs waits for one to start.

The same thread writes the worker's heartbeat, which is also how `submit --wait`
knows whether it needs to start workers itself.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Optional

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from workers.settings import QUEUES, Settings, redact
from store.db import Store, open_store
from store.models import (Document, Lease, PageRow, PageStatus, Status, WorkerRow,
                                  utcnow)

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 3
SWEEP_LEASE = 'sweep'


# ------------------------------------------------------------------ leases, heartbeats

def take_lease(store: Store, name: str, holder: str, seconds: float) -> bool:
    """Hold the named lease for `seconds` unless someone else holds it now."""
    now = utcnow()
    until = now + timedelta(seconds=seconds)
    with store.session(write=True) as session:
        taken = session.execute(
            update(Lease).where(Lease.name == name)
            .where(or_(Lease.expires_at.is_(None), Lease.expires_at < now, Lease.holder == holder))
            .values(holder=holder, expires_at=until)).rowcount
        if taken:
            return True
        if session.get(Lease, name) is not None:
            return False
    try:
        with store.session(write=True) as session:
            session.add(Lease(name=name, holder=holder, expires_at=until))
        return True
    except IntegrityError:
        return False


def heartbeat(store: Store, name: str, broker_url: str) -> None:
    now = utcnow()
    with store.session(write=True) as session:
        row = session.get(WorkerRow, name)
        if row is None:
            session.add(WorkerRow(name=name, host=socket.gethostname(), pid=os.getpid(),
                                  broker=redact(broker_url), started_at=now, seen_at=now))
        else:
            row.seen_at, row.pid = now, os.getpid()


def forget_worker(store: Store, name: str) -> None:
    with store.session(write=True) as session:
        session.execute(delete(WorkerRow).where(WorkerRow.name == name))


def live_workers(store: Store) -> list[str]:
    """Workers that sent a heartbeat recently. Every worker of a deployment writes to
    the same store (the broker URL may be spelt differently on each machine)."""
    since = utcnow() - timedelta(seconds=5 * HEARTBEAT_SECONDS)
    with store.session() as session:
        return list(session.scalars(select(WorkerRow.name).where(WorkerRow.seen_at >= since)))


# ------------------------------------------------------------------ the sweep

def queue_backlog(app) -> int:
    """Messages waiting in the queues (not those a worker holds)."""
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1)
        channel = connection.default_channel
        return sum(channel.queue_declare(queue=name, passive=False).message_count for name in QUEUES)


@dataclass
class SweepReport:
    assembled: list[int] = field(default_factory=list)
    restarted: list[int] = field(default_factory=list)
    pages_resent: dict[int, list[int]] = field(default_factory=dict)
    lost_pages: dict[int, list[int]] = field(default_factory=dict)   # their worker died

    def __bool__(self):
        return bool(self.assembled or self.restarted or self.pages_resent or self.lost_pages)


def _resend_lost_pages(store: Store, settings: Settings, now, report: SweepReport) -> None:
    """Pages running on a worker that stopped sending heartbeats (kill -9, a machine
    gone) or running longer than any page can: back to pending, and sent again."""
    from workers import dispatch
    lost_before = now - timedelta(seconds=settings.worker_lost_seconds)
    overdue_before = now - timedelta(seconds=settings.page_hard_limit + 30)
    live = select(WorkerRow.name).where(WorkerRow.seen_at >= lost_before)
    with store.session(write=True) as session:
        rows = session.execute(
            select(PageRow.id, PageRow.document_id, PageRow.number)
            .join(Document, Document.id == PageRow.document_id)
            .where(PageRow.status == PageStatus.RUNNING)
            .where(Document.status == Status.RUNNING)
            .where(PageRow.started_at < lost_before)
            .where(or_(PageRow.worker.is_(None), PageRow.worker.not_in(live),
                       PageRow.started_at < overdue_before))
            .order_by(PageRow.document_id, PageRow.number)).all()
        if not rows:
            return
        session.execute(update(PageRow).where(PageRow.id.in_([r.id for r in rows]))
                        .where(PageRow.status == PageStatus.RUNNING)
                        .values(status=PageStatus.PENDING, worker=None))
        for row in rows:
            report.lost_pages.setdefault(row.document_id, []).append(row.number)
        session.execute(update(Document).where(Document.id.in_(list(report.lost_pages)))
                        .values(updated_at=now, requeues=Document.requeues + 1))
    for document_id, numbers in report.lost_pages.items():
        dispatch.send_pages(document_id, numbers)


def sweep(store: Store, settings: Settings, backlog: int) -> SweepReport:
    """Re-send the work of lost pages and stalled documents (see the module docstring)."""
    from workers import dispatch
    report = SweepReport()
    now = utcnow()
    _resend_lost_pages(store, settings, now, report)
    stalled_before = now - timedelta(seconds=settings.stall_seconds)
    # With work waiting in the queues an assembly may simply not have had its turn;
    # only a much longer silence means its message is gone.
    long_stalled_before = now - timedelta(seconds=settings.page_hard_limit + 60)
    live_since = now - timedelta(seconds=settings.worker_lost_seconds)
    unfinished_pages = (select(func.count(PageRow.id))
                        .where(PageRow.document_id == Document.id)
                        .where(PageRow.status.not_in(PageStatus.FINISHED))
                        .correlate(Document).scalar_subquery())
    with store.session() as session:
        stalled = session.execute(
            select(Document.id, Document.status, Document.page_count, unfinished_pages,
                   Document.updated_at)
            .where(Document.status.in_((Status.QUEUED, Status.RUNNING)))
            .where(Document.updated_at < stalled_before)
            .order_by(Document.id)).all()
        live = set(session.scalars(select(WorkerRow.name).where(WorkerRow.seen_at >= live_since)))
    for document_id, status, page_count, unfinished, updated_at in stalled:
        if status == Status.RUNNING and page_count and unfinished == 0:
            if backlog > 0 and updated_at >= long_stalled_before:
                continue              # its assembly is probably in the queue
            _touch(store, document_id)
            dispatch.send_assembly(document_id)      # its chord was lost (or is late)
            report.assembled.append(document_id)
            continue
        if backlog > 0:
            continue                  # its messages may be among those waiting
        with store.session() as session:
            pages = session.execute(select(PageRow.number, PageRow.status, PageRow.worker)
                                    .where(PageRow.document_id == document_id)).all()
        if any(s == PageStatus.RUNNING and worker in live for _n, s, worker in pages):
            continue                  # a live worker is on it: its result will come
        _touch(store, document_id)
        if status == Status.QUEUED or not page_count:
            dispatch.send_documents([document_id])
            report.restarted.append(document_id)
        else:
            todo = sorted(n for n, s, _ in pages if s not in PageStatus.FINISHED)
            done = {n for n, _s, _ in pages}
            todo += [n for n in range(1, page_count + 1) if n not in done]
            dispatch.send_pages(document_id, sorted(todo))
            report.pages_resent[document_id] = sorted(todo)
    return report


def _touch(store: Store, document_id: int) -> None:
    """Count a re-send as progress, so the next sweep waits another stall period."""
    with store.session(write=True) as session:
        session.execute(update(Document).where(Document.id == document_id)
                        .values(updated_at=utcnow(), requeues=Document.requeues + 1))


# ------------------------------------------------------------------ the thread

class Caretaker:
    """A daemon thread in each worker's main process: heartbeat every 10 s, and a
    sweep every sweep_interval when this worker holds the sweep lease."""

    _instance: Optional['Caretaker'] = None

    def __init__(self, app, hostname: str):
        self.app, self.hostname = app, hostname
        self.settings: Settings = app.extractor_settings
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name='extractor-caretaker', daemon=True)

    @classmethod
    def start(cls, app, hostname: str) -> None:
        if cls._instance is None:
            cls._instance = cls(app, hostname)
            cls._instance.thread.start()

    @classmethod
    def request_stop(cls) -> None:
        if cls._instance is not None:
            cls._instance.stopping.set()

    @classmethod
    def stop(cls) -> None:
        caretaker, cls._instance = cls._instance, None
        if caretaker is None:
            return
        caretaker.stopping.set()
        caretaker.thread.join(timeout=5)
        try:
            forget_worker(open_store(caretaker.settings.database_url), caretaker.hostname)
        except Exception:
            log.warning('could not remove the heartbeat of %s', caretaker.hostname, exc_info=True)

    def _run(self) -> None:
        tick = min(HEARTBEAT_SECONDS, self.settings.sweep_interval)
        next_sweep = time.monotonic()          # sweep at once: work may be left from before
        unreachable = False
        while not self.stopping.is_set():
            try:
                store = open_store(self.settings.database_url)
                heartbeat(store, self.hostname, self.settings.broker_url)
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + self.settings.sweep_interval
                    self._sweep(store)
                if unreachable:
                    log.warning('caretaker: store and broker reachable again')
                    unreachable = False
            except Exception as err:
                # One line per outage, not a traceback every few seconds.
                if not unreachable:
                    log.warning('caretaker: store or broker not reachable (%s: %s); retrying quietly',
                                type(err).__name__, str(err).strip().splitlines()[0][:200] if str(err).strip() else '')
                unreachable = True
            self.stopping.wait(tick)

    def _sweep(self, store: Store) -> None:
        # The lease outlives two intervals, so a slow sweep is not doubled and a dead
        # sweeper is replaced within seconds.
        if not take_lease(store, SWEEP_LEASE, self.hostname, self.settings.sweep_interval * 2):
            return
        report = sweep(store, self.settings, queue_backlog(self.app))
        if report:
            log.warning('recovery: re-sent pages of stopped workers %s, re-assembled %s, '
                        'restarted %s, re-sent pages %s', report.lost_pages, report.assembled,
                        report.restarted, report.pages_resent)
