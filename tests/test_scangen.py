"""Tests of the scan generator (tests/scangen). Fast: small documents at low dpi."""
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.scangen import degrade, generate, render_form_pages  # noqa: E402
from tests.scangen.contract import FORM_KEYS, FUND_VALUE_KEYS, IND_KEYS, form_paths  # noqa: E402
from tests.scangen.contract import get_path as _get  # noqa: E402
from tests.scangen.fonts import get_font  # noqa: E402
from tests.scangen.layout import wrap_text  # noqa: E402
from tests.scangen.rules import find_issues  # noqa: E402
from tests.scangen.seeds import DEFAULT_SEEDS, load_seeds  # noqa: E402
from tests.scangen.synth import make_synthetic_form  # noqa: E402
from tests.scangen.textutil import number_shaped as own_number_shaped  # noqa: E402

# The scorer's helpers (formlib.py beside score.py) are optional: EXTRACTOR_SCORE_TOOLS
# names their folder; without it the generator's own number_shaped is checked.
SCORE_TOOLS = os.environ.get('EXTRACTOR_SCORE_TOOLS')


def _formlib():
    """The scorer's own helpers when EXTRACTOR_SCORE_TOOLS points at them."""
    path = os.path.join(SCORE_TOOLS, 'formlib.py') if SCORE_TOOLS else None
    if not path or not os.path.exists(path):
        return None
    spec = importlib.util.spec_from_file_location('formlib', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FL = _formlib()
number_shaped = FL.number_shaped if FL else own_number_shaped


def _num(value):
    m = re.fullmatch(r'([+-]?[\d,]+(?:\.\d+)?)%?', (value or '').strip())
    return Decimal(m.group(1).replace(',', '')) if m else None




@pytest.fixture(scope='module')
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp('scangen')
    written = generate(str(out), forms=5, level='hard', seed=11, per_pdf=3, source='mixed', dpi=100)
    return [(pdf, json.load(open(truth, encoding='utf-8'))) for pdf, truth in written]


def _page_count(pdf_path):
    if shutil.which('pdfinfo'):
        out = subprocess.run(['pdfinfo', pdf_path], capture_output=True, text=True, check=True).stdout
        return int(re.search(r'^Pages:\s+(\d+)', out, re.M).group(1))
    data = open(pdf_path, 'rb').read()
    return len(re.findall(rb'/Type /Page\b', data))


def test_pdf_has_the_pages_its_truth_says(corpus):
    assert len(corpus) == 2
    for pdf, truth in corpus:
        assert truth['source']['file'] == os.path.basename(pdf)
        assert _page_count(pdf) == truth['source']['pages']
        covered = sorted(p for form in truth['forms'] for p in form['pages'])
        assert covered == list(range(1, truth['source']['pages'] + 1))
        assert [p['page'] for p in truth['render']['pages']] == covered
        if shutil.which('pdffonts'):
            fonts = subprocess.run(['pdffonts', pdf], capture_output=True, text=True).stdout
            assert len(fonts.strip().splitlines()) <= 2      # no text layer: header lines only
        if shutil.which('pdfimages'):
            listing = subprocess.run(['pdfimages', '-list', pdf], capture_output=True,
                                     text=True).stdout.splitlines()[2:]
            assert len(listing) == truth['source']['pages']
            for line, page in zip(listing, truth['render']['pages']):
                # A4 at the resolution the page was scanned at (the truth records it),
                # on its side when the page was turned a quarter.
                cols = line.split()
                a4 = (210 / 25.4 * page['dpi'], 297 / 25.4 * page['dpi'])
                if page.get('turned_deg', 0) in (90, 270):
                    a4 = a4[::-1]
                assert abs(int(cols[3]) - a4[0]) <= 1 and abs(int(cols[4]) - a4[1]) <= 1, (line, page)
                assert int(cols[12]) == page['dpi'], (line, page)


def test_truth_follows_the_contract(corpus):
    for pdf, truth in corpus:
        assert truth['schema'] == 'perf-self-eval/1'
        assert truth['review'] == []
        assert set(truth) >= {'schema', 'source', 'forms', 'review', 'split_fields',
                              'known_issues', 'render'}
        for form in truth['forms']:
            assert list(form) == FORM_KEYS
            assert form['title'] == '项目支出绩效自评表'
            assert [r['item'] for r in form['funds']] == ['年度资金总额', '其中：当年财政拨款',
                                                        '上年结转资金', '其他资金']
            for row in form['funds']:
                assert list(row) == ['item'] + FUND_VALUE_KEYS
            assert 3 <= len(form['indicators']) <= 16
            for row in form['indicators']:
                assert list(row) == IND_KEYS
                assert row['level1'] and row['level2']     # merged cells give every row its text
            assert set(form['goals']) == {'expected', 'actual'}
            assert set(form['total']) == {'weight', 'score'}
            for _, v in form_paths(form):
                assert v is None or (isinstance(v, str) and v.strip())
                if v is not None and re.fullmatch('[-‐‑‒–―−－﹣]+', v):
                    pytest.fail(f'dash not normalised: {v!r}')


def test_split_fields_are_number_shaped_and_joined(corpus):
    total = 0
    for pdf, truth in corpus:
        for entry in truth['split_fields']:
            total += 1
            form = truth['forms'][entry['form']]
            assert _get(form, entry['field']) == entry['value']
            assert number_shaped(entry['value'])
            assert len(entry['lines']) >= 2
            assert ''.join(entry['lines']) == entry['value']
            assert entry['page'] in form['pages']
            digits = any(a[-1] in '0123456789.,' and b[0] in '0123456789.,'
                         for a, b in zip(entry['lines'], entry['lines'][1:]))
            assert entry['digits_split'] == digits
    assert total > 0


def test_wrapping_splits_a_long_number_inside_its_digits():
    font = get_font('uming').at(28)
    width = font.getlength('396.2675') + 1
    assert wrap_text('396.267529', font, width) == ['396.2675', '29']
    assert wrap_text('≤50000元', font, font.getlength('≤50000') + 1) == ['≤50000', '元']


def test_seed_parser_recovers_most_forms():
    assert os.path.exists(DEFAULT_SEEDS), 'the seed text ships in tests/data/seeds'
    parsed, skipped = load_seeds()
    assert len(parsed) + len(skipped) == 35
    good = [s for s in parsed if len(s.form['indicators']) >= 3 and len(s.form['funds']) == 4
            and s.form['funds'][0]['annual_budget'] and s.form['total']['weight']]
    assert len(good) >= 30
    by_name = {s.form['project_name']: s.form for s in parsed}
    radio = by_name['丰台区800兆无线政务网运维费']
    assert radio['funds'][0]['annual_budget'] == '396.267529'      # '396.26752 9' rejoined
    assert len(radio['indicators']) == 10
    assert radio['indicators'][0]['level1'] == '产出指标'            # carried from the header
    assert radio['indicators'][9]['level2'] == '服务对象满意度指标'


def _breaks_its_rule(form, issue):
    """Independent re-check of one known issue."""
    field, rule = issue['field'], issue['rule']
    value = _get(form, field)
    if rule == 'missing':
        return value is None
    if rule == 'rate':
        base = field.rsplit('.', 1)[0]
        executed, annual = _num(_get(form, base + '.executed')), _num(_get(form, base + '.annual_budget'))
        places = len(value.split('.')[1].rstrip('%')) if '.' in value else 0
        return abs(_num(value) - executed / annual * 100) > Decimal(5) / 10 ** (places + 1)
    if rule == 'over_budget':
        return _num(value) > _num(_get(form, issue['related'][0]))
    if rule == 'score_over':
        return _num(value) > _num(_get(form, issue['related'][0]))
    if rule in ('weights_sum', 'scores_sum'):
        return sum(_num(_get(form, p)) for p in issue['related']) != _num(value)
    raise AssertionError(f'unknown rule {rule}')


def test_known_issues_really_break_their_rule(corpus):
    issues = [(truth, k) for _, truth in corpus for k in truth['known_issues']]
    forms = [make_synthetic_form(np.random.default_rng(s), issue_rate=1.0, missing_rate=0.5).form
             for s in range(12)]
    for i, form in enumerate(forms):
        found = find_issues(form, i)
        assert found, 'a perturbed synthetic form must have an issue'
        issues += [({'forms': forms}, k) for k in found]
    for truth, issue in issues:
        assert issue['reason'] in ('arithmetic', 'missing')
        assert set(issue) >= {'form', 'field', 'reason', 'related', 'detail'}
        assert _breaks_its_rule(truth['forms'][issue['form']], issue), issue


def test_generation_is_deterministic(tmp_path):
    a = generate(str(tmp_path / 'a'), forms=2, level='hard', seed=4, per_pdf=2, dpi=100)
    b = generate(str(tmp_path / 'b'), forms=2, level='hard', seed=4, per_pdf=2, dpi=100)
    for (pdf_a, truth_a), (pdf_b, truth_b) in zip(a, b):
        assert open(pdf_a, 'rb').read() == open(pdf_b, 'rb').read()
        assert open(truth_a, 'rb').read() == open(truth_b, 'rb').read()


def test_render_and_degrade_single_page():
    form = make_synthetic_form(np.random.default_rng(3)).form
    pages = render_form_pages(form, 'noto-serif', np.random.default_rng(1), dpi=100)
    assert pages[0].size == (827, 1169) and pages[0].mode == 'L'
    clean = degrade(pages[0], 'clean', np.random.default_rng(0))
    assert clean.mode == 'L' and clean.info['scangen']['skew_deg'] == 0.0
    hard = degrade(pages[0], 'hard', np.random.default_rng(0), seal=True)
    info = hard.info['scangen']
    assert hard.mode == 'RGB' and 'seal' in info['degradations']
    assert 45 <= info['jpeg_quality'] <= 60 and abs(info['skew_deg']) <= 3
    mild = degrade(pages[0], 'mild', np.random.default_rng(0))
    assert 0.3 <= abs(mild.info['scangen']['skew_deg']) <= 1.0


def test_rough_pages_say_what_was_done_to_them():
    """Over a few seeds the rough level turns pages, rescans them at 150-300 dpi, makes
    some 1-bit, and speckles every one; the page image matches what its record says."""
    form = make_synthetic_form(np.random.default_rng(3)).form
    page = render_form_pages(form, 'noto-serif', np.random.default_rng(1), dpi=100)[0]
    seen_turns, seen_modes = set(), set()
    for seed in range(12):
        scan = degrade(page, 'rough', np.random.default_rng(seed))
        info = scan.info['scangen']
        deg = info['degradations']
        assert 'speckle' in deg and 0.0005 <= deg['speckle']['density'] <= 0.005
        scale = info['scan_dpi'] / 100.0
        expected = (round(page.width * scale), round(page.height * scale))
        if info['turned_deg'] in (90, 270):
            expected = expected[::-1]
        assert abs(scan.size[0] - expected[0]) <= 1 and abs(scan.size[1] - expected[1]) <= 1
        if deg['scan_mode'] == 'bilevel':
            assert set(np.unique(np.asarray(scan))) <= {0, 255} and info['jpeg_quality'] is None
        seen_turns.add(info['turned_deg'])
        seen_modes.add(deg['scan_mode'])
    assert len(seen_turns) >= 2 and len(seen_modes) >= 2

