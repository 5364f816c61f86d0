"""The queue: every field with an open flag, across documents, riskiest first.

One item per field (form, path), ranked by its riskiest open flag (arithmetic, then
split numbers, then low confidence, unparsed, missing, structure; see
workers.store.models.REASON_RANK), then in document order. Filters: batch, reason,
form. A reviewer does not see the money fields they keyed already (they wait for
someone else) nor, unless senior, the ones whose entries differ (a senior decides
those; seniors see them first).

It is one GROUP BY over the open flags (index ix_flags_status_rank) with LIMIT/OFFSET,
and a second query for the 50 items on the page, so its cost follows the page, not
the backlog: see benchmarks/review_queue.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from sqlalchemy import and_, func, literal, select, tuple_
from sqlalchemy.orm import Session

from review.access import visible_documents
from workers.store.models import (BatchItem, Document, FieldRow, FlagRow, FlagState, FormRow,
                                  KeyEntry, User)

PAGE_SIZE = 50
REASONS = ('arithmetic', 'split_number', 'low_confidence', 'unparsed', 'missing', 'structure')


@dataclass(frozen=True)
class Filters:
    batch: Optional[int] = None
    reason: Optional[str] = None
    form: Optional[int] = None

    @classmethod
    def from_args(cls, args) -> 'Filters':
        def number(name):
            value = (args.get(name) or '').strip()
            return int(value) if value.isdigit() and len(value) < 12 else None
        reason = args.get('reason') or None
        return cls(batch=number('batch'), reason=reason if reason in REASONS else None,
                   form=number('form'))

    def args(self) -> dict:
        return {k: v for k, v in (('batch', self.batch), ('reason', self.reason), ('form', self.form))
                if v is not None}


@dataclass
class Item:
    position: int                 # 0-based place in the filtered queue
    form_id: int
    path: str
    rank: int
    flags: list = field(default_factory=list)     # open FlagRows on the field
    document_id: int = 0
    file_name: str = ''
    form_index: int = 0
    project_name: Optional[str] = None
    value: Optional[str] = None
    confidence: Optional[float] = None
    state: str = ''               # '', 'keyed by 1', 'disputed'


def _key_states(session: Session, user: User) -> tuple[set, set, dict]:
    """(fields the user keyed and that wait for others, disputed fields, (form, path) ->
    number of people who keyed), as (form_id, path) pairs."""
    rows = session.execute(select(FieldRow.form_id, FieldRow.path, KeyEntry.user_id)
                           .join(FieldRow, FieldRow.id == KeyEntry.field_id)
                           .where(KeyEntry.settled.is_(False), KeyEntry.kind == KeyEntry.ENTRY)).all()
    people: dict[tuple, set] = {}
    for form_id, path, user_id in rows:
        people.setdefault((form_id, path), set()).add(user_id)
    mine = {k for k, users in people.items() if user.id in users and len(users) < 2}
    disputed = {k for k, users in people.items() if len(users) >= 2}
    return mine, disputed, {k: len(v) for k, v in people.items()}


def _grouped(user: User, filters: Filters, hide: set):
    conditions = [FlagRow.status == FlagState.OPEN, FlagRow.form_id.is_not(None),
                  FlagRow.document_id.in_(visible_documents(user))]
    if filters.batch is not None:
        conditions.append(FlagRow.document_id.in_(
            select(BatchItem.document_id).where(BatchItem.batch_id == filters.batch)))
    if filters.reason is not None:
        conditions.append(FlagRow.reason == filters.reason)
    if filters.form is not None:
        conditions.append(FlagRow.form_id == filters.form)
    if hide:
        conditions.append(tuple_(FlagRow.form_id, FlagRow.field).not_in(sorted(hide)))
    return (select(FlagRow.form_id, FlagRow.field, func.min(FlagRow.rank).label('rank'),
                   func.min(FlagRow.document_id).label('document_id'),
                   func.min(FlagRow.position).label('position'))
            .where(and_(*conditions)).group_by(FlagRow.form_id, FlagRow.field))


def _order(grouped, disputed_first: set):
    sub = grouped.subquery()
    first = literal(1)
    if disputed_first:
        from sqlalchemy import case
        first = case((tuple_(sub.c.form_id, sub.c.field).in_(sorted(disputed_first)), 0), else_=1)
    return sub, select(sub.c.form_id, sub.c.field, sub.c.rank).order_by(
        first, sub.c.rank, sub.c.document_id, sub.c.position, sub.c.field)


def page(session: Session, user: User, filters: Filters, offset: int = 0,
         limit: int = PAGE_SIZE, with_total: bool = True) -> tuple[list[Item], int]:
    """The items from `offset` on, and how many there are in all (-1 if not asked)."""
    mine, disputed, keyed = _key_states(session, user)
    senior = user.role == 'senior'
    hide = mine | (set() if senior else disputed)
    grouped = _grouped(user, filters, hide)
    sub, ordered = _order(grouped, disputed if senior else set())
    rows = session.execute(ordered.offset(max(offset, 0)).limit(limit)).all()
    total = session.scalar(select(func.count()).select_from(sub)) if with_total else -1
    items = [Item(position=offset + i, form_id=r.form_id, path=r.field, rank=r.rank)
             for i, r in enumerate(rows)]
    if not items:
        return items, total
    keys = [(i.form_id, i.path) for i in items]
    form_ids = sorted({i.form_id for i in items})
    flags: dict[tuple, list] = {}
    for flag in session.scalars(select(FlagRow).where(
            FlagRow.form_id.in_(form_ids), FlagRow.status == FlagState.OPEN)
            .order_by(FlagRow.rank, FlagRow.position)):
        if (flag.form_id, flag.field) in keys:
            flags.setdefault((flag.form_id, flag.field), []).append(flag)
    forms = {f.id: (f, d) for f, d in session.execute(
        select(FormRow, Document).join(Document, Document.id == FormRow.document_id)
        .where(FormRow.id.in_(form_ids)))}
    values = {(f.form_id, f.path): f for f in session.scalars(
        select(FieldRow).where(FieldRow.form_id.in_(form_ids),
                               tuple_(FieldRow.form_id, FieldRow.path).in_(keys)))}
    for item in items:
        item.flags = flags.get((item.form_id, item.path), [])
        form, document = forms[item.form_id]
        item.document_id, item.file_name = document.id, document.file_name
        item.form_index, item.project_name = form.form_index, form.project_name
        field_row = values.get((item.form_id, item.path))
        item.value = field_row.value if field_row else (item.flags[0].value if item.flags else None)
        item.confidence = field_row.confidence if field_row else None
        key = (item.form_id, item.path)
        item.state = 'disputed' if key in disputed else (f'keyed by {keyed[key]}' if key in keyed else '')
    return items, total


def item_at(session: Session, user: User, filters: Filters, position: int) -> Optional[Item]:
    if position < 0:
        return None
    items, _ = page(session, user, filters, position, 1, with_total=False)
    return items[0] if items else None


def position_of(session: Session, user: User, filters: Filters, form_id: int, path: str,
                near: int = 0, window: int = 200) -> Optional[int]:
    """Where a field is in the queue now, looked for around `near`."""
    start = max(near - window // 2, 0)
    mine, disputed, _ = _key_states(session, user)
    senior = user.role == 'senior'
    grouped = _grouped(user, filters, mine | (set() if senior else disputed))
    _sub, ordered = _order(grouped, disputed if senior else set())
    for i, row in enumerate(session.execute(ordered.offset(start).limit(window))):
        if row.form_id == form_id and row.field == path:
            return start + i
    return None
