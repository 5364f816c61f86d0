"""Hostile inputs through `extract` and through the queue (`submit --wait`).

    python benchmarks/hostile_inputs.py [--count 1000] [--seed 0] [--skip-queue]
                                        [--render-timeout 10] [--workers 2] [--skip-extract]

Writes a corpus with tests/hostile/corpus.py (every fixed hostile kind once, then
truncations and byte mutations of a good scan, random bytes, odd page and image
sizes, plus two good scans), runs `python -m extractor extract` over it and then
`python -m workers submit --wait` on the embedded broker with local workers, and
prints per run: inputs, wall time, crashes (a traceback on the console, an exit code
other than 0/1), inputs with neither a result nor an error line, hangs (the run past
its time bound), peak RSS of any process (the command, its workers, pdftoppm), and
pdfinfo/pdftoppm processes left behind.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def run(command: list[str], env: dict, bound: float):
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=bound)
        code, out, err = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as expired:
        code, out, err = None, expired.stdout or b'', expired.stderr or b''
    seconds = time.monotonic() - started
    return code, out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace'), seconds


def report(name: str, inputs: list[str], code, out: str, err: str, seconds: float,
           folder: str, bound: float) -> None:
    from extractor.errors import printable
    from tests.hostile.corpus import poppler_processes
    lines = out.splitlines() + err.splitlines()
    answered = 0
    for path in inputs:
        shown, base = printable(path), printable(os.path.basename(path))
        if any(l.startswith(f'error: {shown}: ') or l.startswith(f'{base}: ') for l in lines):
            answered += 1
    tracebacks = err.count('Traceback') + out.count('Traceback')
    crashed = tracebacks > 0 or code not in (0, 1)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    answers = f'inputs with a result or an error line {answered}/{len(inputs)}; ' if inputs else ''
    print(f'{name}: {seconds:.0f} s; exit {code}; crashes {int(crashed)} (tracebacks on the console: '
          f'{tracebacks}); hangs {int(code is None)} (bound {bound:.0f} s); {answers}'
          f'peak RSS of any process so far {peak:.0f} MB; poppler processes left {len(poppler_processes(folder))}')


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--count', type=int, default=1000)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--render-timeout', default='10', help='EXTRACTOR_RENDER_TIMEOUT for the run')
    ap.add_argument('--engine', default='tiny')
    ap.add_argument('--workers', default='2')
    ap.add_argument('--skip-queue', action='store_true')
    ap.add_argument('--skip-extract', action='store_true')
    ap.add_argument('--keep', action='store_true', help='keep the corpus and outputs')
    args = ap.parse_args()
    from tests.hostile.corpus import write_corpus
    work = tempfile.mkdtemp(prefix='hostile-')
    folder = os.path.join(work, 'in')
    items = write_corpus(folder, args.count, args.seed)
    inputs = [os.fsdecode(os.path.join(os.fsencode(folder), i.name)) for i in items]
    inputs = [p for p in inputs if not os.path.isdir(p)]
    print(f'corpus: {len(inputs)} files in {folder} ({sum(i.good for i in items)} good scans)')
    env = {k: v for k, v in os.environ.items() if not k.startswith('EXTRACTOR_')}
    env.update(PYTHONPATH=ROOT, EXTRACTOR_RENDER_TIMEOUT=args.render_timeout,
               EXTRACTOR_OCR_ENGINE=args.engine)
    # A page takes ~1.5 s; a render bomb its render timeout: anything past this hangs.
    bound = 60 + len(inputs) * 3 + 40 * float(args.render_timeout)
    if not args.skip_extract:
        code, out, err, seconds = run([sys.executable, '-m', 'extractor', 'extract', folder,
                                       '--out', os.path.join(work, 'out')], env, bound)
        report('extract', inputs, code, out, err, seconds, folder, bound)
    if not args.skip_queue:
        queue_env = dict(env, EXTRACTOR_DATA_DIR=os.path.join(work, 'var'),
                         EXTRACTOR_PAGE_SOFT_LIMIT='30', EXTRACTOR_PAGE_HARD_LIMIT='60')
        code, out, err, seconds = run([sys.executable, '-m', 'workers', 'submit', folder, '--batch',
                                       'hostile', '--wait', '--workers', args.workers, '-q'],
                                      queue_env, bound)
        # submit prints an error line per refused or failed file, and a total; a file
        # with the same content as another is one document (listed once).
        from store.db import open_store
        from store.models import Document, Status
        from sqlalchemy import select
        store = open_store(f'sqlite:///{work}/var/extractor.db')
        with store.session() as session:
            documents = list(session.scalars(select(Document)))
        final = sum(d.status in Status.FINAL for d in documents)
        multi_line = sum(1 for d in documents if d.error and ('\n' in d.error or 'OpenCV' in d.error))
        last = [l for l in out.splitlines() if l.startswith('batch hostile:')]
        print(f'submit: {len(documents)} documents ({final} final, {len(documents) - final} not), '
              f'{multi_line} with a raw or multi-line reason; {last[-1] if last else "no summary line"}')
        report('submit', [], code, out, err, seconds, folder, bound)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f'kept {work}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
