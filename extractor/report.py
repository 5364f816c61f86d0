"""The batch report: per document, its fields, the fields flagged for review by reason,
and an estimate of the wrong values left among the fields nobody is asked to check.

The estimate is, per form, its unflagged fields times the silent error rate (wrong and
not flagged, per unflagged field) measured by benchmarks/residual_rate.py on generated
scans of every damage level, as it grows with the share of text lines the recogniser
was unsure of on the form's worst page (see extractor.validate.grade_page), and the
fields of forms nothing ties to their record (lost_fields).
"""
from __future__ import annotations

import re
from collections import defaultdict
from typing import Iterable, Optional

from models import Document
from models.document import NO_TABLE_REASON
from models.report import BatchReport, DocumentReport
from models.text import is_han

GRADES = ('good', 'fair', 'rough', 'unreadable')
# Silent errors per unflagged field: RESIDUAL_PER_UNSURE for each unit of the share of
# text lines the recogniser was unsure of on the form's worst page
# (validate.grade_page's unsure_lines). Fitted by benchmarks/residual_rate.py (Poisson
# maximum likelihood over the documents) on the tuning sets of session 26, 23,600
# fields: clean 9001, mild 6029 at 300 dpi, hard 9494 and 9929, rough 8123, 3571 and
# 9929, augraphy office 8080: 0.0139 (session 17's sets gave 0.0302; flags on values
# read right have been settled since, and silent errors cut). Per page grade instead (the
# rates below), the rough grade's rate was 0.000 on hard 9494's rough pages and 0.001 to
# 0.005 on the rough sets' readable forms: a page graded rough for its speckle alone
# reads as well as a fair one, and the grade could not tell them apart. The share of
# unsure lines did: predicted / measured 0.53 to 1.73 on each of session 17's eight sets;
# at 0.014 on session 26's, 0.63 to 1.48 on the rough and office sets, 0.35 on hard 9929
# (1.0 against 3) and 0.2 against mild 6029's one.
RESIDUAL_PER_UNSURE = 0.014
# Forms of results stored before their pages were graded (no share of unsure lines):
# per grade, from the fifth to sixteenth rounds (tuning seeds 8312, 9101, 9494, 6464,
# 2468): good 0.0002, fair 0.0003, rough 0.001.
RESIDUAL_RATE = {'good': 0.0002, 'fair': 0.0003, 'rough': 0.001, 'unreadable': 0.0}
# A form of the project kind holds about this many fields (3086 in the 30 forms of seed
# 8312): what a form that starts on an unreadable page loses (see lost_fields).
FIELDS_PER_FORM = 100
# A project name read at least this sure ties its form to its record even when read
# off an unreadable page. Measured on the rough tuning sets (9494, 6464, 2468): of 13
# forms starting on an unreadable page, the 7 nameless ones and the one named at 0.14
# ('上00代收务年费Y.11:eLta7う?') were lost to the scorer's matching; the 5 named at
# 0.30 to 0.99, garbled in part or not, were matched.
NAME_TIES = 0.2
# ... unless the name holds what no project name prints: lower-case Latin letters, kana
# and marks such as '?' or '■' (specks and broken strokes read as letters), or is the
# form's year line ('(2021年度)', read where the name's row was lost). Measured on the
# rough tuning sets (9494, 2468, 5309, 6464, 6271): of 20 forms starting on an
# unreadable page, 10 were lost to the scorer's matching; 3 of those had a name read at
# 0.25 to 0.89 ('上00年费Y.TT:Lt.a7う?', '41110102F他化药in点台区…', '(2021年度)'), and
# none of the 10 matched ones had such marks. Names print Chinese, digits, upper-case
# Latin ('5G', 'PPP') and the marks below.
NAME_MARKS = re.compile(r'[^\u3400-\u9fff0-9A-Z“”‘’、，：；（）()《》〈〉—\-·]')
YEAR_LINE = re.compile(r'^\W*(19|20)\d\d\s*年度?\W*$')
# ... or is shorter than any project name (the shortest among the 35 published forms,
# 软硬件购置, has 5 characters; '办公费' would have 3): one or two characters read off an
# unreadable page ('年', rough 3571) are what survived of a longer name, and tie
# nothing to its record.
NAME_MIN_CHARS = 3
# ... unless the marks only follow a name read whole: at least this many Chinese
# characters before the first of them ('老旧小区综合整治经费rat', '图书馆数字资源采购经费
# 21952207°30': a speck or a neighbouring cell's digits read onto its end). Measured: both
# such forms of the augraphy office set 8080 were matched by the scorer; of the lost
# ones above, none had more than 3 ('上00年费Y', '41110102F他化药').
NAME_CORE_CHARS = 6
# Results stored before pages were graded: a document with more than this share of its
# fields flagged is taken as rough, else as good.
ROUGH_FLAG_SHARE = 0.12


