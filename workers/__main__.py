"""`python -m workers submit|status|export ...` (the same commands as python -m extractor)."""
import sys

from workers.cli import main

sys.exit(main())
