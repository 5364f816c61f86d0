"""Hostile and unlucky inputs through `extract` and through the queue (`submit --wait`
on the embedded broker, with real local workers): every file ends as a result or a
one-line error, nothing prints a traceback, the good files beside them are extracted,
and no poppler process outlives its input."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from extractor.errors import printable
from tests.hostile.corpus import poppler_processes, write_corpus

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# About a minute and a half: local workers and two good scans through the pipeline.
pytestmark = pytest.mark.slow
# Short limits, so the render bombs cost seconds, not the default minute.
LIMITS = {'EXTRACTOR_RENDER_TIMEOUT': '5', 'EXTRACTOR_OCR_ENGINE': 'tiny'}


@pytest.fixture(scope='module')
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp('hostile') / 'in'
    items = write_corpus(str(folder), count=48, seed=3)
    return str(folder), items


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith('EXTRACTOR_')}
    env.update(LIMITS, PYTHONPATH=ROOT, **extra)
    return env


def _listed(folder: str, items) -> list[str]:
    """The inputs a folder argument stands for (a folder named x.pdf is a folder)."""
    paths = [os.fsdecode(os.path.join(os.fsencode(folder), item.name)) for item in items]
    return [p for p in paths if not os.path.isdir(p)]


def test_extract_survives_every_hostile_input(corpus, tmp_path):
    folder, items = corpus
    out = tmp_path / 'out'
    done = subprocess.run([sys.executable, '-m', 'extractor', 'extract', folder, '--out', str(out)],
                          cwd=ROOT, env=_env(), capture_output=True, timeout=900)
    stdout = done.stdout.decode('utf-8', 'replace')
    stderr = done.stderr.decode('utf-8', 'replace')
    assert done.returncode == 1, stderr[-3000:]
    assert 'Traceback' not in stderr and 'Traceback' not in stdout
    errors = [line for line in stderr.splitlines() if line.startswith('error: ')]
    summaries = [line for line in stdout.splitlines() if ' form(s), ' in line]
    for path in _listed(folder, items):
        shown = printable(path)
        failed = [e for e in errors if e.startswith(f'error: {shown}: ')]
        read = [s for s in summaries if s.startswith(printable(os.path.basename(path)) + ': ')]
        assert len(failed) + len(read) >= 1, f'{shown} has neither a result nor an error line'
    # One line per failure, in plain words.
    for line in errors:
        assert 'OpenCV' not in line and '(-215' not in line, line
    # The good scans are extracted, one of them under a name that is not UTF-8.
    for item in (i for i in items if i.good):
        stem = os.path.splitext(item.name)[0]
        # Outputs are named <stem>-<first 8 hex digits of the input's sha256>.json.
        (name,) = [n for n in os.listdir(os.fsencode(str(out)))
                   if n.startswith(stem + b'-') and n.endswith(b'.json') and len(n) == len(stem) + 14]
        with open(os.path.join(os.fsencode(str(out)), name), 'rb') as fh:
            data = json.load(fh)
        assert data['forms'] and data['forms'][0]['project_name'], item.name
    assert not [n for n in os.listdir(out) if n.endswith('.tmp')], 'no half-written JSON left'
    report = json.loads((out / 'batch-report.json').read_text(encoding='utf-8'))
    assert len(report['documents']) == len(_listed(folder, items))
    assert poppler_processes(folder) == []


@pytest.mark.service          # Celery worker processes (on the embedded broker)
def test_queue_survives_every_hostile_input(corpus, tmp_path):
    folder, items = corpus
    data_dir = tmp_path / 'var'
    # The soft time limit (not the render timeout) stops the render bombs here: the
    # page task must kill pdftoppm's process group on its way out.
    env = _env(EXTRACTOR_DATA_DIR=str(data_dir), EXTRACTOR_RENDER_TIMEOUT='60',
               EXTRACTOR_PAGE_SOFT_LIMIT='12', EXTRACTOR_PAGE_HARD_LIMIT='40')
    done = subprocess.run([sys.executable, '-m', 'workers', 'submit', folder, '--batch', 'hostile',
                           '--wait', '--workers', '2', '-q'],
                          cwd=ROOT, env=env, capture_output=True, timeout=900)
    stdout = done.stdout.decode('utf-8', 'replace')
    stderr = done.stderr.decode('utf-8', 'replace')
    assert done.returncode == 1, stderr[-3000:]
    assert 'Traceback' not in stderr and 'Traceback' not in stdout
    errors = [line for line in stderr.splitlines() if line.startswith('error: ')]
    from sqlalchemy import select

    from extractor.pipeline import sha256_of
    from store.db import open_store
    from store.models import Document, Status
    store = open_store(f'sqlite:///{data_dir}/extractor.db')
    with store.session() as session:
        documents = {d.sha256: (d.file_name, d.status, d.error) for d in session.scalars(select(Document))}
    for name, status, error in documents.values():
        assert status in Status.FINAL, (name, status)
        if status == Status.FAILED:
            assert error and '\n' not in error and 'OpenCV' not in error, (name, error)
    # Every input is a document (files of equal content are one) or was refused at
    # submit with a one-line reason (a pipe, a device, a name that is not UTF-8).
    for path in _listed(folder, items):
        if any(line.startswith(f'error: {printable(path)}: ') for line in errors):
            continue
        assert sha256_of(path) in documents, printable(path)
    by_name = {name: (status, error) for name, status, error in documents.values()}
    assert by_name['good-form.pdf'][0] == Status.EXTRACTED
    assert 'took longer than 12 s' in by_name['render-bomb.pdf'][1]
    assert poppler_processes(folder) == []
