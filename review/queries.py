"""Every read of the reviewer app, in one module: the queue, the field page, the form
page and progress. Each page costs a fixed number of queries, whatever its size.

The queue: every field with an open flag, across the documents the user may see
(review.access), one item per field (form, path), at the place of its first open flag
in (reason, confidence, document, position) order: the riskiest reason first
(arithmetic, then split numbers, then low confidence, unparsed, missing, structure;
see store.models.REASON_RANK), the least confident first within a reason,
then in document order (positions are numbers: funds.2 before funds.10). Filters: batch, reason, form. A reviewer does not see the money
fields they keyed already (they wait for someone else), nor, unless senior, the
ones whose entries differ (a senior decides those; seniors see them first), nor the
items someone else has claimed (review.claims).

The open flags are read in queue order from one index (ix_flags_queue) until the
page is full, the total is one GROUP BY over a covering index (ix_flags_open_items), and
three more queries fill in the 50 items on the page: see benchmarks/review_queue.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, NamedTuple, Optional

from sqlalchemy import and_, case, exists, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session, aliased, joinedload

from review.access import visible_documents
from review.claims import claim
from store.models import (REASON_RANK, Acceptance, Assignment, Batch, BatchItem, Claim, Correction,
                                  Document, FieldRow, FlagRow, FlagState, FormRow, KeyEntry, PageRow,
                                  Role, Status, User, WorkRecord, utcnow)

PAGE_SIZE = 50
# From this place on, a page is cut out in SQL (_page_deep) instead of read from the top.
DEEP = 500
# Items read ahead when claiming the next one (others may have just taken a few).
CLAIM_WINDOW = 8
REASONS = ('arithmetic', 'split_number', 'low_confidence', 'unparsed', 'missing', 'structure',
           'page_quality')


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


class FlagBrief(NamedTuple):
    reason: str
    detail: str
    value: Optional[str]


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
    name: Optional[str] = None
    schema: Optional[str] = None
    value: Optional[str] = None
    confidence: Optional[float] = None
    state: str = ''               # '', 'keyed by 1', 'disputed'
    url: str = ''                 # the field page, with the queue's filters and place
    form_url: str = ''


def _key_states(session: Session, user: User) -> tuple[set, set, dict]:
    """(fields the user keyed and that wait for others, disputed fields, (form, path) ->
    number of people who keyed), as (form_id, path) pairs."""
    # Two small queries rather than a join: with no pending entries SQLite would
    # otherwise walk every field looking for them.
    pending = session.execute(select(KeyEntry.field_id, KeyEntry.user_id).where(
        KeyEntry.settled.is_(False), KeyEntry.kind == KeyEntry.ENTRY)).all()
    people: dict[tuple, set] = {}
    if not pending:
        return set(), set(), {}
    where = dict(((r.id, (r.form_id, r.path)) for r in session.execute(
        select(FieldRow.id, FieldRow.form_id, FieldRow.path).where(
            FieldRow.id.in_(sorted({f for f, _ in pending}))))))
    for field_id, user_id in pending:
        if field_id in where:
            people.setdefault(where[field_id], set()).add(user_id)
    mine = {k for k, users in people.items() if user.id in users and len(users) < 2}
    disputed = {k for k, users in people.items() if len(users) >= 2}
    return mine, disputed, {k: len(v) for k, v in people.items()}


def _claimed_by_others(session: Session, user: User) -> set:
    """Items others hold now: a handful (one per reviewer at work), so they are left
    out by value rather than by a subquery per flag."""
    return {tuple(r) for r in session.execute(select(Claim.form_id, Claim.path).where(
        Claim.user_id != user.id, Claim.expires_at > utcnow()))}


def _hidden(session: Session, user: User) -> tuple[set, set, dict, set]:
    """(hidden items, disputed items, people who keyed each item) for the user's queue."""
    mine, disputed, keyed = _key_states(session, user)
    senior = user.role in Role.SENIORS
    return mine | (set() if senior else disputed) | _claimed_by_others(session, user), disputed, keyed, senior


