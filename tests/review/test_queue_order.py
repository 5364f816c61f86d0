"""The queue read far down (a page cut out in SQL, review.queries._page_deep) is the
queue read from the top, item for item: on SQLite and PostgreSQL, with items of
several flags, ties and unknown confidences, filtered by reason or not."""
from __future__ import annotations

import random

import pytest
from sqlalchemy import insert, select

from review import queries
from store.models import REASON_RANK, Batch, BatchItem, Document, FieldRow, FlagRow, FormRow, User, utcnow

REASONS = list(REASON_RANK)


def fill(url: str):
    from review.users import add_user, assign
    from store.db import open_store
    store = open_store(url)
    rng = random.Random(7)
    now = utcnow()
    with store.session(write=True) as s:
        s.add(Batch(id=1, name='b', created_at=now))
        s.flush()
        add_user(s, 'rev', 'a long enough password', 'reviewer')
        assign(s, 'rev', 'b')
        s.execute(insert(Document), [{'id': d, 'sha256': f'{d:064x}', 'path': f'/x/{d}.pdf', 'file_name': f'{d}.pdf',
                                      'status': 'extracted', 'submitted_at': now, 'updated_at': now, 'requeues': 0}
                                     for d in range(1, 31)])
        s.execute(insert(BatchItem), [{'batch_id': 1, 'document_id': d, 'path': f'/x/{d}.pdf', 'added_at': now}
                                      for d in range(1, 31)])
        s.execute(insert(FormRow), [{'id': d, 'document_id': d, 'form_index': 0, 'pages': [1]} for d in range(1, 31)])
        flags, fields = [], []
        for d in range(1, 31):
            position = 0
            for item in range(rng.randint(3, 12)):
                path = f'indicators.{item}.score'
                fields.append({'form_id': d, 'path': path, 'position': item, 'value': '1', 'extracted_value': '1'})
                for _ in range(rng.choice((1, 1, 2, 3))):
                    reason = rng.choice(REASONS)
                    confidence = rng.choice((None, 0.5, 0.5, 0.75, round(rng.random(), 2)))
                    flags.append({'document_id': d, 'position': position, 'form_id': d, 'form_index': 0,
                                  'field': path, 'reason': reason, 'confidence': confidence, 'detail': '',
                                  'status': rng.choice(('open', 'open', 'open', 'resolved')),
                                  'rank': REASON_RANK[reason]})
                    position += 1
        s.execute(insert(FieldRow), fields)
        s.execute(insert(FlagRow), flags)
    return store


def check(store):
    with store.session() as s:
        user = s.scalar(select(User).where(User.name == 'rev'))
        for filters in [queries.Filters()] + [queries.Filters(reason=r) for r in REASONS[:4]]:
            everything = queries._in_order(s, user, filters, set(), set(), 10_000)
            assert everything, filters
            for size in (1, 7, 50):
                cut = []
                for offset in range(0, len(everything) + size, size):
                    cut += queries._page_deep(s, user, filters, set(), set(), offset, size)
                assert cut == everything, (filters, size)
            hide = set(list((f, p) for f, p, _ in everything)[::5])
            assert (queries._page_deep(s, user, filters, hide, set(), 0, 10_000)
                    == [x for x in everything if (x[0], x[1]) not in hide])


def test_deep_pages_are_the_queue_in_order_on_sqlite(tmp_path):
    check(fill(f'sqlite:///{tmp_path}/store.db'))


@pytest.mark.service
def test_deep_pages_are_the_queue_in_order_on_postgresql(pg_url):
    check(fill(pg_url))
