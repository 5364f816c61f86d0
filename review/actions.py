"""What a reviewer does to a flagged field, each in the caller's transaction, each
followed by re-validation of the form (review.revalidate):

    accept    the value is right as read; an arithmetic flag accepted means the printed
              form really is inconsistent (the same rule's flags on the other fields
              are accepted with it, except on other flagged money fields, which need
              their own two entries)
    correct   a new value: `store.results.correct_field` keeps who, when, old
              and new value
    key       on a flagged money field (funds budgets and execution, in 万元) neither of
              the above happens at once: each is one person's entry. Two entries by
              different people that agree settle the field (corrected or accepted,
              resolution `agreed`); entries that differ wait for a senior, who picks or
              types the value (`decide`, resolution `decided`). Until then the field's
              value is unchanged, so exports never carry a pending entry.

Every action refuses to act on a value that changed since the reviewer's page was
drawn (`expected`), so two people on the same field cannot overwrite each other
unseen.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from review.labels import is_money
from review.revalidate import Outcome, resolve, revalidate
from store.models import (Acceptance, FieldRow, FlagRow, FlagState, FormRow, KeyEntry,
                                  Resolution, Role, User, utcnow)
from store.results import correct_field
from models.text import DASH, DASH_GLYPHS

class ActionError(Exception):
    """The action cannot be done (shown to the reviewer as it is)."""


@dataclass
class Result:
    kind: str            # accepted, corrected, keyed, agreed, disputed, decided
    message: str
    outcome: Optional[Outcome] = None
    changes: list[str] = dc_field(default_factory=list)   # what re-validation did, for people


def normalise(value: Optional[str]) -> Optional[str]:
    """A typed value as stored: trimmed, empty -> None (an empty cell), a lone dash -> '—'."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) <= 2 and set(value) <= set(DASH_GLYPHS):
        return DASH
    return value


def open_flags(session: Session, form_id: int, path: str) -> list[FlagRow]:
    return list(session.scalars(select(FlagRow).where(
        FlagRow.form_id == form_id, FlagRow.field == path, FlagRow.status == FlagState.OPEN)
        .order_by(FlagRow.rank, FlagRow.position)))


def pending_entries(session: Session, field_id: int) -> list[KeyEntry]:
    return list(session.scalars(select(KeyEntry).where(
        KeyEntry.field_id == field_id, KeyEntry.settled.is_(False), KeyEntry.kind == KeyEntry.ENTRY)
        .order_by(KeyEntry.id)))


def needs_double_key(session: Session, form_id: int, field: Optional[FieldRow]) -> bool:
    """A money field with open flags, or with a round of entries under way."""
    if field is None or not is_money(field.path, field.form.schema):
        return False
    return bool(open_flags(session, form_id, field.path)) or bool(pending_entries(session, field.id))


def disputed(entries: list[KeyEntry]) -> bool:
    """Entries by two or more people, and no two of them agree."""
    return len({e.user_id for e in entries}) >= 2 and _agreed_value(entries) is None


_NOTHING = object()


def _agreed_value(entries: list[KeyEntry]):
    by_value: dict[Optional[str], set[int]] = {}
    for entry in entries:
        by_value.setdefault(entry.value, set()).add(entry.user_id)
    for value, users in by_value.items():
        if len(users) >= 2:
            return (value,)
    return None


def _describe(outcome: Outcome) -> list[str]:
    lines = [f'cleared: {f.reason} on {f.field}' for f in outcome.cleared]
    lines += [f'new flag: {f.reason} on {f.field} ({f.detail})' for f in outcome.opened]
    lines += [f'open again: {f.reason} on {f.field}' for f in outcome.reopened]
    return lines


def _field(session: Session, form_row: FormRow, path: str) -> Optional[FieldRow]:
    return session.scalar(select(FieldRow).where(FieldRow.form_id == form_row.id, FieldRow.path == path))


# ------------------------------------------------------------------ the actions

def act(session: Session, user: User, form_row: FormRow, path: str, action: str,
        value: Optional[str] = None, expected: Optional[str] = _NOTHING) -> Result:
    """Do `action` (accept, correct, decide) on field `path` of the form as `user`."""
    field = _field(session, form_row, path)
    current = field.value if field is not None else None
    if expected is not _NOTHING and (expected or None) != (current or None):
        raise ActionError('the value changed since this page was opened (someone else saved '
                          'it): look again')
    value = normalise(value)
    if action == 'decide':
        return decide(session, user, form_row, field, value)
    if action not in ('accept', 'correct'):
        raise ActionError(f'unknown action {action!r}')
    if needs_double_key(session, form_row.id, field):
        return key(session, user, form_row, field, current if action == 'accept' else value)
    if action == 'accept' or value == current:
        return accept(session, user, form_row, path, field)
    return correct(session, user, form_row, field, value)