def flagged_paths(document: Document) -> dict[tuple[int, str], set[str]]:
    """(form, field path) -> reasons, for every leaf field a flag covers. A flag on a
    prefix ('indicators.3', 'total', '' for the whole form) covers every field below it."""
    leaves = {i: form.field_paths() for i, form in enumerate(document.forms)}
    out: dict[tuple[int, str], set[str]] = defaultdict(set)
    for flag in document.review:
        for path in leaves.get(flag.form, []):
            if not flag.field or path == flag.field or path.startswith(flag.field + '.'):
                out[(flag.form, path)].add(str(flag.reason))
    return out


def form_grade(document: Document, index: int) -> Optional[str]:
    """The worst grade among the form's pages (None when the pages were not graded)."""
    grades = {q.page: q.grade for q in document.quality}
    found = [grades[p] for p in document.forms[index].pages if p in grades]
    return max(found, key=GRADES.index) if found else None


def garbled_name(name: str) -> bool:
    """A name that cannot be a project's (NAME_MARKS, YEAR_LINE, NAME_MIN_CHARS): what
    was read off the page is not its name."""
    text = re.sub(r'\s+', '', name)
    return bool(NAME_MARKS.search(text) or YEAR_LINE.match(text)) or len(text) < NAME_MIN_CHARS


def name_core(name: str) -> int:
    """The Chinese characters of the name before the first mark no name prints."""
    text = re.sub(r'\s+', '', name)
    mark = NAME_MARKS.search(text)
    return sum(is_han(ch) for ch in (text[:mark.start()] if mark else text))


def form_unsure(document: Document, index: int) -> Optional[float]:
    """The highest share of unsure text lines among the form's graded pages (None when
    none was graded)."""
    unsure = {q.page: q.unsure_lines for q in document.quality}
    found = [unsure[p] for p in document.forms[index].pages if p in unsure]
    return max(found) if found else None


def residual_rate(document: Document, index: int, fallback: str) -> float:
    """Silent errors expected per unflagged field of the form."""
    unsure = form_unsure(document, index)
    if unsure is None:
        return RESIDUAL_RATE[form_grade(document, index) or fallback]
    return RESIDUAL_PER_UNSURE * unsure


def lost_fields(document: Document, index: int) -> int:
    """The fields of a form nothing ties to its record, counted as lost whether flagged
    or not: one whose name went unread (its kind's first header field empty: a 1-bit
    fax page graded rough loses it too), or read off an unreadable page at under
    NAME_TIES or garbled (the header is read from the form's first page). At least
    FIELDS_PER_FORM: such a page hides rows too. 0 for any other form."""
    form = document.forms[index]
    pages = form.pages
    if not pages:
        return 0
    unreadable_start = any(q.page == pages[0] and q.grade == 'unreadable' for q in document.quality)
    header = form.template.header
    nameless = bool(header) and not (form.get(header[0].key) or '').strip()
    if unreadable_start and not nameless:
        source = form.sources.get(header[0].key) if header else None
        name = form.get(header[0].key) or ''
        named_surely = source is not None and (source.confidence or 0.0) >= NAME_TIES \
            and (not garbled_name(name) or name_core(name) >= NAME_CORE_CHARS)
        unreadable_start = not named_surely
    if not (unreadable_start or nameless):
        return 0
    return max(len(form.field_paths()), FIELDS_PER_FORM)


