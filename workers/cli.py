"""`submit`, `status`, `export` and `worker`: the queue's commands of `perf-extract`.

perf_extract/cli.py adds them with `add_commands(subparsers)`; `python -m workers ...`
runs them on their own. Every one takes --config FILE, --db URL and --data-dir DIR
(store/settings.py: options over EXTRACTOR_* variables over the config file). Nothing
heavy is imported until a command runs.
"""
from __future__ import annotations

import argparse
import os
import sys
import time


def add_commands(subparsers) -> None:
    from store.settings import add_options
    p = subparsers.add_parser(
        'submit', help='queue scans for the workers as a batch',
        description='Store the files in a batch and queue them for the workers. A file '
                    'already in the store (same content) is not processed again.')
    p.add_argument('paths', nargs='+', metavar='PATH', help='PDF or image files, or folders (recursive)')
    p.add_argument('--batch', metavar='NAME', help='batch name (default: batch-<date>-<time>)')
    p.add_argument('--wait', action='store_true',
                   help='show progress until every document is extracted or failed')
    p.add_argument('--workers', type=int, metavar='N', default=None,
                   help='with --wait: if no worker is running, start N local worker processes '
                        'for the duration (default: one per core; 0: never)')
    p.add_argument('--retry-failed', action='store_true',
                   help='process again the given files that failed before')
    p.add_argument('-q', '--quiet', action='store_true', help='no progress bar')
    add_options(p)
    p.set_defaults(func=cmd_submit)

    p = subparsers.add_parser('status', help='counts by state and failures of a batch (or all batches)')
    p.add_argument('batch', nargs='?', metavar='BATCH')
    add_options(p)
    p.set_defaults(func=cmd_status)

    p = subparsers.add_parser('export', help='write a batch\'s results as JSON, CSV, XLSX or searchable PDF')
    p.add_argument('batch', metavar='BATCH')
    p.add_argument('--format', choices=('json', 'csv', 'xlsx', 'pdf'), default='json',
                   help='json: <input stem>.json per document; csv: a row per block row of '
                        'every form; xlsx: a sheet per block; pdf: <input stem>.pdf per '
                        'document, searchable PDF/A (default json)')
    p.add_argument('--out', required=True, metavar='DIR')
    add_options(p)
    p.set_defaults(func=cmd_export)

    p = subparsers.add_parser(
        'worker', help='run a queue worker in the foreground (celery -A workers worker)',
        description='Run one Celery worker with these settings until stopped (Ctrl-C or SIGTERM: '
                    'it finishes the page in hand). Start one per machine, or several.')
    p.add_argument('-c', '--concurrency', type=int, default=1, metavar='N',
                   help='pages at a time, one process each (default 1)')
    p.add_argument('-n', '--hostname', metavar='NAME', help='worker name (default: celery\'s, worker@host)')
    p.add_argument('-l', '--loglevel', default='INFO', help='log level (default INFO)')
    add_options(p)
    p.set_defaults(func=cmd_worker)


def _settings(args=None):
    from store.settings import Settings
    try:
        return Settings.from_args(args) if args is not None else Settings.from_env()
    except ValueError as err:
        print(f'error: {err}', file=sys.stderr)
        raise SystemExit(2)


def _store(settings):
    from store.db import open_store
    return open_store(settings.database_url)


# ------------------------------------------------------------------ submit

def _hash_inputs(paths: list[str]):
    from extractor import ingest, pipeline
    from extractor.errors import printable
    from store.tracking import SubmittedFile
    files, unreadable = [], 0

    def refuse(path: str, reason: str) -> None:
        nonlocal unreadable
        print(f'error: {printable(path)}: {reason}', file=sys.stderr)
        unreadable += 1
    for path in ingest.list_inputs(paths, on_error=refuse):
        absolute = os.path.abspath(path)
        try:
            absolute.encode('utf-8')
        except UnicodeEncodeError:
            refuse(path, 'the file name is not valid UTF-8 (the store keeps names as text); '
                         'rename the file or use `extract`')
            continue
        try:
            # A named pipe or a device would block or never end: look before hashing.
            size = ingest.check_regular_file(absolute)
            files.append(SubmittedFile(absolute, pipeline.sha256_of(absolute), size))
        except ingest.IngestError as err:
            refuse(path, str(err))
        except OSError as err:
            # Without its content there is no key to store it under.
            refuse(path, f'cannot read file: {err.strerror or err}')
    return files, unreadable


