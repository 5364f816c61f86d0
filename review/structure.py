"""Repairs of a form's table structure: a funds or indicator row the pipeline lost is
added with the values a reviewer types off the page image; a spurious row (a row
split in two, text read as a row) is deleted.

The document's stored result (documents.result) is changed, so the form as exports
and re-validation read it has the row (or not); the field rows, flags and
acceptances of the rows below are renumbered with it. The new row's values are
recorded as corrections by the reviewer (history and exports show who typed them),
the repair itself as a RowEdit (who, when, what row, which values), and the form is
re-validated at once (review.revalidate, extractor.validate.check_form).
"""
from __future__ import annotations

import copy
import re
from typing import Optional

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models import Document
from models.document import FUND_VALUE_KEYS, INDICATOR_KEYS
from review.actions import ActionError, Result, _describe, normalise
from review.revalidate import resolve, revalidate
from store.models import (Acceptance, Claim, Document as DocumentRow, FieldRow, FlagRow,
                                  FlagState, FormRow, Resolution, RowEdit, User, utcnow)
from store.results import correct_field

COLUMNS = {'funds': ('item',) + tuple(FUND_VALUE_KEYS), 'indicators': tuple(INDICATOR_KEYS)}
MAX_ROWS = 60
MAX_VALUE = 2000


def _row_path(block: str):
    return re.compile(rf'^{block}\.(\d+)\.(\w+)$')


def _shift_path(path: str, block: str, start: int, by: int) -> Optional[str]:
    """`block.j.key` with j >= start, renumbered by `by`; None if not such a path."""
    match = _row_path(block).match(path)
    if match is None or int(match.group(1)) < start:
        return None
    return f'{block}.{int(match.group(1)) + by}.{match.group(2)}'


def _renumber(session: Session, form_row: FormRow, block: str, start: int, by: int) -> None:
    """Rows `start` and below move by `by` in fields, flags and acceptances. Fields are
    renamed in two steps (through a temporary name) so no two share a path meanwhile."""
    fields = session.scalars(select(FieldRow).where(FieldRow.form_id == form_row.id,
                                                    FieldRow.path.like(f'{block}.%'))).all()
    moved = [(f, _shift_path(f.path, block, start, by)) for f in fields]
    moved = [(f, new) for f, new in moved if new is not None]
    for f, new in moved:
        f.path = '~' + new
    session.flush()
    for f, new in moved:
        f.path = new
    for flag in session.scalars(select(FlagRow).where(FlagRow.form_id == form_row.id,
                                                      FlagRow.field.like(f'{block}.%'))):
        new = _shift_path(flag.field, block, start, by)
        if new is not None:
            flag.field = new
    for acceptance in session.scalars(select(Acceptance).where(Acceptance.form_id == form_row.id,
                                                               Acceptance.path.like(f'{block}.%'))):
        new = _shift_path(acceptance.path, block, start, by)
        if new is not None:
            acceptance.path = new
    # Claims on this form's rows would point at the wrong row now: let them go.
    session.execute(delete(Claim).where(Claim.form_id == form_row.id, Claim.path.like(f'{block}.%')))
    session.flush()


def _change_result(session: Session, form_row: FormRow, change) -> dict:
    """Apply change(form_dict) to a copy of the stored result and store it."""
    document = session.get(DocumentRow, form_row.document_id)
    result = copy.deepcopy(document.result)
    out = change(result['forms'][form_row.form_index])
    document.result = result
    return out


def _shift_sources(form: dict, block: str, start: int, by: int) -> None:
    sources = form.get('sources') or {}
    form['sources'] = {(_shift_path(k, block, start, by) or k): v for k, v in sources.items()}


def _positions(session: Session, form_row: FormRow) -> None:
    """Reading order of the fields again, after rows came or went."""
    document = session.get(DocumentRow, form_row.document_id)
    order = {p: i for i, p in enumerate(Document.from_full(document.result).forms[form_row.form_index].field_paths())}
    for f in session.scalars(select(FieldRow).where(FieldRow.form_id == form_row.id)):
        f.position = order.get(f.path, len(order))


