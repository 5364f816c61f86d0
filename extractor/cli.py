"""The `extract` command: `python -m extractor extract INPUT... --out DIR` (and, with the
queue's and the review app's commands beside it, `perf-extract extract ...`, see
perf_extract/cli.py; this package imports nothing of workers/, review/ or store/).

A thin caller of extractor.pipeline: it groups the inputs into documents, runs them
(in this process, or in N worker processes with --jobs N), writes files and prints a
summary, with one progress bar for the lot. Nothing one document does stops the
others: every failure, expected (an unreadable input) or not (a bug, an input a stage
cannot take, a worker process that died), is one line on stderr (`error: FILE:
reason`); tracebacks go to OUT/extract-errors.log; the exit code is 1 if any failed.

Documents:
  * one per input file (default);
  * --group folder: the page images in one folder are one document, pages in the
    natural order of their names (page2.png before page10.png); PDFs stay one each;
  * --manifest FILE.csv: columns `file` (relative to the manifest's folder), `document`
    (rows with the same value are one document; without the column each row is its
    own), optional `page` (order within the document), and any other columns (档号,
    box, batch, ...): archival metadata, kept in the result as source.metadata.

Outputs never overwrite one another: every name is the input's stem plus the first 8
hex digits of its sha256 (a document of several files: of their hashes in page order),
`<stem>-<hash8>.json`, as the queue's export names clashing stems. Every file is
written under a temporary name and renamed when whole, the JSON last, so `--resume`
can skip a document whose outputs are there: an interrupted run leaves nothing that
counts as done.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import os
import re
import shutil
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Optional

from extractor import __version__, errors
from extractor.export import write_json

HASH_DIGITS = 8
REPORTS_DIR = '.reports'          # OUT/.reports/<name>.json: a done document's report line
_TMP = re.compile(r'\.(\d+)\.tmp(\.[a-z]+)?$')


# ------------------------------------------------------------------ documents

@dataclass
class Job:
    """One document to extract: its files in page order and what it is called."""
    shown: str                         # in `error: SHOWN: reason` lines (a path)
    name: str                          # source.file and the batch report's name
    stem: str                          # output name before the hash
    files: list[str]
    metadata: Optional[dict] = None
    sha256: str = ''
    problem: Optional[str] = None      # known unreadable before starting (a missing file)

    @property
    def output(self) -> str:
        return f'{self.stem}-{self.sha256[:HASH_DIGITS]}'


def natural_key(path: str):
    """page2.png before page10.png; case does not matter."""
    name = os.path.basename(path)
    return [(0, int(part), '') if part.isdigit() else (1, 0, part.lower())
            for part in re.split(r'(\d+)', name) if part]


def _safe_stem(text: str) -> str:
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]+', '_', text).strip(' .') or 'document'


def _stem_of(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def _is_image(path: str) -> bool:
    from extractor import ingest
    return os.path.splitext(path)[1].lower() in ingest.IMAGE_SUFFIXES


def group_jobs(paths: list[str], group: str) -> list[Job]:
    """Documents from input files: one a file, or (group == 'folder') one a folder of
    page images."""
    if group != 'folder':
        return [Job(path, errors.display_name(os.path.basename(path)), _stem_of(path), [path]) for path in paths]
    jobs, folders = [], {}
    for path in paths:
        if _is_image(path):
            folder = os.path.dirname(os.path.abspath(path))
            if folder not in folders:
                folders[folder] = Job(os.path.dirname(path) or '.', '', '', [])
                jobs.append(folders[folder])
            folders[folder].files.append(path)
        else:
            jobs.append(Job(path, errors.display_name(os.path.basename(path)), _stem_of(path), [path]))
    for folder, job in folders.items():
        job.files.sort(key=natural_key)
        if len(job.files) == 1:        # a folder with one image: the image is the document
            only = job.files[0]
            job.shown, job.name, job.stem = only, errors.display_name(os.path.basename(only)), _stem_of(only)
        else:
            base = os.path.basename(folder) or 'pages'
            job.name, job.stem = errors.display_name(base), base
    return jobs


class ManifestError(ValueError):
    pass


_FILE_COLUMNS = ('file', '文件', '文件名')
_DOCUMENT_COLUMNS = ('document', '文档', '件')
_PAGE_COLUMNS = ('page', '页', '页码')


def read_manifest(path: str) -> list[Job]:
    """Documents from a manifest CSV (UTF-8, with or without BOM): file, document, page
    and metadata columns. ManifestError if it cannot be used at all."""
    try:
        with open(path, encoding='utf-8-sig', newline='') as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            rows = [{(k or '').strip(): (v or '').strip() if isinstance(v, str) else '' for k, v in row.items()}
                    for row in reader]
    except OSError as err:
        raise ManifestError(f'cannot read manifest {errors.printable(path)}: {err.strerror or err}') from None
    except (UnicodeDecodeError, csv.Error) as err:
        raise ManifestError(f'manifest {errors.printable(path)} is not a UTF-8 CSV file: {err}') from None

    def column(names):
        return next((h for h in header if h.lower() in names), None)
    file_col, doc_col, page_col = column(_FILE_COLUMNS), column(_DOCUMENT_COLUMNS), column(_PAGE_COLUMNS)
    if file_col is None:
        raise ManifestError(f'manifest {errors.printable(path)} has no `file` column '
                            f'(columns: {", ".join(header) or "none"})')
    meta_cols = [h for h in header if h and h not in (file_col, doc_col, page_col)]
    base = os.path.dirname(os.path.abspath(path))
    jobs: dict[str, Job] = {}
    order: dict[str, list] = {}
    for number, row in enumerate(rows, start=2):
        name = row.get(file_col, '')
        if not name:
            continue
        file_path = name if os.path.isabs(name) else os.path.join(base, name)
        key = row.get(doc_col, '') if doc_col else ''
        key = key or name
        job = jobs.get(key)
        if job is None:
            stem = _safe_stem(key if doc_col and row.get(doc_col) else _stem_of(name))
            job = jobs[key] = Job(f'{errors.printable(path)}: {key}' if doc_col else file_path,
                                  key if doc_col else os.path.basename(name), stem, [], {})
            order[key] = []
        page_text = row.get(page_col, '') if page_col else ''
        try:
            page = float(page_text) if page_text else None
        except ValueError:
            raise ManifestError(f'manifest {errors.printable(path)} line {number}: page {page_text!r} '
                                f'is not a number') from None
        order[key].append((page if page is not None else float('inf'), len(order[key]), file_path))
        for col in meta_cols:
            value = row.get(col, '')
            if value and not job.metadata.get(col):
                job.metadata[col] = value
            elif value and job.metadata.get(col) != value and not job.problem:
                job.problem = (f'manifest rows of this document differ in {col} '
                               f'({job.metadata[col]!r}, {value!r})')
    for key, job in jobs.items():
        job.files = [p for _, _, p in sorted(order[key])]
        job.metadata = {k: v for k, v in job.metadata.items()} or None
        if not job.problem:
            missing = [p for p in job.files if not os.path.exists(p)]
            if missing:
                job.problem = f'file not found: {errors.printable(missing[0])}'
    if not jobs:
        raise ManifestError(f'manifest {errors.printable(path)} lists no files')
    return list(jobs.values())


def _digest(job: Job, sha_of) -> str:
    if len(job.files) == 1 and job.metadata is None:
        return sha_of(job.files[0])
    # Several files (or a manifest's document): the hash of their hashes in page order.
    joined = '\n'.join(sha_of(p) for p in job.files)
    return hashlib.sha256(f'perf-extract document\n{joined}\n'.encode()).hexdigest()


# ------------------------------------------------------------------ one document

@dataclass
class Options:
    """What a worker needs to extract a document (picklable for --jobs)."""
    out: str
    dpi: int = 200
    tables: Optional[str] = None
    debug: Optional[str] = None
    pdf: Optional[str] = None
    engine: str = 'cascade'
    verbose: bool = False


@dataclass
class Outcome:
    index: int
    ok: bool = False
    reason: str = ''
    pages: Optional[int] = None
    report: object = None              # DocumentReport
    lines: list = field(default_factory=list)
    # Pages turned away as no known form, as `page N: reason` (shown after `error: FILE:`).
    unmatched: list = field(default_factory=list)
    internal: bool = False


class FileFailed(Exception):
    """One input failed; str(err) is the reason shown after `error: FILE:`."""

    def __init__(self, reason: str, pages: Optional[int] = None):
        super().__init__(reason)
        self.pages = pages


class ErrorLog:
    """Tracebacks of internal errors, appended to OUT/extract-errors.log (by every worker
    process, one write a traceback): the console gets one line per failed input, the
    log what a developer needs."""

    def __init__(self, path: str):
        self.path, self.count = path, 0

    def write(self, path: str, err: BaseException) -> None:
        self.count += 1
        text = (f'--- {time.strftime("%Y-%m-%d %H:%M:%S")} {errors.printable(path)}\n'
                + ''.join(traceback.format_exception(type(err), err, err.__traceback__)))
        try:
            with open(self.path, 'a', encoding='utf-8', errors='backslashreplace') as fh:
                fh.write(text)
        except OSError:
            pass                     # the console line is there; the log is extra


def _tmp(path: str) -> str:
    return f'{path}.{os.getpid()}.tmp'


def _publish_folder(tmp: str, final: str) -> None:
    if os.path.isdir(final):
        shutil.rmtree(final)          # the same input's earlier, complete output
    os.replace(tmp, final)


def _page_writer(job: Job, tables_dir, debug_dir):
    """Per page: the ruled tables as HTML and the debug overlay, into temporary folders
    renamed when the document is done."""
    import cv2
    from extractor import grid as grid_stage
    folders = {}
    for kind, base in (('tables', tables_dir), ('debug', debug_dir)):
        if base:
            folders[kind] = _tmp(os.path.join(base, job.output))
            os.makedirs(folders[kind], exist_ok=True)

    def on_page(page, result, artifacts):
        if 'tables' in folders:
            parts = []
            for t_index, table in enumerate(result.grid.tables):
                texts = {c.cell: '\n'.join(l.text for l in c.lines) for c in result.cells if c.table == t_index}
                parts.append(grid_stage.table_html(table, texts))
            body = '\n'.join(parts) or '<p>no ruled table found</p>'
            with open(os.path.join(folders['tables'], f'page-{result.number:03d}.html'), 'w',
                      encoding='utf-8') as fh:
                fh.write(f'<!doctype html>\n<html><head><meta charset="utf-8"><title>{job.stem} page '
                         f'{result.number}</title></head><body>\n{body}\n</body></html>\n')
        if 'debug' in folders:
            cv2.imwrite(os.path.join(folders['debug'], f'page-{result.number:03d}.png'),
                        grid_stage.draw_overlay(artifacts.gray, result.grid))

    def publish():
        for kind, base in (('tables', tables_dir), ('debug', debug_dir)):
            if kind in folders:
                _publish_folder(folders[kind], os.path.join(base, job.output))

    def discard():
        for tmp in folders.values():
            shutil.rmtree(tmp, ignore_errors=True)
    return on_page, publish, discard


def _pages(job: Job, dpi: int):
    """The document's pages in order, numbered 1.. across its files."""
    from extractor import ingest
    number = 0
    for path in job.files:
        for page in ingest.iter_pages(path, dpi):
            number += 1
            page.number = number
            yield page


