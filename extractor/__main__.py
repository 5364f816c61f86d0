"""`python -m extractor extract ...`: the extract command. The queue's and the review
app's commands (submit, status, export, worker, review, users) belong to the umbrella
command above this package (`perf-extract`, perf_extract/cli.py); for scripts written
before it, this entry point hands such a command line over to `python -m perf_extract`
as a new program (nothing of it is imported here)."""
import os
import sys

from extractor.cli import _ELSEWHERE, main

if __name__ == '__main__':
    if sys.argv[1:] and sys.argv[1] in _ELSEWHERE:
        sys.stdout.flush()
        os.execv(sys.executable, [sys.executable, '-m', 'perf_extract', *sys.argv[1:]])
    sys.exit(main())
