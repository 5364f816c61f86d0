"""The silent error rates behind the batch report's residual-error estimate, and a check
that the estimate holds at every damage level.

    python benchmarks/residual_rate.py [--forms 30] [--levels clean,mild,hard,rough] [--seed 11]
    python benchmarks/residual_rate.py --levels rough --out DIR --reuse   # score existing output

Makes generated scans (tests/scangen), extracts them, scores each document with the
project's scorer score.py (--score-tool PATH or EXTRACTOR_SCORE_TOOLS=DIR; without it the
benchmark says so and exits 0). Prints:

1. per page grade (a form takes its worst page's grade, extractor/validate.grade_page):
   forms, unflagged fields, silent errors (wrong and not flagged) and their rate per
   unflagged field: the numbers to put in extractor/report.RESIDUAL_RATE (with no silent
   error in a grade the printed rate is the 95% upper bound 3/n);
2. per level: the silent errors the batch report predicts (extractor/report.py, with the
   rates it holds now) against those measured, and their ratio.
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


def truth_form_grades(truth: dict, document: Document) -> dict[int, str]:
    """Truth form index -> the worst grade of its pages (the same pages in the output)."""
    grades = {q.page: q.grade for q in document.quality}
    out = {}
    for index, form in enumerate(truth['forms']):
        found = [grades[p] for p in form['pages'] if p in grades]
        out[index] = max(found, key=report.GRADES.index) if found else 'unreadable'
    return out


def tally(scorer, scans: str, results: str, by_grade: dict, level_row: dict) -> None:
    for truth_path in sorted(glob.glob(os.path.join(scans, '*.truth.json'))):
        stem = os.path.basename(truth_path)[:-len('.truth.json')]
        with open(truth_path, encoding='utf-8') as fh:
            truth = json.load(fh)
        with open(os.path.join(results, f'{stem}.json'), encoding='utf-8') as fh:
            data = json.load(fh)
        document = Document.from_full(data)
        counts, details = scorer.score_document(document.contract(), truth)
        flagged = report.flagged_paths(document)
        for index, form in enumerate(document.forms):
            grade = report.form_grade(document, index) or 'unreadable'
            g = by_grade[grade]
            g['forms'] += 1
            g['unflagged'] += sum(1 for p in form.field_paths() if (index, p) not in flagged)
        # Wrong fields nobody is asked to check, by the grade of their truth form's pages.
        grades = truth_form_grades(truth, document)
        silent = counts['wrong'] - counts['caught']
        wrong_by_form = defaultdict(int)
        for d in details:
            wrong_by_form[d['form']] += 1
        caught_share = counts['caught'] / counts['wrong'] if counts['wrong'] else 0.0
        for form_index, wrong in wrong_by_form.items():
            by_grade[grades.get(form_index, 'unreadable')]['silent'] += wrong * (1 - caught_share)
        level_row['documents'] += 1
        level_row['fields'] += counts['fields']
        level_row['silent'] += silent
        level_row['predicted'] += report.document_report(document).residual_errors


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
    by_grade = defaultdict(lambda: {'forms': 0, 'unflagged': 0, 'silent': 0.0})
    levels = {}
    recognizer = None
    for level in args.levels.split(','):
        scans = os.path.join(args.out, level, 'scans')
        results = os.path.join(args.out, level, 'results')
        if not args.reuse:
            recognizer = recognizer or ocr.default_recognizer()
            scangen.generate(scans, forms=args.forms, level=level, seed=args.seed, per_pdf=args.per_pdf)
            extract(scans, results, recognizer)
        levels[level] = {'documents': 0, 'fields': 0, 'silent': 0, 'predicted': 0.0}
        tally(scorer, scans, results, by_grade, levels[level])
    print('silent errors per unflagged field, by the grade of the form\'s worst page')
    print(f'{"grade":<11} {"forms":>5} {"unflagged":>9} {"silent":>7} {"rate":>9}  report now')
    for grade in report.GRADES:
        g = by_grade.get(grade)
        if not g:
            continue
        n = g['unflagged']
        rate = (g['silent'] / n if n else 0.0) if g['silent'] else 3 / max(n, 1)
        bound = '' if g['silent'] else '  (none: 3/n upper bound)'
        print(f'{grade:<11} {g["forms"]:>5} {n:>9} {g["silent"]:>7.1f} {rate:>9.5f}  '
              f'{report.RESIDUAL_RATE[grade]:.5f}{bound}')
    print()
    print('predicted (batch report) against measured silent errors, per level')
    print(f'{"level":<7} {"docs":>4} {"fields":>6} {"predicted":>9} {"measured":>8} {"ratio":>6}')
    for level, row in levels.items():
        ratio = (row['predicted'] / row['silent']) if row['silent'] else float('inf') if row['predicted'] else 1.0
        print(f'{level:<7} {row["documents"]:>4} {row["fields"]:>6} {row["predicted"]:>9.1f} '
              f'{row["silent"]:>8} {ratio:>6.2f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
