import os

import cv2
import numpy as np
import pytest

from extractor import ocr, preprocess
from models import TextLine

from drawing import put_text, text_line


def _ink(gray):
    return preprocess.binarise(gray, 200)


def _kept_share(cell):
    """The share of a drawn cell's print that cleaning keeps."""
    return float((ocr.clean_cell_ink(_ink(cell), 200)[_ink(cell) > 0] > 0).mean())


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


@pytest.mark.parametrize('width', [40, 6])     # an em dash; a small font's hyphen (6 x 3 px)
def test_lone_dash_is_recognised_from_pixels(width):
    cell = np.full((60, 120), 255, np.uint8)
    cell[29:32, 60 - width // 2:60 + width - width // 2] = 0
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


def test_lone_round_zero_is_a_sure_zero_in_a_numeric_reading(recognizer):
    """Out of context a lone 0 reads as the letter O; counted with its look-alikes, the
    numeric reading is a confident 0."""
    reading = recognizer.recognize([text_line('0', 30)])[0]
    assert reading.numeric == '0'
    assert reading.numeric_confidence > 0.97


class _Scripted:
    """A recogniser that answers from a table: the cascade's vote is the unit here, and
    real models cannot be made to misread on demand."""
    def __init__(self, answers):
        self.answers = answers

    def recognize(self, images):
        return [ocr.Reading(text=self.answers[(img.shape[1], img.shape[0])], confidence=0.999,
                            min_char_confidence=0.99) for img in images]


def test_cascade_settles_two_differing_tiny_readings_with_the_small_model():
    line = np.full((30, 120), 255, np.uint8)
    wide = ocr._widen(line)
    key, wide_key = (line.shape[1], line.shape[0]), (wide.shape[1], wide.shape[0])
    # tiny drops a character in one position only; small agrees with the other reading
    cascade = ocr.CascadeRecognizer(_Scripted({key: '同金额', wide_key: '合同金额'}),
                                    _Scripted({key: '合同金额'}))
    reading = cascade.recognize([line])[0]
    assert reading.text == '合同金额' and reading.disagreement is None
    # no two of the three readings agree: the field will be flagged
    cascade = ocr.CascadeRecognizer(_Scripted({key: '同金额', wide_key: '合同金'}),
                                    _Scripted({key: '合同金额'}))
    reading = cascade.recognize([line])[0]
    assert reading.text == '合同金额' and reading.disagreement == '同金额'
    # a confident text line both tiny readings agree on is not re-read
    cascade = ocr.CascadeRecognizer(_Scripted({key: '合同金额', wide_key: '合同金额'}), _Scripted({}))
    assert cascade.recognize([line])[0].text == '合同金额'


class _Counted(_Scripted):
    """A scripted recogniser that reads with a given confidence and counts the crops it
    was asked to read, by width."""
    def __init__(self, answers, confidence=0.999):
        super().__init__(answers)
        self.confidence, self.asked = confidence, []

    def recognize(self, images):
        self.asked += [img.shape[1] for img in images]
        return [ocr.Reading(text=self.answers[(img.shape[1], img.shape[0])], confidence=self.confidence,
                            min_char_confidence=0.9) for img in images]


def test_cascade_reads_a_line_set_in_only_where_that_reading_is_compared():
    line = np.full((30, 120), 255, np.uint8)
    wide = ocr._widen(line)
    key, wide_key = (line.shape[1], line.shape[0]), (wide.shape[1], wide.shape[0])
    # An unsure line the small model reads alike: the second tiny pass is not needed.
    tiny = _Counted({key: '合同金额', wide_key: '合同金'}, confidence=0.9)
    reading = ocr.CascadeRecognizer(tiny, _Counted({key: '合同金额'})).recognize([line])[0]
    assert reading.text == '合同金额' and reading.disagreement is None
    assert tiny.asked == [line.shape[1]]
    # An unsure text line the small model reads otherwise: the set-in reading is the
    # third opinion (here it agrees with neither, so the field will be flagged).
    tiny = _Counted({key: '同金额', wide_key: '合同金'}, confidence=0.9)
    reading = ocr.CascadeRecognizer(tiny, _Counted({key: '合同金额'})).recognize([line])[0]
    assert reading.text == '合同金额' and reading.disagreement == '同金额'
    assert tiny.asked == [line.shape[1], wide.shape[1]]
    # ... and where it agrees with the small model, no disagreement is reported.
    tiny = _Counted({key: '同金额', wide_key: '合同金额'}, confidence=0.9)
    reading = ocr.CascadeRecognizer(tiny, _Counted({key: '合同金额'})).recognize([line])[0]
    assert reading.text == '合同金额' and reading.disagreement is None


def test_specks_beside_a_line_go_but_its_punctuation_stays():
    cell = put_text(np.full((90, 700), 255, np.uint8), '完成培训。9.79', (20, 25), size=30)
    ink = _ink(cell)
    cv2.circle(ink, (400, 45), 2, 255, -1)          # a toner speck well past the text
    cv2.circle(ink, (640, 20), 2, 255, -1)          # and one in the corner
    cleaned = ocr.clean_cell_ink(ink, 200)
    assert not cleaned[:, 380:].any()
    text_ink = _ink(cell) > 0
    assert (cleaned[text_ink] > 0).mean() > 0.97     # 。 and the decimal point stay
    lines = ocr.find_lines(ink, 200)
    assert len(lines) == 1 and lines[0].x1 < 380


def test_a_cell_holding_only_specks_has_no_line():
    ink = np.zeros((90, 300), np.uint8)
    for x, y in ((40, 30), (150, 60), (260, 20)):
        cv2.circle(ink, (x, y), 2, 255, -1)
    assert ocr.find_lines(ink, 200) == []


def test_a_characters_own_dots_are_not_specks():
    # 氵 of 满 and the dots of 关 stand apart from the rest of their character, at the
    # very start or end of a line.
    cell = put_text(np.full((80, 500), 255, np.uint8), '满意度关', (40, 22), size=30)
    assert _kept_share(cell) > 0.99


def test_a_full_stop_set_off_from_its_line_stays():
    # In some fonts 。 sits in the middle of its full-width box, half a character off.
    cell = put_text(np.full((80, 400), 255, np.uint8), '要求完成。', (40, 22), size=30)
    assert _kept_share(cell) > 0.99


def test_a_line_cut_by_a_blank_row_is_still_one_line():
    line = text_line('开展服务企业', 28)
    ink = _ink(line)
    middle = ink.shape[0] // 2
    ink[middle, :] = 0                      # every character happens to leave this row blank
    lines = ocr.find_lines(ink, 200)
    assert len(lines) == 1


def test_a_speck_just_before_a_number_goes_but_a_colon_at_a_line_end_stays():
    cell = put_text(np.full((80, 400), 255, np.uint8), '70.5', (120, 22), size=30)
    ink = _ink(cell)
    cv2.circle(ink, (108, 46), 1, 255, -1)          # a dot of toner just before the 7
    cleaned = ocr.clean_cell_ink(ink, 200)
    assert not cleaned[:, :113].any()
    assert (cleaned[_ink(cell) > 0] > 0).mean() > 0.97      # the decimal point stays
    cell = put_text(np.full((80, 400), 255, np.uint8), '台账；', (40, 22), size=30)
    assert _kept_share(cell) > 0.99


def test_a_decimal_point_where_a_number_wraps_stays():
    # '93.3' in a narrow cell: '93.' over '3'.
    cell = np.full((110, 200), 255, np.uint8)
    cell = put_text(cell, '93.', (60, 10), size=30)
    cell = put_text(cell, '3', (80, 60), size=30)
    assert _kept_share(cell) > 0.99


def test_a_decimal_point_set_off_at_a_wrap_stays():
    cell = np.full((110, 200), 255, np.uint8)
    cell = put_text(cell, '93', (60, 10), size=30)
    cv2.circle(cell, (100, 36), 2, 0, -1)         # the point, 6 px after the 3
    cell = put_text(cell, '3', (80, 60), size=30)
    assert _kept_share(cell) > 0.99


def test_a_decimal_point_opening_the_second_line_of_a_wrapped_number_stays():
    # '73309.6' in a narrow cell: '73309' over '.6'.
    cell = np.full((110, 220), 255, np.uint8)
    cell = put_text(cell, '73309', (30, 10), size=30)
    cell = put_text(cell, '.6', (80, 60), size=30)
    assert _kept_share(cell) > 0.99
    # A speck before a number on a line of its own still goes.
    alone = put_text(np.full((80, 400), 255, np.uint8), '10', (120, 22), size=30)
    ink = _ink(alone)
    cv2.circle(ink, (110, 46), 1, 255, -1)
    assert not ocr.clean_cell_ink(ink, 200)[:, :114].any()


def _line_box(ink):
    ys, xs = np.nonzero(ink)
    return xs.min(), ys.min(), xs.max(), ys.max()


def test_a_speck_under_a_character_clear_of_its_line_goes():
    # Toner just under 金 of '资金支付时间' was read as a line of its own ('•').
    cell = put_text(np.full((90, 400), 255, np.uint8), '资金支付时间', (40, 20), size=30)
    ink = _ink(cell)
    x0, y0, x1, y1 = _line_box(ink)
    cv2.circle(ink, (x0 + 45, y1 + 5), 2, 255, -1)      # under the second character
    cv2.circle(ink, (x0 + 100, y0 - 5), 2, 255, -1)     # over the fourth
    cleaned = ocr.clean_cell_ink(ink, 200)
    assert not cleaned[y1 + 2:, :].any() and not cleaned[:y0 - 2, :].any()
    assert (cleaned[_ink(cell) > 0] > 0).mean() > 0.99
    assert len(ocr.find_lines(ink, 200)) == 1


def test_a_dot_after_a_number_off_its_baseline_goes_but_a_point_on_it_stays():
    cell = put_text(np.full((80, 300), 255, np.uint8), '96%', (60, 22), size=30)
    ink = _ink(cell)
    x0, y0, x1, y1 = _line_box(ink)
    cv2.circle(ink, (x1 + 5, (y0 + y1) // 2), 2, 255, -1)   # a speck at mid-height ('96%•')
    cleaned = ocr.clean_cell_ink(ink, 200)
    assert not cleaned[:, x1 + 2:].any()
    # A point on the baseline at the end of a line that goes on below is a wrapped
    # number's decimal point ('93.' over '3').
    cell = np.full((110, 200), 255, np.uint8)
    cell = put_text(cell, '93', (60, 10), size=30)
    cell = put_text(cell, '3', (80, 60), size=30)
    ink = _ink(cell)
    top = _line_box(ink[:50])
    cv2.circle(ink, (top[2] + 5, top[3] - 2), 2, 255, -1)
    assert ocr.clean_cell_ink(ink, 200)[top[3] - 4:top[3] + 1, top[2] + 2:top[2] + 9].any()
    # ... but alone on a short line, a baseline dot after the last digit is a speck ('15.').
    alone = put_text(np.full((80, 300), 255, np.uint8), '15', (60, 22), size=30)
    ink = _ink(alone)
    x0, y0, x1, y1 = _line_box(ink)
    cv2.circle(ink, (x1 + 6, y1 - 2), 2, 255, -1)
    assert not ocr.clean_cell_ink(ink, 200)[:, x1 + 3:].any()


def test_a_dropped_speck_is_painted_out_with_its_grey_rim():
    cell = put_text(np.full((80, 300), 255, np.uint8), '15', (60, 22), size=30)
    ink = _ink(cell)
    x0, y0, x1, y1 = _line_box(ink)
    at = (x1 + 6, (y0 + y1) // 2)                      # mid-height: no quote, no point
    _cleaned, paint, _dust = ocr._clean_cell(ink.copy() | cv2.circle(np.zeros_like(ink), at, 2, 255, -1), 200)
    speck = cv2.circle(np.zeros_like(ink), at, 3, 255, -1) > 0
    assert paint[speck].mean() > 0.9 and not paint[ink > 0].any()


def test_texts_either_side_of_a_lost_rule_are_two_lines():
    # A total row's weight and score cells merged where their rule is too faint for the
    # grid: '100' and '98' stay apart, each under its own column.
    cell = np.full((60, 200), 255, np.uint8)
    cell = put_text(cell, '100', (15, 14), size=28)
    cell = put_text(cell, '98', (95, 14), size=28)
    cell[:, 80:82] = 225                             # the faint rule between them
    assert ocr.faint_walls(cell) == [80]
    lines = ocr.find_lines(_ink(cell), 200, walls=[80], seen=[80])
    assert len(lines) == 2 and lines[0].x1 <= 80 <= lines[1].x0
    # Without the rule they are one line of text (a wide gap alone does not part them).
    assert len(ocr.find_lines(_ink(cell), 200)) == 1


def test_a_faint_mark_broken_into_dots_stays_in_its_line_on_a_faint_page():
    # A thin ≥ on a faded copy falls apart into dots too small to be print; on a page of
    # faint print they are one mark and the line starts there, not at the 2.
    cell = put_text(np.full((60, 220), 255, np.uint8), '≥202万', (20, 14), size=28)
    ink = _ink(cell)
    cols = np.nonzero(ink.any(axis=0))[0]
    start = int(cols[0])
    glyph = ink[:, start:start + 14].copy()            # the ≥, cut into 2 x 2 dots
    dots = np.zeros_like(glyph)
    dots[::3, ::3] = glyph[::3, ::3]
    dots = cv2.dilate(dots, np.ones((2, 2), np.uint8)) & glyph
    ink[:, start:start + 14] = dots
    rng = np.random.default_rng(3)                     # and a few lone specks
    for y, x in zip(rng.integers(2, 58, 6), rng.integers(120, 218, 6)):
        ink[y, x] = 255
    joined, _, _ = ocr._clean_cell(ink, 200, 22, join_broken=True)
    lines = ocr.find_lines(joined, 200, 22, cleaned=True)
    assert len(lines) == 1 and lines[0].x0 <= start + 3
    plain, _, _ = ocr._clean_cell(ink, 200, 22)
    assert ocr.find_lines(plain, 200, 22, cleaned=True)[0].x0 > start + 8
    # The lone specks stay dust either way.
    assert not joined[:, 190:].any() or joined[:, 190:].sum() == plain[:, 190:].sum()


def test_a_stub_of_a_lost_rule_hanging_from_the_top_parts_the_texts_either_side():
    # A lone 总分 row's wall between weight and score worn away but for a stub hanging
    # from the top rule: '100' and '99' are two values, not '10099'.
    cell = np.full((64, 200), 255, np.uint8)
    cell = put_text(cell, '100', (15, 24), size=28)
    cell = put_text(cell, '99', (110, 24), size=28)
    cell[0:24, 89:92] = 0                            # the stub, 3 mm of the rule
    ink = _ink(cell)
    assert ocr.stub_walls(ink, 200, 28) == [90]
    lines = ocr.find_lines(ink, 200, walls=[90], seen=[90])
    assert len(lines) == 2 and lines[0].x1 <= 90 <= lines[1].x0
    # A character's stroke touching the top does not part the line it belongs to.
    word = put_text(np.full((40, 200), 255, np.uint8), '川中', (15, 0), size=28)
    word = word[int(np.nonzero((word < 128).any(axis=1))[0][0]):]     # its top on the edge
    stubs = ocr.stub_walls(_ink(word), 200, 16)
    assert stubs and all(len(ocr.find_lines(_ink(word), 200, walls=[x], seen=[x])) == 1 for x in stubs)


def test_a_sentence_across_a_lattice_rule_stays_one_line():
    cell = put_text(np.full((60, 600), 255, np.uint8), '引的通知》（国办发〔2017〕47号)', (10, 14), size=28)
    ink = _ink(cell)
    cols = np.nonzero(ink.any(axis=0))[0]
    for wall in range(int(cols[0]) + 5, int(cols[-1]) - 5, 3):
        assert len(ocr.find_lines(ink, 200, walls=[wall])) == 1, wall


def test_a_lines_reading_does_not_depend_on_the_other_lines_of_the_page():
    # Lines batched with lines of other widths were padded to the widest of their
    # batch: one line more on the page moved the batches and changed other readings.
    model = ocr.PPOCRRecognizer()
    line = text_line('得分', 28)
    others = [text_line(t, 28) for t in ('2', '100%', '≥95%', '得分', '86.4', '年度资金总额', '1', '20', '49.02548')]
    alone = model.recognize([line])[0]
    for k in range(len(others) + 1):
        among = model.recognize(others[:k] + [line])[-1]
        assert (among.text, among.confidence, among.min_char_confidence) == \
            (alone.text, alone.confidence, alone.min_char_confidence), k


def test_a_bare_greater_than_the_model_half_believes_barred_gets_a_barred_reading():
    model = ocr.PPOCRRecognizer()
    ids = [model.index[c] for c in '>85%']
    probs = np.zeros((8, len(model.charset)), np.float32)
    probs[:, 0] = 1.0                                   # blanks between the characters
    for frame, i in zip((1, 3, 5, 7), ids):
        probs[frame, 0], probs[frame, i] = 0.0, 0.9
    probs[1, model.index['≥']] = 0.1                    # the bar faint, not gone
    assert model._decode(probs)[0] == '>85%'
    assert model._barred(probs) == '≥85%'
    probs[1, model.index['≥']] = 0.001                  # the model sees no bar at all
    assert model._barred(probs) is None


def test_a_comma_opening_a_line_goes_but_an_opening_quote_stays():
    cell = put_text(np.full((80, 300), 255, np.uint8), '达标', (80, 22), size=30)
    ink = _ink(cell)
    x0, y0, x1, y1 = _line_box(ink)
    comma = put_text(np.full((80, 300), 255, np.uint8), '，', (x0 - 34, 22), size=30)
    with_comma = ink | _ink(comma)
    assert not ocr.clean_cell_ink(with_comma, 200)[:, :x0 - 2].any()
    quoted = put_text(np.full((80, 300), 255, np.uint8), '“达标”', (46, 22), size=30)
    assert _kept_share(quoted) > 0.99


def test_a_point_is_on_the_baseline_of_the_number_it_follows_not_of_the_row():
    # '93.' over '4' in a cell that lost its rule to the '100' beside it, which sits
    # lower: the point is on 3's baseline and stays.
    cell = np.full((90, 200), 255, np.uint8)
    cell = put_text(cell, '100', (10, 34), size=28)
    cell = put_text(cell, '93.', (110, 10), size=28)
    cell = put_text(cell, '4', (125, 50), size=28)
    assert _kept_share(cell) > 0.99


def test_a_closing_quote_and_stop_after_the_last_character_stay():
    cell = put_text(np.full((80, 400), 255, np.uint8), '创新城”。', (40, 22), size=30)
    assert _kept_share(cell) > 0.99


def test_opening_quotes_before_the_first_character_stay():
    cell = put_text(np.full((80, 600), 255, np.uint8), '“‘专精特新’企业', (40, 22), size=30)
    assert _kept_share(cell) > 0.99


def _golden_ink(name: str) -> np.ndarray:
    """A cell's ink mask cut from a generated scan (tests/golden/ocr/)."""
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'golden', 'ocr', name)
    return cv2.imread(path, cv2.IMREAD_GRAYSCALE)


def test_a_full_stop_broken_into_dust_is_inside_its_line():
    # Golden input: an indicator cell's ink from a generated scan damaged by augraphy
    # (28 px text), '数据准确，按' over '要求完成。'. The 。 of the faint print fell apart
    # into dots too small to be print: the line ended at 成, the crop cut the ring in
    # half, and the value was read without its 。 (silent).
    ink = _golden_ink('broken_full_stop_ink.png')
    cleaned, _paint, dust = ocr._clean_cell(ink, 200, 28)
    first, last = ocr.find_lines(cleaned, 200, 28, cleaned=True)
    assert ocr.broken_ring_end(dust, first, 28) is None
    end = ocr.broken_ring_end(dust, last, 28)
    assert end is not None and last.x1 + 6 <= end <= last.x1 + 14
    # A clump of toner dots there, inked at its middle, is no 。.
    clump = np.zeros_like(dust)
    for y, x in [(88, 146), (88, 149), (91, 146), (91, 149), (89, 147), (90, 148)]:
        clump[y, x] = 255
    assert ocr.broken_ring_end(clump, last, 28) is None


def test_a_comma_after_a_closing_bracket_stays():
    # Golden input: a goal cell's ink from a generated mild scan (uming, 29 px text),
    # '…指导意见》，完成5' on its third line. 》 leaves the right half of its box blank and
    # ， sits at the left of its own, so the comma, a solid dot there, stands half a
    # character off the bracket and one before 完: it was dropped as a speck, and the
    # line fell into two pieces.
    ink = _golden_ink('comma_after_bracket_ink.png')
    # The lattice's column rules of other rows run through the cell, unseen in it.
    walls = [63, 94, 117, 184, 271, 305, 361, 404, 443, 563]
    lines = ocr.find_lines(ink, 200, 29.0, walls=walls)
    assert len(lines) == 5
    third = lines[2]
    assert third.x1 - third.x0 > 0.9 * (int(np.nonzero(ink[third.y0:third.y1].any(axis=0))[0].max())
                                        - int(np.nonzero(ink[third.y0:third.y1].any(axis=0))[0].min()))


def test_a_line_of_text_near_the_top_of_its_cell_keeps_its_horizontal_strokes():
    # A row through '统一建设、统一经营、统一' is more than half inked: no rule's remnant,
    # though it lies within a sixth of the cell's height from its top.
    cell = put_text(np.full((170, 320), 255, np.uint8), '统一建设、统一经营、统一', (6, 8), size=25)
    ink = _ink(cell)
    assert (ocr.clean_cell_ink(ink, 200)[ink > 0] > 0).mean() > 0.99
    last = int(np.nonzero(ink.any(axis=0))[0].max())
    assert ocr.find_lines(ink, 200)[0].x1 >= last


def test_two_opening_quotes_far_off_their_character_stay():
    # Golden input: a project name's ink from a generated clean scan (ukai, 27 px text),
    # '“‘专精特新’企业…': ‘ stands a blank off 专 and “ another blank off ‘, too far from
    # any character on its own; both are thin hooks, neither a solid dot.
    ink = _golden_ink('opening_quotes_ink.png')
    cleaned = ocr.clean_cell_ink(ink, 200, 27.0)
    first = int(np.nonzero(ink.any(axis=0))[0].min())
    assert cleaned[:, first:first + 12].any()            # the outer quote's first stroke
    assert (cleaned[ink > 0] > 0).mean() > 0.99


def test_a_blurred_small_hyphen_is_a_dash_and_specks_beside_it_do_not_make_it_text():
    # A worn scan's small hyphen binarises to 8 x 5 px (1.6:1); a speck above it, one
    # beside it, or one stuck to its end would make a line the recogniser reads as 二,
    # T or 1.
    for specks in ([], [(60, 16, 3)], [(90, 36, 2)], [(52, 27, 2)]):
        cell = np.full((60, 120), 255, np.uint8)
        cell[28:33, 52:60] = 0
        for x, y, r in specks:
            cv2.circle(cell, (x, y), r, 0, -1)
        lines = ocr.find_lines(_ink(cell), 200, 26.0)
        assert len(lines) == 1 and lines[0].is_dash, specks


def test_a_bar_along_the_cells_edge_is_no_dash():
    # A speck just under the cell's top rule has a dash's shape but not its place.
    cell = np.full((80, 120), 255, np.uint8)
    cell[2:5, 57:63] = 0
    assert not any(line.is_dash for line in ocr.find_lines(_ink(cell), 200, 30.0))


def test_a_speck_bar_under_a_line_of_text_goes():
    cell = put_text(np.full((110, 300), 255, np.uint8), '节约行政成本', (20, 20), size=30)
    cell[78:82, 200:208] = 0          # a clump under the last characters, read as 'r'
    lines = ocr.find_lines(_ink(cell), 200, 31.0)
    assert len(lines) == 1 and lines[0].y1 < 75


@pytest.mark.parametrize('read,meant', [
    ('关.于', '关于'), ('验收·支付', '验收支付'), ('.支付时间', '支付时间'), ('•使用人员满意度', '使用人员满意度'),
    ('反映良好。.', '反映良好。'), ('•', ''),
    # kept: a comma opening a line (print wrapped without care sets one there)
    (',提升社会', ',提升社会'),
    # kept: points of numbers and list items, and one that may be a 。 misread
    ('1.资金按进度支付', '1.资金按进度支付'), ('396.26', '396.26'), ('.26752', '.26752'),
    ('资金支付时间.', '资金支付时间.'),
    # a dash between two numbers read as 一
    ('(2024一2026年)', '(2024—2026年)'), ('第一2', '第一2'),
])
def test_points_that_can_only_be_specks_leave_chinese_text(read, meant):
    assert ocr.tidy_text(read) == meant


def test_a_speck_on_a_line_of_its_own_between_lines_of_text_is_no_line():
    # A clump between two lines of a goals cell, on neither: read as 中 or 二 it
    # would become a line of the text.
    cell = np.full((130, 400), 255, np.uint8)
    cell = put_text(cell, '完成科技活动周', (10, 8), size=28)
    cell = put_text(cell, '提升公民科学素养', (10, 88), size=28)
    ink = _ink(cell)[:60]
    bottom = int(np.nonzero(ink.any(axis=1))[0].max())
    right = int(np.nonzero(ink.any(axis=0))[0].max())
    cell[bottom + 3:bottom + 9, right + 3:right + 9] = 0     # just off the first line's end
    lines = ocr.find_lines(_ink(cell), 200, 28.0)
    assert len(lines) == 2


def test_a_stub_of_a_lost_column_rule_is_no_line_but_a_one_beside_it_is():
    # A merged cell (the rule between two columns lost at x=130): a 13 px piece of
    # that rule stands in its middle, as '1' would.
    cell = np.full((100, 260), 255, np.uint8)
    cell[45:58, 129:134] = 0
    assert ocr.find_lines(_ink(cell), 200, 29.0, walls=[131]) == []
    # The same stroke well off the rule's line is print (a '1').
    lines = ocr.find_lines(_ink(cell), 200, 29.0, walls=[60])
    assert len(lines) == 1


def test_a_one_wrapped_under_a_number_on_a_lost_rules_line_is_kept():
    # A funds cell spanning a column line of the table below: '49.02548' over its last
    # digit '1', centred, and the centre on that line. The '1' is the number's, not the
    # rule's: it is a character's height, clear of the cell's edges, just under a line.
    cell = np.full((84, 140), 255, np.uint8)
    cell = put_text(cell, '49.02548', (12, 8), size=28)
    cell[43:63, 70:73] = 0                      # a sans-serif '1': one upright stroke
    x = 71
    lines = ocr.find_lines(_ink(cell), 200, 28.0, walls=[x])
    assert len(lines) == 2 and lines[1].x0 <= x <= lines[1].x1
    assert lines[1].on_rule and not lines[0].on_rule
    # Alone in its cell, the same stroke is the rule's remnant.
    alone = cell.copy()
    alone[:40] = 255
    assert ocr.find_lines(_ink(alone), 200, 28.0, walls=[x]) == []
    # Kept, it stays only when read as '1' under a line ending in a digit (under a
    # header's 得分 it is the rule's remnant after all).
    reading = ocr.Reading(text='1', confidence=0.99, min_char_confidence=0.99)
    number, header = TextLine(text='49.02548', confidence=1.0, bbox=[0, 0, 1, 1]), \
        TextLine(text='得分', confidence=1.0, bbox=[0, 0, 1, 1])
    assert ocr._wrapped_one(reading, [number]) and not ocr._wrapped_one(reading, [header])
    assert not ocr._wrapped_one(ocr.Reading(text='丨分', confidence=0.9, min_char_confidence=0.9), [number])


def test_faint_print_keeps_the_thin_strokes_of_its_first_character():
    # The project name cell of an augraphy office copy (print contrast 0.32): at the
    # page's ink threshold '丰' keeps only its upright and falls off the line, which
    # then starts at '台'; taken at a threshold scaled to the print, the line starts
    # at '丰'.
    gray = _golden_ink('faint_name_cell.png')           # the cell's gray, not its ink

    def line_starts(ink):
        cleaned = ocr._clean_cell(ink, 200, 22.0, True)[0]
        return [line.x0 for line in ocr.find_lines(cleaned, 200, 22.0, cleaned=True)]
    assert line_starts(preprocess.binarise(gray, 200))[0] > 40
    assert line_starts(ocr.faint_ink(gray, 200, 0.32)) == [11]
    # On a page of print at full contrast, the threshold is the page's own.
    assert (ocr.faint_ink(gray, 200, 0.9) == preprocess.binarise(gray, 200)).all()


def _worn_dash_cell(darkness, seed=3):
    """A cell's gray (paper 250, scanner grain) with an em dash `darkness` levels
    darker than the paper, broken in two by a worn patch (0 darkness: no dash)."""
    rng = np.random.default_rng(seed)
    cell = np.full((80, 100), 250.0) + rng.normal(0, 4, (80, 100))
    if darkness:
        cell[39:42, 36:50] -= darkness
        cell[39:42, 53:64] -= darkness
    return np.clip(cell, 0, 255).astype(np.uint8)


def test_a_dash_worn_paler_than_the_ink_threshold_is_found_and_read_unsure():
    bar = ocr.faint_dash(_worn_dash_cell(25), 28, 200)
    assert bar is not None and bar.is_dash and bar.faint and bar.x1 - bar.x0 >= 20
    assert ocr.faint_dash(_worn_dash_cell(0), 28, 200) is None       # grain alone is no dash
    dot = _worn_dash_cell(0)
    dot[38:43, 48:53] = 200                                          # nor a speck
    assert ocr.faint_dash(dot, 28, 200) is None
    off_middle = np.roll(_worn_dash_cell(25), -30, axis=0)           # pale residue near the top
    assert ocr.faint_dash(off_middle, 28, 200) is None


def test_a_worn_dash_binarised_into_a_ragged_piece_is_read_from_the_cells_gray():
    # A rough scan's funds cell (generated, worn ink, 150 dpi read at 200): its dash
    # binarises into a piece too ragged to be taken for one, which the recogniser reads
    # as letters; the cell's gray still shows the bar. Read as a dash, unsurely.
    from models import Cell, CleanPage, PageGrid, Table
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'golden', 'ocr',
                        'worn_dash_cell.png')
    gray = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    box = [19, 16, 114, 92]
    page = CleanPage(number=1, gray=gray, ink=preprocess.binarise(gray, 200), dpi=200, angle=0.0, notes=[],
                     measures={'text_mm': 3.175})
    grid = PageGrid(width=gray.shape[1], height=gray.shape[0],
                    tables=[Table(bbox=box, row_edges=[box[1], box[3]], col_edges=[box[0], box[2]],
                                  cells=[Cell(row=0, col=0, bbox=box)])])
    cells, _ = ocr.read_page(page, grid)
    assert [(line.text, line.confidence) for line in cells[0].lines] == [('—', ocr.FAINT_DASH_CONFIDENCE)]


def test_print_read_as_nothing_marks_its_cell_unread():
    # A hard scan's funds cell (generated): a '0' with a speck clump close beside it,
    # which the recogniser reads as nothing. The cell is not known to be empty.
    from models import Cell, CleanPage, PageGrid, Table
    folder = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'golden', 'ocr')
    gray = cv2.imread(os.path.join(folder, 'zero_beside_speck_gray.png'), cv2.IMREAD_GRAYSCALE)
    ink = cv2.imread(os.path.join(folder, 'zero_beside_speck_ink.png'), cv2.IMREAD_GRAYSCALE)
    box = [17, 17, 165, 85]
    page = CleanPage(number=1, gray=gray, ink=ink, dpi=200, angle=0.0, notes=[], measures={'text_mm': 3.048})
    grid = PageGrid(width=gray.shape[1], height=gray.shape[0],
                    tables=[Table(bbox=box, row_edges=[box[1], box[3]], col_edges=[box[0], box[2]],
                                  cells=[Cell(row=0, col=0, bbox=box)])])
    cells, _ = ocr.read_page(page, grid)
    assert cells[0].lines == [] and cells[0].unread
    # An empty cell is no such cell.
    blank = CleanPage(number=1, gray=np.full_like(gray, 245), ink=np.zeros_like(ink), dpi=200, angle=0.0,
                      notes=[], measures={'text_mm': 3.048})
    cells, _ = ocr.read_page(blank, grid)
    assert cells[0].lines == [] and not cells[0].unread


def test_a_line_of_chinese_wider_than_its_reading_has_room_for_a_lost_character():
    from models import TextLine
    # A page whose lines of Chinese run 30 px a character; one line read a character short.
    page = [TextLine(text=t, confidence=1.0, bbox=[0, 0, 30 * len(t), 28])
            for t in ('项目名称', '主管部门', '实施单位', '年度资金总额', '上年结转资金')]
    short = TextLine(text='年开展各类科普', confidence=1.0, bbox=[0, 0, 30 * 8, 28])
    advance = ocr.character_advance(page + [short])
    assert advance == 30
    assert ocr.room_for(short, advance) == 8
    assert all(ocr.room_for(line, advance) is None for line in page)
    # Numbers and Latin are no lines of Chinese; a page with too few lines has no size.
    assert ocr.room_for(TextLine(text='396.26', confidence=1.0, bbox=[0, 0, 400, 28]), advance) is None
    assert ocr.character_advance(page[:2]) is None


@pytest.mark.parametrize('dx, dy, sure', [(0, 0, True), (45, 0, False), (0, 22, False)])
def test_a_lone_dash_away_from_its_cells_middle_is_read_unsure(dx, dy, sure):
    # A form prints a lone dash in the middle of its cell; a speck of a dash's size
    # and shape elsewhere in an empty cell is read as a dash, unsurely.
    from models import Cell, CleanPage, PageGrid, Table
    gray = np.full((300, 400), 255, np.uint8)
    cv2.rectangle(gray, (50, 50), (350, 150), 0, 2)
    cv2.rectangle(gray, (190 + dx, 98 + dy), (210 + dx, 101 + dy), 0, -1)
    ink = preprocess.binarise(gray, 200)
    page = CleanPage(number=1, gray=gray, ink=ink, dpi=200, angle=0.0, notes=[], measures={'text_mm': 3.3})
    grid = PageGrid(width=400, height=300, tables=[Table(bbox=[50, 50, 350, 150], row_edges=[50, 150],
                                                           col_edges=[50, 350],
                                                           cells=[Cell(row=0, col=0, bbox=[50, 50, 350, 150])])])
    cells, _ = ocr.read_page(page, grid)
    assert [line.text for line in cells[0].lines] == ['—']
    assert (cells[0].lines[0].confidence >= 0.97) == sure


def test_a_half_width_comma_opening_a_wrapped_line_stays():
    # A sentence wrapped without care: '科学知识' over ',提升社'. The comma (a dot with a
    # thin tail, tall and filling little of its box) is print: layout keeps it and
    # flags the line. A round speck further off is not.
    cell = put_text(np.full((110, 200), 255, np.uint8), '科学知识', (30, 10), size=30)
    cell = put_text(cell, '提升社', (45, 55), size=30)
    wrapped = cell.copy()
    cv2.circle(wrapped, (39, 80), 2, 0, -1)
    cv2.line(wrapped, (40, 82), (38, 85), 0, 1)
    assert ocr.clean_cell_ink(_ink(wrapped), 200)[70:95, 30:44].any()
    speck = cell.copy()
    cv2.circle(speck, (30, 80), 2, 0, -1)
    assert not ocr.clean_cell_ink(_ink(speck), 200)[70:95, 24:44].any()


def test_a_grey_smudge_beside_print_is_no_line_of_the_page(recognizer):
    """A photocopy's grey smudges (or the back page showing through) read as '4' or 'J'
    beside the print: far paler than the page's usual print, they are left out; the
    print of the same cells stays, a pale dash too. A cell left empty by a smudge of a
    character's height is not known to be empty."""
    from models import Cell, CleanPage, PageGrid, Table
    from drawing import ruled_table
    rows = tuple(range(40, 40 + 11 * 90, 90))
    gray = ruled_table(width=900, height=1040, rows=rows, cols=(40, 460, 860))
    values = ['中小学校舍维修', '西城区财政局', '年度资金总额', '78.36', '72.95',
              '其他资金', '上年结转资金', '产出指标', '数量指标', '10']
    for i, value in enumerate(values):
        gray = put_text(gray, value, (70, rows[i] + 8), size=30)
    smudge = put_text(np.full_like(gray, 255), '4', (200, rows[0] + 48), size=30)   # under the print
    smudge = put_text(smudge, 'J', (650, rows[3] + 28), size=30)                     # alone in its cell
    mottled = (smudge < 128) & (np.random.default_rng(0).random(smudge.shape) < 0.5)   # a smudge's grain
    gray = np.minimum(gray, np.where(mottled, 200, 255).astype(np.uint8))         # grey, not black
    gray[rows[5] + 43:rows[5] + 46, 640:680] = 150                                  # a worn dash
    ink = preprocess.binarise(gray, 200)
    page = CleanPage(number=1, gray=gray, ink=ink, dpi=200, angle=0.0, notes=[], measures={'text_mm': 3.5})
    cells = [Cell(row=r, col=c, bbox=[(40, 460)[c], rows[r], (460, 860)[c], rows[r + 1]])
             for r in range(10) for c in range(2)]
    grid = PageGrid(width=900, height=1040, tables=[Table(bbox=[40, 40, 860, rows[-1]], row_edges=list(rows),
                                                           col_edges=[40, 460, 860], cells=cells)])
    read, _ = ocr.read_page(page, grid, recognizer)
    texts = [cell.text for cell in read]
    assert texts[0::2] == values
    assert texts[1::2] == ['', '', '', '', '', '—', '', '', '', '']
    assert read[7].unread and not read[3].unread


def test_a_line_made_tall_by_grain_over_and_under_it_is_read_once(recognizer):
    # An office copy on textured paper (augraphy, faint print): grain over and under the
    # project name made its band two lines tall; cut in two, each half read the whole
    # name, each with a character wrong ('…竞建…' and '朝阳区其层…'). One line over both
    # halves, read whole.
    from models import Cell, CleanPage, PageGrid, Table
    folder = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'golden', 'ocr')
    gray = cv2.imread(os.path.join(folder, 'grain_name_cell_gray.png'), cv2.IMREAD_GRAYSCALE)
    ink = cv2.imread(os.path.join(folder, 'grain_name_cell_ink.png'), cv2.IMREAD_GRAYSCALE)
    box = [10, 10, 1090, 77]
    page = CleanPage(number=1, gray=gray, ink=ink, dpi=200, angle=0.0, notes=[],
                     measures={'text_mm': 3.429, 'contrast': 0.325, 'speckle_per_cm2': 5.63})
    grid = PageGrid(width=gray.shape[1], height=gray.shape[0],
                    tables=[Table(bbox=box, row_edges=[box[1], box[3]], col_edges=[box[0], box[2]],
                                  cells=[Cell(row=0, col=0, bbox=box)])])
    cells, _ = ocr.read_page(page, grid, recognizer)
    names = [line for line in cells[0].lines if any('\u4e00' <= ch <= '\u9fff' for ch in line.text)]
    assert [line.text for line in names] == ['朝阳区基层党组织党建活动项目']
    # Its box covers both halves (the grain's own readings beside it are layout's to judge).
    assert names[0].bbox[3] - names[0].bbox[1] > 1.5 * 28


