"""A whole form (blueprint `form`): the table as read, flagged and corrected cells
marked, beside its pages with the flagged cells boxed, each page's scan quality
grade where the result has one; and repairs of its structure (a lost row added by
typing its values off the page beside it, a spurious row deleted, a row split in two
or two rows merged: review.structure; a page moved to another form of the document or
marked as not a form: review.regroup)."""
from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from review import labels, queries, regroup, structure
from review.actions import ActionError
from review.access import login_required, visible_form_or_404
from review.field import box_of
from review.store import store
from store.models import Document, FormRow, User
from store.results import current_document

bp = Blueprint('form', __name__)
# A row block's name as a request may give it (checked against the form's kind later).
BLOCK_RE = re.compile(r'^[a-z_]{1,40}$')


@bp.route('/forms/<int:form_id>')
@login_required
def show(form_id: int):
    with store().session() as s:
        form_row = visible_form_or_404(s, current_user, form_id)
        document = s.get(Document, form_row.document_id)
        view = queries.form_view(s, form_row)
        form = current_document(s, document).forms[form_row.form_index]
        quality = queries.page_quality(document)
        pages = []
        for number in form_row.pages:
            page = view.pages.get(number)
            if page is None:
                continue
            boxes = []
            for path, flags in view.flagged.items():
                field = view.fields.get(path)
                on_page, bbox = ((field.page, field.bbox) if field is not None else (flags[0].page, flags[0].bbox))
                box = box_of(bbox, page) if on_page == number else None
                if box:
                    boxes.append({'path': path, 'box': box, 'reason': flags[0].reason,
                                  'url': url_for('field.show', form_id=form_id, path=path)})
            pages.append({'row': page, 'boxes': boxes, 'quality': quality.get(number)})
        block_flags = {p: fl for p, fl in view.flagged.items() if p not in view.fields}
        edits = [{'at': e.at, 'who': e.user.name, 'action': e.action, 'block': e.block,
                  'row': e.row_index if e.block == structure.PAGES else e.row_index + 1,
                  'summary': _summary(e)} for e in structure.edits(s, form_id)]
        siblings = s.execute(select(FormRow.id, FormRow.form_index, FormRow.name)
                             .where(FormRow.document_id == document.id).order_by(FormRow.form_index)).all()
        loose = [{'number': p.number, 'url': url_for('images.page_image', page_id=p.id)}
                 for p in regroup.pages_not_in_a_form(s, document)]
        return render_template('form.html', form_row=form_row, document=document, form=form,
                               edits=edits, columns=structure.columns_of(form_row), template=labels.template(form_row.schema), siblings=siblings, loose_pages=loose,
                               fields=view.fields, flagged=view.flagged, corrected=view.corrected,
                               pages=pages, block_flags=block_flags,
                               open_count=sum(len(v) for v in view.flagged.values()),
                               cell_url=lambda p: url_for('field.show', form_id=form_id, path=p))


def _summary(edit) -> str:
    """What a structure repair typed or removed, for the form's list of repairs."""
    def row(values) -> str:
        return ' · '.join(str(v) for v in (values or {}).values() if v is not None)
    values = edit.values or {}
    if edit.action == structure.SPLIT:
        return f"{row(values.get('top'))}  /  {row(values.get('bottom'))}"
    if edit.action == structure.MERGE:
        return row(values.get('merged'))
    if edit.action in (structure.MOVE, structure.NOT_A_FORM):
        return values.get('summary', '')
    return row(values)


@bp.route('/forms/<int:form_id>/rows', methods=['POST'])
@login_required
def repair(form_id: int):
    """Add a row (values typed off the page) or delete one, in funds or indicators."""
    block, action = request.form.get('block', ''), request.form.get('action', '')
    index = request.form.get('index', '')
    if not BLOCK_RE.match(block) or action not in ('add', 'delete') or not index.isdigit() or len(index) > 3:
        abort(400)
    try:
        with store().session(write=True) as s:
            form_row = visible_form_or_404(s, current_user, form_id)
            user = s.get(User, current_user.id)
            if action == 'add':
                values = {k: request.form.get(f'value-{k}') for k in structure.columns_of(form_row).get(block, ())}
                result = structure.add_row(s, user, form_row, block, int(index), values)
            else:
                result = structure.delete_row(s, user, form_row, block, int(index))
            flash(result.message, 'ok')
            for change in result.changes:
                flash(change, 'change')
    except ActionError as err:
        flash(str(err), 'error')
    return redirect(url_for('form.show', form_id=form_id))


