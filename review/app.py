"""The Flask app of the reviewer: `create_app()`, served by waitress (`python -m
extractor review`) or any WSGI server.

Safety, in one place:
* every route but /login and /static needs a logged-in user (a signed session cookie,
  HttpOnly, SameSite=Lax; Secure with EXTRACTOR_REVIEW_SECURE_COOKIE=1);
* every POST carries a CSRF token (Flask-WTF's CSRFProtect, checked before the view);
* everything shown is escaped by Jinja's autoescape (OCR text is untrusted input: a cell
  reading `<script>` is shown as text), and the Content-Security-Policy allows no inline
  script at all, as a second wall;
* documents, forms, pages and images are looked up by database id and checked with
  review.access; no file path is ever built from a request.
"""
from __future__ import annotations

import logging
import os
import secrets
from datetime import timedelta
from typing import Optional
from urllib.parse import urlencode

from flask import (Flask, Response, abort, flash, g, redirect, render_template, request, session,
                   url_for)
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy import select

from review import access, actions, auth, images, labels
from review import queue as review_queue
from review.exports import MIME, batch_export, document_export
from workers.store.db import open_store
from workers.store.models import (Acceptance, Batch, Correction, Document, FieldRow, FlagRow,
                                  FlagState, FormRow, KeyEntry, PageRow, User)
from workers.store.results import current_document

