"""Login sessions kept in the store. The browser's (signed) cookie holds a random
token; the store keeps its SHA-256 with the user, when it was made and last used, and
whether it was revoked. Every request looks the token up, so:

* logging out revokes the session on the server: a copy of the cookie saved before is
  worthless afterwards;
* a session unused for IDLE (30 min, EXTRACTOR_REVIEW_IDLE_MINUTES) or older than
  LIFETIME ends;
* a new password ends all the user's sessions;
* each login makes a new token (the session id rotates at login).
"""
from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from store.models import LoginSession, User, utcnow

LIFETIME = timedelta(hours=12)
TOUCH_EVERY = timedelta(seconds=60)      # last_seen is written at most this often


def idle_limit() -> timedelta:
    value = os.environ.get('EXTRACTOR_REVIEW_IDLE_MINUTES', '').strip()
    if not value:
        return timedelta(minutes=30)
    try:
        minutes = float(value)
    except ValueError:
        minutes = 0
    if not 0 < minutes <= 24 * 60:
        raise ValueError(f'EXTRACTOR_REVIEW_IDLE_MINUTES must be minutes between 0 and 1440, not {value!r}')
    return timedelta(minutes=minutes)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Who:
    """The logged-in user as the views see it (detached from any database session)."""
    id: int
    name: str
    role: str
    session_id: int


def start(session: Session, user: User, address: Optional[str]) -> str:
    """A new session of `user`; the token goes into the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(LoginSession(token_hash=_hash(token), user_id=user.id, created_at=now, last_seen=now,
                             address=(address or '')[:64] or None))
    session.flush()
    return token


def check(store, token: str, idle: timedelta) -> Optional[Who]:
    """The session's user if the token is live; touches last_seen now and then."""
    if not token or len(token) > 100:
        return None
    now = utcnow()
    with store.session() as s:
        row = s.execute(select(LoginSession.id, LoginSession.last_seen, LoginSession.created_at,
                               LoginSession.revoked_at, User.id, User.name, User.role, User.password_hash)
                        .join(User, User.id == LoginSession.user_id)
                        .where(LoginSession.token_hash == _hash(token))).first()
    if row is None:
        return None
    session_id, last_seen, created_at, revoked_at, user_id, name, role, password_hash = row
    if revoked_at is not None or not password_hash:
        return None
    if now - last_seen > idle or now - created_at > LIFETIME:
        with store.session(write=True) as s:
            s.execute(update(LoginSession).where(LoginSession.id == session_id,
                                                 LoginSession.revoked_at.is_(None)).values(revoked_at=now))
        return None
    if now - last_seen > TOUCH_EVERY:
        with store.session(write=True) as s:
            s.execute(update(LoginSession).where(LoginSession.id == session_id).values(last_seen=now))
    return Who(user_id, name, role, session_id)


def revoke(session: Session, session_id: int) -> None:
    session.execute(update(LoginSession).where(LoginSession.id == session_id,
                                               LoginSession.revoked_at.is_(None)).values(revoked_at=utcnow()))


def revoke_all(session: Session, user_id: int) -> None:
    session.execute(update(LoginSession).where(LoginSession.user_id == user_id,
                                               LoginSession.revoked_at.is_(None)).values(revoked_at=utcnow()))