def extract_document(job: Job, opts: Options, recognizer, error_log: ErrorLog, on_page=None):
    """Extract one document and write its outputs; FileFailed with a one-line reason if
    it cannot be read or a page fails, whatever the exception."""
    import tempfile

    import cv2

    from extractor import ingest, pipeline
    from models import Source
    total, pages_done, current = None, 0, job.files[0] if job.files else job.shown
    if job.problem:
        raise FileFailed(job.problem)
    writer = publish = discard = None
    cleaned = None
    try:
        total = 0
        for path in job.files:
            current = path
            total += ingest.count_pages(path)
        writer, publish, discard = _page_writer(job, opts.tables, opts.debug)
        # The searchable PDF is made of the cleaned pages (upright and straight, in the
        # frame the text boxes are in), kept on disk until the document is done.
        cleaned = (tempfile.TemporaryDirectory(prefix='.pages-', suffix=f'.{os.getpid()}.tmp', dir=opts.pdf)
                   if opts.pdf else None)
        page_files, results = [], []
        for page in _pages(job, opts.dpi):
            current = page.source or current
            artifacts = pipeline.PageArtifacts()
            result = pipeline.process_page(page, recognizer, artifacts)
            results.append(result)
            pages_done += 1
            writer(page, result, artifacts)
            if cleaned is not None:
                page_files.append(os.path.join(cleaned.name, f'{page.number:05d}.png'))
                cv2.imwrite(page_files[-1], artifacts.gray)
            if on_page:
                on_page()
        source = Source(file=job.name, sha256=job.sha256, pages=total, metadata=job.metadata)
        doc = pipeline.assemble(source, results)
        if cleaned is not None:
            from extractor.searchable_pdf import SearchablePdfError, write_searchable_pdf
            target = os.path.join(opts.pdf, f'{job.output}.pdf')
            try:
                write_searchable_pdf(page_files, results, _tmp(target) + '.pdf')
                os.replace(_tmp(target) + '.pdf', target)
            except SearchablePdfError as err:
                raise FileFailed(f'searchable PDF not written: {err}', total) from None
            finally:
                if os.path.exists(_tmp(target) + '.pdf'):
                    os.unlink(_tmp(target) + '.pdf')
        publish()
        return doc
    except FileFailed:
        raise
    except ingest.IngestError as err:
        where = f'{errors.printable(os.path.basename(current))}: ' if len(job.files) > 1 else ''
        raise FileFailed(where + str(err), total or None) from None
    except Exception as err:          # a bug, or an input a stage cannot take
        error_log.write(job.shown, err)
        # Pages run in order: the one being worked on when it failed is the next one.
        where = f'page {pages_done + 1}: ' if total and pages_done < total else ''
        raise FileFailed(where + errors.internal_error(err), total or None) from None
    finally:
        if cleaned is not None:
            cleaned.cleanup()
        if discard is not None:
            discard()


