"""Stage 6, validate: Forms -> Flags for every field a human should check.

Reasons (see the contract): split_number, low_confidence, arithmetic, missing, unparsed.
The printed forms themselves break rules sometimes; those are flagged, never "fixed".
"""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from dataclasses import dataclass
from typing import Optional

from models import FieldSource, Flag, FlagReason, Form, PageQuality, PageResult

# The OCR confidence below which a field goes to review. Chosen with
# benchmarks/flag_threshold.py on 60 generated forms (mild + hard, 5507 fields): at 0.97
# 4 wrong fields stay unflagged and 1.4% of fields are added to review; 0.93 leaves 7
# and adds 1.0%; 0.99 leaves 4 but adds 4.9%.
LOW_CONFIDENCE = 0.97

DASHES = '-‐‑‒–—―−－﹣﹘─━'
_NUM = re.compile(r'^([+-]?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(%?)$')
_NUMBER_SHAPED = re.compile(
    r'^(?:[≤≥<>=＜＞≦≧约]|不少于|不超过|大于|小于)?[+-]?\d[\d,]*(?:\.\d+)?'
    r'(?:%|‰|万元|亿元|元|万|个|家|人|次|项|套|份|台|月|年|天|小时|人次|万人次|家次|场|篇|条|件|册|期|所|户)?$')
# The indicator categories of the national performance-indicator framework (一级 and
# 二级指标). A low-confidence reading that is exactly one of these names is right: a
# misread that lands on another whole category name does not happen in practice, while
# these merged, often vertical cells are where the recogniser's scores run low.
LEVEL_NAMES = {
    'level1': {'产出指标', '效益指标', '成本指标', '满意度指标'},
    'level2': {'数量指标', '质量指标', '时效指标', '成本指标', '经济成本指标', '社会成本指标',
               '生态环境成本指标', '经济效益指标', '社会效益指标', '生态效益指标', '可持续影响指标',
               '服务对象满意度指标', '服务对象满意度', '满意度指标'},
}
NUMERIC_FIELDS = ('initial_budget', 'annual_budget', 'executed', 'weight', 'execution_rate', 'score')


def _norm(value) -> str:
    s = unicodedata.normalize('NFKC', str(value or ''))
    s = re.sub(r'\s+', '', s)
    return re.sub('[' + re.escape(DASHES) + ']+', '—', s)


def parse_number(value) -> Optional[tuple[Decimal, bool, int]]:
    """(value, is_percent, decimals) for a plain number such as '396.267529' or '100%'."""
    m = _NUM.match(_norm(value))
    if not m:
        return None
    sign, whole, frac, pct = m.groups()
    try:
        number = Decimal(sign + whole.replace(',', '') + (frac or ''))
    except InvalidOperation:
        return None
    return number, bool(pct), len(frac) - 1 if frac else 0


def number_shaped(value) -> bool:
    s = _norm(value)
    return bool(s) and bool(_NUMBER_SHAPED.match(s)) and any(c.isdigit() for c in s)


def is_dash(value) -> bool:
    return _norm(value) == '—'


