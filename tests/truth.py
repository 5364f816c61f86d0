"""Comparing extracted values with truth the way the contract says: NFKC, no
whitespace, dash variants as '—', null == '', numbers by value.

Two form kinds: project forms (schema perf-self-eval/1, also any form without a
'schema') and department-level forms (dept-self-eval/1: 'department' is their only
header value). match_kinds() checks that the extractor told the kinds and the pages
that are no form apart (truth 'other_pages', result 'unmatched_pages')."""
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


PROJECT_SCHEMA = 'perf-self-eval/1'
DEPT_SCHEMA = 'dept-self-eval/1'
_HEADER_KEYS = {PROJECT_SCHEMA: ('title', 'year', 'project_name', 'department', 'implementing_unit'),
                DEPT_SCHEMA: ('title', 'year', 'department')}


def form_schema(form: dict) -> str:
    """A form's schema; a form without one is a project form (perf-self-eval/1)."""
    return form.get('schema') or PROJECT_SCHEMA


def flatten(form: dict) -> dict:
    """Dotted path -> value of every field of a form of either kind ('schema' and
    'pages' are not fields)."""
    keys = _HEADER_KEYS.get(form_schema(form), _HEADER_KEYS[PROJECT_SCHEMA])
    out = {k: form.get(k) for k in keys}
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


def match_kinds(result_doc: dict, truth_doc: dict) -> dict:
    """How the result's forms and turned-away pages line up with the truth's forms and
    non-form pages of one document.

    forms: per truth form {form, schema, pages, matched (a result form with the same
    schema and the same pages exists), result_form (its index or None), same_pages
    (schemas of the result forms with exactly these pages: a wrong one there is a kind
    mix-up), overlapping (indices of result forms sharing any page), pages_unmatched
    (its pages the result turned away)}.
    other_pages: per truth non-form page {page, kind, made_into_forms (indices of the
    result forms covering it), reported_unmatched, reason}.
    extra_result_forms: indices of result forms that cover no page of any truth form.
    summary: counts of the above."""
    results = [(j, form_schema(f), sorted(f.get('pages') or []))
               for j, f in enumerate(result_doc.get('forms') or [])]
    unmatched = {u.get('page'): u.get('reason') for u in result_doc.get('unmatched_pages') or []}
    forms, form_pages = [], set()
    for i, form in enumerate(truth_doc.get('forms') or []):
        schema, pages = form_schema(form), sorted(form.get('pages') or [])
        form_pages.update(pages)
        same = [(j, s) for j, s, p in results if p == pages]
        match = next((j for j, s in same if s == schema), None)
        forms.append({'form': i, 'schema': schema, 'pages': pages, 'matched': match is not None,
                      'result_form': match, 'same_pages': [s for _, s in same],
                      'overlapping': [j for j, _, p in results if set(p) & set(pages)],
                      'pages_unmatched': [p for p in pages if p in unmatched]})
    others = []
    for entry in truth_doc.get('other_pages') or []:
        page = entry['page']
        others.append({'page': page, 'kind': entry.get('kind'),
                       'made_into_forms': [j for j, _, p in results if page in p],
                       'reported_unmatched': page in unmatched, 'reason': unmatched.get(page)})
    extra = [j for j, _, p in results if not set(p) & form_pages]
    summary = {
        'truth_forms': len(forms),
        'matched': sum(f['matched'] for f in forms),
        'wrong_kind': sum(1 for f in forms if not f['matched'] and f['same_pages']),
        'forms_turned_away': sum(1 for f in forms if f['pages_unmatched']),
        'other_pages': len(others),
        'other_pages_made_into_forms': sum(1 for o in others if o['made_into_forms']),
        'other_pages_reported_unmatched': sum(1 for o in others if o['reported_unmatched']),
        'extra_result_forms': len(extra),
    }
    return {'forms': forms, 'other_pages': others, 'extra_result_forms': extra, 'summary': summary}
