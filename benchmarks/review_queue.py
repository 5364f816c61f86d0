"""How fast the reviewer's queue page answers with a large backlog of open flags.

    python benchmarks/review_queue.py [--flags 10000] [--db URL] [--requests 40]

Builds a store (a fresh SQLite file unless --db names an empty database) with
--flags open flags spread over documents of 20 flagged fields each (the mix of
reasons of a real run: arithmetic, split numbers, low confidence, ...), serves the app
with waitress on 127.0.0.1, logs in and times GET requests of the queue page (first
page, a filtered page, a page deep in the queue), end to end over HTTP. Prints
median and p95 per kind. The target is under 300 ms.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

PASSWORD = 'benchmark password'
REASONS = ['arithmetic'] * 3 + ['split_number'] * 4 + ['low_confidence'] * 5 + ['missing', 'unparsed', 'structure']
PATHS = ([f'funds.{i}.{k}' for i in range(4) for k in ('initial_budget', 'annual_budget', 'executed',
                                                       'weight', 'execution_rate', 'score')]
         + [f'indicators.{i}.{k}' for i in range(12) for k in ('target', 'actual', 'weight', 'score')])


def build(url: str, n_flags: int, per_document: int = 20) -> None:
    from sqlalchemy import insert

    from review.auth import add_user
    from workers.store.db import open_store
    from workers.store.models import (REASON_RANK, Batch, BatchItem, Document, FieldRow, FlagRow,
                                      FormRow, utcnow)
    store = open_store(url)
    rng = random.Random(0)
    now = utcnow()
    n_docs = (n_flags + per_document - 1) // per_document
    with store.session(write=True) as s:
        add_user(s, 'bench', PASSWORD)
        batch = Batch(name='bench', created_at=now)
        s.add(batch)
        s.flush()
        s.execute(insert(Document), [
            {'id': d + 1, 'sha256': f'{d:064x}', 'path': f'/scans/doc-{d:05d}.pdf', 'file_name': f'doc-{d:05d}.pdf',
             'status': 'extracted', 'submitted_at': now, 'updated_at': now, 'requeues': 0, 'page_count': 1,
             'result': None} for d in range(n_docs)])
        s.execute(insert(BatchItem), [{'batch_id': batch.id, 'document_id': d + 1, 'path': f'/scans/doc-{d:05d}.pdf',
                                       'added_at': now} for d in range(n_docs)])
        s.execute(insert(FormRow), [{'id': d + 1, 'document_id': d + 1, 'form_index': 0, 'pages': [1],
                                     'year': '2024', 'project_name': f'项目 {d}'} for d in range(n_docs)])
        fields, flags, made = [], [], 0
        for d in range(n_docs):
            chosen = rng.sample(PATHS, min(per_document, n_flags - made))
            for position, path in enumerate(chosen):
                reason = rng.choice(REASONS)
                value = f'{rng.uniform(1, 999):.2f}'
                fields.append({'form_id': d + 1, 'path': path, 'position': position, 'value': value,
                               'extracted_value': value, 'confidence': rng.uniform(0.5, 1), 'page': 1,
                               'bbox': [100, 100, 200, 140]})
                flags.append({'document_id': d + 1, 'position': position, 'form_id': d + 1, 'form_index': 0,
                              'field': path, 'reason': reason, 'value': value, 'confidence': 0.9, 'page': 1,
                              'bbox': [100, 100, 200, 140], 'detail': f'{reason} on {path}', 'status': 'open',
                              'rank': REASON_RANK[reason]})
            made += len(chosen)
        for start in range(0, len(fields), 5000):
            s.execute(insert(FieldRow), fields[start:start + 5000])
            s.execute(insert(FlagRow), flags[start:start + 5000])
    # Planner statistics, as autovacuum (PostgreSQL) would gather them after a bulk load.
    with store.engine.begin() as connection:
        connection.exec_driver_sql('ANALYZE')
    print(f'store: {n_docs} documents, {made} open flags')


def serve(url: str, data_dir: str):
    from waitress.server import create_server

    from review.app import create_app
    app = create_app(url, data_dir, secret_key='benchmark')
    server = create_server(app, host='127.0.0.1', port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    return server, f'http://127.0.0.1:{server.effective_port}'


def login(base: str):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + '/login').read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({'name': 'bench', 'password': PASSWORD, 'csrf_token': token}).encode()
    assert 'Flagged fields' in opener.open(base + '/login', data).read().decode()
    return opener


def timed(opener, url: str, n: int) -> list[float]:
    opener.open(url).read()                       # warm-up
    times = []
    for _ in range(n):
        started = time.perf_counter()
        body = opener.open(url).read()
        times.append((time.perf_counter() - started) * 1000)
        assert b'id="queue"' in body
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--flags', type=int, default=10_000)
    parser.add_argument('--db', help='an empty database URL (default: a temporary SQLite file)')
    parser.add_argument('--requests', type=int, default=40)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix='review-bench-')
    url = args.db or f'sqlite:///{folder}/store.db'
    started = time.perf_counter()
    build(url, args.flags)
    print(f'built in {time.perf_counter() - started:.1f} s')
    _server, base = serve(url, folder)      # a daemon thread: it ends with the process
    opener = login(base)
    deep = max(args.flags // 50 // 2, 1)           # half-way down the queue (50 a page)
    for name, path in (('queue, first page', '/'),
                       ('queue, reason=low_confidence', '/?reason=low_confidence'),
                       ('queue, batch filter', '/?batch=1'),
                       (f'queue, page {deep}', f'/?page={deep}')):
        times = timed(opener, base + path, args.requests)
        p95 = statistics.quantiles(times, n=20)[-1]
        print(f'{name:<32} median {statistics.median(times):6.1f} ms   p95 {p95:6.1f} ms   '
              f'({args.requests} requests)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