def _conditions(user: User, filters: Filters, in_order: bool = True) -> list:
    # In order, `document_id + 0`: the same test, but SQLite then walks ix_flags_queue
    # in queue order instead of looking flags up per visible document and sorting them
    # all. To count, the plain column lets ix_flags_open_items answer alone.
    document = FlagRow.document_id + 0 if in_order else FlagRow.document_id
    conditions = [FlagRow.status == FlagState.OPEN, FlagRow.form_id.is_not(None),
                  document.in_(visible_documents(user))]
    if filters.batch is not None:
        conditions.append(document.in_(select(BatchItem.document_id).where(BatchItem.batch_id == filters.batch)))
    if filters.reason is not None:
        conditions.append(FlagRow.reason == filters.reason)
        if in_order and filters.reason in REASON_RANK:
            # Implied by the reason, and lets ix_flags_queue start at the reason's flags.
            conditions.append(FlagRow.rank == REASON_RANK[filters.reason])
    if filters.form is not None:
        conditions.append(FlagRow.form_id == filters.form)
    return conditions


def _in_order(session: Session, user: User, filters: Filters, hide: set, first: set, wanted: int):
    """(form_id, path, rank) of the first `wanted` items in queue order: `first`
    (disputed items, for a senior) ahead, then every item at the place of its first
    flag in (reason rank, confidence, document, position) order, skipping `hide`.
    Flags come from the index in that order, a few more than `wanted` at a time (an
    item has one or two flags), so a first page costs the same with 100 open flags or
    100,000."""
    order = (FlagRow.rank, FlagRow.confidence, FlagRow.document_id, FlagRow.position)
    columns = (FlagRow.form_id, FlagRow.field, FlagRow.rank)
    queries = []
    if first:
        queries.append(select(*columns).where(*_conditions(user, filters),
                                              tuple_(FlagRow.form_id, FlagRow.field).in_(sorted(first))))
    queries.append(select(*columns).where(*_conditions(user, filters)))
    out, seen = [], set(hide)
    for query in queries:
        query = query.order_by(*order)
        read, batch = 0, max(2 * wanted, 100)
        while len(out) < wanted:
            rows = session.execute(query.offset(read).limit(batch)).all()
            for form_id, path, rank in rows:
                if (form_id, path) not in seen:
                    seen.add((form_id, path))
                    out.append((form_id, path, rank))
            read += len(rows)
            if len(rows) < batch:
                break
            batch *= 4
    return out[:wanted]


def _page_deep(session: Session, user: User, filters: Filters, hide: set, first: set,
               offset: int, limit: int) -> list:
    """The same order as _in_order, for a page far down the queue: each item's first
    flag picked in SQL and the page cut out there, rather than reading every flag
    above it. On SQLite a flag is an item's first when no open flag of the same field
    comes before it (one lookup in ix_flags_form_id_field per flag, walking
    ix_flags_queue in order: page 100 of 10,000 flags 36 -> 11 ms); PostgreSQL (and a
    senior's page with disputed items first) pick it with a window function, which
    PostgreSQL does faster than the lookups."""
    order = (FlagRow.rank, FlagRow.confidence, FlagRow.document_id, FlagRow.position)
    conditions = _conditions(user, filters)
    if hide:
        conditions.append(tuple_(FlagRow.form_id, FlagRow.field).not_in(sorted(hide)))
    if not first and session.get_bind().dialect.name == 'sqlite':
        earlier = aliased(FlagRow)
        # Before in (rank, confidence, position) order, NULL confidence first (SQLite's
        # order); the same document, as the same form.
        before = or_(earlier.rank < FlagRow.rank,
                     and_(earlier.rank == FlagRow.rank,
                          or_(and_(earlier.confidence.is_(None), FlagRow.confidence.is_not(None)),
                              earlier.confidence < FlagRow.confidence,
                              and_(earlier.confidence.is_not_distinct_from(FlagRow.confidence),
                                   earlier.position < FlagRow.position))))
        others = [earlier.form_id == FlagRow.form_id, earlier.field == FlagRow.field,
                  earlier.status == FlagState.OPEN, before]
        if filters.reason is not None:
            others.append(earlier.reason == filters.reason)
        query = (select(FlagRow.form_id, FlagRow.field, FlagRow.rank)
                 .where(*conditions, ~exists().where(*others))
                 .order_by(*order).offset(offset).limit(limit))
        return [tuple(r) for r in session.execute(query)]
    number = func.row_number().over(partition_by=(FlagRow.form_id, FlagRow.field), order_by=order)
    flags = select(FlagRow.form_id, FlagRow.field, *order, number.label('n')) \
        .where(*conditions).subquery()
    lead = (case((tuple_(flags.c.form_id, flags.c.field).in_(sorted(first)), 0), else_=1)
            if first else literal(1))
    query = (select(flags.c.form_id, flags.c.field, flags.c.rank).where(flags.c.n == 1)
             .order_by(lead, flags.c.rank, flags.c.confidence, flags.c.document_id, flags.c.position)
             .offset(offset).limit(limit))
    return [tuple(r) for r in session.execute(query)]


