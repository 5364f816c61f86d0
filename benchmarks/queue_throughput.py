"""Throughput of the queue: documents per minute and pages per second with 1 and 2
worker processes (one page at a time each, one OCR thread) on generated scans.

    python benchmarks/queue_throughput.py [--docs 40] [--workers 1,2] [--broker redis|embedded]
                                          [--fault kill|restart] [--redis-url URL]

Each run gets a fresh store and broker database; the workers are started and ready
before the clock starts, which runs from `submit` until the store says every document
is final. Scaling is the 2-process rate over twice the 1-process rate (1.0 = linear).
With Redis and no --redis-url, a redis-server of the benchmark's own runs on a free
port (the machine's Redis is left alone).

--fault: once a quarter of the documents are done, `kill` kill -9s the first worker
(and its pool) or `restart` kills the Redis server and starts it again empty; the run
then prints how long the lost page took to start again (kill), how long until the
first page finished after the broker was back (restart), the longest time with no page
finished, and whether every document ended once.
"""
from __future__ import annotations

import argparse
import glob
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def generate(out: str, docs: int, level: str, seed: int) -> list[str]:
    subprocess.run([sys.executable, '-m', 'tests.scangen', '--out', out, '--forms', str(docs),
                    '--level', level, '--per-pdf', '1', '--seed', str(seed), '-q'],
                   cwd=ROOT, check=True)
    return sorted(glob.glob(os.path.join(out, '*.pdf')))


def redis_reachable(url: str) -> bool:
    try:
        import redis
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except Exception:
        return False


def _page_times(store) -> list:
    from sqlalchemy import select

    from store.models import PageRow
    with store.session() as session:
        return sorted(t for t in session.scalars(select(PageRow.finished_at)) if t is not None)


def _fault(kind: str, local, redis_server, store) -> dict:
    """Cause the fault; return what is needed to measure the recovery."""
    import signal

    from store.models import utcnow
    at = utcnow()
    if kind == 'kill':
        victim = local.processes[0]
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
    else:
        redis_server.kill()
        time.sleep(2)
        redis_server.start()
    return {'kind': kind, 'at': at, 'back': utcnow(), 'log_dir': local.log_dir}


def _resent_at(log_dir: str):
    """When the workers' recovery first re-sent the pages of a stopped worker (from
    their logs: `recovery: re-sent pages of stopped workers {doc: [pages]}`)."""
    import glob
    import re
    from datetime import datetime
    found = []
    for path in glob.glob(os.path.join(log_dir, '*.log')):
        with open(path, encoding='utf-8', errors='replace') as fh:
            for line in fh:
                if 'stopped workers {' in line and 'stopped workers {}' not in line:
                    stamp = re.match(r'\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+)', line)
                    if stamp:
                        found.append(datetime.strptime(stamp.group(1), '%Y-%m-%d %H:%M:%S,%f'))
    return min(found) if found else None


def _recovery(fault: dict, store) -> dict:
    from sqlalchemy import func, select

    from store.models import Document, PageRow
    times = [t for t in _page_times(store) if t >= fault['at']]
    gaps = [(b - a).total_seconds() for a, b in zip([fault['at']] + times, times)]
    with store.session() as session:
        redone = session.scalars(select(PageRow.started_at).where(PageRow.attempts >= 2)).all()
        docs = session.scalar(select(func.count(Document.id)))
    out = {'longest_gap': max(gaps) if gaps else None, 'documents_in_store': docs}
    if fault['kind'] == 'kill':
        # Log times are local; on UTC machines (containers, servers) they match utcnow.
        resent = _resent_at(fault['log_dir'])
        out['lost_page_resent_after'] = (resent - fault['at']).total_seconds() if resent else None
        out['lost_page_restarted_after'] = min(((t - fault['at']).total_seconds() for t in redone
                                                if t and t >= fault['at']), default=None)
    else:
        out['first_page_after_restart'] = (times and next(
            ((t - fault['back']).total_seconds() for t in times if t >= fault['back']), None))
    return out


