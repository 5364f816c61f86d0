"""The audit log: logins (success, failure, refused), logouts, exports, unlocks, role
and assignment changes, each with who, from where and when (store.models.AuditEvent)."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import AuditEvent, utcnow

LOGIN_OK = 'login.success'
LOGIN_FAILED = 'login.failure'         # a wrong password (evaluated)
LOGIN_REFUSED = 'login.refused'        # not evaluated: account locked or address throttled
LOGOUT = 'logout'
EXPORT = 'export'
UNLOCK = 'account.unlock'
ASSIGN = 'assign'
UNASSIGN = 'unassign'
ROLE = 'role'


def record(session: Session, event: str, user_id: Optional[int] = None, name: Optional[str] = None,
           address: Optional[str] = None, detail: str = '') -> None:
    session.add(AuditEvent(at=utcnow(), event=event, user_id=user_id, name=(name or '')[:200] or None,
                           address=(address or '')[:64] or None, detail=detail[:2000]))


def recent(session: Session, limit: int = 200) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)))
