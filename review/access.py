"""Who may see what, in one place. Every view that shows a document, a form, a field,
an image or an export asks here, and anything not visible is a 404 (the same answer
as for something that does not exist, so ids of others' work are not confirmed).

* Nobody sees documents still queued, running or failed (nothing to review).
* A reviewer sees the documents of the batches assigned to them (review.users.assign).
* Seniors and admins see every batch.
"""
from __future__ import annotations

from functools import wraps
from typing import Optional

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session

from review.users import is_admin, is_senior
from store.models import (Assignment, Batch, BatchItem, Document, FormRow, PageRow, Role,
                                  Status)

__all__ = ['login_required', 'senior_required', 'admin_required', 'visible_documents',
           'visible_batches', 'may_see', 'visible_form_or_404', 'visible_page_or_404',
           'visible_document_or_404', 'visible_batch_or_404']


def senior_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not is_senior(current_user):
            abort(404)
        return view(*args, **kwargs)
    return wrapped


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not is_admin(current_user):
            abort(404)
        return view(*args, **kwargs)
    return wrapped


def assigned_documents(user_id: int):
    return (select(BatchItem.document_id).join(Assignment, Assignment.batch_id == BatchItem.batch_id)
            .where(Assignment.user_id == user_id))


def visible_documents(user):
    """A SELECT of the ids of the documents `user` may see (for IN filters)."""
    query = select(Document.id).where(Document.status == Status.EXTRACTED)
    if user.role in Role.SENIORS:
        return query
    return query.where(Document.id.in_(assigned_documents(user.id)))


def visible_batches(session: Session, user) -> list[tuple[int, str]]:
    query = select(Batch.id, Batch.name).order_by(Batch.name)
    if user.role not in Role.SENIORS:
        query = query.where(Batch.id.in_(select(Assignment.batch_id).where(Assignment.user_id == user.id)))
    return [tuple(r) for r in session.execute(query)]


def may_see(session: Session, user, document_id: int) -> bool:
    if user is None:
        return False
    return session.scalar(visible_documents(user).where(Document.id == document_id)) is not None


def visible_form_or_404(session: Session, user, form_id: int) -> FormRow:
    form = session.get(FormRow, form_id)
    if form is None or not may_see(session, user, form.document_id):
        abort(404)
    return form


def visible_page_or_404(session: Session, user, page_id: int) -> PageRow:
    page = session.get(PageRow, page_id)
    if page is None or not may_see(session, user, page.document_id):
        abort(404)
    return page


def visible_document_or_404(session: Session, user, document_id: int) -> Document:
    if not may_see(session, user, document_id):
        abort(404)
    return session.get(Document, document_id)


def visible_batch_or_404(session: Session, user, batch_id: int) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None or (batch_id, batch.name) not in visible_batches(session, user):
        abort(404)
    return batch


def visible_form(session: Session, user, form_id: int) -> Optional[FormRow]:
    """The form, or None if it is not there or not the user's to see."""
    form = session.get(FormRow, form_id)
    return form if form is not None and may_see(session, user, form.document_id) else None
