"""The store on SQLite and PostgreSQL, without workers: migrations, submitting twice,
corrections, and what the exports contain."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import inspect, select

from models import Document, Flag
from tests.workers.cluster import ROOT
from store import tracking
from store.db import open_store
from store.models import Document as DocumentRow, FieldRow, FormRow, Status

TABLES = {'batches', 'batch_items', 'documents', 'pages', 'forms', 'fields', 'flags',
          'corrections', 'users', 'workers', 'leases', 'alembic_version', 'acceptances', 'key_entries'}


@pytest.fixture(params=['sqlite', 'postgresql'])
def database_url(request, tmp_path):
    if request.param == 'sqlite':
        return f'sqlite:///{tmp_path}/store.db'
    return request.getfixturevalue('pg_database')


def test_a_new_database_is_migrated_by_many_processes_at_once(database_url):
    # Workers on several machines start together against one empty database.
    code = 'import sys; from store.db import open_store; open_store(sys.argv[1])'
    starts = [subprocess.Popen([sys.executable, '-c', code, database_url], cwd=ROOT,
                               env=dict(os.environ, PYTHONPATH=ROOT), stderr=subprocess.PIPE, text=True)
              for _ in range(4)]
    for process in starts:
        assert process.wait(timeout=120) == 0, process.stderr.read()
    store = open_store(database_url)
    assert TABLES <= set(inspect(store.engine).get_table_names())
    with store.engine.connect() as connection:
        versions = connection.exec_driver_sql('SELECT version_num FROM alembic_version').all()
    from alembic.script import ScriptDirectory
    from store.db import MIGRATIONS_DIR
    assert versions == [(ScriptDirectory(MIGRATIONS_DIR).get_current_head(),)]


def _file(path, content: bytes, sha: str) -> tracking.SubmittedFile:
    with open(path, 'wb') as fh:
        fh.write(content)
    return tracking.SubmittedFile(str(path), sha, len(content))


def test_the_same_content_is_one_document_whatever_its_name_or_batch(database_url, tmp_path):
    store = open_store(database_url)
    first = _file(tmp_path / 'a.pdf', b'%PDF one', 'a' * 64)
    copy = _file(tmp_path / 'copy-of-a.pdf', b'%PDF one', 'a' * 64)
    other = _file(tmp_path / 'b.pdf', b'%PDF two', 'b' * 64)

    outcome = tracking.register(store, 'monday', [first, copy, other])
    assert len(outcome.to_queue) == 2
    again = tracking.register(store, 'tuesday', [copy, other])
    assert again.to_queue == [] and again.already == {Status.QUEUED: 2}
    with store.session() as session:
        assert len(session.scalars(select(DocumentRow)).all()) == 2

    tracking.fail_document(store, outcome.to_queue[1], 'corrupt or truncated PDF')
    assert tracking.register(store, 'tuesday', [other]).to_queue == []
    retried = tracking.register(store, 'tuesday', [other], retry_failed=True)
    assert retried.to_queue == [outcome.to_queue[1]]
    with store.session() as session:
        assert session.get(DocumentRow, outcome.to_queue[1]).status == Status.QUEUED


def _truth_document() -> Document:
    with open(os.path.join(ROOT, 'tests', 'data', 'samples', 'samples_clean.truth.json'), encoding='utf-8') as fh:
        document = Document.model_validate(json.load(fh))
    document.review = [
        Flag(form=1, field='funds.0.annual_budget', value='396.267529', reason='split_number',
             confidence=0.62, page=2, bbox=[812, 430, 960, 470], detail='two lines'),
        Flag(form=1, field='indicators.2.actual', value='12', reason='low_confidence',
             confidence=0.41, page=2, detail='OCR confidence 0.41'),
    ]
    return document


def _stored_batch(store, tmp_path, document: Document) -> int:
    scan = _file(tmp_path / 'fengtai-2024.pdf', b'%PDF scan', document.source.sha256)
    (document_id,) = tracking.register(store, 'archive', [scan]).to_queue
    tracking.set_pages(store, document_id, document.source.pages)
    assert tracking.store_document(store, document_id, document, None, {'assemble': 0.01})
    # A second assembly of the same document (a redelivered task) changes nothing.
    assert not tracking.store_document(store, document_id, document, None, {})
    return document_id


def test_corrections_show_in_the_json_export_and_resolve_their_flag(database_url, tmp_path):
    from workers.export import export
    from store.results import correct_field
    store = open_store(database_url)
    truth = _truth_document()
    document_id = _stored_batch(store, tmp_path, truth)
    with store.session(write=True) as session:
        field = session.scalar(select(FieldRow).join(FormRow).where(
            FormRow.document_id == document_id, FormRow.form_index == 1,
            FieldRow.path == 'indicators.2.actual'))
        correction = correct_field(session, field.id, '12.5', 'archivist-li')
        assert (correction.old_value, correction.new_value) == (truth.forms[1].indicators[2].actual, '12.5')

    (written,) = export(store, 'archive', 'json', str(tmp_path / 'out'))
    assert os.path.basename(written) == 'fengtai-2024.json'
    with open(written, encoding='utf-8') as fh:
        exported = json.load(fh)
    expected = truth.contract()
    expected['forms'][1]['indicators'][2]['actual'] = '12.5'
    expected['review'] = [expected['review'][0]]
    assert exported == expected


# What the CSV and XLSX exports hold: tests/workers/test_export.py.


def test_settings_refuse_a_visibility_timeout_shorter_than_a_task(monkeypatch):
    from tests.workers.cluster import QUEUE_SETTINGS
    from workers.settings import Settings
    for name in QUEUE_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('EXTRACTOR_PAGE_HARD_LIMIT', '300')
    monkeypatch.setenv('EXTRACTOR_VISIBILITY_TIMEOUT', '200')
    with pytest.raises(ValueError, match='VISIBILITY_TIMEOUT'):
        Settings.from_env()
    monkeypatch.delenv('EXTRACTOR_VISIBILITY_TIMEOUT')
    settings = Settings.from_env()
    assert settings.visibility_timeout > settings.page_hard_limit + 60
    assert settings.broker_url.startswith('sqla+sqlite:///') and settings.embedded
