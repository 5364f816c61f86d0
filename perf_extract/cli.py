"""`perf-extract`: one command line for every part. Each part registers its own
commands (`add_commands(subparsers)`); nothing heavy is imported until one runs.

    perf-extract extract INPUT... --out DIR [--group folder] [--manifest M.csv]
                         [--resume] [--jobs N] [--pdf DIR] ...      (extractor/cli.py)
    perf-extract submit|status|export|worker ... [--config F] [--db URL] [--data-dir DIR]
                                                                    (workers/cli.py)
    perf-extract review|users ... [--config F] [--db URL] [--data-dir DIR]
                                                                    (review/cli.py)
"""
from __future__ import annotations

import argparse
import sys

from extractor import __version__
from extractor.cli import add_commands as add_extract_commands
from extractor.cli import run
from review.cli import add_commands as add_review_commands
from workers.cli import add_commands as add_queue_commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='perf-extract',
        description='Extract scanned 项目支出绩效自评表 forms: on this machine (extract), through '
                    'the queue (submit, status, export, worker) and the reviewer app (review, users).')
    parser.add_argument('--version', action='version', version=__version__)
    sub = parser.add_subparsers(dest='command', required=True, metavar='COMMAND')
    add_extract_commands(sub)
    add_queue_commands(sub)
    add_review_commands(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return run(args)


if __name__ == '__main__':
    sys.exit(main())
