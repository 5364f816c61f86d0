"""The queue (blueprint `queue`): the flagged fields the user may review, a page of
50 at a time, and /item, which opens the item at a place in the queue and claims it
(review.claims), so the next reviewer is given another one."""
from __future__ import annotations

from typing import Optional
from urllib.parse import quote, urlencode

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from review import access, queries
from review.access import login_required
from review.store import store

bp = Blueprint('queue', __name__)
REASONS = queries.REASONS


def filters_of_request() -> queries.Filters:
    return queries.Filters.from_args(request.values)


def int_arg(name: str, default: int = 0) -> int:
    value = (request.values.get(name) or '').strip()
    return int(value) if value.isdigit() and len(value) < 9 else default


def field_url(form_id: int, path: str, position: Optional[int], filters: queries.Filters) -> str:
    args = dict(filters.args())
    if position is not None:
        args['pos'] = position
    return url_for('field.show', form_id=form_id, path=path) + ('?' + urlencode(args) if args else '')


def _page_urls(items, filters: queries.Filters) -> None:
    """Each item's field page and form page: the same URLs as field_url and url_for
    give, built from one of each (url_for per item was a tenth of the queue page)."""
    field_base = url_for('field.show', form_id=0, path='~').rsplit('/forms/', 1)[0]
    args = filters.args()
    head = (urlencode(args) + '&') if args else ''
    for item in items:
        item.url = f'{field_base}/forms/{item.form_id}/fields/{quote(item.path, safe="")}?{head}pos={item.position}'
        item.form_url = f'{field_base}/forms/{item.form_id}'


@bp.route('/')
@login_required
def index():
    filters = filters_of_request()
    page_number = max(int_arg('page', 1), 1)
    offset = (page_number - 1) * queries.PAGE_SIZE
    with store().session() as s:
        items, total = queries.page(s, current_user, filters, offset)
        batches = access.visible_batches(s, current_user)
        form = access.visible_form(s, current_user, filters.form) if filters.form is not None else None
        form_label = f'form {form.form_index} of {form.document.file_name}' if form is not None else None
    pages = max((total + queries.PAGE_SIZE - 1) // queries.PAGE_SIZE, 1)
    _page_urls(items, filters)
    return render_template('queue.html', items=items, total=total, filters=filters, batches=batches,
                           reasons=REASONS, page=page_number, pages=pages, form_label=form_label,
                           page_url=lambda n: url_for('queue.index', page=n, **filters.args()))


@bp.route('/item')
@login_required
def item():
    """The queue item at `pos` (next / previous), claimed for the user, or the queue
    if there is none."""
    filters = filters_of_request()
    position = int_arg('pos', 0)
    with store().session(write=True) as s:
        found, position = queries.claim_item_at(s, current_user, filters, position)
    if found is None:
        flash('End of the queue.' if position else 'The queue is empty.')
        return redirect(url_for('queue.index', **filters.args()))
    return redirect(field_url(found.form_id, found.path, position, filters))
