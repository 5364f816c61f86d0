"""Made-up but plausible forms: project names, departments, budgets, goals and
indicator rows, with weights adding to 100 (funds weight 10) and scores not above their
weights. Some forms get inconsistencies on purpose (see perturb_*); rules.find_issues
lists whatever is broken in the end."""
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from .contract import FUND_ITEMS, empty_fund_row, indicator_row, make_form
from .textutil import DASH, number_value

DISTRICTS = ['丰台', '海淀', '朝阳', '西城', '东城', '大兴', '通州', '昌平', '房山', '顺义',
             '石景山', '门头沟']
DEPARTMENTS = [
    ('科学技术和信息化局', ['科技创新促进中心', '信息化服务中心', '中小企业服务中心']),
    ('教育委员会', ['教育技术装备中心', '教师进修学校', '第一中学']),
    ('卫生健康委员会', ['疾病预防控制中心', '卫生健康监督所', '妇幼保健院']),
    ('城市管理委员会', ['市政市容管理中心', '环境卫生服务中心']),
    ('生态环境局', ['生态环境监测站', '环境执法支队']),
    ('文化和旅游局', ['图书馆', '文化馆', '文物保护中心']),
    ('民政局', ['社会福利中心', '养老服务指导中心']),
    ('农业农村局', ['农业技术推广站', '动物疫病预防控制中心']),
    ('商务局', ['商务服务中心']),
    ('财政局', ['财政投资评审中心']),
]
TOPICS = [
    '智慧城市运行监测平台运维', '政务云资源租赁服务', '中小学校舍维修改造', '社区卫生服务能力提升',
    '垃圾分类宣传引导', '河道水环境治理', '公共文化服务体系建设', '老旧小区综合整治',
    '科技型中小企业培育', '人才公寓租赁补贴', '网络安全等级保护测评', '大气污染防治专项',
    '农村人居环境整治', '养老服务驿站运营补贴', '科普基础设施建设', '数字经济产业监测分析',
    '重点产业招商推介活动', '政务服务中心运行保障', '食品安全抽检监测', '应急物资储备',
    '图书馆数字资源采购', '视频监控系统运维', '基层党组织党建活动', '专精特新企业梯度培育',
    '无线政务网运维', '公共法律服务', '街道环境精细化管理', '高新技术企业认定评审',
]
PROJECT_PATTERNS = ['{year}年{topic}', '{topic}经费', '{district}区{topic}项目', '{topic}专项资金',
                    '{year}年度{topic}服务', '{topic}项目尾款', '{topic}']

GOAL_SENTENCES = [
    '按照年度工作计划，完成{topic}相关工作，确保项目按期保质完成',
    '做好{n}家用户单位的日常运维和技术支持服务',
    '建立健全长效管理机制，提升服务效能和群众满意度',
    '加强项目资金管理，严格执行预算，提高财政资金使用效益',
    '围绕区委区政府重点工作部署，推动{topic}提质增效',
    '组织开展专题培训{n}场，覆盖相关工作人员{m}人次',
    '完成年度监测报告{k}份，为领导决策提供数据支撑',
    '落实上级部门关于{topic}的工作要求，形成可复制可推广的经验做法',
]
ACTUAL_SENTENCES = [
    '已完成{topic}各项工作任务，项目运行平稳',
    '全年累计服务{n}家单位，响应及时率100%',
    '形成阶段性成果报告{k}份，相关建议被采纳',
    '组织培训{n}场，参训{m}人次，取得良好效果',
    '资金按进度支付，未发生超预算情况',
    '项目通过验收，服务对象反映良好',
]
DEVIATION_NOTES = [
    '部分活动受场地调整影响延期，下一步将加强计划管理。', '基本满意', '个别指标未完全达到预期，将持续改进。',
    '因合同结算审计延后，支付进度略有滞后。', '服务响应时效有待提高，已优化工作流程。',
]

