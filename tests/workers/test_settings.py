"""Settings come from one place (store/settings.py): command-line options over EXTRACTOR_*
variables over a TOML config file over defaults; the default data folder is the user's,
whatever folder a command runs in."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from store.settings import Settings
from tests.workers.cluster import ROOT


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith('EXTRACTOR_'):
            monkeypatch.delenv(name)
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    monkeypatch.delenv('XDG_DATA_HOME', raising=False)
    return tmp_path


def test_the_default_data_folder_does_not_depend_on_the_working_folder(clean_env, monkeypatch):
    seen = set()
    for folder in ('a', 'b'):
        (clean_env / folder).mkdir()
        monkeypatch.chdir(clean_env / folder)
        seen.add(Settings.from_env().data_dir)
    assert seen == {str(clean_env / 'home' / '.local' / 'share' / 'perf-extract')}
    settings = Settings.from_env()
    assert settings.database_url == f'sqlite:///{settings.data_dir}/extractor.db'


def test_options_beat_variables_beat_the_config_file(clean_env, monkeypatch):
    config = clean_env / 'etc' / 'perf-extract.toml'
    config.parent.mkdir()
    config.write_text('data_dir = "data"          # relative to this file\n'
                      'dpi = 300\n'
                      'page_soft_limit = 40\n'
                      'database_url = "postgresql://extractor@db/extractor"\n', encoding='utf-8')
    settings = Settings.load(str(config))
    assert settings.data_dir == str(clean_env / 'etc' / 'data')
    assert (settings.dpi, settings.page_soft_limit, settings.page_hard_limit) == (300, 40, 180)
    assert settings.database_url == 'postgresql://extractor@db/extractor'
    monkeypatch.setenv('EXTRACTOR_CONFIG', str(config))
    monkeypatch.setenv('EXTRACTOR_DPI', '150')
    settings = Settings.load(database_url='sqlite:////tmp/other.db', data_dir=None)
    assert settings.dpi == 150 and settings.page_soft_limit == 40
    assert settings.database_url == 'sqlite:////tmp/other.db'
    # What a local worker process is given: the same settings, whatever its folder.
    child = settings.child_env()
    assert child['EXTRACTOR_DATA_DIR'] == str(clean_env / 'etc' / 'data')
    assert child['EXTRACTOR_DATABASE_URL'] == 'sqlite:////tmp/other.db'
    monkeypatch.delenv('EXTRACTOR_CONFIG')
    monkeypatch.delenv('EXTRACTOR_DPI')
    for name, value in child.items():
        monkeypatch.setenv(name, value)
    assert Settings.from_env() == settings


def test_wrong_settings_are_one_plain_line(clean_env, monkeypatch):
    config = clean_env / 'bad.toml'
    config.write_text('datadir = "/srv"\n', encoding='utf-8')
    with pytest.raises(ValueError, match=r'unknown setting\(s\) datadir'):
        Settings.load(str(config))
    with pytest.raises(ValueError, match='not found'):
        Settings.load(str(clean_env / 'missing.toml'))
    config.write_text('dpi = \n', encoding='utf-8')
    with pytest.raises(ValueError, match='not valid TOML'):
        Settings.load(str(config))
    monkeypatch.setenv('EXTRACTOR_PAGE_SOFT_LIMIT', 'soon')
    with pytest.raises(ValueError, match="^EXTRACTOR_PAGE_SOFT_LIMIT must be a number of seconds, not 'soon'$"):
        Settings.from_env()
    monkeypatch.setenv('EXTRACTOR_PAGE_SOFT_LIMIT', '200')
    with pytest.raises(ValueError, match='^EXTRACTOR_PAGE_HARD_LIMIT must be larger than EXTRACTOR_PAGE_SOFT_LIMIT$'):
        Settings.load(page_hard_limit=100)
    monkeypatch.delenv('EXTRACTOR_PAGE_SOFT_LIMIT')
    monkeypatch.setenv('EXTRACTOR_DPI', '20')
    with pytest.raises(ValueError, match='^EXTRACTOR_DPI must be between 50 and 600$'):
        Settings.from_env()


def test_queue_commands_take_the_store_from_options_in_any_folder(clean_env):
    env = {k: v for k, v in os.environ.items() if not k.startswith('EXTRACTOR_')}
    env.update(HOME=str(clean_env / 'home'), PYTHONPATH=ROOT)
    elsewhere = clean_env / 'elsewhere'
    elsewhere.mkdir()
    data = clean_env / 'data'

    def run(*args):
        return subprocess.run([sys.executable, '-m', 'perf_extract', *args], cwd=elsewhere, env=env,
                              capture_output=True, text=True, timeout=120)
    done = run('status', '--data-dir', str(data))
    assert done.returncode == 0 and 'no batches yet' in done.stdout, done.stderr
    assert (data / 'extractor.db').exists()
    config = clean_env / 'perf-extract.toml'
    config.write_text(f'database_url = "sqlite:///{clean_env}/from-config.db"\n', encoding='utf-8')
    done = run('export', 'nothing', '--out', str(clean_env / 'out'), '--config', str(config))
    assert done.returncode == 1 and "no batch named 'nothing'" in done.stderr
    assert (clean_env / 'from-config.db').exists()
    done = run('users', 'list', '--db', f'sqlite:///{clean_env}/users.db')
    assert done.returncode == 0, done.stderr
    assert (clean_env / 'users.db').exists()
    # Nothing was made in the folder the commands ran in.
    assert os.listdir(elsewhere) == []
    done = run('status', '--config', str(clean_env / 'missing.toml'))
    assert done.returncode == 2 and done.stderr.startswith('error: config file') and 'Traceback' not in done.stderr


@pytest.mark.service          # a Celery worker process (on the embedded broker)
def test_the_worker_command_runs_a_worker_on_the_given_data_folder(clean_env):
    import signal
    import time
    env = {k: v for k, v in os.environ.items() if not k.startswith('EXTRACTOR_')}
    env.update(HOME=str(clean_env / 'home'), PYTHONPATH=ROOT)
    data = clean_env / 'data'
    worker = subprocess.Popen([sys.executable, '-m', 'perf_extract', 'worker', '--data-dir', str(data),
                               '--hostname', 'settings-test@%h'], cwd=clean_env, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            status = subprocess.run([sys.executable, '-m', 'perf_extract', 'status', '--data-dir', str(data)],
                                    cwd=clean_env, env=env, capture_output=True, text=True, timeout=60)
            if 'workers running: 1 (settings-test@' in status.stdout:
                break
            assert worker.poll() is None and time.monotonic() < deadline, status.stdout + status.stderr
            time.sleep(1)
        assert (data / 'broker.sqlite').exists()       # the embedded broker in that folder
    finally:
        worker.send_signal(signal.SIGTERM)              # warm shutdown
        worker.wait(timeout=60)
