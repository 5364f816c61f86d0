"""Real worker processes and the real command line, for the queue tests.

A Cluster is one deployment: a broker, a store, a data dir and the EXTRACTOR_* settings;
it starts `celery -A workers worker` processes with subprocess, runs
`python -m workers submit|status|export` like a user, and reads the store to see
where things are.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Optional

from sqlalchemy import func, select

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

QUEUE_SETTINGS = {
    'EXTRACTOR_BROKER_URL', 'EXTRACTOR_RESULT_BACKEND', 'EXTRACTOR_DATABASE_URL', 'EXTRACTOR_DATA_DIR',
    'EXTRACTOR_DPI', 'EXTRACTOR_PAGE_SOFT_LIMIT', 'EXTRACTOR_PAGE_HARD_LIMIT',
    'EXTRACTOR_VISIBILITY_TIMEOUT', 'EXTRACTOR_STALL_SECONDS', 'EXTRACTOR_SWEEP_INTERVAL',
    'EXTRACTOR_MAX_PAGE_ATTEMPTS', 'EXTRACTOR_WORKER_LOST_SECONDS'}

# Page time limits short enough that Redis's visibility timeout (which must exceed
# them) is not what brings lost work back: the store's recovery (heartbeats, stalled
# documents, with its default timings) has to do it.
FAST_RECOVERY = {
    'EXTRACTOR_PAGE_SOFT_LIMIT': '50',
    'EXTRACTOR_PAGE_HARD_LIMIT': '60',
    'EXTRACTOR_VISIBILITY_TIMEOUT': '130',
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@dataclass
class RedisServer:
    """A redis-server of the test's own, on a free port, keeping nothing on disk: the
    tests may kill and restart it. The machine's Redis is never touched."""
    folder: str
    port: int = 0
    process: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f'redis://127.0.0.1:{self.port}'

    def up(self) -> bool:
        return subprocess.run(['redis-cli', '-h', '127.0.0.1', '-p', str(self.port), 'ping'],
                              capture_output=True, text=True).stdout.strip() == 'PONG'

    def start(self) -> 'RedisServer':
        os.makedirs(self.folder, exist_ok=True)
        self.port = self.port or free_port()
        self.process = subprocess.Popen(
            ['redis-server', '--port', str(self.port), '--bind', '127.0.0.1', '--save', '',
             '--appendonly', 'no', '--dir', self.folder,
             '--logfile', os.path.join(self.folder, 'redis.log')],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        wait_for(self.up, 20, f'redis-server on port {self.port} to answer')
        return self

    def kill(self) -> None:
        """Stop it the way a crash would: kill -9, nothing saved."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


def wait_for(condition, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f'timed out after {timeout:g} s waiting for {what}')
        time.sleep(interval)


@dataclass
class Worker:
    name: str
    process: subprocess.Popen
    log_path: str

    def kill9(self) -> None:
        """kill -9 the worker and its pool processes, as if the machine died."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def log(self) -> str:
        with open(self.log_path, encoding='utf-8', errors='replace') as fh:
            return fh.read()


@dataclass
class Cluster:
    data_dir: str
    env_overrides: dict
    workers: list[Worker] = field(default_factory=list)

    @property
    def env(self) -> dict:
        # The queue's and store's settings are the cluster's own; others (the OCR
        # engine, say) pass through, so workers read pages as this process would.
        env = {k: v for k, v in os.environ.items() if k not in QUEUE_SETTINGS}
        env.update({'EXTRACTOR_DATA_DIR': self.data_dir, 'EXTRACTOR_OCR_THREADS': '1',
                    'PYTHONPATH': ROOT})
        env.update(self.env_overrides)
        return env

    @property
    def database_url(self) -> str:
        return self.env.get('EXTRACTOR_DATABASE_URL') or f'sqlite:///{self.data_dir}/extractor.db'

    def store(self):
        from store.db import open_store
        return open_store(self.database_url)

    # -------------------------------------------------------------- workers
    def start_worker(self, name: str) -> Worker:
        os.makedirs(os.path.join(self.data_dir, 'logs'), exist_ok=True)
        log_path = os.path.join(self.data_dir, 'logs', f'{name}.log')
        with open(log_path, 'ab') as log:
            process = subprocess.Popen(
                [sys.executable, '-m', 'celery', '-A', 'workers', 'worker', '--concurrency', '1',
                 '--hostname', f'{name}@test', '--loglevel', 'INFO'],
                env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        worker = Worker(f'{name}@test', process, log_path)
        self.workers.append(worker)
        return worker

    def wait_ready(self, worker: Worker, timeout: float = 60) -> None:
        def ready():
            assert worker.process.poll() is None, f'worker exited:\n{worker.log()[-3000:]}'
            return 'ready.' in worker.log()
        wait_for(ready, timeout, f'{worker.name} to be ready')

    def stop_workers(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in self.workers:
            try:
                worker.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.process.pid, signal.SIGKILL)
                worker.process.wait()
        self.workers = []

    # -------------------------------------------------------------- the command line
    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, '-m', 'workers', *args], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout)

    # -------------------------------------------------------------- the store
    def progress(self, batch: str):
        from store.queries import batch_progress, find_batch
        with self.store().session() as session:
            return batch_progress(session, find_batch(session, batch))

    def wait_batch(self, batch: str, timeout: float = 180):
        def complete():
            for worker in self.workers:
                if worker.process.poll() is not None and worker.process.returncode != -9:
                    raise AssertionError(f'{worker.name} exited:\n{worker.log()[-3000:]}')
            progress = self.progress(batch)
            return progress if progress.total and progress.complete else None
        return wait_for(complete, timeout, f'batch {batch} to complete', interval=0.5)

    def counts(self) -> dict[str, int]:
        """Rows per table: what 'none twice in the store' is checked against."""
        from store import models as m
        with self.store().session() as session:
            return {table.__tablename__: session.scalar(select(func.count()).select_from(table))
                    for table in (m.Document, m.PageRow, m.FormRow, m.FieldRow, m.FlagRow)}
