"""Exports from the page: a batch (through workers/export.py, exactly what
`python -m extractor export` writes) or one document, as JSON, CSV or XLSX, built in
memory. Values are the current ones (corrections and settled double-key entries);
pending double-key entries are not values yet and are never exported."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
import zipfile

from workers.export import COLUMNS, export, table_rows

MIME = {'json': 'application/json', 'csv': 'text/csv; charset=utf-8',
        'xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        'zip': 'application/zip'}


def batch_export(store, batch_name: str, fmt: str) -> tuple[bytes, str]:
    """(bytes, file extension): JSON comes as a zip of one file per document."""
    folder = tempfile.mkdtemp(prefix='review-export-')
    try:
        written = export(store, batch_name, fmt, folder)
        if fmt != 'json':
            with open(written[0], 'rb') as fh:
                return fh.read(), fmt
        out = io.BytesIO()
        with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as archive:
            for path in written:
                archive.write(path, os.path.basename(path))
        return out.getvalue(), 'zip'
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def document_export(document, file_name: str, fmt: str) -> bytes:
    if fmt == 'json':
        return (json.dumps(document.contract(), ensure_ascii=False, indent=2) + '\n').encode('utf-8')
    rows = list(table_rows(document, file_name))
    if fmt == 'csv':
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ('' if row.get(k) is None else row.get(k)) for k in COLUMNS})
        return text.getvalue().encode('utf-8-sig')
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.title = 'rows'
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append([row.get(k) for k in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
