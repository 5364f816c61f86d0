"""Flags on forms with known faults: every injected error must be flagged with the
right reason, and a clean form must raise nothing."""
import copy

import pytest

from extractor import validate
from models import FieldSource, Form, FundsRow, Indicator, Total


def clean_form() -> Form:
    form = Form(year='2024', pages=[1], project_name='网络运维费', department='科技局', implementing_unit='科技局')
    form.funds = [FundsRow(item='年度资金总额', initial_budget='395', annual_budget='396.267529',
                           executed='396.267529', weight='10', execution_rate='100%', score='10'),
                  FundsRow(item='其中：当年财政拨款', initial_budget='395', annual_budget='396.267529',
                           executed='396.267529', weight='—', execution_rate='100%', score='—'),
                  FundsRow(item='上年结转资金', weight='—', score='—'),
                  FundsRow(item='其他资金', weight='—', score='—')]
    form.goals.expected, form.goals.actual = '做好运维', '完成运维'
    weights = ['20', '30', '30', '10']
    form.indicators = [Indicator(level1='产出指标', level2='数量指标', level3=f'指标{i}', target='≥90%',
                                 actual='100%', weight=w, score=w) for i, w in enumerate(weights)]
    form.total = Total(weight='100', score='100')
    for path in form.field_paths():
        form.sources[path] = FieldSource(page=1, bbox=[0, 0, 10, 10], confidence=0.999, lines=[str(form.get(path))])
    return form


def reasons(flags, path):
    return {f.reason for f in flags if f.field == path}


def test_clean_form_raises_no_flag():
    assert validate.check_form(clean_form(), 0) == []


@pytest.mark.parametrize('path,value,involved', [
    ('funds.0.execution_rate', '90%', ['funds.0.executed', 'funds.0.annual_budget']),
    ('funds.0.executed', '400.1', ['funds.0.annual_budget']),           # over budget, rate off
    ('indicators.2.score', '38', ['indicators.2.weight', 'total.score']),  # digit swap 30 -> 38
    ('total.weight', '110', []),             # one slip in the total explains the sum: it alone
    ('funds.0.score', '8', ['funds.0.weight', 'total.score']),
    ('indicators.0.score', '2', ['total.score']),                       # dropped digit 20 -> 2
    ('funds.0.annual_budget', '396267529', ['funds.0.executed']),         # dropped decimal point
])
def test_injected_ocr_errors_are_caught_by_arithmetic(path, value, involved):
    form = clean_form()
    form.set(path, value)
    flags = validate.check_form(form, 0)
    assert 'arithmetic' in reasons(flags, path)
    for other in involved:
        assert 'arithmetic' in reasons(flags, other), other


def test_split_number_is_flagged_from_its_lines():
    form = clean_form()
    form.sources['funds.0.annual_budget'].lines = ['396.26752', '9']
    flags = validate.check_form(form, 0)
    assert 'split_number' in reasons(flags, 'funds.0.annual_budget')
    # wrapped text is not a split number
    form.sources['goals.expected'].lines = ['做好', '运维']
    assert 'split_number' not in reasons(validate.check_form(form, 0), 'goals.expected')


def test_low_confidence_unparsed_and_missing():
    form = clean_form()
    form.sources['indicators.1.actual'].confidence = 0.6
    form.indicators[3].weight = '1O'
    form.indicators[0].level3 = None
    form.total = None
    flags = validate.check_form(form, 0)
    assert 'low_confidence' in reasons(flags, 'indicators.1.actual')
    assert 'unparsed' in reasons(flags, 'indicators.3.weight')
    assert 'missing' in reasons(flags, 'indicators.0.level3')
    assert 'missing' in reasons(flags, 'total')


def test_disagreeing_second_reading_is_low_confidence():
    form = clean_form()
    form.sources['indicators.2.weight'].second_reading = '38'
    assert 'low_confidence' in reasons(validate.check_form(form, 0), 'indicators.2.weight')


@pytest.mark.parametrize('kept,fast,flagged', [
    ('100%', '1000', False),      # the fast model's percent sign read as a digit
    ('86%', '8606', False),
    ('≥90%', '≥906', False),
    ('≥95%', '>95%', False),      # ≥ read as >
    ('23', "23'", False),         # a speck at the number's end read as a mark
    ('10', '·10', False),
    ('6.1', '∵6.1', False),
    ('≥90%', '≥90%0', False),     # a speck after the percent sign, which ends the number
    ('298%', '≥98%', True),       # the kept reading is the one with the misread
    ('30', '38', True),           # a digit the engines read otherwise
    ('92.6%', '92.69%', True),
    ('272次', '222次', True),
])
def test_a_disagreement_that_is_a_slip_of_the_fast_model_is_no_doubt(kept, fast, flagged):
    form = clean_form()
    form.set('indicators.1.actual', kept)
    form.sources['indicators.1.actual'].second_reading = fast
    assert ('low_confidence' in reasons(validate.check_form(form, 0), 'indicators.1.actual')) == flagged


@pytest.mark.parametrize('path,value,flagged', [
    ('goals.expected', '为丰台区商业产业制定发展路径，助力打造“航空航天创新城”', True),   # its 。 lost
    ('goals.expected', '为丰台区商业产业制定发展路径，助力打造“航空航天创新城”。', False),
    ('goals.actual', '1.组织培训31场，取得良好效果2.已完成各项工作任务，项目运行平稳。', True),  # 。 before 2. lost
    ('goals.actual', '1.组织培训31场，取得良好效果。2.已完成各项工作任务，项目运行平稳。', False),
    ('goals.actual', '完成运维', False),                      # no sentence mark inside: a phrase
    ('indicators.1.deviation_note', '服务响应时效有待提高，已优化工作流程', True),
    ('indicators.1.target', '数据准确，按要求完成', False),     # targets are no prose: 75 of 127 such close without 。
])
def test_prose_whose_last_sentence_does_not_close_is_flagged(path, value, flagged):
    # Prose (goals, a deviation's reasons) is sentences, which close with 。; a small
    # closing mark is what the recogniser loses most, unflagged until now.
    form = clean_form()
    form.set(path, value)
    form.sources[path] = FieldSource(page=1, bbox=[0, 0, 10, 10], confidence=0.999, lines=[value])
    assert ('low_confidence' in reasons(validate.check_form(form, 0), path)) == flagged


