"""Exports of a batch from the store, with people's corrections applied.

    json   DIR/<input file stem>.json per document: the contract, as `extract` writes it
    csv    DIR/<batch>.csv: one row per funds row and per indicator (UTF-8 with BOM, so
           spreadsheet programs read the Chinese right)
    xlsx   DIR/<batch>.xlsx: the same rows, and a sheet with every document's status
"""
from __future__ import annotations

import csv
import os
import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterator

from extractor.export import write_json
from models import Document
from models.document import FUND_VALUE_KEYS, INDICATOR_KEYS
from workers.store.db import Store
from workers.store.models import Document as DocumentRow
from workers.store.queries import batch_documents, find_batch
from workers.store.results import current_document

FORMATS = ('json', 'csv', 'xlsx')
FORM_COLUMNS = ['file', 'form', 'page', 'project_name', 'year', 'department', 'implementing_unit']
ROW_COLUMNS = ['row', 'row_index', 'item', 'initial_budget', 'annual_budget', 'executed',
               'execution_rate', 'level1', 'level2', 'level3', 'target', 'actual', 'weight',
               'score', 'deviation_note']
COLUMNS = FORM_COLUMNS + ROW_COLUMNS + ['flagged', 'flag_reasons', 'sha256']


class ExportError(Exception):
    pass


@dataclass
class Entry:
    path: str                   # as submitted in this batch
    document_id: int
    sha256: str
    status: str
    error: str | None
    page_count: int | None


def _entries(store: Store, batch_name: str) -> list[Entry]:
    with store.session() as session:
        batch = find_batch(session, batch_name)
        if batch is None:
            raise ExportError(f'no batch named {batch_name!r}')
        return [Entry(item.path, row.id, row.sha256, row.status, row.error, row.page_count)
                for item, row in batch_documents(session, batch)]


def _documents(store: Store, entries: list[Entry]) -> Iterator[tuple[Entry, Document | None]]:
    """Each entry with its current Document (None if nothing was read), loaded one at a
    time so a batch of thousands does not sit in memory whole."""
    for entry in entries:
        with store.session() as session:
            row = session.get(DocumentRow, entry.document_id)
            yield entry, current_document(session, row) if row is not None else None


def _stems(paths_and_shas: list[tuple[str, str]]) -> dict[str, str]:
    """sha256 -> output stem: the input file's stem, as `extract` names it; two inputs
    with the same stem get their hash's first 8 digits added so neither is lost."""
    counts = Counter(os.path.splitext(os.path.basename(p))[0] for p, _ in paths_and_shas)
    stems = {}
    for path, sha in paths_and_shas:
        stem = os.path.splitext(os.path.basename(path))[0]
        stems[sha] = stem if counts[stem] == 1 else f'{stem}-{sha[:8]}'
    return stems


def export_json(store: Store, batch_name: str, out_dir: str) -> list[str]:
    entries = _entries(store, batch_name)
    stems = _stems([(e.path, e.sha256) for e in entries])
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for entry, document in _documents(store, entries):
        if document is None:
            continue                 # failed before anything was read
        target = os.path.join(out_dir, f'{stems[entry.sha256]}.json')
        write_json(target, document.contract())
        written.append(target)
    return written


def _row_page(form, prefix: str, keys) -> int | None:
    for key in keys:
        source = form.sources.get(f'{prefix}.{key}')
        if source and source.page:
            return source.page
    return form.pages[0] if form.pages else None


def table_rows(document: Document, file_name: str) -> Iterator[dict]:
    """One dict per funds row and per indicator of every form in the document."""
    flagged: dict[tuple[int, str], list[str]] = {}
    for flag in document.review:
        parts = flag.field.split('.')
        if len(parts) >= 2 and parts[0] in ('funds', 'indicators') and parts[1].isdigit():
            flagged.setdefault((flag.form, f'{parts[0]}.{parts[1]}'), []).append(str(flag.reason))
    for index, form in enumerate(document.forms):
        common = {'file': file_name, 'form': index, 'project_name': form.project_name,
                  'year': form.year, 'department': form.department,
                  'implementing_unit': form.implementing_unit, 'sha256': document.source.sha256}
        rows = [('funds', i, f.model_dump(), ('item',) + FUND_VALUE_KEYS) for i, f in enumerate(form.funds)]
        rows += [('indicator', i, ind.model_dump(), INDICATOR_KEYS) for i, ind in enumerate(form.indicators)]
        for kind, i, values, keys in rows:
            prefix = f'{"funds" if kind == "funds" else "indicators"}.{i}'
            reasons = sorted(set(flagged.get((index, prefix), [])))
            row = dict(common, page=_row_page(form, prefix, keys), row=kind, row_index=i,
                       flagged='yes' if reasons else 'no', flag_reasons=' '.join(reasons))
            row.update({k: values.get(k) for k in keys})
            yield row


def _all_rows(store: Store, entries: list[Entry]) -> Iterator[dict]:
    for entry, document in _documents(store, entries):
        if document is not None:
            yield from table_rows(document, os.path.basename(entry.path))


def _safe_name(batch_name: str) -> str:
    return re.sub(r'[^\w.-]+', '_', batch_name).strip('._') or 'batch'


def export_csv(store: Store, batch_name: str, out_dir: str) -> list[str]:
    entries = _entries(store, batch_name)
    os.makedirs(out_dir, exist_ok=True)
    target = os.path.join(out_dir, f'{_safe_name(batch_name)}.csv')
    with open(target + '.tmp', 'w', encoding='utf-8-sig', newline='') as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for row in _all_rows(store, entries):
            writer.writerow({k: ('' if row.get(k) is None else row.get(k)) for k in COLUMNS})
    os.replace(target + '.tmp', target)
    return [target]


def export_xlsx(store: Store, batch_name: str, out_dir: str) -> list[str]:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    entries = _entries(store, batch_name)
    os.makedirs(out_dir, exist_ok=True)
    target = os.path.join(out_dir, f'{_safe_name(batch_name)}.xlsx')
    book = Workbook()
    rows_sheet = book.active
    rows_sheet.title = 'rows'
    rows_sheet.append(COLUMNS)
    docs_sheet = book.create_sheet('documents')
    docs_sheet.append(['file', 'path', 'status', 'error', 'pages', 'forms', 'flags', 'sha256'])
    for entry, document in _documents(store, entries):
        if document is not None:
            for row in table_rows(document, os.path.basename(entry.path)):
                rows_sheet.append([row.get(k) for k in COLUMNS])
        docs_sheet.append([os.path.basename(entry.path), entry.path, entry.status, entry.error,
                           entry.page_count, len(document.forms) if document else 0,
                           len(document.review) if document else 0, entry.sha256])
    for sheet in (rows_sheet, docs_sheet):
        sheet.freeze_panes = 'A2'
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    book.save(target + '.tmp')
    os.replace(target + '.tmp', target)
    return [target]


def export(store: Store, batch_name: str, fmt: str, out_dir: str) -> list[str]:
    writer = {'json': export_json, 'csv': export_csv, 'xlsx': export_xlsx}.get(fmt)
    if writer is None:
        raise ExportError(f'unknown format {fmt!r} (one of {", ".join(FORMATS)})')
    return writer(store, batch_name, out_dir)