log = logging.getLogger(__name__)
FORMATS = ('json', 'csv', 'xlsx')
CSP = ("default-src 'self'; img-src 'self'; script-src 'self'; style-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def _secret_key(data_dir: str) -> str:
    """EXTRACTOR_REVIEW_SECRET, or a random key kept in <data dir>/review-secret.key
    (made on first start, readable by its owner only), so sessions outlive a restart."""
    key = os.environ.get('EXTRACTOR_REVIEW_SECRET', '').strip()
    if key:
        return key
    path = os.path.join(data_dir, 'review-secret.key')
    os.makedirs(data_dir, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with open(path, encoding='ascii') as fh:
            return fh.read().strip()
    with os.fdopen(fd, 'w', encoding='ascii') as fh:
        fh.write(secrets.token_hex(32))
    with open(path, encoding='ascii') as fh:
        return fh.read().strip()


def create_app(database_url: Optional[str] = None, data_dir: Optional[str] = None,
               secret_key: Optional[str] = None) -> Flask:
    from workers.settings import Settings
    if database_url is None or data_dir is None:
        settings = Settings.from_env()
        database_url = database_url or settings.database_url
        data_dir = data_dir or settings.data_dir
    data_dir = os.path.abspath(data_dir)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key or _secret_key(data_dir),
        SESSION_COOKIE_NAME='review_session',
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE='Lax',
        SESSION_COOKIE_SECURE=os.environ.get('EXTRACTOR_REVIEW_SECURE_COOKIE') == '1',
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=None,           # valid as long as the session
        MAX_CONTENT_LENGTH=64 * 1024,
        PAGES_DIR=os.path.join(data_dir, 'pages'),
    )
    app.extensions['review_store'] = open_store(database_url)
    CSRFProtect(app)
    app.jinja_env.globals.update(label=labels.label, reason_text=labels.REASON_TEXT,
                                 is_money=labels.is_money)
    _routes(app)
    return app


def store():
    from flask import current_app
    return current_app.extensions['review_store']


# ------------------------------------------------------------------ helpers

def _safe_next(target: Optional[str]) -> str:
    if target and target.startswith('/') and not target.startswith('//') and '\\' not in target:
        return target
    return url_for('queue_page')


def _filters() -> review_queue.Filters:
    return review_queue.Filters.from_args(request.values)


def _int_arg(name: str, default: int = 0) -> int:
    value = (request.values.get(name) or '').strip()
    return int(value) if value.isdigit() and len(value) < 9 else default


def _field_url(form_id: int, path: str, position: Optional[int], filters) -> str:
    args = dict(filters.args())
    if position is not None:
        args['pos'] = position
    return url_for('field_page', form_id=form_id, path=path) + ('?' + urlencode(args) if args else '')


def _page_row(session, document_id: int, number: Optional[int]) -> Optional[PageRow]:
    if number is None:
        return None
    return session.scalar(select(PageRow).where(PageRow.document_id == document_id,
                                                PageRow.number == number))


def _box(bbox, page: Optional[PageRow]) -> Optional[dict]:
    """A cell box as percentages of its page, for the highlight over the page image."""
    if page is None or not images.valid_bbox(bbox) or not page.width or not page.height:
        return None
    x0, y0, x1, y1 = bbox[:4]
    return {'left': round(100 * x0 / page.width, 3), 'top': round(100 * y0 / page.height, 3),
            'width': round(100 * (x1 - x0) / page.width, 3),
            'height': round(100 * (y1 - y0) / page.height, 3)}


def _history(session, form_row: FormRow, path: str, field: Optional[FieldRow], viewer: User) -> list[dict]:
    """Corrections, acceptances, double-key entries and resolved flags of one field,
    oldest first. A pending entry's value is shown only to its author and to seniors
    (the second keyer must not see the first one's value)."""
    events = []
    if field is not None:
        for c in session.scalars(select(Correction).where(Correction.field_id == field.id)):
            events.append({'at': c.at, 'who': c.user.name, 'what': 'corrected',
                           'old': c.old_value, 'new': c.new_value, 'show': True})
        for e in session.scalars(select(KeyEntry).where(KeyEntry.field_id == field.id)):
            show = e.settled or e.user_id == viewer.id or viewer.role == 'senior'
            events.append({'at': e.at, 'who': e.user.name,
                           'what': ('decision' if e.kind == KeyEntry.DECISION
                                    else 'entry' + ('' if e.settled else ' (pending)')),
                           'old': None, 'new': e.value, 'show': show})
    for a in session.scalars(select(Acceptance).where(Acceptance.form_id == form_row.id,
                                                      Acceptance.path == path)):
        events.append({'at': a.at, 'who': a.user.name, 'what': 'accepted' + (f' ({a.reasons})' if a.reasons else ''),
                       'old': None, 'new': a.value, 'show': True})
    for f in session.scalars(select(FlagRow).where(FlagRow.form_id == form_row.id, FlagRow.field == path,
                                                   FlagRow.status == FlagState.RESOLVED)):
        events.append({'at': f.resolved_at, 'who': f.resolved_by.name if f.resolved_by else '',
                       'what': f'flag {f.reason} {f.resolution}', 'old': None, 'new': f.detail, 'show': True,
                       'note': True})
    events.sort(key=lambda e: (e['at'] is None, e['at']))
    return events


# ------------------------------------------------------------------ routes

def _routes(app: Flask) -> None:  # noqa: C901 (one list of routes)

    @app.before_request
    def load_user():
        g.user = None
        uid = session.get('uid')
        if uid is not None:
            with store().session() as s:
                user = s.get(User, uid)
                if user is not None and user.password_hash and session.get('fp') == auth.fingerprint(user):
                    s.expunge(user)
                    g.user = user
            if g.user is None:
                session.clear()
        if g.user is None and request.endpoint not in ('login', 'static', 'favicon'):
            if request.method == 'GET' and request.endpoint in ('queue_page', 'field_page', 'form_page',
                                                                'exports_page', 'item'):
                return redirect(url_for('login', next=request.full_path.rstrip('?')))
            abort(401)

    @app.after_request
    def headers(response: Response):
        response.headers['Content-Security-Policy'] = CSP
        response.headers['X-Content-Type-Options'] = 'nosniff'
        response.headers['Referrer-Policy'] = 'same-origin'
        response.headers['X-Frame-Options'] = 'DENY'
        if response.mimetype == 'text/html':
            response.headers['Cache-Control'] = 'no-store'
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(err):
        return render_template('error.html', message=f'Refused: {err.description} Reload the page and try again.'), 400

    @app.errorhandler(401)
    def unauthorised(_err):
        return render_template('error.html', message='Log in first.'), 401

    @app.errorhandler(404)
    def not_found(_err):
        return render_template('error.html', message='Not found (or not yours to see).'), 404

    @app.route('/favicon.ico')
    def favicon():
        return Response(status=204)

    # -------------------------------------------------------------- login

    @app.route('/login', methods=['GET', 'POST'])
    def login():
        error = None
        if request.method == 'POST':
            name = (request.form.get('name') or '')[:200]
            password = (request.form.get('password') or '')[:1000]
            with store().session(write=True) as s:
                user = auth.authenticate(s, name, password)
                if user is not None:
                    session.clear()
                    session.permanent = True
                    session['uid'], session['fp'] = user.id, auth.fingerprint(user)
                    return redirect(_safe_next(request.args.get('next')))
            error = 'Wrong name or password.'
            log.warning('failed login for %r from %s', name, request.remote_addr)
        return render_template('login.html', error=error), (401 if error else 200)

    @app.route('/logout', methods=['POST'])
    def logout():
        session.clear()
        return redirect(url_for('login'))

    # -------------------------------------------------------------- queue

    @app.route('/')
    def queue_page():
        filters = _filters()
        page_number = max(_int_arg('page', 1), 1)
        offset = (page_number - 1) * review_queue.PAGE_SIZE
        with store().session() as s:
            items, total = review_queue.page(s, g.user, filters, offset)
            batches = s.execute(select(Batch.id, Batch.name).order_by(Batch.name)).all()
            form = s.get(FormRow, filters.form) if filters.form is not None else None
            form_label = (f'form {form.form_index} of {form.document.file_name}'
                          if form is not None and access.may_see(s, g.user, form.document_id) else None)
        pages = max((total + review_queue.PAGE_SIZE - 1) // review_queue.PAGE_SIZE, 1)
        return render_template('queue.html', items=items, total=total, filters=filters, batches=batches,
                               reasons=review_queue.REASONS, page=page_number, pages=pages,
                               form_label=form_label,
                               field_url=lambda item: _field_url(item.form_id, item.path, item.position, filters),
                               page_url=lambda n: url_for('queue_page', page=n, **filters.args()))

    @app.route('/item')
    def item():
        """The queue item at `pos` (next / previous), or the queue if there is none."""
        filters = _filters()
        position = _int_arg('pos', 0)
        with store().session() as s:
            found = review_queue.item_at(s, g.user, filters, position)
        if found is None:
            flash('End of the queue.' if position else 'The queue is empty.')
            return redirect(url_for('queue_page', **filters.args()))
        return redirect(_field_url(found.form_id, found.path, position, filters))

    # -------------------------------------------------------------- a field

    @app.route('/forms/<int:form_id>/fields/<string:path>', methods=['GET'])
    def field_page(form_id: int, path: str):
        if not labels.PATH_RE.match(path):
            abort(404)
        filters = _filters()
        position = request.args.get('pos')
        position = int(position) if position and position.isdigit() and len(position) < 9 else None
        with store().session() as s:
            form_row = access.visible_form(s, g.user, form_id)
            if form_row is None:
                abort(404)
            field = s.scalar(select(FieldRow).where(FieldRow.form_id == form_id, FieldRow.path == path))
            flags = actions.open_flags(s, form_id, path)
            if field is None and not flags and not s.scalar(
                    select(FlagRow.id).where(FlagRow.form_id == form_id, FlagRow.field == path).limit(1)):
                abort(404)
            document = s.get(Document, form_row.document_id)
            page_number = (field.page if field is not None and field.page else None) or \
                next((f.page for f in flags if f.page), None) or (form_row.pages[0] if form_row.pages else None)
            page = _page_row(s, document.id, page_number)
            bbox = (field.bbox if field is not None and images.valid_bbox(field.bbox) else None) or \
                next((f.bbox for f in flags if images.valid_bbox(f.bbox)), None)
            crop_url = None
            if field is not None and images.valid_bbox(field.bbox):
                crop_url = url_for('field_crop', field_id=field.id)
            elif bbox is not None:
                crop_url = url_for('flag_crop', flag_id=next(f.id for f in flags if images.valid_bbox(f.bbox)))
            related = []
            seen = {path}
            for flag in flags:
                if flag.reason != 'arithmetic':
                    continue
                for other in s.scalars(select(FlagRow).where(
                        FlagRow.form_id == form_id, FlagRow.reason == 'arithmetic',
                        FlagRow.detail == flag.detail, FlagRow.field != path)):
                    if other.field in seen:
                        continue
                    seen.add(other.field)
                    other_field = s.scalar(select(FieldRow).where(FieldRow.form_id == form_id,
                                                                  FieldRow.path == other.field))
                    related.append({'path': other.field, 'value': other_field.value if other_field else other.value,
                                    'open': other.status == FlagState.OPEN,
                                    'crop': url_for('field_crop', field_id=other_field.id)
                                    if other_field is not None and images.valid_bbox(other_field.bbox) else None,
                                    'url': _field_url(form_id, other.field, None, filters)})
            entries = actions.pending_entries(s, field.id) if field is not None else []
            double_key = actions.needs_double_key(s, form_id, field)
            is_disputed = actions.disputed(entries)
            my_entry = next((e for e in entries if e.user_id == g.user.id), None)
            history = _history(s, form_row, path, field, g.user)
            next_position = (position + 1) if position is not None else None
            context = dict(
                form_row=form_row, document=document, path=path, field=field, flags=flags,
                page=page, box=_box(bbox, page), crop_url=crop_url, related=related,
                double_key=double_key, disputed=is_disputed, entries=entries, my_entry=my_entry,
                people_keyed=len({e.user_id for e in entries}),
                senior=auth.is_senior(g.user), history=history, filters=filters, position=position,
                next_url=url_for('item', pos=next_position, **filters.args()) if next_position is not None else None,
                prev_url=url_for('item', pos=position - 1, **filters.args()) if position else None,
                queue_url=url_for('queue_page', **filters.args()),
                form_url=url_for('form_page', form_id=form_id),
            )
        return render_template('field.html', **context)

    @app.route('/forms/<int:form_id>/fields/<string:path>', methods=['POST'])
    def field_action(form_id: int, path: str):
        if not labels.PATH_RE.match(path):
            abort(404)
        filters = _filters()
        position = request.form.get('pos', '')
        position = int(position) if position.isdigit() and len(position) < 9 else None
        action = request.form.get('action') or 'correct'
        expected = request.form.get('expected', '')
        value = request.form.get('value')
        if value is not None and len(value) > 5000:
            abort(413)
        try:
            with store().session(write=True) as s:
                form_row = access.visible_form(s, g.user, form_id)
                if form_row is None:
                    abort(404)
                user = s.get(User, g.user.id)
                result = actions.act(s, user, form_row, path, action, value, expected)
                flash(result.message, 'ok')
                for change in result.changes:
                    flash(change, 'change')
                # Where to go next: the item now at this place in the queue, unless it
                # is still this one (its flags are still open): then the one after.
                target = None
                if position is not None:
                    here = review_queue.item_at(s, user, filters, position)
                    if here is not None and (here.form_id, here.path) == (form_id, path):
                        here = review_queue.item_at(s, user, filters, position + 1)
                        position += 1
                    if here is not None:
                        target = _field_url(here.form_id, here.path, position, filters)
                    else:
                        flash('That was the last item in the queue.', 'ok')
                        target = url_for('queue_page', **filters.args())
        except actions.ActionError as err:
            flash(str(err), 'error')
            return redirect(_field_url(form_id, path, position, filters))
        return redirect(target or _field_url(form_id, path, position, filters))

    # -------------------------------------------------------------- a form

    @app.route('/forms/<int:form_id>')
    def form_page(form_id: int):
        with store().session() as s:
            form_row = access.visible_form(s, g.user, form_id)
            if form_row is None:
                abort(404)
            document = s.get(Document, form_row.document_id)
            fields = {f.path: f for f in s.scalars(select(FieldRow).where(FieldRow.form_id == form_id))}
            flagged: dict[str, list] = {}
            for flag in s.scalars(select(FlagRow).where(FlagRow.form_id == form_id,
                                                        FlagRow.status == FlagState.OPEN)
                                  .order_by(FlagRow.rank, FlagRow.position)):
                flagged.setdefault(flag.field, []).append(flag)
            corrected = set(s.scalars(select(FieldRow.path).join(Correction, Correction.field_id == FieldRow.id)
                                      .where(FieldRow.form_id == form_id)))
            current = current_document(s, document)
            form = current.forms[form_row.form_index]
            pages = []
            for number in form_row.pages:
                page = _page_row(s, document.id, number)
                if page is None:
                    continue
                boxes = []
                for path, field in fields.items():
                    if field.page == number and path in flagged:
                        box = _box(field.bbox, page)
                        if box:
                            boxes.append({'path': path, 'box': box, 'reason': flagged[path][0].reason,
                                          'url': url_for('field_page', form_id=form_id, path=path)})
                for path, flags in flagged.items():
                    if path not in fields and flags[0].page == number:
                        box = _box(flags[0].bbox, page)
                        if box:
                            boxes.append({'path': path, 'box': box, 'reason': flags[0].reason,
                                          'url': url_for('field_page', form_id=form_id, path=path)})
                pages.append({'row': page, 'boxes': boxes})
            block_flags = {p: fl for p, fl in flagged.items() if p not in fields}
        return render_template('form.html', form_row=form_row, document=document, form=form,
                               fields=fields, flagged=flagged, corrected=corrected, pages=pages,
                               block_flags=block_flags, open_count=sum(len(v) for v in flagged.values()),
                               cell_url=lambda p: url_for('field_page', form_id=form_id, path=p))

    # -------------------------------------------------------------- images

    def _send_png(data: bytes) -> Response:
        response = Response(data, mimetype='image/png')
        response.headers['Cache-Control'] = 'private, max-age=300'
        return response

    @app.route('/pages/<int:page_id>/image')
    def page_image(page_id: int):
        with store().session() as s:
            page = access.visible_page(s, g.user, page_id)
            path = images.page_file(page, app.config['PAGES_DIR']) if page is not None else None
        if path is None:
            abort(404)
        with open(path, 'rb') as fh:
            return _send_png(fh.read())

    def _crop(document_id: int, number: Optional[int], bbox) -> Response:
        with store().session() as s:
            if not access.may_see(s, g.user, document_id):
                abort(404)
            page = _page_row(s, document_id, number)
            path = images.page_file(page, app.config['PAGES_DIR']) if page is not None else None
        if path is None or not images.valid_bbox(bbox):
            abort(404)
        try:
            return _send_png(images.crop_png(path, bbox))
        except ValueError:
            abort(404)

    @app.route('/fields/<int:field_id>/crop')
    def field_crop(field_id: int):
        with store().session() as s:
            field = s.get(FieldRow, field_id)
            where = (field.form.document_id, field.page, field.bbox) if field is not None else None
        return _crop(*where) if where else abort(404)

    @app.route('/flags/<int:flag_id>/crop')
    def flag_crop(flag_id: int):
        with store().session() as s:
            flag = s.get(FlagRow, flag_id)
            where = (flag.document_id, flag.page, flag.bbox) if flag is not None else None
        return _crop(*where) if where else abort(404)

    # -------------------------------------------------------------- exports

    @app.route('/exports')
    def exports_page():
        from workers.store.queries import all_batches
        with store().session() as s:
            batches = s.execute(select(Batch.id, Batch.name).order_by(Batch.name)).all()
            progress = {p.name: p for p in all_batches(s)}
        return render_template('exports.html', batches=batches, progress=progress, formats=FORMATS)

    def _download(data: bytes, name: str, ext: str) -> Response:
        from urllib.parse import quote
        response = Response(data, mimetype=MIME[ext])
        ascii_name = ''.join(c if c.isascii() and (c.isalnum() or c in '-_.') else '_' for c in name) or 'export'
        response.headers['Content-Disposition'] = (
            f"attachment; filename=\"{ascii_name}.{ext}\"; filename*=UTF-8''{quote(name + '.' + ext)}")
        return response

    @app.route('/batches/<int:batch_id>/export/<string:fmt>')
    def batch_download(batch_id: int, fmt: str):
        if fmt not in FORMATS:
            abort(404)
        with store().session() as s:
            batch = s.get(Batch, batch_id)
            if batch is None:
                abort(404)
            name = batch.name
        data, ext = batch_export(store(), name, fmt)
        from workers.export import _safe_name
        return _download(data, _safe_name(name), ext)

    @app.route('/documents/<int:document_id>/export/<string:fmt>')
    def document_download(document_id: int, fmt: str):
        if fmt not in FORMATS:
            abort(404)
        with store().session() as s:
            if not access.may_see(s, g.user, document_id):
                abort(404)
            row = s.get(Document, document_id)
            document = current_document(s, row)
            if document is None:
                abort(404)
            stem = os.path.splitext(row.file_name)[0]
            data = document_export(document, row.file_name, fmt)
        return _download(data, stem, fmt)
