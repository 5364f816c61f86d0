"""Login throttling, per account and per address, kept in the store (so it holds
across threads, processes and restarts).

* An account (any typed name, known or not, so the answers never tell which names
  exist) gets ACCOUNT_LIMIT tries that fail in a row; then it is locked until a senior
  or an admin unlocks it (the Users page, or `users unlock NAME`). A right password
  before that starts the count again.
* An address gets ADDRESS_LIMIT failed tries per ADDRESS_WINDOW (guessing one common
  password across many accounts); after that its tries are refused until the window
  ends.

A try is counted *before* the password is checked, in one conditional UPDATE, so a
thousand parallel guesses cannot slip past the limit: at most ACCOUNT_LIMIT of them
reach Argon2. A right password gives its try back.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import case, delete, select, update
from sqlalchemy.orm import Session

from store.models import LoginThrottle

ACCOUNT_LIMIT = 10                       # failures in a row, then locked until unlocked
ADDRESS_LIMIT = 50                       # failures from one address ...
ADDRESS_WINDOW = timedelta(minutes=15)   # ... in this window


def account_key(name: str) -> str:
    return 'account:' + name.strip().casefold()[:200]


def address_key(address: Optional[str]) -> str:
    return 'address:' + (address or 'unknown')[:64]


def _ensure_row(session: Session, key: str, now: datetime) -> None:
    """Insert the key's row if missing (racing inserts: the loser does nothing)."""
    dialect = session.get_bind().dialect.name
    if dialect == 'postgresql':
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == 'sqlite':
        from sqlalchemy.dialects.sqlite import insert
    else:       # pragma: no cover - the project runs SQLite and PostgreSQL
        if session.get(LoginThrottle, key) is None:
            session.add(LoginThrottle(key=key, failures=0, window_start=now))
            session.flush()
        return
    session.execute(insert(LoginThrottle).values(key=key, failures=0, window_start=now)
                    .on_conflict_do_nothing(index_elements=['key']))


def take_account_try(session: Session, name: str, now: datetime) -> bool:
    """Count a try on the account; False if it is locked (nothing is evaluated then)."""
    key = account_key(name)
    _ensure_row(session, key, now)
    done = session.execute(update(LoginThrottle)
                           .where(LoginThrottle.key == key, LoginThrottle.failures < ACCOUNT_LIMIT)
                           .values(failures=LoginThrottle.failures + 1))
    return done.rowcount == 1


def take_address_try(session: Session, address: Optional[str], now: datetime) -> bool:
    """Count a try from the address; False while it is over its limit."""
    key = address_key(address)
    _ensure_row(session, key, now)
    stale = LoginThrottle.window_start < now - ADDRESS_WINDOW
    done = session.execute(update(LoginThrottle)
                           .where(LoginThrottle.key == key,
                                  (LoginThrottle.failures < ADDRESS_LIMIT) | stale)
                           .values(failures=case((stale, 1), else_=LoginThrottle.failures + 1),
                                   window_start=case((stale, now), else_=LoginThrottle.window_start)))
    return done.rowcount == 1


def give_back(session: Session, name: str, address: Optional[str]) -> None:
    """A right password: the account's count starts again, the address's try returns."""
    session.execute(update(LoginThrottle).where(LoginThrottle.key == account_key(name))
                    .values(failures=0, locked_at=None))
    give_back_address(session, address)


def give_back_address(session: Session, address: Optional[str]) -> None:
    session.execute(update(LoginThrottle)
                    .where(LoginThrottle.key == address_key(address), LoginThrottle.failures > 0)
                    .values(failures=LoginThrottle.failures - 1))


def note_failure(session: Session, name: str, now: datetime) -> bool:
    """After a wrong password: True if the account is locked now (stamps when)."""
    row = session.get(LoginThrottle, account_key(name))
    if row is not None and row.failures >= ACCOUNT_LIMIT:
        row.locked_at = row.locked_at or now
        return True
    return False


@dataclass
class Lock:
    name: str
    failures: int
    locked_at: Optional[datetime]


def locked_accounts(session: Session) -> dict[str, Lock]:
    """Locked account keys (casefolded names) -> their lock."""
    rows = session.scalars(select(LoginThrottle).where(LoginThrottle.key.like('account:%'),
                                                       LoginThrottle.failures >= ACCOUNT_LIMIT))
    return {r.key[len('account:'):]: Lock(r.key[len('account:'):], r.failures, r.locked_at) for r in rows}


def is_locked(session: Session, name: str) -> bool:
    row = session.get(LoginThrottle, account_key(name))
    return row is not None and row.failures >= ACCOUNT_LIMIT


def unlock(session: Session, name: str) -> bool:
    """Lift the account's lock; True if it was locked."""
    was = is_locked(session, name)
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == account_key(name)))
    return was
