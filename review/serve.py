"""Serving the app with waitress in one process or several.

One Python process answers one request's Python at a time (the interpreter lock),
however many threads waitress has: five reviewers asking at the same moment wait for
each other. With `processes` > 1 the listening socket is opened once and that many
processes (forked, each with its own app, store connections and waitress threads)
accept on it, so requests run side by side on as many cores. Everything a request
depends on is in the store (login sessions, throttling, claims), so any process may
answer any request.
"""
from __future__ import annotations

import os
import signal
import socket
import sys
from typing import Callable


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    return sock


def serve(make_app: Callable, sock: socket.socket, threads: int = 8, processes: int = 1,
          ident: str = 'review') -> None:
    """Serve `make_app()` on the listening `sock` until stopped (SIGINT, SIGTERM).
    The caller makes the app once before (key file, migrations) so the processes
    only open what exists."""
    import waitress
    if processes <= 1:
        waitress.serve(make_app(), sockets=[sock], threads=threads, ident=ident)
        return
    children = []
    for _ in range(processes):
        pid = os.fork()
        if pid == 0:                                    # a child: serve until killed
            code = 0
            try:
                from store.db import forget_inherited_stores
                forget_inherited_stores()                 # the parent's connections stay its own
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                waitress.serve(make_app(), sockets=[sock], threads=threads, ident=ident)
            except BaseException:                      # pragma: no cover - logged by waitress
                code = 1
            finally:
                os._exit(code)
        children.append(pid)

    def stop(_signum=None, _frame=None):
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    signal.signal(signal.SIGTERM, lambda *a: (stop(), sys.exit(0)))
    try:
        for pid in children:
            os.waitpid(pid, 0)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for pid in children:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
