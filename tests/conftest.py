import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))   # shared test helpers (drawing.py)
SHARED = os.path.abspath(os.path.join(ROOT, '..', 'shared'))
GOLDEN = os.path.join(ROOT, 'tests', 'golden')


@pytest.fixture(scope='session')
def shared_dir():
    assert os.path.isdir(SHARED), f'the shared folder is expected beside the repo: {SHARED}'
    return SHARED


@pytest.fixture(scope='session')
def recognizer():
    from extractor import ocr
    return ocr.default_recognizer()
