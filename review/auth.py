"""Users, passwords and roles.

Passwords are hashed with Argon2id (argon2-cffi, its default parameters); a hash made
with older parameters is replaced at the next login. A login session (a signed Flask
cookie) holds the user's id and a fingerprint of the password hash, so changing a
password ends every session of that user.
"""
from __future__ import annotations

import hashlib
from typing import Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.store.models import Role, User

_hasher = PasswordHasher()
# Verified when the user name is unknown, so a login takes as long either way.
_DUMMY_HASH = _hasher.hash('not a password of anyone')
MIN_PASSWORD = 8


class UserError(ValueError):
    pass


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(f'a password needs at least {MIN_PASSWORD} characters')
    return _hasher.hash(password)


def fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or '').encode()).hexdigest()[:16]


def add_user(session: Session, name: str, password: str, role: str = Role.REVIEWER,
             display_name: Optional[str] = None) -> User:
    """A new user, or a password and role for a user that exists without one (made by
    `correct_field` before the app existed). A user with a password is not replaced."""
    name = name.strip()
    if not name or len(name) > 200:
        raise UserError('a user name is 1 to 200 characters')
    if role not in Role.ALL:
        raise UserError(f'role must be one of {", ".join(Role.ALL)}')
    user = session.scalar(select(User).where(User.name == name))
    if user is not None and user.password_hash:
        raise UserError(f'user {name!r} exists already (use `users passwd` to change the password)')
    if user is None:
        user = User(name=name)
        session.add(user)
    user.password_hash = hash_password(password)
    user.role = role
    user.display_name = display_name or user.display_name
    session.flush()
    return user


def set_password(session: Session, name: str, password: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise UserError(f'no user {name!r}')
    user.password_hash = hash_password(password)
    session.flush()
    return user


def authenticate(session: Session, name: str, password: str) -> Optional[User]:
    """The user if the password is right, else None (same work either way)."""
    user = session.scalar(select(User).where(User.name == name.strip()))
    stored = user.password_hash if user is not None and user.password_hash else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if stored is None:
        return None
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
    return user


def is_senior(user: User) -> bool:
    return user.role == Role.SENIOR
