"""Repairs of how a document's pages were grouped into forms: a page moved to another
form of the same document (a form's second page that the pipeline grouped with the
next form), or marked as not a form (a cover letter, an attachment read as a form).

The forms that lose or gain the page are read again from their pages' stored results
(`pages.result`, what the workers' OCR left) by the pipeline's own layout stage
(extractor.layout: the tables of a form's pages stacked in page order, labels and
columns found as in a batch run), with the grouping the reviewer gave instead of the
one the titles suggested; then validated as the pipeline validates
(extractor.validate: rules, and page quality). Nothing is OCRed again.

In the store, for each of those forms:
* its stored result (documents.result) and its row (pages, header fields) are the new
  reading; a form left with no page is removed (the forms after it move up);
* a field read off the same cell of the same page as before (page, cell box, reading)
  keeps its row with its corrections, double-key entries and acceptance, under its new
  path; fields that are gone take their corrections with them (the RowEdit records
  what they were), new ones are as read;
* its open flags are resolved (`cleared`: the form was re-read) and the new reading's
  flags opened, except flags about how a value was read on a field a person had set,
  then it is re-validated (review.revalidate) like after any correction;
* the repair is a RowEdit (block `pages`, the page number, from which form to which,
  and what was dropped) on each form it touched, and an audit log event.
"""
from __future__ import annotations

import copy
from typing import Optional

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from extractor import layout, validate
from models import Flag, Form, PageQuality, PageResult
from models.template import DEFAULT_SCHEMA, template_for, templates
from review import audit
from review.actions import ActionError, Result, _describe
from review.revalidate import Outcome, reconcile_flags, revalidate, reviewed_paths
from review.structure import MOVE, NOT_A_FORM, PAGES
from store.models import (Acceptance, Claim, Correction, Document as DocumentRow, FieldRow, FlagRow,
                          FormRow, PageRow, RowEdit, User, utcnow)
from store.results import READING_REASONS, form_name


# ------------------------------------------------------------------ reading forms again

def _kind(page: PageResult, t_index: int, cell_lines, kinds) -> tuple[Optional[layout.KindMatch], list]:
    """As extractor.layout.split_forms sees a table: (the kind whose title or header it
    shows, or None for a continuation; the loose lines above it)."""
    table = page.grid.tables[t_index]
    previous_bottom = max([t.bbox[3] for t in page.grid.tables[:t_index]], default=0)
    above = [l for l in page.loose_text if l.bbox[3] <= table.bbox[1] + 5 and l.bbox[1] >= previous_bottom]
    kind = layout.title_kind(above, kinds) or layout.header_kind(layout._short_texts(cell_lines), kinds)
    return kind, above


def read_form(results: dict[int, PageResult], numbers: list[int], index: int,
              schema: Optional[str] = None) -> tuple[Form, list[Flag]]:
    """Form `index` read off exactly these pages (every table on them, in page order)
    as extractor.layout reads a form, with its layout flags. Its kind is the first
    table's that shows one (title or header labels), else `schema`'s (the kind the
    form had)."""
    kinds = templates()
    part = None
    for number in sorted(numbers):
        page = results[number]
        texts = {(c.table, c.cell): c.lines for c in page.cells}
        for t_index, table in enumerate(page.grid.tables):
            cell_lines = [texts.get((t_index, i), []) for i in range(len(table.cells))]
            kind, above = _kind(page, t_index, cell_lines, kinds)
            if part is None:
                template = kind.template if kind is not None else template_for(schema or DEFAULT_SCHEMA)
                year, year_line = layout._year(above)
                part = layout.FormPart(template=template, title=(kind.title if kind is not None else '') or template.title,
                                       year=year, year_line=year_line, dpi=page.dpi, above_page=number)
                layout._place(part, number, table, cell_lines, continued=False)
            else:
                layout._place(part, number, table, cell_lines,
                              continued=kind is None and number not in part.pages)
    if part is None or not part.cells:
        return Form(schema=schema or DEFAULT_SCHEMA, pages=sorted(numbers)), []
    return layout.FormBuilder(part, index).build()