def test_two_lines_of_a_tall_band_that_read_differently_stay_two():
    half = lambda text, y0: TextLine(text=text, confidence=0.9, bbox=[0, y0, 300, y0 + 28])
    upper = half('按照市委组织部', 0)
    assert ocr._twin_half([upper], half('市财政局通知', 28)) is None
    assert ocr._twin_half([upper], half('按照市委组纸部', 28)) is upper
    assert ocr._twin_half([half('100', 0)], half('98', 28)) is None


def _golden_gray(name: str) -> np.ndarray:
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'golden', 'ocr', name)
    return cv2.imread(path, cv2.IMREAD_GRAYSCALE)


def _stop_cell_lines(last_box=(69, 84, 132, 107)):
    return [TextLine(text='因合同结算审计延', confidence=0.99, bbox=[7, 12, 208, 36]),
            TextLine(text='后，支付进度略有', confidence=0.99, bbox=[5, 47, 207, 72]),
            TextLine(text='滞后', confidence=0.99, bbox=list(last_box))]


def test_a_closing_stop_the_fast_model_dropped_is_read_again_by_the_small_one():
    # A deviation note's last line '滞后。' from a generated hard scan in an unseen font:
    # the fast model read '滞后' with full confidence (and so did its crop set further
    # in); the line's box holds half a character more than that, print low in its band.
    # The lines above fill their boxes and keep their readings.
    from models.pipeline import CellText
    gray = _golden_gray('closing_stop_cell_gray.png')
    cells = [CellText(table=0, cell=0, lines=_stop_cell_lines())]
    ocr._read_closing_marks(cells, {0: (0, 0, gray.shape[1], gray.shape[0])}, gray, False,
                            ocr.default_recognizer(), advance=25.0, speckle=5.0)
    assert [line.text for line in cells[0].lines] == ['因合同结算审计延', '后，支付进度略有', '滞后。']