def accept(session: Session, user: User, form_row: FormRow, path: str, field: Optional[FieldRow],
           resolution: str = Resolution.ACCEPTED) -> Result:
    now = utcnow()
    flags = open_flags(session, form_row.id, path)
    session.add(Acceptance(form_id=form_row.id, path=path, user_id=user.id, at=now,
                           value=field.value if field is not None else None,
                           reasons=' '.join(sorted({f.reason for f in flags}))))
    for flag in flags:
        resolve(flag, resolution, user.id, now)
        if flag.reason == 'arithmetic':
            _accept_rule(session, form_row, flag, user, now)
    session.flush()
    outcome = revalidate(session, form_row, user.id, now)
    what = 'agreed' if resolution == Resolution.AGREED else 'accepted'
    return Result(what, f'{path}: {what} as read' + (f' ({len(flags)} flag(s) resolved)' if flags else ''),
                  outcome, _describe(outcome))


def _accept_rule(session: Session, form_row: FormRow, flag: FlagRow, user: User, now) -> None:
    """The same failing rule, flagged on its other fields: accepted too, except on
    other flagged money fields (their value needs two entries of its own)."""
    for other in session.scalars(select(FlagRow).where(
            FlagRow.form_id == form_row.id, FlagRow.reason == 'arithmetic',
            FlagRow.detail == flag.detail, FlagRow.status == FlagState.OPEN,
            FlagRow.field != flag.field)):
        if not is_money(other.field, form_row.schema):
            resolve(other, Resolution.ACCEPTED, user.id, now)


def correct(session: Session, user: User, form_row: FormRow, field: Optional[FieldRow],
            value: Optional[str], resolution: str = Resolution.CORRECTED) -> Result:
    if field is None:
        raise ActionError('this flag is about a whole block, not one cell: accept it, or '
                          'correct the cells in the form view')
    now = utcnow()
    old = field.value
    correct_field(session, field.id, value, user.name)
    for flag in open_flags(session, form_row.id, field.path):
        if flag.reason != 'arithmetic' and flag.reason not in ('missing', 'unparsed'):
            resolve(flag, resolution, user.id, now)     # how it was read: moot now
    session.flush()
    outcome = revalidate(session, form_row, user.id, now)
    what = {Resolution.AGREED: 'agreed', Resolution.DECIDED: 'decided'}.get(resolution, 'corrected')
    return Result(what, f'{field.path}: {old!r} -> {value!r}', outcome, _describe(outcome))


def key(session: Session, user: User, form_row: FormRow, field: FieldRow,
        value: Optional[str]) -> Result:
    """One person's entry of a flagged money value."""
    now = utcnow()
    entries = pending_entries(session, field.id)
    mine = [e for e in entries if e.user_id == user.id]
    if mine:
        mine[0].value, mine[0].at = value, now          # a second thought replaces the first
    else:
        session.add(KeyEntry(field_id=field.id, user_id=user.id, kind=KeyEntry.ENTRY,
                             value=value, at=now, settled=False))
    session.flush()
    entries = pending_entries(session, field.id)
    agreed = _agreed_value(entries)
    if agreed is not None:
        return _settle(session, user, form_row, field, agreed[0], entries, Resolution.AGREED)
    people = len({e.user_id for e in entries})
    if people >= 2:
        return Result('disputed', f'{field.path}: the entries differ; a senior reviewer decides')
    return Result('keyed', f'{field.path}: your entry is kept; a second reviewer keys it '
                           'independently before it counts')


def decide(session: Session, user: User, form_row: FormRow, field: Optional[FieldRow],
           value: Optional[str]) -> Result:
    if user.role not in Role.SENIORS:
        raise ActionError('only a senior reviewer decides between differing entries')
    if field is None:
        raise ActionError('nothing to decide on this field')
    entries = pending_entries(session, field.id)
    if not disputed(entries):
        raise ActionError('there are no differing entries to decide between on this field')
    session.add(KeyEntry(field_id=field.id, user_id=user.id, kind=KeyEntry.DECISION,
                         value=value, at=utcnow(), settled=True))
    return _settle(session, user, form_row, field, value, entries, Resolution.DECIDED)


def _settle(session: Session, user: User, form_row: FormRow, field: FieldRow, value,
            entries: list[KeyEntry], resolution: str) -> Result:
    for entry in entries:
        entry.settled = True
    session.flush()
    if value == field.value:
        result = accept(session, user, form_row, field.path, field, resolution)
    else:
        result = correct(session, user, form_row, field, value, resolution)
    for flag in open_flags(session, form_row.id, field.path):
        if flag.reason != 'arithmetic' or resolution == Resolution.DECIDED:
            resolve(flag, resolution, user.id, utcnow())
    session.flush()
    result.kind = 'agreed' if resolution == Resolution.AGREED else 'decided'
    result.message = (f'{field.path}: two entries agree on {value!r}' if resolution == Resolution.AGREED
                      else f'{field.path}: decided {value!r}')
    return result
