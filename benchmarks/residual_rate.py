"""The silent error rates behind the batch report's residual-error estimate, and a check
that the estimate holds at every damage level.

    python benchmarks/residual_rate.py [--forms 30] [--levels clean,mild,hard,rough] [--seed 11]
    python benchmarks/residual_rate.py --levels rough --out DIR --reuse   # score existing output

Makes generated scans (tests/scangen), extracts them, scores each document with the
project's scorer score.py (--score-tool PATH or EXTRACTOR_SCORE_TOOLS=DIR; without it the
benchmark says so and exits 0). Prints:

1. per page grade (a form takes its worst page's grade, extractor/validate.grade_page):
   unflagged fields and the silent error rate per unflagged field fitted over the
   documents: the numbers to put in extractor/report.RESIDUAL_RATE;
2. per level: the silent errors the batch report predicts (extractor/report.py, with the
   rates it holds now) against those measured, and their ratio.

Silent errors are counted per document exactly as score.py does (a row or a form the
output lost counts as silent too), so the rates are fitted over documents rather than
counted per grade.
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
        counts, _details = scorer.score_document(document.contract(), truth)
        flagged = report.flagged_paths(document)
        unflagged = defaultdict(int)
        for index, form in enumerate(document.forms):
            grade = report.form_grade(document, index) or 'unreadable'
            unflagged[grade] += sum(1 for p in form.field_paths() if (index, p) not in flagged)
        unflagged['unreadable pages'] = sum(q.grade == 'unreadable' for q in document.quality)
        lost = sum(report.lost_fields(document, index) for index in range(len(document.forms)))
        rows.append({'level': level, 'unflagged': dict(unflagged), 'fields': counts['fields'],
                     'silent': counts['wrong'] - counts['caught'], 'lost': lost,
                     'predicted': report.document_report(document).residual_errors})


def fit_rates(rows: list, iterations: int = 2000) -> dict:
    """Non-negative least squares of silent errors on unflagged fields per grade, over
    the documents (coordinate descent: four unknowns)."""
    grades = list(report.GRADES) + ['unreadable pages']
    x = [[r['unflagged'].get(g, 0) for g in grades] for r in rows]
    # The forms counted as lost whole (report.lost_fields) are predicted apart.
    y = [max(0, r['silent'] - r['lost']) for r in rows]
    rate = [0.0] * len(grades)
    for _ in range(iterations):
        for k in range(len(grades)):
            col = [row[k] for row in x]
            denom = sum(v * v for v in col)
            if not denom:
                continue
            resid = [yi - sum(row[j] * rate[j] for j in range(len(grades)) if j != k) for row, yi in zip(x, y)]
            rate[k] = max(0.0, sum(c * r for c, r in zip(col, resid)) / denom)
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
    fitted = fit_rates(rows)
    print('silent errors per unflagged field by page grade (a form takes its worst page\'s grade),')
    print('fitted over the documents (non-negative least squares)')
    print(f'{"grade":<11} {"unflagged":>9} {"fitted rate":>11}  report now')
    for grade in report.GRADES:
        n = sum(r['unflagged'].get(grade, 0) for r in rows)
        print(f'{grade:<11} {n:>9} {fitted[grade]:>11.5f}  {report.RESIDUAL_RATE[grade]:.5f}')
    n = sum(r['unflagged'].get('unreadable pages', 0) for r in rows)
    print(f'{"per unreadable page, forms lost whole apart":<42} pages {n}: {fitted["unreadable pages"]:.2f} '
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
