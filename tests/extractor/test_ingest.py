import io
import os

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
