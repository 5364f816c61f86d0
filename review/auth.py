"""Logging in and out (blueprint `auth`), with Flask-Login holding the current user.

Flask-Login keeps the session's token in the signed cookie; its user loader asks
review.sessions whether that token is still live in the store (logout, idle time,
a new password end it). Logins are throttled per account and per address
(review.throttle) and every attempt goes into the audit log (review.audit).
`next` after login only ever leads to a path on this site.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Optional

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from review import audit, sessions, throttle, users
from review.store import store
from store.models import utcnow

log = logging.getLogger(__name__)
bp = Blueprint('auth', __name__)

WRONG = 'Wrong name or password.'
LOCKED = ('Too many failed logins: this account is locked. A senior reviewer can unlock it '
          '(Users page, or `users unlock NAME`).')
THROTTLED = 'Too many failed logins from your address: try again in a quarter of an hour.'
# A same-site path: one '/', then no second '/' or '\' (scheme-relative URLs), and only
# printable URL characters (a tab or newline would be dropped by the browser and turn
# `/%09/evil` into `//evil`, or break the Location header).
_SAFE_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*")


class Reviewer(UserMixin):
    """Flask-Login's user: the store's user plus the token of this login session."""

    def __init__(self, who: sessions.Who, token: str):
        self.id, self.name, self.role, self.session_id = who.id, who.name, who.role, who.session_id
        self._token = token

    def get_id(self) -> str:
        return self._token


def init_app(app) -> None:
    manager = LoginManager(app)
    manager.session_protection = 'basic'

    @manager.user_loader
    def load(token: str) -> Optional[Reviewer]:
        who = sessions.check(store(), token, app.config['IDLE'])
        return Reviewer(who, token) if who is not None else None

    @manager.unauthorized_handler
    def unauthorized():
        if request.method == 'GET':
            return redirect(url_for('auth.login', next=safe_next(request.full_path.rstrip('?'))))
        return render_template('error.html', message='Log in first.'), 401


def safe_next(target: Optional[str]) -> str:
    """`target` if it is a path on this site, else the queue."""
    if target and len(target) < 2000 and _SAFE_PATH.fullmatch(target):
        return target
    return url_for('queue.index')


@dataclass
class Attempt:
    user: Optional[object]
    message: Optional[str] = None


def attempt(name: str, password: str, address: Optional[str]) -> Attempt:
    """Check a login. The tries are counted (and committed) before Argon2 runs."""
    now = utcnow()
    with store().session(write=True) as s:
        if not throttle.take_address_try(s, address, now):
            audit.record(s, audit.LOGIN_REFUSED, name=name, address=address, detail='address throttled')
            return Attempt(None, THROTTLED)
        if not throttle.take_account_try(s, name, now):
            throttle.give_back_address(s, address)
            audit.record(s, audit.LOGIN_REFUSED, name=name, address=address, detail='account locked')
            return Attempt(None, LOCKED)
    with store().session(write=True) as s:
        user = users.verify(s, name, password)
        if user is None:
            locked = throttle.note_failure(s, name, now)
            audit.record(s, audit.LOGIN_FAILED, name=name, address=address,
                         detail='wrong name or password' + ('; account now locked' if locked else ''))
            return Attempt(None, LOCKED if locked else WRONG)
        throttle.give_back(s, name, address)
        token = sessions.start(s, user, address)
        audit.record(s, audit.LOGIN_OK, user_id=user.id, name=user.name, address=address)
        return Attempt(Reviewer(sessions.Who(user.id, user.name, user.role, 0), token))


@bp.route('/login', methods=['GET', 'POST'])
def login():
    error = None
    if request.method == 'POST':
        name = (request.form.get('name') or '').strip()[:200]
        password = (request.form.get('password') or '')[:users.MAX_PASSWORD]
        result = attempt(name, password, request.remote_addr)
        if result.user is not None:
            session.clear()                 # nothing from before the login carries over
            session.permanent = True
            login_user(result.user)
            return redirect(safe_next(request.args.get('next')))
        error = result.message
        log.warning('failed login for %r from %s', name, request.remote_addr)
    elif current_user.is_authenticated:
        return redirect(safe_next(request.args.get('next')))
    return render_template('login.html', error=error), (401 if error else 200)


@bp.route('/logout', methods=['POST'])
def logout():
    if current_user.is_authenticated:
        with store().session(write=True) as s:
            sessions.revoke(s, current_user.session_id)
            audit.record(s, audit.LOGOUT, user_id=current_user.id, name=current_user.name,
                         address=request.remote_addr)
    logout_user()
    session.clear()
    return redirect(url_for('auth.login'))


