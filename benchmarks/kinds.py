"""Form kinds on a mixed batch: generate PDFs mixing project forms, department forms,
non-form ruled tables and blank pages (tests/scangen --kinds), extract them in this
process and print, per damage level:

  forms      truth forms found with the right kind and the right pages
  wrong      forms given the other kind
  made       non-form pages made into forms (target 0)
  turned     non-form pages reported as unmatched
  per kind   field accuracy, silent errors (wrong and not flagged), flag rate (flagged
             fields / fields) and split-number recall, over the forms matched

Scoring is the repository's own (tests/truth.py: NFKC, dash variants, numbers by
value), so it needs nothing outside the repository.

    python benchmarks/kinds.py [--forms 24] [--levels clean,mild,hard] [--kinds project,department,other]
                               [--seed 21] [--out out/kinds] [--errors N]
"""
import argparse
import json
import os
import sys
import time
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'tests'))

from extractor import ocr, pipeline  # noqa: E402
from tests import scangen  # noqa: E402
from truth import flatten, form_schema, match_kinds, same  # noqa: E402


def covered(flags, form_index, path):
    """A flag on the field itself, on its row or block, or on the whole form."""
    for flag in flags:
        if flag['form'] != form_index:
            continue
        field = flag['field']
        if field == '' or field == path or path.startswith(field + '.'):
            return True
    return False


def score_level(pairs, errors=0):
    totals = defaultdict(lambda: defaultdict(int))
    kinds = defaultdict(int)
    for result, truth in pairs:
        match = match_kinds(result, truth)
        for key, value in match['summary'].items():
            kinds[key] += value
        flags = result.get('review') or []
        for entry in match['forms']:
            t = totals[entry['schema']]
            want = truth['forms'][entry['form']]
            fields = {k: v for k, v in flatten(want).items() if k != 'title'}
            t['forms'] += 1
            t['fields'] += len(fields)
            split = [s for s in truth.get('split_fields') or [] if s['form'] == entry['form']]
            t['splits'] += len(split)
            if entry['result_form'] is None:
                t['lost_fields'] += len(fields)
                continue
            j = entry['result_form']
            got = flatten(result['forms'][j])
            t['matched'] += 1
            for path, value in fields.items():
                ok = same(got.get(path), value)
                flagged = covered(flags, j, path)
                t['right'] += ok
                t['flagged'] += flagged
                if not ok and not flagged:
                    t['silent'] += 1
                    if errors and t['shown'] < errors:
                        t['shown'] += 1
                        print(f'    silent {result["source"]["file"]} form {j} {path}: '
                              f'{got.get(path)!r} != {value!r}')
            for s in split:
                if any(f['form'] == j and f['field'] == s['field'] and f['reason'] == 'split_number'
                       for f in flags):
                    t['split_found'] += 1
    return kinds, totals


def pct(a, b):
    return f'{100.0 * a / b:6.1f}' if b else '   n/a'


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--forms', type=int, default=24)
    ap.add_argument('--levels', default='clean,mild,hard')
    ap.add_argument('--kinds', default='project,department,other')
    ap.add_argument('--seed', type=int, default=21)
    ap.add_argument('--per-pdf', type=int, default=4)
    ap.add_argument('--out', default=os.path.join(ROOT, 'out', 'kinds'))
    ap.add_argument('--errors', type=int, default=0, help='print up to N silent errors per kind')
    args = ap.parse_args()
    recognizer = ocr.default_recognizer()
    print(f'seed {args.seed}, {args.forms} forms per level, kinds {args.kinds}')
    print(f'{"level":7} {"forms":>7} {"wrong":>5} {"made":>4} {"turned":>7} | '
          f'{"kind":18} {"forms":>5} {"field%":>6} {"silent":>6} {"flag%":>6} {"split%":>6} {"s/page":>6}')
    for level in args.levels.split(','):
        scans = os.path.join(args.out, level, 'scans')
        outs = os.path.join(args.out, level, 'results')
        os.makedirs(outs, exist_ok=True)
        made = scangen.generate(scans, forms=args.forms, level=level, seed=args.seed,
                                per_pdf=args.per_pdf, kinds=args.kinds)
        pairs, pages, started = [], 0, time.perf_counter()
        for pdf, truth_path in made:
            doc, results = pipeline.extract_file(pdf, recognizer=recognizer)
            pages += len(results)
            result = doc.contract()
            with open(os.path.join(outs, os.path.basename(pdf)[:-4] + '.json'), 'w', encoding='utf-8') as fh:
                json.dump(doc.full(), fh, ensure_ascii=False, indent=1)
            with open(truth_path, encoding='utf-8') as fh:
                pairs.append((result, json.load(fh)))
        per_page = (time.perf_counter() - started) / max(1, pages)
        kinds, totals = score_level(pairs, args.errors)
        head = (f'{level:7} {kinds["matched"]:>3}/{kinds["truth_forms"]:<3} {kinds["wrong_kind"]:>5} '
                f'{kinds["other_pages_made_into_forms"]:>4} '
                f'{kinds["other_pages_reported_unmatched"]:>3}/{kinds["other_pages"]:<3} | ')
        for i, (schema, t) in enumerate(sorted(totals.items())):
            print((head if i == 0 else ' ' * len(head[:-2]) + '| ')
                  + f'{schema:18} {t["matched"]:>2}/{t["forms"]:<2} {pct(t["right"], t["fields"])} '
                  f'{t["silent"]:>6} {pct(t["flagged"], t["fields"])} {pct(t["split_found"], t["splits"])} '
                  f'{per_page:6.2f}')


if __name__ == '__main__':
    main()
