"""`extract --jobs 2 --resume` over many single-page inputs, killed half way and run
again: every input done exactly once, no output overwritten, and its pages a second
against the queue's with 2 workers on (a part of) the same inputs.

    python benchmarks/extract_jobs.py [--count 1000] [--jobs 2] [--queue-count 100]
                                      [--broker redis|embedded] [--engine cascade] [--keep DIR]

Inputs: a few page images rendered from generated scans (`python -m tests.scangen`,
clean level, page 1 of each), copied under distinct names with a tEXt chunk of their
own, so every copy has its own sha256 (and so its own output name) at no rendering
cost. The first run is killed (SIGKILL to its process group: the parent and its worker
processes, mid-page) once half the outputs are there; the second run, the same command,
goes on. Then, from the files on disk:

  * every input has exactly one JSON output, named <stem>-<hash8> for its own sha256,
    and the JSON's source.sha256 is that input's;
  * the second run skipped exactly the documents the first run had finished and
    extracted only the others (its summary lines), none twice;
  * no output the first run wrote was written again (same inode, same mtime);
  * nothing half-written is left (*.tmp).

Pages a second: inputs over the two runs' wall time (process start, model loading and
the killed run's lost pages included), and the second run's own rate. The queue's rate
is benchmarks/queue_throughput.py's run() with 2 workers (started and ready before its
clock starts) over the first --queue-count inputs. The machine may be shared: the
numbers are noisy, and the script prints the load average next to them.
"""
from __future__ import annotations

import argparse
import glob
import importlib.util
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def _png_with_text(data: bytes, text: str) -> bytes:
    """The PNG with a tEXt chunk before IEND: other bytes, the same image."""
    body = b'Comment\x00' + text.encode('ascii')
    chunk = struct.pack('>I', len(body)) + b'tEXt' + body + struct.pack('>I', zlib.crc32(b'tEXt' + body))
    end = data.rindex(b'IEND') - 4
    return data[:end] + chunk + data[end:]


def make_inputs(folder: str, count: int, bases: int, seed: int) -> list[str]:
    scans = os.path.join(folder, 'scans')
    subprocess.run([sys.executable, '-m', 'tests.scangen', '--out', scans, '--forms', str(bases),
                    '--level', 'clean', '--per-pdf', '1', '--seed', str(seed), '-q'], cwd=ROOT, check=True)
    pages = []
    for index, pdf in enumerate(sorted(glob.glob(os.path.join(scans, '*.pdf')))):
        prefix = os.path.join(folder, f'base{index}')
        subprocess.run(['pdftoppm', '-r', '200', '-f', '1', '-l', '1', '-png', '-singlefile', pdf, prefix],
                       check=True)
        with open(prefix + '.png', 'rb') as fh:
            pages.append(fh.read())
    inputs = os.path.join(folder, 'in')
    os.makedirs(inputs)
    paths = []
    for i in range(count):
        # Every tenth input's name repeats in a second folder: same stem, other content.
        sub = os.path.join(inputs, f'box{i % 10}')
        os.makedirs(sub, exist_ok=True)
        path = os.path.join(sub, f'page{i // 10:04d}.png')
        with open(path, 'wb') as fh:
            fh.write(_png_with_text(pages[i % len(pages)], f'copy {i}'))
        paths.append(path)
    return paths


def _sha(path: str) -> str:
    from extractor.pipeline import sha256_of
    return sha256_of(path)


def _outputs(out: str) -> dict[str, os.stat_result]:
    return {name: os.stat(os.path.join(out, name)) for name in os.listdir(out)
            if name.endswith('.json') and name != 'batch-report.json'}


def _command(inputs: str, out: str, jobs: int, engine: str) -> list[str]:
    return [sys.executable, '-m', 'perf_extract', 'extract', inputs, '--out', out, '--jobs', str(jobs),
            '--resume', '--engine', engine, '-q']


def _summaries(stdout: str) -> list[str]:
    return [line.split(': ')[0] for line in stdout.splitlines() if ' form(s), ' in line]


