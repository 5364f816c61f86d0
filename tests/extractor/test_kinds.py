"""Form kinds as data: kinds are told apart by their titles, pages of no known kind are
turned away, and a kind that exists only as a file in this folder (tests/data/kinds)
runs through the pipeline and the validator with no code of its own."""
import copy
import os

import pytest

from extractor import layout, pipeline, validate
from models import Form, TextLine
from models.template import register_template, template_for, templates, unregister_template

from conftest import DATA, ROOT
from drawing import cjk_font, ruled_table
from template_render import render_form

TOY = os.path.join(DATA, 'kinds', 'equipment_acceptance.toml')
TOY_FORM = {
    'title': '设备验收评分表', 'year': '2025', 'device_name': '全自动生化分析仪', 'user_unit': '区疾病预防控制中心',
    'costs': [{'item': '合计', 'budget': '128.5', 'paid': '120', 'rate': '93.39%'},
              {'item': '其中：设备费', 'budget': '110', 'paid': '110', 'rate': '100%'},
              {'item': '安装费', 'budget': '18.5', 'paid': '10', 'rate': '54.05%'}],
    'checks': [{'item': '外观及配件', 'standard': '齐全无损', 'weight': '20', 'score': '20'},
               {'item': '技术参数', 'standard': '符合合同', 'weight': '40', 'score': '38'},
               {'item': '培训与资料', 'standard': '完成培训', 'weight': '40', 'score': '35'}],
    'total': {'weight': '100', 'score': '93'},
}
DEPT_FORM = {
    'title': '部门整体支出绩效自评表', 'year': '2024', 'department': '北京市丰台区卫生健康委员会',
    'funds': [{'item': '年度资金总额', 'initial_budget': '5200', 'annual_budget': '5480.5', 'executed': '5402.3',
               'weight': '10', 'execution_rate': '98.57%', 'score': '9.86'},
              {'item': '其中：基本支出', 'initial_budget': '3100', 'annual_budget': '3200', 'executed': '3180.3',
               'weight': '—', 'execution_rate': '99.38%', 'score': '—'},
              {'item': '项目支出', 'initial_budget': '2100', 'annual_budget': '2280.5', 'executed': '2222',
               'weight': '—', 'execution_rate': '97.43%', 'score': '—'}],
    'goals': {'expected': '完成年度重点工作任务', 'actual': '全面完成年度重点工作'},
    'indicators': [
        {'level1': '产出指标', 'level2': '数量指标', 'level3': '重点工作完成数', 'target': '12项',
         'actual': '12项', 'weight': '30', 'score': '30', 'deviation_note': None},
        {'level1': '效益指标', 'level2': '社会效益指标', 'level3': '公共卫生服务覆盖率', 'target': '≥95%',
         'actual': '96%', 'weight': '30', 'score': '30', 'deviation_note': None},
        {'level1': '满意度指标', 'level2': '服务对象满意度指标', 'level3': '群众满意度', 'target': '≥90%',
         'actual': '92%', 'weight': '30', 'score': '28', 'deviation_note': None}],
    'total': {'weight': '100', 'score': '97.86'},
}


@pytest.fixture
def toy_kind():
    template = register_template(TOY)
    yield template
    unregister_template(template.schema_id)


def _scan(tmp_path, images, name='scan.pdf'):
    path = str(tmp_path / name)
    images[0].save(path, resolution=200, save_all=True, append_images=images[1:])
    return path


def _values(form: dict, template) -> dict:
    return {path: form_get(form, path) for path in template.field_paths(
        len(form.get(template.rows.key) or []) if template.rows else 0,
        len(form.get(template.table.key) or []) if template.table else 0)}


def form_get(form, path):
    node = form
    for part in path.split('.'):
        node = node[int(part)] if isinstance(node, list) else (node or {}).get(part)
    return node


def test_titles_name_their_kind_and_near_titles_do_not():
    def line(text):
        return TextLine(text=text, confidence=0.99, bbox=[0, 0, 100, 20])
    kinds = templates()
    assert layout.title_kind([line('项目支出绩效自评表')], kinds).template.kind == 'project'
    assert layout.title_kind([line('部门整体支出绩效自评表')], kinds).template.kind == 'department'
    assert layout.title_kind([line('附件1 部门整体支出绩效自评表（2024年度）')], kinds).template.kind == 'department'
    # One character misread still names the kind, by a clear margin over the other.
    assert layout.title_kind([line('部门整休支出绩效自评表')], kinds).template.kind == 'department'
    assert layout.title_kind([line('资产清查明细表')], kinds) is None
    assert layout.title_kind([line('项目支出绩效目标表')], kinds) is None