def test_a_printed_name_read_whole_is_no_doubt_whatever_garble_the_other_engine_read():
    # Rough 9929: 满意度指标 read whole, the tiny model's '消德度指标' matches no name;
    # a second reading that is another of the column's names still is a doubt.
    form = clean_form()
    form.sources['indicators.1.level2'].second_reading = '数最指标'
    assert reasons(validate.check_form(form, 0), 'indicators.1.level2') == set()
    form.sources['indicators.1.level2'].second_reading = '质量指标'
    assert 'low_confidence' in reasons(validate.check_form(form, 0), 'indicators.1.level2')


def test_rounded_rates_pass():
    form = clean_form()
    form.funds[0].executed = '392.3'          # 98.998...% printed as 99%
    form.funds[0].execution_rate = '99%'
    form.funds[0].score = '9.9'
    form.funds[1].executed = '392.3'
    form.funds[1].execution_rate = '99%'
    form.total.score = '99.9'
    assert validate.check_form(form, 0) == []


@pytest.mark.parametrize('unreadable,total,flagged', [
    ('indicators.1.score', '100', False),   # it would be 30: possible, left to its own flag
    ('indicators.1.score', '105', True),    # it would be 35 > weight 30
    ('funds.0.score', '95', True),          # it would be 5, but weight x rate = 10
    ('indicators.1.score', '65', True),     # it would be -5
])
def test_total_with_one_unreadable_part(unreadable, total, flagged):
    """A total is still checked when one part cannot be read: the part it implies must
    be one that row could hold."""
    form = clean_form()
    form.set(unreadable, '3O#')
    form.set('total.score', total)
    flags = validate.check_form(form, 0)
    assert 'unparsed' in reasons(flags, unreadable)
    assert ('arithmetic' in reasons(flags, 'total.score')) == flagged


def test_low_confidence_on_a_printed_name():
    """A level-1/2 cell or a funds item that reads as a whole printed name is not sent
    to review for its score alone, nor for a second reading that holds the name with a
    speck beside it; garbled text in the same cell is, and so is a second reading of
    another name."""
    form = clean_form()
    for path in ('indicators.0.level2', 'indicators.1.level2', 'funds.1.item', 'funds.2.item'):
        form.sources[path].confidence = 0.90
    form.set('indicators.1.level2', '数量指木')
    form.set('funds.2.item', '上年结转资仝')
    form.sources['funds.0.item'].second_reading = '年度资金总额.'
    form.sources['indicators.2.level2'].second_reading = '质量指标'
    flags = validate.check_form(form, 0)
    for printed in ('indicators.0.level2', 'funds.0.item', 'funds.1.item'):
        assert reasons(flags, printed) == set()
    for garbled in ('indicators.1.level2', 'funds.2.item', 'indicators.2.level2'):
        assert 'low_confidence' in reasons(flags, garbled)


def test_an_unsure_dash_is_flagged_where_the_form_does_not_print_one():
    # A short bar on speckled paper is read unsurely: under the funds block's first row
    # its dash columns print a dash (a worn one is no doubt), a deviation note does not.
    form = clean_form()
    form.sources['funds.1.weight'].confidence = 0.6
    form.set('indicators.0.deviation_note', '—')
    form.sources['indicators.0.deviation_note'] = FieldSource(page=1, bbox=[0, 0, 10, 10], confidence=0.6,
                                                              lines=['—'])
    flags = validate.check_form(form, 0)
    assert reasons(flags, 'funds.1.weight') == set()
    assert 'low_confidence' in reasons(flags, 'indicators.0.deviation_note')


def test_header_cells_that_ran_together_are_structure_flags():
    form = clean_form()
    form.project_name = '专精特新企业梯度培育西城区商务局实施单位西城区商务服务中心'
    form.department = '专精特新企业梯度培育西城区商务局'
    flags = validate.check_form(form, 0)
    assert 'structure' in reasons(flags, 'project_name')
    assert reasons(flags, 'implementing_unit') == set()


def test_category_name_cut_short_is_flagged():
    form = clean_form()
    form.set('indicators.2.level2', '服务对')
    flags = validate.check_form(form, 0)
    assert 'structure' in reasons(flags, 'indicators.2.level2')


def test_a_target_read_with_a_bare_greater_than_is_checked():
    from extractor import validate
    from models import Form, Indicator
    form = Form(year='2024', pages=[1], project_name='p', department='d', implementing_unit='u',
                indicators=[Indicator(level1='产出指标', level2='数量指标', level3='x', target='>98%',
                                      actual='≥98%', weight='10', score='10')])
    flags = validate.check_form(form, 0)
    assert any(f.field == 'indicators.0.target' and f.reason == 'low_confidence' for f in flags)
    assert not any(f.field == 'indicators.0.actual' and f.reason == 'low_confidence' for f in flags)


