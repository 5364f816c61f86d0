"""The grid stage on real scans and photos: overlays to look at, and for the cTDaR images
a cell score against their XML truth. The scans are not in this repository: --real DIR or
EXTRACTOR_REAL_SCANS=DIR (a folder of folders of images, with cTDaR XML beside some);
without it the benchmark says so and exits 0.

    python benchmarks/real_grid.py --real DIR [--out out/real-grid] [--dpi 200]

cTDaR 'modern' truth boxes are the hull of each cell's content, not its ruled box, so
a truth cell counts as found when one detected cell holds >= 80% of its content box
and holds no other truth cell's content (>= 50%). Merged-cell errors (two truth cells
in one detected cell) and split cells (content cut by a detected wall) both miss.
"""
import argparse
import glob
import os
import sys
import time
import xml.etree.ElementTree as ET

import cv2

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from extractor import grid, ingest, ocr, pipeline, preprocess  # noqa: E402



def truth_cells(xml_path):
    cells = []
    for table in ET.parse(xml_path).getroot().iter('table'):
        for cell in table.iter('cell'):
            pts = [tuple(map(int, p.split(','))) for p in cell.find('Coords').get('points').split()]
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            cells.append((min(xs), min(ys), max(xs), max(ys)))
    return cells


def inside(box, cell):
    x0, y0, x1, y1 = box
    ix = max(0, min(x1, cell[2]) - max(x0, cell[0]))
    iy = max(0, min(y1, cell[3]) - max(y0, cell[1]))
    area = max(1, (x1 - x0) * (y1 - y0))
    return ix * iy / area


def cell_recall(detected, truth):
    found = 0
    for i, box in enumerate(truth):
        holders = [c for c in detected if inside(box, c) >= 0.8]
        if len(holders) != 1:
            continue
        holder = holders[0]
        if any(j != i and inside(other, holder) >= 0.5 for j, other in enumerate(truth)):
            continue
        found += 1
    return found, len(truth)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default=os.path.join(ROOT, 'out', 'real-grid'))
    ap.add_argument('--dpi', type=int, default=200)
    ap.add_argument('--real', default=os.environ.get('EXTRACTOR_REAL_SCANS'),
                    help='folder of real scans (default: $EXTRACTOR_REAL_SCANS)')
    args = ap.parse_args()
    if not args.real or not os.path.isdir(args.real):
        print(f'skipped: no folder of real scans at {args.real!r}; pass --real DIR or set EXTRACTOR_REAL_SCANS')
        return
    real = args.real
    os.makedirs(args.out, exist_ok=True)
    images = sorted(p for p in glob.glob(os.path.join(real, '*', '*')) if p.lower().endswith(('.png', '.jpg', '.jpeg')))
    total_found = total_truth = 0
    # Pages are turned upright as the pipeline does (the recogniser tells upside down).
    score_lines = pipeline.line_scorer(ocr.default_recognizer())
    print(f'{"image":<42} {"size":>10} {"turn":>4} {"skew":>6} {"tables":>6} {"cells":>6} {"truth":>10} {"s":>5}')
    for path in images:
        page = next(ingest.iter_pages(path, args.dpi))
        t = time.perf_counter()
        clean = preprocess.clean_page(page, score_lines, ocr.page_turn_model())
        g = grid.find_tables(clean)
        seconds = time.perf_counter() - t
        name = os.path.relpath(path, real)
        cv2.imwrite(os.path.join(args.out, name.replace('/', '__') + '.png'), grid.draw_overlay(clean.gray, g))
        # Back to the original image's pixels (the page is read at a working resolution).
        back = page.image.shape[1] / clean.gray.shape[1] if not clean.measures.get('turned_deg') else 1.0
        cells = [[round(v * back) for v in c.bbox] for t_ in g.tables for c in t_.cells]
        score = ''
        xml = os.path.splitext(path)[0] + '.xml'
        if os.path.exists(xml):
            # Truth is in the original image's pixels; undo our deskew for the comparison
            # only when it was tiny (the cTDaR pages are straight).
            found, n = cell_recall(cells, truth_cells(xml))
            total_found += found
            total_truth += n
            score = f'{found}/{n}'
        h, w = page.image.shape[:2]
        turned = clean.measures.get('turned_deg', 0)
        print(f'{name[:42]:<42} {w:>4}x{h:<5} {turned:4d} {clean.angle:6.2f} {len(g.tables):6d} {len(cells):6d} '
              f'{score:>10} {seconds:5.2f}')
    if total_truth:
        print(f'cTDaR cell recall: {total_found}/{total_truth} = {100.0 * total_found / total_truth:.1f}%')
    print(f'overlays in {args.out}')


if __name__ == '__main__':
    main()