def test_room_at_a_lines_end_with_print_high_in_its_band_is_no_closing_mark():
    # A speck glued to the line's end at the height of its characters widens the box
    # as much; it is not read again.
    from models.pipeline import CellText
    gray = _golden_gray('closing_stop_cell_gray.png').copy()
    gray[86:92, 126:131] = 40
    cells = [CellText(table=0, cell=0, lines=_stop_cell_lines())]
    ocr._read_closing_marks(cells, {0: (0, 0, gray.shape[1], gray.shape[0])}, gray, False,
                            ocr.default_recognizer(), advance=25.0, speckle=5.0)
    assert cells[0].lines[-1].text == '滞后'


def test_a_faint_closing_stop_left_out_of_the_lines_ink_is_read_where_the_page_has_few_specks():
    # An office copy's faint print (contrast 0.32): the 。 after '号码浪费等问题' is a
    # ring too light for the page's threshold, so the line's box ends before it; print
    # stands just after the box, low in its band, and the small model reads it there.
    from models.pipeline import CellText
    gray = _golden_gray('faint_closing_stop_cell_gray.png')
    region = {0: (0, 0, gray.shape[1], gray.shape[0])}

    def read(speckle):
        cells = [CellText(table=0, cell=0, lines=[TextLine(text='号码浪费等问题', confidence=0.99,
                                                           bbox=[57, 140, 231, 165])])]
        ocr._read_closing_marks(cells, region, gray, True, ocr.default_recognizer(), advance=24.5,
                                speckle=speckle, original=gray)
        return cells[0].lines[0].text
    assert read(0.07) == '号码浪费等问题。'
    # On a speckled page a speck just after a line is no mark to read.
    assert read(5.0) == '号码浪费等问题'