def test_toy_kind_from_a_file_runs_through_pipeline_and_validator(tmp_path, toy_kind, recognizer):
    path = _scan(tmp_path, [render_form(toy_kind, TOY_FORM)])
    doc, _ = pipeline.extract_file(path, recognizer=recognizer)
    assert [f.schema_id for f in doc.forms] == ['equipment-acceptance/1']
    got = doc.contract()['forms'][0]
    assert list(got) == ['schema', 'title', 'year', 'pages', 'device_name', 'user_unit', 'costs', 'checks', 'total']
    assert _values(got, toy_kind) == _values(TOY_FORM, toy_kind)
    assert doc.review == [] and doc.unmatched_pages == []

    # The kind's own rules: a score over its weight and a total that does not add up.
    form = doc.forms[0]
    form.set('checks.1.score', '45')
    flags = validate.check_form(form, 0)
    assert {(f.field, f.reason) for f in flags} >= {('checks.1.score', 'arithmetic'), ('total.score', 'arithmetic')}


def test_department_form_read_by_its_template(tmp_path, recognizer):
    dept = template_for('dept-self-eval/1')
    path = _scan(tmp_path, [render_form(dept, DEPT_FORM)])
    doc, _ = pipeline.extract_file(path, recognizer=recognizer)
    assert [(f.schema_id, f.title) for f in doc.forms] == [('dept-self-eval/1', '部门整体支出绩效自评表')]
    got = doc.contract()['forms'][0]
    assert 'project_name' not in got and 'implementing_unit' not in got
    assert _values(got, dept) == _values(DEPT_FORM, dept)


def test_pages_of_no_known_kind_are_turned_away(tmp_path, toy_kind, recognizer):
    from PIL import Image
    blank = Image.new('L', (1654, 2339), 255)
    toy = render_form(toy_kind, TOY_FORM)
    path = _scan(tmp_path, [_english_table(), toy, blank])
    doc, _ = pipeline.extract_file(path, recognizer=recognizer)
    assert [f.pages for f in doc.forms] == [[2]]
    assert [u.page for u in doc.unmatched_pages] == [1, 3]
    assert all(u.reason.startswith('not a known form') for u in doc.unmatched_pages)


def test_empty_part_of_a_sum_is_checked_as_printed():
    form = Form.model_validate(copy.deepcopy(DEPT_FORM) | {'schema': 'dept-self-eval/1'})
    assert validate.check_form(form, 0) == []
    form.set('indicators.2.score', None)
    flags = {(f.field, f.reason) for f in validate.check_form(form, 0)}
    assert ('indicators.2.score', 'missing') in flags
    assert ('total.score', 'arithmetic') in flags


def test_rate_printed_as_100_percent_when_less_was_executed_fails():
    form = Form.model_validate(copy.deepcopy(DEPT_FORM) | {'schema': 'dept-self-eval/1'})
    form.set('funds.1.executed', '3199.2')           # 99.975% of 3200, printed 100%
    form.set('funds.1.execution_rate', '100%')
    flags = {(f.field, f.reason) for f in validate.check_form(form, 0)}
    assert ('funds.1.execution_rate', 'arithmetic') in flags


def _english_table():
    from PIL import Image, ImageDraw
    english = Image.fromarray(ruled_table(1654, 1400, rows=(300, 380, 460, 540, 620),
                                          cols=(150, 600, 1000, 1500)))
    draw = ImageDraw.Draw(english)
    draw.text((600, 200), 'Inventory of assets', font=cjk_font(40), fill=0)
    for j, head in enumerate(('Name', 'Date', 'Amount')):
        draw.text(((150, 600, 1000)[j] + 20, 320), head, font=cjk_font(30), fill=0)
    return english.convert('L')


def test_extract_reports_turned_away_pages_and_fails_a_file_of_no_known_form(tmp_path, toy_kind):
    """From the command line, with the toy kind registered by EXTRACTOR_TEMPLATES."""
    import json
    import subprocess
    import sys
    mixed = _scan(tmp_path, [_english_table(), render_form(toy_kind, TOY_FORM)], 'mixed.pdf')
    other = _scan(tmp_path, [_english_table()], 'other.pdf')
    env = dict(os.environ, EXTRACTOR_TEMPLATES=os.path.dirname(TOY))
    run = subprocess.run([sys.executable, '-m', 'extractor', 'extract', mixed, other, '--out', str(tmp_path / 'out')],
                         capture_output=True, text=True, env=env, cwd=ROOT)
    assert run.returncode == 1, run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith('error:')]
    assert any('mixed.pdf: page 1: not a known form' in line for line in errors), errors
    assert any('other.pdf: not a known form' in line for line in errors), errors
    outputs = [json.load(open(p, encoding='utf-8')) for p in (tmp_path / 'out').glob('*.json')]
    docs = [d for d in outputs if 'forms' in d]
    assert len(docs) == 1 and [f['schema'] for f in docs[0]['forms']] == ['equipment-acceptance/1']
    assert docs[0]['unmatched_pages'][0]['page'] == 1


