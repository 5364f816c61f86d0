"""The application's command line, above its parts: `perf-extract COMMAND ...`.

    extract   extractor/   the pipeline on this machine, one process or --jobs N
    submit, status, export, worker
              workers/     the queue (Celery) and the store (store/)
    review, users
              review/      the reviewer web app

Nothing below imports this package: extractor/ knows nothing of workers/, review/ or
store/, and store/ nothing of workers/ or review/ (tests/test_layering.py checks it).
"""
