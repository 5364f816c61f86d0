"""Tolerant parser for the text of the real forms (tests/data/seeds/*.txt).

The text came out of a PDF text extraction: one table row per line, cells separated by
tabs, but cells are shifted left or right in places, empty cells are dropped or doubled,
the last column is lost on some rows, merged cells show up only on their first row and
wrapped numbers are split with a space ('396.26752 9'). So values are recovered by label
(item name, header word) and by their shape (a percentage is the execution rate, the two
plain numbers at the right end of an indicator row are its weight and score), not by
column position alone. A form that cannot be recovered cleanly is skipped with a reason.
"""
import os
import re
from dataclasses import dataclass, field

from .contract import (FUND_ITEMS, FUND_VALUE_KEYS, LEVEL1_NAMES, LEVEL2_NAMES,
                       empty_fund_row, indicator_row, make_form)
from .textutil import DASH, clean_cell, compact, is_dash, number_value

# The seed text ships with the tests (tests/data/seeds); SCANGEN_SEEDS names another file.
_IN_REPO_SEEDS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              'data', 'seeds', 'fengtai-2024-self-evaluation-forms.txt')
DEFAULT_SEEDS = os.environ.get('SCANGEN_SEEDS', _IN_REPO_SEEDS)
SEED_YEAR = '2024'

# Prefixes that identify each funds row even when its label is cut short ('其中:当年财政').
_FUND_KEYS = ['年度资金总额', '当年财政', '上年结转', '其他资金']
_BLOCK_LABELS = re.compile(r'^(年度总体目标|绩效指标|项目资金\(万元\))+$')
_PLAIN = re.compile(r'^\d+(\.\d+)?$')


class SeedParseError(ValueError):
    pass


@dataclass
class SeedForm:
    index: int                  # 0-based position in the seed file (publication order)
    form: dict                  # contract Form (pages empty)
    columns: int                # 7 or 8 indicator columns as printed
    repairs: list = field(default_factory=list)   # values restored from the arithmetic


def split_forms(text):
    """Rows (lists of raw cells) of each form; a form starts at its title line."""
    forms, current = [], None
    for line in text.splitlines():
        if compact(line).startswith('项目支出绩效自评表'):
            current = []
            forms.append(current)
            continue
        if current is not None and line.strip():
            current.append(line.split('\t'))
    return forms


def _tokens(cells):
    """Non-empty cleaned cells of a row, without the block labels of the left column."""
    out = []
    for cell in cells:
        value = clean_cell(cell)
        if value is not None and not _BLOCK_LABELS.match(compact(value)):
            out.append(value)
    return out


def _find_row(rows, predicate, start=0):
    for i in range(start, len(rows)):
        if predicate([compact(c) for c in rows[i]]):
            return i
    raise SeedParseError('row not found')


def _value_after(cells, label):
    """First non-empty cell after the cell that carries `label`."""
    keys = [compact(c) for c in cells]
    for i, key in enumerate(keys):
        if key.startswith(label):
            for cell in cells[i + 1:]:
                value = clean_cell(cell)
                if value is not None:
                    return value
            break
    raise SeedParseError(f'no value after {label}')


def parse_header(rows):
    name_row = _find_row(rows, lambda k: any(c.startswith('项目名称') for c in k))
    dept_row = _find_row(rows, lambda k: any(c.startswith('主管部门') for c in k))
    return (_value_after(rows[name_row], '项目名称'), _value_after(rows[dept_row], '主管部门'),
            _value_after(rows[dept_row], '实施单位'))


# ---------------------------------------------------------------- funds block

def _is_number(value):
    return value is not None and number_value(value) is not None


