"""Made-up department-level forms (部门整体支出绩效自评表, schema dept-self-eval/1).

There is no seed text for this kind: every value is invented, in the same conventions
as synth.py (budgets in 万元 with up to 6 decimals, weights adding to 100 with funds
weight 10, scores not above their weights, dashes as '—'). The funds block has the
total row 年度资金总额 and one of the breakdowns of contract.DEPT_FUND_BREAKDOWNS, whose
budgets add up to the total's (except in forms perturbed with 'breakdown_rounded') and
whose weight and score are printed dashes. The same arithmetic perturbations as the
project form's are put into some forms; rules.find_issues lists what is broken."""
from decimal import ROUND_HALF_UP, Decimal

from .contract import (DEPT_FUND_BREAKDOWNS, DEPT_FUND_TOTAL, empty_fund_row,
                       make_dept_form)
from .synth import (DEPARTMENTS, DISTRICTS, ISSUE_RATE, SyntheticForm, _pick, _rate,
                    _retotal_scores, fmt, make_indicators, perturb)
from .textutil import DASH

# Work area of each department (goal sentences say what the department does).
AREAS = {
    '科学技术和信息化局': '科技创新和信息化建设', '教育委员会': '教育事业发展',
    '卫生健康委员会': '卫生健康服务', '城市管理委员会': '城市精细化管理',
    '生态环境局': '生态环境保护', '文化和旅游局': '公共文化服务和旅游发展',
    '民政局': '基本民生保障', '农业农村局': '乡村振兴', '商务局': '商务经济发展',
    '财政局': '财政管理改革',
}

DEPT_GOAL_SENTENCES = [
    '围绕区委区政府中心工作，全面履行部门职责，推动{topic}各项任务按期完成',
    '严格执行部门预算，全年预算执行率达到{p}%以上',
    '加强财政资金管理，提高资金使用效益，规范“三公”经费支出',
    '完成年度重点工作任务{k}项，办好民生实事{n}件',
    '健全内部控制制度，提升部门预算管理水平',
    '推进政务公开，按时公开部门预算和决算信息',
    '组织开展{topic}专项检查{n}次，及时整改发现的问题',
    '提升{topic}服务效能，群众满意度达到{p}%以上',
]
DEPT_ACTUAL_SENTENCES = [
    '全年预算执行率{q}%，各项重点工作任务全部完成',
    '完成年度重点工作任务{k}项，办结民生实事{n}件',
    '“三公”经费支出控制在预算范围内，较上年有所下降',
    '部门预算和决算信息按时公开，公开率100%',
    '开展{topic}专项检查{n}次，发现问题均已整改',
    '部门履职效能持续提升，社会公众满意度{q}%',
]
DEPT_DEVIATION_NOTES = [
    '部分项目受政策调整影响支付滞后，下一步将加强预算执行进度管理。',
    '个别重点工作因客观原因延期，已纳入下年度计划。',
    '满意度调查样本覆盖面不足，将扩大调查范围。',
    '政府采购项目实施周期较长，资金支付进度略有滞后。',
    '基本完成',
]

