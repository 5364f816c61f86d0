"""The packages' layers, read from their source with `ast` (every import, also the ones
inside functions, and importlib.import_module('...') with a literal name):

    perf_extract            the command line, above everything
    workers, review         the queue and the reviewer app
    store                   the durable store and the settings
    extractor               the pipeline
    models                  the shared vocabulary

A package imports only from the layers below it (workers and review may use each other's
helpers; nothing below imports perf_extract).
"""
import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ('perf_extract', 'workers', 'review', 'store', 'extractor', 'models')
FORBIDDEN = {
    'extractor': {'workers', 'review', 'store', 'perf_extract'},
    'store': {'workers', 'review', 'perf_extract'},
    'models': {'extractor', 'workers', 'review', 'store', 'perf_extract'},
    'workers': {'perf_extract'},
    'review': {'perf_extract'},
}


def _sources(package: str):
    for folder, _dirs, files in os.walk(os.path.join(ROOT, package)):
        for name in sorted(files):
            if name.endswith('.py'):
                yield os.path.join(folder, name)


def imported(path: str) -> list[tuple[int, str]]:
    """(line, top-level package) of every absolute import in a file."""
    with open(path, encoding='utf-8') as fh:
        tree = ast.parse(fh.read(), path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split('.')[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split('.')[0]))
        elif (isinstance(node, ast.Call) and getattr(node.func, 'attr', getattr(node.func, 'id', None))
              in ('import_module', '__import__') and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.append((node.lineno, node.args[0].value.split('.')[0]))
    return found


def test_every_package_is_there():
    for package in PACKAGES:
        assert os.path.exists(os.path.join(ROOT, package, '__init__.py')), package


@pytest.mark.parametrize('package', sorted(FORBIDDEN))
def test_a_package_imports_nothing_above_it(package):
    wrong = []
    for path in _sources(package):
        for line, name in imported(path):
            if name in FORBIDDEN[package]:
                wrong.append(f'{os.path.relpath(path, ROOT)}:{line} imports {name}')
    assert not wrong, '\n'.join(wrong)


def test_the_checker_sees_imports_inside_functions(tmp_path):
    sample = tmp_path / 'sample.py'
    sample.write_text('import os\n'
                      'def f():\n'
                      '    from workers.settings import Settings\n'
                      '    import review.cli as cli\n'
                      '    return importlib.import_module("store.db")\n'
                      'from . import sibling\n', encoding='utf-8')
    assert sorted(name for _, name in imported(str(sample))) == ['os', 'review', 'store', 'workers']


def test_one_console_script_and_it_is_the_umbrella():
    import tomllib
    with open(os.path.join(ROOT, 'pyproject.toml'), 'rb') as fh:
        project = tomllib.load(fh)
    assert project['project']['scripts'] == {'perf-extract': 'perf_extract.cli:main'}
    assert 'perf_extract*' in project['tool']['setuptools']['packages']['find']['include']