def _positional_fund_values(cells, row_index):
    """The 6 values by position, when the row has exactly 6 cells after its item label
    and each lands in a slot that fits its shape; else None."""
    values = [clean_cell(c) for c in cells]
    while values and values[-1] is None:
        values.pop()
    while len(values) > 6 and values[0] is None:
        values.pop(0)
    if len(values) != 6:
        return None
    budgets, weight, rate, score = values[:3], values[3], values[4], values[5]
    if any(v is not None and v.endswith('%') for v in budgets + [weight, score]):
        return None     # only the execution rate is a percentage
    if any(v is not None and not _is_number(v) for v in budgets):
        return None
    if row_index == 0 and not _is_number(weight):
        return None
    if weight is not None and not (is_dash(weight) or _is_number(weight)):
        return None
    if rate is not None and not (is_dash(rate) or _is_number(rate)):
        return None
    if score is not None and not (is_dash(score) or _is_number(score)):
        return None
    return values


def _shape_fund_values(cells):
    """The 6 values recovered from the shapes of the non-empty cells: budgets, then the
    weight, the execution rate (the percentage) and the score."""
    tokens = [v for v in (clean_cell(c) for c in cells) if v is not None]
    if all(is_dash(t) for t in tokens):
        slots = {0: [], 1: [3], 2: [3, 5], 3: [3, 4, 5]}.get(len(tokens))
        if slots is None:
            raise SeedParseError('funds row: too many dashes')
        values = [None] * 6
        for slot, token in zip(slots, tokens):
            values[slot] = token
        return values
    rate_at = [i for i, t in enumerate(tokens) if t.endswith('%')]
    if not rate_at or rate_at[-1] == 0:
        raise SeedParseError('funds row: no execution rate')
    r = rate_at[-1]
    weight, rate = tokens[r - 1], tokens[r]
    after = tokens[r + 1:]
    if len(after) > 1 or not (is_dash(weight) or _is_number(weight)):
        raise SeedParseError('funds row: unexpected cells')
    budgets = tokens[:r - 1]
    if len(budgets) not in (0, 2, 3) or not all(_is_number(b) for b in budgets):
        raise SeedParseError('funds row: budgets')
    if len(budgets) == 2 and number_value(budgets[0]) != number_value(budgets[1]):
        # Two different budgets could be (initial, annual) or (annual, executed).
        raise SeedParseError('funds row: ambiguous budgets')
    budgets = [None] * (3 - len(budgets)) + budgets
    return budgets + [weight, rate, after[0] if after else None]


def parse_funds(rows):
    start = _find_row(rows, lambda k: '年初预算数' in k)
    funds = []
    for row_index, (key, item) in enumerate(zip(_FUND_KEYS, FUND_ITEMS)):
        found = None
        for cells in rows[start + 1:start + 7]:
            keys = [compact(c) for c in cells]
            hits = [i for i, k in enumerate(keys) if key in k]
            if hits:
                found = cells[hits[0] + 1:]
                break
        if found is None:
            raise SeedParseError(f'funds row {item} not found')
        values = _positional_fund_values(found, row_index) or _shape_fund_values(found)
        row = empty_fund_row(item)
        row.update(dict(zip(FUND_VALUE_KEYS, values)))
        funds.append(row)
    return funds


# ---------------------------------------------------------------- goals block

def parse_goals(rows):
    head = _find_row(rows, lambda k: '预期目标' in k)
    if head + 1 >= len(rows):
        raise SeedParseError('goals text missing')
    tokens = [t.lstrip('"') for t in _tokens(rows[head + 1])]
    if len(tokens) != 2:
        raise SeedParseError(f'goals: {len(tokens)} texts')
    return {'expected': tokens[0], 'actual': tokens[1]}


# ----------------------------------------------------------- indicators block

def _looks_level2(text):
    return text in LEVEL2_NAMES or (len(text) <= 12 and re.search('(指标|满意度标|满意度)$', text))


def _split_labels(labels):
    """(level1, level2, level3) from the label cells in front of the target; a level
    that is None continues the merged cell above."""
    labels = list(labels)
    level1 = labels.pop(0) if labels and labels[0] in LEVEL1_NAMES else None
    level2 = labels.pop(0) if len(labels) >= 2 and _looks_level2(labels[0]) else None
    if len(labels) > 1:
        raise SeedParseError('indicator row: too many label cells')
    level3 = labels[0] if labels else None
    if level1 and level2 is None and level3 in LEVEL2_NAMES:
        # The row lost its level-3 cell: a bare level-2 name after a level-1 name.
        level2, level3 = level3, None
    return level1, level2, level3