def read_forms(results: dict[int, PageResult], groups: list[list[int]], quality: list[PageQuality],
               schemas: Optional[list[Optional[str]]] = None) -> tuple[list[Form], list[Flag]]:
    """Every group of pages read as one form, and the flags the pipeline would raise
    on them (layout, rules, page quality), as extractor.pipeline.assemble does."""
    forms, flags = [], []
    for index, numbers in enumerate(groups):
        form, form_flags = read_form(results, numbers, index, schemas[index] if schemas else None)
        forms.append(form)
        flags.extend(form_flags)
    flags += validate.check_forms(forms)
    flags += validate.check_pages(forms, quality, flags)
    flags.sort(key=lambda f: (f.form, f.field, f.reason))
    return forms, flags


def _form_json(form: Form) -> dict:
    """As Document.full() stores a form: its contract and its sources."""
    data = form.contract()
    data['sources'] = {k: v.model_dump(mode='json') for k, v in form.sources.items()}
    return data


def _as_text(value) -> Optional[str]:
    return value if value is None or isinstance(value, str) else str(value)


# ------------------------------------------------------------------ the repair

def _page_results(session: Session, document_id: int) -> dict[int, PageResult]:
    return {number: PageResult.model_validate(result) for number, result in session.execute(
        select(PageRow.number, PageRow.result).where(PageRow.document_id == document_id,
                                                     PageRow.result.is_not(None)))}


def pages_not_in_a_form(session: Session, document: DocumentRow) -> list[PageRow]:
    """The document's pages no form has (marked not a form, or without a table)."""
    used = {n for pages in session.scalars(select(FormRow.pages).where(FormRow.document_id == document.id))
            for n in (pages or [])}
    return [p for p in session.scalars(select(PageRow).where(PageRow.document_id == document.id)
                                       .order_by(PageRow.number)) if p.number not in used]


