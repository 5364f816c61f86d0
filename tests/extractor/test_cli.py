"""The `extract` command as a user runs it: good and bad inputs in one call."""
import json
import os
import subprocess
import sys

import cv2
import numpy as np

from extractor import ingest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(*args):
    return subprocess.run([sys.executable, '-m', 'extractor', *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


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
                         ('truncated.pdf', 'corrupt or truncated'), ('blank.png', 'no 项目支出绩效自评表')]:
        assert any(name in e and reason in e for e in errors), (name, errors)
    doc = json.loads((out / 'form.json').read_text(encoding='utf-8'))
    assert doc['schema'] == 'perf-self-eval/1'
    assert doc['forms'][0]['project_name'] == '2024年挂职干部工作经费'
    assert doc['forms'][0]['funds'][0]['annual_budget'] == '9.793751'
    assert 'form.png: 1 form(s), 1 page(s)' in result.stdout
    html = (tmp_path / 'tables' / 'form' / 'page-001.html').read_text(encoding='utf-8')
    assert 'rowspan=' in html and '挂职干部人数' in html
    assert (tmp_path / 'debug' / 'form' / 'page-001.png').stat().st_size > 10000
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
    assert json.loads((out / 'form.json').read_text(encoding='utf-8'))['forms']
    assert not (out / 'crash.json').exists()