class Checker:
    def __init__(self, form: Form, index: int):
        self.form, self.index = form, index
        self.flags: list[Flag] = []

    def flag(self, path: str, reason: FlagReason, detail: str, confidence=None) -> None:
        source = self.form.sources.get(path)
        value = self.form.get(path) if not path.endswith(('funds', 'indicators', 'total')) else None
        self.flags.append(Flag(
            form=self.index, field=path, value=value if isinstance(value, str) else None,
            reason=reason, detail=detail,
            confidence=confidence if confidence is not None else (source.confidence if source else None),
            page=source.page if source else (self.form.pages[0] if self.form.pages else None),
            bbox=source.bbox if source else None))

    def num(self, path: str):
        p = parse_number(self.form.get(path))
        return p

    # ---------------------------------------------------------------- per field
    def fields(self) -> None:
        for path in self.form.field_paths():
            value = self.form.get(path)
            source = self.form.sources.get(path)
            if source and len([l for l in source.lines if l.strip()]) > 1 and number_shaped(value):
                self.flag(path, FlagReason.split_number,
                          'number on several lines inside one cell: '
                          + ' + '.join(repr(l) for l in source.lines))
            leaf = path.rsplit('.', 1)[-1]
            known_name = path.startswith('indicators.') and _norm(value) in LEVEL_NAMES.get(leaf, ())
            if path.startswith('indicators.') and len(_norm(value)) >= 2 and not known_name and any(
                    name.startswith(_norm(value)) for name in LEVEL_NAMES.get(leaf, ())):
                self.flag(path, FlagReason.structure, f'{value!r} looks like a category name cut short')
            if source and source.confidence is not None and source.confidence < LOW_CONFIDENCE and value \
                    and not known_name:
                self.flag(path, FlagReason.low_confidence, f'OCR confidence {source.confidence:.2f}')
            elif source and source.second_reading is not None and _norm(source.second_reading) != _norm(value):
                self.flag(path, FlagReason.low_confidence,
                          f'two OCR engines disagree: {value!r} vs {source.second_reading!r}')
            elif leaf in ('target', 'actual') and value and _norm(value)[:1] in '<>':
                # The recogniser reads ≥ and ≤ as > and < with full confidence; the forms
                # write targets with ≥ and ≤, and a bare > or < is rare enough to check.
                self.flag(path, FlagReason.low_confidence, f'{value!r}: ≥ and ≤ are often read as > and <')
            numeric_column = (path.startswith('funds.') and leaf in NUMERIC_FIELDS) or \
                (path.startswith(('indicators.', 'total.')) and leaf in ('weight', 'score'))
            if numeric_column and value and not is_dash(value) and parse_number(value) is None:
                self.flag(path, FlagReason.unparsed, f'{value!r} is not a number, rate or dash')

    def labels_in_values(self) -> None:
        """A header or goal value that holds a section label took in a neighbouring
        cell: a rule between them was lost. (One header value inside another is not
        such a sign: project names often start with the department's name.)"""
        # Labels no project name or goal would hold ('绩效指标' or '总分' could).
        labels = ('项目名称', '主管部门', '实施单位', '项目资金(万元)', '年度总体目标')
        for path in ('project_name', 'department', 'implementing_unit', 'goals.expected', 'goals.actual'):
            value = _norm(self.form.get(path))
            for label in labels:
                if label in value and value != label:
                    self.flag(path, FlagReason.structure, f'the value holds the label {label}: '
                                                         'a neighbouring cell ran into it')
                    break

    def missing(self) -> None:
        required = ['year', 'project_name', 'department', 'implementing_unit', 'goals.expected', 'goals.actual']
        if self.form.funds:
            required += ['funds.0.annual_budget', 'funds.0.executed', 'funds.0.weight',
                         'funds.0.execution_rate', 'funds.0.score']
        else:
            self.flag('funds', FlagReason.missing, 'no funds rows found')
        if not self.form.indicators:
            self.flag('indicators', FlagReason.missing, 'no indicator rows found')
        for i, _ in enumerate(self.form.indicators):
            required += [f'indicators.{i}.{k}' for k in ('level1', 'level2', 'level3', 'weight', 'score')]
        if self.form.total is None:
            self.flag('total', FlagReason.missing, 'no 总分 row: the form looks cut off')
        else:
            required += ['total.weight', 'total.score']
        for path in required:
            if not _norm(self.form.get(path)):
                self.flag(path, FlagReason.missing, 'required cell is empty')

    # ---------------------------------------------------------------- arithmetic
    def arithmetic(self) -> None:
        f = self.form
        for i, _ in enumerate(f.funds):
            budget, executed, rate = (self.num(f'funds.{i}.{k}') for k in ('annual_budget', 'executed', 'execution_rate'))
            if budget and executed and rate and budget[0] > 0:
                expected = executed[0] / budget[0] * 100
                shown = rate[0] if rate[1] else rate[0] * 100
                unit = Decimal(1).scaleb(-rate[2]) if rate[1] else Decimal(1).scaleb(-rate[2] + 2)
                if abs(shown - expected) > unit:
                    self.rule([f'funds.{i}.execution_rate', f'funds.{i}.executed', f'funds.{i}.annual_budget'],
                              f'execution rate {f.get(f"funds.{i}.execution_rate")} but executed / annual budget = {expected:.2f}%')
            if budget and executed and executed[0] > budget[0]:
                self.rule([f'funds.{i}.executed', f'funds.{i}.annual_budget'],
                          f'executed {executed[0]} exceeds the annual budget {budget[0]}')
        if f.funds:
            weight, score = self.num('funds.0.weight'), self.num('funds.0.score')
            expected = self.funds_score_from_rate()
            if weight and score and expected is not None:
                tolerance = max(Decimal(1).scaleb(-score[2]), weight[0] * Decimal('0.01'))
                if abs(score[0] - expected) > tolerance:
                    self.rule(['funds.0.score', 'funds.0.weight', 'funds.0.execution_rate'],
                              f'funds score {score[0]} but weight x rate = {expected:.2f}')
        rows = [('funds.0', True)] if f.funds else []
        rows += [(f'indicators.{i}', False) for i, _ in enumerate(f.indicators)]
        rows += [('total', False)] if f.total else []
        for prefix, _ in rows:
            weight, score = self.num(f'{prefix}.weight'), self.num(f'{prefix}.score')
            if weight and score and score[0] > weight[0]:
                self.rule([f'{prefix}.score', f'{prefix}.weight'], f'score {score[0]} exceeds weight {weight[0]}')
        if f.total:
            for key in ('weight', 'score'):
                total = self.num(f'total.{key}')
                parts = [f'funds.0.{key}'] if f.funds else []
                parts += [f'indicators.{i}.{key}' for i, _ in enumerate(f.indicators)]
                values = [self.num(p) for p in parts]
                if total is None:
                    continue
                unknown = [p for p, v in zip(parts, values) if v is None]
                known_sum = sum(v[0] for v in values if v is not None)
                if not unknown:
                    if known_sum != total[0]:
                        self.rule([f'total.{key}'] + parts,
                                  f'{key}s add up to {known_sum}, total says {total[0]}')
                elif len(unknown) == 1:
                    # One part unreadable (flagged by itself): the total still says what
                    # it must be. A value no row could hold means the sum is broken too.
                    implied = total[0] - known_sum
                    why = self.impossible(unknown[0], key, implied)
                    if why:
                        self.rule([f'total.{key}'] + parts,
                                  f'{unknown[0]} is unreadable; for the total {total[0]} it would '
                                  f'have to be {implied}, but {why}')

    def impossible(self, path: str, key: str, implied: Decimal) -> Optional[str]:
        """Why a row's weight or score cannot be `implied`, or None if it could."""
        row = path.rsplit('.', 1)[0]
        if implied < 0 or (key == 'weight' and implied == 0):
            return f'a {key} cannot be {implied}'
        other = self.num(f'{row}.{"weight" if key == "score" else "score"}')
        if other and key == 'score' and implied > other[0]:
            return f'the row\'s weight is {other[0]}'
        if other and key == 'weight' and implied < other[0]:
            return f'the row\'s score is {other[0]}'
        if key == 'score' and row == 'funds.0':
            expected, weight = self.funds_score_from_rate(), self.num('funds.0.weight')
            if expected is not None and abs(implied - expected) > max(Decimal(1), weight[0] * Decimal('0.01')):
                return f'weight x rate = {expected:.2f}'
        return None

    def funds_score_from_rate(self) -> Optional[Decimal]:
        """The funds score the form's rule gives: weight x execution rate (capped at 100%)."""
        weight, rate = self.num('funds.0.weight'), self.num('funds.0.execution_rate')
        if not (weight and rate):
            return None
        r = rate[0] / 100 if rate[1] else rate[0]
        return weight[0] * min(r, Decimal(1))

    def rule(self, paths: list[str], detail: str) -> None:
        for path in paths:
            self.flag(path, FlagReason.arithmetic, detail)