def _count(session: Session, user: User, filters: Filters, hide: set) -> int:
    conditions = _conditions(user, filters, in_order=False)
    if hide:
        conditions.append(tuple_(FlagRow.form_id, FlagRow.field).not_in(sorted(hide)))
    items = (select(literal(1)).where(and_(*conditions))
             .group_by(FlagRow.document_id, FlagRow.form_id, FlagRow.field).subquery())
    return session.scalar(select(func.count()).select_from(items))


def page(session: Session, user: User, filters: Filters, offset: int = 0,
         limit: int = PAGE_SIZE, with_total: bool = True) -> tuple[list[Item], int]:
    """The items from `offset` on, and how many there are in all (-1 if not asked)."""
    hide, disputed, keyed, senior = _hidden(session, user)
    items = []
    offset = max(offset, 0)
    first = disputed if senior else set()
    if offset < DEEP:
        ordered = _in_order(session, user, filters, hide, first, offset + limit)[offset:]
    else:
        ordered = _page_deep(session, user, filters, hide, first, offset, limit)
    for at, (form_id, path, rank) in enumerate(ordered, start=offset):
        items.append(Item(position=at, form_id=form_id, path=path, rank=rank))
    total = _count(session, user, filters, hide) if with_total else -1
    if not items:
        return items, total
    keys = {(i.form_id, i.path) for i in items}
    form_ids = sorted({i.form_id for i in items})
    flags: dict[tuple, list] = {}
    # Plain rows, not ORM objects: this page is the one everybody keeps reloading.
    for form_id, path, reason, detail, value in session.execute(
            select(FlagRow.form_id, FlagRow.field, FlagRow.reason, FlagRow.detail, FlagRow.value)
            .where(FlagRow.form_id.in_(form_ids), FlagRow.status == FlagState.OPEN)
            .order_by(FlagRow.rank, FlagRow.position)):
        if (form_id, path) in keys:
            flags.setdefault((form_id, path), []).append(FlagBrief(reason, detail, value))
    # Columns only: a Document row carries the whole result JSON.
    forms = {r.id: r for r in session.execute(
        select(FormRow.id, FormRow.form_index, FormRow.name, FormRow.schema, Document.id.label('document_id'),
               Document.file_name).join(Document, Document.id == FormRow.document_id)
        .where(FormRow.id.in_(form_ids)))}
    values = {(r.form_id, r.path): r for r in session.execute(
        select(FieldRow.form_id, FieldRow.path, FieldRow.value, FieldRow.confidence)
        .where(FieldRow.form_id.in_(form_ids), FieldRow.path.in_(sorted({p for _, p in keys}))))}
    for item in items:
        item.flags = flags.get((item.form_id, item.path), [])
        form = forms[item.form_id]
        item.document_id, item.file_name = form.document_id, form.file_name
        item.form_index, item.name, item.schema = form.form_index, form.name, form.schema
        field_row = values.get((item.form_id, item.path))
        item.value = field_row.value if field_row else (item.flags[0].value if item.flags else None)
        item.confidence = field_row.confidence if field_row else None
        key = (item.form_id, item.path)
        item.state = 'disputed' if key in disputed else (f'keyed by {keyed[key]}' if key in keyed else '')
    return items, total


