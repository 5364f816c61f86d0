"""`perf-extract review --processes 2`: two server processes on one port, one login
good in both (sessions live in the store), and both stop with the command."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

from tests.review.helpers import ROOT

PASSWORD = 'correct horse battery'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def children_of(pid: int) -> set[int]:
    out = set()
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open(f'/proc/{entry}/stat') as fh:
                    if int(fh.read().rsplit(')', 1)[1].split()[1]) == pid:
                        out.add(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return out


def test_several_processes_serve_one_port_and_share_sessions(tmp_path):
    import http.client
    url = f'sqlite:///{tmp_path}/store.db'
    env = dict(os.environ, PYTHONPATH=ROOT)
    run = [sys.executable, '-m', 'perf_extract']
    added = subprocess.run(run + ['users', 'add', 'ana', '--password-stdin', '--role', 'senior', '--db', url,
                                  '--data-dir', str(tmp_path)],
                           input=PASSWORD + '\n', capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert added.returncode == 0, added.stderr
    port = free_port()
    server = subprocess.Popen(run + ['review', '--port', str(port), '--processes', '2', '--db', url,
                                     '--data-dir', str(tmp_path)],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(('127.0.0.1', port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, 'the server did not start'
                time.sleep(0.2)
        deadline = time.monotonic() + 30
        while len(children_of(server.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(children_of(server.pid)) == 2

        def get(path, cookie='', data=None):
            connection = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
            headers = {'Cookie': cookie}
            if data is not None:
                headers['Content-Type'] = 'application/x-www-form-urlencoded'
            connection.request('POST' if data else 'GET', path, body=data, headers=headers)
            response = connection.getresponse()
            body = response.read().decode()
            cookies = [v.split(';', 1)[0] for v in response.headers.get_all('Set-Cookie') or []]
            connection.close()
            return response.status, body, cookies

        _, page, cookies = get('/login')
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({'name': 'ana', 'password': PASSWORD, 'csrf_token': token})
        status, _, cookies = get('/login', '; '.join(cookies), form)
        assert status == 302 and cookies
        cookie = '; '.join(cookies)
        # Many connections at once: the kernel hands them to either process; the
        # session is good in both.
        statuses, lock = [], threading.Lock()

        def ask():
            for _ in range(10):
                status, body, _ = get('/', cookie)
                with lock:
                    statuses.append((status, 'Flagged fields' in body))
        threads = [threading.Thread(target=ask) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses == [(200, True)] * 60
    finally:
        kids = children_of(server.pid)
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    time.sleep(0.5)
    assert not [pid for pid in kids if os.path.exists(f'/proc/{pid}') and
                open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()[0] != 'Z']
