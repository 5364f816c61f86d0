"""The reviewer web app: `create_app()` registers one blueprint per area, served by
waitress (`perf-extract review`) or any WSGI server.

    auth     /login, /logout                        review/auth.py
    queue    /, /item                               review/queue.py
    field    /forms/<id>/fields/<path>              review/field.py
    form     /forms/<id>                            review/form.py
    images   /pages/<id>/image, crops               review/images.py
    exports  /exports, batch and document files     review/exports.py
    admin    /admin/users, /progress, /audit        review/admin.py

Safety, in one place each:
* every view but /login and /static is @login_required (review.access); what a user
  may see is decided by review.access (visible_form_or_404 and friends), by id only;
* sessions live in the store (review.sessions): logout, idle time and a new password
  end them on the server; the cookie is signed, HttpOnly, SameSite=Lax (Secure with
  EXTRACTOR_REVIEW_SECURE_COOKIE=1);
* logins are throttled per account and address and audited (review.auth);
* every POST carries a CSRF token (Flask-WTF's CSRFProtect, checked before the view);
* everything shown is escaped by Jinja's autoescape (OCR text is untrusted input), and
  the Content-Security-Policy allows no inline script at all, as a second wall;
* no file path is built from a request, and none is sent to the browser;
* the client's address (throttling, audit) is the TCP peer's; X-Forwarded-For is
  believed only from the trusted proxies configured (review.proxy).
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from typing import Optional

from flask import Flask, Response, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect

from review import admin, auth, exports, field, form, images, labels, proxy, queue, sessions
from review.store import TakingTurns
from review.users import is_admin, is_senior
from store.db import open_store

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
               secret_key: Optional[str] = None, idle: Optional[timedelta] = None,
               trusted_proxies=None) -> Flask:
    """trusted_proxies: addresses or networks of reverse proxies whose X-Forwarded-For
    is believed (a list or 'a,b'; default EXTRACTOR_TRUSTED_PROXIES, else none:
    review.proxy). A bad one is a ValueError."""
    from store.settings import Settings
    if database_url is None or data_dir is None:
        settings = Settings.from_env()
        database_url = database_url or settings.database_url
        data_dir = data_dir or settings.data_dir
    data_dir = os.path.abspath(data_dir)
    trusted = proxy.parse_networks(trusted_proxies) if trusted_proxies is not None else proxy.from_env()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key or _secret_key(data_dir),
        SESSION_COOKIE_NAME='review_session',
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE='Lax',
        SESSION_COOKIE_SECURE=os.environ.get('EXTRACTOR_REVIEW_SECURE_COOKIE') == '1',
        PERMANENT_SESSION_LIFETIME=sessions.LIFETIME,
        # A response sets the cookie only when its request changed the session. Refreshed
        # on every response, the cookie of an image request that started before a form
        # was sent could arrive after the form's redirect and put back the session without
        # the form's message (seen in CI: 'the entries differ' lost). The cookie's expiry
        # needs no refreshing: the session's age and idle time are checked in the store.
        SESSION_REFRESH_EACH_REQUEST=False,
        IDLE=idle or sessions.idle_limit(),
        WTF_CSRF_TIME_LIMIT=None,           # valid as long as the session
        MAX_CONTENT_LENGTH=64 * 1024,
        PAGES_DIR=os.path.join(data_dir, 'pages'),
    )
    app.extensions['review_store'] = TakingTurns(open_store(database_url))
    CSRFProtect(app)
    auth.init_app(app)
    for module in (auth, queue, field, form, images, exports, admin):
        app.register_blueprint(module.bp)
    app.jinja_env.globals.update(label=labels.label, reason_text=labels.REASON_TEXT,
                                 is_money=labels.is_money, is_senior=is_senior, is_admin=is_admin)
    _headers_and_errors(app)
    app.wsgi_app = proxy.ClientAddress(app.wsgi_app, trusted)
    app.config['TRUSTED_PROXIES'] = [str(n) for n in trusted]
    return app


def _headers_and_errors(app: Flask) -> None:
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

    @app.errorhandler(413)
    def too_large(_err):
        return render_template('error.html', message='Too much data in one request.'), 413

    @app.errorhandler(500)
    def server_error(_err):
        # Never the exception or a path: those go to the server's log only.
        return render_template('error.html', message='Something went wrong on the server; it is logged.'), 500

    @app.route('/favicon.ico')
    def favicon():
        return Response(status=204)
