"""The team's bookkeeping on PostgreSQL, where requests really run in parallel: login
tries counted before the password check, claims taken by one reviewer only, and the
queue, on a store filled by a real pipeline run."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from review import claims, queries, throttle
from review.users import add_user, assign
from tests.review.conftest import PASSWORD
from tests.review.corpus import BATCH, populate
from tests.review.helpers import open_flags
from store.models import User, utcnow

# The machine's PostgreSQL (tests/conftest.py groups tests by fixture; pg_url is this
# directory's own).
pytestmark = pytest.mark.service


def _together(n: int, work) -> list:
    barrier, results, lock = threading.Barrier(n), [], threading.Lock()

    def run(i):
        barrier.wait()
        value = work(i)
        with lock:
            results.append(value)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_parallel_tries_and_claims_on_postgresql(pg_url, corpus_dirs):
    corpus, _data_dir = corpus_dirs
    store, _ids = populate(pg_url, corpus)
    with store.session(write=True) as s:
        for name in ('ana', 'ben'):
            add_user(s, name, PASSWORD)
            assign(s, name, BATCH)

    def take(_i):
        with store.session(write=True) as s:
            return throttle.take_account_try(s, 'ana', utcnow())
    assert sum(_together(40, take)) == throttle.ACCOUNT_LIMIT

    with store.session() as s:
        users = {u.name: u for u in s.scalars(select(User))}
        for u in users.values():
            s.expunge(u)
    # The queue lists every flagged field of the batch.
    with store.session() as s:
        items, total = queries.page(s, users['ana'], queries.Filters())
    assert total == len({(f.form_id, f.field) for f in open_flags(store)}) and len(items) == min(total, 50)

    # Ten rounds of both reviewers asking for their first item at once: never the same.
    for _ in range(10):
        def first(i):
            with store.session(write=True) as s:
                item, _ = queries.claim_item_at(s, users[('ana', 'ben')[i]], queries.Filters(), 0)
                return i, (item.form_id, item.path)
        (_, anas), (_, bens) = sorted(_together(2, first))
        assert anas != bens
    # ben cannot take ana's item while her claim lasts; once it has expired he can.
    with store.session(write=True) as s:
        assert not claims.claim(s, users['ben'].id, *anas)
        assert claims.claim(s, users['ben'].id, *anas, now=utcnow() + claims.CLAIM_TIME * 2)