def claim_item_at(session: Session, user: User, filters: Filters, position: int,
                  skip: Optional[tuple[int, str]] = None) -> tuple[Optional[Item], int]:
    """The item at `position` of the user's queue (the one after, if that is `skip`),
    claimed for the user: (item, its position), or (None, position) at the end. An
    item someone else claimed a moment earlier is passed over for the next one. The
    queue order is read once for a few items, without the page's details."""
    position = max(position, 0)
    hide, disputed, _, senior = _hidden(session, user)
    first = disputed if senior else set()
    window = CLAIM_WINDOW
    if position < DEEP:
        ahead = _in_order(session, user, filters, hide, first, position + window)[position:]
    else:
        ahead = _page_deep(session, user, filters, hide, first, position, window)
    for at, (form_id, path, rank) in enumerate(ahead, start=position):
        if skip is not None and (form_id, path) == skip:
            continue
        if claim(session, user.id, form_id, path):
            return Item(position=at, form_id=form_id, path=path, rank=rank), at
    return None, position


def queue_total(session: Session, user: User, filters: Filters = Filters()) -> int:
    hide, _, _, _ = _hidden(session, user)
    return _count(session, user, filters, hide)


# ------------------------------------------------------------------ a field, a form

def page_rows(session: Session, document_id: int, numbers: Iterable[int]) -> dict[int, PageRow]:
    numbers = [n for n in numbers if n is not None]
    if not numbers:
        return {}
    return {p.number: p for p in session.scalars(select(PageRow).where(
        PageRow.document_id == document_id, PageRow.number.in_(numbers)))}


@dataclass
class Related:
    path: str
    value: Optional[str]
    open: bool
    field_id: Optional[int]
    bbox: Optional[list]


def related_fields(session: Session, form_id: int, path: str, flags: list) -> list[Related]:
    """The other fields of the arithmetic rules failing on this field (two queries)."""
    details = {f.detail for f in flags if f.reason == 'arithmetic'}
    if not details:
        return []
    others = session.scalars(select(FlagRow).where(
        FlagRow.form_id == form_id, FlagRow.reason == 'arithmetic', FlagRow.detail.in_(details),
        FlagRow.field != path).order_by(FlagRow.position)).all()
    paths = list(dict.fromkeys(o.field for o in others))
    fields = {f.path: f for f in session.scalars(select(FieldRow).where(
        FieldRow.form_id == form_id, FieldRow.path.in_(paths)))} if paths else {}
    out = []
    for p in paths:
        mine = [o for o in others if o.field == p]
        field = fields.get(p)
        out.append(Related(p, field.value if field else mine[0].value,
                           any(o.status == FlagState.OPEN for o in mine),
                           field.id if field else None, field.bbox if field else None))
    return out


