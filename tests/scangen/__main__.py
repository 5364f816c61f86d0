"""Command line: python -m tests.scangen --out DIR [options] (run from the repo root)."""
import argparse
import sys
import time

from .corpus import KINDS, SOURCES, generate, parse_kinds
from .synth import ISSUE_RATE
from .degrade import LEVELS
from .fonts import use_only_fonts


def main(argv=None):
    ap = argparse.ArgumentParser(prog='python -m tests.scangen',
                                 description='Generate scanned 项目支出绩效自评表 / 部门整体支出绩效自评表 '
                                             'PDFs with truth files.')
    ap.add_argument('--out', required=True, help='output directory')
    ap.add_argument('--forms', type=int, default=30, help='number of forms (default 30)')
    ap.add_argument('--level', choices=LEVELS, default='mild', help='scan degradation level')
    ap.add_argument('--seed', type=int, default=0, help='random seed (output is deterministic)')
    ap.add_argument('--per-pdf', type=int, default=4, help='forms per PDF (default 4)')
    ap.add_argument('--source', choices=SOURCES, default='mixed',
                    help='forms from the real seed texts, made up, or both (default)')
    ap.add_argument('--dpi', type=int, default=200, help='drawing resolution (default 200)')
    ap.add_argument('--scan-dpi', type=int, default=None,
                    help='resample every page to this scan resolution (default: the level decides)')
    ap.add_argument('--seeds-file', default=None, help='seed text file (default: shared seeds)')
    ap.add_argument('--issue-rate', type=float, default=ISSUE_RATE,
                    help=f'share of synthetic forms printed with arithmetic inconsistencies (default {ISSUE_RATE})')
    ap.add_argument('--kinds', default='project',
                    help=f'comma-separated, of {",".join(KINDS)}: form kinds to mix and '
                         f"'other' for pages that are no form (default project)")
    ap.add_argument('--fonts', default=None,
                    help='comma-separated font keys or font file paths to draw every form with, '
                         'instead of the installed set (for measuring on unseen print)')
    ap.add_argument('-q', '--quiet', action='store_true')
    args = ap.parse_args(argv)
    if args.fonts:
        try:
            use_only_fonts([name.strip() for name in args.fonts.split(',') if name.strip()])
        except KeyError as exc:
            ap.error(str(exc))
    try:
        kinds = parse_kinds(args.kinds)
    except ValueError as exc:
        ap.error(str(exc))
    started = time.time()
    say = None if args.quiet else (lambda msg: print(msg, flush=True))
    written = generate(args.out, forms=args.forms, level=args.level, seed=args.seed,
                       per_pdf=args.per_pdf, source=args.source, dpi=args.dpi,
                       seeds_path=args.seeds_file, progress=say, issue_rate=args.issue_rate,
                       scan_dpi=args.scan_dpi, kinds=kinds)
    if not args.quiet:
        print(f'{len(written)} PDFs in {args.out} ({time.time() - started:.1f} s)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