def unread_form_pages(document: Document) -> list[int]:
    """Pages graded unreadable that hold a ruled table but went to no form, and follow
    no form left open (one without its total row, which is flagged whole as going on
    there): a form started there, its title and labels unread, and all of it is lost.
    (On the tuning sets' rough and augraphy pages, 9 of 12 such pages started a form;
    the other 3 continued one the report flags whole.)"""
    grades = {q.page: q for q in document.quality}
    pages = []
    for unmatched in document.unmatched_pages:
        quality = grades.get(unmatched.page)
        if quality is None or quality.grade != 'unreadable' or NO_TABLE_REASON in quality.reasons:
            continue
        before = [f for f in document.forms if f.pages and f.pages[-1] == unmatched.page - 1]
        if any(f.template.total is not None and f.get(f.template.total.key) is None for f in before):
            continue
        pages.append(unmatched.page)
    return pages


def document_report(document: Document) -> DocumentReport:
    fields = sum(len(form.field_paths()) for form in document.forms)
    flagged = flagged_paths(document)
    by_reason: dict[str, int] = defaultdict(int)
    for reasons in flagged.values():
        for reason in reasons:
            by_reason[reason] += 1
    share = len(flagged) / fields if fields else 0.0
    fallback = 'rough' if share > ROUGH_FLAG_SHARE else 'good'
    residual, grades = 0.0, []
    for index, form in enumerate(document.forms):
        grade = form_grade(document, index) or fallback
        grades.append(grade)
        unflagged = sum(1 for path in form.field_paths() if (index, path) not in flagged)
        residual += unflagged * residual_rate(document, index, fallback)
        residual += lost_fields(document, index)
    residual += FIELDS_PER_FORM * len(unread_form_pages(document))
    unflagged_total = fields - len(flagged)
    worst = max(grades, key=GRADES.index) if grades else fallback
    return DocumentReport(file=document.source.file, forms=len(document.forms),
                          pages=document.source.pages, fields=fields, flagged_fields=len(flagged),
                          by_reason=dict(sorted(by_reason.items())),
                          residual_errors=round(residual, 2),
                          residual_rate=round(residual / unflagged_total, 5) if unflagged_total else 0.0,
                          scan_quality=worst,
                          page_grades={q.page: q.grade for q in document.quality})


def failed_report(file: str, error: str, pages: Optional[int] = None) -> DocumentReport:
    return DocumentReport(file=file, forms=0, pages=pages or 0, fields=0, flagged_fields=0,
                          error=error)


def format_report(report: BatchReport) -> str:
    """A plain-text table for the terminal, one line per document and a total."""
    reasons = sorted({r for d in report.documents for r in d.by_reason})
    head = f'{"document":<36} {"forms":>5} {"fields":>6} {"flagged":>7}'
    head += ''.join(f' {r:>{len(r)}}' for r in reasons) + f' {"grade":>10} {"~left":>6}'
    lines = [head, '-' * len(head)]
    for d in report.documents:
        name = d.file if len(d.file) <= 36 else d.file[:33] + '...'
        if d.error:
            lines.append(f'{name:<36} failed: {d.error}')
            continue
        row = f'{name:<36} {d.forms:>5} {d.fields:>6} {d.flagged_fields:>7}'
        row += ''.join(f' {d.by_reason.get(r, 0):>{len(r)}}' for r in reasons)
        lines.append(row + f' {d.scan_quality:>10} {d.residual_errors:>6.1f}')
    done = [d for d in report.documents if not d.error]
    total = f'{"TOTAL":<36} {sum(d.forms for d in done):>5} {report.fields:>6} {report.flagged_fields:>7}'
    total += ''.join(f' {sum(d.by_reason.get(r, 0) for d in done):>{len(r)}}' for r in reasons)
    lines += ['-' * len(head), total + f' {"":>10} {report.residual_errors:>6.1f}']
    lines.append(f'~left: wrong values expected among the {report.fields - report.flagged_fields} '
                 'unflagged fields (silent error rate measured on generated scans, growing with the share '
                 "of unsure text lines on each form's worst page; forms nothing ties to their record count "
                 'whole; see extractor/report.py)')
    return '\n'.join(lines)


def batch_report(items: Iterable[DocumentReport]) -> BatchReport:
    return BatchReport(documents=list(items))