def run_extract(paths: list[str], inputs: str, out: str, jobs: int, engine: str) -> dict:
    env = dict(os.environ, PYTHONPATH=ROOT)
    half = len(paths) // 2
    started = time.monotonic()
    first = subprocess.Popen(_command(inputs, out, jobs, engine), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    while first.poll() is None:
        if os.path.isdir(out) and len(_outputs(out)) >= half:
            os.killpg(first.pid, signal.SIGKILL)
            break
        time.sleep(0.2)
    first_out, first_err = first.communicate()
    first_seconds = time.monotonic() - started
    killed = first.returncode == -signal.SIGKILL
    before = _outputs(out)
    leftovers_at_kill = [n for n in os.listdir(out) if '.tmp' in n]
    started = time.monotonic()
    second = subprocess.run(_command(inputs, out, jobs, engine), cwd=ROOT, env=env, capture_output=True,
                            text=True)
    second_seconds = time.monotonic() - started
    after = _outputs(out)

    expected = {}
    for path in paths:
        sha = _sha(path)
        expected[f'{os.path.splitext(os.path.basename(path))[0]}-{sha[:8]}.json'] = sha
    wrong_source = []
    for name, sha in expected.items():
        try:
            with open(os.path.join(out, name), encoding='utf-8') as fh:
                if json.load(fh)['source']['sha256'] != sha:
                    wrong_source.append(name)
        except (OSError, ValueError, KeyError):
            wrong_source.append(name)
    rewritten = [n for n, st in before.items()
                 if n not in after or (after[n].st_ino, after[n].st_mtime_ns) != (st.st_ino, st.st_mtime_ns)]
    done_second = _summaries(second.stdout)
    skipped_line = next((l for l in second.stdout.splitlines() if l.startswith('resume: ')), '')
    skipped = int(skipped_line.split()[1]) if skipped_line else 0
    new_in_second = [n for n in after if n not in before]
    return {
        'inputs': len(paths), 'killed': killed, 'first_seconds': first_seconds,
        'done_before_kill': len(before), 'first_summaries': len(_summaries(first_out)),
        'tmp_left_by_kill': len(leftovers_at_kill), 'second_seconds': second_seconds,
        'second_code': second.returncode, 'second_errors': [l for l in second.stderr.splitlines()
                                                            if l.startswith('error:')],
        'skipped': skipped, 'done_second': len(done_second),
        # A document extracted twice would print its summary line twice: run 2 prints
        # exactly one a document it did not skip.
        'done_second_twice': max(0, len(done_second) - (len(paths) - skipped)),
        'outputs': len(after), 'missing': sorted(set(expected) - set(after)),
        'unexpected': sorted(set(after) - set(expected)), 'wrong_source': wrong_source,
        'rewritten': rewritten, 'tmp_left': [n for n in os.listdir(out) if '.tmp' in n],
        'new_in_second': len(new_in_second),
    }


def run_queue(paths: list[str], broker_kind: str, work_dir: str, engine: str) -> dict:
    spec = importlib.util.spec_from_file_location('queue_throughput',
                                                  os.path.join(ROOT, 'benchmarks', 'queue_throughput.py'))
    queue = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(queue)
    os.environ['EXTRACTOR_OCR_ENGINE'] = engine
    redis_server = None
    try:
        if broker_kind == 'redis':
            from tests.workers.cluster import RedisServer
            redis_server = RedisServer(os.path.join(work_dir, 'redis')).start()
            broker = f'{redis_server.url}/0'
        else:
            broker = 'embedded'
        return queue.run(paths, 2, broker, work_dir)
    finally:
        if redis_server is not None:
            redis_server.kill()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--count', type=int, default=1000, help='single-page inputs (default 1000)')
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--bases', type=int, default=6, help='distinct generated pages the inputs copy')
    ap.add_argument('--seed', type=int, default=5)
    ap.add_argument('--engine', default=os.environ.get('EXTRACTOR_OCR_ENGINE', 'cascade'))
    ap.add_argument('--queue-count', type=int, default=100,
                    help='inputs the queue runs (the first ones; 0: no queue run)')
    ap.add_argument('--broker', default='redis', choices=('redis', 'embedded'))
    ap.add_argument('--keep', metavar='DIR', help='work in DIR and keep it (default: a temporary folder)')
    args = ap.parse_args()
    work = args.keep or tempfile.mkdtemp(prefix='extract-jobs-')
    os.makedirs(work, exist_ok=True)
    try:
        paths = make_inputs(work, args.count, args.bases, args.seed)
        print(f'{len(paths)} single-page inputs ({args.bases} generated pages, copies with their own bytes), '
              f'engine {args.engine}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}', flush=True)
        r = run_extract(paths, os.path.join(work, 'in'), os.path.join(work, 'out'), args.jobs, args.engine)
        pages_per_s = r['inputs'] / (r['first_seconds'] + r['second_seconds'])
        second_rate = r['done_second'] / r['second_seconds'] if r['second_seconds'] else 0.0
        print(f'run 1: killed={r["killed"]} after {r["first_seconds"]:.1f} s with {r["done_before_kill"]} '
              f'output(s) complete ({r["tmp_left_by_kill"]} half-written file(s) left by the kill)')
        print(f'run 2: {r["skipped"]} skipped as done, {r["done_second"]} extracted, in '
              f'{r["second_seconds"]:.1f} s (exit {r["second_code"]}; {len(r["second_errors"])} error line(s))')
        once = (r['skipped'] == r['done_before_kill'] and r['skipped'] + r['done_second'] == r['inputs']
                and r['new_in_second'] == r['done_second'] and not r['done_second_twice'] and not r['missing'] and not r['unexpected']
                and not r['wrong_source'])
        print(f'every input done exactly once: {"yes" if once else "NO"} ({r["outputs"]} outputs for '
              f'{r["inputs"]} inputs; missing {len(r["missing"])}, unexpected {len(r["unexpected"])}, '
              f'source hash wrong {len(r["wrong_source"])}, extracted twice in run 2 {r["done_second_twice"]})')
        print(f'no output overwritten: {"yes" if not r["rewritten"] else "NO"} ({len(r["rewritten"])} of run 1\'s '
              f'{r["done_before_kill"]} written again); half-written files left: {len(r["tmp_left"])}')
        print(f'extract --jobs {args.jobs}: {pages_per_s:.2f} pages/s over both runs '
              f'({r["inputs"]} pages in {r["first_seconds"] + r["second_seconds"]:.1f} s, start-up and the '
              f'killed run\'s lost pages included); run 2 alone {second_rate:.2f} pages/s', flush=True)
        if r['second_errors']:
            print('  ' + '\n  '.join(r['second_errors'][:5]))
        if args.queue_count:
            subset = paths[:args.queue_count]
            q = run_queue(subset, args.broker, os.path.join(work, 'queue'), args.engine)
            print(f'queue, 2 workers ({args.broker}): {q["pages_per_s"]:.2f} pages/s ({q["pages"]} pages in '
                  f'{q["seconds"]:.1f} s, workers ready before the clock; {q["failed"]} failed); '
                  f'load average {os.getloadavg()[0]:.1f}')
            print(f'extract / queue: {pages_per_s / q["pages_per_s"]:.2f} (both runs), '
                  f'{second_rate / q["pages_per_s"]:.2f} (run 2 alone)')
        return 0 if once and not r['rewritten'] and not r['tmp_left'] else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