def test_a_dash_lost_on_a_worn_page_or_beside_a_dash_is_flagged_missing():
    from extractor import validate
    from models import Form, FundsRow, PageQuality
    form = Form(year='2024', pages=[1], project_name='p', department='d', implementing_unit='u',
                funds=[FundsRow(item='年度资金总额', weight='10', score='10'),
                       FundsRow(item='其中：当年财政拨款', weight=None, score='—'),
                       FundsRow(item='其他资金', weight=None, score=None)])
    worn = validate.check_pages([form], [PageQuality(page=1, grade='fair')], [])
    assert [(f.field, f.reason) for f in worn] == [('funds.1.weight', 'missing'), ('funds.2.weight', 'missing'),
                                                   ('funds.2.score', 'missing')]
    # On a good page too: a small hyphen alone in its cell can go as a speck, and the
    # published forms print dashes in their blank rows as well.
    good = validate.check_pages([form], [PageQuality(page=1, grade='good')], [])
    assert [(f.field, f.reason) for f in good] == [('funds.1.weight', 'missing'), ('funds.2.weight', 'missing'),
                                                   ('funds.2.score', 'missing')]
    assert [f.detail for f in good][1:] == ['empty in a blank row where the form prints a dash'] * 2
    # Nor a row between two that print dashes (a seal over it took them).
    form.funds[1].weight = '—'
    form.funds.insert(2, FundsRow(item='上年结转资金', weight=None, score=None))
    form.funds[3] = FundsRow(item='其他资金', weight='—', score='—')
    good = validate.check_pages([form], [PageQuality(page=1, grade='good')], [])
    assert [(f.field, f.reason) for f in good] == [('funds.2.weight', 'missing'), ('funds.2.score', 'missing')]


def test_dashes_faded_from_a_row_with_values_are_flagged_and_the_blank_rows_below():
    """Thin light print loses its dashes on a page that reads well otherwise: a row
    printed with values prints its dashes, so its empty dash cells are flagged, and
    the blank rows below it may have lost theirs too."""
    from extractor import validate
    from models import Form, FundsRow, PageQuality
    form = Form(year='2024', pages=[1], project_name='p', department='d', implementing_unit='u',
                funds=[FundsRow(item='年度资金总额', initial_budget='829.01', weight='10', execution_rate='87.4%',
                                score='9'),
                       FundsRow(item='其中：当年财政拨款', initial_budget='829.01', execution_rate='87.4%'),
                       FundsRow(item='上年结转资金'), FundsRow(item='其他资金')])
    good = [PageQuality(page=1, grade='good')]
    assert [f.field for f in validate.check_pages([form], good, []) if f.reason == 'missing'] == [
        'funds.1.weight', 'funds.1.score', 'funds.2.weight', 'funds.2.score', 'funds.3.weight', 'funds.3.score']
    # The row with values kept its dashes: the blank rows below are flagged as blank
    # rows (the published forms print dashes there), and nothing is flagged once they
    # show theirs.
    form.funds[1].weight = form.funds[1].score = '—'
    missing = [f for f in validate.check_pages([form], good, []) if f.reason == 'missing']
    assert {f.detail for f in missing} == {'empty in a blank row where the form prints a dash'}
    for row in form.funds[2:]:
        row.weight = row.score = '—'
    assert not [f for f in validate.check_pages([form], good, []) if f.reason == 'missing']


def indicator_reasons(values: dict) -> dict:
    """The flag reasons of each indicator field ('0.target') a clean form is given a
    value for."""
    form = clean_form()
    for path, value in values.items():
        row, key = path.split('.')
        setattr(form.indicators[int(row)], key, value)
    flags = validate.check_form(form, 0)
    return {path: reasons(flags, f'indicators.{path}') for path in values}


def test_a_letter_shaped_like_a_digit_beside_digits_is_checked():
    # Worn digits read as letters, confidently: '1人' as 'i人', '20份' as '2Q份'.
    got = indicator_reasons({'0.target': 'i人', '0.actual': '2Q份',
                             '1.target': 'PM2.5浓度≤35',       # letters of a word, not a digit's stand-in
                             '1.actual': 'ISO9001认证'})
    assert 'low_confidence' in got['0.target']
    assert 'low_confidence' in got['0.actual']
    assert got['1.target'] == set()
    assert got['1.actual'] == set()


def test_a_dash_alone_among_a_rows_amounts_is_checked():
    # A speck in the blank 上年结转资金 row read as a dash under 年初预算数.
    form = clean_form()
    form.funds[2].initial_budget = '—'
    assert 'low_confidence' in reasons(validate.check_form(form, 0), 'funds.2.initial_budget')
    # A row printing dashes for its amounts prints them in every amount cell.
    form.funds[2].annual_budget = form.funds[2].executed = '—'
    assert reasons(validate.check_form(form, 0), 'funds.2.initial_budget') == set()


def test_weights_and_scores_their_sums_vouch_for_lose_the_recognisers_doubt():
    form = clean_form()
    for path in ('indicators.1.weight', 'indicators.1.score', 'indicators.1.target', 'total.score'):
        form.sources[path].confidence = 0.6
    doubt = {f.field for f in validate.settle_confirmed_numbers([form], validate.check_form(form, 0))
             if f.reason == 'low_confidence'}
    # The rows add up to the totals: only the target (no sum checks it) stays in doubt.
    assert doubt == {'indicators.1.target'}
    # A score misread: its sum no longer holds, and it vouches for none of its numbers.
    form.indicators[2].score = '38'
    flags = validate.settle_confirmed_numbers([form], validate.check_form(form, 0))
    assert {'indicators.1.score', 'total.score'} <= {f.field for f in flags if f.reason == 'low_confidence'}
    assert 'indicators.1.weight' not in {f.field for f in flags if f.reason == 'low_confidence'}


