"""`python -m perf_extract COMMAND ...`: the same as the `perf-extract` console script."""
import sys

from perf_extract.cli import main

if __name__ == '__main__':
    sys.exit(main())