def _summary_lines(job: Job, doc, summary, verbose: bool) -> list[str]:
    reasons = ', '.join(f'{k} {v}' for k, v in summary.by_reason.items())
    label = os.path.basename(job.shown) if job.files == [job.shown] else job.name
    lines = [f'{errors.printable(label)}: {len(doc.forms)} form(s), {doc.source.pages} page(s), '
             f'{summary.flagged_fields} of {summary.fields} field(s) flagged'
             + (f' ({reasons})' if reasons else '')
             + f', ~{summary.residual_errors:.1f} wrong value(s) expected among the rest']
    if verbose:
        for i, form in enumerate(doc.forms):
            name = form.get(form.template.header_keys[0]) if form.template.header_keys else None
            lines.append(f'  form {i}: {form.title} pages {form.pages} {name!r}: '
                         f'{len(form.funds)} funds rows, {len(form.indicators)} indicators, '
                         f'total {form.total.weight if form.total else None}/{form.total.score if form.total else None}')
        for f in doc.review:
            lines.append(f'    flag form {f.form} {f.field} [{f.reason}] {f.value!r}: {f.detail}')
    return lines


def run_job(index: int, job: Job, opts: Options, recognizer, error_log: ErrorLog, on_page=None) -> Outcome:
    """Extract one document and write its outputs and report line: an Outcome whatever
    happened."""
    from extractor import pipeline, report
    outcome = Outcome(index)
    before = error_log.count
    try:
        doc = extract_document(job, opts, recognizer, error_log, on_page)
    except FileFailed as err:
        outcome.reason, outcome.pages = str(err), err.pages
        outcome.report = report.failed_report(job.name, str(err), err.pages)
        outcome.internal = error_log.count > before
        return outcome
    outcome.pages = doc.source.pages
    outcome.unmatched = [f'page {u.page}: {u.reason}' for u in doc.unmatched_pages]
    if not doc.forms:
        # Nothing written: the JSON is what marks a document done.
        outcome.reason = pipeline.no_form_reason(doc)
        outcome.unmatched = []
        outcome.report = report.failed_report(job.name, outcome.reason, doc.source.pages)
        return outcome
    summary = report.document_report(doc)
    write_json(os.path.join(opts.out, REPORTS_DIR, f'{job.output}.json'), summary.model_dump(mode='json'))
    # Last: the JSON is what `--resume` takes as done.
    write_json(os.path.join(opts.out, f'{job.output}.json'), doc.contract())
    outcome.ok, outcome.report = True, summary
    outcome.lines = _summary_lines(job, doc, summary, opts.verbose)
    return outcome