def check_form(form: Form, index: int) -> list[Flag]:
    checker = Checker(form, index)
    checker.fields()
    checker.labels_in_values()
    checker.missing()
    checker.arithmetic()
    return checker.flags


def check_forms(forms: list[Form]) -> list[Flag]:
    flags = []
    for index, form in enumerate(forms):
        flags.extend(check_form(form, index))
    return flags


# ------------------------------------------------------------------ page quality

@dataclass(frozen=True)
class QualityLimits:
    """Where a page stops being good. Chosen with benchmarks/residual_rate.py, which
    prints the silent error rate of each grade over generated clean to rough scans."""
    # Isolated specks per cm² (a clean scan has ~0; a dusty photocopy 1-5).
    fair_speckle: float = 1.5
    rough_speckle: float = 8.0
    # Print darkness against the paper (black on white ~0.8).
    rough_contrast: float = 0.35
    unreadable_contrast: float = 0.12
    # Mean inked share of the lattice walls (solid rules ~0.95+).
    fair_rules: float = 0.93
    rough_rules: float = 0.8
    # Share of the page's text lines the recogniser was unsure of (< LINE_SURE).
    fair_unsure: float = 0.06
    rough_unsure: float = 0.15
    unreadable_unsure: float = 0.5


LINE_SURE = 0.9
GRADES = ('good', 'fair', 'rough', 'unreadable')


