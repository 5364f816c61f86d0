"""Everything the queue, the store and the review app read from their surroundings, in
one place (pydantic-settings). Highest first:

    1. command-line options (--db, --data-dir), passed to Settings.load() as overrides
    2. environment variables EXTRACTOR_*
    3. a TOML config file: --config FILE, or EXTRACTOR_CONFIG=FILE (keys as below,
       lower case, without the prefix: `data_dir = "/srv/perf-extract"`); a relative
       data_dir in the file is relative to the file's folder
    4. the defaults

    EXTRACTOR_BROKER_URL        e.g. redis://127.0.0.1:6379/0 (default: embedded SQLite broker)
    EXTRACTOR_RESULT_BACKEND    e.g. redis://127.0.0.1:6379/0 (default: same server as the broker
                                for Redis, an SQLite file for the embedded broker)
    EXTRACTOR_DATABASE_URL      the store (default sqlite:///<data dir>/extractor.db)
    EXTRACTOR_DATA_DIR          page images, embedded broker files, local worker logs
                                (default: the user's data folder, e.g.
                                ~/.local/share/perf-extract; never the working folder)
    EXTRACTOR_DPI               rendering resolution of PDF pages (200)
    EXTRACTOR_PAGE_SOFT_LIMIT   seconds a page may take before it is failed (120)
    EXTRACTOR_PAGE_HARD_LIMIT   seconds after which the page's process is killed (180)
    EXTRACTOR_VISIBILITY_TIMEOUT seconds before Redis hands an unacknowledged task to
                                another worker (600; must exceed the hard limit plus
                                the longest retry back-off)
    EXTRACTOR_STALL_SECONDS     a document with no progress this long while the queues are
                                empty and no live worker runs one of its pages is re-queued
                                from the store (10)
    EXTRACTOR_WORKER_LOST_SECONDS a worker whose heartbeat is older than this is gone: its
                                running page is sent again (15; heartbeats every 3 s)
    EXTRACTOR_SWEEP_INTERVAL    seconds between recovery sweeps in a worker (3)
    EXTRACTOR_MAX_PAGE_ATTEMPTS a page started this many times without finishing is failed (3)

Paths are made absolute once, so worker processes started from another folder and the
submitting command agree on where things are; `Settings.child_env()` hands the resolved
locations to processes a command starts. The store, the workers and the review app all
read this module; it imports nothing of theirs.
"""
from __future__ import annotations

import os
import tomllib
from contextvars import ContextVar
from typing import Any, Optional

from pydantic import ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

APP_NAME = 'perf-extract'
ENV_PREFIX = 'EXTRACTOR_'
CONFIG_ENV = 'EXTRACTOR_CONFIG'
# Retries of transient errors back off exponentially up to this many seconds; the
# visibility timeout has to cover it on top of a page's hard limit.
RETRY_BACKOFF_MAX = 60

_SECONDS = ('page_soft_limit', 'page_hard_limit', 'visibility_timeout', 'stall_seconds',
            'sweep_interval', 'worker_lost_seconds', 'max_page_attempts', 'dpi')
# The config file being read by the Settings() call in progress.
_config_file: ContextVar[Optional[str]] = ContextVar('_config_file', default=None)


def default_data_dir() -> str:
    """The user's data folder for the app (XDG on Linux: ~/.local/share/perf-extract),
    whatever the working folder."""
    try:
        from platformdirs import user_data_dir
        return user_data_dir(APP_NAME, appauthor=False)
    except ImportError:            # pragma: no cover - platformdirs is a dependency
        base = os.environ.get('XDG_DATA_HOME') or os.path.join(os.path.expanduser('~'), '.local', 'share')
        return os.path.join(base, APP_NAME)


def _sqlite_url(scheme: str, path: str) -> str:
    return f'{scheme}:///{os.path.abspath(path)}'


def _env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