def test_a_dot_filling_a_characters_room_is_a_worn_mark():
    # A line crop from a generated rough scan: the comma of '活力，增' worn down to its
    # head, which the small model reads as '·'. Between two Chinese characters a point
    # is dropped as a speck, but this one stands a character's advance apart from both:
    # it is written '，', unsure, so that the field is flagged.
    line = _golden_gray('worn_comma_line_gray.png')
    reading = ocr.default_recognizer().accurate.recognize([line])[0]
    assert reading.text == '活力，增' and reading.min_char_confidence <= ocr.MARK_GUESS_CONFIDENCE


def test_a_speck_between_characters_at_their_own_advance_is_dropped():
    chars = list('活力·增强区域')
    frames = np.array([3, 7, 9, 11, 15, 19, 23])       # the dot adds no room
    confs = np.full(len(chars), 0.9)
    assert ocr.tidy_text(''.join(chars)) == '活力增强区域'
    out = ocr.marks_in_slots(chars, frames, confs)
    assert ''.join(chars) == '活力·增强区域' and out.min() == 0.9
    frames = np.array([3, 7, 12, 16, 20, 24, 28])      # a character's room between 力 and 增
    out = ocr.marks_in_slots(chars, frames, confs)
    assert ''.join(chars) == '活力，增强区域' and out[2] == ocr.MARK_GUESS_CONFIDENCE


