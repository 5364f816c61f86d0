"""`python -m extractor extract ...`: the extract command alone (the umbrella command
with the queue and review commands is `perf-extract`, perf_extract/cli.py)."""
import sys

from extractor.cli import main

if __name__ == '__main__':
    sys.exit(main())
