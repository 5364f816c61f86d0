"""The batch report counts fields and flagged fields the way a reviewer sees them, and
estimates what is left from the measured silent error rate."""
import pytest

from extractor import report
from models import Document, FieldSource, Flag, FlagReason, Form, FundsRow, Indicator, PageQuality, Source, Total
from models.report import BatchReport


def make_document(flags) -> Document:
    form = Form(year='2024', pages=[1], project_name='p', department='d', implementing_unit='u')
    form.funds = [FundsRow(item='年度资金总额', annual_budget='10', executed='10', weight='10',
                           execution_rate='100%', score='10')]
    form.indicators = [Indicator(level1='产出指标', level2='数量指标', level3=f'x{i}', weight='45', score='45')
                       for i in range(2)]
    form.total = Total(weight='100', score='100')
    return Document(source=Source(file='a.pdf', sha256='0' * 64, pages=1), forms=[form], review=flags)


def test_fields_flagged_by_reason_and_prefix_flags():
    doc = make_document([
        Flag(form=0, field='funds.0.executed', reason=FlagReason.split_number, detail=''),
        Flag(form=0, field='funds.0.executed', reason=FlagReason.low_confidence, detail=''),
        Flag(form=0, field='indicators.1', reason=FlagReason.structure, detail=''),  # a whole row
    ])
    summary = report.document_report(doc)
    assert summary.fields == len(doc.forms[0].field_paths())
    row_fields = len([p for p in doc.forms[0].field_paths() if p.startswith('indicators.1.')])
    assert summary.flagged_fields == 1 + row_fields
    assert summary.by_reason == {'low_confidence': 1, 'split_number': 1, 'structure': row_fields}
    unflagged = summary.fields - summary.flagged_fields
    assert summary.scan_quality == 'rough'       # ungraded pages: 9 of 32 fields flagged
    assert summary.residual_errors == round(unflagged * report.RESIDUAL_RATE['rough'], 2)


def test_the_estimate_follows_the_unsure_lines_of_each_forms_worst_page():
    # The grade does not set the rate: a page graded rough for its speckle alone reads as
    # well as a fair one. How many of its lines the recogniser was unsure of does.
    doc = make_document([])
    doc.forms.append(doc.forms[0].model_copy(update={'pages': [2, 3]}))
    doc.quality = [PageQuality(page=1, grade='good', unsure_lines=0.02),
                   PageQuality(page=2, grade='rough', unsure_lines=0.05),
                   PageQuality(page=3, grade='fair', unsure_lines=0.2)]
    summary = report.document_report(doc)
    per_form = len(doc.forms[0].field_paths())
    expected = per_form * report.RESIDUAL_PER_UNSURE * (0.02 + 0.2)
    assert summary.residual_errors == round(expected, 2)
    assert summary.scan_quality == 'rough' and summary.page_grades == {1: 'good', 2: 'rough', 3: 'fair'}


def test_a_heavily_flagged_document_takes_the_rough_scan_rate():
    doc = make_document([Flag(form=0, field='', reason=FlagReason.structure, detail='grid not matched')])
    summary = report.document_report(doc)
    assert summary.flagged_fields == summary.fields and summary.scan_quality == 'rough'
    assert summary.residual_errors == 0


def test_a_form_that_starts_on_an_unreadable_page_counts_as_lost_whole():
    # Every field flagged, but its header was read from the unreadable page: nothing
    # ties it to its record. A form with only a later page unreadable is not lost.
    doc = make_document([Flag(form=0, field='', reason=FlagReason.page_quality, detail='page too rough')])
    doc.forms.append(doc.forms[0].model_copy(update={'pages': [2, 3]}))
    doc.quality = [PageQuality(page=1, grade='unreadable'), PageQuality(page=2, grade='good'),
                   PageQuality(page=3, grade='unreadable')]
    summary = report.document_report(doc)
    second = len(doc.forms[1].field_paths())
    assert report.lost_fields(doc, 0) == report.FIELDS_PER_FORM and report.lost_fields(doc, 1) == 0
    assert summary.residual_errors == round(report.FIELDS_PER_FORM + second * report.RESIDUAL_RATE['unreadable'], 2)


