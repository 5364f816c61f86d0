import io
import os
import time

import numpy as np
import pytest
from PIL import Image

from extractor import ingest


def _pdf_from_images(path, images):
    first, *rest = [Image.fromarray(im) for im in images]
    first.save(path, save_all=True, append_images=rest, resolution=200)


def test_pdf_pages_render_at_dpi(tmp_path):
    path = tmp_path / 'two.pdf'
    _pdf_from_images(path, [np.full((800, 600), 255, np.uint8), np.zeros((800, 600), np.uint8)])
    assert ingest.count_pages(str(path)) == 2
    pages = list(ingest.iter_pages(str(path), dpi=100))
    assert [p.number for p in pages] == [1, 2]
    # 600 px at 200 dpi = 3 in -> 300 px at 100 dpi
    assert abs(pages[0].image.shape[1] - 300) <= 1
    assert pages[1].image.mean() < 10


def test_multi_frame_tiff_gives_pages(tmp_path):
    path = tmp_path / 'scan.tiff'
    frames = [Image.new('L', (400, 300), 255), Image.new('L', (400, 300), 0)]
    frames[0].save(path, save_all=True, append_images=frames[1:], dpi=(300, 300))
    pages = list(ingest.iter_pages(str(path)))
    assert len(pages) == 2 and pages[0].dpi == 300


@pytest.mark.parametrize('name,content,reason', [
    ('empty.pdf', b'', 'empty file'),
    ('notes.pdf', b'hello, this is text and not a scan\n' * 10, 'not a PDF or image'),
    ('truncated.pdf', None, 'corrupt or truncated PDF'),
    ('broken.png', b'\x89PNG\r\n\x1a\n' + b'\x00' * 40, 'unreadable image'),
])
def test_bad_files_get_one_line_reasons(tmp_path, name, content, reason):
    path = tmp_path / name
    if content is None:
        good = tmp_path / 'good.pdf'
        _pdf_from_images(good, [np.full((400, 300), 255, np.uint8)])
        data = good.read_bytes()
        content = data[:len(data) // 3]
    path.write_bytes(content)
    with pytest.raises(ingest.IngestError) as err:
        ingest.count_pages(str(path))
        list(ingest.iter_pages(str(path)))
    assert reason in str(err.value)
    assert '\n' not in str(err.value)


def test_encrypted_pdf_is_refused(tmp_path):
    pypdf = pytest.importorskip('pypdf', reason='pypdf is a test dependency (pip install .[test])')
    plain = tmp_path / 'plain.pdf'
    _pdf_from_images(plain, [np.full((400, 300), 255, np.uint8)])
    writer = pypdf.PdfWriter(clone_from=str(plain))
    writer.encrypt(user_password='secret', owner_password='owner')
    locked = tmp_path / 'locked.pdf'
    with open(locked, 'wb') as fh:
        writer.write(fh)
    with pytest.raises(ingest.IngestError, match='encrypted'):
        ingest.count_pages(str(locked))


def test_list_inputs_walks_folders(tmp_path):
    (tmp_path / 'a').mkdir()
    for name in ('a/1.pdf', 'a/2.PNG', 'a/skip.txt', 'b.tif'):
        (tmp_path / name).write_bytes(b'x')
    found = ingest.list_inputs([str(tmp_path)])
    assert sorted(os.path.basename(p) for p in found) == ['1.pdf', '2.PNG', 'b.tif']


# ---------------------------------------------------------------- guards before decoding

from tests.hostile import corpus  # noqa: E402


@pytest.fixture
def short_limits(monkeypatch):
    """Limits as the environment would set them, with a short render timeout."""
    limits = ingest.Limits(render_seconds=3, pdfinfo_seconds=5)
    monkeypatch.setattr(ingest, '_limits', limits)
    return limits


def test_pipes_devices_and_folders_are_refused_without_reading(tmp_path):
    fifo = tmp_path / 'scan.pdf'
    os.mkfifo(fifo)
    (tmp_path / 'zero.pdf').symlink_to('/dev/zero')
    (tmp_path / 'folder.png').mkdir()
    for name, kind in [('scan.pdf', 'named pipe'), ('zero.pdf', 'device'), ('folder.png', 'folder')]:
        with pytest.raises(ingest.IngestError, match=f'not a regular file .*{kind}'):
            ingest.count_pages(str(tmp_path / name))


@pytest.mark.parametrize('width,height,reason', [
    (9000, 9000, 'too large'), (20000, 20000, 'too large'), (10, 10, 'too small'),
    (1, 14400, 'too small')])
def test_pdf_page_size_is_checked_before_rendering(tmp_path, width, height, reason):
    path = tmp_path / 'odd.pdf'
    path.write_bytes(corpus.one_page_pdf(width, height))
    assert ingest.count_pages(str(path)) == 1
    with pytest.raises(ingest.IngestError, match=f'page 1 is {reason}'):
        ingest.load_page(str(path), 1, 200)


def test_page_memory_budget_refuses_a_page_that_would_not_fit(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, '_limits', ingest.Limits(page_memory_mb=8))
    path = tmp_path / 'a4.pdf'
    path.write_bytes(corpus.one_page_pdf(595, 842))       # 1653 x 2339 px: 11 MB at 200 dpi
    with pytest.raises(ingest.IngestError, match='would take 11 MB; the limit is 8 MB'):
        ingest.load_page(str(path), 1, 200)
    assert ingest.load_page(str(path), 1, 100).image.shape[:2] == (1170, 827)    # 3 MB: fits


@pytest.mark.parametrize('content,reason', [
    (corpus.png_bytes(1, 1), 'too small to hold a form'),
    (corpus.png_bytes(1, 20000), 'too small to hold a form'),
    (corpus.png_bytes(20000, 1), 'too small to hold a form'),
    (corpus.png_bomb(), 'too large'),
])
def test_image_size_is_checked_from_the_header(tmp_path, content, reason):
    path = tmp_path / 'odd.png'
    path.write_bytes(content)
    with pytest.raises(ingest.IngestError, match=reason):
        list(ingest.iter_pages(str(path)))


def test_broken_pdfs_get_plain_reasons(tmp_path):
    for name, content, reason in [
            ('zero.pdf', corpus.zero_page_pdf(), 'no pages'),
            ('loop.pdf', corpus.page_tree_loop_pdf(), 'page 2'),
            ('many.pdf', corpus.many_pages_pdf(5000), 'corrupt')]:
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ingest.IngestError, match=reason):
            list(ingest.iter_pages(str(path)))