def test_a_mark_taken_off_a_number_its_sum_vouches_for_is_no_doubt():
    # The layout took a speck read as a point off '30.' and flagged it; the weights
    # add up to the total with 30, so the point was no decimal point of a lost digit.
    from models import Flag
    form = clean_form()
    taken_off = [Flag(form=0, field='indicators.1.weight', reason='unparsed',
                      detail="read as '30.': the mark at its end was taken off"),
                 Flag(form=0, field='indicators.1.score', reason='low_confidence',
                      detail="a faint mark beside the value, read as '1', was taken off"),
                 Flag(form=0, field='indicators.1.target', reason='unparsed',
                      detail="read as '≥90%.': the mark at its end was taken off")]
    kept = validate.settle_confirmed_numbers([form], taken_off)
    assert [f.field for f in kept] == ['indicators.1.target']     # no sum checks a target
    form.indicators[1].weight = '3'                                # '30.' was '3.0'? the sum says no
    assert {f.field for f in validate.settle_confirmed_numbers([form], taken_off)} >= {'indicators.1.weight'}


def test_a_rough_page_with_doubtful_cells_flags_their_block_unless_its_rows_add_up():
    from models import Flag, PageQuality
    form = clean_form()
    doubt = [Flag(form=0, field=f'indicators.{i}.level3', reason='structure', detail='shared out by position')
             for i in range(3)]
    rough = [PageQuality(page=1, grade='rough', reasons=['heavy speckle'])]
    # The rows add up to the printed total: no row was lost or merged.
    assert not [f for f in validate.check_pages([form], rough, doubt) if f.reason == 'page_quality']
    # A row lost: the weights no longer add up, and the indicator table goes to review
    # as a whole (a lost row has no field of its own); the header and goals do not.
    form.indicators.pop()
    block = [f for f in validate.check_pages([form], rough, doubt) if f.reason == 'page_quality']
    assert [f.field for f in block] == ['indicators']
    assert 'rows may be lost or merged' in block[0].detail


def test_a_point_right_after_a_chinese_character_is_checked():
    form = clean_form()
    form.indicators[0].level3 = '服务对象满意度.'
    assert 'low_confidence' in reasons(validate.check_form(form, 0), 'indicators.0.level3')
    form.goals.actual = "在会'上正式揭牌"           # a speck at the top read as a Latin quote
    assert 'low_confidence' in reasons(validate.check_form(form, 0), 'goals.actual')


def test_a_sum_off_by_one_parts_digit_slip_blames_that_part_and_the_total():
    form = clean_form()
    form.indicators[1].weight = '3030'              # 30 read with its digits doubled
    arithmetic = {f.field for f in validate.check_form(form, 0) if f.reason == 'arithmetic'}
    assert {'indicators.1.weight', 'total.weight'} <= arithmetic
    assert 'indicators.0.weight' not in arithmetic and 'funds.0.weight' not in arithmetic
    # A total misread ('1000' for the 100 the parts add up to) is blamed alone.
    form = clean_form()
    form.total.weight = '1000'
    arithmetic = {f.field for f in validate.check_form(form, 0) if f.reason == 'arithmetic'}
    assert 'total.weight' in arithmetic and 'indicators.0.weight' not in arithmetic


def test_parts_coming_to_more_than_the_total_beside_an_empty_one_blame_the_parts_read():
    # A column shift (hard 3571): the actual values read as weights, one row's text
    # left no weight. The empty part cannot bring the sum down to the total: every
    # weight read is suspect, not only the empty one.
    form = clean_form()
    form.indicators[0].weight, form.indicators[1].weight = '329', None
    arithmetic = {f.field for f in validate.check_form(form, 0) if f.reason == 'arithmetic'}
    assert {'indicators.0.weight', 'total.weight'} <= arithmetic
    # Parts short of the total beside an empty one: the empty one explains it.
    form = clean_form()
    form.indicators[1].weight = None
    arithmetic = {f.field for f in validate.check_form(form, 0) if f.reason == 'arithmetic'}
    assert 'indicators.0.weight' not in arithmetic and 'total.weight' in arithmetic


def test_a_table_column_empty_in_most_rows_flags_its_empty_fields():
    # The actual values read under another column (a merged header's rules lost):
    # the forms fill every column they print.
    form = clean_form()
    for row in form.indicators:
        row.actual = None
    flags = validate.check_form(form, 0)
    assert all('structure' in reasons(flags, f'indicators.{i}.actual') for i in range(len(form.indicators)))
    # One value left empty is no column lost.
    form = clean_form()
    form.indicators[0].actual = None
    assert 'structure' not in reasons(validate.check_form(form, 0), 'indicators.0.actual')


def test_two_category_names_in_one_cell_are_a_structure_flag():
    form = clean_form()
    form.indicators[0].level2 = '可持续影响指标经济成本指标'
    assert 'structure' in reasons(validate.check_form(form, 0), 'indicators.0.level2')
    form = clean_form()
    form.indicators[0].level1 = '产出指标绩效指标'       # merged with the block's label
    assert 'structure' in reasons(validate.check_form(form, 0), 'indicators.0.level1')
    form = clean_form()
    form.indicators[0].level2 = '经济成本指标'          # one name holding another is one name
    assert 'structure' not in reasons(validate.check_form(form, 0), 'indicators.0.level2')


def test_text_opening_with_a_point_or_closing_mark_is_checked():
    form = clean_form()
    form.goals.expected = '.建立健全长效管理机制'             # '1.' read without its 1
    form.indicators[0].level3 = '》覆盖社区数量'
    flags = validate.check_form(form, 0)
    assert 'low_confidence' in reasons(flags, 'goals.expected')
    assert 'low_confidence' in reasons(flags, 'indicators.0.level3')
    form = clean_form()
    form.goals.expected = '1.建立健全长效管理机制'
    assert 'low_confidence' not in reasons(validate.check_form(form, 0), 'goals.expected')