# level2 -> templates (level3, target, actual); fields in braces are filled per row.
INDICATOR_TEMPLATES = {
    '数量指标': [('{obj}数量', '≥{n}{unit}', '{m}{unit}'), ('{obj}数量', '{n}', '{n}'),
                 ('{obj}次数', '不少于{k}次', '{k2}次'), ('形成{obj}成果', '{k}份', '{k}份'),
                 ('完成{obj}', '{n}{unit}', '{n}{unit}'),
                 ('开展{obj}不少于{n}{unit}并形成工作台账和阶段性总结报告', '≥{n}{unit}', '{m}{unit}')],
    '质量指标': [('验收合格率', '≥{p}%', '{q}%'), ('报告质量', '数据准确，按要求完成。', '报告内容严谨详实、数据准确。'),
                 ('系统可用率', '≥99.9%', '{avail}%'), ('{obj}完成率', '100%', '100%'),
                 ('服务质量达到合同约定标准', '达标', '达标')],
    '时效指标': [('完成时间', '≤{month}月', '{month2}月'), ('资金支付时间', '≤1年', '达标'),
                 ('按时完成各项工作任务', '按时完成', '完成'), ('服务期限', '1年', '1年')],
    '经济效益指标': [('经济效益', '带动相关产业发展，促进区域经济高质量发展', '有效带动'),
                   ('节约行政成本', '节约行政成本', '完成')],
    '社会效益指标': [('社会效益', '提升公众满意度和获得感', '有效提升'),
                   ('提升{topic}服务水平，保障群众日常生活需求', '明显提升', '完成'),
                   ('宣传报道数量', '≥{k}篇', '{k2}篇')],
    '生态效益指标': [('节能降耗', '优', '优'), ('实施低碳管理', '达标', '达标'),
                   ('垃圾分类准确率', '≥{p}%', '{q}%')],
    '可持续影响指标': [('长效机制建设', '持续发挥作用', '持续发挥作用'), ('用户容量', '≥{n}万', '≥{n}万')],
    '经济成本指标': [('项目预算控制数', '≤{budget}万元', '{executed}万元'), ('项目金额', '≤{budget_round}万', '{executed}万'),
                   ('合同金额', '{yuan}元', '{yuan}元')],
    '社会成本指标': [('社会成本', '无', '无'), ('对周边居民生活的影响', '无明显影响', '无明显影响')],
    '生态环境成本指标': [('生态环境成本', '无负面影响', '无负面影响'), ('施工扬尘控制', '达标', '达标')],
    '服务对象满意度指标': [('服务对象满意度', '≥{p}%', '{q}%'), ('用户满意度', '≥{p}%', '≥{p}%'),
                      ('参会人员对活动满意度', '≥{p}%', '{q}%')],
}
OBJECTS = [('服务企业', '家'), ('培训', '场'), ('活动', '场'), ('调研报告', '份'), ('监测站点', '个'),
           ('设备采购', '台'), ('覆盖社区', '个'), ('受益群众', '人次'), ('巡查', '次'), ('系统运维', '次')]
LEVEL2_CHOICES = {
    '产出指标': ['数量指标', '质量指标', '时效指标'],
    '效益指标': ['经济效益指标', '社会效益指标', '生态效益指标', '可持续影响指标'],
    '成本指标': ['经济成本指标', '经济成本指标', '社会成本指标', '生态环境成本指标'],
    '满意度指标': ['服务对象满意度指标'],
}


@dataclass
class SyntheticForm:
    form: dict
    columns: int            # 7 or 8 indicator columns
    perturbations: list     # names of the inconsistencies put in on purpose


def fmt(value, places=None):
    """Printed form of a Decimal: no exponent, no trailing zeros."""
    d = Decimal(value)
    if places is not None:
        d = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return format(d.normalize(), 'f')


def _pick(rng, items):
    return items[int(rng.integers(len(items)))]


# ------------------------------------------------------------- header, goals

def make_header(rng, year):
    district = _pick(rng, DISTRICTS)
    dept, units = _pick(rng, DEPARTMENTS)
    department = f'{district}区{dept}'
    unit = department if rng.random() < 0.6 else f'{district}区{_pick(rng, units)}'
    topic = _pick(rng, TOPICS)
    name = _pick(rng, PROJECT_PATTERNS).format(year=year, topic=topic, district=district)
    return name, department, unit, topic


def _sentence(rng, template, topic):
    return template.format(topic=topic, n=int(rng.integers(3, 60)), m=int(rng.integers(100, 5000)),
                           k=int(rng.integers(1, 13)))


def make_goal_text(rng, pool, topic):
    count = int(rng.choice([1, 1, 2, 3, 4, 5]))
    picks = [pool[i] for i in rng.permutation(len(pool))[:count]]
    sentences = [_sentence(rng, t, topic) for t in picks]
    if count > 1 and rng.random() < 0.6:
        return ''.join(f'{i + 1}.{s}。' for i, s in enumerate(sentences))
    return '，'.join(sentences) + '。'