def cmd_submit(args) -> int:
    from workers import dispatch
    from store.tracking import register
    settings = _settings(args)
    files, unreadable = _hash_inputs(args.paths)
    if not files:
        print('error: no input files found', file=sys.stderr)
        return 1
    store = _store(settings)
    batch = args.batch or time.strftime('batch-%Y%m%d-%H%M%S')
    outcome = register(store, batch, files, retry_failed=args.retry_failed)
    try:
        dispatch.send_documents(outcome.to_queue)
    except Exception as err:
        # Stored is what counts: the workers' recovery sweep queues them later.
        print(f'warning: could not reach the broker ({type(err).__name__}: {err}); the documents '
              f'are stored and a worker will queue them on its next recovery sweep', file=sys.stderr)
    already = ', '.join(f'{n} {s}' for s, n in sorted(outcome.already.items()))
    print(f'batch {batch}: {len(outcome.to_queue)} document(s) queued'
          + (f', {sum(outcome.already.values())} already in the store ({already})' if already else ''))
    if not args.wait:
        return 1 if unreadable else 0
    progress = wait_for_batch(store, settings, batch, args.workers, show=not args.quiet)
    if progress is None:
        return 130
    return 1 if (progress.failed or unreadable) else 0


def _describe(progress) -> str:
    return (f'{progress.finished}/{progress.total} documents, '
            f'{progress.failed} failed; pages {progress.pages_done + progress.pages_failed}/'
            f'{progress.pages_total or "?"}')


def wait_for_batch(store, settings, batch: str, workers: int | None, show: bool = True):
    """Poll the store until the batch is complete, starting local workers if nobody
    is there to do the work. Returns the final progress, None if interrupted."""
    from tqdm import tqdm

    from workers.local import LocalWorkers
    from workers.recovery import live_workers
    from store.queries import batch_progress, failures, find_batch

    def read():
        with store.session() as session:
            found = find_batch(session, batch)
            return batch_progress(session, found), failures(session, found)

    progress, failed = read()
    on_terminal = show and sys.stderr.isatty()
    bar = tqdm(total=progress.total, unit='doc', desc=batch[:24], disable=not on_terminal)
    local, next_check, last_line, started = None, 0.0, '', time.monotonic()
    try:
        while not progress.complete:
            if local is None and workers != 0 and time.monotonic() >= next_check:
                next_check = time.monotonic() + 5
                if not live_workers(store):
                    count = workers or os.cpu_count() or 1
                    print(f'no worker is running: starting {count} local worker process(es) '
                          f'(logs in {os.path.join(settings.data_dir, "logs")})', file=sys.stderr)
                    local = LocalWorkers(count, os.path.join(settings.data_dir, 'logs'),
                                         env=settings.child_env()).start()
            if local is not None and local.alive() == 0:
                print('error: the local workers exited; see their logs in '
                      f'{os.path.join(settings.data_dir, "logs")}', file=sys.stderr)
                return None
            time.sleep(1)
            progress, failed = read()
            bar.n = progress.finished
            bar.set_postfix_str(f'pages {progress.pages_done + progress.pages_failed}/'
                                f'{progress.pages_total or "?"}, failed {progress.failed}', refresh=True)
            line = _describe(progress)
            if show and not on_terminal and line != last_line:
                print(line, file=sys.stderr)
                last_line = line
    except KeyboardInterrupt:
        print(f'\nstopped waiting; batch {batch} goes on with the workers '
              f'(see `status {batch}`)', file=sys.stderr)
        return None
    finally:
        bar.close()
        if local is not None:
            local.stop()
    from extractor.errors import printable
    for path, reason in failed:
        print(f'error: {printable(path)}: {reason}', file=sys.stderr)
    print(f'batch {batch}: {progress.documents.get("extracted", 0)} extracted, {progress.failed} failed, '
          f'{progress.pages_done} page(s) read in {time.monotonic() - started:.0f} s')
    return progress