def test_quotes_that_do_not_take_turns_are_checked():
    form = clean_form()
    form.goals.actual = '完成“美丽丰台科普行“科普大篷车”主题巡展'      # a closing ” read as “
    form.indicators[0].level3 = '‘专精特新’企业丰台行系列活动”服务'      # the opening “ lost
    flags = validate.check_form(form, 0)
    assert 'low_confidence' in reasons(flags, 'goals.actual')
    assert 'low_confidence' in reasons(flags, 'indicators.0.level3')
    form = clean_form()
    form.goals.actual = '完成“美丽丰台科普行”“科普大篷车”主题巡展'
    form.indicators[0].level3 = '“‘专精特新’企业丰台行系列活动”服务项目'
    flags = validate.check_form(form, 0)
    assert 'low_confidence' not in reasons(flags, 'goals.actual')
    assert 'low_confidence' not in reasons(flags, 'indicators.0.level3')


def test_a_lost_total_keeps_its_doubt_off_rows_whose_weights_come_to_100():
    from models import Flag, PageQuality
    form = clean_form()
    form.total.weight = form.total.score = None
    lost = [Flag(form=0, field='total', reason='missing', detail='no 总分 row'),
            Flag(form=0, field='indicators.3.weight', reason='structure', detail='shared out by position')]
    rough = [PageQuality(page=1, grade='rough', reasons=['heavy speckle'])]
    blocks = [f.field for f in validate.check_pages([form], rough, lost) if f.reason == 'page_quality']
    assert blocks == ['total']
    # A row lost with the total: the weights no longer come to 100, the table is in doubt.
    form.indicators.pop()
    blocks = [f.field for f in validate.check_pages([form], rough, lost) if f.reason == 'page_quality']
    assert sorted(blocks) == ['indicators', 'total']


def test_a_lost_total_with_rows_short_of_100_puts_the_table_in_doubt_without_other_doubt():
    # A rough 1-bit page lost its last two rows and its 总分 row; the rows read hold no
    # doubtful cell. Their weights short of the usual 100, the rows lost with the total
    # row are the table's last: the table goes to review, not only the total.
    from models import Flag, PageQuality
    form = clean_form()
    form.total.weight = form.total.score = None
    lost = [Flag(form=0, field='total', reason='missing', detail='no 总分 row')]
    rough = [PageQuality(page=1, grade='rough', reasons=['45% of the text lines read unsure'])]
    assert [f.field for f in validate.check_pages([form], rough, lost) if f.reason == 'page_quality'] == ['total']
    form.indicators.pop()
    blocks = [f.field for f in validate.check_pages([form], rough, lost) if f.reason == 'page_quality']
    assert sorted(blocks) == ['indicators', 'total']


@pytest.mark.parametrize('value,flagged', [
    ('2023.08,17-2024.10.17', True),    # a point misread as a comma
    ('1,234.5万元', False), ('完成5个,2个在建', False),
    ('下一步将加强计划管理：', True),      # a closing 。 misread as a colon
    ('39:8万', True), ('39：8万', True),   # a point with a speck over it
    ('3.形成报告。4:组织开展培训', True),   # a list number's point read as a colon
    ('其中：当年财政拨款', False),
    ('目标：完成8个', False),
    ('≤年', True), ('≥%', True),         # the number after a comparison sign lost
    ('≤1年', False), ('≥ 99.9%', False),
    ('推动重点t作部署', True),             # a worn 工 read as a letter
    ('创建4A级景区', False), ('5G网络覆盖', False),
    ('≤23方', True),                      # a worn 万 read as 方
    ('≤23万', False), ('绿化500平方米', False), ('形成3方案', False),
])
def test_commas_inside_numbers_colons_and_bare_comparison_signs_are_checked(value, flagged):
    form = clean_form()
    form.indicators[0].actual = value
    assert ('low_confidence' in reasons(validate.check_form(form, 0), 'indicators.0.actual')) == flagged


def test_weights_short_of_the_usual_100_with_no_part_to_blame_flag_the_table():
    # The last row merged into the total row: the total reads that row's '10', the
    # parts come to 90. The lost row has no field; its table is flagged.
    form = clean_form()
    form.indicators.pop()
    form.total.weight = form.total.score = '10'
    assert 'structure' in reasons(validate.check_form(form, 0), 'indicators')
    # One part misread ('3' for 30) under a total that reads 100: the parts are to
    # blame (flagged by the sum), not the table's rows.
    form = clean_form()
    form.indicators[1].weight = form.indicators[1].score = '3'
    assert 'structure' not in reasons(validate.check_form(form, 0), 'indicators')
    # The total row lost too: the parts alone are short of 100.
    form = clean_form()
    form.indicators.pop()
    form.total.weight = form.total.score = None
    assert 'structure' in reasons(validate.check_form(form, 0), 'indicators')


def test_weights_that_come_to_the_usual_100_leave_the_blame_on_a_garbled_total():
    # The total cell read with its neighbours' text ('10110990' for 100): the weights
    # come to the kind's usual 100, so the total alone is flagged, not every weight.
    form = clean_form()
    form.total.weight = '10110990'
    arithmetic = {f.field for f in validate.check_form(form, 0) if f.reason == 'arithmetic'}
    assert arithmetic == {'total.weight'}
    # Weights that do not come to 100 keep every weight in doubt.
    form = clean_form()
    form.indicators[0].weight = '25'
    form.total.weight = '10110990'
    arithmetic = {f.field for f in validate.check_form(form, 0) if f.reason == 'arithmetic'}
    assert 'indicators.0.weight' in arithmetic and 'indicators.3.weight' in arithmetic


def test_text_with_one_unsure_character_in_a_sure_line_is_checked():
    # 工 read as 土 in a long sentence: the line's confidence stays high, the one
    # character's does not.
    form = clean_form()
    form.goals.expected = '围绕区委区政府重点土作部署'
    form.sources['goals.expected'].min_char_confidence = 0.62
    assert 'low_confidence' in reasons(validate.check_form(form, 0), 'goals.expected')
    form.sources['goals.expected'].min_char_confidence = 0.95
    assert 'low_confidence' not in reasons(validate.check_form(form, 0), 'goals.expected')


