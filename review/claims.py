"""Claims: the queue item (a form's field) a reviewer has open. While the claim lasts
(CLAIM_TIME, renewed each time they open it) nobody else is given that item from the
queue, and nobody else's action on it is taken, so two reviewers on one batch never
work on the same field. A reviewer holds one claim at a time; an action on the item
ends it and logs the time taken (store.models.WorkRecord).

A claim is taken with one conditional UPDATE (or an INSERT that a unique key guards),
so two requests racing for one item cannot both win, on SQLite or PostgreSQL.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.models import Claim, User, WorkRecord, utcnow

CLAIM_TIME = timedelta(minutes=10)


def claim(session: Session, user_id: int, form_id: int, path: str,
          now: Optional[datetime] = None) -> bool:
    """Take (or renew) the item for `user_id`; False if someone else holds it."""
    now = now or utcnow()
    expires = now + CLAIM_TIME
    taken = session.execute(
        update(Claim).where(Claim.form_id == form_id, Claim.path == path,
                            or_(Claim.user_id == user_id, Claim.expires_at <= now))
        .values(claimed_at=_claimed_at(session, user_id, form_id, path, now), user_id=user_id,
                expires_at=expires)).rowcount == 1
    if not taken:
        if session.scalar(select(Claim.id).where(Claim.form_id == form_id, Claim.path == path)):
            return False
        try:
            with session.begin_nested():
                session.add(Claim(form_id=form_id, path=path, user_id=user_id, claimed_at=now,
                                  expires_at=expires))
        except IntegrityError:
            return False
    # One claim at a time: opening another item lets go of the last one.
    session.execute(delete(Claim).where(Claim.user_id == user_id,
                                        (Claim.form_id != form_id) | (Claim.path != path)))
    return True


def _claimed_at(session: Session, user_id: int, form_id: int, path: str, now: datetime):
    """A renewal keeps when the reviewer first opened the item (for time per item)."""
    mine = session.scalar(select(Claim.claimed_at).where(Claim.form_id == form_id, Claim.path == path,
                                                         Claim.user_id == user_id,
                                                         Claim.expires_at > now))
    return mine or now


def holder(session: Session, form_id: int, path: str, now: Optional[datetime] = None) -> Optional[tuple[int, str, datetime]]:
    """(user id, name, until) of a live claim on the item, if any."""
    now = now or utcnow()
    row = session.execute(select(Claim.user_id, User.name, Claim.expires_at)
                          .join(User, User.id == Claim.user_id)
                          .where(Claim.form_id == form_id, Claim.path == path, Claim.expires_at > now)).first()
    return tuple(row) if row else None


def finish(session: Session, user_id: int, document_id: int, form_id: int, path: str, action: str) -> None:
    """The reviewer acted on the item: log it with the time since they opened it, and
    let go of the claim."""
    now = utcnow()
    started = session.scalar(select(Claim.claimed_at).where(Claim.form_id == form_id, Claim.path == path,
                                                            Claim.user_id == user_id))
    session.add(WorkRecord(user_id=user_id, document_id=document_id, form_id=form_id, path=path,
                           action=action, started_at=started, finished_at=now))
    session.execute(delete(Claim).where(Claim.form_id == form_id, Claim.path == path,
                                        Claim.user_id == user_id))


def release_all(session: Session, user_id: int) -> None:
    session.execute(delete(Claim).where(Claim.user_id == user_id))
