"""The batch report: per document, its fields, the fields flagged for review by reason,
and an estimate of the wrong values left among the fields nobody is asked to check.

The estimate is the document's unflagged fields times the silent error rate (wrong and
not flagged, per unflagged field) measured by benchmarks/residual_rate.py on generated
scans. The rate depends on how rough the scan is, which shows in how much of it had to
be flagged, so the measured rate is taken by the document's own flagged share.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Optional

from models import Document
from models.report import BatchReport, DocumentReport

# Documents with at most this share of their fields flagged count as clean scans.
ROUGH_FLAG_SHARE = 0.12
# Silent errors per unflagged field, measured with benchmarks/residual_rate.py (seed 11,
# 30 forms each of mild and hard scans, 20 documents): 'clean' 4 wrong in 3100 unflagged
# fields, 'rough' 13 in 1906.
RESIDUAL_RATE = {'clean': 0.0013, 'rough': 0.0068}


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


def document_report(document: Document) -> DocumentReport:
    fields = sum(len(form.field_paths()) for form in document.forms)
    flagged = flagged_paths(document)
    by_reason: dict[str, int] = defaultdict(int)
    for reasons in flagged.values():
        for reason in reasons:
            by_reason[reason] += 1
    share = len(flagged) / fields if fields else 0.0
    quality = 'rough' if share > ROUGH_FLAG_SHARE else 'clean'
    unflagged = fields - len(flagged)
    rate = RESIDUAL_RATE[quality]
    return DocumentReport(file=document.source.file, forms=len(document.forms),
                          pages=document.source.pages, fields=fields, flagged_fields=len(flagged),
                          by_reason=dict(sorted(by_reason.items())),
                          residual_errors=round(unflagged * rate, 2), residual_rate=rate,
                          scan_quality=quality)


def failed_report(file: str, error: str, pages: Optional[int] = None) -> DocumentReport:
    return DocumentReport(file=file, forms=0, pages=pages or 0, fields=0, flagged_fields=0,
                          error=error)


def format_report(report: BatchReport) -> str:
    """A plain-text table for the terminal, one line per document and a total."""
    reasons = sorted({r for d in report.documents for r in d.by_reason})
    head = f'{"document":<36} {"forms":>5} {"fields":>6} {"flagged":>7}'
    head += ''.join(f' {r:>{len(r)}}' for r in reasons) + f' {"~left":>6}'
    lines = [head, '-' * len(head)]
    for d in report.documents:
        name = d.file if len(d.file) <= 36 else d.file[:33] + '...'
        if d.error:
            lines.append(f'{name:<36} failed: {d.error}')
            continue
        row = f'{name:<36} {d.forms:>5} {d.fields:>6} {d.flagged_fields:>7}'
        row += ''.join(f' {d.by_reason.get(r, 0):>{len(r)}}' for r in reasons)
        lines.append(row + f' {d.residual_errors:>6.1f}')
    done = [d for d in report.documents if not d.error]
    total = f'{"TOTAL":<36} {sum(d.forms for d in done):>5} {report.fields:>6} {report.flagged_fields:>7}'
    total += ''.join(f' {sum(d.by_reason.get(r, 0) for d in done):>{len(r)}}' for r in reasons)
    lines += ['-' * len(head), total + f' {report.residual_errors:>6.1f}']
    lines.append(f'~left: wrong values expected among the {report.fields - report.flagged_fields} '
                 'unflagged fields (silent error rate measured on generated scans; see extractor/report.py)')
    return '\n'.join(lines)


def batch_report(items: Iterable[DocumentReport]) -> BatchReport:
    return BatchReport(documents=list(items))
