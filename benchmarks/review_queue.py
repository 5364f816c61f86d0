"""How fast the reviewer's queue page answers with a large backlog of open flags and
a team working on it.

    python benchmarks/review_queue.py [--flags 10000] [--reviewers 5] [--db URL] [--requests 40]

Builds a store (a fresh SQLite file unless --db names an empty database) with
--flags open flags spread over documents of 20 flagged fields each (the mix of
reasons of a real run: arithmetic, split numbers, low confidence, ...), one batch
assigned to --reviewers reviewers, serves the app with waitress on 127.0.0.1, logs
each reviewer in and has each claim an item (/item), then times GET requests of the
queue page (first page, a filtered page, a page deep in the queue, and /item, which
claims), end to end over HTTP: the reviewers taking turns (one request at a time, as
people at work send them; the target is a p95 under 100 ms), then all of them at once
(a burst: the server runs Python requests one at a time per core, so that p95 is
about the reviewers' number times one request). Prints median and p95 per kind.
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


def build(url: str, n_flags: int, reviewers: int, per_document: int = 20) -> None:
    from sqlalchemy import insert

    from review.users import add_user, assign
    from store.db import open_store
    from store.models import (REASON_RANK, Batch, BatchItem, Document, FieldRow, FlagRow,
                                      FormRow, utcnow)
    store = open_store(url)
    rng = random.Random(0)
    now = utcnow()
    n_docs = (n_flags + per_document - 1) // per_document
    with store.session(write=True) as s:
        batch = Batch(name='bench', created_at=now)
        s.add(batch)
        s.flush()
        for i in range(reviewers):
            add_user(s, f'reviewer{i + 1}', PASSWORD)
            assign(s, f'reviewer{i + 1}', 'bench')
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
    print(f'store: {n_docs} documents, {made} open flags, {reviewers} reviewers on the batch')


def serve(url: str, data_dir: str):
    from waitress.server import create_server

    from review.app import create_app
    app = create_app(url, data_dir, secret_key='benchmark')
    server = create_server(app, host='127.0.0.1', port=0, threads=8)     # as `review` serves
    threading.Thread(target=server.run, daemon=True).start()
    return server, f'http://127.0.0.1:{server.effective_port}'


def login(base: str, name: str):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + '/login').read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({'name': name, 'password': PASSWORD, 'csrf_token': token}).encode()
    assert 'Flagged fields' in opener.open(base + '/login', data).read().decode()
    return opener


def timed(opener, url: str, n: int) -> list[float]:
    opener.open(url).read()                       # warm-up
    times = []
    for _ in range(n):
        started = time.perf_counter()
        body = opener.open(url).read()
        times.append((time.perf_counter() - started) * 1000)
        assert b'id="queue"' in body or b'id="act"' in body
    return times


def timed_in_turn(openers, url: str, n: int) -> list[float]:
    """Every reviewer asks `n` times, taking turns."""
    for opener in openers:
        opener.open(url).read()                   # warm-up
    times = []
    for _ in range(n):
        for opener in openers:
            started = time.perf_counter()
            body = opener.open(url).read()
            times.append((time.perf_counter() - started) * 1000)
            assert b'id="queue"' in body or b'id="act"' in body
    return times


def timed_together(openers, url: str, n: int) -> list[float]:
    """Every reviewer asks `n` times at once; all their times."""
    results: list[list[float]] = [[] for _ in openers]

    def run(i, opener):
        results[i] = timed(opener, url, n)
    threads = [threading.Thread(target=run, args=(i, o)) for i, o in enumerate(openers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [t for times in results for t in times]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--flags', type=int, default=10_000)
    parser.add_argument('--reviewers', type=int, default=5)
    parser.add_argument('--db', help='an empty database URL (default: a temporary SQLite file)')
    parser.add_argument('--requests', type=int, default=40, help='requests per reviewer and kind')
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix='review-bench-')
    url = args.db or f'sqlite:///{folder}/store.db'
    started = time.perf_counter()
    build(url, args.flags, args.reviewers)
    print(f'built in {time.perf_counter() - started:.1f} s')
    _server, base = serve(url, folder)      # a daemon thread: it ends with the process
    openers = [login(base, f'reviewer{i + 1}') for i in range(args.reviewers)]
    for opener in openers:                  # each holds a claim, as while reviewing
        opener.open(base + '/item?pos=0').read()
    deep = max(args.flags // 50 // 2, 1)           # half-way down the queue (50 a page)
    kinds = (('queue, first page', '/'),
             ('queue, reason=low_confidence', '/?reason=low_confidence'),
             ('queue, batch filter', '/?batch=1'),
             (f'queue, page {deep}', f'/?page={deep}'),
             ('next item (claims it)', '/item?pos=3'))
    for how, timer in (('taking turns', timed_in_turn), ('all at once', timed_together)):
        print(f'{args.reviewers} reviewers {how}:')
        worst = 0.0
        for name, path in kinds:
            times = timer(openers, base + path, args.requests)
            p95 = statistics.quantiles(times, n=20)[-1]
            worst = max(worst, p95)
            print(f'  {name:<32} median {statistics.median(times):6.1f} ms   p95 {p95:6.1f} ms   '
                  f'({len(times)} requests)')
        print(f'  worst p95 {worst:.1f} ms' + ('   (target < 100 ms)' if timer is timed_in_turn else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
