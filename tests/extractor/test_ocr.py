import numpy as np
import pytest

from extractor import ocr, preprocess

from drawing import text_line


def _ink(gray):
    return preprocess.binarise(gray, 200)


def test_lines_are_found_top_to_bottom():
    a, b = text_line('396.2675', 28), text_line('29', 28)
    cell = np.full((140, 220), 255, np.uint8)
    cell[20:20 + a.shape[0], 10:10 + a.shape[1]] = a
    cell[75:75 + b.shape[0], 60:60 + b.shape[1]] = b
    lines = ocr.find_lines(_ink(cell), 200)
    assert len(lines) == 2
    assert lines[0].y1 <= lines[1].y0
    assert lines[1].x0 >= 55


def test_characters_with_gaps_stay_one_line():
    # 二 and 三 leave blank rows inside the line; they must not split it.
    cell = np.full((80, 300), 255, np.uint8)
    line = text_line('二三', 30)
    cell[15:15 + line.shape[0], 20:20 + line.shape[1]] = line
    assert len(ocr.find_lines(_ink(cell), 200)) == 1


def test_lone_dash_is_recognised_from_pixels():
    cell = np.full((60, 120), 255, np.uint8)
    cell[29:32, 40:80] = 0          # a printed em dash
    lines = ocr.find_lines(_ink(cell), 200)
    assert len(lines) == 1 and lines[0].is_dash


def test_rule_remnants_at_the_border_are_not_text():
    cell = np.full((60, 120), 255, np.uint8)
    cell[:, 0:3] = 0                 # a bit of the cell's own left rule
    assert ocr.find_lines(_ink(cell), 200) == []


@pytest.mark.parametrize('text', ['丰台区科学技术和信息化局', '396.267529', '100%', '≥90%', '2024年度'])
def test_recognizer_reads_rendered_lines(recognizer, text):
    reading = recognizer.recognize([text_line(text, 30)])[0]
    assert reading.text == text
    assert reading.confidence > 0.9


def test_numeric_reading_keeps_to_numeric_characters(recognizer):
    reading = recognizer.recognize([text_line('17.527', 30)])[0]
    assert reading.numeric == '17.527'
    assert set(reading.numeric) <= set(ocr.NUMERIC_CHARS)


def test_model_comes_from_the_installed_wheel():
    path = ocr.packaged_model_path('PP-OCRv6_rec_small.onnx')
    assert 'site-packages' in path or 'dist-packages' in path
