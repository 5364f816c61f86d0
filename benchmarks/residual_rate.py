"""The silent error rate behind the batch report's residual-error estimate.

    python benchmarks/residual_rate.py [--forms 30] [--levels mild,hard] [--seed 11]
    python benchmarks/residual_rate.py --results DIR --scans DIR    # score existing output

Makes generated scans (tests/scangen), extracts them, scores each document with the
project's scorer score.py (--score-tool PATH or EXTRACTOR_SCORE_TOOLS=DIR; without it the
benchmark says so and exits 0), and groups documents the way extractor/report.py does (by the
share of their fields that were flagged). Prints, per group, the wrong fields that were
not flagged per unflagged field: the rate to put in extractor/report.RESIDUAL_RATE.
With no silent error in a group the printed rate is the 95% upper bound 3/n.
"""
import argparse
import glob
import importlib.util
import json
import os
import sys

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
            json.dump(doc.contract(), fh, ensure_ascii=False)


def tally(scorer, scans: str, results: str, groups: dict) -> None:
    for truth_path in sorted(glob.glob(os.path.join(scans, '*.truth.json'))):
        stem = os.path.basename(truth_path)[:-len('.truth.json')]
        with open(truth_path, encoding='utf-8') as fh:
            truth = json.load(fh)
        out_path = os.path.join(results, f'{stem}.json')
        with open(out_path, encoding='utf-8') as fh:
            out = json.load(fh)
        counts, _ = scorer.score_document(out, truth)
        quality = report.document_report(Document.model_validate(out)).scan_quality
        g = groups.setdefault(quality, {'documents': 0, 'unflagged': 0, 'silent': 0, 'fields': 0})
        g['documents'] += 1
        g['fields'] += counts['fields']
        g['unflagged'] += counts['fields'] - counts['flagged']
        g['silent'] += counts['wrong'] - counts['caught']


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--forms', type=int, default=30)
    ap.add_argument('--levels', default='mild,hard')
    ap.add_argument('--seed', type=int, default=11)
    ap.add_argument('--per-pdf', type=int, default=3)
    ap.add_argument('--out', default=os.path.join(ROOT, 'out', 'residual'))
    ap.add_argument('--scans', help='score existing scans (with truth files) ...')
    ap.add_argument('--results', help='... against existing results instead of extracting')
    ap.add_argument('--score-tool', default=score_tool_default(),
                    help='path of score.py (default: $EXTRACTOR_SCORE_TOOLS/score.py)')
    args = ap.parse_args()
    if not args.score_tool or not os.path.exists(args.score_tool):
        print(f'skipped: no scorer (score.py) found at {args.score_tool!r}; '
              'pass --score-tool PATH or set EXTRACTOR_SCORE_TOOLS=DIR')
        return
    scorer = load_scorer(args.score_tool)
    groups: dict = {}
    if args.scans and args.results:
        tally(scorer, args.scans, args.results, groups)
    else:
        recognizer = ocr.default_recognizer()
        for level in args.levels.split(','):
            scans = os.path.join(args.out, level, 'scans')
            results = os.path.join(args.out, level, 'results')
            scangen.generate(scans, forms=args.forms, level=level, seed=args.seed, per_pdf=args.per_pdf)
            extract(scans, results, recognizer)
            tally(scorer, scans, results, groups)
    print(f'documents grouped by flagged share (rough: more than {report.ROUGH_FLAG_SHARE:.0%} of fields flagged)')
    print(f'{"group":<8} {"docs":>5} {"fields":>7} {"unflagged":>9} {"silent":>6} {"rate":>9}')
    for name, g in sorted(groups.items()):
        n = g['unflagged']
        rate = g['silent'] / n if g['silent'] else 3 / max(n, 1)
        bound = '' if g['silent'] else '  (no silent error: 3/n upper bound)'
        print(f'{name:<8} {g["documents"]:>5} {g["fields"]:>7} {n:>9} {g["silent"]:>6} {rate:>9.5f}{bound}')


if __name__ == '__main__':
    main()
