"""Batches through real worker processes: Redis or the embedded SQLite broker, the
store on PostgreSQL or SQLite, workers killed and Redis restarted mid-batch."""
from __future__ import annotations

import json
import os
import time

import cv2
from sqlalchemy import select

from tests.workers.cluster import FAST_RECOVERY, wait_for
from tests.workers.conftest import copy_scans
from store.models import Document, PageRow, PageStatus, Status, utcnow


def _documents(cluster) -> list[Document]:
    with cluster.store().session() as session:
        return list(session.scalars(select(Document).order_by(Document.id)))


def _rounded(data):
    """Confidences to 4 places: OCR on one thread (a worker) or two (this process) may
    differ in the last bits of a float, nothing a reader would see."""
    if isinstance(data, float):
        return round(data, 4)
    if isinstance(data, dict):
        return {k: _rounded(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_rounded(v) for v in data]
    return data


def test_batch_through_workers_matches_in_process_extraction(
        tmp_path, redis_url, pg_database, generated_scans, make_cluster):
    from extractor import ocr, pipeline
    folder = tmp_path / 'in'
    inputs = copy_scans(generated_scans[2][:1] + generated_scans[1][:3], folder / 'sub')
    cluster = make_cluster(EXTRACTOR_BROKER_URL=redis_url, EXTRACTOR_DATABASE_URL=pg_database)
    cluster.start_worker('w1')
    cluster.start_worker('w2')

    done = cluster.cli('submit', str(folder), '--batch', 'match', '--wait', '--workers', '0')
    assert done.returncode == 0, done.stderr
    assert 'batch match: 4 extracted, 0 failed' in done.stdout

    out = tmp_path / 'out'
    exported = cluster.cli('export', 'match', '--format', 'json', '--out', str(out))
    assert exported.returncode == 0, exported.stderr
    for path in inputs:
        expected, _ = pipeline.extract_file(path, recognizer=ocr.default_recognizer())
        stem = os.path.splitext(os.path.basename(path))[0]
        with open(out / f'{stem}.json', encoding='utf-8') as fh:
            assert _rounded(json.load(fh)) == _rounded(expected.contract()), \
                f'{stem} differs from extract_file'

    # The cleaned page images are kept for review crops, at the size the store says.
    with cluster.store().session() as session:
        pages = list(session.scalars(select(PageRow)))
    assert len(pages) == 5 and all(p.status == PageStatus.DONE for p in pages)
    for page in pages:
        image = cv2.imread(page.image_path, cv2.IMREAD_UNCHANGED)
        assert image is not None and image.shape[:2] == (page.height, page.width)

    # Submitting the same files again, in this batch or another, stores nothing twice.
    before = cluster.counts()
    again = cluster.cli('submit', str(folder), '--batch', 'match-again')
    assert again.returncode == 0, again.stderr
    assert '0 document(s) queued, 4 already in the store (4 extracted)' in again.stdout
    again = cluster.cli('submit', *inputs, '--batch', 'match')
    assert '0 document(s) queued' in again.stdout
    assert cluster.counts() == before
    assert 'extracted  4' in cluster.cli('status', 'match-again').stdout


def _write_bad_files(folder, good_pdf) -> dict[str, str]:
    """The bad files of an archive, with the reason each should fail with."""
    import pypdf
    os.makedirs(folder, exist_ok=True)
    data = open(good_pdf, 'rb').read()
    with open(folder / 'truncated.pdf', 'wb') as fh:
        fh.write(data[:len(data) // 3])
    writer = pypdf.PdfWriter(clone_from=good_pdf)
    writer.encrypt(user_password='secret', owner_password='owner')
    with open(folder / 'locked.pdf', 'wb') as fh:
        writer.write(fh)
    open(folder / 'empty.pdf', 'wb').close()
    with open(folder / 'minutes.pdf', 'w', encoding='utf-8') as fh:
        fh.write('会议纪要: not a scan at all\n' * 20)
    return {'truncated.pdf': 'corrupt or truncated PDF', 'locked.pdf': 'encrypted PDF',
            'empty.pdf': 'empty file', 'minutes.pdf': 'not a PDF or image file'}


def test_bad_files_fail_with_a_reason_and_the_rest_is_extracted(
        tmp_path, redis_url, generated_scans, make_cluster):
    folder = tmp_path / 'in'
    good = copy_scans(generated_scans[1][3:5], folder)
    expected = _write_bad_files(folder, good[0])
    cluster = make_cluster(EXTRACTOR_BROKER_URL=redis_url)         # store: SQLite
    worker = cluster.start_worker('w1')

    done = cluster.cli('submit', str(folder), '--batch', 'mixed', '--wait', '--workers', '0')
    assert done.returncode == 1, 'failures make submit --wait exit 1'
    assert 'batch mixed: 2 extracted, 4 failed' in done.stdout
    for name, reason in expected.items():
        assert f'{folder / name}: {reason}' in done.stderr

    status = cluster.cli('status', 'mixed').stdout
    assert 'extracted  2' in status and 'failed     4' in status
    for name, reason in expected.items():
        assert f'{folder / name}: {reason}' in status
    # The batch report: a line per document, failures with their reason, then the total.
    assert 'TOTAL' in status and '~left' in status
    for name in expected:
        assert any(line.startswith(name[:30]) and 'failed:' in line for line in status.splitlines()), name
    by_name = {d.file_name: d for d in _documents(cluster)}
    assert {n: d.status for n, d in by_name.items()} == {
        **{n: Status.FAILED for n in expected}, **{os.path.basename(p): Status.EXTRACTED for p in good}}
    assert worker.process.poll() is None, 'bad files must not take the worker down'


def test_a_page_over_its_time_limit_fails_its_document_not_the_worker(
        tmp_path, redis_url, generated_scans, make_cluster):
    inputs = copy_scans(generated_scans[1][6:8], tmp_path / 'in')
    cluster = make_cluster(EXTRACTOR_BROKER_URL=redis_url, EXTRACTOR_PAGE_SOFT_LIMIT='0.2',
                           EXTRACTOR_PAGE_HARD_LIMIT='30', EXTRACTOR_VISIBILITY_TIMEOUT='100')
    worker = cluster.start_worker('w1')
    done = cluster.cli('submit', str(tmp_path / 'in'), '--batch', 'slow', '--wait', '--workers', '0')
    assert done.returncode == 1
    for path in inputs:
        assert f'{path}: page 1: took longer than 0.2 s (page time limit)' in done.stderr
    assert worker.process.poll() is None


def test_worker_killed_mid_batch_every_document_completes_once(
        tmp_path, redis_url, pg_database, generated_scans, make_cluster):
    inputs = copy_scans(generated_scans[1][:20], tmp_path / 'in')
    cluster = make_cluster(EXTRACTOR_BROKER_URL=redis_url, EXTRACTOR_DATABASE_URL=pg_database,
                           **FAST_RECOVERY)
    victim = cluster.start_worker('victim')
    cluster.start_worker('steady')
    submitted = cluster.cli('submit', str(tmp_path / 'in'), '--batch', 'kill')
    assert submitted.returncode == 0, submitted.stderr

    def victim_busy():
        """A page the victim started a moment ago, once a few documents are done."""
        if cluster.progress('kill').finished < 3:
            return None
        with cluster.store().session() as session:
            page = session.scalars(select(PageRow).where(
                PageRow.worker == victim.name, PageRow.status == PageStatus.RUNNING)).first()
        recent = page and (utcnow() - page.started_at).total_seconds() < 0.5
        return page.id if recent else None
    page_id = wait_for(victim_busy, 120, 'the victim worker to be in the middle of a page', interval=0.05)
    victim.kill9()
    killed_at = utcnow()
    with cluster.store().session() as session:
        assert session.get(PageRow, page_id).status == PageStatus.RUNNING, 'killed mid-page'
    cluster.start_worker('replacement')

    progress = cluster.wait_batch('kill', timeout=240)
    assert progress.documents == {Status.EXTRACTED: 20}
    counts = cluster.counts()
    assert counts['documents'] == 20 and counts['pages'] == 20 and counts['forms'] == 20
    assert sorted(d.file_name for d in _documents(cluster)) == sorted(os.path.basename(p) for p in inputs)
    with cluster.store().session() as session:
        redone = session.get(PageRow, page_id)
        assert redone.status == PageStatus.DONE and redone.attempts == 2
        assert redone.worker != victim.name
    # Sent again on the heartbeats going stale, not after Redis's visibility timeout.
    lost_for = (redone.started_at - killed_at).total_seconds()
    print(f'page lost with its worker started again {lost_for:.1f} s after the kill')
    assert lost_for < 60, lost_for


def test_redis_restart_mid_batch_loses_no_document(
        tmp_path, private_redis, generated_scans, make_cluster):
    inputs = copy_scans(generated_scans[1][4:18], tmp_path / 'in')
    cluster = make_cluster(EXTRACTOR_BROKER_URL=f'{private_redis.url}/0', **FAST_RECOVERY)  # store: SQLite
    cluster.start_worker('w1')
    cluster.start_worker('w2')
    submitted = cluster.cli('submit', str(tmp_path / 'in'), '--batch', 'restart')
    assert submitted.returncode == 0, submitted.stderr
    wait_for(lambda: cluster.progress('restart').finished >= 2, 120, 'the first documents')

    private_redis.kill()      # queued and unacknowledged tasks and chord counters are gone
    time.sleep(2)
    private_redis.start()     # empty, on the same port
    back = time.monotonic()
    done_at_restart = cluster.progress('restart').finished

    # The batch goes on soon after the broker is back (not after a long stall timeout).
    wait_for(lambda: cluster.progress('restart').finished > done_at_restart, 90,
             'a document to complete after the restart')
    print(f'first document after the broker restart: {time.monotonic() - back:.1f} s')

    progress = cluster.wait_batch('restart', timeout=240)
    assert progress.documents == {Status.EXTRACTED: len(inputs)}
    counts = cluster.counts()
    assert counts['documents'] == counts['pages'] == counts['forms'] == len(inputs)
    assert sum(d.requeues for d in _documents(cluster)) > 0, 'recovery re-sent the lost work'


def test_submit_wait_on_one_machine_needs_no_server_and_no_worker(
        tmp_path, generated_scans, make_cluster):
    folder = tmp_path / 'in'
    inputs = copy_scans(generated_scans[2][1:2] + generated_scans[1][5:6], folder)
    cluster = make_cluster()              # no EXTRACTOR_BROKER_URL: the embedded SQLite broker
    done = cluster.cli('submit', str(folder), '--batch', 'desk', '--wait', '--workers', '2')
    assert done.returncode == 0, done.stderr
    assert 'no worker is running: starting 2 local worker process(es)' in done.stderr
    assert 'batch desk: 2 extracted, 0 failed, 3 page(s) read' in done.stdout

    exported = cluster.cli('export', 'desk', '--format', 'json', '--out', str(tmp_path / 'out'))
    assert exported.returncode == 0, exported.stderr
    assert sorted(os.listdir(tmp_path / 'out')) == sorted(
        [os.path.splitext(os.path.basename(p))[0] + '.json' for p in inputs] + ['batch-report.json'])
    report = json.loads((tmp_path / 'out' / 'batch-report.json').read_text(encoding='utf-8'))
    assert sorted(d['file'] for d in report['documents']) == sorted(os.path.basename(p) for p in inputs)
    assert all(d['fields'] > 0 and d['flagged_fields'] <= d['fields'] for d in report['documents'])
    status = cluster.cli('status', 'desk').stdout
    assert 'extracted  2' in status
    assert 'workers running: 0' in status, 'the local workers stop when submit is done'