def test_rows_read_on_an_unreadable_page_put_their_block_in_doubt():
    # The table runs onto a second page too rough to read: rows garbled there may
    # match no printed row at all, so the table is flagged as a whole besides each
    # field read there (a weight garbled there, the rows cannot be added up to show
    # that none was lost); the funds block, read on the first page, is not.
    from models import PageQuality
    form = clean_form()
    form.indicators[3].weight = '1O'
    form.pages = [1, 2]
    for i in (2, 3):
        for key in ('level3', 'weight', 'score'):
            form.sources[f'indicators.{i}.{key}'].page = 2
    quality = [PageQuality(page=1, grade='good'), PageQuality(page=2, grade='unreadable', reasons=['speckle'])]
    flags = [f for f in validate.check_pages([form], quality, []) if f.reason == 'page_quality']
    assert 'indicators' in {f.field for f in flags} and 'funds' not in {f.field for f in flags}
    assert 'indicators.3.weight' in {f.field for f in flags}
    quality[1] = PageQuality(page=2, grade='rough', reasons=['speckle'])
    assert 'indicators' not in {f.field for f in validate.check_pages([form], quality, [])}


def test_an_unreadable_page_whose_rows_add_up_to_the_usual_total_lost_none():
    # The same table, its weights coming to the usual 100 and its scores to the total
    # read: a lost or merged row would take its weight and score with it, so the table
    # is not in doubt as a whole; each field read on the rough page keeps its own flag.
    from models import PageQuality
    form = clean_form()
    form.pages = [1, 2]
    for i in (2, 3):
        for key in ('level3', 'weight', 'score'):
            form.sources[f'indicators.{i}.{key}'].page = 2
    quality = [PageQuality(page=1, grade='good'), PageQuality(page=2, grade='unreadable', reasons=['speckle'])]
    flagged = {f.field for f in validate.check_pages([form], quality, []) if f.reason == 'page_quality'}
    assert 'indicators' not in flagged
    assert {'indicators.2.level3', 'indicators.3.level3'} <= flagged
    assert 'indicators.0.level3' not in flagged


def test_on_an_unreadable_page_what_more_than_the_recogniser_vouches_for_stays_unflagged():
    # Every value read on an unreadable page is in doubt, except those that something
    # besides the recogniser vouches for: a weight or score in a sum that holds as read,
    # a category name or funds item read as one of the few names its column prints.
    from models import PageQuality
    form = clean_form()
    form.indicators[1].level3 = '指标l'
    quality = [PageQuality(page=1, grade='unreadable', reasons=['speckle'])]
    flagged = {f.field for f in validate.check_pages([form], quality, []) if f.reason == 'page_quality'}
    assert {'indicators.1.level3', 'indicators.1.target', 'project_name', 'goals.expected'} <= flagged
    assert not {'indicators.1.weight', 'total.score', 'indicators.1.level1', 'funds.2.item'} & flagged
    form.indicators[1].weight = form.indicators[1].score = '38'    # no sum holds: none is vouched for
    form.indicators[1].level2 = '数量指木'                         # nor is a name read otherwise
    flagged = {f.field for f in validate.check_pages([form], quality, []) if f.reason == 'page_quality'}
    assert {'indicators.1.weight', 'total.score', 'indicators.1.level2'} <= flagged


def test_one_merged_cell_over_several_rows_is_one_doubt_not_several():
    # A 二级指标 cell that took in its neighbour flags each of the four rows it spans;
    # that is one cell matched with doubt, not reason to doubt the whole table.
    from models import Flag, PageQuality
    form = clean_form()
    form.indicators[0].weight = 'C'             # one weight unreadable: the sum cannot settle it
    merged = [Flag(form=0, field=f'indicators.{i}.level2', reason='structure', page=1, bbox=[10, 20, 30, 80],
                   detail='holds a category name and more') for i in range(4)]
    rough = [PageQuality(page=1, grade='rough', reasons=['heavy speckle'])]
    assert not [f for f in validate.check_pages([form], rough, merged) if f.reason == 'page_quality']
    apart = [Flag(form=0, field=f'indicators.{i}.level2', reason='structure', page=1, bbox=[10, 20 + 60 * i, 30, 80 + 60 * i],
                  detail='holds a category name and more') for i in range(4)]
    assert [f.field for f in validate.check_pages([form], rough, apart) if f.reason == 'page_quality'] == ['indicators']


def test_a_weight_read_with_a_speck_for_a_point_is_blamed_alone_not_a_lost_row():
    # Weights 20, 30, 30, 10 and a garbled total: one weight read '3.0' for 30 makes
    # them 73, short of 100, which would say a row was lost and flag the whole table.
    form = clean_form()
    form.indicators[1].weight = '3.0'
    form.total.weight = '100100'
    flags = validate.check_form(form, 0)
    assert not any(f.field == 'indicators' for f in flags)
    weight_flags = {f.field for f in flags if f.reason == 'arithmetic' and 'weights add up' in f.detail}
    assert weight_flags == {'indicators.1.weight', 'total.weight'}


def test_a_dithered_page_is_recorded_and_graded_fair_at_best():
    from models import Cell, PageGrid, PageResult, Table
    table = Table(bbox=[0, 0, 100, 100], row_edges=[0, 100], col_edges=[0, 100],
                  cells=[Cell(row=0, col=0, bbox=[0, 0, 100, 100])])
    result = PageResult(number=1, dpi=200, grid=PageGrid(width=100, height=100, tables=[table]),
                        measures={'contrast': 0.8, 'halftone': True})
    quality = validate.grade_page(result)
    assert quality.halftone and quality.grade == 'fair' and 'dithered (halftone) scan' in quality.reasons
    result.measures['halftone'] = False
    assert validate.grade_page(result).grade == 'good'


