"""Fixtures of the review app tests: a real pipeline run on generated scans (once per
session), a fresh SQLite store filled from it per test, the app served by a real WSGI
server on a thread, and Debian's Chromium driven by Playwright."""
from __future__ import annotations

import contextlib
import logging
import os
import threading

import pytest

from tests.review.corpus import BATCH, extract_corpus, populate

CHROMIUM = os.environ.get('EXTRACTOR_TEST_CHROMIUM', '/usr/bin/chromium')
PASSWORD = 'correct horse battery'


@pytest.fixture(scope='session')
def corpus_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp('review-corpus')
    data_dir = root / 'var'
    corpus = extract_corpus(str(root), str(data_dir))
    return corpus, str(data_dir)


class Site:
    def __init__(self, url: str, store, document_ids, data_dir: str):
        self.url, self.store, self.document_ids, self.data_dir = url, store, document_ids, data_dir


@contextlib.contextmanager
def serve_site(corpus, data_dir: str, tmp_path):
    """The app on a fresh store holding `corpus`, with users ana, ben (reviewers,
    both assigned the corpus batch), cy (a reviewer with no batch), sen (senior) and
    adm (admin), served on 127.0.0.1 by werkzeug's threaded server."""
    from werkzeug.serving import make_server

    from review.app import create_app
    from review.users import add_user, assign
    url = f'sqlite:///{tmp_path}/store.db'
    store, ids = populate(url, corpus)
    with store.session(write=True) as session:
        for name, role in (('ana', 'reviewer'), ('ben', 'reviewer'), ('cy', 'reviewer'),
                           ('sen', 'senior'), ('adm', 'admin')):
            add_user(session, name, PASSWORD, role)
        assign(session, 'ana', BATCH)
        assign(session, 'ben', BATCH)
    app = create_app(url, data_dir, secret_key='test-secret-key')
    logging.getLogger('werkzeug').setLevel(logging.WARNING)      # no line per request
    server = make_server('127.0.0.1', 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(f'http://127.0.0.1:{server.server_port}', store, ids, data_dir)
    finally:
        server.shutdown()
        thread.join(10)
        store.dispose()


@pytest.fixture
def site(corpus_dirs, tmp_path):
    """The app on the corpus (serve_site)."""
    corpus, data_dir = corpus_dirs
    with serve_site(corpus, data_dir, tmp_path) as served:
        yield served


@pytest.fixture(scope='session')
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f'Chromium is not installed at {CHROMIUM} (make setup installs Debian\'s chromium)')
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'])
        yield browser
        browser.close()


@pytest.fixture
def login(browser, site):
    """login(name) -> a Playwright page logged in as that user (own browser context)."""
    contexts = []

    def log_in(name: str, password: str = PASSWORD):
        context = browser.new_context(viewport={'width': 1500, 'height': 1000}, accept_downloads=True)
        contexts.append(context)
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.dialogs = []           # a script that ran would open one (alert)

        def on_dialog(dialog, page=page):
            page.dialogs.append(dialog.message)
            dialog.dismiss()
        page.on('dialog', on_dialog)
        page.goto(site.url + '/')
        assert '/login' in page.url
        page.fill('input[name=name]', name)
        page.fill('input[name=password]', password)
        page.keyboard.press('Enter')
        page.wait_for_url(site.url + '/')
        return page
    yield log_in
    for context in contexts:
        context.close()


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database on the machine's server (EXTRACTOR_TEST_POSTGRES_URL,
    default postgresql://postgres@127.0.0.1:5432); dropped afterwards."""
    import uuid

    import psycopg
    server = os.environ.get('EXTRACTOR_TEST_POSTGRES_URL', 'postgresql://postgres@127.0.0.1:5432').rstrip('/')
    name = f'review_test_{uuid.uuid4().hex[:10]}'
    try:
        with psycopg.connect(f'{server}/postgres', autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE {name}')
    except psycopg.OperationalError as err:
        pytest.fail(f'PostgreSQL is not reachable at {server} ({err}); `make services` starts it')
    yield f'{server}/{name}'
    from store import db
    for key in [k for k in db._stores if k[1].endswith(f'/{name}')]:
        db._stores.pop(key).dispose()
    with psycopg.connect(f'{server}/postgres', autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS {name} WITH (FORCE)')
