"""Re-checking one form after a person changed or accepted a value.

The form as it stands (the pipeline's result with the fields' current values laid
over it) goes through `extractor.validate.check_form`, and the form's flag rows are
brought in line with what it says, matched on (field, reason, detail):

* a rule flag (arithmetic, missing, unparsed) is recomputed on the current values:
  one that no longer fails is resolved as `cleared`; a new one is opened; one that
  fails again exactly as before stays as it was, so a printed inconsistency a
  reviewer accepted (or two keyers agreed on) stays resolved, while one that was
  cleared and comes back is opened again;
* a reading flag (low_confidence, split_number) is about how OCR read a value;
  check_form raises it again from the field's sources even when a person has set the
  value since, so on a field someone corrected, accepted or double-keyed it is left
  out: that field has been reviewed;
* structure flags come from the layout stage, which does not run again: they are
  left alone (a correction or acceptance of their field resolves them).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from extractor.validate import check_form
from models import Document, Form
from store.models import (Acceptance, Correction, Document as DocumentRow, FieldRow,
                                  FlagRow, FlagState, FormRow, Resolution)
from store.results import set_value

READING_REASONS = ('low_confidence', 'split_number')
LEFT_ALONE = ('structure',)


@dataclass
class Outcome:
    opened: list[FlagRow] = field(default_factory=list)
    cleared: list[FlagRow] = field(default_factory=list)
    reopened: list[FlagRow] = field(default_factory=list)


def current_form(session: Session, form_row: FormRow) -> Form:
    """The form with every field's current value (corrections included)."""
    document = session.get(DocumentRow, form_row.document_id)
    form = Document.from_full(document.result).forms[form_row.form_index]
    for path, value in session.execute(select(FieldRow.path, FieldRow.value)
                                       .where(FieldRow.form_id == form_row.id)):
        now = form.get(path)
        if value != (now if now is None or isinstance(now, str) else str(now)):
            set_value(form, path, value)
    return form


def reviewed_paths(session: Session, form_id: int) -> set[str]:
    """Fields of the form a person has corrected or accepted."""
    corrected = session.scalars(select(FieldRow.path).join(Correction, Correction.field_id == FieldRow.id)
                                .where(FieldRow.form_id == form_id))
    accepted = session.scalars(select(Acceptance.path).where(Acceptance.form_id == form_id))
    return set(corrected) | set(accepted)


def revalidate(session: Session, form_row: FormRow, user_id: Optional[int],
               now: datetime) -> Outcome:
    form = current_form(session, form_row)
    reviewed = reviewed_paths(session, form_row.id)
    fresh = [f for f in check_form(form, form_row.form_index)
             if not (f.reason in READING_REASONS and f.field in reviewed)]
    rows = session.scalars(select(FlagRow).where(FlagRow.form_id == form_row.id)
                           .order_by(FlagRow.position)).all()
    outcome = Outcome()
    reconcile_flags(session, form_row, fresh, [r for r in rows if r.reason not in LEFT_ALONE],
                    user_id, now, outcome)
    return outcome


def reconcile_flags(session: Session, form_row: FormRow, fresh: list, rows: list[FlagRow],
                    user_id: Optional[int], now: datetime, outcome: Outcome) -> None:
    """Bring the form's flag rows in line with the flags just raised, matched on
    (field, reason, detail): a match keeps its row (reopened unless a person's
    resolution sticks), a new flag opens a row, a row no longer raised is cleared."""
    existing: dict[tuple, list[FlagRow]] = defaultdict(list)
    for row in rows:
        existing[(row.field, row.reason, row.detail)].append(row)
    position = (session.scalar(select(func.max(FlagRow.position))
                               .where(FlagRow.document_id == form_row.document_id)) or 0) + 1
    for flag in fresh:
        matches = existing.get((flag.field, str(flag.reason), flag.detail))
        if matches:
            row = matches.pop(0)
            row.value, row.confidence, row.page, row.bbox = flag.value, flag.confidence, flag.page, flag.bbox
            if row.status != FlagState.OPEN and row.resolution not in Resolution.STICKY:
                row.status, row.resolution, row.resolved_by_id, row.resolved_at = FlagState.OPEN, None, None, None
                outcome.reopened.append(row)
            continue
        row = FlagRow(document_id=form_row.document_id, position=position, form_id=form_row.id,
                      form_index=form_row.form_index, field=flag.field, reason=str(flag.reason),
                      value=flag.value, confidence=flag.confidence, page=flag.page,
                      bbox=flag.bbox, detail=flag.detail, status=FlagState.OPEN)
        position += 1
        session.add(row)
        outcome.opened.append(row)
    for leftovers in existing.values():
        for row in leftovers:
            if row.status == FlagState.OPEN:
                resolve(row, Resolution.CLEARED, user_id, now)
                outcome.cleared.append(row)
    session.flush()


def resolve(row: FlagRow, resolution: str, user_id: Optional[int], now: datetime) -> None:
    row.status, row.resolution, row.resolved_by_id, row.resolved_at = (
        FlagState.RESOLVED, resolution, user_id, now)