def test_a_lone_speck_shaped_like_a_short_hyphen_on_speckled_paper_is_an_unsure_dash():
    # A rough scan's empty deviation cell (generated, 65 specks a cm²): one speck
    # clump blurred to 9 x 6 px, as bar-shaped as a worn hyphen. The forms print em
    # dashes; a bar that short on speckled paper is read unsurely (so flagged), and
    # surely where the paper is clean.
    from models import Cell, CleanPage, PageGrid, Table
    folder = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'golden', 'ocr')
    gray = cv2.imread(os.path.join(folder, 'speck_in_empty_cell_gray.png'), cv2.IMREAD_GRAYSCALE)
    ink = cv2.imread(os.path.join(folder, 'speck_in_empty_cell_ink.png'), cv2.IMREAD_GRAYSCALE)
    box = [17, 17, gray.shape[1] - 17, gray.shape[0] - 17]
    grid = PageGrid(width=gray.shape[1], height=gray.shape[0],
                    tables=[Table(bbox=box, row_edges=[box[1], box[3]], col_edges=[box[0], box[2]],
                                  cells=[Cell(row=0, col=0, bbox=box)])])

    def read(speckle):
        page = CleanPage(number=1, gray=gray, ink=ink, dpi=200, angle=0.0, notes=[],
                         measures={'text_mm': 3.937, 'speckle_per_cm2': speckle, 'contrast': 0.6})
        cells, _ = ocr.read_page(page, grid)
        return [(line.text, line.confidence) for line in cells[0].lines]
    assert read(65.0) == [('—', ocr.FAINT_DASH_CONFIDENCE)]
    assert read(0.1) == [('—', 0.99)]


