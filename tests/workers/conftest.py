"""Fixtures of the queue tests: the real Redis and PostgreSQL (started here if they
are down, never skipped), generated scans, and clusters of real worker processes."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import uuid

import pytest

from tests.workers.cluster import ROOT, Cluster, RedisServer


def _run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


@pytest.fixture(scope='session')
def redis_server(tmp_path_factory):
    """A redis-server of the tests' own on a free port (the machine's Redis, if any, is
    left alone); stopped at the end of the session."""
    if shutil.which('redis-server') is None:
        pytest.fail('redis-server is not installed (apt-get install redis-server)')
    server = RedisServer(str(tmp_path_factory.mktemp('redis'))).start()
    yield server.url
    server.kill()


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server for one test that kills and restarts it."""
    if shutil.which('redis-server') is None:
        pytest.fail('redis-server is not installed (apt-get install redis-server)')
    server = RedisServer(str(tmp_path / 'redis')).start()
    yield server
    server.kill()


def _pg_up() -> bool:
    return _run(['pg_isready', '-h', '127.0.0.1', '-p', '5432']).returncode == 0


@pytest.fixture(scope='session')
def postgres_server():
    """The server's URL without a database: EXTRACTOR_TEST_POSTGRES_URL, or the local
    server with trust authentication for user postgres."""
    if not _pg_up():
        if not os.path.isdir('/etc/postgresql'):
            pytest.fail('PostgreSQL is not running and not installed (apt-get install postgresql)')
        versions = sorted(os.listdir('/etc/postgresql'))
        _run(['pg_ctlcluster', '--skip-systemctl-redirect', versions[-1], 'main', 'start'])
        from tests.workers.cluster import wait_for
        wait_for(_pg_up, 30, 'PostgreSQL to accept connections')
    return os.environ.get('EXTRACTOR_TEST_POSTGRES_URL', 'postgresql://postgres@127.0.0.1:5432').rstrip('/')


@pytest.fixture
def pg_database(postgres_server):
    """A fresh, empty PostgreSQL database; dropped afterwards."""
    import psycopg
    name = f'extractor_test_{uuid.uuid4().hex[:10]}'
    with psycopg.connect(f'{postgres_server}/postgres', autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE {name}')
    yield f'{postgres_server}/{name}'
    from store import db
    for key in [k for k in db._stores if k[1].endswith(f'/{name}')]:
        db._stores.pop(key).dispose()
    with psycopg.connect(f'{postgres_server}/postgres', autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS {name} WITH (FORCE)')


_redis_db = iter(range(11, 16))


@pytest.fixture
def redis_url(redis_server):
    """A Redis database of its own for one test, emptied first."""
    url = f'{redis_server}/{next(_redis_db)}'
    _run(['redis-cli', '-u', url, 'flushdb'])
    return url


# ---------------------------------------------------------------------- scans

@pytest.fixture(scope='session')
def generated_scans(tmp_path_factory):
    """Clean generated form scans, one form per PDF (some forms run over two pages),
    as {pages: [paths]}."""
    out = tmp_path_factory.mktemp('scans')
    done = subprocess.run([sys.executable, '-m', 'tests.scangen', '--out', str(out), '--forms', '50',
                           '--level', 'clean', '--per-pdf', '1', '--seed', '7', '-q'],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f'the scan generator failed:\n{done.stderr[-2000:]}'
    from extractor import ingest
    by_pages: dict[int, list[str]] = {}
    for path in sorted(glob.glob(str(out / '*.pdf'))):
        by_pages.setdefault(ingest.count_pages(path), []).append(path)
    assert len(by_pages.get(1, [])) >= 22 and by_pages.get(2), f'too few one-page scans: { {k: len(v) for k, v in by_pages.items()} }'
    return by_pages


def copy_scans(paths, folder) -> list[str]:
    os.makedirs(folder, exist_ok=True)
    copies = []
    for path in paths:
        target = os.path.join(folder, os.path.basename(path))
        shutil.copyfile(path, target)
        copies.append(target)
    return copies


@pytest.fixture
def make_cluster(tmp_path):
    """make_cluster(**EXTRACTOR_settings) -> a Cluster whose workers stop after the test."""
    clusters = []

    def make(name='cluster', **env):
        cluster = Cluster(data_dir=str(tmp_path / name / 'var'), env_overrides=env)
        clusters.append(cluster)
        return cluster
    yield make
    for cluster in clusters:
        cluster.stop_workers()
