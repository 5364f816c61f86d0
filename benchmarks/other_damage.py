"""Accuracy on damage the generator does not draw: clean generated scans damaged by
augraphy (benchmarks/augraphy_damage.py, run under its own interpreter), extracted here
and scored with score.py. What is tuned to the generator's idea of damage shows here.

    python benchmarks/other_damage.py --augraphy-python /tmp/augvenv/bin/python \\
        [--forms 30] [--seed 1717] [--mixes office,scanner] [--out out/other-damage] [--score-tool PATH]

The augraphy interpreter is a venv of its own (see benchmarks/augraphy_damage.py); without
it, or without score.py (--score-tool PATH or EXTRACTOR_SCORE_TOOLS=DIR), the benchmark
says so and exits 0. Prints score.py's TOTAL line per mix and the pages a form was lost on
with the grade and reasons the pipeline gave them.
"""
import argparse
import glob
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

sys.path.insert(0, os.path.join(ROOT, 'benchmarks'))

from extractor import ocr  # noqa: E402
from models import Document  # noqa: E402
from residual_rate import extract as extract_full  # noqa: E402
from tests import scangen  # noqa: E402


def score_tool_default():
    folder = os.environ.get('EXTRACTOR_SCORE_TOOLS')
    return os.path.join(folder, 'score.py') if folder else None


def extract(scans: str, results: str, recognizer) -> None:
    """Each PDF's full result (RESULTS/full/X.json) and its contract (RESULTS/X.json)."""
    full = os.path.join(results, 'full')
    extract_full(scans, full, recognizer)
    for path in glob.glob(os.path.join(full, '*.json')):
        with open(path, encoding='utf-8') as fh:
            contract = Document.from_full(json.load(fh)).contract()
        with open(os.path.join(results, os.path.basename(path)), 'w', encoding='utf-8') as fh:
            json.dump(contract, fh, ensure_ascii=False)


def lost_pages(scans: str, results: str) -> list[str]:
    """Pages of truth forms that no output form holds, with the page's grade."""
    lines = []
    for truth_path in sorted(glob.glob(os.path.join(scans, '*.truth.json'))):
        stem = os.path.basename(truth_path)[:-len('.truth.json')]
        with open(truth_path, encoding='utf-8') as fh:
            truth = json.load(fh)
        with open(os.path.join(results, 'full', f'{stem}.json'), encoding='utf-8') as fh:
            doc = json.load(fh)
        found = {p for form in doc['forms'] for p in form.get('pages') or []}
        grades = {q['page']: (q['grade'], q.get('reasons') or []) for q in doc.get('quality') or []}
        for form in truth['forms']:
            for page in form.get('pages') or []:
                if page not in found:
                    grade, reasons = grades.get(page, ('?', []))
                    lines.append(f'{stem} page {page}: {grade} ({"; ".join(reasons) or "no reason"})')
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--augraphy-python', default=os.environ.get('AUGRAPHY_PYTHON'),
                    help='interpreter with augraphy and img2pdf (default: $AUGRAPHY_PYTHON)')
    ap.add_argument('--forms', type=int, default=30)
    ap.add_argument('--per-pdf', type=int, default=3)
    ap.add_argument('--seed', type=int, default=1717)
    ap.add_argument('--mixes', default='office,scanner')
    ap.add_argument('--out', default=os.path.join(ROOT, 'out', 'other-damage'))
    ap.add_argument('--score-tool', default=score_tool_default())
    args = ap.parse_args()
    if not args.score_tool or not os.path.exists(args.score_tool):
        print(f'skipped: no scorer (score.py) found at {args.score_tool!r}; '
              'pass --score-tool PATH or set EXTRACTOR_SCORE_TOOLS=DIR')
        return 0
    if not args.augraphy_python or not os.path.exists(args.augraphy_python):
        print('skipped: no interpreter with augraphy; pass --augraphy-python PATH '
              '(see benchmarks/augraphy_damage.py for the venv)')
        return 0
    clean = os.path.join(args.out, 'clean')
    scangen.generate(clean, forms=args.forms, level='clean', seed=args.seed, per_pdf=args.per_pdf)
    recognizer = ocr.default_recognizer()
    for mix in args.mixes.split(','):
        scans, results = os.path.join(args.out, mix, 'scans'), os.path.join(args.out, mix, 'results')
        subprocess.run([args.augraphy_python, os.path.join(ROOT, 'benchmarks', 'augraphy_damage.py'),
                        os.path.abspath(clean), os.path.abspath(scans), '--mix', mix, '--seed', str(args.seed)],
                       check=True, stdout=subprocess.DEVNULL, cwd=args.out)   # augraphy leaves a cache folder in cwd
        extract(scans, results, recognizer)
        scored = subprocess.run([sys.executable, args.score_tool, results, scans],
                                capture_output=True, text=True, check=True).stdout.splitlines()
        print(f'{mix}:')
        header = next((line for line in scored if line.lower().startswith('document')), '')
        print(header)
        print(scored[-1] if scored else '(no output from score.py)')
        for line in lost_pages(scans, results):
            print('  lost:', line)
    return 0


if __name__ == '__main__':
    sys.exit(main())
