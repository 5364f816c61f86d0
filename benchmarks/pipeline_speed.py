"""Speed of the pipeline, per stage, on a multi-page scan; and, on the same pages with
the same PP-OCR models, plain full-page OCR (text detection + recognition) for scale.

    python benchmarks/pipeline_speed.py [PDF] [--dpi 200] [--pages N] [--no-fullpage] [--engine E]
                                        [--jobs N]

Prints seconds per page for each stage, the total, peak RSS, and the full-page OCR time.
With --jobs N it prints, after the one-process run, the same pages' wall clock a page
when N worker processes (one OCR thread each, as the queue's workers and `extract
--jobs`) share them out page by page (each loads the page itself, as a page task does),
clocked from all workers ready to the last page done.
Default input: the bundled demo scan (samples/demo.pdf).
"""
import argparse
import os
import resource
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from extractor import ingest, layout, ocr, pipeline, validate  # noqa: E402
from models import Source  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def full_page_ocr(images):
    """rapidocr's own pipeline (DB text detection + the same PP-OCRv6 recognition),
    pointed at the files inside the wheel, no angle classifier."""
    from rapidocr import RapidOCR
    engine = RapidOCR(params={
        'Global.use_cls': False, 'Global.log_level': 'error',
        'Det.model_path': ocr.packaged_model_path('PP-OCRv6_det_small.onnx'),
        'Rec.model_path': ocr.packaged_model_path('PP-OCRv6_rec_small.onnx'),
    })
    engine(images[0])           # warm up
    start = time.perf_counter()
    lines = 0
    for image in images:
        result = engine(image)
        lines += len(result.txts or ())
    return (time.perf_counter() - start) / len(images), lines


def _page_worker(pdf: str, dpi: int, pages: list[int], engine, barrier, done) -> None:
    os.environ['EXTRACTOR_OCR_THREADS'] = '1'
    recognizer = ocr.make_recognizer(engine) if engine else ocr.default_recognizer()
    recognizer.recognize([__import__('numpy').full((48, 200), 255, 'uint8')])      # warm up
    barrier.wait()
    for number in pages:
        pipeline.process_page(ingest.load_page(pdf, number, dpi), recognizer)
    done.put(time.perf_counter())


def shared_out(pdf: str, dpi: int, n: int, jobs: int, engine) -> float:
    """Wall clock a page of pages 1..n shared out page by page to `jobs` processes."""
    import multiprocessing
    context = multiprocessing.get_context('spawn')
    barrier, done = context.Barrier(jobs + 1), context.Queue()
    workers = [context.Process(target=_page_worker,
                               args=(pdf, dpi, list(range(1 + k, n + 1, jobs)), engine, barrier, done))
               for k in range(jobs)]
    for worker in workers:
        worker.start()
    barrier.wait()
    start = time.perf_counter()
    end = max(done.get() for _ in workers)
    for worker in workers:
        worker.join()
    return (end - start) / n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('pdf', nargs='?', default=os.path.join(ROOT, 'samples', 'demo.pdf'))
    ap.add_argument('--dpi', type=int, default=200)
    ap.add_argument('--pages', type=int, default=0, help='only the first N pages')
    ap.add_argument('--no-fullpage', action='store_true', help='skip the full-page OCR comparison')
    ap.add_argument('--engine', default=None,
                    help='cascade (default), tiny or small: tiny alone vs cascade is the cost of '
                         'the second reading of digit lines')
    ap.add_argument('--jobs', type=int, default=0,
                    help='also time the pages shared out to N worker processes, one OCR thread each')
    args = ap.parse_args()

    recognizer = ocr.make_recognizer(args.engine) if args.engine else ocr.default_recognizer()
    recognizer.recognize([__import__('numpy').full((48, 200), 255, 'uint8')])      # warm up
    n = ingest.count_pages(args.pdf)
    if args.pages:
        n = min(n, args.pages)
    totals = {'ingest': 0.0, 'preprocess': 0.0, 'grid': 0.0, 'ocr': 0.0}
    results, images, lines = [], [], 0
    wall = time.perf_counter()
    # Pages come as the pipeline takes them (extract_file): the next one renders while
    # this one is worked on, and 'ingest' is the time spent waiting for it.
    pages = ingest.iter_pages(args.pdf, args.dpi)
    for number in range(1, n + 1):
        t = time.perf_counter()
        page = next(pages)
        totals['ingest'] += time.perf_counter() - t
        images.append(page.image)
        result = pipeline.process_page(page, recognizer)
        for key, value in result.timings.items():
            totals[key] += value
        lines += sum(len(c.lines) for c in result.cells) + len(result.loose_text)
        results.append(result)
    pages.close()
    t = time.perf_counter()
    forms, _ = layout.build_forms(results)
    totals['layout'] = time.perf_counter() - t
    t = time.perf_counter()
    validate.check_forms(forms)
    totals['validate'] = time.perf_counter() - t
    wall = time.perf_counter() - wall

    print(f'input: {os.path.basename(args.pdf)}, {n} pages at {args.dpi} dpi, {len(forms)} forms, '
          f'{lines} text lines, {os.cpu_count()} cores, OCR threads {getattr(recognizer.session.get_session_options(), "intra_op_num_threads", "?")}')
    print(f'{"stage":<12} {"s/page":>8}')
    for key, value in totals.items():
        print(f'{key:<12} {value / n:8.3f}')
    per_page = wall / n
    print(f'{"total":<12} {per_page:8.3f}   (wall clock, all stages)')
    print(f'peak RSS     {peak_rss_mb():8.0f} MB')
    if args.jobs:
        print(f'{args.jobs} worker processes, pages shared out: '
              f'{shared_out(args.pdf, args.dpi, n, args.jobs, args.engine):.3f} s/page (wall clock)')
    if not args.no_fullpage:
        full, full_lines = full_page_ocr(images)
        print(f'full-page PP-OCR det+rec: {full:.3f} s/page ({full_lines} lines) -> pipeline is '
              f'{full / per_page:.1f}x faster end to end, {full / (totals["ocr"] / n):.1f}x on the OCR stage')
        print(f'peak RSS with full-page OCR loaded: {peak_rss_mb():.0f} MB')


if __name__ == '__main__':
    main()
