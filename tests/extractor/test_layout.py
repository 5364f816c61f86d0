"""Golden: the cell texts the OCR stage found on the clean sample in tests/data -> the forms
of its truth file. Exercises form splitting, the continued page, label mapping, merged
cells carried down and wrapped numbers joined, without running OCR."""
import json
import os

from extractor import layout
from models import PageResult

from conftest import GOLDEN
from truth import wrong_fields


def _pages():
    data = json.load(open(os.path.join(GOLDEN, 'samples_clean.pages.json'), encoding='utf-8'))
    return [PageResult.model_validate(p) for p in data]


def test_forms_match_truth(data_dir):
    truth = json.load(open(os.path.join(data_dir, 'samples', 'samples_clean.truth.json'), encoding='utf-8'))
    forms, flags = layout.build_forms(_pages())
    assert len(forms) == len(truth['forms'])
    for form, want in zip(forms, truth['forms']):
        got = form.model_dump(mode='json')
        assert got['pages'] == want['pages']
        assert len(got['indicators']) == len(want['indicators'])
        assert wrong_fields(got, want) == [], form.project_name
    assert not [f for f in flags if f.reason == 'structure']


def test_split_number_keeps_its_lines_as_source():
    forms, _ = layout.build_forms(_pages())
    source = forms[1].sources['funds.0.annual_budget']
    assert forms[1].funds[0].annual_budget == '396.267529'
    assert source.lines == ['396.2675', '29'] and source.page == 2


def test_join_lines_rules():
    assert layout.join_lines(['丰台区科学', '技术']) == '丰台区科学技术'
    assert layout.join_lines(['network', 'service']) == 'network service'
    assert layout.join_lines(['396.26752', '9']) == '396.267529'
    assert layout.join_lines([]) is None
    # A number has one decimal point: one opening the next line after it is a speck;
    # a number wrapped before its point keeps it.
    assert layout.join_lines(['≤94.64291', '.9万元']) == '≤94.642919万元'
    assert layout.join_lines(['33.580.', '19']) == '33.58019'
    # A date wrapped between month and day keeps both its points, on either side.
    assert layout.join_lines(['2023.08.', '17-', '2024.08.', '18']) == '2023.08.17-2024.08.18'
    assert layout.join_lines(['2023.08', '.17']) == '2023.08.17'
    assert layout.join_lines(['93.', '3']) == '93.3'
    assert layout.join_lines(['73309', '.6']) == '73309.6'
    # A point between two Chinese characters across a break is a speck; one ending the
    # last line stays here (it may be a 。 misread: the field is flagged when it goes).
    assert layout.join_lines(['政务网站考核监测扫描.', '提示后']) == '政务网站考核监测扫描提示后'
    assert layout.join_lines(['资金支付时间.']) == '资金支付时间.'


def test_misread_label_still_maps():
    assert layout.label_score('项目名柕', '项目名称') >= layout.LABEL_MIN
    assert layout.label_score('偏差原因分析及改进', '偏差原因分析及改进措施') >= layout.LABEL_MIN
    assert layout.label_score('分值', '得分') < layout.LABEL_MIN


def test_continuation_page_without_title_joins_previous_form():
    pages = _pages()
    forms, _ = layout.build_forms(pages)
    assert forms[1].pages == [2, 3]
    # rows on the continued page carry the merged 一级 text from the page before
    continued = [i for i, _ in enumerate(forms[1].indicators)
                 if forms[1].sources[f'indicators.{i}.level3'].page == 3]
    assert continued and all(forms[1].indicators[i].level1 for i in continued)
