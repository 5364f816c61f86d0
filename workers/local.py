"""Worker processes started by this machine's user for the length of one command:
what `submit --wait` does when no worker is running, so one machine needs nothing
started beforehand. Each is a normal `celery -A workers worker` with one pool process
(one page at a time, one OCR thread); logs go to <data dir>/logs/."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Optional

_CHECKOUT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def worker_command(name: Optional[str], concurrency: int = 1, loglevel: str = 'INFO') -> list[str]:
    return ([sys.executable, '-m', 'celery', '-A', 'workers', 'worker',
             '--concurrency', str(concurrency), '--loglevel', loglevel]
            + (['--hostname', name] if name else []))


def worker_env(extra: Optional[dict] = None) -> dict:
    env = dict(os.environ)
    # Importable from a source checkout as well as from an installed package.
    env['PYTHONPATH'] = os.pathsep.join(p for p in (_CHECKOUT, env.get('PYTHONPATH')) if p)
    env.setdefault('EXTRACTOR_OCR_THREADS', '1')
    env.update(extra or {})
    return env


class LocalWorkers:
    def __init__(self, count: int, log_dir: str, prefix: str = 'local', env: Optional[dict] = None):
        """`env`: EXTRACTOR_* settings for the workers (Settings.child_env()), so they use
        the store and data folder the starting command was given."""
        self.count, self.log_dir, self.prefix, self.env = count, log_dir, prefix, env
        self.processes: list[subprocess.Popen] = []

    def start(self) -> 'LocalWorkers':
        os.makedirs(self.log_dir, exist_ok=True)
        tag = f'{self.prefix}{os.getpid()}'
        for index in range(self.count):
            name = f'{tag}-{index + 1}@%h'
            log = open(os.path.join(self.log_dir, f'{tag}-{index + 1}.log'), 'ab')
            # A session of its own: Ctrl-C in the terminal goes to `submit`, which then
            # stops the workers in order instead of having them die mid-page.
            self.processes.append(subprocess.Popen(
                worker_command(name), env=worker_env(self.env), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True, cwd=os.getcwd()))
            log.close()
        return self

    def alive(self) -> int:
        return sum(1 for p in self.processes if p.poll() is None)

    def stop(self, timeout: float = 60) -> None:
        """Warm shutdown (finish the page in hand), then kill what is left."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes = []
