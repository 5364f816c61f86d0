"""The durable store: what was submitted, how far it got, and what was read.

    batches --< batch_items >-- documents --< pages
                                documents --< forms --< fields --< corrections >-- users
                                documents --< flags (open / resolved, by whom)
                                forms --< acceptances >-- users   (a value accepted as read)
                                fields --< key_entries >-- users  (double-keyed money values)
    workers (heartbeats), leases (one recovery sweeper at a time)
    review team: users --< assignments >-- batches; users --< login_sessions;
                 claims (who has a queue item open), work_log (items done, time taken),
                 login_throttle (failed logins per account and address), audit_log,
                 row_edits (rows a reviewer added to or deleted from a form's tables)

A document is its file's content: `documents.sha256` is unique, so submitting the same
file twice, in one batch or two, or a task delivered twice, never makes a second row.
Forms, fields and flags carry unique keys too, so even two assemblies racing on the
same document cannot store its forms twice.

`documents.result` keeps the assembled Document (`Document.full()`) as it came out of
the pipeline; `fields.value` is the current value (corrections change it), and exports
are built from the result with the current values laid over it.

Times are naive UTC (SQLite has no time zones).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

from sqlalchemy import (JSON, BigInteger, Float, ForeignKey, Index, Integer, MetaData, String, Text,
                        UniqueConstraint)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Status:
    """Document states, in the order a document goes through them."""
    QUEUED = 'queued'          # stored, its start task sent
    RUNNING = 'running'        # pages counted, page tasks sent
    EXTRACTED = 'extracted'    # final: forms, fields and flags stored
    FAILED = 'failed'          # final: `error` says why
    FINAL = (EXTRACTED, FAILED)
    ALL = (QUEUED, RUNNING, EXTRACTED, FAILED)


class PageStatus:
    PENDING = 'pending'
    RUNNING = 'running'
    DONE = 'done'
    FAILED = 'failed'
    FINISHED = (DONE, FAILED)


class Base(DeclarativeBase):
    # Named constraints, so migrations can refer to them on every database.
    metadata = MetaData(naming_convention={
        'ix': 'ix_%(column_0_label)s',
        'uq': 'uq_%(table_name)s_%(column_0_N_name)s',
        'fk': 'fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s',
    })


class Role:
    """What a person may do. A reviewer sees the batches assigned to them; a senior
    sees every batch, settles double-keyed values that differ, unlocks accounts and
    sees everyone's progress; an admin also manages users and assignments."""
    REVIEWER = 'reviewer'
    SENIOR = 'senior'
    ADMIN = 'admin'
    ALL = (REVIEWER, SENIOR, ADMIN)
    SENIORS = (SENIOR, ADMIN)


class User(Base):
    __tablename__ = 'users'
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    display_name: Mapped[Optional[str]] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Argon2 hash (review.auth); None: the user cannot log in (e.g. made by correct_field).
    password_hash: Mapped[Optional[str]] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default=Role.REVIEWER, server_default=Role.REVIEWER)


class Batch(Base):
    __tablename__ = 'batches'
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    items: Mapped[list['BatchItem']] = relationship(back_populates='batch')


class BatchItem(Base):
    """A document as submitted in a batch, under the path it was given there."""
    __tablename__ = 'batch_items'
    __table_args__ = (UniqueConstraint('batch_id', 'document_id'),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey('batches.id', ondelete='CASCADE'), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey('documents.id', ondelete='CASCADE'), index=True)
    path: Mapped[str] = mapped_column(Text)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    batch: Mapped[Batch] = relationship(back_populates='items')
    document: Mapped['Document'] = relationship()


class Document(Base):
    __tablename__ = 'documents'
    __table_args__ = (Index('ix_documents_status', 'status'),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(Text)              # absolute path the workers read
    file_name: Mapped[str] = mapped_column(String(500))
    size_bytes: Mapped[Optional[int]] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=Status.QUEUED)
    error: Mapped[Optional[str]] = mapped_column(Text)
    page_count: Mapped[Optional[int]] = mapped_column(Integer)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[Optional[datetime]] = mapped_column()
    finished_at: Mapped[Optional[datetime]] = mapped_column()
    # Last sign of life (submit, start, a page stored): what the recovery sweep reads.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Times the recovery sweep re-sent this document's tasks.
    requeues: Mapped[int] = mapped_column(Integer, default=0)
    # Seconds per stage summed over pages, plus assemble and wall time.
    timings: Mapped[Optional[dict]] = mapped_column(JSON)
    result: Mapped[Optional[dict]] = mapped_column(JSON)
    pages: Mapped[list['PageRow']] = relationship(back_populates='document', order_by='PageRow.number')
    forms: Mapped[list['FormRow']] = relationship(back_populates='document', order_by='FormRow.form_index')
    flags: Mapped[list['FlagRow']] = relationship(back_populates='document', order_by='FlagRow.position')


class PageRow(Base):
    __tablename__ = 'pages'
    __table_args__ = (UniqueConstraint('document_id', 'number'),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey('documents.id', ondelete='CASCADE'), index=True)
    number: Mapped[int] = mapped_column(Integer)                  # 1-based
    status: Mapped[str] = mapped_column(String(16), default=PageStatus.PENDING)
    error: Mapped[Optional[str]] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[Optional[str]] = mapped_column(String(200))    # last worker that started it
    started_at: Mapped[Optional[datetime]] = mapped_column()
    finished_at: Mapped[Optional[datetime]] = mapped_column()
    seconds: Mapped[Optional[float]] = mapped_column(Float)
    image_path: Mapped[Optional[str]] = mapped_column(Text)      # cleaned page PNG, for review crops
    width: Mapped[Optional[int]] = mapped_column(Integer)
    height: Mapped[Optional[int]] = mapped_column(Integer)
    dpi: Mapped[Optional[int]] = mapped_column(Integer)
    result: Mapped[Optional[dict]] = mapped_column(JSON)          # PageResult, JSON mode
    document: Mapped[Document] = relationship(back_populates='pages')


class FormRow(Base):
    __tablename__ = 'forms'
    __table_args__ = (UniqueConstraint('document_id', 'form_index'),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey('documents.id', ondelete='CASCADE'), index=True)
    form_index: Mapped[int] = mapped_column(Integer)              # 0-based, as in the contract
    pages: Mapped[list] = mapped_column(JSON, default=list)
    year: Mapped[Optional[str]] = mapped_column(String(20))
    # The form's kind (models.template) and the value of its first header field
    # (项目名称, 部门（单位）名称 …): what lists of forms show.
    schema: Mapped[str] = mapped_column(String(60), default='perf-self-eval/1',
                                        server_default='perf-self-eval/1')
    name: Mapped[Optional[str]] = mapped_column(Text)
    document: Mapped[Document] = relationship(back_populates='forms')
    fields: Mapped[list['FieldRow']] = relationship(back_populates='form', order_by='FieldRow.position')


class FieldRow(Base):
    """One leaf of a form (`funds.0.executed`), with where it was read."""
    __tablename__ = 'fields'
    __table_args__ = (UniqueConstraint('form_id', 'path'),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey('forms.id', ondelete='CASCADE'), index=True)
    path: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)               # reading order in the form
    value: Mapped[Optional[str]] = mapped_column(Text)           # current value
    extracted_value: Mapped[Optional[str]] = mapped_column(Text)  # as the pipeline read it
    confidence: Mapped[Optional[float]] = mapped_column(Float)
    page: Mapped[Optional[int]] = mapped_column(Integer)
    bbox: Mapped[Optional[list]] = mapped_column(JSON)
    form: Mapped[FormRow] = relationship(back_populates='fields')
    corrections: Mapped[list['Correction']] = relationship(back_populates='field', order_by='Correction.id')


class FlagState:
    OPEN = 'open'
    RESOLVED = 'resolved'


class Resolution:
    """Why a flag is no longer open."""
    ACCEPTED = 'accepted'      # a reviewer accepted the value (or the printed inconsistency)
    CORRECTED = 'corrected'    # a reviewer changed the field's value
    CLEARED = 'cleared'        # re-validation after a correction no longer raises it
    AGREED = 'agreed'          # two independent entries of a money value agreed
    DECIDED = 'decided'        # a senior settled two entries that differed
    # Kept resolved when re-validation raises the same flag again: a person looked at it.
    STICKY = (ACCEPTED, AGREED, DECIDED)


# Queue order: the riskiest reasons first (a wrong number that passes for a right one).
REASON_RANK = {'arithmetic': 0, 'split_number': 1, 'low_confidence': 2, 'unparsed': 3,
               'missing': 4, 'structure': 5, 'page_quality': 6}


def _rank_of(context) -> int:
    return REASON_RANK.get(context.get_current_parameters().get('reason'), 9)


class FlagRow(Base):
    __tablename__ = 'flags'
    __table_args__ = (UniqueConstraint('document_id', 'position'),
                      Index('ix_flags_status_rank', 'status', 'rank', 'document_id', 'position'),
                      Index('ix_flags_form_id_field', 'form_id', 'field'),
                      # The review queue: open flags in queue order, and its count.
                      Index('ix_flags_queue', 'status', 'rank', 'confidence', 'document_id', 'position'),
                      Index('ix_flags_open_items', 'status', 'document_id', 'form_id', 'field'),
                      Index('ix_flags_open_reason', 'status', 'reason', 'document_id', 'form_id', 'field'))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey('documents.id', ondelete='CASCADE'), index=True)
    position: Mapped[int] = mapped_column(Integer)               # index in the document's review list
    form_id: Mapped[Optional[int]] = mapped_column(ForeignKey('forms.id', ondelete='CASCADE'), index=True)
    form_index: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(40))
    value: Mapped[Optional[str]] = mapped_column(Text)
    confidence: Mapped[Optional[float]] = mapped_column(Float)
    page: Mapped[Optional[int]] = mapped_column(Integer)
    bbox: Mapped[Optional[list]] = mapped_column(JSON)
    detail: Mapped[str] = mapped_column(Text, default='')
    status: Mapped[str] = mapped_column(String(16), default=FlagState.OPEN, server_default=FlagState.OPEN)
    rank: Mapped[int] = mapped_column(Integer, default=_rank_of, server_default='9')
    resolution: Mapped[Optional[str]] = mapped_column(String(20))
    resolved_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey('users.id'))
    resolved_at: Mapped[Optional[datetime]] = mapped_column()
    document: Mapped[Document] = relationship(back_populates='flags')
    resolved_by: Mapped[Optional[User]] = relationship()


class Correction(Base):
    __tablename__ = 'corrections'
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    field_id: Mapped[int] = mapped_column(ForeignKey('fields.id', ondelete='CASCADE'), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey('users.id'), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    old_value: Mapped[Optional[str]] = mapped_column(Text)
    new_value: Mapped[Optional[str]] = mapped_column(Text)
    field: Mapped[FieldRow] = relationship(back_populates='corrections')
    user: Mapped[User] = relationship()


class Acceptance(Base):
    """A reviewer looked at a field and kept its value: the flags named in `reasons`
    were accepted (an arithmetic flag: the printed inconsistency is as printed)."""
    __tablename__ = 'acceptances'
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey('forms.id', ondelete='CASCADE'), index=True)
    path: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int] = mapped_column(ForeignKey('users.id'), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    value: Mapped[Optional[str]] = mapped_column(Text)
    reasons: Mapped[str] = mapped_column(Text, default='')
    user: Mapped[User] = relationship()


class KeyEntry(Base):
    """One person's entry of a flagged money value (double-keying), or a senior's
    decision between two entries that differ. Entries of one round stay `settled`
    False until two entries agree or a senior decides; only then does the field's
    value change, so a pending entry is never exported."""
    __tablename__ = 'key_entries'
    ENTRY = 'entry'
    DECISION = 'decision'
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    field_id: Mapped[int] = mapped_column(ForeignKey('fields.id', ondelete='CASCADE'), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey('users.id'), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=ENTRY)
    value: Mapped[Optional[str]] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    settled: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    user: Mapped[User] = relationship()


class WorkerRow(Base):
    """A running worker node's heartbeat: how `submit --wait` knows whether anyone
    is there to do the work."""
    __tablename__ = 'workers'
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    broker: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class Lease(Base):
    """A named lock with an expiry, held through the store so it works across machines."""
    __tablename__ = 'leases'
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[Optional[str]] = mapped_column(String(200))
    expires_at: Mapped[Optional[datetime]] = mapped_column()


# ------------------------------------------------------------------ the review team

class LoginSession(Base):
    """A login: the browser's cookie carries a random token, the store keeps its
    SHA-256. Every request looks it up, so a logout (revoked_at) or an idle session
    (last_seen) ends it on the server, whatever the browser kept."""
    __tablename__ = 'login_sessions'
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey('users.id', ondelete='CASCADE'), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[Optional[datetime]] = mapped_column()
    address: Mapped[Optional[str]] = mapped_column(String(64))
    user: Mapped[User] = relationship()


class LoginThrottle(Base):
    """Failed logins under one key: 'account:<name>' (known or not, so the answers do
    not tell which names exist) or 'address:<ip>'. A try is counted before the
    password is checked, so parallel guesses cannot overrun the limit."""
    __tablename__ = 'login_throttle'
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(default=utcnow)
    locked_at: Mapped[Optional[datetime]] = mapped_column()


class AuditEvent(Base):
    """Who did what security-relevant thing: logins (success, failure, refused),
    logouts, exports, unlocks, role and assignment changes."""
    __tablename__ = 'audit_log'
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    event: Mapped[str] = mapped_column(String(40), index=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey('users.id', ondelete='SET NULL'))
    name: Mapped[Optional[str]] = mapped_column(String(200))    # as typed, for failed logins
    address: Mapped[Optional[str]] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default='')


class Assignment(Base):
    """A batch a reviewer works on (seniors and admins see every batch)."""
    __tablename__ = 'assignments'
    __table_args__ = (UniqueConstraint('user_id', 'batch_id'),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey('users.id', ondelete='CASCADE'), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey('batches.id', ondelete='CASCADE'), index=True)
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    user: Mapped[User] = relationship()
    batch: Mapped[Batch] = relationship()


class Claim(Base):
    """A queue item (a form's field) someone has open: nobody else is given it until
    `expires_at`. One row per item (unique), so two reviewers cannot both hold it."""
    __tablename__ = 'claims'
    __table_args__ = (UniqueConstraint('form_id', 'path'),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey('forms.id', ondelete='CASCADE'))
    path: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int] = mapped_column(ForeignKey('users.id', ondelete='CASCADE'), index=True)
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class WorkRecord(Base):
    """One action on a queue item, with the time since the reviewer opened it: what
    the progress page counts."""
    __tablename__ = 'work_log'
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey('users.id', ondelete='CASCADE'), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey('documents.id', ondelete='CASCADE'), index=True)
    form_id: Mapped[int] = mapped_column(ForeignKey('forms.id', ondelete='CASCADE'))
    path: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[Optional[datetime]] = mapped_column()
    finished_at: Mapped[datetime] = mapped_column(default=utcnow)


class RowEdit(Base):
    """A repair of a form's table structure by a reviewer: a funds or indicator row
    added (its values as typed, read off the page image) or deleted (the values it
    had). The document's stored result is changed with it, so exports show it."""
    __tablename__ = 'row_edits'
    ADD = 'add'
    DELETE = 'delete'
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey('forms.id', ondelete='CASCADE'), index=True)
    block: Mapped[str] = mapped_column(String(20))           # funds | indicators
    action: Mapped[str] = mapped_column(String(10))          # add | delete
    row_index: Mapped[int] = mapped_column(Integer)
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    user_id: Mapped[int] = mapped_column(ForeignKey('users.id'), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user: Mapped[User] = relationship()