# ------------------------------------------------------------------ worker processes

_worker: dict = {}


def _init_worker(opts: Options) -> None:
    # One OCR thread a process, as the queue's workers: N processes use N cores.
    os.environ.setdefault('EXTRACTOR_OCR_THREADS', '1')
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)       # Ctrl-C is the parent's to handle
    from extractor import ocr
    _worker['recognizer'] = ocr.make_recognizer(opts.engine)
    _worker['log'] = ErrorLog(os.path.join(opts.out, 'extract-errors.log'))


def _work(index: int, job: Job, opts: Options) -> Outcome:
    log = _worker['log']
    try:
        return run_job(index, job, opts, _worker['recognizer'], log)
    except BaseException as err:      # never lose the outcome to a pickling or write error
        log.write(job.shown, err)
        return Outcome(index, reason=errors.internal_error(err), internal=True)


def done_before(job: Job, opts: Options) -> bool:
    """Every output the run asks for is there (each was renamed into place whole)."""
    wanted = [os.path.join(opts.out, f'{job.output}.json')]
    if opts.pdf:
        wanted.append(os.path.join(opts.pdf, f'{job.output}.pdf'))
    wanted += [os.path.join(base, job.output) for base in (opts.tables, opts.debug) if base]
    return all(os.path.exists(p) for p in wanted)


