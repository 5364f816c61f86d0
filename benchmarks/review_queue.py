"""How fast the reviewer's queue page answers with a large backlog of open flags and
a team working on it.

    python benchmarks/review_queue.py [--flags 10000] [--reviewers 5] [--db URL] [--requests 40]
                                      [--processes 1]

Builds a store (a fresh SQLite file unless --db names an empty database) with
--flags open flags spread over documents of 20 flagged fields each (the mix of
reasons of a real run: arithmetic, split numbers, low confidence, ...), one batch
assigned to --reviewers reviewers, serves the app with waitress on 127.0.0.1 in a
process of its own (as `perf-extract review` runs), logs each reviewer in (each with a
kept-alive connection, as a browser has) and has each claim an item (/item), then
times GET requests (first page, a page filtered by reason, by batch, a page half-way
down the queue, and /item, which claims the next item and follows the redirect to its
field page), end to end over HTTP: the reviewers taking turns (one request at a time),
then all of them at once (each sends its next request as soon as the last is
answered: the server's Python runs one request at a time, so a request waits for the
others'). Prints median and p95 per kind; the target is a p95 under 100 ms.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse

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
                                     'year': '2024', 'name': f'项目 {d}'} for d in range(n_docs)])
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


def _serve_process(url: str, data_dir: str, processes: int, ports) -> None:
    from review.app import create_app
    from review.serve import listening_socket, serve as serve_app
    app = create_app(url, data_dir, secret_key='benchmark')
    sock = listening_socket('127.0.0.1', 0)
    ports.put(sock.getsockname()[1])
    if processes > 1:
        app.extensions['review_store'].dispose()
        make = lambda: create_app(url, data_dir, secret_key='benchmark')     # noqa: E731
    else:
        make = lambda: app                                                   # noqa: E731
    serve_app(make, sock, threads=8, processes=processes)     # as `review` serves


def serve(url: str, data_dir: str, processes: int = 1):
    """The app under waitress in a process of its own (as `perf-extract review
    --processes N` runs it), so the clients' Python does not share its interpreter lock."""
    import multiprocessing
    context = multiprocessing.get_context('spawn')
    ports = context.Queue()
    process = context.Process(target=_serve_process, args=(url, data_dir, processes, ports), daemon=True)
    process.start()
    return process, f'http://127.0.0.1:{ports.get(timeout=120)}'


class Reviewer:
    """A browser stand-in: one kept-alive connection, the session cookie, redirects
    within the site followed."""

    def __init__(self, base: str):
        import http.client
        self.host, self.port = urllib.parse.urlsplit(base)[1].split(':')
        self.connection = http.client.HTTPConnection(self.host, int(self.port), timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, data: bytes | None = None) -> tuple[int, bytes]:
        headers = {'Cookie': '; '.join(f'{k}={v}' for k, v in self.cookies.items())}
        if data is not None:
            headers['Content-Type'] = 'application/x-www-form-urlencoded'
        for _ in range(3):
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
            body = response.read()
            for value in response.headers.get_all('Set-Cookie') or []:
                name, _, rest = value.partition('=')
                self.cookies[name.strip()] = rest.split(';', 1)[0]
            if response.status in (301, 302, 303) and response.headers.get('Location'):
                method, data = 'GET', None
                path = urllib.parse.urlsplit(response.headers['Location'])
                path = path.path + ('?' + path.query if path.query else '')
                headers = {'Cookie': '; '.join(f'{k}={v}' for k, v in self.cookies.items())}
                continue
            return response.status, body
        return response.status, body

    def open(self, path: str) -> bytes:
        return self.request('GET', path)[1]


def login(base: str, name: str) -> Reviewer:
    reviewer = Reviewer(base)
    page = reviewer.open('/login').decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({'name': name, 'password': PASSWORD, 'csrf_token': token}).encode()
    assert b'Flagged fields' in reviewer.request('POST', '/login', data)[1]
    return reviewer


def timed(reviewer: Reviewer, path: str, n: int) -> list[float]:
    reviewer.open(path)                           # warm-up
    times = []
    for _ in range(n):
        started = time.perf_counter()
        body = reviewer.open(path)
        times.append((time.perf_counter() - started) * 1000)
        assert b'id="queue"' in body or b'id="act"' in body
    return times


def timed_in_turn(reviewers, path: str, n: int) -> list[float]:
    """Every reviewer asks `n` times, taking turns."""
    for reviewer in reviewers:
        reviewer.open(path)                       # warm-up
    times = []
    for _ in range(n):
        for reviewer in reviewers:
            started = time.perf_counter()
            body = reviewer.open(path)
            times.append((time.perf_counter() - started) * 1000)
            assert b'id="queue"' in body or b'id="act"' in body
    return times


def timed_together(reviewers, path: str, n: int) -> list[float]:
    """Every reviewer asks `n` times at once; all their times."""
    results: list[list[float]] = [[] for _ in reviewers]
    start = threading.Barrier(len(reviewers))

    def run(i, reviewer):
        start.wait()
        results[i] = timed(reviewer, path, n)
    threads = [threading.Thread(target=run, args=(i, r)) for i, r in enumerate(reviewers)]
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
    parser.add_argument('--processes', type=int, default=1,
                        help='server processes (`review --processes`; default 1)')
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix='review-bench-')
    url = args.db or f'sqlite:///{folder}/store.db'
    started = time.perf_counter()
    build(url, args.flags, args.reviewers)
    print(f'built in {time.perf_counter() - started:.1f} s')
    server, base = serve(url, folder, args.processes)
    print(f'server: waitress, {args.processes} process(es) of 8 threads')
    openers = [login(base, f'reviewer{i + 1}') for i in range(args.reviewers)]
    for opener in openers:                  # each holds a claim, as while reviewing
        opener.open('/item?pos=0')
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
            times = timer(openers, path, args.requests)
            p95 = statistics.quantiles(times, n=20)[-1]
            worst = max(worst, p95)
            print(f'  {name:<32} median {statistics.median(times):6.1f} ms   p95 {p95:6.1f} ms   '
                  f'({len(times)} requests)')
        print(f'  worst p95 {worst:.1f} ms   (target < 100 ms)')
    server.terminate()
    server.join(10)
    return 0


if __name__ == '__main__':
    sys.exit(main())