# --------------------------------------------------------------------- funds

def _money(rng):
    """A budget in 万元 with 0-6 decimals; long decimals are common on purpose (they
    are what wraps inside the narrow funds columns)."""
    places = int(rng.choice([0, 1, 2, 2, 3, 4, 4, 5, 6, 6, 6, 6]))
    whole = int(rng.choice([rng.integers(1, 10), rng.integers(10, 100), rng.integers(10, 100),
                            rng.integers(100, 1000), rng.integers(100, 1000),
                            rng.integers(1000, 5000)]))
    frac = Decimal(int(rng.integers(0, 10 ** places))).scaleb(-places) if places else Decimal(0)
    return Decimal(whole) + frac, places


def _rate(executed, annual, places):
    """The execution rate as printed. A rate that would round up to 100% while less
    than the budget was executed is printed with more decimals (99.96%): auditors read
    100% as all of it (the rule the validator and rules.py apply)."""
    rate = executed / annual * 100
    text = fmt(rate, places)
    more = places
    while executed < annual and Decimal(text) >= 100 and more < places + 4:
        more += 1
        text = fmt(rate, more)
    if executed < annual and Decimal(text) >= 100:
        text = fmt(rate.quantize(Decimal(1).scaleb(-more), rounding=ROUND_DOWN), more)
    return text + '%'