def _old_report(job: Job, opts: Options):
    from extractor import report
    from models import Document
    from models.report import DocumentReport
    try:
        with open(os.path.join(opts.out, REPORTS_DIR, f'{job.output}.json'), encoding='utf-8') as fh:
            import json
            return DocumentReport.model_validate(json.load(fh))
    except (OSError, ValueError):
        pass
    try:
        with open(os.path.join(opts.out, f'{job.output}.json'), encoding='utf-8') as fh:
            import json
            return report.document_report(Document.model_validate(json.load(fh)))
    except (OSError, ValueError):
        return None


def _remove_stale_temporaries(folders) -> None:
    """Half-written files of a run that was killed (their process is gone)."""
    for folder in folders:
        if not folder or not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            m = _TMP.search(name)
            if not m:
                continue
            try:
                os.kill(int(m.group(1)), 0)
                continue                       # still running (another extract)
            except ProcessLookupError:
                pass
            except (PermissionError, OverflowError, ValueError):
                continue
            path = os.path.join(folder, name)
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                try:
                    os.unlink(path)
                except OSError:
                    pass


class Progress:
    """One bar for the run: documents done of M, pages a second, time left."""

    def __init__(self, total: int, show: bool):
        from tqdm import tqdm
        self.bar = tqdm(total=total, unit='file', desc='extract', disable=not show, dynamic_ncols=True,
                        smoothing=0.05)
        self.pages, self.started = 0, time.monotonic()

    def page(self, count: int = 1) -> None:
        self.pages += count
        elapsed = time.monotonic() - self.started
        self.bar.set_postfix_str(f'{self.pages} pages, {self.pages / elapsed if elapsed else 0:.2f} pages/s',
                                 refresh=False)
        self.bar.refresh()

    def file(self, pages: int = 0) -> None:
        if pages:
            self.page(pages)
        self.bar.update(1)

    def write(self, text: str, err: bool = False) -> None:
        self.bar.write(text, file=sys.stderr if err else sys.stdout)

    def close(self) -> None:
        self.bar.close()


