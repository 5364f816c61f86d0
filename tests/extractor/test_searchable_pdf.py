"""The searchable PDF of samples/demo.pdf as an archivist checks it: poppler opens it,
`pdftotext` gives back the text the pipeline read, pdffonts shows the text layer's font
embedded, pikepdf accepts it as PDF/A-2b, Chromium's PDF viewer opens it. Slow: the whole
pipeline runs on the sample."""
import os
import re
import shutil
import subprocess
from collections import Counter

import numpy as np
import pytest

from extractor import pipeline
from extractor.searchable_pdf import SearchablePdfError, page_lines, write_searchable_pdf
from models import PageResult
from models.pipeline import PageGrid, TextLine

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, 'samples', 'demo.pdf')
pytestmark = pytest.mark.skipif(shutil.which('pdftotext') is None,
                                reason='poppler-utils not installed (make setup installs it)')


def _chars(text: str) -> Counter:
    return Counter(re.sub(r'\s+', '', text))


def _poppler(*args) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120)


@pytest.fixture(scope='module')
def demo(recognizer, tmp_path_factory):
    """The demo scan through the pipeline, written twice: from the cleaned pages (what
    the workers store) and from the original colour scans, straightened here."""
    cleaned, originals, results = [], [], []

    def keep(page, result, artifacts):
        cleaned.append(artifacts.gray)
        originals.append(page.image)
        results.append(result)
    pipeline.extract_file(DEMO, recognizer=recognizer, on_page=keep)
    out = tmp_path_factory.mktemp('searchable')
    from_clean = write_searchable_pdf(cleaned, results, str(out / 'demo-clean.pdf'))
    from_scan = write_searchable_pdf(originals, results, str(out / 'demo.pdf'), straighten=True)
    return results, from_clean, from_scan


@pytest.mark.slow
def test_pdftotext_gives_back_the_cell_text(demo):
    results, from_clean, from_scan = demo
    read = _chars(''.join(line.text for r in results for line in page_lines(r)))
    cell_text = _chars(''.join(c.text for r in results for c in r.cells))
    assert sum(cell_text.values()) > 1000
    assert any('\u4e00' <= ch <= '\u9fff' for ch in cell_text)          # Chinese among it
    for written in (from_clean, from_scan):
        done = _poppler('pdftotext', '-enc', 'UTF-8', written.path, '-')
        assert done.returncode == 0, done.stderr
        found = _chars(done.stdout)
        kept = sum((cell_text & found).values())
        assert kept >= 0.99 * sum(cell_text.values()), (cell_text - found).most_common(20)
        assert sum((read & found).values()) >= 0.99 * sum(read.values())
        assert written.pages == len(results) and written.characters == sum(read.values())
    assert '项目支出绩效自评表' in _poppler('pdftotext', from_scan.path, '-').stdout.replace(' ', '')
    # A second, independent reader (pure Python) finds the same text layer.
    import pypdf
    text = ''.join(page.extract_text() for page in pypdf.PdfReader(from_scan.path).pages)
    assert sum((cell_text & _chars(text)).values()) >= 0.99 * sum(cell_text.values())


@pytest.mark.slow
def test_poppler_opens_and_renders_every_page_without_complaint(demo, tmp_path):
    _results, from_clean, from_scan = demo
    for n, written in enumerate((from_clean, from_scan)):
        info = _poppler('pdfinfo', written.path)
        assert info.returncode == 0 and info.stderr == '', info.stderr
        assert re.search(r'^Pages:\s+5$', info.stdout, re.M)
        assert re.search(r'^Page size:\s+595\.\d+ x 842\.\d+ pts \(A4\)', info.stdout, re.M)
        render = _poppler('pdftoppm', '-r', '20', '-png', written.path, str(tmp_path / f'p{n}'))
        assert render.returncode == 0 and render.stderr == '', render.stderr
        fonts = _poppler('pdffonts', written.path).stdout.splitlines()[2:]
        assert fonts and all(' yes yes yes ' in f for f in fonts), fonts   # embedded, subset, ToUnicode
    assert len(list(tmp_path.glob('p*.png'))) == 10


