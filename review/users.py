"""Users, passwords, roles and assignments (no Flask here: the `users` command uses it too).

Passwords (12 to 1000 characters) are hashed with Argon2id (argon2-cffi, its default
parameters); a hash made with older parameters is replaced at the next login.
Roles (store.models.Role): a reviewer sees the batches assigned to them; a
senior sees every batch, settles double-keyed values that differ, unlocks accounts and
sees progress; an admin also manages users and assignments.
"""
from __future__ import annotations

from typing import Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from store.models import Assignment, Batch, Role, User

_hasher = PasswordHasher()
# Verified when the user name is unknown, so a login takes as long either way.
_DUMMY_HASH = _hasher.hash('not a password of anyone')
MIN_PASSWORD = 12           # OWASP ASVS 2.1.1
MAX_PASSWORD = 1000         # what the login form reads (ASVS 2.1.2 asks for at least 64)


class UserError(ValueError):
    pass


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(f'a password needs at least {MIN_PASSWORD} characters')
    if len(password) > MAX_PASSWORD:
        raise UserError(f'a password has at most {MAX_PASSWORD} characters')
    return _hasher.hash(password)


def is_senior(user) -> bool:
    """Seniors and admins: see every batch, decide disputes, unlock, see progress."""
    return user is not None and user.role in Role.SENIORS


def is_admin(user) -> bool:
    return user is not None and user.role == Role.ADMIN


def find_user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name.strip()))
    if user is None:
        raise UserError(f'no user {name!r}')
    return user


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
    """A new password ends every login session of the user."""
    from review.sessions import revoke_all
    user = find_user(session, name)
    user.password_hash = hash_password(password)
    revoke_all(session, user.id)
    session.flush()
    return user


def set_role(session: Session, name: str, role: str) -> User:
    if role not in Role.ALL:
        raise UserError(f'role must be one of {", ".join(Role.ALL)}')
    user = find_user(session, name)
    user.role = role
    session.flush()
    return user


def verify(session: Session, name: str, password: str) -> Optional[User]:
    """The user if the password is right, else None, with the same Argon2 work for an
    unknown name. Throttling is the caller's (review.throttle)."""
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


# An older name, kept for scripts that check a password without logging in.
authenticate = verify


# ------------------------------------------------------------------ assignments

def _batch(session: Session, batch_name: str) -> Batch:
    batch = session.scalar(select(Batch).where(Batch.name == batch_name))
    if batch is None:
        raise UserError(f'no batch {batch_name!r}')
    return batch


def assign(session: Session, name: str, batch_name: str) -> bool:
    """Give `name` the batch; False if they had it already."""
    user, batch = find_user(session, name), _batch(session, batch_name)
    if session.scalar(select(Assignment.id).where(Assignment.user_id == user.id,
                                                  Assignment.batch_id == batch.id)):
        return False
    session.add(Assignment(user_id=user.id, batch_id=batch.id))
    session.flush()
    return True


def unassign(session: Session, name: str, batch_name: str) -> bool:
    user, batch = find_user(session, name), _batch(session, batch_name)
    done = session.execute(delete(Assignment).where(Assignment.user_id == user.id,
                                                    Assignment.batch_id == batch.id))
    return bool(done.rowcount)


def assigned_batches(session: Session, user_id: int) -> list[str]:
    return list(session.scalars(select(Batch.name).join(Assignment, Assignment.batch_id == Batch.id)
                                .where(Assignment.user_id == user_id).order_by(Batch.name)))