def test_a_few_unsure_marks_do_not_make_a_page_unreadable_many_do():
    # A continuation page holding only its total row under a seal: 3 values read sure
    # and 4 of the seal's remnants read unsure is no unreadable page; the same share
    # over a full page of lines is.
    from models import Cell, CellText, PageGrid, PageResult, Table, TextLine
    table = Table(bbox=[0, 0, 100, 100], row_edges=[0, 100], col_edges=[0, 100],
                  cells=[Cell(row=0, col=0, bbox=[0, 0, 100, 100])])

    def page(sure: int, unsure: int) -> PageResult:
        lines = [TextLine(text='总分', confidence=0.99, bbox=[0, 0, 10, 10])] * sure + \
                [TextLine(text='津', confidence=0.4, bbox=[0, 0, 10, 10])] * unsure
        return PageResult(number=2, dpi=150, grid=PageGrid(width=100, height=100, tables=[table]),
                          cells=[CellText(table=0, cell=0, lines=lines)], measures={'contrast': 0.6})

    few = validate.grade_page(page(3, 4))
    assert few.grade == 'fair' and few.unsure_lines > 0.5
    assert validate.grade_page(page(30, 40)).grade == 'unreadable'
    # Lines under a seal's ink (its lettering, print read through it) say nothing of
    # the page's print: two seals over a page of sure print leave it good.
    sealed = page(30, 0)
    sealed.cells[0].lines += [TextLine(text='财务专用章', confidence=0.4, bbox=[0, 0, 10, 10], sealed=1.0)] * 40
    quality = validate.grade_page(sealed)
    assert quality.grade == 'good' and quality.unsure_lines == 0.0
    # A form's whole table whose print went unread (a 200 x 100 fax: 89 cells, 9 lines
    # read, 8 unsure) is no total row alone: unreadable.
    unread = page(1, 8)
    unread.grid.tables[0].cells = [Cell(row=r, col=c, bbox=[c * 10, r * 10, c * 10 + 10, r * 10 + 10])
                                   for r in range(10) for c in range(9)]
    assert validate.grade_page(unread).grade == 'unreadable'


def test_a_form_going_on_past_a_turned_away_page_is_doubted_whole_unless_its_rows_add_up():
    # The page after the form was turned away (a lone 总分 row whose broken rules made no
    # table): rows may be lost anywhere, unless the weights read come to the usual 100.
    from models import Flag, Total
    form = clean_form()
    form.total = Total()
    whole = Flag(form=0, field='', reason='structure', page=2, detail='no 总分 row, and page 2 after it was turned away')
    settled = validate.settle_whole_form_doubt([form], [whole])
    assert [(f.field, f.reason) for f in settled] == [('total', 'structure')]
    assert 'only the 总分 row is in doubt' in settled[0].detail
    form.indicators = form.indicators[:-1]          # a row went with the page: 90 of 100
    assert [f.field for f in validate.settle_whole_form_doubt([form], [whole])] == ['']


def test_a_text_value_broken_between_digits_is_checked():
    # A date range wrapped after its dash, the dash read as nothing: '2023.08.17' over
    # '2024.10.17' joins to '2023.08.172024.10.17'. Text wrapped between characters is not.
    form = clean_form()
    form.indicators[0].actual = '2023.08.172024.10.17'
    form.sources['indicators.0.actual'].lines = ['2023.08.17', '2024.10.17']
    form.indicators[1].actual = '完成培训25场次'
    form.sources['indicators.1.actual'].lines = ['完成培训25', '场次']
    flags = validate.check_form(form, 0)
    assert 'low_confidence' in reasons(flags, 'indicators.0.actual')
    assert reasons(flags, 'indicators.1.actual') == set()


def test_a_list_number_read_as_a_letter_is_checked():
    form = clean_form()
    form.goals.expected = 'i.做好21家用户单位的日常运维。2.组织开展专题培训4场。'
    form.goals.actual = '1.完成运维。2.完成培训。'
    flags = validate.check_form(form, 0)
    assert 'low_confidence' in reasons(flags, 'goals.expected')
    assert reasons(flags, 'goals.actual') == set()


def test_a_stop_inside_a_short_text_is_checked():
    # A speck between two characters of a name read as 。 (hard 3571): a short text
    # ends no sentence before another character. Two sentences of a long text, a
    # short numbered list and a result's closing 。 are print. An indicator's name of a
    # few words is no sentence either: a 。 closing it is a speck too (rough 6607),
    # unless the name is long.
    got = indicator_reasons({'0.level3': '参会人员对活动。满意度', '1.level3': '1.完成运维。2.完成培训。',
                             '2.actual': '通过科普宣传提升民众的科学素养。构建起共建共享的全域科普新生态',
                             '3.actual': '已完成。'})
    assert 'low_confidence' in got['0.level3']
    assert 'low_confidence' not in got['1.level3'] | got['2.actual'] | got['3.actual']
    names = indicator_reasons({'0.level3': '形成培训成果。', '1.level3': '丰体时代大厦办公区人员用餐、电话、网络、工作。'})
    assert 'low_confidence' in names['0.level3'] and 'low_confidence' not in names['1.level3']


def test_a_target_or_result_that_is_a_unit_alone_is_checked():
    # '1次' read '次': a thin 1 by the cell's edge went with the rule. A unit alone
    # counts nothing; a unit after its number, or a word, is fine.
    got = indicator_reasons({'0.actual': '次', '1.target': '年', '1.actual': '1年', '2.actual': '达标'})
    assert 'low_confidence' in got['0.actual']
    assert 'low_confidence' in got['1.target']
    assert got['1.actual'] == set()
    assert got['2.actual'] == set()


