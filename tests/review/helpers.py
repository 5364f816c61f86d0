"""Reading the store in the review tests: what the pipeline flagged, found by looking,
never hard-coded."""
from __future__ import annotations

import os
from decimal import Decimal

from sqlalchemy import select

from review.labels import is_money
from store.models import FieldRow, FlagRow, FlagState, FormRow


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHOTS = os.path.join(ROOT, 'out', 'screenshots')


def shot(page, name: str) -> None:
    """A screenshot for people to look at (out/screenshots/, not committed)."""
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, f'{name}.png'))


def open_flags(store, form_id=None):
    with store.session() as s:
        query = select(FlagRow).where(FlagRow.status == FlagState.OPEN)
        if form_id is not None:
            query = query.where(FlagRow.form_id == form_id)
        return list(s.scalars(query.order_by(FlagRow.position)))


def flags_of(store, form_id, path=None, detail=None):
    with store.session() as s:
        query = select(FlagRow).where(FlagRow.form_id == form_id)
        if path is not None:
            query = query.where(FlagRow.field == path)
        if detail is not None:
            query = query.where(FlagRow.detail == detail)
        return list(s.scalars(query.order_by(FlagRow.position)))


def field(store, form_id, path) -> FieldRow:
    with store.session() as s:
        return s.scalar(select(FieldRow).where(FieldRow.form_id == form_id, FieldRow.path == path))


def split_money_in_a_rate_rule(store):
    """(form_id, money field flagged split_number, the arithmetic detail of the execution
    rate rule it is part of): a split number whose value decides an arithmetic flag."""
    flags = open_flags(store)
    splits = {(f.form_id, f.field) for f in flags if f.reason == 'split_number' and is_money(f.field)}
    for f in flags:
        # 'rate 100% but executed / annual_budget = 90.00%' (the template's rate rule)
        if (f.reason == 'arithmetic' and 'executed / annual_budget' in f.detail
                and (f.form_id, f.field) in splits and f.field.endswith('annual_budget')):
            return f.form_id, f.field, f.detail
    raise AssertionError('the corpus has no split money field inside a failing execution-rate rule')


def budget_that_fits_the_rate(store, form_id, path) -> str:
    """The annual budget that makes the printed execution rate right: executed / rate."""
    row = path.rsplit('.', 1)[0]
    executed = Decimal(field(store, form_id, f'{row}.executed').value)
    rate = Decimal(field(store, form_id, f'{row}.execution_rate').value.rstrip('%')) / 100
    places = max(-executed.as_tuple().exponent, 0)
    return str((executed / rate).quantize(Decimal(1).scaleb(-places)))


def a_failing_sum(store, key='weight'):
    """(form_id, detail, fields of the rule) of a '<key>s add up to X, total says Y' flag."""
    for f in open_flags(store):
        if f.reason == 'arithmetic' and f.detail.startswith(f'{key}s add up to'):
            fields = [g.field for g in flags_of(store, f.form_id, detail=f.detail)]
            return f.form_id, f.detail, fields
    raise AssertionError(f'the corpus has no failing {key} sum')


def form_id_of(store, document_id, index=0):
    with store.session() as s:
        return s.scalar(select(FormRow.id).where(FormRow.document_id == document_id,
                                                 FormRow.form_index == index))
