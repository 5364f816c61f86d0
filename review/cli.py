"""`review` and `users`: the reviewer app's commands of `perf-extract`.

    perf-extract users add NAME [--role reviewer|senior|admin] [--password-stdin]
    perf-extract users passwd NAME [--password-stdin]
    perf-extract users role NAME reviewer|senior|admin
    perf-extract users assign NAME BATCH      # the reviewer sees (only) their batches
    perf-extract users unassign NAME BATCH
    perf-extract users unlock NAME            # after too many failed logins
    perf-extract users list
    perf-extract review [--host 127.0.0.1] [--port 8000] [--threads 8] [--processes 1]
                               [--trusted-proxy ADDR ...]

The store is the workers' (EXTRACTOR_DATABASE_URL, default <EXTRACTOR_DATA_DIR>/extractor.db;
`--db URL` overrides it), page images are read from EXTRACTOR_DATA_DIR/pages
(`--data-dir`). extractor/cli.py adds these with `add_commands(subparsers)`; nothing heavy
is imported until a command runs.
"""
from __future__ import annotations

import getpass
import sys


def _store_options(p) -> None:
    from store.settings import add_options
    add_options(p)          # --config, --db, --data-dir (store/settings.py)


def add_commands(subparsers) -> None:
    p = subparsers.add_parser('review', help='run the reviewer web app',
                              description='Serve the reviewer web app (waitress). Create users '
                                          'first with `users add`.')
    p.add_argument('--host', default='127.0.0.1', help='address to listen on (default 127.0.0.1)')
    p.add_argument('--port', type=int, default=8000, help='port (default 8000)')
    p.add_argument('--threads', type=int, default=8, help='request threads (default 8)')
    p.add_argument('--processes', type=int, default=1,
                   help='server processes accepting on the one port (default 1); one Python process '
                        'runs one request at a time, so several reviewers asking at once are answered '
                        'side by side only with more processes (up to the number of cores)')
    p.add_argument('--trusted-proxy', metavar='ADDR', action='append',
                   help='a reverse proxy (address or network) whose X-Forwarded-For gives the '
                        'client address; repeatable (default: EXTRACTOR_TRUSTED_PROXIES, else '
                        'none: the header is ignored)')
    _store_options(p)
    p.set_defaults(func=cmd_review)

    p = subparsers.add_parser('users', help='reviewer accounts: add, passwd, role, assign, unassign, unlock, list')
    sub = p.add_subparsers(dest='users_command', required=True)
    add = sub.add_parser('add', help='add a reviewer (asks for a password)')
    add.add_argument('name', metavar='NAME')
    add.add_argument('--role', choices=('reviewer', 'senior', 'admin'), default='reviewer',
                     help='a reviewer sees the batches assigned to them; a senior sees every batch, '
                          'decides between double-keyed entries that differ and unlocks accounts; '
                          'an admin also manages users and assignments')
    add.add_argument('--password-stdin', action='store_true',
                     help='read the password from the first line of standard input')
    _store_options(add)
    add.set_defaults(func=cmd_users_add)
    passwd = sub.add_parser('passwd', help='set a new password (ends the user\'s sessions)')
    passwd.add_argument('name', metavar='NAME')
    passwd.add_argument('--password-stdin', action='store_true')
    _store_options(passwd)
    passwd.set_defaults(func=cmd_users_passwd)
    role = sub.add_parser('role', help='change a user\'s role')
    role.add_argument('name', metavar='NAME')
    role.add_argument('role', choices=('reviewer', 'senior', 'admin'))
    _store_options(role)
    role.set_defaults(func=cmd_users_role)
    for verb, text in (('assign', 'give a reviewer a batch to review'),
                       ('unassign', 'take a batch away from a reviewer')):
        one = sub.add_parser(verb, help=text)
        one.add_argument('name', metavar='NAME')
        one.add_argument('batch', metavar='BATCH')
        _store_options(one)
        one.set_defaults(func=cmd_users_assign, verb=verb)
    unlock = sub.add_parser('unlock', help='lift the lock after too many failed logins')
    unlock.add_argument('name', metavar='NAME')
    _store_options(unlock)
    unlock.set_defaults(func=cmd_users_unlock)
    listing = sub.add_parser('list', help='list the users')
    _store_options(listing)
    listing.set_defaults(func=cmd_users_list)


