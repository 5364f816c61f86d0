"""`review` and `users`: the reviewer app's commands of `python -m extractor`.

    python -m extractor users add NAME [--role reviewer|senior] [--password-stdin]
    python -m extractor users passwd NAME [--password-stdin]
    python -m extractor users list
    python -m extractor review [--host 127.0.0.1] [--port 8000] [--threads 8]

The store is the workers' (EXTRACTOR_DATABASE_URL, default <EXTRACTOR_DATA_DIR>/extractor.db;
`--db URL` overrides it), page images are read from EXTRACTOR_DATA_DIR/pages
(`--data-dir`). extractor/cli.py adds these with `add_commands(subparsers)`; nothing heavy
is imported until a command runs.
"""
from __future__ import annotations

import getpass
import sys


def _store_options(p) -> None:
    p.add_argument('--db', metavar='URL', help='the store (default: EXTRACTOR_DATABASE_URL, '
                                                'else <data dir>/extractor.db)')
    p.add_argument('--data-dir', metavar='DIR', help='page images under DIR/pages (default: '
                                                     'EXTRACTOR_DATA_DIR, else ./var)')


def add_commands(subparsers) -> None:
    p = subparsers.add_parser('review', help='run the reviewer web app',
                              description='Serve the reviewer web app (waitress). Create users '
                                          'first with `users add`.')
    p.add_argument('--host', default='127.0.0.1', help='address to listen on (default 127.0.0.1)')
    p.add_argument('--port', type=int, default=8000, help='port (default 8000)')
    p.add_argument('--threads', type=int, default=8, help='request threads (default 8)')
    _store_options(p)
    p.set_defaults(func=cmd_review)

    p = subparsers.add_parser('users', help='reviewer accounts: add, passwd, list')
    sub = p.add_subparsers(dest='users_command', required=True)
    add = sub.add_parser('add', help='add a reviewer (asks for a password)')
    add.add_argument('name', metavar='NAME')
    add.add_argument('--role', choices=('reviewer', 'senior'), default='reviewer',
                     help='senior reviewers also decide between double-keyed entries that differ')
    add.add_argument('--password-stdin', action='store_true',
                     help='read the password from the first line of standard input')
    _store_options(add)
    add.set_defaults(func=cmd_users_add)
    passwd = sub.add_parser('passwd', help='set a new password (ends the user\'s sessions)')
    passwd.add_argument('name', metavar='NAME')
    passwd.add_argument('--password-stdin', action='store_true')
    _store_options(passwd)
    passwd.set_defaults(func=cmd_users_passwd)
    listing = sub.add_parser('list', help='list the users')
    _store_options(listing)
    listing.set_defaults(func=cmd_users_list)


def _locations(args) -> tuple[str, str]:
    from workers.settings import Settings
    try:
        settings = Settings.from_env()
    except ValueError as err:
        print(f'error: {err}', file=sys.stderr)
        raise SystemExit(2)
    return args.db or settings.database_url, args.data_dir or settings.data_dir


def _password(args) -> str:
    if args.password_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline()
        return line.rstrip('\r\n')
    first = getpass.getpass('password: ')
    if getpass.getpass('again: ') != first:
        print('error: the passwords differ', file=sys.stderr)
        raise SystemExit(1)
    return first


def _with_user(args, change, done: str) -> int:
    from review.auth import UserError
    from workers.store.db import open_store
    url, _ = _locations(args)
    password = _password(args)
    try:
        with open_store(url).session(write=True) as session:
            change(session, password)
    except UserError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    print(done)
    return 0


def cmd_users_add(args) -> int:
    from review.auth import add_user
    return _with_user(args, lambda session, password: add_user(session, args.name, password, args.role),
                      f'user {args.name} added ({args.role})')


def cmd_users_passwd(args) -> int:
    from review.auth import set_password
    return _with_user(args, lambda session, password: set_password(session, args.name, password),
                      f'password of {args.name} changed')


def cmd_users_list(args) -> int:
    from sqlalchemy import select

    from workers.store.db import open_store
    from workers.store.models import User
    url, _ = _locations(args)
    with open_store(url).session() as session:
        for user in session.scalars(select(User).order_by(User.name)):
            state = user.role if user.password_hash else 'no password (cannot log in)'
            print(f'{user.name}\t{state}')
    return 0


def cmd_review(args) -> int:
    import logging

    import waitress

    from review.app import create_app
    url, data_dir = _locations(args)
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    app = create_app(url, data_dir)
    from workers.settings import redact
    print(f'review app on http://{args.host}:{args.port}/ (store {redact(url)})', flush=True)
    waitress.serve(app, host=args.host, port=args.port, threads=args.threads, ident='review')
    return 0


def build_parser():
    import argparse
    parser = argparse.ArgumentParser(prog='python -m review', description='The reviewer web app.')
    add_commands(parser.add_subparsers(dest='command', required=True))
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