def _probs_for(model, text: str, doubts: dict) -> np.ndarray:
    """CTC frames reading `text` (a blank between characters); doubts: {position:
    (runner-up, its chance)}."""
    probs = np.zeros((2 * len(text), len(model.charset)), np.float32)
    probs[:, 0] = 1.0
    for k, ch in enumerate(text):
        frame = 2 * k + 1
        probs[frame, 0], probs[frame, model.index[ch]] = 0.0, 1.0
        if k in doubts:
            other, chance = doubts[k]
            probs[frame, model.index[ch]], probs[frame, model.index[other]] = 1.0 - chance, chance
    return probs


def test_a_characters_runner_up_that_makes_likelier_words_is_given_beside_the_reading():
    model = ocr.PPOCRRecognizer()
    # The small model read 阶 as 价 at 0.995, with 阶 second at 0.003.
    probs = _probs_for(model, '形成价段性成果', {2: ('阶', 0.003)})
    assert model._decode(probs)[0] == '形成价段性成果'
    assert model._runner_up(probs) == '形成阶段性成果'
    # A runner-up at clean print's chances is not weighed at all ...
    assert model._runner_up(_probs_for(model, '形成价段性成果', {2: ('阶', 1e-5)})) is None
    # ... nor one that makes worse words than the first (a place name kept).
    assert model._runner_up(_probs_for(model, '丰台区', {0: ('车', 0.02)})) is None
    # A runner-up behind another (a worn 义: 又 first, 义 second) is weighed too.
    probs = _probs_for(model, '顺文区', {1: ('又', 0.012)})
    probs[3, model.index['义']] = 0.010
    probs[3, model.index['文']] -= 0.010
    assert model._runner_up(probs) == '顺义区'


