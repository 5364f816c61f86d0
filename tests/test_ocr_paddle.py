"""The optional `paddleocr` engine (extractor/ocr_paddle.py): PaddleOCR 3.x running the
PP-OCRv6 small recognition ONNX file from the rapidocr wheel, offline.

PaddleOCR lives in its own environment (`make setup-paddle`: .venv-paddle), where
`make test` runs this file with EXTRACTOR_REQUIRE_PADDLEOCR=1, so a broken install fails
instead of skipping. In the main environment, without the extra, the file is skipped."""
import os
import socket

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from extractor import ocr, ocr_paddle

if os.environ.get('EXTRACTOR_REQUIRE_PADDLEOCR') == '1':
    import paddleocr  # noqa: F401  (make test-paddle: a missing install is a failure)
else:
    pytest.importorskip('paddleocr', reason="optional extra not installed: make setup-paddle")

SAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'samples', 'samples_clean.pdf')

FONTS = [path for path in ('/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc',
                           '/usr/share/fonts/truetype/arphic/uming.ttc') if os.path.exists(path)]


def render(text: str, font_path: str, size: int = 30, pad: int = 8) -> np.ndarray:
    font = ImageFont.truetype(font_path, size)
    x0, y0, x1, y1 = font.getbbox(text)
    img = Image.new('L', (x1 - x0 + 2 * pad, y1 - y0 + 2 * pad), 255)
    ImageDraw.Draw(img).text((pad - x0, pad - y0), text, font=font, fill=0)
    return np.asarray(img).copy()


@pytest.fixture(scope='module')
def no_network():
    """Any name lookup or connection attempt fails, and fails the module at teardown."""
    attempts = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise OSError(f'network access attempted: {address!r}')

    def refuse_lookup(host, *args, **kwargs):
        attempts.append(host)
        raise socket.gaierror(f'name lookup attempted: {host!r}')
    mp = pytest.MonkeyPatch()
    mp.setattr(socket.socket, 'connect', refuse)
    mp.setattr(socket.socket, 'connect_ex', refuse)
    mp.setattr(socket, 'getaddrinfo', refuse_lookup)
    yield attempts
    mp.undo()
    assert attempts == [], f'the paddleocr engine tried to reach the network: {attempts}'


@pytest.fixture(scope='module')
def model_dir(tmp_path_factory):
    return ocr_paddle.build_model_dir(str(tmp_path_factory.mktemp('paddle_model')))


@pytest.fixture(scope='module')
def engine(model_dir, no_network):
    if not FONTS:
        pytest.skip('no CJK font installed (make setup installs fonts-wqy-zenhei)')
    rec = ocr_paddle.PaddleRecognizer(model_dir=model_dir, threads=1)
    yield rec
    rec.close()


def test_model_dir_is_built_from_the_wheel_onnx(model_dir):
    assert os.path.exists(os.path.join(model_dir, 'inference.onnx'))
    config = ocr_paddle.read_model_config(model_dir)
    assert config['Global']['model_name'] == ocr_paddle.DEFAULT_MODEL_NAME
    assert config['PostProcess']['name'] == 'CTCLabelDecode'
    characters = config['PostProcess']['character_dict']
    assert len(characters) > 6000
    assert {'项', '目', '%', '≥', '.', '0', '9'} <= set(characters)


def test_engine_runs_on_onnxruntime_without_paddlepaddle(engine):
    assert engine.name == 'paddleocr'
    assert engine.engine == 'onnxruntime'
    assert engine.charset is not None, 'per-character probabilities were not reachable'


TEXTS = ['丰台区科学技术和信息化局', '项目支出绩效自评表', '396.267529', '1,234.56', '100%', '≥90%', '2024年度']


@pytest.mark.parametrize('font_path', FONTS, ids=[os.path.basename(p) for p in FONTS])
def test_reads_rendered_lines(engine, font_path):
    readings = engine.recognize([render(text, font_path) for text in TEXTS])
    assert [r.text for r in readings] == TEXTS
    for r in readings:
        assert r.confidence > 0.9
        assert 0 < r.min_char_confidence <= r.confidence + 1e-6


def test_numeric_reading_keeps_to_numeric_characters(engine):
    readings = engine.recognize([render('17.527', FONTS[0]), render('≥90%', FONTS[0])])
    assert readings[0].numeric == '17.527'
    assert readings[0].numeric_confidence > 0.9
    assert set(readings[1].numeric) <= set(ocr.NUMERIC_CHARS)


def test_order_is_kept_across_batches(engine, monkeypatch):
    monkeypatch.setattr(engine, 'batch_size', 3)
    texts = ['12', '年度指标值', '3.5', '社会效益指标', '98.6%', '7', '满意度']
    readings = engine.recognize([render(t, FONTS[-1], size=26) for t in texts])
    assert [r.text for r in readings] == texts


def test_empty_input_gives_empty_readings(engine):
    assert engine.recognize([]) == []
    reading = engine.recognize([np.zeros((0, 10), np.uint8)])[0]
    assert reading.text == '' and reading.confidence == 0.0


def test_paddle_format_dir_without_paddlepaddle_is_a_clear_error(tmp_path, model_dir):
    if ocr_paddle.importlib.util.find_spec('paddle') is not None:
        pytest.skip('paddlepaddle is installed')
    for name in ('inference.json', 'inference.pdiparams'):
        (tmp_path / name).write_bytes(b'')
    (tmp_path / 'inference.yml').write_bytes(open(os.path.join(model_dir, 'inference.yml'), 'rb').read())
    with pytest.raises(RuntimeError, match='paddlepaddle'):
        ocr_paddle.PaddleRecognizer(model_dir=str(tmp_path))


def test_reads_the_sample_page_as_the_default_engine_does(engine):
    """Every cell of a real form page read by both engines: PaddleOCR's reading of each
    text line is compared with the default engine's (the same PP-OCRv6 model through
    this project's own onnxruntime code); they may differ on a rare unsure line only."""
    from extractor import grid, ingest, preprocess
    page = preprocess.clean_page(ingest.load_page(SAMPLE, 1, 200))
    page_grid = grid.find_tables(page)
    paddle_cells, _ = ocr.read_page(page, page_grid, engine)
    default_cells, _ = ocr.read_page(page, page_grid, ocr.make_recognizer('small'))
    paddle_text = [c.text for c in paddle_cells]
    default_text = [c.text for c in default_cells]
    filled = [i for i, text in enumerate(default_text) if text]
    assert len(filled) > 40, 'the sample page should have its cells read'
    same = [i for i in filled if paddle_text[i] == default_text[i]]
    differing = [(default_text[i], paddle_text[i]) for i in filled if i not in same]
    assert len(same) >= 0.97 * len(filled), differing
    chars = sum(len(default_text[i]) for i in filled)
    assert sum(len(paddle_text[i]) for i in filled) >= 0.98 * chars
