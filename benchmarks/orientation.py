"""Page orientation: generated pages turned by 0, 90, 180 and 270 degrees (on top of the
level's own damage), cleaned by the preprocess stage; prints how many came out upright.

    python benchmarks/orientation.py [--forms 12] [--levels mild,rough] [--seed 5]

A page counts as turned right when the turn preprocess undid is the one that was done.
The rough level may already have turned a page: the test turn adds to it.
"""
import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from extractor import ocr, pipeline, preprocess  # noqa: E402
from models import Page  # noqa: E402
from tests.scangen.corpus import _form_streams, pick_sources  # noqa: E402
from tests.scangen.degrade import degrade  # noqa: E402
from tests.scangen.render import draw_page, layout_for  # noqa: E402
from tests.scangen.seeds import DEFAULT_SEEDS, load_seeds  # noqa: E402


def pages_of(forms: int, level: str, seed: int):
    seed_forms = load_seeds(DEFAULT_SEEDS)[0] if os.path.exists(DEFAULT_SEEDS) else []
    for number, src in enumerate(pick_sources(seed, forms, 'mixed', seed_forms)):
        _, layout_rng, scan_rng = _form_streams(seed, number)
        layout = layout_for(src.form, layout_rng, dpi=200, columns=src.columns, attachment=False)
        for page in layout.pages:
            image = degrade(draw_page(page, layout.style), level, scan_rng)
            info = image.info['scangen']
            yield np.asarray(image), info.get('turned_deg', 0), info.get('scan_dpi') or 200


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--forms', type=int, default=12)
    ap.add_argument('--levels', default='mild,rough')
    ap.add_argument('--seed', type=int, default=5)
    args = ap.parse_args()
    scorer = pipeline.line_scorer(ocr.default_recognizer())
    for level in args.levels.split(','):
        right, total, seconds, wrong = 0, 0, 0.0, []
        for index, (pixels, already, dpi) in enumerate(pages_of(args.forms, level, args.seed)):
            for extra in (0, 90, 180, 270):
                turned = np.ascontiguousarray(np.rot90(pixels, k=extra // 90))
                start = time.perf_counter()
                # The page image at the resolution it was scanned at, as an image file
                # with its resolution tag reaches ingest.
                clean = preprocess.clean_page(Page(number=1, image=turned, dpi=dpi), scorer, ocr.page_turn_model())
                seconds += time.perf_counter() - start
                expected = (already + extra) % 360
                # Undoing a counter-clockwise turn of t takes a counter-clockwise turn of 360 - t.
                ok = (clean.measures['turned_deg'] + expected) % 360 == 0
                right += ok
                total += 1
                if not ok:
                    wrong.append(f'page {index} turned {expected}: undid {clean.measures["turned_deg"]}')
        print(f'{level:<6} {right}/{total} pages upright ({100.0 * right / max(total, 1):.1f}%), '
              f'preprocess {seconds / max(total, 1):.2f} s/page')
        for line in wrong[:20]:
            print('   ', line)


if __name__ == '__main__':
    main()