# ------------------------------------------------------------------ status

def cmd_status(args) -> int:
    from workers.recovery import live_workers
    from store.models import Status
    from store.queries import all_batches, batch_progress, failures, find_batch
    settings = _settings(args)
    store = _store(settings)
    with store.session() as session:
        if args.batch is None:
            batches = all_batches(session)
            if not batches:
                print('no batches yet')
            for progress in batches:
                counts = ', '.join(f'{progress.documents.get(s, 0)} {s}' for s in Status.ALL
                                   if progress.documents.get(s))
                print(f'{progress.name}: {progress.total} document(s): {counts or "empty"}')
            failed = []
        else:
            batch = find_batch(session, args.batch)
            if batch is None:
                print(f'error: no batch named {args.batch!r}', file=sys.stderr)
                return 1
            progress = batch_progress(session, batch)
            failed = failures(session, batch)
            print(f'batch {batch.name}: {progress.total} document(s), '
                  f'pages {progress.pages_done} done, {progress.pages_failed} failed, '
                  f'{progress.pages_total} known')
            for state in Status.ALL:
                print(f'  {state:<10} {progress.documents.get(state, 0)}')
            from extractor.report import format_report
            from store.queries import batch_report
            summary = batch_report(session, batch)
            if summary.documents:
                print()
                print(format_report(summary))
                print()
    if failed:
        print('failures:')
        for path, reason in failed:
            print(f'  {path}: {reason}')
    workers = live_workers(store)
    print(f'workers running: {len(workers)}' + (f' ({", ".join(sorted(workers))})' if workers else ''))
    return 0


# ------------------------------------------------------------------ export

def cmd_export(args) -> int:
    from workers.export import ExportError, export
    from store.queries import batch_progress, find_batch
    settings = _settings(args)
    store = _store(settings)
    with store.session() as session:
        batch = find_batch(session, args.batch)
        progress = batch_progress(session, batch) if batch else None
    if progress and not progress.complete:
        print(f'warning: {progress.total - progress.finished} document(s) of batch {args.batch} '
              f'are not finished yet; exporting the others', file=sys.stderr)
    try:
        written = export(store, args.batch, args.format, args.out)
    except ExportError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    from extractor.export import write_json
    from store.queries import batch_report
    with store.session() as session:
        batch = find_batch(session, args.batch)
        summary = batch_report(session, batch)
    report_path = os.path.join(args.out, 'batch-report.json')
    write_json(report_path, summary.model_dump(mode='json'))
    print(f'wrote {len(written)} file(s) to {args.out}, and the batch report {report_path}')
    return 0


# ------------------------------------------------------------------ worker

def cmd_worker(args) -> int:
    """Replace this process by a Celery worker that reads the same settings (the
    resolved locations are handed over as EXTRACTOR_* variables)."""
    from workers.local import worker_command, worker_env
    settings = _settings(args)
    if args.concurrency < 1:
        print('error: --concurrency must be at least 1', file=sys.stderr)
        return 2
    os.makedirs(settings.data_dir, exist_ok=True)
    command = worker_command(args.hostname, args.concurrency, args.loglevel)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, command, worker_env(settings.child_env()))
    return 0                      # not reached


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='python -m workers',
                                     description='Batch extraction through the queue and the store.')
    add_commands(parser.add_subparsers(dest='command', required=True))
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