# level2 -> [(level3, target, actual)], the placeholders of synth._fill_template.
DEPT_INDICATOR_TEMPLATES = {
    '数量指标': [('重点工作任务完成数', '≥{k}项', '{k2}项'), ('开展监督检查次数', '≥{n}次', '{m}次'),
                 ('制定出台政策文件', '{k}个', '{k}个'), ('组织开展宣传活动', '≥{k}场', '{k2}场'),
                 ('办理民生实事', '{n}件', '{n}件')],
    '质量指标': [('部门预算执行率', '≥{p}%', '{q}%'), ('政府采购执行率', '≥{p}%', '{q}%'),
                 ('重点工作完成率', '100%', '100%'), ('决算编报质量', '准确完整', '达标'),
                 ('资产管理规范性', '规范', '规范'), ('政务公开及时率', '100%', '100%')],
    '时效指标': [('预算资金支付及时性', '按进度支付', '及时'), ('重点工作按时完成率', '≥{p}%', '{q}%'),
                 ('决算报送及时性', '按时报送', '按时报送'), ('年度工作完成时间', '≤{month}月', '{month2}月')],
    '经济效益指标': [('促进区域经济发展', '有效促进', '有效促进'), ('节约行政成本', '节约行政成本', '完成')],
    '社会效益指标': [('公共服务水平', '有效提升', '明显提升'), ('部门履职效能', '持续提升', '有效提升'),
                   ('信息公开率', '100%', '100%')],
    '生态效益指标': [('节能减排', '达标', '达标'), ('公共机构能耗降低率', '≥{k}%', '{k2}%')],
    '可持续影响指标': [('长效管理机制', '健全', '健全'), ('内部控制制度建设', '持续完善', '完善')],
    '经济成本指标': [('三公经费控制率', '≤100%', '{q}%'), ('部门预算控制数', '≤{budget}万元', '{executed}万元'),
                   ('日常公用经费控制率', '≤100%', '{q}%')],
    '社会成本指标': [('对社会造成的负面影响', '无', '无'), ('社会成本', '无', '无')],
    '生态环境成本指标': [('生态环境成本', '无负面影响', '无负面影响')],
    '服务对象满意度指标': [('社会公众满意度', '≥{p}%', '{q}%'), ('服务对象满意度', '≥{p}%', '{q}%'),
                      ('干部职工满意度', '≥{p}%', '{q}%')],
}


def _quant(value, places):
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _dept_money(rng):
    """A department's annual budget in 万元 (hundreds to tens of thousands), 0-6
    decimals."""
    places = int(rng.choice([0, 1, 2, 2, 2, 3, 4, 4, 5, 6, 6, 6]))
    whole = int(rng.choice([rng.integers(300, 1000), rng.integers(1000, 10000),
                            rng.integers(1000, 10000), rng.integers(10000, 80000)]))
    frac = Decimal(int(rng.integers(0, 10 ** places))).scaleb(-places) if places else Decimal(0)
    return Decimal(whole) + frac, places


def _shares(rng, items):
    """Budget shares of the breakdown rows (adding to 1); 0 for a row with nothing."""
    if items[0] == '其中：基本支出':
        basic = float(rng.uniform(0.25, 0.75))
        return [basic, 1 - basic]
    if len(items) == 2:
        other = 0.0 if rng.random() < 0.35 else float(rng.uniform(0.01, 0.2))
        return [1 - other, other]
    carry = 0.0 if rng.random() < 0.2 else float(rng.uniform(0.02, 0.2))
    other = 0.0 if rng.random() < 0.4 else float(rng.uniform(0.005, 0.1))
    return [1 - carry - other, carry, other]


def _split(total, shares, places):
    """Parts of `total` in these shares at `places` decimals, adding up exactly (the
    first part takes the rounding)."""
    rest = [_quant(total * Decimal(str(round(s, 4))), places) for s in shares[1:]]
    return [total - sum(rest, Decimal(0))] + rest


