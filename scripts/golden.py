"""Regenerate the per-stage golden files in tests/golden/ from the clean sample kept in the
repository (tests/data/samples/samples_clean.pdf). Run after a deliberate change to the
grid or OCR stage, then review the diff."""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from extractor import pipeline  # noqa: E402

SAMPLE = os.path.join(ROOT, 'tests', 'data', 'samples', 'samples_clean.pdf')
GOLDEN = os.path.join(ROOT, 'tests', 'golden')

_doc, results = pipeline.extract_file(SAMPLE)
with open(os.path.join(GOLDEN, 'samples_clean.pages.json'), 'w', encoding='utf-8') as fh:
    json.dump([r.model_dump(mode='json', exclude={'timings'}) for r in results], fh, ensure_ascii=False)
grid = [{'page': r.number, 'tables': [{'rows': t.n_rows, 'cols': t.n_cols,
                                       'cells': [[c.row, c.col, c.rowspan, c.colspan] for c in t.cells]}
                                      for t in r.grid.tables]} for r in results]
with open(os.path.join(GOLDEN, 'samples_clean.grid.json'), 'w') as fh:
    json.dump(grid, fh)
print('golden files written to', GOLDEN)