def move_page(session: Session, user: User, document: DocumentRow, page: int,
              target: Optional[FormRow], address: Optional[str] = None) -> Result:
    """Page `page` of `document` to form `target` (a form of the same document), or to
    no form (target None). The page may be in a form now or in none."""
    if not document.result:
        raise ActionError('this document has no stored result')
    forms = list(session.scalars(select(FormRow).where(FormRow.document_id == document.id)
                                 .order_by(FormRow.form_index)))
    source = next((f for f in forms if page in (f.pages or [])), None)
    if target is not None and target.document_id != document.id:
        raise ActionError('a page moves only to a form of its own document')
    if source is None and target is None:
        raise ActionError(f'page {page} is in no form already')
    if source is not None and target is not None and source.id == target.id:
        raise ActionError(f'page {page} is in that form already')
    results = _page_results(session, document.id)
    if page not in results:
        raise ActionError(f'page {page} has no stored reading')
    if target is not None and not results[page].grid.tables:
        raise ActionError(f'no table was found on page {page}: there is nothing on it to read into a form')
    now = utcnow()
    groups = {f.id: [n for n in (f.pages or []) if n != page] for f in forms}
    if target is not None:
        groups[target.id] = sorted(groups[target.id] + [page])
    touched = [f for f in forms if f is source or f is target]
    gone = [f for f in touched if not groups[f.id]]
    kept = [f for f in forms if f not in gone]
    changed = [f for f in touched if f not in gone]
    old_index = {f.id: f.form_index for f in forms}
    where_from = (f'form {source.form_index}' if source is not None else 'no form')
    where_to = f'form {target.form_index}' if target is not None else 'not a form'

    quality = [PageQuality.model_validate(q) for q in (document.result.get('quality') or [])]
    schemas = [(document.result['forms'][f.form_index] or {}).get('schema') for f in kept]
    new_forms, new_flags = read_forms(results, [groups[f.id] for f in kept], quality, schemas)
    reusable = _reusable_fields(session, touched)
    for form in changed:
        _store_form(session, form, new_forms[kept.index(form)], reusable)
    # Fields no form took: gone, with their corrections (recorded here).
    dropped: dict[str, Optional[str]] = {}
    leftovers = [f for fields in reusable.values() for f in fields]
    corrected = set(session.scalars(select(Correction.field_id).where(
        Correction.field_id.in_([f.id for f in leftovers] or [-1]))))
    for field in leftovers:
        if field.id in corrected:
            dropped[f'form {old_index[field.form_id]} {field.original_path}'] = field.value
    session.execute(delete(FieldRow).where(FieldRow.id.in_([f.id for f in leftovers] or [-1]))
                    .execution_options(synchronize_session=False))
    for field in leftovers:
        session.expunge(field)
    if gone:
        # Their flags, claims, acceptances and repairs go with them (ON DELETE CASCADE).
        ids = [f.id for f in gone]
        for form in gone:
            session.expunge(form)
        session.execute(delete(FormRow).where(FormRow.id.in_(ids)).execution_options(synchronize_session=False))
    session.flush()
    # The forms after a removed one move up: through negatives, as (document, index) is unique.
    for new_index, form in enumerate(kept):
        if form.form_index != new_index:
            form.form_index = -1 - new_index
    session.flush()
    for new_index, form in enumerate(kept):
        if form.form_index < 0:
            form.form_index = new_index
    session.flush()
    for form in kept:
        session.execute(update(FlagRow).where(FlagRow.form_id == form.id).values(form_index=form.form_index))
    result = copy.deepcopy(document.result)
    result['forms'] = [(_form_json(new_forms[i]) if form in changed else result['forms'][old_index[form.id]])
                       for i, form in enumerate(kept)]
    # A page in no form is listed with the pages that are no known form, and why.
    unmatched = [u for u in (result.get('unmatched_pages') or []) if u.get('page') != page]
    if target is None:
        unmatched.append({'page': page, 'reason': f'not a form (marked by reviewer {user.name})'})
    result['unmatched_pages'] = sorted(unmatched, key=lambda u: u.get('page', 0))
    document.result = result
    session.flush()

    outcome = Outcome()
    for form in changed:
        _reconcile(session, form, [f for f in new_flags if f.form == form.form_index], user.id, now, outcome)
        got = revalidate(session, form, user.id, now)
        outcome.opened += got.opened
        outcome.cleared += got.cleared
        outcome.reopened += got.reopened

    summary = f'page {page}: from {where_from} to {where_to}'
    if gone:
        summary += f' ({", ".join(f"form {old_index[f.id]}" for f in gone)} had no other page: removed)'
    if dropped:
        summary += '; corrections dropped with their fields: ' + ', '.join(
            f'{k} = {v!r}' for k, v in list(dropped.items())[:20])
    action = MOVE if target is not None else NOT_A_FORM
    for form in changed:
        session.add(RowEdit(form_id=form.id, block=PAGES, action=action, row_index=page,
                            values={'page': page, 'from': where_from, 'to': where_to,
                                    'removed': [old_index[f.id] for f in gone], 'dropped': dropped,
                                    'summary': summary},
                            user_id=user.id, at=now))
    audit.record(session, 'page.' + action, user_id=user.id, name=user.name, address=address,
                 detail=f'{document.file_name}: {summary}')
    session.flush()
    message = (f'page {page} moved to form {target.form_index}' if target is not None
               else f'page {page} marked as not a form')
    if gone:
        message += f' ({", ".join(f"form {old_index[f.id]}" for f in gone)} had no other page and is removed)'
    return Result('page moved', message, outcome, _describe(outcome) + (
        [f'corrections dropped with their fields: {len(dropped)}'] if dropped else []))