def _block_and_index(source) -> tuple[str, int]:
    block, index = source.get('block', ''), source.get('index', '')
    if not BLOCK_RE.match(block) or not index.isdigit() or len(index) > 3:
        abort(400)
    return block, int(index)


@bp.route('/forms/<int:form_id>/split', methods=['GET', 'POST'])
@login_required
def split(form_id: int):
    """GET: the row beside the page, in two editable rows (a cell read as two lines
    already parted); POST: split it."""
    return _row_repair(form_id, 'split')


@bp.route('/forms/<int:form_id>/merge', methods=['GET', 'POST'])
@login_required
def merge(form_id: int):
    """GET: a row and the one under it, and the two joined cell by cell, editable;
    POST: merge them."""
    return _row_repair(form_id, 'merge')


def _row_repair(form_id: int, kind: str):
    source = request.form if request.method == 'POST' else request.args
    block, index = _block_and_index(source)
    if request.method == 'POST':
        try:
            with store().session(write=True) as s:
                form_row = visible_form_or_404(s, current_user, form_id)
                user = s.get(User, current_user.id)
                columns = structure.columns_of(form_row).get(block, ())
                if kind == 'split':
                    result = structure.split_row(
                        s, user, form_row, block, index,
                        {k: request.form.get(f'top-{k}') for k in columns},
                        {k: request.form.get(f'bottom-{k}') for k in columns})
                else:
                    result = structure.merge_rows(s, user, form_row, block, index,
                                                  {k: request.form.get(f'merged-{k}') for k in columns})
                flash(result.message, 'ok')
                for change in result.changes:
                    flash(change, 'change')
            return redirect(url_for('form.show', form_id=form_id))
        except ActionError as err:
            flash(str(err), 'error')
    with store().session() as s:
        form_row = visible_form_or_404(s, current_user, form_id)
        document = s.get(Document, form_row.document_id)
        try:
            if kind == 'split':
                rows = structure.row_values(s, form_row, block)
                if not 0 <= index < len(rows):
                    abort(404)
                upper, lower = structure.split_suggestion(s, form_row, block, index)
                shown = {'current': [rows[index]], 'edit': [('top', upper), ('bottom', lower)]}
            else:
                upper, lower, joined = structure.merge_suggestion(s, form_row, block, index)
                shown = {'current': [upper, lower], 'edit': [('merged', joined)]}
        except ActionError:
            abort(404)
        view = queries.form_view(s, form_row)
        boxes = {}
        rows_shown = [index] if kind == 'split' else [index, index + 1]
        for path, f in view.fields.items():
            parts = path.split('.')
            if parts[0] == block and parts[1].isdigit() and int(parts[1]) in rows_shown and f.page is not None:
                page = view.pages.get(f.page)
                box = box_of(f.bbox, page) if page is not None else None
                if box:
                    boxes.setdefault(f.page, []).append({'path': path, 'box': box})
        pages = [{'row': view.pages[n], 'boxes': boxes.get(n, [])} for n in form_row.pages if n in view.pages]
        return render_template('row_repair.html', kind=kind, form_row=form_row, document=document,
                               block=block, index=index, columns=structure.columns_of(form_row)[block], shown=shown,
                               pages=sorted(pages, key=lambda p: -len(p['boxes'])))


@bp.route('/forms/<int:form_id>/pages', methods=['POST'])
@login_required
def move_page(form_id: int):
    """Move a page of this form's document to another of its forms (`to` a form id),
    or mark it as not a form (`to` none): review.regroup."""
    page, to = request.form.get('page', ''), request.form.get('to', '')
    if not page.isdigit() or len(page) > 5 or not (to == 'none' or (to.isdigit() and len(to) < 12)):
        abort(400)
    after = form_id
    try:
        with store().session(write=True) as s:
            form_row = visible_form_or_404(s, current_user, form_id)
            document = s.get(Document, form_row.document_id)
            target = None
            if to != 'none':
                target = s.get(FormRow, int(to))
                if target is None or target.document_id != document.id:
                    abort(404)
            user = s.get(User, current_user.id)
            result = regroup.move_page(s, user, document, int(page), target, request.remote_addr)
            flash(result.message, 'ok')
            for change in result.changes:
                flash(change, 'change')
            if s.get(FormRow, form_id) is None:        # the form had no other page
                after = target.id if target is not None else s.scalar(
                    select(FormRow.id).where(FormRow.document_id == document.id).order_by(FormRow.form_index))
    except ActionError as err:
        flash(str(err), 'error')
    if after is None:
        return redirect(url_for('queue.index'))
    return redirect(url_for('form.show', form_id=after))
