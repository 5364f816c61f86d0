"""Repairs of a form's table structure: a funds or indicator row the pipeline lost is
added with the values a reviewer types off the page image; a spurious row (text read
as a row) is deleted; a row that is two printed rows read as one is split in two, two
rows that are one printed row (a wrapped cell read as a row of its own) are merged.

The document's stored result (documents.result) is changed, so the form as exports
and re-validation read it has the row (or not); the field rows, flags and
acceptances of the rows below are renumbered with it. The new row's values are
recorded as corrections by the reviewer (history and exports show who typed them),
the repair itself as a RowEdit (who, when, what row, which values; a split keeps the
row before and both parts, a merge both rows before and the merged one), and the
form is re-validated at once (review.revalidate, extractor.validate.check_form).
A split or merge sets the values the reviewer typed as corrections of the row that
stays, so the history of each cell shows them too.
"""
from __future__ import annotations

import copy
import re
from typing import Optional

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models import Document
from extractor.layout import join_lines
from review import labels
from review.actions import ActionError, Result, _describe, normalise
from review.revalidate import resolve, revalidate
from store.models import (Acceptance, Claim, Document as DocumentRow, FieldRow, FlagRow,
                                  FlagState, FormRow, Resolution, RowEdit, User, utcnow)
from store.results import correct_field



def columns_of(form_row: FormRow) -> dict[str, tuple[str, ...]]:
    """The form's row blocks and their columns, from its kind's template."""
    return labels.columns(form_row.schema)
MAX_ROWS = 60
MAX_VALUE = 2000
SPLIT, MERGE = 'split', 'merge'       # RowEdit.action, besides add and delete
# Page moves (review.regroup) are RowEdits too, of block PAGES, row_index the page number.
PAGES, MOVE, NOT_A_FORM = 'pages', 'move', 'notform'


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
    if block not in columns_of(form_row):
        raise ActionError(f'unknown table {block!r}')
    document = session.get(DocumentRow, form_row.document_id)
    if not document.result:
        raise ActionError('this document has no stored result')
    return document.result['forms'][form_row.form_index].get(block) or []


def _typed(form_row: FormRow, block: str, values: dict) -> dict:
    return {k: normalise((values.get(k) or '')[:MAX_VALUE]) for k in columns_of(form_row)[block]}


def _insert(session: Session, user: User, form_row: FormRow, block: str, index: int, typed: dict) -> None:
    """A row at `index` of `block` with the typed values, as the user's corrections."""
    _renumber(session, form_row, block, index, +1)

    def insert(form):
        form[block].insert(index, {k: None for k in columns_of(form_row)[block]})
        _shift_sources(form, block, index, +1)
    _change_result(session, form_row, insert)
    for key in columns_of(form_row)[block]:
        field = FieldRow(form_id=form_row.id, path=f'{block}.{index}.{key}', position=0, value=None,
                         extracted_value=None)
        session.add(field)
        session.flush()
        if typed[key] is not None:
            correct_field(session, field.id, typed[key], user.name)

    def fill(form):
        form[block][index].update(typed)
    _change_result(session, form_row, fill)


def _remove(session: Session, user: User, form_row: FormRow, block: str, index: int, now) -> dict:
    """Row `index` of `block` gone, its open flags resolved as corrected; the values it had."""
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
    return gone


def _set_row(session: Session, user: User, form_row: FormRow, block: str, index: int, typed: dict,
             now) -> dict:
    """Row `index` takes the typed values: each one that differs is the user's
    correction (flags on how it was read resolved, as `correct` does). The values it had."""
    fields = {f.path.rsplit('.', 1)[1]: f for f in session.scalars(select(FieldRow).where(
        FieldRow.form_id == form_row.id, FieldRow.path.like(f'{block}.{index}.%')))}
    before = {}
    for key in columns_of(form_row)[block]:
        field = fields.get(key)
        if field is None:
            field = FieldRow(form_id=form_row.id, path=f'{block}.{index}.{key}', position=0, value=None,
                             extracted_value=None)
            session.add(field)
            session.flush()
        before[key] = field.value
        if typed[key] != field.value:
            correct_field(session, field.id, typed[key], user.name)
            for flag in session.scalars(select(FlagRow).where(
                    FlagRow.form_id == form_row.id, FlagRow.field == field.path, FlagRow.status == FlagState.OPEN,
                    FlagRow.reason.not_in(('arithmetic', 'missing', 'unparsed')))):
                resolve(flag, Resolution.CORRECTED, user.id, now)
    return before


