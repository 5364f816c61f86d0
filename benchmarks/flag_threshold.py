"""How the low-confidence threshold was chosen: extract generated scans, line up each
field with its truth, and print, for a sweep of thresholds, how many wrong fields the
other flags leave unflagged (silent) and how many fields a threshold adds to review.

    python benchmarks/flag_threshold.py SCANDIR [SCANDIR...]

SCANDIR holds scangen PDFs with their .truth.json (python -m tests.scangen --out DIR).
Only forms whose indicator rows line up one to one with the truth are counted.
"""
import glob
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'tests'))

from extractor import ocr, pipeline  # noqa: E402
from truth import flatten, same  # noqa: E402

THRESHOLDS = [0.5, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99]


def fields_of(pdf, recognizer):
    truth = json.load(open(pdf[:-4] + '.truth.json', encoding='utf-8'))
    doc, _ = pipeline.extract_file(pdf, recognizer=recognizer)
    rows = []
    for i, (form, want) in enumerate(zip(doc.forms, truth['forms'])):
        if len(form.indicators) != len(want.get('indicators') or []):
            continue
        got, expected = flatten(form.model_dump(mode='json')), flatten(want)
        other = {f.field for f in doc.review if f.form == i and f.reason != 'low_confidence'}
        for path, value in expected.items():
            source = form.sources.get(path)
            covered = any(path == p or path.startswith(p + '.') for p in other)
            second = source is not None and source.second_reading is not None
            rows.append((source.confidence if source and source.confidence is not None else 1.0,
                         same(got.get(path), value), covered, second))
    return rows


def main():
    recognizer = ocr.default_recognizer()
    rows = []
    for folder in sys.argv[1:]:
        for pdf in sorted(glob.glob(os.path.join(folder, '*.pdf'))):
            rows += fields_of(pdf, recognizer)
    wrong = [r for r in rows if not r[1]]
    print(f'{len(rows)} fields, {len(wrong)} wrong; wrong and not flagged for another reason: '
          f'{sum(1 for r in wrong if not r[2] and not r[3])}')
    print(f'{"threshold":>9} {"silent":>7} {"added flags":>12} {"added %":>8} {"of them wrong":>14}')
    for t in THRESHOLDS:
        silent = sum(1 for c, ok, cov, sec in wrong if not cov and not sec and c >= t)
        added = [r for r in rows if not r[2] and not r[3] and r[0] < t]
        print(f'{t:9.2f} {silent:7d} {len(added):12d} {100.0 * len(added) / len(rows):8.2f} '
              f'{sum(1 for r in added if not r[1]):14d}')


if __name__ == '__main__':
    main()