def test_a_name_read_sure_enough_off_an_unreadable_page_ties_its_form():
    # A garbled name read at 0.3 was still matched to its record; one at 0.14 was not.
    doc = make_document([Flag(form=0, field='', reason=FlagReason.page_quality, detail='page too rough')])
    doc.quality = [PageQuality(page=1, grade='unreadable')]
    doc.forms[0].project_name = '政宇经济创新究展作目'
    doc.forms[0].sources['project_name'] = FieldSource(page=1, bbox=[0, 0, 10, 10], confidence=0.3)
    assert report.lost_fields(doc, 0) == 0
    doc.forms[0].sources['project_name'] = FieldSource(page=1, bbox=[0, 0, 10, 10], confidence=0.14)
    assert report.lost_fields(doc, 0) == report.FIELDS_PER_FORM


@pytest.mark.parametrize('name,ties', [
    ('政字经济创新发展项目1', True),                 # a character or a digit misread
    ('5G网络PPP项目（二期）', True),
    ('上00年费Y.TT:Lt.a7う?', False),                # specks read as letters and kana
    ('41110102F他化药in点台区科学技术和信息化局', False),
    ('(2021年度)', False),                          # the year line, the name's row lost
    ('年', False),                                  # what survived of a longer name
    ('办公费', True),
    ('老旧小区综合整治经费rat', True),               # a speck read onto the end of a name read whole
    ('图书馆数字资源采购经费21952207°30', True),     # a neighbouring cell's digits too
])
def test_a_garbled_name_off_an_unreadable_page_ties_nothing(name, ties):
    # However sure the recogniser was of it.
    doc = make_document([Flag(form=0, field='', reason=FlagReason.page_quality, detail='page too rough')])
    doc.quality = [PageQuality(page=1, grade='unreadable')]
    doc.forms[0].project_name = name
    doc.forms[0].sources['project_name'] = FieldSource(page=1, bbox=[0, 0, 10, 10], confidence=0.9)
    assert report.lost_fields(doc, 0) == (0 if ties else report.FIELDS_PER_FORM)


def test_table_lists_failures_and_totals():
    batch = BatchReport(documents=[report.document_report(make_document([])),
                                   report.failed_report('bad.pdf', 'encrypted PDF')])
    text = report.format_report(batch)
    assert 'bad.pdf' in text and 'failed: encrypted PDF' in text
    assert text.splitlines()[-2].startswith('TOTAL')


def test_a_form_whose_name_went_unread_counts_as_lost_whole():
    # A 1-bit fax page graded rough, not unreadable, can still lose the project's name:
    # nothing then ties the form's fields to its record either.
    doc = make_document([])
    doc.forms.append(doc.forms[0].model_copy(update={'pages': [2], 'project_name': None}))
    doc.quality = [PageQuality(page=1, grade='good'), PageQuality(page=2, grade='rough')]
    assert report.lost_fields(doc, 0) == 0 and report.lost_fields(doc, 1) == report.FIELDS_PER_FORM


@pytest.mark.parametrize('grade,reasons,before_open,lost', [
    ('unreadable', ['90% of the text lines read unsure'], False, True),   # a form started there, all unread
    ('unreadable', ['no ruled table found'], False, False),             # no form's page
    ('rough', ['40% of the text lines read unsure'], False, False),
    ('unreadable', ['90% of the text lines read unsure'], True, False),  # the open form before goes on there
])
def test_an_unreadable_page_with_a_table_that_went_to_no_form_counts_a_form_lost(grade, reasons, before_open, lost):
    from models import UnmatchedPage
    doc = make_document([])
    doc.source.pages = 2
    doc.quality = [PageQuality(page=1, grade='good'), PageQuality(page=2, grade=grade, reasons=reasons)]
    doc.unmatched_pages = [UnmatchedPage(page=2, reason='not a known form')]
    if before_open:
        doc.forms[0].total = None
    with_page = report.document_report(doc).residual_errors
    doc.unmatched_pages = []
    without = report.document_report(doc).residual_errors
    assert round(with_page - without, 2) == (report.FIELDS_PER_FORM if lost else 0)
