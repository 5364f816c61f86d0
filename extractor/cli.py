"""Command line: `python -m extractor extract INPUT... --out DIR`.

A thin caller of extractor.pipeline: it only walks the inputs, shows progress, writes
files and prints a summary. Nothing one input does stops the others: every failure,
expected (an unreadable input) or not (a bug, an input a stage cannot take), is one
line on stderr (`error: FILE: reason`); tracebacks go to OUT/extract-errors.log; the
exit code is 1 if any input failed.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from typing import Optional

from extractor import __version__, errors
from extractor.export import write_json


def _page_writer(stem: str, tables_dir, debug_dir):
    import cv2
    from extractor import grid as grid_stage

    def on_page(page, result, artifacts):
        if tables_dir:
            folder = os.path.join(tables_dir, stem)
            os.makedirs(folder, exist_ok=True)
            parts = []
            for t_index, table in enumerate(result.grid.tables):
                texts = {c.cell: '\n'.join(l.text for l in c.lines) for c in result.cells if c.table == t_index}
                parts.append(grid_stage.table_html(table, texts))
            body = '\n'.join(parts) or '<p>no ruled table found</p>'
            with open(os.path.join(folder, f'page-{result.number:03d}.html'), 'w', encoding='utf-8') as fh:
                fh.write(f'<!doctype html>\n<html><head><meta charset="utf-8"><title>{stem} page {result.number}'
                         f'</title></head><body>\n{body}\n</body></html>\n')
        if debug_dir:
            folder = os.path.join(debug_dir, stem)
            os.makedirs(folder, exist_ok=True)
            cv2.imwrite(os.path.join(folder, f'page-{result.number:03d}.png'),
                        grid_stage.draw_overlay(artifacts.gray, result.grid))
    return on_page


class FileFailed(Exception):
    """One input failed; str(err) is the reason shown after `error: FILE:`."""

    def __init__(self, reason: str, pages: Optional[int] = None):
        super().__init__(reason)
        self.pages = pages


class ErrorLog:
    """Tracebacks of internal errors, appended to OUT/extract-errors.log: the console
    gets one line per failed input, the log what a developer needs."""

    def __init__(self, path: str):
        self.path, self.count = path, 0

    def write(self, path: str, err: BaseException) -> None:
        self.count += 1
        try:
            with open(self.path, 'a', encoding='utf-8', errors='backslashreplace') as fh:
                fh.write(f'--- {time.strftime("%Y-%m-%d %H:%M:%S")} {errors.printable(path)}\n')
                fh.write(''.join(traceback.format_exception(type(err), err, err.__traceback__)))
        except OSError:
            pass                     # the console line is there; the log is extra


def _extract_one(path: str, args, recognizer, error_log: ErrorLog, show: bool):
    """Extract one input and write its JSON; FileFailed with a one-line reason if it
    cannot be read or a page fails, whatever the exception."""
    import tempfile

    import cv2
    from tqdm import tqdm

    from extractor import ingest, pipeline
    stem = os.path.splitext(os.path.basename(path))[0]
    total = None
    pages_done = 0
    bar = None
    try:
        total = ingest.count_pages(path)
        bar = tqdm(total=total, desc=errors.printable(stem)[:30], unit='page', disable=not show, leave=False)
        writer = _page_writer(stem, args.tables, args.debug)
        # The searchable PDF is made of the cleaned pages (upright and straight, in the
        # frame the text boxes are in), kept on disk until the file is done.
        cleaned = tempfile.TemporaryDirectory(prefix='.pages-', dir=args.pdf) if args.pdf else None
        page_files = []

        def on_page(page, result, artifacts):
            nonlocal pages_done
            pages_done += 1
            writer(page, result, artifacts)
            if cleaned is not None:
                page_files.append(os.path.join(cleaned.name, f'{page.number:05d}.png'))
                cv2.imwrite(page_files[-1], artifacts.gray)
            bar.update(1)
        try:
            doc, results = pipeline.extract_file(path, dpi=args.dpi, recognizer=recognizer, on_page=on_page)
            doc.source.file = errors.display_name(doc.source.file)
            write_json(os.path.join(args.out, f'{stem}.json'), doc.contract())
            if cleaned is not None:
                from extractor.searchable_pdf import SearchablePdfError, write_searchable_pdf
                try:
                    write_searchable_pdf(page_files, results, os.path.join(args.pdf, f'{stem}.pdf'))
                except SearchablePdfError as err:
                    raise FileFailed(f'searchable PDF not written: {err}', total) from None
        finally:
            if cleaned is not None:
                cleaned.cleanup()
        return doc
    except ingest.IngestError as err:
        raise FileFailed(str(err), total) from None
    except Exception as err:          # a bug, or an input a stage cannot take
        error_log.write(path, err)
        # Pages run in order: the one being worked on when it failed is the next one.
        where = f'page {pages_done + 1}: ' if total and pages_done < total else ''
        raise FileFailed(where + errors.internal_error(err), total) from None
    finally:
        if bar is not None:
            bar.close()


def cmd_extract(args) -> int:
    from extractor import ingest, ocr, report
    failed = 0

    def folder_error(path: str, reason: str) -> None:
        nonlocal failed
        print(f'error: {errors.printable(path)}: {reason}', file=sys.stderr)
        failed += 1
    inputs = ingest.list_inputs(args.inputs, on_error=folder_error)
    if not inputs:
        print('error: no input files found', file=sys.stderr)
        return 1
    try:
        for folder in (args.out, args.pdf):
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
    error_log = ErrorLog(os.path.join(args.out, 'extract-errors.log'))
    reports = []
    show = not args.quiet and sys.stderr.isatty() or args.progress
    for path in inputs:
        name = errors.display_name(os.path.basename(path))
        try:
            doc = _extract_one(path, args, recognizer, error_log, show)
        except FileFailed as err:
            print(f'error: {errors.printable(path)}: {err}', file=sys.stderr)
            reports.append(report.failed_report(name, str(err), err.pages))
            failed += 1
            continue
        if not doc.forms:
            print(f'error: {errors.printable(path)}: no 项目支出绩效自评表 form found (not a form scan?)',
                  file=sys.stderr)
            reports.append(report.failed_report(name, 'no form found', doc.source.pages))
            failed += 1
            continue
        summary = report.document_report(doc)
        reports.append(summary)
        reasons = ', '.join(f'{k} {v}' for k, v in summary.by_reason.items())
        print(f'{errors.printable(os.path.basename(path))}: {len(doc.forms)} form(s), {doc.source.pages} page(s), '
              f'{summary.flagged_fields} of {summary.fields} field(s) flagged'
              + (f' ({reasons})' if reasons else '')
              + f', ~{summary.residual_errors:.1f} wrong value(s) expected among the rest')
        if args.verbose:
            for i, form in enumerate(doc.forms):
                print(f'  form {i}: pages {form.pages} {form.project_name!r}: '
                      f'{len(form.funds)} funds rows, {len(form.indicators)} indicators, '
                      f'total {form.total.weight if form.total else None}/{form.total.score if form.total else None}')
            for f in doc.review:
                print(f'    flag form {f.form} {f.field} [{f.reason}] {f.value!r}: {f.detail}')
    if reports:
        batch = report.batch_report(reports)
        write_json(os.path.join(args.out, 'batch-report.json'), batch.model_dump(mode='json'))
        if len(reports) > 1 or args.verbose:
            print()
            print(report.format_report(batch))
        print(f'report: {errors.printable(os.path.join(args.out, "batch-report.json"))}')
    if error_log.count:
        print(f'{error_log.count} internal error(s); tracebacks in {errors.printable(error_log.path)}',
              file=sys.stderr)
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='python -m extractor',
                                     description='Extract scanned 项目支出绩效自评表 forms.')
    parser.add_argument('--version', action='version', version=__version__)
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('extract', help='extract forms from scanned PDFs or images, in this process')
    p.add_argument('inputs', nargs='+', metavar='INPUT', help='PDF, PNG, JPEG or TIFF files, or folders')
    p.add_argument('--out', required=True, metavar='DIR', help='write DIR/<input stem>.json')
    p.add_argument('--dpi', type=int, default=200, help='rendering resolution for PDFs (default 200)')
    p.add_argument('--tables', metavar='DIR', help='also write each page\'s ruled tables as HTML')
    p.add_argument('--debug', metavar='DIR', help='also write per-page PNG overlays of lines and cells')
    p.add_argument('--pdf', metavar='DIR', help='also write DIR/<input stem>.pdf: the cleaned pages with an '
                   'invisible, searchable text layer (PDF/A-2b where it validates)')
    p.add_argument('--engine', default=os.environ.get('EXTRACTOR_OCR_ENGINE', 'cascade'),
                   choices=('cascade', 'small', 'tiny', 'paddleocr'),
                   help='OCR engine (default cascade; paddleocr needs the optional extra)')
    p.add_argument('-v', '--verbose', action='store_true', help='print forms and every flag')
    p.add_argument('-q', '--quiet', action='store_true', help='no progress bar')
    p.add_argument('--progress', action='store_true', help='progress bar even when not on a terminal')
    p.set_defaults(func=cmd_extract)
    # Queue commands (submit, status, export) live beside the pipeline, in workers/.
    from workers.cli import add_commands
    add_commands(sub)
    # The reviewer web app (review, users) sits beside them, in review/.
    from review.cli import add_commands as add_review_commands
    add_review_commands(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, 'dpi', 200) < 50 or getattr(args, 'dpi', 200) > 600:
        print('error: --dpi must be between 50 and 600', file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print('\ninterrupted', file=sys.stderr)
        return 130