def test_toy_kind_is_exported_and_shown_for_review_by_its_template(tmp_path, toy_kind, recognizer):
    """The queue's store, the workbook and CSV, and the review app's form view of a
    kind none of their code names."""
    import csv

    import cv2
    from openpyxl import load_workbook

    from review.app import create_app
    from review.users import add_user, assign
    from store.models import FormRow
    from tests.review.corpus import ScannedDocument, populate
    from workers.export import export, read_csv

    path = _scan(tmp_path, [render_form(toy_kind, TOY_FORM)], 'toy.pdf')
    data_dir = tmp_path / 'data'
    pages = []

    def keep_page(page, result, artifacts):
        png = str(data_dir / 'pages' / f'page-{result.number}.png')
        os.makedirs(os.path.dirname(png), exist_ok=True)
        cv2.imwrite(png, artifacts.gray)
        h, w = artifacts.gray.shape[:2]
        pages.append((result.number, result.model_dump(mode='json'), png, w, h, page.dpi))
    doc, _ = pipeline.extract_file(path, recognizer=recognizer, on_page=keep_page)
    doc.forms[0].set('checks.1.score', '45')        # a value the kind's rules flag
    doc.review = validate.check_form(doc.forms[0], 0)
    sha = pipeline.sha256_of(path)
    url = f'sqlite:///{tmp_path}/store.db'
    store, _ = populate(url, [ScannedDocument(path, sha, os.path.getsize(path), doc, pages)], batch='toys')
    with store.session() as s:
        form_row = s.query(FormRow).one()
        assert (form_row.schema, form_row.name) == ('equipment-acceptance/1', '全自动生化分析仪')
        form_id = form_row.id

    (xlsx,) = export(store, 'toys', 'xlsx', str(tmp_path / 'xlsx'))
    book = load_workbook(xlsx)
    assert book.sheetnames == ['汇总', '基本信息', '验收资金', '验收项目', '总分', '待复核', '更正记录']
    assert [c.value for c in book['验收资金'][1]] == ['文件', '表序号', '设备名称', '验收资金（元）', '预算金额',
                                                   '实付金额', '支付率']
    paid = [row[5].value for row in book['验收资金'].iter_rows(min_row=2)]
    assert paid == [120, 110, 10]                     # numbers a spreadsheet can add up
    checks = list(book['验收项目'].iter_rows(min_row=2, values_only=True))
    assert [r[3] for r in checks] == ['外观及配件', '技术参数', '培训与资料']
    flagged = book['验收项目'].cell(row=3, column=7)     # 技术参数's 得分, flagged arithmetic
    assert flagged.value == 45 and flagged.fill.fgColor.rgb.endswith('FFD966') and '计算不符' in flagged.comment.text
    (csv_path,) = export(store, 'toys', 'csv', str(tmp_path / 'csv'))
    with open(csv_path, encoding='utf-8-sig', newline='') as fh:
        assert list(csv.DictReader(fh))[0]['设备名称'] == '全自动生化分析仪'
    rows = read_csv(csv_path)
    assert {r['row'] for r in rows} == {'costs', 'checks', 'total'}
    assert [r['paid'] for r in rows if r['row'] == 'costs'] == ['120', '110', '10']
    assert rows[0]['device_name'] == '全自动生化分析仪' and rows[0]['user_unit'] == '区疾病预防控制中心'

    with store.session(write=True) as s:
        add_user(s, 'ana', 'a long passphrase', 'reviewer')
        assign(s, 'ana', 'toys')
    app = create_app(url, str(data_dir), secret_key='k')
    app.config['WTF_CSRF_ENABLED'] = False
    client = app.test_client()
    assert client.post('/login', data={'name': 'ana', 'password': 'a long passphrase'}).status_code == 302
    html = client.get(f'/forms/{form_id}').get_data(as_text=True)
    for printed in ('设备名称', '使用单位', '验收资金（元）', '实付金额', '检查内容', '验收标准', '总分',
                    '全自动生化分析仪', '培训与资料'):
        assert printed in html, printed
    assert 'data-path="checks.1.score"' in html and 'flagged-arithmetic' in html
    field_page = client.get(f'/forms/{form_id}/fields/checks.1.score').get_data(as_text=True)
    assert '验收项目第2行 · 得分' in field_page
    store.dispose()
