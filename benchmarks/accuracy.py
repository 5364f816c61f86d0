"""Accuracy on a generated corpus: make scans with tests/scangen, extract them in this
process and score them with the project's scorer score.py (not in this repository: pass its
path with --score-tool or EXTRACTOR_SCORE_TOOLS=DIR holding score.py; without it the
benchmark says so and exits 0).

    python benchmarks/accuracy.py [--forms 30] [--levels clean,mild,hard] [--seed 7] [--out out/accuracy] [--score-tool PATH]

Prints score.py's table per level (field accuracy, catch rate, silent errors, flag rate,
split-number and known-issue recall) and the extraction time per page.
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from extractor import ocr, pipeline  # noqa: E402
from tests import scangen  # noqa: E402



def score_tool_default():
    folder = os.environ.get('EXTRACTOR_SCORE_TOOLS')
    return os.path.join(folder, 'score.py') if folder else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--forms', type=int, default=30)
    ap.add_argument('--levels', default='clean,mild,hard,rough')
    ap.add_argument('--scan-dpi', type=int, default=None,
                    help='resample every page to this scan resolution (default: the level decides)')
    ap.add_argument('--seed', type=int, default=7)
    ap.add_argument('--per-pdf', type=int, default=4)
    ap.add_argument('--source', default='mixed')
    ap.add_argument('--engine', default=None, help='OCR engine (default: EXTRACTOR_OCR_ENGINE or cascade)')
    ap.add_argument('--out', default=os.path.join(ROOT, 'out', 'accuracy'))
    ap.add_argument('--errors', type=int, default=0, help='print up to N wrong fields per document')
    ap.add_argument('--score-tool', default=score_tool_default(),
                    help='path of score.py (default: $EXTRACTOR_SCORE_TOOLS/score.py)')
    args = ap.parse_args()
    if not args.score_tool or not os.path.exists(args.score_tool):
        print(f'skipped: no scorer (score.py) found at {args.score_tool!r}; '
              'pass --score-tool PATH or set EXTRACTOR_SCORE_TOOLS=DIR')
        return
    recognizer = ocr.make_recognizer(args.engine) if args.engine else ocr.default_recognizer()
    for level in args.levels.split(','):
        scans = os.path.join(args.out, level, 'scans')
        results = os.path.join(args.out, level, 'results')
        os.makedirs(results, exist_ok=True)
        pairs = scangen.generate(scans, forms=args.forms, level=level, seed=args.seed, scan_dpi=args.scan_dpi,
                                 per_pdf=args.per_pdf, source=args.source)
        pages, seconds = 0, 0.0
        for pdf, _truth in pairs:
            start = time.perf_counter()
            doc, page_results = pipeline.extract_file(str(pdf), recognizer=recognizer)
            seconds += time.perf_counter() - start
            pages += len(page_results)
            stem = os.path.splitext(os.path.basename(str(pdf)))[0]
            with open(os.path.join(results, f'{stem}.json'), 'w', encoding='utf-8') as fh:
                json.dump(doc.contract(), fh, ensure_ascii=False, indent=1)
        print(f'== level {level}: {len(pairs)} PDFs, {pages} pages, {seconds / max(pages, 1):.2f} s/page')
        cmd = [sys.executable, args.score_tool, results, scans, '--json', os.path.join(args.out, level, 'score.json')]
        if args.errors:
            cmd += ['--errors', str(args.errors)]
        out = subprocess.run(cmd, capture_output=True, text=True).stdout
        lines = out.splitlines()
        print('\n'.join(lines if args.errors else lines[:2] + [l for l in lines if l.startswith('TOTAL')]))


if __name__ == '__main__':
    main()