class _TomlFile(PydanticBaseSettingsSource):
    """The config file's keys; a relative data_dir is taken from the file's folder."""

    def __init__(self, settings_cls, path: Optional[str]):
        super().__init__(settings_cls)
        self.path = path

    def get_field_value(self, field, field_name):      # pragma: no cover - __call__ does it
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        if not self.path:
            return {}
        try:
            with open(self.path, 'rb') as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ValueError(f'config file {self.path} not found') from None
        except OSError as err:
            raise ValueError(f'cannot read config file {self.path}: {err.strerror or err}') from None
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f'config file {self.path} is not valid TOML: {err}') from None
        unknown = sorted(set(data) - set(self.settings_cls.model_fields))
        if unknown:
            raise ValueError(f'config file {self.path}: unknown setting(s) {", ".join(unknown)} '
                             f'(known: {", ".join(self.settings_cls.model_fields)})')
        data_dir = data.get('data_dir')
        if isinstance(data_dir, str) and data_dir and not os.path.isabs(os.path.expanduser(data_dir)):
            data['data_dir'] = os.path.join(os.path.dirname(os.path.abspath(self.path)), data_dir)
        return data


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True, frozen=True,
                                      extra='ignore', validate_default=True)

    broker_url: str = ''
    result_backend: str = ''
    database_url: str = ''
    data_dir: str = ''
    dpi: int = 200
    page_soft_limit: float = 120
    page_hard_limit: Optional[float] = None       # default max(180, soft + 30)
    visibility_timeout: Optional[float] = None    # default max(600, hard + back-off + 60)
    stall_seconds: float = 10
    sweep_interval: float = 3
    worker_lost_seconds: float = 15
    max_page_attempts: int = 3

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        return init_settings, env_settings, _TomlFile(settings_cls, _config_file.get())

    @field_validator(*_SECONDS, mode='before')
    @classmethod
    def _positive_number(cls, value, info):
        if value is None:
            return None
        name = _env_name(info.field_name)
        if isinstance(value, bool):
            raise ValueError(f'{name} must be a number of seconds, not {value!r}')
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return None
            try:
                number = float(text)
            except ValueError:
                raise ValueError(f'{name} must be a number of seconds, not {value!r}') from None
        elif isinstance(value, (int, float)):
            number = float(value)
        else:
            raise ValueError(f'{name} must be a number of seconds, not {value!r}')
        if number <= 0:
            raise ValueError(f'{name} must be positive, not {value!r}')
        return int(number) if info.field_name in ('dpi', 'max_page_attempts') else number

    @field_validator('broker_url', 'result_backend', 'database_url', 'data_dir', mode='before')
    @classmethod
    def _stripped(cls, value):
        return value.strip() if isinstance(value, str) else value

    @model_validator(mode='after')
    def _derived(self) -> 'Settings':
        data_dir = os.path.abspath(os.path.expanduser(self.data_dir or default_data_dir()))
        broker = self.broker_url or _sqlite_url('sqla+sqlite', os.path.join(data_dir, 'broker.sqlite'))
        backend = self.result_backend
        if not backend:
            if broker.startswith(('redis://', 'rediss://')):
                backend = broker
            else:
                backend = _sqlite_url('db+sqlite', os.path.join(data_dir, 'results.sqlite'))
        database = self.database_url or _sqlite_url('sqlite', os.path.join(data_dir, 'extractor.db'))
        soft = self.page_soft_limit
        hard = self.page_hard_limit if self.page_hard_limit is not None else max(180, soft + 30)
        if hard <= soft:
            raise ValueError('EXTRACTOR_PAGE_HARD_LIMIT must be larger than EXTRACTOR_PAGE_SOFT_LIMIT')
        visibility = (self.visibility_timeout if self.visibility_timeout is not None
                      else max(600, hard + RETRY_BACKOFF_MAX + 60))
        if visibility <= hard + RETRY_BACKOFF_MAX:
            # Shorter, and Redis would hand a task that is still running (or waiting for
            # its retry) to a second worker.
            raise ValueError(f'EXTRACTOR_VISIBILITY_TIMEOUT must exceed the page hard limit '
                             f'plus {RETRY_BACKOFF_MAX} s of retry back-off ({hard + RETRY_BACKOFF_MAX:g} s)')
        if not 50 <= self.dpi <= 600:
            raise ValueError('EXTRACTOR_DPI must be between 50 and 600')
        for name, value in (('data_dir', data_dir), ('broker_url', broker), ('result_backend', backend),
                            ('database_url', database), ('page_hard_limit', hard),
                            ('visibility_timeout', visibility)):
            object.__setattr__(self, name, value)     # frozen to everyone else
        return self

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, config: Optional[str] = None, **overrides) -> 'Settings':
        """The settings from the overrides (None values are left out), the environment
        and the config file (`config`, else EXTRACTOR_CONFIG); ValueError with a plain
        message if a value is wrong."""
        config = config or os.environ.get(CONFIG_ENV, '').strip() or None
        values = {k: v for k, v in overrides.items() if v is not None}
        if values.get('data_dir'):
            values['data_dir'] = os.path.abspath(os.path.expanduser(values['data_dir']))
        token = _config_file.set(os.path.abspath(os.path.expanduser(config)) if config else None)
        try:
            return cls(**values)
        except ValidationError as err:
            raise ValueError(_plain(err)) from None
        finally:
            _config_file.reset(token)

    @classmethod
    def from_env(cls) -> 'Settings':
        """Environment and EXTRACTOR_CONFIG only (what worker processes read)."""
        return cls.load()

    @classmethod
    def from_args(cls, args) -> 'Settings':
        """From the --config, --db and --data-dir options of a command (add_options)."""
        return cls.load(getattr(args, 'config', None), database_url=getattr(args, 'db', None),
                        data_dir=getattr(args, 'data_dir', None))

    # ------------------------------------------------------------------ derived

    @property
    def embedded(self) -> bool:
        """True when the broker is the server-less SQLite one (one machine only)."""
        return self.broker_url.startswith('sqla+sqlite')

    @property
    def pages_dir(self) -> str:
        return os.path.join(self.data_dir, 'pages')

    def child_env(self) -> dict[str, str]:
        """EXTRACTOR_* variables that make a child process (a local worker) read these
        same settings, whatever its working folder or the options given here."""
        return {_env_name(name): str(getattr(self, name)) for name in type(self).model_fields}


