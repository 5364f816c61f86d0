"""The silent error rates behind the batch report's residual-error estimate, and a check
that the estimate holds at every damage level.

    python benchmarks/residual_rate.py [--forms 30] [--levels clean,mild,hard,rough] [--seed 11]
    python benchmarks/residual_rate.py --levels rough --out DIR --reuse   # score existing output

Makes generated scans (tests/scangen), extracts them, scores each document with the
project's scorer score.py (--score-tool PATH or EXTRACTOR_SCORE_TOOLS=DIR; without it the
benchmark says so and exits 0). Prints:

1. the silent error rate per unflagged field, fitted over the documents as a rate per
   unit of the share of unsure text lines on the form's worst page (the number to put
   in extractor/report.RESIDUAL_PER_UNSURE) and, for reference, per page grade (a form
   takes its worst page's grade, extractor/validate.grade_page: report.RESIDUAL_RATE,
   used for results stored without page grades); both on the forms the scorer matched
   and the report does not count as lost whole;
2. per level: the silent errors the batch report predicts (extractor/report.py, with the
   rates it holds now, and the forms it counts as lost whole) against those measured,
   and their ratio.

Silent errors are counted per document exactly as score.py does (a row the output lost
counts as silent too), so the rates are fitted over documents rather than counted per
field.
"""
import argparse
import glob
import importlib.util
import json
import os
import sys
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from extractor import ocr, pipeline, report  # noqa: E402
from models import Document  # noqa: E402
from tests import scangen  # noqa: E402


def score_tool_default():
    folder = os.environ.get('EXTRACTOR_SCORE_TOOLS')
    return os.path.join(folder, 'score.py') if folder else None


