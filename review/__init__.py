"""The reviewer web app: people check the fields the pipeline flagged, beside the cell's
image, and every decision is kept.

    python -m extractor users add NAME [--role reviewer|senior]     # asks for a password
    python -m extractor review [--host 127.0.0.1] [--port 8000]     # the app (waitress)

It sits beside the pipeline and reads and writes the same store as the workers
(EXTRACTOR_DATABASE_URL / EXTRACTOR_DATA_DIR, see workers/settings.py):

    auth.py        passwords (argon2), users, login sessions, roles
    access.py      which documents a user may see (every image route asks it)
    queue.py       the queue of flagged fields: filters, riskiest first, pages of 50
    revalidate.py  re-checks a form after a person changed or accepted a value
    actions.py     accept, correct, double-key money values, a senior's decision
    images.py      page images and cell crops, looked up by database id only
    exports.py     JSON / CSV / XLSX of a batch or a document, from workers/export.py
    labels.py      the printed header of each field path
    app.py         the Flask app: routes, CSRF, security headers
    cli.py         the `review` and `users` commands
"""
