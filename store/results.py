"""Documents in and out of the store: the assembled Document becomes forms, fields and
flags rows; an export reads it back with people's corrections laid over it."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models import Document, Flag
from store.models import (Correction, Document as DocumentRow, FieldRow, FlagRow,
                                  FlagState, FormRow, User, utcnow)

# Flags about how a value was read (not about what it says): once a person has set the
# value, they no longer apply.
READING_REASONS = ('low_confidence', 'split_number', 'structure')


def _as_text(value) -> Optional[str]:
    return value if value is None or isinstance(value, str) else str(value)


def form_name(form) -> Optional[str]:
    """The value of the form's first header field (项目名称 of a project form)."""
    keys = form.template.header_keys
    return _as_text(form.get(keys[0])) if keys else None


def replace_results(session: Session, row: DocumentRow, document: Document) -> None:
    """Store `document` as the row's forms, fields and flags, replacing whatever an
    earlier assembly of the same document left (a redelivered task assembles again)."""
    session.execute(delete(FlagRow).where(FlagRow.document_id == row.id))
    session.execute(delete(FormRow).where(FormRow.document_id == row.id))
    session.flush()
    form_ids = []
    for index, form in enumerate(document.forms):
        form_row = FormRow(document_id=row.id, form_index=index, pages=list(form.pages),
                           year=form.year, schema=form.schema_id, name=form_name(form))
        session.add(form_row)
        session.flush()
        form_ids.append(form_row.id)
        for position, path in enumerate(form.field_paths()):
            value = _as_text(form.get(path))
            source = form.sources.get(path)
            session.add(FieldRow(form_id=form_row.id, path=path, position=position,
                                 value=value, extracted_value=value,
                                 confidence=source.confidence if source else None,
                                 page=source.page if source else None,
                                 bbox=list(source.bbox) if source and source.bbox else None))
    for position, flag in enumerate(document.review):
        session.add(FlagRow(document_id=row.id, position=position,
                            form_id=form_ids[flag.form] if 0 <= flag.form < len(form_ids) else None,
                            form_index=flag.form, field=flag.field, reason=str(flag.reason),
                            value=flag.value, confidence=flag.confidence, page=flag.page,
                            bbox=flag.bbox, detail=flag.detail))
    row.result = document.full()


def corrected_fields(session: Session, document_id: int) -> dict[tuple[int, str], FieldRow]:
    """(form index, path) -> field row, for the fields a person has corrected."""
    rows = session.execute(
        select(FormRow.form_index, FieldRow)
        .join(FieldRow, FieldRow.form_id == FormRow.id)
        .where(FormRow.document_id == document_id)
        .where(FieldRow.corrections.any())).all()
    return {(index, field.path): field for index, field in rows}


def set_value(form, path: str, value) -> None:
    """form.set, creating the total row when a person fills a form that had none."""
    if path.startswith('total.') and form.total is None:
        from models.document import Total
        form.total = Total()
    form.set(path, value)


def current_document(session: Session, row: DocumentRow) -> Optional[Document]:
    """The document as it stands now: the pipeline's result with corrected values in
    place of what OCR read, and the flags still open in the flags table (the review
    app resolves flags and re-validates a form after each correction). A flag about
    how a value was read (low confidence, split number, structure) is dropped on a
    field someone corrected. None if the document has no stored result."""
    if not row.result:
        return None
    document = Document.from_full(row.result)
    corrected = corrected_fields(session, row.id)
    for (index, path), field in corrected.items():
        if index < len(document.forms):
            set_value(document.forms[index], path, field.value)
    flags = session.scalars(select(FlagRow).where(FlagRow.document_id == row.id,
                                                  FlagRow.status == FlagState.OPEN)
                            .order_by(FlagRow.position)).all()
    document.review = sorted(
        (Flag(form=f.form_index, field=f.field, value=f.value, reason=f.reason,
              confidence=f.confidence, page=f.page, bbox=f.bbox, detail=f.detail)
         for f in flags
         if not ((f.form_index, f.field) in corrected and f.reason in READING_REASONS)),
        key=lambda f: (f.form, f.field, f.reason))
    return document


def correct_field(session: Session, field_id: int, new_value: Optional[str], user_name: str) -> Correction:
    """Record that `user_name` changed a field's value (the review app calls this)."""
    field = session.get(FieldRow, field_id)
    if field is None:
        raise KeyError(f'no field {field_id}')
    user = session.scalar(select(User).where(User.name == user_name))
    if user is None:
        user = User(name=user_name)
        session.add(user)
        session.flush()
    correction = Correction(field_id=field.id, user_id=user.id, at=utcnow(),
                            old_value=field.value, new_value=new_value)
    field.value = new_value
    session.add(correction)
    session.flush()
    return correction
