import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))   # shared test helpers (drawing.py)
# Everything the tests read lives in the repository: tests/data holds the seed text of
# the real publication (seeds/) and the clean sample scan with its truth (samples/);
# tests/golden holds the per-stage golden files made from that sample by scripts/golden.py.
DATA = os.path.join(ROOT, 'tests', 'data')
GOLDEN = os.path.join(ROOT, 'tests', 'golden')


@pytest.fixture(scope='session')
def data_dir():
    """tests/data: `samples/samples_clean.pdf` (+ `.truth.json`), `seeds/*.txt`."""
    return DATA


@pytest.fixture(scope='session')
def recognizer():
    from extractor import ocr
    return ocr.default_recognizer()


# ------------------------------------------------------------------- markers
# `make test-fast` runs `-m "not service and not browser and not slow"`; `make test`
# and .ci/run run everything. Tests are marked by what they use, so a new test that
# takes a service fixture is put in the right group without remembering a decorator.
SERVICE_FIXTURES = {'redis_server', 'redis_url', 'postgres_server', 'pg_database',
                    'make_cluster', 'cluster'}
BROWSER_FIXTURES = {'browser', 'login'}
# Fixtures (used directly or through another fixture) that run the whole pipeline over a
# generated corpus first: tens of seconds before the first test (mild_scan: the
# end-to-end test's generated scan).
SLOW_FIXTURES = {'corpus_dirs', 'generated_scans', 'mild_scan'}


def pytest_collection_modifyitems(config, items):
    for item in items:
        used = set(getattr(item, 'fixturenames', ()))
        callspec = getattr(item, 'callspec', None)
        if used & SERVICE_FIXTURES or (callspec and callspec.params.get('database_url') == 'postgresql'):
            item.add_marker(pytest.mark.service)
        if used & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        if used & SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)
