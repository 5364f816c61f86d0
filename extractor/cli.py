"""Command line: `python -m extractor extract INPUT... --out DIR`.

A thin caller of extractor.pipeline: it only walks the inputs, shows progress, writes
files and prints a summary. Expected failures (unreadable inputs) are one line on
stderr each; the other inputs still run; the exit code is 1 if any failed.
"""
from __future__ import annotations

import argparse
import os
import sys

from extractor import __version__
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


def cmd_extract(args) -> int:
    from tqdm import tqdm

    from extractor import ingest, ocr, pipeline
    inputs = ingest.list_inputs(args.inputs)
    if not inputs:
        print('error: no input files found', file=sys.stderr)
        return 1
    os.makedirs(args.out, exist_ok=True)
    try:
        recognizer = ocr.make_recognizer(args.engine)
    except (ImportError, FileNotFoundError, ValueError) as err:
        print(f'error: OCR engine {args.engine!r} is not available: {err}', file=sys.stderr)
        return 2
    from extractor import report
    failed = 0
    reports = []
    show = not args.quiet and sys.stderr.isatty() or args.progress
    for path in inputs:
        stem = os.path.splitext(os.path.basename(path))[0]
        try:
            total = ingest.count_pages(path)
        except ingest.IngestError as err:
            print(f'error: {path}: {err}', file=sys.stderr)
            reports.append(report.failed_report(os.path.basename(path), str(err)))
            failed += 1
            continue
        bar = tqdm(total=total, desc=stem[:30], unit='page', disable=not show, leave=False)
        writer = _page_writer(stem, args.tables, args.debug)

        def on_page(page, result, artifacts):
            writer(page, result, artifacts)
            bar.update(1)
        try:
            doc, _results = pipeline.extract_file(path, dpi=args.dpi, recognizer=recognizer, on_page=on_page)
        except ingest.IngestError as err:
            bar.close()
            print(f'error: {path}: {err}', file=sys.stderr)
            reports.append(report.failed_report(os.path.basename(path), str(err), total))
            failed += 1
            continue
        bar.close()
        write_json(os.path.join(args.out, f'{stem}.json'), doc.contract())
        if not doc.forms:
            print(f'error: {path}: no 项目支出绩效自评表 form found (not a form scan?)', file=sys.stderr)
            reports.append(report.failed_report(os.path.basename(path), 'no form found', doc.source.pages))
            failed += 1
            continue
        summary = report.document_report(doc)
        reports.append(summary)
        reasons = ', '.join(f'{k} {v}' for k, v in summary.by_reason.items())
        print(f'{os.path.basename(path)}: {len(doc.forms)} form(s), {doc.source.pages} page(s), '
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
        print(f'report: {os.path.join(args.out, "batch-report.json")}')
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
    return args.func(args)
