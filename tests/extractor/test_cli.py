"""The `extract` command as a user runs it: good and bad inputs in one call; documents
from folders and manifests; names that never clash; --resume and --jobs."""
import glob
import json
import os
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from extractor import ingest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(*args, module='extractor'):
    return subprocess.run([sys.executable, '-m', module, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def output(folder, stem, suffix='.json'):
    """The one output of an input stem: <stem>-<8 hex digits of its sha256><suffix>."""
    found = glob.glob(os.path.join(str(folder), f'{glob.escape(stem)}-' + '[0-9a-f]' * 8 + suffix))
    assert len(found) == 1, (stem, os.listdir(folder))
    return found[0]


def read(path):
    with open(path, encoding='utf-8') as fh:
        return json.load(fh)


@pytest.fixture(scope='module')
def pages(data_dir):
    """The first two pages of the clean sample as images (BGR)."""
    path = os.path.join(data_dir, 'samples', 'samples_clean.pdf')
    return [ingest.load_page(path, n, 200).image for n in (1, 2)]


def test_bad_inputs_fail_alone_with_one_line_each(tmp_path, data_dir):
    page = ingest.load_page(os.path.join(data_dir, 'samples', 'samples_clean.pdf'), 1, 200)
    cv2.imwrite(str(tmp_path / 'form.png'), page.image)
    (tmp_path / 'empty.pdf').write_bytes(b'')
    (tmp_path / 'letter.pdf').write_text('Dear archivist, this is not a PDF.')
    (tmp_path / 'truncated.pdf').write_bytes(b'%PDF-1.4\n1 0 obj\n<< /Type /Catalog')
    cv2.imwrite(str(tmp_path / 'blank.png'), np.full((800, 600), 255, np.uint8))
    out = tmp_path / 'out'
    result = run('extract', str(tmp_path), '--out', str(out), '--tables', str(tmp_path / 'tables'),
                 '--debug', str(tmp_path / 'debug'))
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith('error:')]
    assert len(errors) == 4, result.stderr
    assert 'Traceback' not in result.stderr
    for name, reason in [('empty.pdf', 'empty file'), ('letter.pdf', 'not a PDF or image'),
                         ('truncated.pdf', 'corrupt or truncated'), ('blank.png', 'not a known form (no ruled table, blank page)')]:
        assert any(name in e and reason in e for e in errors), (name, errors)
    doc = read(output(out, 'form'))
    assert doc['schema'] == 'perf-self-eval/1'
    assert doc['forms'][0]['project_name'] == '2024年挂职干部工作经费'
    assert doc['forms'][0]['funds'][0]['annual_budget'] == '9.793751'
    assert 'form.png: 1 form(s), 1 page(s)' in result.stdout
    name = os.path.basename(output(out, 'form'))[:-len('.json')]
    html = (tmp_path / 'tables' / name / 'page-001.html').read_text(encoding='utf-8')
    assert 'rowspan=' in html and '挂职干部人数' in html
    assert (tmp_path / 'debug' / name / 'page-001.png').stat().st_size > 10000
    # The batch report: every input has a line, failures with their reason.
    batch = json.loads((out / 'batch-report.json').read_text(encoding='utf-8'))
    by_file = {d['file']: d for d in batch['documents']}
    assert set(by_file) == {'form.png', 'empty.pdf', 'letter.pdf', 'truncated.pdf', 'blank.png'}
    assert by_file['form.png']['fields'] > 30 and by_file['form.png']['error'] is None
    assert 'empty file' in by_file['empty.pdf']['error']
    assert 'TOTAL' in result.stdout and '~left' in result.stdout


def test_an_unexpected_error_fails_its_file_alone_with_the_traceback_in_a_log(
        tmp_path, data_dir, monkeypatch, capsys):
    from extractor import cli, pipeline
    page = ingest.load_page(os.path.join(data_dir, 'samples', 'samples_clean.pdf'), 1, 200)
    folder = tmp_path / 'in'
    folder.mkdir()
    cv2.imwrite(str(folder / 'form.png'), page.image)
    cv2.imwrite(str(folder / 'crash.png'), page.image[:-1])
    real_process_page = pipeline.process_page

    def process_page(page, *args, **kwargs):
        if page.source.endswith('crash.png'):        # a stage meeting what it cannot take
            cv2.resize(np.zeros((0, 0), np.uint8), (0, 0))
        return real_process_page(page, *args, **kwargs)
    monkeypatch.setattr(pipeline, 'process_page', process_page)
    out = tmp_path / 'out'
    code = cli.main(['extract', str(folder), '--out', str(out), '--engine', 'tiny', '-q'])
    captured = capsys.readouterr()
    assert code == 1
    assert f"error: {folder / 'crash.png'}: page 1: internal error (cv2.error: image operation " \
           f"'resize' failed)" in captured.err.splitlines()
    assert 'Traceback' not in captured.err and 'OpenCV' not in captured.err
    log = (out / 'extract-errors.log').read_text(encoding='utf-8')
    assert 'Traceback' in log and 'crash.png' in log and 'Assertion failed' in log
    assert read(output(out, 'form'))['forms']
    assert not glob.glob(str(out / 'crash*.json'))


def test_a_folder_of_page_images_is_one_document_in_natural_order(tmp_path, pages):
    folder = tmp_path / 'box-7'
    folder.mkdir()
    # Natural order: p2 (the sample's page 1) before p10 (its page 2); by plain sorting
    # p10 would come first.
    cv2.imwrite(str(folder / 'p2.png'), pages[0])
    cv2.imwrite(str(folder / 'p10.png'), pages[1])
    out = tmp_path / 'out'
    result = run('extract', str(folder), '--group', 'folder', '--out', str(out), '--engine', 'tiny')
    assert result.returncode == 0, result.stderr
    doc = read(output(out, 'box-7'))
    assert doc['source']['pages'] == 2 and doc['source']['file'] == 'box-7'
    assert [f['pages'] for f in doc['forms']] == [[1], [2]]
    assert doc['forms'][0]['project_name'] == '2024年挂职干部工作经费'
    assert 'box-7: 2 form(s), 2 page(s)' in result.stdout
    assert len([n for n in os.listdir(out) if n.endswith('.json')]) == 2      # and batch-report.json


def test_a_manifest_makes_documents_and_its_metadata_travels(tmp_path, pages):
    scans = tmp_path / 'scans'
    scans.mkdir()
    cv2.imwrite(str(scans / 'a.png'), pages[1])
    cv2.imwrite(str(scans / 'b.png'), pages[0])
    cv2.imwrite(str(scans / 'c.png'), pages[0][:, :-2])
    manifest = tmp_path / 'manifest.csv'
    # UTF-8 with a BOM, as Excel saves it; the page column orders b.png before a.png.
    manifest.write_bytes('file,document,page,档号,box\n'
                         'scans/a.png,丰台-001,2,A-2024-001,7\n'
                         'scans/b.png,丰台-001,1,A-2024-001,7\n'
                         'scans/c.png,丰台-002,1,A-2024-002,8\n'.encode('utf-8-sig'))
    out = tmp_path / 'out'
    result = run('extract', '--manifest', str(manifest), '--out', str(out), '--engine', 'tiny')
    assert result.returncode == 0, result.stderr
    first, second = read(output(out, '丰台-001')), read(output(out, '丰台-002'))
    assert first['source']['metadata'] == {'档号': 'A-2024-001', 'box': '7'}
    assert second['source']['metadata'] == {'档号': 'A-2024-002', 'box': '8'}
    assert first['source']['pages'] == 2 and first['forms'][0]['project_name'] == '2024年挂职干部工作经费'
    assert first['source']['file'] == '丰台-001'


def test_two_inputs_with_the_same_name_keep_two_outputs(tmp_path, pages):
    for folder, image in (('a', pages[0]), ('b', pages[1])):
        (tmp_path / 'in' / folder).mkdir(parents=True)
        cv2.imwrite(str(tmp_path / 'in' / folder / 'form.png'), image)
    out, tables = tmp_path / 'out', tmp_path / 'tables'
    result = run('extract', str(tmp_path / 'in'), '--out', str(out), '--tables', str(tables),
                 '--engine', 'tiny', '--jobs', '2')
    assert result.returncode == 0, result.stderr
    written = sorted(glob.glob(str(out / 'form-*.json')))
    assert len(written) == 2
    names = {read(p)['forms'][0]['project_name'] for p in written}
    assert names == {'2024年挂职干部工作经费', '丰台区800兆无线政务网运维费'}
    assert len(os.listdir(tables)) == 2


def test_resume_skips_what_is_done_and_redoes_what_was_cut_short(tmp_path, pages):
    folder = tmp_path / 'in'
    folder.mkdir()
    for i in range(3):
        image = pages[0].copy()
        image[0, 0] = (i, i, i)              # three inputs, three contents
        cv2.imwrite(str(folder / f'scan{i}.png'), image)
    out = tmp_path / 'out'
    first = run('extract', str(folder), '--out', str(out), '--engine', 'tiny')
    assert first.returncode == 0, first.stderr
    kept = {stem: os.stat(output(out, stem)).st_mtime_ns for stem in ('scan0', 'scan2')}
    # As a run killed half way leaves it: scan1's JSON gone, a half-written one beside it
    # (a process that no longer exists), which must neither count as done nor stay.
    lost = output(out, 'scan1')
    os.unlink(lost)
    with open(f'{lost}.999999999.tmp', 'w') as fh:
        fh.write('{"schema": ')
    time.sleep(0.01)
    again = run('extract', str(folder), '--out', str(out), '--engine', 'tiny', '--resume', '--jobs', '2')
    assert again.returncode == 0, again.stderr
    assert [line.split(':')[0] for line in again.stdout.splitlines() if ' form(s), ' in line] == ['scan1.png']
    assert 'resume: 2 document(s) done before, skipped' in again.stdout
    assert read(lost)['forms'][0]['project_name'] == '2024年挂职干部工作经费'
    assert {stem: os.stat(output(out, stem)).st_mtime_ns for stem in ('scan0', 'scan2')} == kept
    assert not [n for n in os.listdir(out) if '.tmp' in n]
    report = read(out / 'batch-report.json')
    assert sorted(d['file'] for d in report['documents']) == ['scan0.png', 'scan1.png', 'scan2.png']


def test_jobs_run_documents_in_worker_processes_and_a_bad_one_fails_alone(tmp_path, pages):
    folder = tmp_path / 'in'
    folder.mkdir()
    cv2.imwrite(str(folder / 'one.png'), pages[0])
    cv2.imwrite(str(folder / 'two.png'), pages[1])
    (folder / 'broken.pdf').write_bytes(b'%PDF-1.4\n1 0 obj\n<< /Type /Catalog')
    out = tmp_path / 'out'
    result = run('extract', str(folder), '--out', str(out), '--engine', 'tiny', '--jobs', '2', '--progress')
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith('error:')]
    assert len(errors) == 1 and errors[0].startswith(f'error: {folder / "broken.pdf"}: '), result.stderr
    assert 'corrupt or truncated' in errors[0]
    assert read(output(out, 'one'))['forms'] and read(output(out, 'two'))['forms']
    # One bar for the run: files done of 3, pages a second.
    assert '3/3' in result.stderr and 'pages/s' in result.stderr
    assert 'Traceback' not in result.stderr


def test_queue_commands_live_in_the_umbrella_command(tmp_path, capsys):
    from extractor import cli
    assert cli.main(['submit', str(tmp_path)]) == 2           # not the extractor's own
    assert 'perf-extract submit' in capsys.readouterr().err
    result = run('status', '--data-dir', str(tmp_path / 'var'), module='perf_extract')
    assert result.returncode == 0, result.stderr
    assert 'no batches yet' in result.stdout
    assert (tmp_path / 'var' / 'extractor.db').exists()
    # `python -m extractor status` (older scripts, the docker files) is handed over.
    result = run('status', '--data-dir', str(tmp_path / 'var2'))
    assert result.returncode == 0 and 'no batches yet' in result.stdout, result.stderr
