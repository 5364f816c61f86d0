"""Comparing extracted values with truth the way the contract says: NFKC, no
whitespace, dash variants as '—', null == '', numbers by value."""
import re
import unicodedata
from decimal import Decimal, InvalidOperation

_DASHES = re.compile('[-‐‑‒–—―−－﹣﹘─━]+')
_NUM = re.compile(r'^[+-]?\d+(\.\d+)?%?$')


def norm(value) -> str:
    if value is None:
        return ''
    return _DASHES.sub('—', re.sub(r'\s+', '', unicodedata.normalize('NFKC', str(value))))


def same(a, b) -> bool:
    na, nb = norm(a), norm(b)
    if na == nb:
        return True
    if _NUM.match(na) and _NUM.match(nb) and na.endswith('%') == nb.endswith('%'):
        try:
            return Decimal(na.rstrip('%')) == Decimal(nb.rstrip('%'))
        except InvalidOperation:
            return False
    return False


def flatten(form: dict) -> dict:
    out = {k: form.get(k) for k in ('title', 'year', 'project_name', 'department', 'implementing_unit')}
    for i, row in enumerate(form.get('funds') or []):
        for k, v in row.items():
            out[f'funds.{i}.{k}'] = v
    for k, v in (form.get('goals') or {}).items():
        out[f'goals.{k}'] = v
    for i, row in enumerate(form.get('indicators') or []):
        for k, v in row.items():
            out[f'indicators.{i}.{k}'] = v
    for k, v in (form.get('total') or {}).items():
        out[f'total.{k}'] = v
    return out


def wrong_fields(got: dict, want: dict) -> list[str]:
    g, w = flatten(got), flatten(want)
    return [k for k in w if not same(g.get(k), w[k])]