def make_dept_funds(rng):
    """(funds rows, total annual, total executed, breakdown_rounded)."""
    annual, places = _dept_money(rng)
    items = DEPT_FUND_BREAKDOWNS[int(rng.integers(len(DEPT_FUND_BREAKDOWNS)))]
    parts = _split(annual, _shares(rng, items), places)
    executed_parts = []
    for part in parts:
        factor = 1.0 if rng.random() < 0.4 else round(float(rng.uniform(0.85, 0.999)), 3)
        executed_parts.append(_quant(part * Decimal(str(factor)), places))
    executed = sum(executed_parts, Decimal(0))
    r = rng.random()
    if r < 0.55:
        initial = annual
    elif r < 0.9:
        initial = _quant(annual * Decimal(str(round(rng.uniform(0.8, 1.1), 2))), min(places, 2))
    else:
        initial = None
    if initial is None:
        initial_parts = [None] * len(parts)
    elif initial == annual:
        initial_parts = list(parts)
    else:
        initial_parts = _split(initial, [float(p / annual) for p in parts], min(places, 2))
    rate_places = int(rng.choice([0, 0, 1, 2]))
    total = empty_fund_row(DEPT_FUND_TOTAL)
    total.update(initial_budget=fmt(initial) if initial is not None else None,
                 annual_budget=fmt(annual), executed=fmt(executed), weight='10',
                 execution_rate=_rate(executed, annual, rate_places),
                 score=fmt(Decimal(10) * executed / annual, int(rng.choice([0, 1, 2]))))
    funds = [total]
    for item, part, done, start in zip(items, parts, executed_parts, initial_parts):
        row = empty_fund_row(item)
        row.update(initial_budget=fmt(start) if start is not None else None,
                   annual_budget=fmt(part), executed=fmt(done), weight=DASH,
                   execution_rate=_rate(done, part, rate_places) if part else DASH, score=DASH)
        funds.append(row)
    rounded = False
    if rng.random() < 0.08 and places >= 2:
        # A breakdown row printed with its budgets rounded to 1 decimal: the parts no
        # longer add up to the total exactly (not one of the rules, so no known issue).
        row = funds[-1] if parts[-1] else funds[1]
        for key in ('annual_budget', 'executed'):
            row[key] = fmt(Decimal(row[key]), 1)
        if row['execution_rate'] != DASH and Decimal(row['annual_budget']):
            row['execution_rate'] = _rate(Decimal(row['executed']), Decimal(row['annual_budget']),
                                          rate_places)
        rounded = True
    return funds, annual, executed, rounded


def _sentence(rng, template, topic):
    p = int(rng.choice([85, 90, 95, 98]))
    return template.format(topic=topic, n=int(rng.integers(3, 60)), m=int(rng.integers(100, 5000)),
                           k=int(rng.integers(3, 20)), p=p, q=min(100, p + int(rng.integers(0, 8))))


def make_goal_text(rng, pool, topic):
    count = int(rng.choice([1, 2, 2, 3, 4, 5]))
    sentences = [_sentence(rng, pool[i], topic) for i in rng.permutation(len(pool))[:count]]
    if count > 1 and rng.random() < 0.6:
        return ''.join(f'{i + 1}.{s}。' for i, s in enumerate(sentences))
    return '，'.join(sentences) + '。'


def make_dept_header(rng):
    district = _pick(rng, DISTRICTS)
    dept, units = _pick(rng, DEPARTMENTS)
    if rng.random() < 0.7:
        name = f'{district}区{dept}'
    else:
        name = f'{district}区{_pick(rng, units)}'
    if rng.random() < 0.15:
        name = '北京市' + name
    return name, AREAS[dept]


def make_department_form(rng, issue_rate=ISSUE_RATE, missing_rate=0.08):
    """A SyntheticForm whose form is a department-level form (dept-self-eval/1)."""
    year = str(rng.choice(['2022', '2023', '2024', '2024', '2024', '2025']))
    department, topic = make_dept_header(rng)
    columns = 8 if rng.random() < 0.45 else 7
    funds, annual, executed, rounded = make_dept_funds(rng)
    goals = {'expected': make_goal_text(rng, DEPT_GOAL_SENTENCES, topic),
             'actual': make_goal_text(rng, DEPT_ACTUAL_SENTENCES, topic)}
    n_rows = int(rng.choice([4, 5, 6, 6, 7, 7, 8, 8, 9, 10, 11, 12, 14]))
    indicators = make_indicators(rng, n_rows, topic, columns, annual, executed,
                                 DEPT_INDICATOR_TEMPLATES, DEPT_DEVIATION_NOTES)
    form = make_dept_form(year, department, funds, goals, indicators,
                          {'weight': '100', 'score': None})
    _retotal_scores(form)
    applied = perturb(rng, form, issue_rate, missing_rate, ['breakdown_rounded'] if rounded else [])
    return SyntheticForm(form=form, columns=columns, perturbations=applied)
