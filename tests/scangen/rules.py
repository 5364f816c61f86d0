"""Cross-field rules of the form and the truth `known_issues` they produce.

Rules (the `arithmetic` reason of the contract):
  rate        execution_rate differs from executed / annual_budget by more than the
              rounding of the printed rate allows (a rate printed without '%' is read
              as a percentage too), or is printed as 100% (or more) while less than
              the annual budget was executed
  over_budget executed > annual_budget
  score_over  score > weight (funds row 0, every indicator row, the total)
  weights_sum funds.0.weight + indicator weights != total.weight
  scores_sum  funds.0.score + indicator scores != total.score
Sums are checked when the total and every addend parse as plain numbers or are empty
(or a dash), an empty addend counting as printed (nothing): a total that only adds up
if an empty cell held a value is an arithmetic issue as well as a `missing` one. The rules are the same for both form kinds; only the required
header values differ (a department form has `department` alone).
"""
from decimal import Decimal

from .contract import get_path, header_keys
from .textutil import DASH, decimals_of, number_value

REQUIRED_BODY_FIELDS = ['funds.0.annual_budget', 'funds.0.executed', 'funds.0.weight',
                        'funds.0.execution_rate', 'funds.0.score', 'goals.expected',
                        'goals.actual', 'total.weight', 'total.score']
# Of a project form (a department form's are header_keys(form) + REQUIRED_BODY_FIELDS).
REQUIRED_FIELDS = ['project_name', 'department', 'implementing_unit'] + REQUIRED_BODY_FIELDS
REQUIRED_INDICATOR_KEYS = ['level1', 'level2', 'level3', 'target', 'actual', 'weight', 'score']


def _issue(form_index, field, reason, related, detail, rule):
    return {'form': form_index, 'field': field, 'reason': reason, 'related': related,
            'detail': detail, 'rule': rule}


def _num(form, path):
    return number_value(get_path(form, path))


def rate_issue(form, i, form_index):
    base = f'funds.{i}'
    rate_text = get_path(form, f'{base}.execution_rate')
    rate, annual, executed = (_num(form, f'{base}.{k}') for k in
                              ('execution_rate', 'annual_budget', 'executed'))
    if None in (rate, annual, executed) or annual == 0:
        return None
    expected = executed / annual * 100
    tolerance = Decimal(5).scaleb(-decimals_of(rate_text) - 1) + Decimal('1e-9')
    # Auditors read 100% as all of it: a rate rounded up to 100% hides what was not spent.
    rounded_up = rate >= 100 and executed < annual
    if abs(rate - expected) <= tolerance and not rounded_up:
        return None
    return _issue(form_index, f'{base}.execution_rate', 'arithmetic',
                  [f'{base}.executed', f'{base}.annual_budget'],
                  f'execution rate {rate_text} but executed/annual budget = '
                  f'{expected:.2f}%', 'rate')


def over_budget_issue(form, i, form_index):
    base = f'funds.{i}'
    annual, executed = _num(form, f'{base}.annual_budget'), _num(form, f'{base}.executed')
    if None in (annual, executed) or executed <= annual:
        return None
    return _issue(form_index, f'{base}.executed', 'arithmetic', [f'{base}.annual_budget'],
                  f'executed {executed} > annual budget {annual}', 'over_budget')


def score_over_issue(form, base, form_index):
    weight, score = _num(form, f'{base}.weight'), _num(form, f'{base}.score')
    if None in (weight, score) or score <= weight:
        return None
    return _issue(form_index, f'{base}.score', 'arithmetic', [f'{base}.weight'],
                  f'score {score} > weight {weight}', 'score_over')


def sum_issue(form, key, form_index):
    """weights_sum / scores_sum: funds row 0 plus the indicators against the total."""
    paths = [f'funds.0.{key}'] + [f'indicators.{i}.{key}' for i in range(len(form['indicators']))]
    # An empty (or dash) addend counts as printed: nothing.
    values = [Decimal(0) if get_path(form, p) in (None, '', DASH) else _num(form, p) for p in paths]
    total = _num(form, f'total.{key}')
    if total is None or None in values or sum(values) == total:
        return None
    return _issue(form_index, f'total.{key}', 'arithmetic', paths,
                  f'{key}s add up to {sum(values)} but total.{key} is {total}', f'{key}s_sum')


def missing_issues(form, form_index):
    paths = list(header_keys(form)) + REQUIRED_BODY_FIELDS
    for i in range(len(form['indicators'])):
        paths += [f'indicators.{i}.{k}' for k in REQUIRED_INDICATOR_KEYS]
    return [_issue(form_index, p, 'missing', [], 'required cell is empty', 'missing')
            for p in paths if get_path(form, p) is None]


def find_issues(form, form_index):
    """Every broken rule of one form, in field order; each entry is a truth
    known_issue plus a 'rule' key naming the rule."""
    found = missing_issues(form, form_index)
    for i in range(len(form['funds'])):
        found += [rate_issue(form, i, form_index), over_budget_issue(form, i, form_index)]
    found.append(score_over_issue(form, 'funds.0', form_index))
    for i in range(len(form['indicators'])):
        found.append(score_over_issue(form, f'indicators.{i}', form_index))
    found.append(score_over_issue(form, 'total', form_index))
    found += [sum_issue(form, 'weight', form_index), sum_issue(form, 'score', form_index)]
    return [f for f in found if f is not None]
