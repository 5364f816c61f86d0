"""Queue-based batch ingestion (Celery) and the durable store (SQLAlchemy).

`celery -A workers worker` starts a worker; `workers.cli.add_commands` adds `submit`,
`status` and `export` to the extractor's command line. The Celery app is loaded on
first use of `workers.app`, so importing the command line stays light.
"""


def __getattr__(name):
    # `celery -A workers` looks for `workers.app`, then `workers.celery`.
    if name in ('app', 'celery'):
        from workers.celery_app import app
        return app
    raise AttributeError(f"module 'workers' has no attribute {name!r}")