def make_funds(rng):
    annual, places = _money(rng)
    executed = annual
    if rng.random() < 0.35:
        executed = (annual * Decimal(str(round(rng.uniform(0.85, 0.999), 3)))).quantize(
            Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    initial = None
    r = rng.random()
    if r < 0.5:
        initial = annual
    elif r < 0.75:
        initial = Decimal(int(annual * Decimal(str(round(rng.uniform(0.8, 1.3), 2)))))
    rate_places = int(rng.choice([0, 0, 1, 2]))
    rate = _rate(executed, annual, rate_places)
    weight = Decimal(10)
    score = fmt(weight * executed / annual, int(rng.choice([0, 1, 2])))
    carry = None
    if rng.random() < 0.2:
        carry = (annual * Decimal(str(round(rng.uniform(0.05, 0.4), 2)))).quantize(
            Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    funds = [empty_fund_row(item) for item in FUND_ITEMS]
    funds[0].update(initial_budget=fmt(initial) if initial is not None else None,
                    annual_budget=fmt(annual), executed=fmt(executed), weight='10',
                    execution_rate=rate, score=score)
    fiscal_annual = annual - (carry or 0)
    fiscal_exec = executed - (carry or 0)
    funds[1].update(initial_budget=fmt(initial) if initial is not None else None,
                    annual_budget=fmt(fiscal_annual), executed=fmt(fiscal_exec), weight=DASH,
                    execution_rate=_rate(fiscal_exec, fiscal_annual, rate_places) if fiscal_annual else None,
                    score=DASH)
    if carry:
        funds[2].update(annual_budget=fmt(carry), executed=fmt(carry),
                        execution_rate=_rate(carry, carry, rate_places))
        funds[2].update(weight=DASH, score=DASH)
    for row in funds[2:]:
        _fill_empty_fund_row(rng, row)
    return funds, annual, executed


def _fill_empty_fund_row(rng, row):
    """Weight and score of the sub-rows are printed dashes; the style of the empty
    cells varies between forms (blank, '—' or zeros)."""
    if row['annual_budget'] is not None:
        return
    style = rng.random()
    row['weight'] = DASH if style < 0.85 else None
    row['score'] = DASH if style < 0.85 else None
    if style < 0.1:
        row.update(initial_budget='0', annual_budget='0', executed='0', execution_rate=DASH)
    elif style < 0.25:
        row['execution_rate'] = DASH


# ---------------------------------------------------------------- indicators

def _indicator_groups(rng, n_rows, templates=INDICATOR_TEMPLATES):
    """[(level1, level2)] for n_rows rows, in the printed order of the levels."""
    groups = [('产出指标', '数量指标')]
    if rng.random() < 0.85:
        groups.append(('产出指标', '质量指标'))
    if rng.random() < 0.85:
        groups.append(('产出指标', '时效指标'))
    for l2 in rng.permutation(LEVEL2_CHOICES['效益指标'])[:int(rng.integers(1, 4))]:
        groups.append(('效益指标', str(l2)))
    if rng.random() < 0.8:
        groups.append(('成本指标', _pick(rng, LEVEL2_CHOICES['成本指标'])))
    if rng.random() < 0.85:
        groups.append(('满意度指标', '服务对象满意度指标'))
    groups = groups[:n_rows]
    counts = [1] * len(groups)
    for _ in range(n_rows - len(groups)):
        # Extra rows go to groups that still have unused templates (repeats look fake).
        room = [i for i, (_, l2) in enumerate(groups) if counts[i] < len(templates[l2])]
        counts[_pick(rng, room) if room else 0] += 1
    level1_order = list(LEVEL2_CHOICES)
    level2_order = [l2 for names in LEVEL2_CHOICES.values() for l2 in names]
    paired = sorted(zip(groups, counts), key=lambda gc: (level1_order.index(gc[0][0]),
                                                         level2_order.index(gc[0][1])))
    return [g for g, c in paired for _ in range(c)]


def _split_weights(rng, total, n):
    """n positive integer weights adding to total, mostly multiples of 5 and not far
    from even (real forms give 5-30 points per indicator)."""
    if total % 5 == 0 and total // 5 >= n and rng.random() < 0.7:
        units, step = total // 5, 5
    else:
        units, step = total, 1
    parts = 1 + rng.multinomial(units - n, rng.dirichlet([4.0] * n))
    return [int(p) * step for p in parts]


def _fill_template(rng, template, topic, budget, executed):
    obj, unit = _pick(rng, OBJECTS)
    n = int(rng.integers(2, 500))
    p = int(rng.choice([80, 85, 90, 95, 98]))
    month = int(rng.integers(6, 13))
    values = dict(obj=obj, unit=unit, n=n, m=n + int(rng.integers(0, 30)), p=p,
                  q=min(100, p + int(rng.integers(0, 8))), avail=_pick(rng, ['99.95', '99.99', '100']),
                  month=month, month2=max(1, month - int(rng.integers(0, 3))),
                  k=int(rng.integers(2, 12)), k2=int(rng.integers(2, 20)), topic=topic,
                  budget=fmt(budget), executed=fmt(executed),
                  budget_round=fmt(budget.to_integral_value(rounding='ROUND_CEILING')),
                  yuan=fmt((executed * 10000).to_integral_value()))
    return tuple(part.format(**values) for part in template)


def _scores(rng, weights):
    scores = []
    for w in weights:
        if rng.random() < 0.75 or w <= 1:
            scores.append(Decimal(w))
        else:
            scores.append(Decimal(w) - Decimal(int(rng.integers(1, min(4, w) + 1))) / (2 if rng.random() < 0.2 else 1))
    return scores


def make_indicators(rng, n_rows, topic, columns, budget, executed, templates=INDICATOR_TEMPLATES,
                    notes=DEVIATION_NOTES):
    """Indicator rows; `templates` (level2 -> [(level3, target, actual)]) and `notes`
    default to the project form's (synth_dept passes the department form's)."""
    groups = _indicator_groups(rng, n_rows, templates)
    weights = _split_weights(rng, 90, len(groups))
    scores = _scores(rng, weights)
    rows, unused = [], {}
    for (l1, l2), weight, score in zip(groups, weights, scores):
        # Templates of a level-2 group are drawn without replacement, so rows differ.
        if not unused.get(l2):
            unused[l2] = list(rng.permutation(len(templates[l2])))
        template = templates[l2][int(unused[l2].pop())]
        level3, target, actual = _fill_template(rng, template, topic, budget, executed)
        note = None
        if columns == 8 and score < weight:
            note = _pick(rng, notes)
        elif columns == 8 and rng.random() < 0.05:
            note = DASH
        rows.append(indicator_row(level1=l1, level2=l2, level3=level3, target=target,
                                  actual=actual, weight=str(weight), score=fmt(score),
                                  deviation_note=note))
    return rows


# ------------------------------------------------------------ perturbations

def _set_fund_rate(form, value):
    form['funds'][0]['execution_rate'] = value


def perturb_rate(rng, form):
    """Print an execution rate that does not match executed / annual budget."""
    row = form['funds'][0]
    annual, executed = number_value(row['annual_budget']), number_value(row['executed'])
    if executed == annual:
        executed = (annual * Decimal('0.9')).quantize(Decimal('0.01'))
        row['executed'] = fmt(executed)
        _set_fund_rate(form, '100%')
    else:
        true_rate = executed / annual * 100
        _set_fund_rate(form, fmt(min(Decimal(100), true_rate + int(rng.integers(3, 12))), 0) + '%')


def perturb_executed_over(rng, form):
    row = form['funds'][0]
    annual = number_value(row['annual_budget'])
    over = (annual * Decimal(str(round(rng.uniform(1.02, 1.12), 3)))).quantize(Decimal('0.01'))
    row['executed'] = fmt(over)
    if rng.random() < 0.5:
        row['execution_rate'] = _rate(over, annual, 0)


def perturb_score_over(rng, form):
    i = int(rng.integers(len(form['indicators'])))
    row = form['indicators'][i]
    row['score'] = str(int(row['weight']) + int(rng.integers(1, 6)))
    if rng.random() < 0.5:
        _retotal_scores(form)


def perturb_sum_scores(rng, form):
    """Print a total score that is not the sum of the scores above it."""
    total = number_value(form['total']['score'])
    delta = int(rng.choice([-5, -3, -2, -1, 1, 2]))
    if total + delta > 100:
        delta = -abs(delta)
    form['total']['score'] = fmt(total + delta)


def perturb_sum_weights(rng, form):
    """Change one indicator weight so the weights no longer add up to the total."""
    row = form['indicators'][int(rng.integers(len(form['indicators'])))]
    weight = int(row['weight'])
    row['weight'] = str(weight + int(rng.choice([-2, 3, 5])) if weight > 2 else weight + 5)


def perturb_missing(rng, form):
    """Leave one required cell empty."""
    choice = int(rng.integers(4))
    if choice == 0:
        form['indicators'][int(rng.integers(len(form['indicators'])))]['actual'] = None
    elif choice == 1:
        form['indicators'][int(rng.integers(len(form['indicators'])))]['score'] = None
    elif choice == 2:
        form['funds'][0]['execution_rate'] = None
    else:
        form['funds'][0]['executed'] = None


ARITHMETIC_PERTURBATIONS = {'rate': perturb_rate, 'executed_over': perturb_executed_over,
                            'score_over': perturb_score_over, 'sum_scores': perturb_sum_scores,
                            'sum_weights': perturb_sum_weights}


def _retotal_scores(form):
    parts = [number_value(form['funds'][0]['score'])] + [number_value(r['score']) for r in form['indicators']]
    form['total']['score'] = fmt(sum(parts))


# ---------------------------------------------------------------------- form

# Share of synthetic forms printed with arithmetic inconsistencies. The real publication
# the seeds come from has them in 2 of its 32 parsed forms (6%); 0.1 keeps near that while
# still giving a 30-form corpus a few to find. Stress corpora for known-issue recall ask
# for more (--issue-rate 0.5).
ISSUE_RATE = 0.1


def make_synthetic_form(rng, issue_rate=ISSUE_RATE, missing_rate=0.08):
    year = str(rng.choice(['2022', '2023', '2024', '2024', '2024', '2025']))
    name, department, unit, topic = make_header(rng, year)
    columns = 8 if rng.random() < 0.45 else 7
    funds, annual, executed = make_funds(rng)
    goals = {'expected': make_goal_text(rng, GOAL_SENTENCES, topic),
             'actual': make_goal_text(rng, ACTUAL_SENTENCES, topic)}
    n_rows = int(rng.choice([3, 4, 5, 6, 6, 7, 7, 8, 8, 9, 10, 11, 12, 13, 14, 16]))
    indicators = make_indicators(rng, n_rows, topic, columns, annual, executed)
    form = make_form(year, name, department, unit, funds, goals, indicators,
                     {'weight': '100', 'score': None})
    _retotal_scores(form)
    return SyntheticForm(form=form, columns=columns,
                         perturbations=perturb(rng, form, issue_rate, missing_rate))


def perturb(rng, form, issue_rate, missing_rate, applied=()):
    """Print 1-2 inconsistencies (issue_rate) and an empty required cell (missing_rate)
    into a consistent form; the names of what was done, after `applied`."""
    applied = list(applied)
    if rng.random() < issue_rate:
        names = list(ARITHMETIC_PERTURBATIONS)
        for key in rng.permutation(names)[:int(rng.integers(1, 3))]:
            ARITHMETIC_PERTURBATIONS[str(key)](rng, form)
            applied.append(str(key))
    if rng.random() < missing_rate:
        perturb_missing(rng, form)
        applied.append('missing')
    return applied
