"""The exported Form shapes of the result contract (shared/schema/README.md), as plain
dicts, plus the label vocabulary printed on the forms.

Two form kinds: the project form 项目支出绩效自评表 (schema perf-self-eval/1, the
default) and the department-level form 部门整体支出绩效自评表 (dept-self-eval/1), which
has one header value (department) and its own funds rows. A form dict without a
'schema' key is a project form."""

SCHEMA = 'perf-self-eval/1'
TITLE = '项目支出绩效自评表'
DEPT_SCHEMA = 'dept-self-eval/1'
DEPT_TITLE = '部门整体支出绩效自评表'
KIND_SCHEMAS = {'project': SCHEMA, 'department': DEPT_SCHEMA}

FUND_ITEMS = ['年度资金总额', '其中：当年财政拨款', '上年结转资金', '其他资金']
FUND_VALUE_KEYS = ['initial_budget', 'annual_budget', 'executed', 'weight',
                   'execution_rate', 'score']
FUND_HEADERS = ['年初预算数', '全年预算数', '全年执行数', '分值', '执行率', '得分']
IND_KEYS = ['level1', 'level2', 'level3', 'target', 'actual', 'weight', 'score',
            'deviation_note']
IND_HEADERS = ['一级指标', '二级指标', '三级指标', '年度指标值', '实际完成值', '分值', '得分',
               '偏差原因分析及改进措施']
FORM_KEYS = ['title', 'year', 'pages', 'project_name', 'department', 'implementing_unit',
             'funds', 'goals', 'indicators', 'total']
DEPT_FORM_KEYS = ['schema', 'title', 'year', 'pages', 'department', 'funds', 'goals',
                  'indicators', 'total']
HEADER_KEYS = {SCHEMA: ('project_name', 'department', 'implementing_unit'),
               DEPT_SCHEMA: ('department',)}

# Department form: the label of the header row, the variants of the funds block's left
# label, the first funds row and the breakdowns printed under it.
DEPT_HEADER_LABEL = '部门（单位）名称'
DEPT_FUNDS_LABELS = ['年度预算执行情况（万元）', '部门资金（万元）', '预算执行情况（万元）']
DEPT_FUND_TOTAL = '年度资金总额'
DEPT_FUND_BREAKDOWNS = [['其中：基本支出', '项目支出'],
                        ['其中：财政拨款', '其他资金'],
                        ['其中：财政拨款', '上年结转资金', '其他资金']]

LEVEL1_NAMES = ['产出指标', '效益指标', '成本指标', '满意度指标']
LEVEL2_BY_LEVEL1 = {
    '产出指标': ['数量指标', '质量指标', '时效指标'],
    '效益指标': ['经济效益指标', '社会效益指标', '生态效益指标', '可持续影响指标'],
    '成本指标': ['经济成本指标', '社会成本指标', '生态环境成本指标'],
    '满意度指标': ['服务对象满意度指标'],
}
LEVEL2_NAMES = [name for names in LEVEL2_BY_LEVEL1.values() for name in names]


def empty_fund_row(item):
    row = {'item': item}
    row.update({k: None for k in FUND_VALUE_KEYS})
    return row


def indicator_row(**values):
    return {k: values.get(k) for k in IND_KEYS}


def make_form(year, project_name, department, implementing_unit, funds, goals,
              indicators, total):
    """A contract Form dict with its keys in the documented order ('pages' is filled
    in once the form is laid out)."""
    return {
        'title': TITLE, 'year': year, 'pages': [],
        'project_name': project_name, 'department': department,
        'implementing_unit': implementing_unit,
        'funds': funds, 'goals': goals, 'indicators': indicators, 'total': total,
    }


def make_dept_form(year, department, funds, goals, indicators, total):
    """A department-level contract Form dict, keys in the documented order."""
    return {
        'schema': DEPT_SCHEMA, 'title': DEPT_TITLE, 'year': year, 'pages': [],
        'department': department,
        'funds': funds, 'goals': goals, 'indicators': indicators, 'total': total,
    }


def form_schema(form):
    """The schema of a form dict: its 'schema' key, perf-self-eval/1 when it has none."""
    return form.get('schema') or SCHEMA


def form_kind(form):
    return 'department' if form_schema(form) == DEPT_SCHEMA else 'project'


def header_keys(form):
    """The header value keys of the form's kind."""
    return HEADER_KEYS.get(form_schema(form), HEADER_KEYS[SCHEMA])


def form_paths(form):
    """Ordered (dotted path, value) pairs of every value cell of a form (either kind)."""
    for key in header_keys(form):
        yield key, form.get(key)
    for i, row in enumerate(form['funds']):
        for key in FUND_VALUE_KEYS:
            yield f'funds.{i}.{key}', row.get(key)
    yield 'goals.expected', form['goals'].get('expected')
    yield 'goals.actual', form['goals'].get('actual')
    for i, row in enumerate(form['indicators']):
        for key in IND_KEYS:
            yield f'indicators.{i}.{key}', row.get(key)
    yield 'total.weight', form['total'].get('weight')
    yield 'total.score', form['total'].get('score')


def get_path(form, path):
    node = form
    for part in path.split('.'):
        node = node[int(part)] if isinstance(node, list) else node.get(part)
        if node is None:
            return None
    return node