@pytest.mark.slow
def test_pdfa_2b_declared_and_validated(demo):
    import pikepdf
    _results, from_clean, from_scan = demo
    for written in (from_clean, from_scan):
        assert written.pdfa, 'pikepdf did not validate the file as PDF/A-2b'
        with pikepdf.open(written.path) as pdf:
            meta = pdf.open_metadata()
            assert (meta.get('pdfaid:part'), meta.get('pdfaid:conformance')) == ('2', 'B')
            assert len(pdf.Root.OutputIntents) == 1


def test_text_lands_where_the_result_put_it(tmp_path):
    """A hand-made page: two lines at known boxes come back from pdftotext -bbox at the
    same place on the page (pixels at 200 dpi -> points)."""
    image = np.full((600, 800), 255, np.uint8)
    lines = [TextLine(text='丰台区财政局', confidence=0.99, bbox=[100, 100, 400, 140]),
             TextLine(text='396.267529', confidence=0.99, bbox=[100, 400, 300, 440])]
    result = PageResult(number=1, dpi=200, grid=PageGrid(width=800, height=600), loose_text=lines)
    written = write_searchable_pdf([image], [result], str(tmp_path / 'one.pdf'))
    html = _poppler('pdftotext', '-bbox', written.path, '-').stdout
    words = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]+)</word>', html)
    assert ''.join(w[4] for w in words) == '丰台区财政局396.267529'
    to_pt = 72 / 200
    for line in lines:
        mine = [w for w in words if w[4] in line.text]
        x0 = min(float(w[0]) for w in mine)
        x1 = max(float(w[2]) for w in mine)
        y_mid = (float(mine[0][1]) + float(mine[0][3])) / 2
        assert abs(x0 - line.bbox[0] * to_pt) < 3 and abs(x1 - line.bbox[2] * to_pt) < 6
        assert line.bbox[1] * to_pt - 3 < y_mid < line.bbox[3] * to_pt + 3


def test_bad_arguments_are_one_clear_error(tmp_path):
    result = PageResult(number=1, dpi=200, grid=PageGrid(width=10, height=10))
    with pytest.raises(SearchablePdfError, match='2 page images for 1 page results'):
        write_searchable_pdf([np.zeros((10, 10), np.uint8)] * 2, [result], str(tmp_path / 'x.pdf'))
    with pytest.raises(SearchablePdfError, match='page image not found: gone.png'):
        write_searchable_pdf([str(tmp_path / 'gone.png')], [result], str(tmp_path / 'x.pdf'))
    assert not (tmp_path / 'x.pdf').exists()


CHROMIUM = os.environ.get('EXTRACTOR_TEST_CHROMIUM', '/usr/bin/chromium')
PAGE_COUNT_JS = """() => {
    const toolbar = document.querySelector('pdf-viewer').shadowRoot.querySelector('viewer-toolbar');
    return toolbar.shadowRoot.querySelector('viewer-page-selector').docLength;
}"""


@pytest.mark.slow
@pytest.mark.browser
def test_chromium_pdf_viewer_opens_every_page(demo):
    """Chromium's own PDF viewer (PDFium) shows the file with all its pages and no error."""
    from playwright.sync_api import sync_playwright
    if not os.path.exists(CHROMIUM):
        pytest.fail(f'Chromium is not installed at {CHROMIUM} (make setup installs Debian\'s chromium)')
    _results, _from_clean, from_scan = demo
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=['--headless=new'])
        try:
            page = browser.new_page()
            errors = []
            page.on('pageerror', lambda e: errors.append(str(e)))
            page.goto('file://' + from_scan.path, timeout=30000)
            page.wait_for_timeout(1500)
            viewers = [f for f in page.frames if f.url.startswith('chrome-extension://')]
            assert viewers, 'the PDF viewer did not open'
            viewers[0].wait_for_function(PAGE_COUNT_JS, timeout=20000)
            assert viewers[0].evaluate(PAGE_COUNT_JS) == 5
            assert errors == []
        finally:
            browser.close()