def _run_parallel(todo, opts: Options, jobs: int, progress: Progress, handle) -> None:
    """The documents in `jobs` worker processes (spawned: no inherited state). A worker
    that dies (killed, out of memory, a crash in native code) takes only the documents
    it had: they are sent again once, then failed alone."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool
    context = multiprocessing.get_context('spawn')
    pending = list(todo)                 # (index, job), in order
    pending.reverse()
    crashes: dict[int, int] = {}
    while pending:
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_worker,
                                   initargs=(opts,))
        running = {}
        broken = False
        try:
            while pending or running:
                while pending and len(running) < jobs * 2 and not broken:
                    index, job = pending.pop()
                    running[pool.submit(_work, index, job, opts)] = (index, job)
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    index, job = running.pop(future)
                    try:
                        handle(future.result())
                    except BrokenProcessPool:
                        broken = True
                        crashes[index] = crashes.get(index, 0) + 1
                        if crashes[index] >= 2:
                            handle(Outcome(index, reason='the worker process died (killed, out of memory '
                                                         'or a crash in native code)'))
                        else:
                            pending.append((index, job))
                if broken and not running:
                    break
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def cmd_extract(args) -> int:
    from extractor import ingest, ocr, pipeline, report
    if not 50 <= args.dpi <= 600:
        print('error: --dpi must be between 50 and 600', file=sys.stderr)
        return 2
    if args.jobs < 1:
        print('error: --jobs must be at least 1', file=sys.stderr)
        return 2
    failed = 0

    def folder_error(path: str, reason: str) -> None:
        nonlocal failed
        print(f'error: {errors.printable(path)}: {reason}', file=sys.stderr)
        failed += 1
    documents: list[Job] = []
    in_manifest: set[str] = set()
    if args.manifest:
        try:
            documents = read_manifest(args.manifest)
        except ManifestError as err:
            print(f'error: {err}', file=sys.stderr)
            return 2
        in_manifest = {os.path.realpath(p) for job in documents for p in job.files}
    if not args.inputs and not args.manifest:
        print('error: give INPUT files or folders, or --manifest FILE.csv', file=sys.stderr)
        return 2
    inputs = ingest.list_inputs(args.inputs, on_error=folder_error) if args.inputs else []
    inputs = [p for p in inputs if os.path.realpath(p) not in in_manifest]
    documents += group_jobs(inputs, args.group)
    if not documents:
        print('error: no input files found', file=sys.stderr)
        return 1
    opts = Options(out=args.out, dpi=args.dpi, tables=args.tables, debug=args.debug, pdf=args.pdf,
                   engine=args.engine, verbose=args.verbose)
    try:
        for folder in (args.out, os.path.join(args.out, REPORTS_DIR), args.pdf, args.tables, args.debug):
            if folder:
                os.makedirs(folder, exist_ok=True)
    except OSError as err:
        print(f'error: cannot create {errors.printable(err.filename or args.out)}: {err.strerror or err}',
              file=sys.stderr)
        return 2
    try:
        ingest.limits()
    except ValueError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    try:
        recognizer = ocr.make_recognizer(args.engine)
    except (ImportError, FileNotFoundError, ValueError) as err:
        print(f'error: OCR engine {args.engine!r} is not available: {err}', file=sys.stderr)
        return 2
    _remove_stale_temporaries([args.out, os.path.join(args.out, REPORTS_DIR), args.pdf, args.tables, args.debug])
    error_log = ErrorLog(os.path.join(args.out, 'extract-errors.log'))
    show = not args.quiet and sys.stderr.isatty() or args.progress
    reports: list = [None] * len(documents)

    # Names: the content's hash. Unreadable files fail here, alone.
    hashes: dict[str, str] = {}

    def sha_of(path: str) -> str:
        if path not in hashes:
            ingest.check_regular_file(path)
            hashes[path] = pipeline.sha256_of(path)
        return hashes[path]
    todo, skipped = [], 0
    for index, job in enumerate(documents):
        if not job.problem:
            try:
                job.sha256 = _digest(job, sha_of)
            except ingest.IngestError as err:
                job.problem = str(err)
            except OSError as err:
                job.problem = f'cannot read file: {err.strerror or err}'
        if job.problem:
            todo.append((index, job))          # fails at once, with its reason
            continue
        # The same content under the same stem twice (a copy in another folder) gets
        # the same name: written twice, identical, never another input's output.
        if args.resume and done_before(job, opts):
            skipped += 1
            reports[index] = _old_report(job, opts) or False
            if args.verbose:
                print(f'{errors.printable(job.name)}: done before ({job.output}.json), skipped')
            continue
        todo.append((index, job))

    progress = Progress(len(todo), show)
    internal = 0

    def handle(outcome: Outcome) -> None:
        nonlocal failed, internal
        job = documents[outcome.index]
        reports[outcome.index] = outcome.report or report.failed_report(job.name, outcome.reason, outcome.pages)
        internal += outcome.internal
        for line in outcome.unmatched:
            progress.write(f'error: {errors.printable(job.shown)}: {line}', err=True)
        if outcome.ok:
            for line in outcome.lines:
                progress.write(line)
        else:
            failed += 1
            progress.write(f'error: {errors.printable(job.shown)}: {outcome.reason}', err=True)
        # In this process pages are counted as they are done; from workers, per document.
        progress.file((outcome.pages or 0) if parallel and outcome.ok else 0)

    interrupted = False
    parallel = args.jobs > 1 and len(todo) > 1
    try:
        if not parallel:
            for index, job in todo:
                handle(run_job(index, job, opts, recognizer, error_log, on_page=progress.page))
        else:
            del recognizer            # the workers make their own
            _run_parallel(todo, opts, args.jobs, progress, handle)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        progress.close()
    done = [r for r in reports if r]
    if done:
        batch = report.batch_report(done)
        write_json(os.path.join(args.out, 'batch-report.json'), batch.model_dump(mode='json'))
        if len(done) > 1 or args.verbose:
            print()
            print(report.format_report(batch))
        print(f'report: {errors.printable(os.path.join(args.out, "batch-report.json"))}')
    if skipped:
        print(f'resume: {skipped} document(s) done before, skipped')
    if internal:
        print(f'{internal} internal error(s); tracebacks in {errors.printable(error_log.path)}',
              file=sys.stderr)
    if interrupted:
        print('\ninterrupted; run again with --resume to go on', file=sys.stderr)
        return 130
    return 1 if failed else 0


# ------------------------------------------------------------------ command line

def add_commands(subparsers) -> None:
    p = subparsers.add_parser(
        'extract', help='extract forms from scanned PDFs or images, on this machine',
        description='Extract forms from scanned PDFs or page images on this machine (no queue, '
                    'no store). Outputs are named <stem>-<hash8> after the input\'s content, so '
                    'no output overwrites another.')
    p.add_argument('inputs', nargs='*', metavar='INPUT', help='PDF, PNG, JPEG or TIFF files, or folders')
    p.add_argument('--out', required=True, metavar='DIR', help='write DIR/<input stem>-<hash8>.json')
    p.add_argument('--group', choices=('file', 'folder'), default='file',
                   help='file: one document per input file (default); folder: the page images '
                        'in a folder are one document, in the natural order of their names')
    p.add_argument('--manifest', metavar='FILE.csv',
                   help='CSV mapping files to documents: columns file, document, page and any '
                        'archival metadata (档号, box, batch, ...), kept in the result')
    p.add_argument('--resume', action='store_true',
                   help='skip documents whose outputs a previous run wrote (same content)')
    p.add_argument('-j', '--jobs', type=int, default=1, metavar='N',
                   help='documents in N worker processes at once (default 1: this process)')
    p.add_argument('--dpi', type=int, default=200, help='rendering resolution for PDFs (default 200)')
    p.add_argument('--tables', metavar='DIR', help='also write each page\'s ruled tables as HTML')
    p.add_argument('--debug', metavar='DIR', help='also write per-page PNG overlays of lines and cells')
    p.add_argument('--pdf', metavar='DIR', help='also write DIR/<stem>-<hash8>.pdf: the cleaned pages with '
                   'an invisible, searchable text layer (PDF/A-2b where it validates)')
    p.add_argument('--engine', default=os.environ.get('EXTRACTOR_OCR_ENGINE', 'cascade'),
                   choices=('cascade', 'small', 'tiny', 'paddleocr'),
                   help='OCR engine (default cascade; paddleocr needs the optional extra)')
    p.add_argument('-v', '--verbose', action='store_true', help='print forms and every flag')
    p.add_argument('-q', '--quiet', action='store_true', help='no progress bar')
    p.add_argument('--progress', action='store_true', help='progress bar even when not on a terminal')
    p.set_defaults(func=cmd_extract)


# Commands of the umbrella CLI (perf_extract/cli.py), not of this package.
_ELSEWHERE = ('submit', 'status', 'export', 'worker', 'review', 'users')


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='python -m extractor',
                                     description='Extract scanned 项目支出绩效自评表 forms (the `extract` '
                                                 'command; the queue and review commands are `perf-extract`\'s).')
    parser.add_argument('--version', action='version', version=__version__)
    add_commands(parser.add_subparsers(dest='command', required=True))
    return parser


def run(args) -> int:
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print('\ninterrupted', file=sys.stderr)
        return 130


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in _ELSEWHERE:
        print(f'error: `{argv[0]}` is a command of perf-extract: run `perf-extract {argv[0]} ...` '
              f'(or `python -m perf_extract {argv[0]} ...`)', file=sys.stderr)
        return 2
    return run(build_parser().parse_args(argv))