def test_a_header_value_holding_a_label_wrapped_over_two_lines_is_flagged():
    # Lost column rules merged the department's cell with the implementing unit's label
    # (wrapped: 实施 / 单位) and value: its lines read value, 实施, value, 单位.
    from models import FieldSource
    form = clean_form()
    lines = ['丰台区科学技术和信息化局', '实施', '丰台区科技创新促进中心', '单位']
    form.department = ''.join(lines)
    form.sources['department'] = FieldSource(page=1, lines=lines)
    assert 'structure' in reasons(validate.check_form(form, 0), 'department')
    # A value whose lines merely share characters with a label is not flagged.
    form = clean_form()
    form.sources['department'] = FieldSource(page=1, lines=['科技局'])
    assert 'structure' not in reasons(validate.check_form(form, 0), 'department')



def test_a_category_cell_reading_none_of_the_columns_names_is_flagged():
    # The table's label 绩效指标 read where 效益指标 stood (hard kinds seed 307): a
    # column that prints one of four names holds none of them.
    form = clean_form()
    form.indicators[2].level1 = '绩效指标'
    flags = validate.check_form(form, 0)
    assert reasons(flags, 'indicators.2.level1') == {'low_confidence'}
    assert any('none of the names' in f.detail for f in flags if f.field == 'indicators.2.level1')
    assert not reasons(flags, 'indicators.1.level1')


@pytest.mark.parametrize('last_weight,table_flagged', [
    ('10101010100', True),      # four rows and the total row merged into one by lost rules
    ('1R', True),               # a weight unreadable: the sum cannot confirm the rows
    ('10', False),              # the weights come to the usual 100: no row lost
])
def test_with_the_total_row_lost_only_weights_at_the_usual_total_confirm_the_rows(last_weight, table_flagged):
    form = clean_form()
    form.total.weight = form.total.score = None
    form.indicators[-1].weight = last_weight
    flags = validate.check_form(form, 0)
    assert ('structure' in reasons(flags, 'indicators')) == table_flagged


def test_with_the_total_row_lost_a_row_holding_what_the_others_come_to_is_the_total_row():
    # The 总分 label read as noise: the total row became a row of the table, its weight
    # 100 what the other rows come to. That row is in doubt, not the table's rows.
    from models import Indicator
    form = clean_form()
    form.total.weight = form.total.score = None
    form.indicators.append(Indicator(level3='总分', weight='100', score='100'))
    flags = validate.check_form(form, 0)
    assert 'structure' in reasons(flags, 'indicators.4')
    assert 'structure' not in reasons(flags, 'indicators')


@pytest.mark.parametrize('field, value, flagged', [
    # The implementing unit read a character off the department.
    ('implementing_unit', '李台区科学技术和信息化局', {'department': 'low_confidence', 'implementing_unit': 'low_confidence'}),
    # ... or with a character lost (a worn 丰; was silent on augraphy's office paper).
    ('implementing_unit', '台区科学技术和信息化局', {'department': 'low_confidence', 'implementing_unit': 'low_confidence'}),
    # The project name with the department's name after it: the rule between lost.
    ('project_name', '网络运维费丰台区科学技术和信息化局', {'project_name': 'structure'}),
    # The same body, or wholly other ones: nothing.
    ('implementing_unit', '丰台区科学技术和信息化局', {}),
    ('implementing_unit', '北京市西城区商务局', {}),
])
def test_the_forms_names_are_the_same_or_apart(field, value, flagged):
    form = clean_form()
    form.department = form.implementing_unit = '丰台区科学技术和信息化局'
    form.set(field, value)
    got = {f.field: f.reason for f in validate.check_form(form, 0)
           if f.field in ('project_name', 'department', 'implementing_unit')}
    assert got == flagged


def test_scores_that_add_up_and_weights_over_the_usual_total_settle_the_doubt_about_lost_rows():
    # The published form whose weights come to 190 (a row's 10 printed 100) on a speckled
    # page with three cells matched with doubt: its scores add up to the printed total,
    # and a lost row would have left both sums short, so the table is not flagged whole.
    from models import Flag, PageQuality
    form = clean_form()
    form.indicators[3].weight = '100'       # weights 10 + 20 + 30 + 30 + 100 = 190; scores add up
    apart = [Flag(form=0, field=f'indicators.{i}.level3', reason='structure', page=1,
                  bbox=[10, 20 + 60 * i, 30, 80 + 60 * i], detail='the cell stretches over several rows')
             for i in range(3)]
    rough = [PageQuality(page=1, grade='rough', reasons=['heavy speckle'])]
    assert not [f for f in validate.check_pages([form], rough, apart) if f.reason == 'page_quality']
    # Weights short of the usual total: a row may be lost whatever the scores say.
    form.indicators[3].weight = '5'
    form.indicators[3].score = '5'
    form.total.score = '95'
    assert [f.field for f in validate.check_pages([form], rough, apart) if f.reason == 'page_quality'] \
        == ['indicators']


def test_a_score_read_short_is_blamed_when_the_others_equal_their_weights():
    # A score's '10' read '0' (hard 9929, unseen fonts): the scores come to 90 against a
    # total of 100, which may itself be a slip of 90, and many parts may be slips of what
    # the sum needs; but every other score already equals its weight and could not be
    # 10 more. The '0' is the one part to blame, with the total (it was silent).
    form = clean_form()                     # weights 20, 30, 30, 10; scores equal to them
    form.indicators[3].score = '0'
    flagged = {f.field for f in validate.check_form(form, 0) if f.reason == 'arithmetic'}
    assert {'indicators.3.score', 'total.score'} <= flagged
    assert 'indicators.0.score' not in flagged