def _split_indicator_row(tokens):
    """(labels, target, actual, weight, score, deviation) of one indicator row: weight
    and score are the right-most two adjacent plain numbers."""
    for i in range(len(tokens) - 2, -1, -1):
        if _PLAIN.match(tokens[i]) and _PLAIN.match(tokens[i + 1]):
            break
    else:
        raise SeedParseError('indicator row without weight and score')
    before = tokens[:i]
    if len(before) < 2:
        raise SeedParseError('indicator row without target or actual')
    deviation = ''.join(tokens[i + 2:]) or None
    return before[:-2], before[-2], before[-1], tokens[i], tokens[i + 1], deviation


def parse_indicators(rows):
    """(indicator rows, total, has deviation column)."""
    head = _find_row(rows, lambda k: '一级指标' in k)
    has_deviation = any('偏差' in compact(c) for c in rows[head])
    level1 = next((name for c in rows[head] for name in LEVEL1_NAMES if name in compact(c)), None)
    level2 = None
    indicators = []
    for cells in rows[head + 1:]:
        keys = [compact(c) for c in cells]
        if '总分' in keys:
            numbers = [t for t in _tokens(cells[keys.index('总分') + 1:]) if _PLAIN.match(t)]
            if len(numbers) < 2:
                raise SeedParseError('total row without weight and score')
            if not indicators:
                raise SeedParseError('no indicator rows')
            return indicators, {'weight': numbers[0], 'score': numbers[1]}, has_deviation
        tokens = _tokens(cells)
        if not tokens:
            continue
        labels, target, actual, weight, score, deviation = _split_indicator_row(tokens)
        new1, new2, level3 = _split_labels(labels)
        if new1:
            level1, level2 = new1, None
        if new2:
            level2 = new2
        has_deviation = has_deviation or deviation is not None
        indicators.append(indicator_row(level1=level1, level2=level2, level3=level3,
                                        target=target, actual=actual, weight=weight,
                                        score=score, deviation_note=deviation))
    raise SeedParseError('form is cut off before its total row')


# ------------------------------------------------------------------- repairs

def _repair_lost_scores(form):
    """Where the text lost the last column of a funds row, restore the score: '—' under
    a '—' weight, else total score minus the indicator scores when that is a valid
    score. Returns a description of each repair."""
    repairs = []
    funds = form['funds']
    for i, row in enumerate(funds):
        if row['score'] is None and is_dash(row['weight']):
            row['score'] = DASH
            repairs.append(f'funds.{i}.score=—')
    row = funds[0]
    total = number_value(form['total']['score'])
    scores = [number_value(r['score']) for r in form['indicators']]
    if row['score'] is None and total is not None and None not in scores:
        rest = total - sum(scores)
        weight = number_value(row['weight'])
        if weight is not None and 0 <= rest <= weight:
            row['score'] = format(rest.normalize(), 'f')
            repairs.append(f'funds.0.score={row["score"]} (total minus indicator scores)')
    return repairs


def parse_form(rows, index):
    name, department, unit = parse_header(rows)
    funds = parse_funds(rows)
    goals = parse_goals(rows)
    indicators, total, has_deviation = parse_indicators(rows)
    if not has_deviation:
        for row in indicators:
            row['deviation_note'] = None
    form = make_form(SEED_YEAR, name, department, unit, funds, goals, indicators, total)
    repairs = _repair_lost_scores(form)
    return SeedForm(index=index, form=form, columns=8 if has_deviation else 7, repairs=repairs)


def parse_seed_text(text):
    """(parsed SeedForms, skipped [(index, reason)])."""
    parsed, skipped = [], []
    for index, rows in enumerate(split_forms(text)):
        try:
            parsed.append(parse_form(rows, index))
        except SeedParseError as exc:
            skipped.append((index, str(exc)))
    return parsed, skipped


def load_seeds(path=DEFAULT_SEEDS):
    with open(path, encoding='utf-8') as fh:
        return parse_seed_text(fh.read())