def test_a_small_hyphen_wiped_as_a_speck_in_an_empty_cells_middle_is_read_as_an_unsure_dash():
    # A small font's hyphen, blurred to 7 x 5 px at 200 dpi, is as compact as a toner
    # clump: preprocess wiped it, and the execution rate of a blank funds row was lost.
    specks = np.zeros((80, 160), np.uint8)
    specks[38:43, 77:84] = 255
    bar = ocr.wiped_dash(specks, expected=28)
    assert bar is not None and bar.is_dash and bar.faint
    assert (bar.x0, bar.x1) == (77, 84)
    # A speck away from the middle, or one standing on end, is a speck.
    off = np.zeros_like(specks)
    off[10:15, 20:27] = 255
    tall = np.zeros_like(specks)
    tall[36:43, 79:84] = 255
    assert ocr.wiped_dash(off, 28) is None and ocr.wiped_dash(tall, 28) is None


def test_a_sentence_mark_whose_runner_up_is_another_mark_is_given_beside_the_reading():
    model = ocr.PPOCRRecognizer()
    # The small model read '管理，严格' as '管理：严格' at 0.80, with '，' at 0.14.
    probs = _probs_for(model, '管理：严格', {2: ('，', 0.14)})
    assert model._runner_up(probs) == '管理，严格'
    # A mark read surely, or with only its half-width twin second, stands.
    assert model._runner_up(_probs_for(model, '管理：严格', {2: ('，', 0.02)})) is None
    assert model._runner_up(_probs_for(model, '管理，严格', {2: (',', 0.3)})) is None