def _finish(session: Session, user: User, form_row: FormRow, block: str, action: str, index: int,
            values: dict, now, message: str) -> Result:
    _positions(session, form_row)
    session.add(RowEdit(form_id=form_row.id, block=block, action=action, row_index=index,
                        values=values, user_id=user.id, at=now))
    session.flush()
    outcome = revalidate(session, form_row, user.id, now)
    return Result(f'row {action}', message, outcome, _describe(outcome))


def add_row(session: Session, user: User, form_row: FormRow, block: str, index: int,
            values: dict) -> Result:
    """Insert a row typed by `user` at `index` of `block` (funds / indicators)."""
    rows = _check(form_row, session, block)
    if not 0 <= index <= len(rows) or len(rows) >= MAX_ROWS:
        raise ActionError('no such place in the table')
    typed = _typed(form_row, block, values)
    if not any(typed.values()):
        raise ActionError('type the values of the row first')
    now = utcnow()
    _insert(session, user, form_row, block, index, typed)
    return _finish(session, user, form_row, block, RowEdit.ADD, index, typed, now,
                   f'{block} row {index + 1} added')


def delete_row(session: Session, user: User, form_row: FormRow, block: str, index: int) -> Result:
    """Remove row `index` of `block`; its open flags are resolved as corrected."""
    rows = _check(form_row, session, block)
    if not 0 <= index < len(rows):
        raise ActionError('no such row')
    now = utcnow()
    gone = _remove(session, user, form_row, block, index, now)
    return _finish(session, user, form_row, block, RowEdit.DELETE, index, gone, now,
                   f'{block} row {index + 1} deleted')


def split_row(session: Session, user: User, form_row: FormRow, block: str, index: int,
              top: dict, bottom: dict) -> Result:
    """Two printed rows read as one: row `index` becomes `top`, and `bottom` is a new
    row under it. One repair: recorded with the row as it was and both parts."""
    rows = _check(form_row, session, block)
    if not 0 <= index < len(rows) or len(rows) >= MAX_ROWS:
        raise ActionError('no such row')
    top_t, bottom_t = _typed(form_row, block, top), _typed(form_row, block, bottom)
    if not any(top_t.values()) or not any(bottom_t.values()):
        raise ActionError('type the values of both rows')
    now = utcnow()
    before = _set_row(session, user, form_row, block, index, top_t, now)
    _insert(session, user, form_row, block, index + 1, bottom_t)
    return _finish(session, user, form_row, block, SPLIT, index,
                   {'before': before, 'top': top_t, 'bottom': bottom_t}, now,
                   f'{block} row {index + 1} split in two (rows {index + 1} and {index + 2})')


def merge_rows(session: Session, user: User, form_row: FormRow, block: str, index: int,
               merged: dict) -> Result:
    """One printed row read as two: rows `index` and `index + 1` become one row with
    the `merged` values. One repair: recorded with both rows as they were."""
    rows = _check(form_row, session, block)
    if not 0 <= index < len(rows) - 1:
        raise ActionError('no such pair of rows')
    typed = _typed(form_row, block, merged)
    if not any(typed.values()):
        raise ActionError('type the values of the merged row')
    now = utcnow()
    _widen_sources(session, form_row, block, index)
    before = _set_row(session, user, form_row, block, index, typed, now)
    below = _remove(session, user, form_row, block, index + 1, now)
    return _finish(session, user, form_row, block, MERGE, index,
                   {'before': [before, below], 'merged': typed}, now,
                   f'{block} rows {index + 1} and {index + 2} merged into row {index + 1}')