def _check(form_row: FormRow, session: Session, block: str) -> list:
    if block not in COLUMNS:
        raise ActionError(f'unknown table {block!r}')
    document = session.get(DocumentRow, form_row.document_id)
    if not document.result:
        raise ActionError('this document has no stored result')
    return document.result['forms'][form_row.form_index].get(block) or []


def add_row(session: Session, user: User, form_row: FormRow, block: str, index: int,
            values: dict) -> Result:
    """Insert a row typed by `user` at `index` of `block` (funds / indicators)."""
    rows = _check(form_row, session, block)
    if not 0 <= index <= len(rows) or len(rows) >= MAX_ROWS:
        raise ActionError('no such place in the table')
    typed = {k: normalise((values.get(k) or '')[:MAX_VALUE]) for k in COLUMNS[block]}
    if not any(typed.values()):
        raise ActionError('type the values of the row first')
    now = utcnow()
    _renumber(session, form_row, block, index, +1)

    def insert(form):
        form[block].insert(index, {k: None for k in COLUMNS[block]})
        _shift_sources(form, block, index, +1)
    _change_result(session, form_row, insert)
    for key in COLUMNS[block]:
        field = FieldRow(form_id=form_row.id, path=f'{block}.{index}.{key}', position=0, value=None,
                         extracted_value=None)
        session.add(field)
        session.flush()
        if typed[key] is not None:
            correct_field(session, field.id, typed[key], user.name)

    def fill(form):
        form[block][index].update(typed)
    _change_result(session, form_row, fill)
    _positions(session, form_row)
    session.add(RowEdit(form_id=form_row.id, block=block, action=RowEdit.ADD, row_index=index,
                        values=typed, user_id=user.id, at=now))
    session.flush()
    outcome = revalidate(session, form_row, user.id, now)
    return Result('row added', f'{block} row {index + 1} added', outcome, _describe(outcome))


def delete_row(session: Session, user: User, form_row: FormRow, block: str, index: int) -> Result:
    """Remove row `index` of `block`; its open flags are resolved as corrected."""
    rows = _check(form_row, session, block)
    if not 0 <= index < len(rows):
        raise ActionError('no such row')
    now = utcnow()
    fields = session.scalars(select(FieldRow).where(FieldRow.form_id == form_row.id,
                                                    FieldRow.path.like(f'{block}.{index}.%'))).all()
    gone = {f.path.rsplit('.', 1)[1]: f.value for f in fields}
    for flag in session.scalars(select(FlagRow).where(FlagRow.form_id == form_row.id,
                                                      FlagRow.field.like(f'{block}.{index}.%'),
                                                      FlagRow.status == FlagState.OPEN)):
        resolve(flag, Resolution.CORRECTED, user.id, now)
    for flag in session.scalars(select(FlagRow).where(FlagRow.form_id == form_row.id,
                                                      FlagRow.field.like(f'{block}.{index}.%'))):
        flag.field = f'{block}.deleted.{flag.field.rsplit(".", 1)[1]}'    # kept, out of every row
    session.execute(delete(Acceptance).where(Acceptance.form_id == form_row.id,
                                             Acceptance.path.like(f'{block}.{index}.%')))
    # Its corrections and double-key entries go with it (ON DELETE CASCADE); the
    # RowEdit keeps the values it had.
    session.execute(delete(FieldRow).where(FieldRow.id.in_([f.id for f in fields]))
                    .execution_options(synchronize_session=False))
    for f in fields:
        session.expunge(f)
    session.flush()
    _renumber(session, form_row, block, index + 1, -1)

    def remove(form):
        form[block].pop(index)
        form['sources'] = {k: v for k, v in (form.get('sources') or {}).items()
                           if not k.startswith(f'{block}.{index}.')}
        _shift_sources(form, block, index + 1, -1)
    _change_result(session, form_row, remove)
    _positions(session, form_row)
    session.add(RowEdit(form_id=form_row.id, block=block, action=RowEdit.DELETE, row_index=index,
                        values=gone, user_id=user.id, at=now))
    session.flush()
    outcome = revalidate(session, form_row, user.id, now)
    return Result('row deleted', f'{block} row {index + 1} deleted', outcome, _describe(outcome))


def edits(session: Session, form_id: int) -> list[RowEdit]:
    return list(session.scalars(select(RowEdit).where(RowEdit.form_id == form_id).order_by(RowEdit.id)))