def history(session: Session, form_id: int, path: str, field: Optional[FieldRow], viewer) -> list[dict]:
    """Corrections, acceptances, double-key entries and resolved flags of one field,
    oldest first. A pending entry's value is shown only to its author and to seniors
    (the second keyer must not see the first one's value)."""
    events = []
    if field is not None:
        for c in session.scalars(select(Correction).options(joinedload(Correction.user))
                                 .where(Correction.field_id == field.id)):
            events.append({'at': c.at, 'who': c.user.name, 'what': 'corrected',
                           'old': c.old_value, 'new': c.new_value, 'show': True})
        for e in session.scalars(select(KeyEntry).options(joinedload(KeyEntry.user))
                                 .where(KeyEntry.field_id == field.id)):
            show = e.settled or e.user_id == viewer.id or viewer.role in Role.SENIORS
            events.append({'at': e.at, 'who': e.user.name,
                           'what': ('decision' if e.kind == KeyEntry.DECISION
                                    else 'entry' + ('' if e.settled else ' (pending)')),
                           'old': None, 'new': e.value, 'show': show})
    for a in session.scalars(select(Acceptance).options(joinedload(Acceptance.user))
                             .where(Acceptance.form_id == form_id, Acceptance.path == path)):
        events.append({'at': a.at, 'who': a.user.name, 'what': 'accepted' + (f' ({a.reasons})' if a.reasons else ''),
                       'old': None, 'new': a.value, 'show': True})
    for f in session.scalars(select(FlagRow).options(joinedload(FlagRow.resolved_by))
                             .where(FlagRow.form_id == form_id, FlagRow.field == path,
                                    FlagRow.status == FlagState.RESOLVED)):
        events.append({'at': f.resolved_at, 'who': f.resolved_by.name if f.resolved_by else '',
                       'what': f'flag {f.reason} {f.resolution}', 'old': None, 'new': f.detail, 'show': True,
                       'note': True})
    events.sort(key=lambda e: (e['at'] is None, e['at']))
    return events


def _form_result(document: Document, form_index: int) -> dict:
    forms = (document.result or {}).get('forms') or []
    return forms[form_index] if 0 <= form_index < len(forms) and isinstance(forms[form_index], dict) else {}


def candidates(document: Document, form_index: int, field: Optional[FieldRow]) -> list[str]:
    """Readings to pick from, where the result has them: what OCR kept, a second
    engine's differing reading, the cell's text lines joined and one by one. The
    current value is left out (it is in the box already)."""
    if field is None:
        return []
    source = (_form_result(document, form_index).get('sources') or {}).get(field.path) or {}
    lines = [str(x).strip() for x in (source.get('lines') or []) if str(x).strip()]
    found = [field.extracted_value, source.get('second_reading')]
    if len(lines) > 1:
        found += [''.join(lines), ' '.join(lines)] + lines
    out = []
    for value in found:
        if isinstance(value, str) and value.strip() and value != field.value and value not in out:
            out.append(value)
    return out[:9]


def page_quality(document: Document) -> dict[int, dict]:
    """Page number -> its quality record ({page, grade, noise, ...}) if the result has
    one (newer pipeline runs); {} otherwise."""
    quality = (document.result or {}).get('quality')
    out = {}
    if isinstance(quality, list):
        for record in quality:
            if isinstance(record, dict) and isinstance(record.get('page'), int):
                out[record['page']] = record
    return out


@dataclass
class FormView:
    fields: dict
    flagged: dict            # path -> open flags, riskiest first
    corrected: set
    pages: dict              # number -> PageRow


def form_view(session: Session, form_row: FormRow) -> FormView:
    fields = {f.path: f for f in session.scalars(select(FieldRow).where(FieldRow.form_id == form_row.id))}
    flagged: dict[str, list] = {}
    for flag in session.scalars(select(FlagRow).where(FlagRow.form_id == form_row.id,
                                                      FlagRow.status == FlagState.OPEN)
                                .order_by(FlagRow.rank, FlagRow.position)):
        flagged.setdefault(flag.field, []).append(flag)
    corrected = set(session.scalars(select(FieldRow.path).join(Correction, Correction.field_id == FieldRow.id)
                                    .where(FieldRow.form_id == form_row.id)))
    return FormView(fields, flagged, corrected, page_rows(session, form_row.document_id, form_row.pages))


# ------------------------------------------------------------------ progress

