"""The reviewer web app: people check the fields the pipeline flagged, beside the cell's
image, and every decision is kept.

    perf-extract users add NAME [--role reviewer|senior|admin]   # asks for a password
    perf-extract users assign NAME BATCH
    perf-extract review [--host 127.0.0.1] [--port 8000]     # the app (waitress)

It sits beside the pipeline and reads and writes the same store as the workers
(EXTRACTOR_DATABASE_URL / EXTRACTOR_DATA_DIR, see workers/settings.py):

    app.py         create_app(): config, blueprints, security headers, error pages
    auth.py        blueprint auth: login (throttled, audited), logout; Flask-Login
    users.py       passwords (argon2), users, roles, batch assignments
    sessions.py    login sessions kept in the store (logout / idle time end them)
    throttle.py    failed logins per account and per address
    audit.py       the audit log (logins, exports, unlocks, assignments)
    access.py      @login_required, role decorators, visible_form_or_404 and friends
    queries.py     every read: the queue, a field, a form, progress
    claims.py      who has a queue item open (two reviewers never get the same one)
    queue.py       blueprint queue: the flagged fields, a page of 50, /item
    field.py       blueprint field: one field, accept / correct / key / decide
    form.py        blueprint form: a whole form beside its pages
    images.py      blueprint images: page images and cell crops, by database id only
    exports.py     blueprint exports: JSON / CSV / XLSX of a batch or a document
    admin.py       blueprint admin: users, roles, assignments, unlock, progress, audit
    actions.py     accept, correct, double-key money values, a senior's decision
    revalidate.py  re-checks a form after a person changed or accepted a value
    labels.py      the printed header of each field path
    cli.py         the `review` and `users` commands
"""
