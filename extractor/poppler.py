"""poppler's `pdfinfo` and `pdftoppm`, run so that no PDF can hang or outlive us.

Each tool runs in a process group of its own with a time limit, a CPU-time limit and
a cap on its address space (`prlimit --cpu --as`, enforced by the kernel). On a timeout, on any exception in the caller (Celery's
soft time limit raises SoftTimeLimitExceeded wherever the page task happens to be,
which is usually here, waiting) and on Ctrl-C, the whole group is killed before the
exception goes on: a render bomb never leaves a pdftoppm running at 100% CPU.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from typing import Optional


class ToolError(Exception):
    """The tool failed; str(err) is its first line of stderr (or the reason)."""


class ToolTimeout(ToolError):
    """The tool ran past its time limit and was killed."""


class ToolMissing(ToolError):
    """The tool is not installed."""


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class Running:
    """A handle on a tool run from another thread (a page rendered ahead): `kill()`
    stops it, whether it has started yet or not."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: Optional[subprocess.Popen] = None
        self.killed = False

    def attach(self, process: subprocess.Popen) -> None:
        with self._lock:
            self._process = process
            if self.killed:
                _kill_group(process)

    def kill(self) -> None:
        with self._lock:
            self.killed = True
            if self._process is not None and self._process.returncode is None:
                _kill_group(self._process)


def run_tool(args: list[str], timeout: float, memory_bytes: int = 0,
             running: Optional[Running] = None) -> bytes:
    """stdout of `args`; ToolTimeout past `timeout` s, ToolError on a non-zero exit.
    `memory_bytes` caps the tool's address space (0: no cap); `running`, when given,
    is told the process so that another thread can kill it."""
    if shutil.which(args[0]) is None:
        raise ToolMissing(f'{args[0]} is not installed (poppler-utils)')
    command = list(args)
    if shutil.which('prlimit'):
        # The kernel enforces these even if we are killed (Celery's hard time limit
        # SIGKILLs the page's process, and no `finally` runs): the tool then dies of
        # its CPU limit shortly after its time limit instead of running on.
        limits = [f'--cpu={int(timeout) + 5}']
        if memory_bytes:
            limits.append(f'--as={int(memory_bytes)}')
        command = ['prlimit', *limits, '--', *command]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True)
    if running is not None:
        running.attach(process)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ToolTimeout(f'{args[0]} took longer than {timeout:g} s') from None
    finally:
        if process.returncode is None:          # timeout, soft time limit, Ctrl-C, ...
            _kill_group(process)
            process.communicate()               # reap it, close the pipes
    if process.returncode != 0:
        lines = [l for l in err.decode('utf-8', 'replace').splitlines() if l.strip()]
        if process.returncode < 0:
            raise ToolError(f'{args[0]} was stopped by signal {-process.returncode}')
        raise ToolError(lines[0] if lines else f'{args[0]} exited with {process.returncode}')
    return out


@dataclass
class PdfInfo:
    pages: int
    encrypted: bool
    # Page number -> (width, height) in points, as displayed (rotation applied).
    sizes: dict[int, tuple[float, float]] = field(default_factory=dict)


_SIZE = re.compile(rb'^Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+) pts', re.M)
_ROT = re.compile(rb'^Page\s+(\d+) rot:\s+(-?\d+)', re.M)


def _file_argument(path: str) -> str:
    """A path the tool cannot mistake for an option (`-x.pdf`)."""
    return os.path.join('.', path) if path.startswith('-') else path


def pdf_info(path: str, first: int, last: int, timeout: float) -> PdfInfo:
    """Page count and the sizes of pages first..last."""
    out = run_tool(['pdfinfo', '-f', str(first), '-l', str(last), _file_argument(path)], timeout)
    pages = re.search(rb'^Pages:\s+(\d+)', out, re.M)
    encrypted = re.search(rb'^Encrypted:\s+yes', out, re.M) is not None
    rotation = {int(n): int(r) % 180 for n, r in _ROT.findall(out)}
    sizes = {}
    for n, w, h in _SIZE.findall(out):
        width, height = float(w), float(h)
        if rotation.get(int(n)) == 90:
            width, height = height, width
        sizes[int(n)] = (width, height)
    return PdfInfo(pages=int(pages.group(1)) if pages else 0, encrypted=encrypted, sizes=sizes)


def render_page(path: str, number: int, dpi: int, timeout: float, memory_bytes: int,
                running: Optional[Running] = None) -> bytes:
    """Page `number` as PPM bytes (what pdf2image also asks pdftoppm for)."""
    return run_tool(['pdftoppm', '-r', str(dpi), '-f', str(number), '-l', str(number),
                     _file_argument(path)],
                    timeout, memory_bytes, running)