def _plain(err: ValidationError) -> str:
    """The first error's own message (ours, without pydantic's wrapping)."""
    for item in err.errors():
        inner = (item.get('ctx') or {}).get('error')
        if inner is not None:
            return str(inner)
        where = '.'.join(str(p) for p in item.get('loc', ()))
        return f'{_env_name(where) if where else "settings"}: {item.get("msg")}'
    return str(err)


def add_options(parser) -> None:
    """--config, --db and --data-dir on a command that uses the store."""
    parser.add_argument('--config', metavar='FILE',
                        help=f'TOML settings file (default: {CONFIG_ENV}); environment variables '
                             'EXTRACTOR_* override it, these options override both')
    parser.add_argument('--db', metavar='URL',
                        help='the store (default: EXTRACTOR_DATABASE_URL, else <data dir>/extractor.db)')
    parser.add_argument('--data-dir', metavar='DIR',
                        help='page images, embedded broker and logs (default: EXTRACTOR_DATA_DIR, '
                             f'else {default_data_dir()})')


def redact(url: str) -> str:
    """A URL without its password, for messages and the workers table."""
    if '@' not in url or '://' not in url:
        return url
    scheme, rest = url.split('://', 1)
    creds, host = rest.rsplit('@', 1)
    user = creds.split(':', 1)[0]
    return f'{scheme}://{user}:***@{host}' if ':' in creds else f'{scheme}://{user}@{host}'