def run(scans: list[str], workers: int, broker: str, work_dir: str, fault_kind: str = '',
        redis_server=None) -> dict:
    # One data dir (the embedded broker's file is in it, and this process's Celery app
    # is made once), a fresh store per run.
    data_dir = os.path.join(work_dir, 'var')
    os.environ['EXTRACTOR_DATA_DIR'] = data_dir
    os.environ['EXTRACTOR_DATABASE_URL'] = f'sqlite:///{work_dir}/store-{workers}-workers.db'
    if broker == 'embedded':
        os.environ.pop('EXTRACTOR_BROKER_URL', None)
        os.environ.pop('EXTRACTOR_RESULT_BACKEND', None)
    else:
        import redis
        redis.Redis.from_url(broker).flushdb()
        os.environ['EXTRACTOR_BROKER_URL'] = os.environ['EXTRACTOR_RESULT_BACKEND'] = broker

    from extractor.pipeline import sha256_of
    from workers import dispatch
    from workers.local import LocalWorkers
    from workers.recovery import live_workers
    from workers.settings import Settings
    from store.db import open_store
    from store.queries import batch_progress, find_batch
    from store.tracking import SubmittedFile, register

    settings = Settings.from_env()
    store = open_store(settings.database_url)
    local = LocalWorkers(workers, os.path.join(data_dir, 'logs'), prefix='bench').start()
    try:
        deadline = time.monotonic() + 120
        while len(live_workers(store)) < workers:
            if time.monotonic() > deadline or local.alive() < workers:
                raise SystemExit(f'workers did not start; see {data_dir}/logs')
            time.sleep(0.2)
        files = [SubmittedFile(p, sha256_of(p), os.path.getsize(p)) for p in scans]
        started = time.monotonic()
        dispatch.send_documents(register(store, 'bench', files).to_queue)
        fault = None
        while True:
            with store.session() as session:
                progress = batch_progress(session, find_batch(session, 'bench'))
            if progress.complete:
                break
            if fault_kind and fault is None and progress.finished >= max(1, len(files) // 4):
                fault = _fault(fault_kind, local, redis_server, store)
            time.sleep(0.5)           # lightly: the workers have every core
        seconds = time.monotonic() - started
        recovery = _recovery(fault, store) if fault else {}
    finally:
        local.stop()
    return {'workers': workers, 'documents': progress.total, 'failed': progress.failed,
            'recovery': recovery,
            'pages': progress.pages_done + progress.pages_failed, 'seconds': seconds,
            'docs_per_min': progress.total / seconds * 60,
            'pages_per_s': (progress.pages_done + progress.pages_failed) / seconds}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--docs', type=int, default=40, help='generated documents (one form each)')
    ap.add_argument('--level', default='clean', help='scan degradation level (default clean)')
    ap.add_argument('--seed', type=int, default=5)
    ap.add_argument('--workers', default='1,2', help='worker process counts to run')
    ap.add_argument('--broker', default='redis', choices=('redis', 'embedded'))
    ap.add_argument('--redis-url', default=None,
                    help='an existing Redis database to use (default: start a redis-server of our own)')
    ap.add_argument('--fault', choices=('kill', 'restart'), default=None)
    args = ap.parse_args()
    if args.fault == 'restart' and (args.broker != 'redis' or args.redis_url):
        print('--fault restart needs --broker redis and the benchmark\'s own server', file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix='queue-bench-') as work_dir:
        redis_server = None
        if args.broker == 'redis' and not args.redis_url:
            from tests.workers.cluster import RedisServer
            redis_server = RedisServer(os.path.join(work_dir, 'redis')).start()
        try:
            return _main(args, work_dir, redis_server)
        finally:
            if redis_server is not None:
                redis_server.kill()


def _main(args, work_dir: str, redis_server) -> int:
    broker = 'embedded'
    if args.broker == 'redis':
        broker = args.redis_url or f'{redis_server.url}/0'
        if not redis_reachable(broker):
            print(f'Redis not reachable at {broker}; use --broker embedded', file=sys.stderr)
            return 1
    scans = generate(os.path.join(work_dir, 'scans'), args.docs, args.level, args.seed)
    print(f'{len(scans)} documents, broker {args.broker}, {os.cpu_count()} cores')
    print(f'{"workers":>7} {"docs":>5} {"pages":>5} {"seconds":>8} {"docs/min":>9} {"pages/s":>8}')
    results = []
    for count in [int(n) for n in args.workers.split(',')]:
        r = run(scans, count, broker, work_dir, args.fault or '', redis_server)
        results.append(r)
        print(f'{r["workers"]:>7} {r["documents"]:>5} {r["pages"]:>5} {r["seconds"]:>8.1f} '
              f'{r["docs_per_min"]:>9.1f} {r["pages_per_s"]:>8.2f}'
              + (f'  ({r["failed"]} failed)' if r['failed'] else ''), flush=True)
        if r['recovery']:
            print(f'        after the {args.fault}: ' + ', '.join(
                f'{k} {v:.1f} s' if isinstance(v, float) else f'{k} {v}'
                for k, v in r['recovery'].items()), flush=True)
    by_count = {r['workers']: r for r in results}
    if 1 in by_count and 2 in by_count:
        scaling = by_count[2]['pages_per_s'] / (2 * by_count[1]['pages_per_s'])
        print(f'scaling 1 -> 2 processes: {scaling:.2f} of linear')
    return 0


if __name__ == '__main__':
    sys.exit(main())