def test_the_least_sure_digit_of_a_line_is_measured_apart_from_its_other_characters():
    model = ocr.PPOCRRecognizer()
    probs = _probs_for(model, '(2021年度)', {0: ('（', 0.4), 4: ('4', 0.34)})
    assert model._least_sure_digit(probs) == pytest.approx(0.66, abs=1e-3)
    assert model._least_sure_digit(_probs_for(model, '(2024年度)', {0: ('（', 0.4)})) == 1.0
    assert model._least_sure_digit(_probs_for(model, '项目', {})) is None


def test_a_line_off_its_cells_middle_beside_a_seal_records_the_seal_there():
    # A rough scan's target cell (generated): '≤12月' printed centred, a blue seal's
    # star over the ≤. Lifting the seal took the ≤ with it; '12月' reads sure, right
    # of the cell's middle, with the seal's dense ink where the ≤ stood.
    from models import Cell, CleanPage, PageGrid, Table
    folder = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'golden', 'ocr')
    gray = cv2.imread(os.path.join(folder, 'seal_beside_target_gray.png'), cv2.IMREAD_GRAYSCALE)
    sealed = cv2.imread(os.path.join(folder, 'seal_beside_target_sealed.png'), cv2.IMREAD_GRAYSCALE)
    box = [16, 16, 239, 98]
    grid = PageGrid(width=gray.shape[1], height=gray.shape[0],
                    tables=[Table(bbox=box, row_edges=[box[1], box[3]], col_edges=[box[0], box[2]],
                                  cells=[Cell(row=0, col=0, bbox=box)])])

    def read(seal):
        page = CleanPage(number=1, gray=gray.copy(), ink=preprocess.binarise(gray, 200), dpi=200, angle=0.0,
                         notes=[], measures={'text_mm': 3.302}, sealed=seal)
        cells, _ = ocr.read_page(page, grid)
        return cells[0].lines

    lines = read(sealed)
    assert [line.text for line in lines] == ['12月']
    assert lines[0].sealed_beside >= 0.5 and (lines[0].sealed or 0) < 0.15
    # The same seal on the other side of the line (where no character is missing: the
    # line stands off the middle away from it) is none of its business.
    assert read(cv2.flip(sealed, 1))[0].sealed_beside is None


# The dust a faded copy's hollow '2' left in its cell (office damage, 200 dpi, text 22 px
# high): (x, y, w, h) of each piece, a piece every 2-4 px along the curve, many of them
# only slantwise apart.
HOLLOW_TWO_DUST = [(55, 14, 1, 1), (52, 16, 1, 1), (60, 16, 2, 2), (57, 20, 3, 3), (53, 25, 1, 1),
                   (58, 27, 4, 2), (56, 28, 1, 1)]


def _draw_dust(image: np.ndarray, pieces, dx: int = 0, dy: int = 0) -> np.ndarray:
    """Each piece as a slanted run of pixels across its box (a dot of a stroke, under
    the line finder's least print)."""
    for x, y, w, h in pieces:
        for i in range(max(w, h)):
            image[y + dy + min(i, h - 1), x + dx + min(i, w - 1)] = 255
    return image


def test_the_dots_of_a_broken_character_go_together_slantwise_too():
    dust = _draw_dust(np.zeros((44, 90), np.uint8), HOLLOW_TWO_DUST)
    marks = ocr.broken_marks(dust, 22.0)
    assert (marks[dust > 0] > 0).all()
    # Specks further apart than BROKEN_GAP stay dust, however many.
    specks = np.zeros((44, 90), np.uint8)
    for x in range(5, 90, 8):
        specks[20, x] = specks[28 + x % 3, x + 3] = 255
    assert not ocr.broken_marks(specks, 22.0).any()


def test_a_broken_mark_dropped_off_its_line_stays_in_the_image_as_dust_does():
    # Dots of a worn mark, joined as one and then dropped by the line finder as a speck
    # beside the line: what the recogniser reads keeps it (painted out, the ≤ of
    # '≤12月' went from the crop), however the line finder judged it.
    cell = put_text(np.full((60, 200), 255, np.uint8), '12月', (80, 18), size=24)
    ink = ((cell < 128) * 255).astype(np.uint8)
    _draw_dust(ink, HOLLOW_TWO_DUST, dx=-40, dy=20)     # the dots, down by the line's foot
    joined_ink, paint, dust = ocr._clean_cell(ink, 200, 22.0, join_broken=True)
    assert dust[30:52, 10:30].sum() > 0 and not joined_ink[30:52, 10:30].any()     # joined, then dropped
    assert not (paint & (dust > 0)).any()


def test_a_gap_a_character_wide_between_two_chinese_characters_is_an_empty_slot():
    # '11份相关' for '11份，相关': the recogniser's frames for 份 and 相 stand two
    # advances apart, nothing read between them. Lines read whole keep to 1.5 at most.
    chars = list('形成成果报告11份相关建议')
    frames = np.array([0, 4, 8, 12, 16, 20, 23, 25, 28, 37, 41, 45, 49])
    assert ocr.empty_slot(chars, frames) == '份相'
    even = np.array([0, 4, 8, 12, 16, 20, 23, 25, 28, 32, 36, 40, 44])
    assert ocr.empty_slot(chars, even) is None
    # Too few pairs of Chinese characters to measure the advance on: no judgement.
    assert ocr.empty_slot(list('11份相关'), np.array([0, 3, 6, 15, 19])) is None