def _reusable_fields(session: Session, forms: list[FormRow]) -> dict[tuple, list[FieldRow]]:
    """The forms' fields by (page, cell box, reading); each remembers its form and path."""
    out: dict[tuple, list[FieldRow]] = {}
    for field in session.scalars(select(FieldRow).where(FieldRow.form_id.in_([f.id for f in forms]))
                                 .order_by(FieldRow.id)):
        field.original_form, field.original_path = field.form_id, field.path
        out.setdefault(_identity(field.page, field.bbox, field.extracted_value), []).append(field)
    return out


def _identity(page, bbox, value) -> tuple:
    return (page, tuple(bbox) if bbox else None, value)


def _store_form(session: Session, form_row: FormRow, form: Form, reusable: dict[tuple, list[FieldRow]]) -> None:
    """The form row and its fields as `form` reads. A field read off the same cell as
    before (page, box, reading) keeps its row (corrections, entries), its flags and
    acceptance, under the new path; the others are new rows as read."""
    form_row.pages = list(form.pages)
    form_row.year, form_row.schema, form_row.name = form.year, form.schema_id, form_name(form)
    taken, new = [], []
    for position, path in enumerate(form.field_paths()):
        value = _as_text(form.get(path))
        source = form.sources.get(path)
        key = _identity(source.page, list(source.bbox), value) if source is not None and source.bbox else None
        candidates = reusable.get(key) if key is not None else None
        if candidates:
            field = candidates.pop(0)
            if not candidates:
                reusable.pop(key)
            taken.append((field, path, position, source))
        else:
            new.append((path, position, source, value))
    # Everything that moves goes through a temporary name first: no two fields of a
    # form share a path at any time.
    for field, *_ in taken:
        session.execute(update(FlagRow).where(FlagRow.form_id == field.original_form,
                                              FlagRow.field == field.original_path)
                        .values(form_id=form_row.id, field=f'~{field.id}'))
        session.execute(update(Acceptance).where(Acceptance.form_id == field.original_form,
                                                 Acceptance.path == field.original_path)
                        .values(form_id=form_row.id, path=f'~{field.id}'))
        field.path = f'~{field.id}'
    for fields in reusable.values():
        for field in fields:
            field.path = f'~{field.id}'
    session.flush()
    session.execute(delete(Claim).where(Claim.form_id == form_row.id))
    # Acceptances of fields that did not come along: the form was read again.
    session.execute(delete(Acceptance).where(Acceptance.form_id == form_row.id, Acceptance.path.not_like('~%')))
    for field, path, position, source in taken:
        session.execute(update(FlagRow).where(FlagRow.form_id == form_row.id, FlagRow.field == f'~{field.id}')
                        .values(field=path))
        session.execute(update(Acceptance).where(Acceptance.form_id == form_row.id, Acceptance.path == f'~{field.id}')
                        .values(path=path))
        field.form_id, field.path, field.position = form_row.id, path, position
        field.confidence = source.confidence
    session.flush()
    for path, position, source, value in new:
        session.add(FieldRow(form_id=form_row.id, path=path, position=position, value=value,
                             extracted_value=value, confidence=source.confidence if source else None,
                             page=source.page if source else None,
                             bbox=list(source.bbox) if source and source.bbox else None))
    session.flush()


def _reconcile(session: Session, form_row: FormRow, flags: list[Flag], user_id: int, now,
               outcome: Outcome) -> None:
    """The form's flags brought in line with what the pipeline raises on the new
    reading, matched on (field, reason, detail) as review.revalidate does (a flag a
    person accepted stays accepted); reading flags on fields a person set are left out."""
    reviewed = reviewed_paths(session, form_row.id)
    rows = session.scalars(select(FlagRow).where(FlagRow.form_id == form_row.id).order_by(FlagRow.position)).all()
    fresh = [f for f in flags if not (str(f.reason) in READING_REASONS + ('page_quality',) and f.field in reviewed)]
    reconcile_flags(session, form_row, fresh, list(rows), user_id, now, outcome)
