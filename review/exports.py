"""Exports (blueprint `exports`): a batch (through workers/export.py, exactly what
`perf-extract export` writes) or one document, as JSON, CSV or XLSX, built in
memory. Values are the current ones (corrections and settled double-key entries);
pending double-key entries are not values yet and are never exported. A reviewer
exports only batches and documents assigned to them; every export is audited."""
from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import zipfile
from urllib.parse import quote

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user

from review import audit, queries
from review.access import (login_required, visible_batch_or_404, visible_batches,
                           visible_document_or_404)
from review.store import store
from workers.export import _corrections, document_csv, document_xlsx, export
from store.models import Batch
from store.queries import batch_progress
from store.results import current_document

bp = Blueprint('exports', __name__)
FORMATS = ('json', 'csv', 'xlsx')
MIME = {'json': 'application/json', 'csv': 'text/csv; charset=utf-8',
        'xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        'zip': 'application/zip'}
def batch_export(store_, batch_name: str, fmt: str) -> tuple[bytes, str]:
    """(bytes, file extension): JSON comes as a zip of one file per document."""
    folder = tempfile.mkdtemp(prefix='review-export-')
    try:
        written = export(store_, batch_name, fmt, folder)
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


def document_export(document, file_name: str, fmt: str, corrections=()) -> bytes:
    """One document as JSON (the contract), or as CSV / XLSX written by workers/export.py
    exactly like the batch files (formula guard, no server paths; the XLSX with the
    reviewers' corrections)."""
    if fmt == 'json':
        return (json.dumps(document.contract(), ensure_ascii=False, indent=2) + '\n').encode('utf-8')
    if fmt == 'csv':
        return document_csv(document, file_name)
    return document_xlsx(document, file_name, list(corrections))


def _download(data: bytes, name: str, ext: str) -> Response:
    response = Response(data, mimetype=MIME[ext])
    ascii_name = ''.join(c if c.isascii() and (c.isalnum() or c in '-_.') else '_' for c in name) or 'export'
    response.headers['Content-Disposition'] = (
        f"attachment; filename=\"{ascii_name}.{ext}\"; filename*=UTF-8''{quote(name + '.' + ext)}")
    return response


@bp.route('/exports')
@login_required
def index():
    with store().session() as s:
        batches = visible_batches(s, current_user)
        progress = {batch_id: batch_progress(s, s.get(Batch, batch_id)) for batch_id, _name in batches}
        review = {p.name: p for p in queries.batch_progress(s)}
    return render_template('exports.html', batches=batches, progress=progress, review=review, formats=FORMATS)


@bp.route('/batches/<int:batch_id>/export/<string:fmt>')
@login_required
def batch_download(batch_id: int, fmt: str):
    if fmt not in FORMATS:
        abort(404)
    with store().session(write=True) as s:
        name = visible_batch_or_404(s, current_user, batch_id).name
        audit.record(s, audit.EXPORT, user_id=current_user.id, name=current_user.name,
                     address=request.remote_addr, detail=f'batch {name} as {fmt}')
    data, ext = batch_export(store(), name, fmt)
    from workers.export import _safe_name
    return _download(data, _safe_name(name), ext)


@bp.route('/documents/<int:document_id>/export/<string:fmt>')
@login_required
def document_download(document_id: int, fmt: str):
    if fmt not in FORMATS:
        abort(404)
    with store().session(write=True) as s:
        row = visible_document_or_404(s, current_user, document_id)
        document = current_document(s, row)
        if document is None:
            abort(404)
        stem = os.path.splitext(row.file_name)[0]
        data = document_export(document, row.file_name, fmt,
                               _corrections(s, row.id) if fmt == 'xlsx' else ())
        audit.record(s, audit.EXPORT, user_id=current_user.id, name=current_user.name,
                     address=request.remote_addr, detail=f'document {row.file_name} as {fmt}')
    return _download(data, stem, fmt)
