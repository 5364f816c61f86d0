"""`python -m workers submit|status|export|worker ...` (the same commands as perf-extract's)."""
import sys

from workers.cli import main

if __name__ == '__main__':
    sys.exit(main())
