"""Which documents a user may see. Every route that shows a document, a form, a field
or an image goes through here, so restricting reviewers (to batches, say) is a change
in this one place.

Now: every logged-in user sees every document that has an extracted result; nobody
sees documents still queued, running or failed (they have nothing to review), and
nobody who is not logged in sees anything.
"""
from __future__ import annotations

from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.store.models import Document, FormRow, PageRow, Status, User


def visible_documents(user: User):
    """A SELECT of the ids of the documents `user` may see (for IN filters)."""
    return select(Document.id).where(Document.status == Status.EXTRACTED)


def may_see(session: Session, user: Optional[User], document_id: int) -> bool:
    if user is None:
        return False
    return session.scalar(visible_documents(user).where(Document.id == document_id)) is not None


def visible_form(session: Session, user: Optional[User], form_id: int) -> Optional[FormRow]:
    form = session.get(FormRow, form_id)
    if form is None or not may_see(session, user, form.document_id):
        return None
    return form


def visible_page(session: Session, user: Optional[User], page_id: int) -> Optional[PageRow]:
    page = session.get(PageRow, page_id)
    if page is None or not may_see(session, user, page.document_id):
        return None
    return page
