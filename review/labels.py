"""The printed header of each field path, for people (`funds.0.executed` ->
'年度资金总额 · 全年执行数')."""
from __future__ import annotations

import re

from models.document import FUND_ITEMS

HEADERS = {
    'title': '标题', 'year': '年度', 'project_name': '项目名称', 'department': '主管部门',
    'implementing_unit': '实施单位', 'item': '资金项目', 'initial_budget': '年初预算数',
    'annual_budget': '全年预算数', 'executed': '全年执行数', 'weight': '分值',
    'execution_rate': '执行率', 'score': '得分', 'expected': '预期目标',
    'actual': '实际完成值', 'level1': '一级指标', 'level2': '二级指标', 'level3': '三级指标',
    'target': '年度指标值', 'deviation_note': '偏差原因分析及改进措施',
    'funds': '资金表', 'indicators': '绩效指标表', 'total': '总分', 'goals': '年度总体目标',
}
# Money in 万元: a flagged value here needs two people who agree (double-keying).
MONEY_KEYS = ('initial_budget', 'annual_budget', 'executed')
_MONEY = re.compile(r'^funds\.\d+\.(' + '|'.join(MONEY_KEYS) + r')$')
# What a field path may look like in a URL: checked before any lookup.
PATH_RE = re.compile(r'^[a-z_]{1,40}(\.\d{1,4})?(\.[a-z_]{1,40})?$')


_NUMBER = re.compile(r'^(funds\.\d+\.(initial_budget|annual_budget|executed|weight|execution_rate|score)'
                     r'|indicators\.\d+\.(weight|score)|total\.(weight|score))$')
# Free text that runs long (a 222-character 实际完成情况): edited in a multi-line box.
_LONG_TEXT = re.compile(r'^(goals\.(expected|actual)|indicators\.\d+\.deviation_note)$')


def is_money(path: str) -> bool:
    return bool(_MONEY.match(path))


def is_number(path: str) -> bool:
    return bool(_NUMBER.match(path))


def is_long_text(path: str) -> bool:
    return bool(_LONG_TEXT.match(path))


def label(path: str) -> str:
    parts = path.split('.')
    if parts[0] == 'funds' and len(parts) == 3 and parts[1].isdigit():
        i = int(parts[1])
        item = FUND_ITEMS[i] if i < len(FUND_ITEMS) else f'资金第{i + 1}行'
        return f'{item} · {HEADERS.get(parts[2], parts[2])}'
    if parts[0] == 'indicators' and len(parts) == 3 and parts[1].isdigit():
        return f'指标第{int(parts[1]) + 1}行 · {HEADERS.get(parts[2], parts[2])}'
    if parts[0] == 'goals' and len(parts) == 2:
        return f'年度总体目标 · {"预期目标" if parts[1] == "expected" else "实际完成情况"}'
    if parts[0] == 'total' and len(parts) == 2:
        return f'总分 · {HEADERS.get(parts[1], parts[1])}'
    return HEADERS.get(path, path)


REASON_TEXT = {
    'arithmetic': 'arithmetic: a rule between fields fails',
    'split_number': 'split number: digits on several lines',
    'low_confidence': 'low OCR confidence',
    'unparsed': 'not a number',
    'missing': 'required cell empty',
    'structure': 'grid/layout uncertain',
    'page_quality': 'page too rough to trust',
}
