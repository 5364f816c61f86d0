"""One flagged field (blueprint `field`): its cell beside the page, the readings to
pick from, the flags and history; POST accepts, corrects, keys or decides
(review.actions). Opening the field claims it for the user (review.claims); an
action on a field someone else has open is refused."""
from __future__ import annotations

from typing import Optional

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from review import actions, claims, images, labels, queries
from review.access import login_required, visible_form_or_404
from review.queue import field_url, filters_of_request
from review.store import store
from review.users import is_senior
from store.models import Document, FieldRow, FlagRow, PageRow, User

bp = Blueprint('field', __name__)
# Longer values get a multi-line editor (goals, deviation notes, names).
LONG_TEXT = 40


def box_of(bbox, page: Optional[PageRow]) -> Optional[dict]:
    """A cell box as percentages of its page, for the highlight over the page image."""
    if page is None or not images.valid_bbox(bbox) or not page.width or not page.height:
        return None
    x0, y0, x1, y1 = bbox[:4]
    return {'left': round(100 * x0 / page.width, 3), 'top': round(100 * y0 / page.height, 3),
            'width': round(100 * (x1 - x0) / page.width, 3),
            'height': round(100 * (y1 - y0) / page.height, 3)}


def _position() -> Optional[int]:
    value = request.values.get('pos') or ''
    return int(value) if value.isdigit() and len(value) < 9 else None


def _long_text(path: str, field: Optional[FieldRow], schema: str) -> bool:
    if labels.is_money(path, schema) or (field is not None and labels.is_number(path, schema)):
        return False
    value = (field.value or field.extracted_value or '') if field is not None else ''
    return len(value) > LONG_TEXT or '\n' in value or labels.is_long_text(path, schema)


@bp.route('/forms/<int:form_id>/fields/<string:path>', methods=['GET'])
@login_required
def show(form_id: int, path: str):
    if not labels.PATH_RE.match(path):
        abort(404)
    filters = filters_of_request()
    position = _position()
    with store().session(write=True) as s:
        form_row = visible_form_or_404(s, current_user, form_id)
        field = s.scalar(select(FieldRow).where(FieldRow.form_id == form_id, FieldRow.path == path))
        flags = actions.open_flags(s, form_id, path)
        if field is None and not flags and not s.scalar(
                select(FlagRow.id).where(FlagRow.form_id == form_id, FlagRow.field == path).limit(1)):
            abort(404)
        entries = actions.pending_entries(s, field.id) if field is not None else []
        my_entry = next((e for e in entries if e.user_id == current_user.id), None)
        is_disputed = actions.disputed(entries)
        held = claims.holder(s, form_id, path)
        # Opening an item one can act on claims it; not a money field one keyed already
        # (it waits for someone else), nor, unless senior, one whose entries differ.
        if flags and my_entry is None and (is_senior(current_user) or not is_disputed) and (
                held is None or held[0] == current_user.id):
            claims.claim(s, current_user.id, form_id, path)
            held = None
        document = s.get(Document, form_row.document_id)
        page_number = (field.page if field is not None and field.page else None) or \
            next((f.page for f in flags if f.page), None) or (form_row.pages[0] if form_row.pages else None)
        page = queries.page_rows(s, document.id, [page_number]).get(page_number)
        bbox = (field.bbox if field is not None and images.valid_bbox(field.bbox) else None) or \
            next((f.bbox for f in flags if images.valid_bbox(f.bbox)), None)
        crop_url = None
        if field is not None and images.valid_bbox(field.bbox):
            crop_url = url_for('images.field_crop', field_id=field.id)
        elif bbox is not None:
            crop_url = url_for('images.flag_crop', flag_id=next(f.id for f in flags if images.valid_bbox(f.bbox)))
        related = [{'path': r.path, 'value': r.value, 'open': r.open,
                    'crop': url_for('images.field_crop', field_id=r.field_id)
                    if r.field_id is not None and images.valid_bbox(r.bbox) else None,
                    'url': field_url(form_id, r.path, None, filters)}
                   for r in queries.related_fields(s, form_id, path, flags)]
        double_key = actions.needs_double_key(s, form_id, field)
        next_position = (position + 1) if position is not None else None
        context = dict(
            form_row=form_row, document=document, path=path, field=field, flags=flags,
            page=page, box=box_of(bbox, page), crop_url=crop_url, related=related,
            crop_scale=images.readable_scale(page.dpi if page is not None else None),
            double_key=double_key, disputed=is_disputed, entries=entries, my_entry=my_entry,
            people_keyed=len({e.user_id for e in entries}),
            senior=is_senior(current_user), history=queries.history(s, form_id, path, field, current_user),
            candidates=[] if double_key else queries.candidates(document, form_row.form_index, field),
            long_text=_long_text(path, field, form_row.schema), held_by=held,
            filters=filters, position=position,
            next_url=url_for('queue.item', pos=next_position, **filters.args()) if next_position is not None else None,
            prev_url=url_for('queue.item', pos=position - 1, **filters.args()) if position else None,
            queue_url=url_for('queue.index', **filters.args()),
            form_url=url_for('form.show', form_id=form_id),
        )
        return render_template('field.html', **context)


@bp.route('/forms/<int:form_id>/fields/<string:path>', methods=['POST'])
@login_required
def act(form_id: int, path: str):
    if not labels.PATH_RE.match(path):
        abort(404)
    filters = filters_of_request()
    position = _position()
    action = request.form.get('action') or 'correct'
    expected = request.form.get('expected', '')
    value = request.form.get('value')
    if value is not None and len(value) > 5000:
        abort(413)
    try:
        with store().session(write=True) as s:
            form_row = visible_form_or_404(s, current_user, form_id)
            held = claims.holder(s, form_id, path)
            if held is not None and held[0] != current_user.id:
                raise actions.ActionError(f'{held[1]} has this field open (until {held[2]:%H:%M} UTC): '
                                          'take another item')
            user = s.get(User, current_user.id)
            result = actions.act(s, user, form_row, path, action, value, expected)
            claims.finish(s, user.id, form_row.document_id, form_id, path, result.kind)
            flash(result.message, 'ok')
            for change in result.changes:
                flash(change, 'change')
            # Where to go next: the item now at this place in the queue, unless it is
            # still this one (its flags are still open): then the one after. Claimed.
            target = None
            if position is not None:
                here, at = queries.claim_item_at(s, user, filters, position, skip=(form_id, path))
                if here is not None:
                    target = field_url(here.form_id, here.path, at, filters)
                else:
                    flash('That was the last item in the queue.', 'ok')
                    target = url_for('queue.index', **filters.args())
    except actions.ActionError as err:
        flash(str(err), 'error')
        return redirect(field_url(form_id, path, position, filters))
    return redirect(target or field_url(form_id, path, position, filters))