def test_a_render_bomb_is_stopped_at_the_render_timeout(tmp_path, short_limits):
    path = tmp_path / 'bomb.pdf'
    path.write_bytes(corpus.render_bomb_pdf())
    with pytest.raises(ingest.IngestError, match='took longer than 3 s to render'):
        ingest.load_page(str(path), 1, 200)
    assert corpus.poppler_processes(tmp_path) == []


def test_an_exception_mid_render_kills_pdftoppm(tmp_path, monkeypatch):
    """Celery's soft time limit raises from a signal handler wherever the page task
    is, usually waiting for pdftoppm: the renderer must not outlive it."""
    import signal

    class SoftLimit(Exception):
        pass

    def raise_soft_limit(*_args):
        raise SoftLimit()
    monkeypatch.setattr(ingest, '_limits', ingest.Limits(render_seconds=60))
    path = tmp_path / 'bomb.pdf'
    path.write_bytes(corpus.render_bomb_pdf())
    previous = signal.signal(signal.SIGALRM, raise_soft_limit)
    try:
        signal.alarm(2)
        with pytest.raises(SoftLimit):
            ingest.load_page(str(path), 1, 200)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert corpus.poppler_processes(tmp_path) == []


def test_the_next_page_renders_while_the_caller_works(tmp_path, monkeypatch):
    """Page 2's pdftoppm is running by the time page 1 reaches the caller."""
    path = tmp_path / 'three.pdf'
    _pdf_from_images(path, [np.full((800, 600), value, np.uint8) for value in (0, 100, 200)])
    started = []
    render = ingest.poppler.render_page

    def recording_render(path, number, *args):
        started.append(number)
        return render(path, number, *args)
    monkeypatch.setattr(ingest.poppler, 'render_page', recording_render)
    pages = ingest.iter_pages(str(path))
    first = next(pages)
    for _ in range(100):                # the thread starts the render at once
        if 2 in started:
            break
        time.sleep(0.01)
    assert first.number == 1 and started == [1, 2]
    assert [(p.number, int(p.image.mean())) for p in pages] == [(2, 100), (3, 200)]


def test_stopping_after_a_page_kills_the_render_ahead(tmp_path, monkeypatch):
    """A caller that stops (an error on page 1, Ctrl-C, closing the iterator) leaves no
    pdftoppm rendering page 2, here a render bomb that would run to its time limit."""
    monkeypatch.setattr(ingest, '_limits', ingest.Limits(render_seconds=60))
    path = tmp_path / 'blank-then-bomb.pdf'
    path.write_bytes(corpus.blank_then_bomb_pdf())
    pages = ingest.iter_pages(str(path))
    assert next(pages).number == 1
    for _ in range(100):
        if corpus.poppler_processes(tmp_path):
            break
        time.sleep(0.02)
    assert corpus.poppler_processes(tmp_path), 'page 2 was not rendering ahead'
    pages.close()
    assert corpus.poppler_processes(tmp_path) == []


def test_a_page_that_fails_ahead_fails_when_reached(tmp_path, short_limits):
    """Page 2's error surfaces when the caller asks for page 2, after page 1 came out."""
    path = tmp_path / 'blank-then-bomb.pdf'
    path.write_bytes(corpus.blank_then_bomb_pdf())
    pages = ingest.iter_pages(str(path))
    assert next(pages).number == 1
    with pytest.raises(ingest.IngestError, match='page 2 took longer than 3 s to render'):
        next(pages)
    assert corpus.poppler_processes(tmp_path) == []


def test_a_late_tiff_page_is_read_without_decoding_the_ones_before(tmp_path):
    path = tmp_path / 'long.tiff'
    frames = [Image.new('L', (600, 400), value) for value in range(0, 250, 10)]
    frames[0].save(path, save_all=True, append_images=frames[1:], dpi=(200, 200))
    assert ingest.count_pages(str(path)) == 25
    page = ingest.load_page(str(path), 25)
    assert page.number == 25 and page.image.mean() == 240
    assert [int(p.image.mean()) for p in ingest.iter_pages(str(path))] == list(range(0, 250, 10))


def test_an_unreadable_folder_is_reported(tmp_path, monkeypatch):
    (tmp_path / 'a').mkdir()
    (tmp_path / 'a' / 'x.pdf').write_bytes(b'x')
    real_scandir = os.scandir

    def scandir(path='.'):
        if str(path).endswith('/a'):
            raise PermissionError(13, 'Permission denied', str(path))
        return real_scandir(path)
    monkeypatch.setattr(os, 'scandir', scandir)     # root reads every folder; pretend
    problems = []
    assert ingest.list_inputs([str(tmp_path)], on_error=lambda p, r: problems.append((p, r))) == []
    assert problems == [(str(tmp_path / 'a'), 'cannot read folder: Permission denied')]
