"""The client's address behind a reverse proxy, over real HTTP against a real server:
X-Forwarded-For counts only from a trusted proxy, so spoofing it neither dodges the
per-address login limit nor gives an account more tries."""
from __future__ import annotations

import logging
import random
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import func, select

from review import throttle
from review.proxy import ClientAddress, parse_networks
from store.models import AuditEvent, LoginThrottle

PASSWORD = 'correct horse battery'


def serve(tmp_path, trusted=()):
    from werkzeug.serving import make_server

    from review.app import create_app
    from review.users import add_user
    from store.db import open_store
    url = f'sqlite:///{tmp_path}/store.db'
    store = open_store(url)
    with store.session(write=True) as s:
        for name in ('ana', 'ben'):
            add_user(s, name, PASSWORD, 'reviewer')
    app = create_app(url, str(tmp_path), secret_key='test-secret-key', trusted_proxies=list(trusted))
    logging.getLogger('werkzeug').setLevel(logging.WARNING)
    server = make_server('127.0.0.1', 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, store, f'http://127.0.0.1:{server.server_port}'


@pytest.fixture
def plain(tmp_path):
    server, store, url = serve(tmp_path)
    yield store, url
    server.shutdown()
    store.dispose()


@pytest.fixture
def proxied(tmp_path):
    server, store, url = serve(tmp_path, trusted=['127.0.0.1'])
    yield store, url
    server.shutdown()
    store.dispose()


class Client:
    """A browser-less client with its own cookie jar and the login form's CSRF token."""

    def __init__(self, url):
        import http.cookiejar
        self.url = url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = self.opener.open(url + '/login', timeout=30).read().decode()
        self.token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def login(self, name, password, forwarded=None) -> tuple[int, str]:
        data = urllib.parse.urlencode({'csrf_token': self.token, 'name': name, 'password': password}).encode()
        request = urllib.request.Request(self.url + '/login', data=data,
                                         headers={'X-Forwarded-For': forwarded} if forwarded else {})
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()


def events(store, event):
    with store.session() as s:
        return s.execute(select(AuditEvent.name, AuditEvent.address).where(AuditEvent.event == event)).all()


def spoofed(rng) -> str:
    """What an attacker puts in X-Forwarded-For: a fresh address each time, sometimes a
    list, sometimes with the server's own address at the end to look like a proxy."""
    one = lambda: f'{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}'
    return rng.choice([one(), f'{one()}, {one()}', f'{one()}, 127.0.0.1', f'{one()},{one()},{one()}'])


def attack(url, names, tries=1000, threads=8):
    """`tries` wrong passwords, spread over `names` in turn, each with a spoofed
    X-Forwarded-For, from `threads` threads at once; their (status, body)."""
    results, lock = [], threading.Lock()
    clients = [Client(url) for _ in range(threads)]

    def run(k):
        rng = random.Random(k)
        for i in range(k, tries, threads):
            status, body = clients[k].login(names[i % len(names)], f'guess number {i}', spoofed(rng))
            with lock:
                results.append((status, body))
    workers = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    started = time.monotonic()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return results, time.monotonic() - started


def test_spoofed_forwarded_for_gets_no_more_tries_per_account(plain):
    store, url = plain
    results, elapsed = attack(url, ['ana'])
    assert elapsed < 60 and len(results) == 1000
    assert all(status == 401 for status, _ in results)
    evaluated = events(store, 'login.failure')
    # 10 tries reached the password check, all counted on the real peer's address.
    assert len(evaluated) == throttle.ACCOUNT_LIMIT
    assert {address for _, address in evaluated} == {'127.0.0.1'}
    assert {address for _, address in events(store, 'login.refused')} == {'127.0.0.1'}
    with store.session() as s:
        keys = set(s.scalars(select(LoginThrottle.key)))
    assert keys == {'account:ana', 'address:127.0.0.1'}       # no spoofed address has a count


def test_spoofed_forwarded_for_gets_no_more_tries_per_address(plain):
    """Guessing across many accounts (one common password each): the address limit
    holds whatever X-Forwarded-For says, and no account gets more than its 10."""
    store, url = plain
    names = [f'user{i:03d}' for i in range(200)] + ['ana']
    results, elapsed = attack(url, names)
    assert elapsed < 60 and len(results) == 1000
    evaluated = events(store, 'login.failure')
    assert len(evaluated) == throttle.ADDRESS_LIMIT
    assert {address for _, address in evaluated} == {'127.0.0.1'}
    per_account = {}
    for name, _ in evaluated:
        per_account[name] = per_account.get(name, 0) + 1
    assert max(per_account.values()) <= throttle.ACCOUNT_LIMIT
    assert sum('from your address' in body for _, body in results) == 1000 - throttle.ADDRESS_LIMIT
    # The address is throttled: even the right password waits for the window to end.
    status, body = Client(url).login('ben', PASSWORD, '198.51.100.7')
    assert status == 401 and 'from your address' in body


def test_behind_a_trusted_proxy_the_forwarded_client_is_throttled(proxied):
    store, url = proxied
    client = Client(url)
    # The proxy appends the address it saw; what the client sent to the left of it is
    # never believed.
    for i in range(throttle.ADDRESS_LIMIT):
        client.login(f'name{i}', 'wrong password', '10.9.9.9, 203.0.113.5')
    assert {address for _, address in events(store, 'login.failure')} == {'203.0.113.5'}
    status, body = client.login('ana', PASSWORD, '203.0.113.5')
    assert status == 401 and 'from your address' in body
    # Another client behind the same proxy is not affected.
    status, body = client.login('ana', PASSWORD, '198.51.100.20')
    assert status == 200 and 'Flagged fields' in body
    assert events(store, 'login.success') == [('ana', '198.51.100.20')]


def test_which_address_counts():
    app = ClientAddress(None, parse_networks('127.0.0.1, 10.0.0.0/8, ::1'))
    assert app.client('192.0.2.1', '203.0.113.5') == '192.0.2.1'                 # not from a proxy
    assert app.client('127.0.0.1', '203.0.113.5') == '203.0.113.5'
    assert app.client('127.0.0.1', '6.6.6.6, 203.0.113.5, 10.1.2.3') == '203.0.113.5'
    assert app.client('10.0.0.2', '127.0.0.1, 10.0.0.9') == '127.0.0.1'         # all proxies: the first
    assert app.client('127.0.0.1', 'not-an-address, 203.0.113.5') == '127.0.0.1'
    assert app.client('127.0.0.1', '') == '127.0.0.1'
    assert app.client('::1', '[2001:db8::5]:4711') == '2001:db8::5'
    assert ClientAddress(None, []).client('127.0.0.1', '203.0.113.5') == '127.0.0.1'
    with pytest.raises(ValueError):
        parse_networks('10.0.0.0/8, example.com')