@dataclass
class Progress:
    name: str
    open_items: int = 0          # fields with open flags (what the queue lists)
    open_flags: int = 0          # open flags (what exports list under `review`)
    done: int = 0                # actions taken on queue items
    seconds: list = field(default_factory=list)
    claimed: int = 0             # items open in someone's hands now
    batches: list = field(default_factory=list)
    role: str = ''

    @property
    def per_item(self) -> Optional[float]:
        return sum(self.seconds) / len(self.seconds) if self.seconds else None


def _seconds(started, finished) -> Optional[float]:
    if started is None or finished is None:
        return None
    return max((finished - started).total_seconds(), 0.0)


def batch_progress(session: Session) -> list[Progress]:
    """Per batch: open items and flags of its extracted documents, items done, time per
    item, items claimed now."""
    now = utcnow()
    out = {bid: Progress(name) for bid, name in session.execute(select(Batch.id, Batch.name).order_by(Batch.name))}
    in_batch = (select(BatchItem.batch_id, FlagRow.form_id, FlagRow.field, func.count().label('flags'))
                .join(FlagRow, FlagRow.document_id == BatchItem.document_id)
                .join(Document, Document.id == BatchItem.document_id)
                .where(FlagRow.status == FlagState.OPEN, FlagRow.form_id.is_not(None),
                       Document.status == Status.EXTRACTED)
                .group_by(BatchItem.batch_id, FlagRow.form_id, FlagRow.field).subquery())
    for bid, items, flags in session.execute(select(in_batch.c.batch_id, func.count(), func.sum(in_batch.c.flags))
                                             .group_by(in_batch.c.batch_id)):
        out[bid].open_items, out[bid].open_flags = items, int(flags or 0)
    for bid, started, finished in session.execute(
            select(BatchItem.batch_id, WorkRecord.started_at, WorkRecord.finished_at)
            .join(WorkRecord, WorkRecord.document_id == BatchItem.document_id)):
        out[bid].done += 1
        seconds = _seconds(started, finished)
        if seconds is not None:
            out[bid].seconds.append(seconds)
    # Items open in someone's hands: live claims on items still open (a claimed item
    # another reviewer's action resolved meanwhile is not open any more).
    still_open = (select(FlagRow.id).where(FlagRow.form_id == Claim.form_id, FlagRow.field == Claim.path,
                                           FlagRow.status == FlagState.OPEN).exists())
    for bid, count in session.execute(
            select(BatchItem.batch_id, func.count()).join(FormRow, FormRow.document_id == BatchItem.document_id)
            .join(Claim, Claim.form_id == FormRow.id).where(Claim.expires_at > now, still_open)
            .group_by(BatchItem.batch_id)):
        out[bid].claimed = count
    return list(out.values())


def reviewer_progress(session: Session) -> list[Progress]:
    """Per person with a password: their batches, items in their queue, items done,
    time per item, an item open now."""
    now = utcnow()
    people = session.scalars(select(User).where(User.password_hash.is_not(None)).order_by(User.name)).all()
    out = {u.id: Progress(u.name, role=u.role) for u in people}
    for uid, name in session.execute(select(Assignment.user_id, Batch.name)
                                     .join(Batch, Batch.id == Assignment.batch_id).order_by(Batch.name)):
        if uid in out:
            out[uid].batches.append(name)
    for uid, started, finished in session.execute(
            select(WorkRecord.user_id, WorkRecord.started_at, WorkRecord.finished_at)):
        if uid in out:
            out[uid].done += 1
            seconds = _seconds(started, finished)
            if seconds is not None:
                out[uid].seconds.append(seconds)
    still_open = (select(FlagRow.id).where(FlagRow.form_id == Claim.form_id, FlagRow.field == Claim.path,
                                           FlagRow.status == FlagState.OPEN).exists())
    for uid, count in session.execute(select(Claim.user_id, func.count())
                                      .where(Claim.expires_at > now, still_open).group_by(Claim.user_id)):
        if uid in out:
            out[uid].claimed = count
    for user in people:
        out[user.id].open_items = queue_total(session, user)
    return list(out.values())