def _widen_sources(session: Session, form_row: FormRow, block: str, index: int) -> None:
    """Before a merge: each cell of the upper row is shown (crops, boxes) over both
    rows' cells where they were read on the same page."""
    fields = {f.path: f for f in session.scalars(select(FieldRow).where(
        FieldRow.form_id == form_row.id, FieldRow.path.like(f'{block}.{index}.%')
        | FieldRow.path.like(f'{block}.{index + 1}.%')))}
    boxes = {}
    for key in columns_of(form_row)[block]:
        upper, lower = fields.get(f'{block}.{index}.{key}'), fields.get(f'{block}.{index + 1}.{key}')
        if upper is None:
            continue
        if (lower is not None and upper.bbox and lower.bbox and upper.page == lower.page):
            a, b = upper.bbox, lower.bbox
            upper.bbox = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
            boxes[upper.path] = upper.bbox
        elif upper.bbox is None and lower is not None and lower.bbox:
            upper.page, upper.bbox = lower.page, list(lower.bbox)
            boxes[upper.path] = upper.bbox

    def widen(form):
        sources = form.setdefault('sources', {})
        for path, box in boxes.items():
            if path in sources:
                sources[path] = dict(sources[path], bbox=box)
            else:
                sources[path] = {'page': fields[path].page, 'bbox': box, 'lines': []}
    if boxes:
        _change_result(session, form_row, widen)


def split_suggestion(session: Session, form_row: FormRow, block: str, index: int) -> tuple[dict, dict]:
    """(top, bottom) to start a split from: a cell read as two or more lines gives its
    first line to the upper row and the rest to the lower one; a one-line cell stays
    in the upper row."""
    rows = _check(form_row, session, block)
    row = rows[index] if 0 <= index < len(rows) else {}
    document = session.get(DocumentRow, form_row.document_id)
    sources = (document.result['forms'][form_row.form_index].get('sources') or {})
    current = {f.path.rsplit('.', 1)[1]: f.value for f in session.scalars(select(FieldRow).where(
        FieldRow.form_id == form_row.id, FieldRow.path.like(f'{block}.{index}.%')))}
    top, bottom = {}, {}
    for key in columns_of(form_row)[block]:
        value = current.get(key, row.get(key))
        lines = [str(x) for x in ((sources.get(f'{block}.{index}.{key}') or {}).get('lines') or []) if str(x).strip()]
        extracted = join_lines(lines)
        if len(lines) >= 2 and extracted == value:
            top[key], bottom[key] = join_lines(lines[:1]), join_lines(lines[1:])
        else:
            top[key], bottom[key] = value, None
    return top, bottom


def merge_suggestion(session: Session, form_row: FormRow, block: str, index: int) -> tuple[dict, dict, dict]:
    """(upper row, lower row, the two joined cell by cell) to start a merge from."""
    rows = _check(form_row, session, block)
    if not 0 <= index < len(rows) - 1:
        raise ActionError('no such pair of rows')
    current = {f.path: f.value for f in session.scalars(select(FieldRow).where(
        FieldRow.form_id == form_row.id, FieldRow.path.like(f'{block}.{index}.%')
        | FieldRow.path.like(f'{block}.{index + 1}.%')))}
    upper = {k: current.get(f'{block}.{index}.{k}', rows[index].get(k)) for k in columns_of(form_row)[block]}
    lower = {k: current.get(f'{block}.{index + 1}.{k}', rows[index + 1].get(k)) for k in columns_of(form_row)[block]}
    joined = {k: join_lines([v for v in (upper[k], lower[k]) if v]) for k in columns_of(form_row)[block]}
    return upper, lower, joined


def row_values(session: Session, form_row: FormRow, block: str) -> list[dict]:
    """The rows of `block` with their current values (for the repair forms)."""
    rows = _check(form_row, session, block)
    current = {f.path: f.value for f in session.scalars(select(FieldRow).where(
        FieldRow.form_id == form_row.id, FieldRow.path.like(f'{block}.%')))}
    return [{k: current.get(f'{block}.{i}.{k}', row.get(k)) for k in columns_of(form_row)[block]} for i, row in enumerate(rows)]


def edits(session: Session, form_id: int) -> list[RowEdit]:
    return list(session.scalars(select(RowEdit).where(RowEdit.form_id == form_id).order_by(RowEdit.id)))