def load_scorer(path):
    spec = importlib.util.spec_from_file_location('score', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def extract(scans: str, results: str, recognizer) -> None:
    os.makedirs(results, exist_ok=True)
    for pdf in sorted(glob.glob(os.path.join(scans, '*.pdf'))):
        doc, _ = pipeline.extract_file(pdf, recognizer=recognizer)
        stem = os.path.splitext(os.path.basename(pdf))[0]
        with open(os.path.join(results, f'{stem}.json'), 'w', encoding='utf-8') as fh:
            json.dump(doc.full(), fh, ensure_ascii=False)


def tally(scorer, scans: str, results: str, rows: list, level: str) -> None:
    """One row per document: its unflagged fields per page grade (a form takes its worst
    page's), its silent errors as score.py counts them (wrong and not flagged, also in
    rows or forms the output lost), and what the batch report predicts now."""
    for truth_path in sorted(glob.glob(os.path.join(scans, '*.truth.json'))):
        stem = os.path.basename(truth_path)[:-len('.truth.json')]
        with open(truth_path, encoding='utf-8') as fh:
            truth = json.load(fh)
        with open(os.path.join(results, f'{stem}.json'), encoding='utf-8') as fh:
            document = Document.from_full(json.load(fh))
        counts, details = scorer.score_document(document.contract(), truth)
        flagged = report.flagged_paths(document)
        unflagged = defaultdict(float)
        lost = [report.lost_fields(document, index) for index in range(len(document.forms))]
        for index, form in enumerate(document.forms):
            if lost[index]:
                continue            # predicted apart, as lost whole
            grade = report.form_grade(document, index) or 'unreadable'
            fields = sum(1 for p in form.field_paths() if (index, p) not in flagged)
            unflagged[grade] += fields
            unflagged['all'] += fields
            unflagged['x unsure'] += fields * (report.form_unsure(document, index) or 0.0)
        unflagged['unreadable pages'] = sum(q.grade == 'unreadable' for q in document.quality)
        # The fields of forms the scorer matched to none of the output's: lost whole.
        in_lost_forms = sum(1 for d in details if d['missing'])
        rows.append({'level': level, 'unflagged': dict(unflagged), 'fields': counts['fields'],
                     'silent': counts['wrong'] - counts['caught'], 'lost': sum(lost),
                     'silent_in_kept_forms': counts['wrong'] - counts['caught'] - in_lost_forms,
                     'in_lost_forms': in_lost_forms,
                     'predicted': report.document_report(document).residual_errors})


def fit_rates(rows: list, grades: list, iterations: int = 3000) -> dict:
    """Poisson maximum likelihood of the silent errors per document as a sum of rates
    times the given counts of unflagged fields (per grade, or all and all times their
    share of unsure lines): silent errors are rare counts, a handful a document, which
    least squares would fit to the few documents with the most. Non-negative rates,
    by the EM update for a linear Poisson model."""
    # Forms lost whole are another matter (report.lost_fields predicts those the report
    # can tell): the rates are fitted to the silent errors in the forms the scorer
    # matched, on the unflagged fields of the forms not predicted lost.
    x = [[r['unflagged'].get(g, 0) for g in grades] for r in rows]
    y = [r['silent_in_kept_forms'] for r in rows]
    used = [k for k in range(len(grades)) if any(row[k] for row in x)]
    rate = [0.0] * len(grades)
    for k in used:
        rate[k] = (sum(y) or 1) / sum(sum(row[j] for j in used) for row in x)
    for _ in range(iterations):
        mu = [sum(row[j] * rate[j] for j in used) for row in x]
        rate = [rate[k] * sum(row[k] * yi / m for row, yi, m in zip(x, y, mu) if m > 0) / sum(row[k] for row in x)
                if k in used else 0.0 for k in range(len(grades))]
    return dict(zip(grades, rate))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--forms', type=int, default=30)
    ap.add_argument('--levels', default='clean,mild,hard,rough')
    ap.add_argument('--seed', type=int, default=11)
    ap.add_argument('--per-pdf', type=int, default=3)
    ap.add_argument('--out', default=os.path.join(ROOT, 'out', 'residual'))
    ap.add_argument('--reuse', action='store_true', help='score the scans and results already in --out')
    ap.add_argument('--score-tool', default=score_tool_default(),
                    help='path to score.py (default: $EXTRACTOR_SCORE_TOOLS/score.py)')
    args = ap.parse_args()
    if not args.score_tool or not os.path.exists(args.score_tool):
        print(f'skipped: no scorer (score.py) found at {args.score_tool}; '
              'pass --score-tool PATH or set EXTRACTOR_SCORE_TOOLS=DIR')
        return 0
    scorer = load_scorer(args.score_tool)
    rows: list = []
    recognizer = None
    for level in args.levels.split(','):
        scans = os.path.join(args.out, level, 'scans')
        results = os.path.join(args.out, level, 'results')
        if not args.reuse:
            recognizer = recognizer or ocr.default_recognizer()
            scangen.generate(scans, forms=args.forms, level=level, seed=args.seed, per_pdf=args.per_pdf)
            extract(scans, results, recognizer)
        tally(scorer, scans, results, rows, level)
    print(f'forms lost whole: {sum(r["in_lost_forms"] for r in rows)} fields of forms the scorer matched to no '
          f'output form, {sum(r["lost"] for r in rows)} predicted (report.lost_fields)')
    # Proportional to the share of unsure lines, without a base rate: with one, the
    # rough documents (within a level, their silent errors do not follow the share)
    # set the base to five times mild's measured rate.
    fitted = fit_rates(rows, ['x unsure'])
    print('silent errors per unflagged field, fitted over the documents (Poisson maximum likelihood)')
    print(f'as a rate per unit of the share of unsure lines on the form\'s worst page: '
          f'{fitted["x unsure"]:.4f} (report now {report.RESIDUAL_PER_UNSURE:.4f})')
    print()
    fitted = fit_rates(rows, list(report.GRADES) + ['unreadable pages'])
    print('for reference, per page grade (a form takes its worst page\'s grade; the report uses')
    print('these only for results stored without page grades)')
    print(f'{"grade":<11} {"unflagged":>9} {"fitted rate":>11}  report now')
    for grade in report.GRADES:
        n = sum(r['unflagged'].get(grade, 0) for r in rows)
        print(f'{grade:<11} {n:>9.0f} {fitted[grade]:>11.5f}  {report.RESIDUAL_RATE[grade]:.5f}')
    n = sum(r['unflagged'].get('unreadable pages', 0) for r in rows)
    print(f'{"per unreadable page, forms lost whole apart":<42} pages {n:.0f}: {fitted["unreadable pages"]:.2f} '
          f'(report: forms that start on one count {report.FIELDS_PER_FORM}+ fields lost)')
    print()
    print('predicted (batch report as it is now) against measured silent errors, per level')
    print(f'{"level":<7} {"docs":>4} {"fields":>6} {"predicted":>9} {"measured":>8} {"ratio":>6}')
    for level in dict.fromkeys(r['level'] for r in rows):
        mine = [r for r in rows if r['level'] == level]
        predicted, silent = sum(r['predicted'] for r in mine), sum(r['silent'] for r in mine)
        ratio = predicted / silent if silent else (float('inf') if predicted else 1.0)
        print(f'{level:<7} {len(mine):>4} {sum(r["fields"] for r in mine):>6} {predicted:>9.1f} '
              f'{silent:>8} {ratio:>6.2f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