def grade_page(result: PageResult, limits: QualityLimits = QualityLimits()) -> PageQuality:
    """The page's quality record from what preprocess, grid and OCR measured on it."""
    m = result.measures
    lines = [line for cell in result.cells for line in cell.lines]
    unsure = (sum(line.confidence < LINE_SURE for line in lines) / len(lines)) if lines else 0.0
    quality = PageQuality(page=result.number, turned_deg=int(m.get('turned_deg', 0)),
                          skew_deg=float(m.get('skew_deg', result.angle)),
                          speckle_per_cm2=float(m.get('speckle_per_cm2', 0.0)),
                          contrast=float(m.get('contrast', 0.0)), stroke_mm=float(m.get('stroke_mm', 0.0)),
                          rule_continuity=float(m.get('rule_continuity', 1.0)),
                          bilevel=bool(m.get('bilevel', False)), unsure_lines=round(unsure, 3))
    grade, reasons = 0, []

    def worse(level: int, reason: str) -> None:
        nonlocal grade
        grade = max(grade, level)
        reasons.append(reason)

    if not result.grid.tables:
        worse(3, 'no ruled table found')
    if quality.contrast and quality.contrast < limits.unreadable_contrast:
        worse(3, f'print too faint (contrast {quality.contrast:.2f})')
    elif quality.contrast and quality.contrast < limits.rough_contrast:
        worse(2, f'faint print (contrast {quality.contrast:.2f})')
    if unsure >= limits.unreadable_unsure:
        worse(3, f'{unsure:.0%} of the text lines read unsure')
    elif unsure >= limits.rough_unsure:
        worse(2, f'{unsure:.0%} of the text lines read unsure')
    elif unsure >= limits.fair_unsure:
        worse(1, f'{unsure:.0%} of the text lines read unsure')
    if quality.speckle_per_cm2 >= limits.rough_speckle:
        worse(2, f'heavy speckle ({quality.speckle_per_cm2:.1f}/cm²)')
    elif quality.speckle_per_cm2 >= limits.fair_speckle:
        worse(1, f'speckle ({quality.speckle_per_cm2:.1f}/cm²)')
    if result.grid.tables:
        if quality.rule_continuity < limits.rough_rules:
            worse(2, f'broken rules ({quality.rule_continuity:.0%} solid)')
        elif quality.rule_continuity < limits.fair_rules:
            worse(1, f'worn rules ({quality.rule_continuity:.0%} solid)')
    if quality.bilevel:
        worse(1, '1-bit scan')
    quality.grade, quality.reasons = GRADES[grade], reasons
    return quality


def check_pages(forms: list[Form], quality: list[PageQuality], flags: list[Flag]) -> list[Flag]:
    """Flags that come from how readable the pages were.

    * Every field read on an unreadable page, with the page's reasons: a value read
      there is not to be trusted, however sure the recogniser was.
    * A whole form (field '') on a rough page whose table was matched with doubt
      (several structure flags, or no indicator rows or total found): on such a page
      rows are lost or merged, and a lost row has no field left to flag. (Totals that
      do not add up are flagged on every part already.)"""
    grades = {q.page: q for q in quality}
    bad = {page: q for page, q in grades.items() if q.grade == 'unreadable'}
    out = []
    for index, form in enumerate(forms):
        for path, source in form.sources.items():
            page = bad.get(source.page)
            if page is None:
                continue
            out.append(Flag(form=index, field=path, value=_as_text(form.get(path)), reason=FlagReason.page_quality,
                            page=source.page, bbox=source.bbox,
                            detail='page too rough to read: ' + '; '.join(page.reasons)))
        worn = [grades[p] for p in form.pages if p in grades and grades[p].grade != 'good']
        rough = [q for q in worn if q.grade in ('rough', 'unreadable')]
        if not worn:
            continue
        mine = [f for f in flags if f.form == index]
        # The funds rows under the total print a dash for weight and score; on a worn
        # page a faint dash is lost more often than a cell is left blank.
        for row in range(1, len(form.funds)):
            for key in ('weight', 'score'):
                path = f'funds.{row}.{key}'
                if form.get(path) in (None, '') and not any(f.field == path for f in mine):
                    source = form.sources.get(path) or FieldSource()
                    out.append(Flag(form=index, field=path, value=None, reason=FlagReason.missing,
                                    page=source.page or worn[0].page, bbox=source.bbox,
                                    detail=f'empty on a {worn[0].grade} page where the form prints a dash'))
        if not rough:
            continue
        structure = sum(f.reason == FlagReason.structure for f in mine)
        lost = [f.field for f in mine if f.reason == FlagReason.missing and f.field in ('indicators', 'total', 'funds')]
        if structure >= STRUCTURE_DOUBT or lost:
            why = f'no {", ".join(lost)} found' if lost else f'{structure} cells matched with doubt'
            out.append(Flag(form=index, field='', reason=FlagReason.page_quality, page=rough[0].page,
                            detail=f'rough page ({"; ".join(rough[0].reasons)}) and {why}: '
                                   'rows may be lost or merged; check the whole form'))
    return out


# Structure flags on one form that, on a rough page, put its whole table in doubt.
STRUCTURE_DOUBT = 3


def _as_text(value) -> Optional[str]:
    return None if value is None else str(value)