def _locations(args) -> tuple[str, str]:
    from store.settings import Settings
    try:
        settings = Settings.from_args(args)
    except ValueError as err:
        print(f'error: {err}', file=sys.stderr)
        raise SystemExit(2)
    return settings.database_url, settings.data_dir


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
    from review.users import UserError
    from store.db import open_store
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
    from review.users import add_user
    return _with_user(args, lambda session, password: add_user(session, args.name, password, args.role),
                      f'user {args.name} added ({args.role})')


def cmd_users_passwd(args) -> int:
    from review.users import set_password
    return _with_user(args, lambda session, password: set_password(session, args.name, password),
                      f'password of {args.name} changed')


def _change(args, change) -> int:
    """Run change(session) -> message on the store; a UserError is one line on stderr."""
    from review.users import UserError
    from store.db import open_store
    url, _ = _locations(args)
    try:
        with open_store(url).session(write=True) as session:
            message = change(session)
    except UserError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    print(message)
    return 0


def _audit(session, event: str, detail: str) -> None:
    from review import audit
    audit.record(session, event, name='(users command)', detail=detail)


def cmd_users_role(args) -> int:
    from review import audit, users

    def change(session):
        users.set_role(session, args.name, args.role)
        _audit(session, audit.ROLE, f'{args.name} is {args.role}')
        return f'{args.name} is {args.role} now'
    return _change(args, change)


def cmd_users_assign(args) -> int:
    from review import audit, users

    def change(session):
        if args.verb == 'assign':
            done = users.assign(session, args.name, args.batch)
            _audit(session, audit.ASSIGN, f'{args.batch} to {args.name}')
            return f'batch {args.batch} assigned to {args.name}' + ('' if done else ' (already)')
        done = users.unassign(session, args.name, args.batch)
        _audit(session, audit.UNASSIGN, f'{args.batch} from {args.name}')
        return f'batch {args.batch} taken from {args.name}' + ('' if done else ' (was not assigned)')
    return _change(args, change)


def cmd_users_unlock(args) -> int:
    from review import audit, throttle

    def change(session):
        was = throttle.unlock(session, args.name)
        _audit(session, audit.UNLOCK, f'unlocked {args.name}')
        return f'{args.name} unlocked' if was else f'{args.name} was not locked'
    return _change(args, change)


def cmd_users_list(args) -> int:
    from sqlalchemy import select

    from store.db import open_store
    from store.models import User
    url, _ = _locations(args)
    with open_store(url).session() as session:
        from review.users import assigned_batches
        for user in session.scalars(select(User).order_by(User.name)):
            state = user.role if user.password_hash else 'no password (cannot log in)'
            batches = ','.join(assigned_batches(session, user.id))
            print(f'{user.name}\t{state}' + (f'\t{batches}' if batches else ''))
    return 0


def cmd_review(args) -> int:
    import logging

    from review.app import create_app
    url, data_dir = _locations(args)
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    try:
        app = create_app(url, data_dir, trusted_proxies=args.trusted_proxy)
    except ValueError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    from store.settings import redact
    proxies = app.config['TRUSTED_PROXIES']
    print(f'review app on http://{args.host}:{args.port}/ (store {redact(url)}; '
          + (f'client address from X-Forwarded-For of {", ".join(proxies)})' if proxies
             else 'X-Forwarded-For ignored)'), flush=True)
    from review.serve import listening_socket, serve
    try:
        sock = listening_socket(args.host, args.port)
    except OSError as err:
        print(f'error: cannot listen on {args.host}:{args.port}: {err.strerror}', file=sys.stderr)
        return 2
    if args.processes > 1:
        app.extensions['review_store'].dispose()          # each process opens its own
        make = lambda: create_app(url, data_dir, trusted_proxies=args.trusted_proxy)     # noqa: E731
    else:
        make = lambda: app                                                               # noqa: E731
    serve(make, sock, threads=args.threads, processes=max(args.processes, 1))
    return 0


def build_parser():
    import argparse
    parser = argparse.ArgumentParser(prog='python -m review', description='The reviewer web app.')
    add_commands(parser.add_subparsers(dest='command', required=True))
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
