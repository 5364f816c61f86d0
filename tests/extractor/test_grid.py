import json
import os

import cv2
import numpy as np
import pytest

from extractor import grid, ingest, preprocess
from models import CleanPage

from drawing import put_text, ruled_table


def _grid_of(img, dpi=200):
    ink = preprocess.binarise(img, dpi)
    return grid.find_tables(CleanPage(number=1, gray=img, ink=ink, dpi=dpi))


def test_plain_lattice():
    g = _grid_of(ruled_table())
    assert len(g.tables) == 1
    t = g.tables[0]
    assert (t.n_rows, t.n_cols) == (4, 3)
    assert len(t.cells) == 12 and all(c.rowspan == c.colspan == 1 for c in t.cells)


def test_missing_internal_rules_become_spans():
    img = ruled_table(merged={(0, 0, 'r'), (0, 1, 'r'), (1, 0, 'b'), (2, 0, 'b')})
    img = put_text(img, '三级指标', (130, 240))          # text must not add rules
    t = _grid_of(img).tables[0]
    spans = {(c.row, c.col): (c.rowspan, c.colspan) for c in t.cells}
    assert spans[(0, 0)] == (1, 3)
    assert spans[(1, 0)] == (3, 1)
    assert len(t.cells) == 1 + 1 + 3 * 2


def test_broken_faint_rules_still_close_cells():
    img = ruled_table()
    # Break every rule with gaps and make it light grey, as on a faint photocopy.
    img[img == 0] = 150
    img[:, ::23] = 255
    img[::19, :] = 255
    t = _grid_of(img).tables[0]
    assert (t.n_rows, t.n_cols) == (4, 3)
    assert len(t.cells) == 12


def test_short_wall_between_close_rules_is_kept():
    # A row only 5 mm high (40 px at 200 dpi): its walls are shorter than any kernel
    # that ignores text, and are kept because both ends meet rules.
    img = ruled_table(rows=(100, 140, 300))
    t = _grid_of(img).tables[0]
    assert (t.n_rows, t.n_cols) == (2, 3) and len(t.cells) == 6


def test_html_has_spans_and_escapes_text():
    img = ruled_table(merged={(0, 0, 'r')})
    t = _grid_of(img).tables[0]
    html = grid.table_html(t, {0: '<script>alert(1)</script>'})
    assert 'colspan="2"' in html
    assert '<script>' not in html and '&lt;script&gt;' in html


def test_sample_pages_match_golden(data_dir):
    """Golden: the lattice and spans of the clean sample in tests/data (regenerate with
    scripts/golden.py when the grid stage changes on purpose)."""
    from conftest import GOLDEN
    expected = json.load(open(os.path.join(GOLDEN, 'samples_clean.grid.json')))
    pdf = os.path.join(data_dir, 'samples', 'samples_clean.pdf')
    for page in ingest.iter_pages(pdf, 200):
        g = grid.find_tables(preprocess.clean_page(page))
        want = expected[page.number - 1]['tables']
        got = [{'rows': t.n_rows, 'cols': t.n_cols,
                'cells': [[c.row, c.col, c.rowspan, c.colspan] for c in t.cells]} for t in g.tables]
        assert got == want, f'page {page.number}'


def _cell_at(table, x, y):
    return next(c for c in table.cells if c.bbox[0] <= x < c.bbox[2] and c.bbox[1] <= y < c.bbox[3])


def test_row_joined_round_a_worn_rule_is_split_again():
    """A wide cell (two lattice columns: the header row has a rule between them) whose
    bottom rule is worn away under its right half and under half of the next cell: the
    rule still enters it from the left, so the rows stay two cells, not one 2x2."""
    rows, cols = (100, 200, 300, 400, 500), (100, 300, 400, 600, 900)
    img = ruled_table(rows=rows, cols=cols, merged={(r, 1, 'r') for r in (1, 2, 3)})
    y = rows[2]
    img[y - 3:y + 4, 402:598] = 255
    img[y - 3:y + 4, 602:760] = 255
    t = _grid_of(img).tables[0]
    assert _cell_at(t, 450, 250).bbox[1:4:2] == [200, 300]
    assert _cell_at(t, 450, 350).bbox[1:4:2] == [300, 400]


def test_text_inside_a_merged_cell_does_not_split_it():
    """A stroke wholly inside a merged cell (glyph bottoms along a text line) that does
    not reach the cell's sides is not a rule."""
    rows, cols = (100, 200, 300, 400, 500), (100, 300, 400, 500, 700, 900)
    merged = {(r, c, 'r') for r in (1, 2) for c in (1, 2)} | {(1, c, 'b') for c in (1, 2, 3)}
    img = ruled_table(rows=rows, cols=cols, merged=merged)
    img[rows[2] - 1:rows[2] + 1, 395:505] = 0
    t = _grid_of(img).tables[0]
    assert _cell_at(t, 450, 250).bbox == [300, 200, 700, 400]


def test_text_across_a_row_line_in_a_merged_cell_keeps_the_cell_whole():
    # 二级指标 merged over two rows, its text centred on the row line the other
    # columns carry: strokes of the text lie on that line but are no rule.
    img = ruled_table(merged={(1, 0, 'b')}, thickness=2)
    img = put_text(img, '一一一一一一', (110, 282), size=34)      # long flat strokes on y=300
    t = _grid_of(img).tables[0]
    spans = {(c.row, c.col): (c.rowspan, c.colspan) for c in t.cells}
    assert spans[(1, 0)] == (2, 1)


def test_a_rule_faded_into_short_pieces_is_one_rule():
    img = ruled_table(rows=(100, 200, 300, 400, 500), cols=(100, 400, 700, 1000))
    # The rule at y=300 survives only as 9 mm pieces with 4 mm gaps (a faint photocopy),
    # none of them meeting a column rule.
    img[297:304, 101:1000] = 255
    for x in range(130, 980, 100):
        img[299:302, x:x + 70] = 0
    t = _grid_of(img).tables[0]
    assert t.n_rows == 4 and all(c.rowspan == 1 for c in t.cells)


def test_a_total_row_whose_rules_break_at_different_places_is_one_table():
    # A 总分 row alone on a continued page: its top rule broken at one place, its
    # bottom rule at another, its left wall worn away. Bridged, its rules run across
    # the whole row, so the row is one table with the label in it.
    import numpy as np
    from extractor import grid
    from models import CleanPage
    page = np.full((400, 1400), 255, np.uint8)
    page[100:102, 100:600] = 0
    page[100:102, 640:1300] = 0          # top rule broken at 600-640
    page[170:172, 100:300] = 0
    page[170:172, 340:900] = 0
    page[170:172, 930:1300] = 0          # bottom rule broken at 300-340 and 900-930
    for x in (900, 1000, 1100, 1298):    # inner walls and the right one; no left wall
        page[100:172, x:x + 2] = 0
    ink = (page < 128).astype(np.uint8) * 255
    found = grid.find_tables(CleanPage(number=1, gray=page, ink=ink, dpi=200, angle=0.0))
    assert len(found.tables) == 1
    x0, _, x1, _ = found.tables[0].bbox
    assert x0 <= 105 and x1 >= 1295


def test_digits_filling_narrow_cells_do_not_make_a_rule_under_them():
    # Budgets wrapped inside narrow cells ('4133.53' over '8337'), the first line
    # filling each cell nearly wall to wall, its digits' bottoms joined by blur into one
    # stroke: three such strokes in a row, collinear, used to chain into a rule cutting
    # the numbers in two.
    cols = (100, 230, 360, 490)
    img = ruled_table(width=700, height=400, rows=(100, 200, 300), cols=cols)
    for x in cols[:-1]:
        img = put_text(img, '4133.53', (x + 14, 112), size=28)
        img = put_text(img, '8337', (x + 30, 152), size=28)
        ys, xs = np.nonzero(img[112:150, x + 5:x + 125] < 128)
        bottom = 112 + int(ys.max())
        cv2.line(img, (x + 5 + int(xs.min()), bottom), (x + 5 + int(xs.max()), bottom), 0, 1)
    t = _grid_of(img).tables[0]
    assert (t.n_rows, t.n_cols) == (2, 3)


def test_strokes_standing_inside_a_row_of_narrow_cells_clear_of_their_walls_chain_into_no_rule():
    # Mild 8447 at 150 dpi: '611.354' over '5' in each budget cell, the first line's
    # digit bottoms joined by blur into a stroke 8 mm long, centred in its 15 mm cell.
    # Three in a row are collinear, span a sure rule's length and are inked along
    # most of it, but each stands clear of the walls with a wall in every gap: print,
    # not a faint rule, so the cells keep their two lines together.
    cols = (100, 217, 334, 451, 560)
    img = ruled_table(width=700, height=400, rows=(100, 180, 260), cols=cols)
    for x0, x1 in zip(cols[:-2], cols[1:-1]):
        img = put_text(img, '611.354', (x0 + 12, 104), size=26)
        img = put_text(img, '5', (x0 + 52, 142), size=26)
        img[136:138, x0 + 27:x0 + 90] = 0
    t = _grid_of(img).tables[0]
    assert (t.n_rows, t.n_cols) == (2, 4)
    assert all(c.rowspan == 1 for c in t.cells)


def test_a_rule_worn_under_a_merged_cell_does_not_cut_that_cell_along_the_rules_below():
    # 预期目标's text cell spans three columns of the indicator header below it; the
    # rule between them is worn away under the last of those columns (a seal). The
    # merged cell must come out whole, not cut along the header's column rules.
    cols = (100, 250, 450, 650, 850, 1000)
    img = ruled_table(width=1100, height=500, rows=(100, 200, 300, 400), cols=cols,
                      merged={(0, 1, 'r'), (0, 2, 'r')})
    img[195:206, 655:845] = 255
    cells = {(c.row, c.col): c for c in _grid_of(img).tables[0].cells}
    assert cells[(0, 1)].colspan == 3 and cells[(0, 1)].rowspan == 1
    assert [cells[(1, c)].colspan for c in (1, 2, 3)] == [1, 1, 1]


def test_a_wide_cell_whose_bottom_rule_is_worn_at_one_end_is_not_cut_by_the_rules_below():
    # A goals cell over three lattice columns (under a header as wide), its bottom rule
    # worn away over the last: it joins the cell below there. Closing that one worn
    # stretch leaves rectangles; the column rules that run up into it from below must
    # not cut it in three.
    img = ruled_table(width=1200, height=700, rows=(100, 200, 400, 500, 600), cols=(100, 300, 500, 700, 900),
                      merged={(0, 1, 'r'), (0, 2, 'r'), (1, 1, 'r'), (1, 2, 'r'), (1, 3, 'b')})
    t = _grid_of(img).tables[0]
    spans = {(c.row, c.col): (c.rowspan, c.colspan) for c in t.cells}
    assert spans[(1, 1)] == (1, 3)
    assert spans[(2, 3)] == (1, 1)


def test_goal_text_joined_to_a_header_cell_through_a_lost_rule_is_cut_along_that_rule_not_across_its_text():
    # The goal text over the whole table, the indicator header row under it; the rule
    # between them lost over the header's wide cell (三级指标 over two lattice columns),
    # so the goal cell and that header cell join in an L. Cutting along the column
    # rules that run up from below would leave rectangles too, but would cut the goal
    # text's lines; the rule's own line cuts no print.
    img = ruled_table(width=1100, height=560, rows=(100, 300, 360, 460), cols=(100, 250, 400, 550, 700, 1000),
                      merged={(0, 0, 'r'), (0, 1, 'r'), (0, 2, 'r'), (0, 3, 'r'), (1, 2, 'r')})
    for k, y in enumerate((125, 175, 225)):
        img = put_text(img, '根据国家和北京市相关要求，为做好梯度培育工作，开展评价'[k:k + 24], (110, y), size=34)
    for x, label in ((110, '一级指标'), (260, '二级指标'), (480, '三级指标'), (720, '年度指标值')):
        img = put_text(img, label, (x, 312), size=30)
    img[294:307, 402:698] = 255                     # the rule under the goal text, lost
    spans = {(c.row, c.col): (c.rowspan, c.colspan) for c in _grid_of(img).tables[0].cells}
    assert spans[(0, 0)] == (1, 5)
    assert [spans[(1, c)] for c in (0, 1, 2, 4)] == [(1, 1), (1, 1), (1, 2), (1, 1)]


def test_a_rule_that_fades_out_short_of_its_far_wall_is_kept_where_it_crosses_rules():
    # A column rule from the table's top, through two row rules, that fades out 20 mm
    # before the bottom wall: the rows it crosses keep their wall.
    img = ruled_table(width=1200, height=700, rows=(100, 160, 220, 280, 560), cols=(100, 400, 700, 1000))
    img[272:562, 396:405] = 255
    t = _grid_of(img).tables[0]
    spans = {(c.row, c.col): (c.rowspan, c.colspan) for c in t.cells}
    assert all(spans[(r, 0)] == (1, 1) and spans[(r, 1)] == (1, 1) for r in range(3))
    assert spans[(3, 0)] == (1, 2)


def test_a_header_cells_wall_worn_through_below_its_first_line_still_parts_it():
    # The stub left at the top (6 mm, too short to be a rule by itself) meets the table's
    # top rule, and the column rule goes on below the gap: one broken rule.
    img = ruled_table(width=1200, height=700, rows=(100, 190, 260), cols=(100, 400, 700, 1000))
    img[150:192, 396:405] = 255
    t = _grid_of(img).tables[0]
    spans = {(c.row, c.col): (c.rowspan, c.colspan) for c in t.cells}
    assert spans[(0, 0)] == (1, 1) and spans[(0, 1)] == (1, 1)


def test_a_lone_wall_whose_corner_is_worn_away_frames_its_row():
    # A 总分 row alone on a continued page, every wall but the right one worn to stubs
    # and the bottom rule broken 10 mm short of that wall: the wall's free end lies on
    # the broken rule's line, so it is a wall and the row is a table.
    page = np.full((400, 1400), 255, np.uint8)
    page[100:103, 100:1300] = 0
    page[190:193, 100:1220] = 0            # bottom rule broken at 1220-1250
    page[190:193, 1250:1300] = 0
    page[100:193, 1297:1300] = 0           # the right wall
    page[100:130, 1000:1003] = 0           # stubs of the inner walls
    page[100:125, 1100:1103] = 0
    ink = (page < 128).astype(np.uint8) * 255
    found = grid.find_tables(CleanPage(number=1, gray=page, ink=ink, dpi=200, angle=0.0))
    assert len(found.tables) == 1
    x0, y0, x1, y1 = found.tables[0].bbox
    assert x0 <= 105 and x1 >= 1295 and y0 <= 103 and y1 >= 188


def test_a_stroke_ending_in_mid_cell_off_any_rule_line_is_no_wall():
    # The same row with its right wall ending 3 mm above the bottom rule's line: a
    # stroke that stops short is no wall, and a row with no wall is no table.
    page = np.full((400, 1400), 255, np.uint8)
    page[100:103, 100:1300] = 0
    page[190:193, 100:1220] = 0
    page[100:167, 1297:1300] = 0
    ink = (page < 128).astype(np.uint8) * 255
    found = grid.find_tables(CleanPage(number=1, gray=page, ink=ink, dpi=200, angle=0.0))
    assert not found.tables


def test_short_walls_of_a_lone_row_stand_on_its_rules_broken_into_pieces():
    # A 总分 row alone on a page, 10 mm high: its rules broken into pieces, some too
    # short to be rules by themselves; each wall has one end on a long piece and the
    # other on a short piece in the line of a long one. The row is a table.
    page = np.full((400, 1400), 255, np.uint8)
    page[100:103, 100:350] = 0              # top rule: a short piece, then two long ones
    page[100:103, 380:980] = 0
    page[100:103, 1000:1300] = 0
    page[179:182, 100:550] = 0              # bottom rule: a long piece, then a short one
    page[179:182, 1180:1300] = 0
    page[100:182, 100:103] = 0              # left wall: top end on the short piece
    page[100:182, 1297:1300] = 0            # right wall: bottom end on the short piece
    ink = (page < 128).astype(np.uint8) * 255
    found = grid.find_tables(CleanPage(number=1, gray=page, ink=ink, dpi=200, angle=0.0))
    assert len(found.tables) == 1
    x0, y0, x1, y1 = found.tables[0].bbox
    assert x0 <= 105 and x1 >= 1295 and y0 <= 103 and y1 >= 178


def test_walls_of_a_lone_row_lower_than_a_rule_is_long_stand_on_its_broken_top_rule():
    # A 总分 row alone on a page (a held-out hard scan at 150 dpi), 8 mm high: its walls
    # shorter than a rule must be, its top rule in pieces, the first too short to be a
    # rule by itself. Each wall stands on the bottom rule and ends on the top rule's
    # line: the row is a table.
    page = np.full((400, 1400), 255, np.uint8)
    page[100:103, 100:250] = 0              # top rule: a short piece, a long one, a short one
    page[100:103, 280:1150] = 0
    page[100:103, 1180:1300] = 0
    page[161:164, 100:1300] = 0             # bottom rule, 8 mm below
    for x in (100, 1100, 1200, 1297):       # left wall, inner walls, right wall
        page[100:164, x:x + 3] = 0
    ink = (page < 128).astype(np.uint8) * 255
    found = grid.find_tables(CleanPage(number=1, gray=page, ink=ink, dpi=200, angle=0.0))
    assert len(found.tables) == 1
    x0, y0, x1, y1 = found.tables[0].bbox
    assert x0 <= 105 and x1 >= 1295 and y0 <= 103 and y1 >= 160
    assert found.tables[0].n_cols == 3


def test_a_lone_rows_wall_reaches_its_broken_top_rule_through_a_piece_too_short_to_be_a_rule():
    # A 总分 row alone on a page (a hard scan at 150 dpi in another font), 10 mm high:
    # its top rule's corner worn away, then a piece too short to be a rule, then long
    # pieces; the left wall's top end is farther from the first long piece than a gap
    # in a rule, but reaches it over the short piece. Its right wall is worn to stubs.
    page = np.full((400, 1400), 255, np.uint8)
    page[100:103, 167:217] = 0              # top rule: corner lost, a short piece, long ones
    page[100:103, 270:977] = 0
    page[100:103, 1038:1300] = 0
    page[179:182, 100:1300] = 0             # bottom rule
    page[100:182, 100:103] = 0              # left wall
    page[100:135, 1297:1300] = 0            # right wall: a stub hanging from the top rule
    ink = (page < 128).astype(np.uint8) * 255
    found = grid.find_tables(CleanPage(number=1, gray=page, ink=ink, dpi=200, angle=0.0))
    assert len(found.tables) == 1
    x0, y0, x1, y1 = found.tables[0].bbox
    assert x0 <= 105 and x1 >= 1295 and y0 <= 103 and y1 >= 178


def _dotted_vertical(img, x, y0, y1, dot=2, step=5):
    """Replace the wall at x between y0 and y1 with a line of dots (a thin rule on a
    1-bit fax: dots of `dot` px every `step` px, 0.4 mm gaps at 200 dpi)."""
    img[y0 + 3:y1 - 2, x - 3:x + 4] = 255
    for y in range(y0 + 3, y1 - 2, step):
        img[y:y + dot, x - 1:x + 1] = 0
    return img


def test_a_wall_printed_as_a_line_of_dots_parts_its_cells():
    img = _dotted_vertical(ruled_table(), 400, 100, 500)
    t = _grid_of(img).tables[0]
    assert (t.n_rows, t.n_cols) == (4, 3)
    assert len(t.cells) == 12


def test_a_dotted_wall_of_one_row_stands_under_a_wall_of_the_rows_below():
    # Only the header row's wall is dotted; the same column's wall is solid below.
    img = _dotted_vertical(ruled_table(), 700, 100, 200)
    t = _grid_of(img).tables[0]
    assert _cell_at(t, 550, 150).bbox == [400, 100, 700, 200]


def test_wrapped_text_stacked_in_a_merged_cell_makes_no_dotted_wall():
    # A cell merged over the middle rows, filled with lines of 中 whose upright strokes
    # stand one under another with gaps narrower than a dotted rule's.
    merged = {(1, 1, 'b'), (2, 1, 'b')}
    img = ruled_table(merged=merged)
    for y in range(205, 470, 33):
        img = put_text(img, "中中中中中中中中中", (408, y), size=28)
    t = _grid_of(img).tables[0]
    assert _cell_at(t, 550, 350).bbox == [400, 200, 700, 500]


def _golden_page_ink(name: str) -> CleanPage:
    """A whole page's ink mask, cleaned, from a generated rough scan (tests/golden/grid/)."""
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'golden', 'grid', name)
    ink = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    return CleanPage(number=1, gray=255 - ink, ink=ink, dpi=200)


def test_a_tall_tables_walls_broken_between_its_sections_still_frame_it():
    # Faint ink broke every wall of a three-section form where the sections meet (the
    # left frame stops at the goals block, the others run a section or two each): no
    # piece runs most of the table's height. Bridged as the rules across are, they do.
    found = grid.find_tables(_golden_page_ink('walls_broken_between_sections_ink.png'))
    assert len(found.tables) == 1
    x0, y0, x1, y1 = found.tables[0].bbox
    assert y0 < 260 and y1 > 1980 and x0 < 190 and x1 > 1470
    assert found.tables[0].n_rows >= 12


def test_top_rows_joined_to_the_table_only_through_a_lost_wall_are_one_table_with_it():
    # The name rows' rules and the right of the funds block make one rule network, the
    # rest of the form (its left frame lost up there) another: their boxes overlap,
    # and each read as a table held the rows they share.
    found = grid.find_tables(_golden_page_ink('top_rows_apart_from_the_rest_ink.png'))
    assert len(found.tables) == 1
    x0, y0, x1, y1 = found.tables[0].bbox
    assert y0 < 320 and y1 > 1900


def test_overlapping_rule_networks_merge_and_apart_ones_do_not():
    regions = [[100, 100, 500, 300], [80, 250, 520, 900], [600, 100, 900, 300], [100, 1000, 500, 1100]]
    assert sorted(grid._merge_overlapping(regions)) == [[80, 100, 520, 900], [100, 1000, 500, 1100],
                                                        [600, 100, 900, 300]]
    # A corner touching is no overlap.
    assert len(grid._merge_overlapping([[0, 0, 100, 100], [95, 95, 300, 300]])) == 2


def test_a_characters_upright_over_a_column_wall_below_is_no_wall_through_the_text():
    # A value cell across a column whose wall the rows below carry: the upright of a
    # character (术) stands on that wall's line, 2 mm over its top, and the rule mask's
    # closing bridged the two. A stroke with print on both sides is no wall: the cell
    # stays whole (before, the wall ran up through the text and took the 术 with it).
    img = ruled_table(cols=(100, 400, 700), merged={(0, 0, 'r')})
    img = put_text(img, '科学技术和信息', (281, 152), size=34)       # 术's upright on x = 400
    t = _grid_of(img).tables[0]
    assert _cell_at(t, 250, 150).bbox == [100, 100, 700, 200]
    assert _cell_at(t, 250, 250).bbox == [100, 200, 400, 300]


def _worn_remnants(img, x0, y0, x1, y1, piece=6, step=20):
    """Short pieces of a rule worn away between (x0, y0) and (x1, y1) (one of them
    level): too short and far apart to be a rule or a dotted one."""
    if x0 == x1:
        for y in range(y0 + 10, y1 - 10, step):
            img[y:y + piece, x0 - 1:x0 + 1] = 0
    else:
        for x in range(x0 + 10, x1 - 10, step):
            img[y0 - 1:y0 + 1, x:x + piece] = 0
    return img


@pytest.mark.parametrize('merged, worn, texts, cells', [
    # The last row's wall between its first two cells worn away (the rule above it
    # stands, pieces of it remain): '成本指标' and '经济成本' are two cells, not one.
    ((2, 0, 'r'), (400, 300, 400, 400), [('成本指标', (160, 335)), ('经济成本', (460, 335))],
     [((250, 350), [100, 300, 400, 400]), ((550, 350), [400, 300, 700, 400])]),
    # The rule under the middle cell of row 1 worn away (the rules left and right of
    # it stand, pieces of it remain): '不少于7次' and '达标' are two rows' values.
    ((1, 1, 'b'), (400, 300, 700, 300), [('不少于7次', (460, 235)), ('达标', (520, 335))],
     [((550, 250), [400, 200, 700, 300]), ((550, 350), [400, 300, 700, 400])]),
])
def test_a_rule_lost_over_a_whole_cell_between_two_texts_still_parts_them(merged, worn, texts, cells):
    img = _worn_remnants(ruled_table(merged={merged}), *worn)
    for text, at in texts:
        img = put_text(img, text, at)
    t = _grid_of(img).tables[0]
    for (x, y), bbox in cells:
        assert _cell_at(t, x, y).bbox == bbox


def test_a_sound_tables_header_cell_printed_as_two_lines_beside_two_rows_stays_whole():
    # 核算 over 方式 in one header cell, each line level with a row of the header beside
    # it (持股比例 over 直接 | 间接): on a table whose rules are sound, with no remnant of
    # a rule between them, the cell is one (cTDaR t10003).
    img = ruled_table(merged={(0, 2, 'b')})
    img = put_text(img, '核算', (820, 135))
    img = put_text(img, '方式', (820, 235))
    t = _grid_of(img).tables[0]
    assert _cell_at(t, 850, 150).bbox == [700, 100, 1000, 300]


def test_merged_cells_holding_one_text_stay_whole():
    # A cell merged over two rows with its name wrapped over the row line (the lines
    # of a wrapped text stand closer than a rule's clearance), and one merged over two
    # columns with a single centred text: both are merged on the page.
    img = ruled_table(merged={(1, 0, 'b'), (0, 1, 'r')})
    img = put_text(img, '产出指标产', (160, 262))
    img = put_text(img, '出指标', (160, 302))
    img = put_text(img, '实际完成情况', (600, 135))
    t = _grid_of(img).tables[0]
    assert _cell_at(t, 250, 250).bbox == [100, 200, 400, 400]
    assert _cell_at(t, 700, 150).bbox == [400, 100, 1000, 200]


def test_a_cell_cut_at_a_lost_rule_is_cut_where_its_texts_stand_centred():
    # The first column merged over rows 0-3 on the page reads '效益指标' over rows 0-2
    # and '成本指标' in row 3: the rule under row 2 is lost there and in the next column
    # too (it stands in the third). The lines under row 1 and under row 2 both part the
    # two texts; the cut is made where each stands centred in its piece.
    rows = (100, 200, 300, 400, 500)
    img = ruled_table(rows=rows, merged={(0, 0, 'b'), (1, 0, 'b'), (2, 0, 'b'), (2, 1, 'b')})
    img = _worn_remnants(_worn_remnants(img, 100, 400, 400, 400), 400, 400, 700, 400)
    img = put_text(img, '效益指标', (190, 236))
    img = put_text(img, '成本指标', (190, 436))
    t = _grid_of(img).tables[0]
    assert _cell_at(t, 250, 250).bbox == [100, 100, 400, 400]
    assert _cell_at(t, 250, 450).bbox == [100, 400, 400, 500]


@pytest.mark.parametrize('golden, text_mm, at, bbox', [
    # A mild scan (generated): the implementing unit's cell, merged over columns of the
    # rows below, reads '通州区中小企业服务中心' with 州 on one of their lines. The
    # character's uprights stand where a worn rule's remnants would, but level with
    # print, and none stand above or below the name: one cell, the name whole.
    ('name_over_a_column_line_ink.png', 3.175, (1100, 410), [976, 375, 1520, 446]),
    # A hard scan (generated): '组织培训13场，参训595人次，…' in the goal cell, merged
    # over columns of the rows below, with its first comma on one of their lines and a
    # wide blank after it. The comma is print of a line running across: one cell.
    ('goal_text_comma_on_a_column_line_ink.png', 3.429, (1100, 940), [799, 898, 1499, 991]),
])
def test_print_on_a_column_line_of_a_merged_cell_keeps_it_whole(golden, text_mm, at, bbox):
    page = _golden_page_ink(golden)
    page.measures = {'text_mm': text_mm}
    t = grid.find_tables(page).tables[0]
    assert _cell_at(t, *at).bbox == bbox


def test_a_tall_label_printed_a_character_a_line_stays_one_cell():
    # 上 level with the first row beside the cell and 午 at its bottom (a timetable's
    # label, rapidai_tsr wired__table1): cut under 上, 午 would stand far off the
    # middle of its piece. Print is centred in its cell: one cell.
    img = ruled_table(merged={(0, 0, 'b'), (1, 0, 'b'), (2, 0, 'b')})
    img = _worn_remnants(img, 100, 200, 400, 200)
    img = put_text(img, '上', (236, 135))
    img = put_text(img, '午', (236, 455))
    t = _grid_of(img).tables[0]
    assert _cell_at(t, 250, 150).bbox == [100, 100, 400, 500]


def _worn_to_blobs(img, x0, x1, y, blob=(6, 5), step=(10, 22)):
    """A level rule worn to blobs as thick as they are long, in pairs a few pixels
    apart (a 1-bit copy of a faint rule)."""
    for x in range(x0 + 10, x1 - 10, sum(step)):
        for dx in (0, step[0]):
            img[y - blob[1] // 2:y - blob[1] // 2 + blob[1], x + dx:x + dx + blob[0]] = 0
    return img


def test_an_empty_cell_joined_to_the_rows_below_through_lost_rules_is_parted_from_them():
    # The funds block's blank header cell over '年度资金总额' over '其中：当年财政拨款': the
    # rules under the first two are worn to blobs in the first column (they stand in
    # the others, with gaps: a worn copy). The empty cell and the two texts are three
    # cells, not one.
    img = ruled_table(merged={(0, 0, 'b'), (1, 0, 'b')})
    for y in (200, 300):
        img = _worn_to_blobs(img, 100, 400, y)
        img[y - 3:y + 4, 480:500] = img[y - 3:y + 4, 780:800] = 255
    img = put_text(img, '年度资金总额', (165, 235))
    img = put_text(img, '其中：当年财政拨款', (125, 335))
    t = _grid_of(img).tables[0]
    assert _cell_at(t, 250, 150).bbox == [100, 100, 400, 200]
    assert _cell_at(t, 250, 250).bbox == [100, 200, 400, 300]
    assert _cell_at(t, 250, 350).bbox == [100, 300, 400, 400]


def test_a_label_merged_over_rows_with_its_print_centred_keeps_its_empty_rows():
    # '项目资金' printed in the middle of a cell merged over three rows on a worn table
    # (the other rules stand): its empty first and last rows are part of it.
    img = ruled_table(merged={(0, 0, 'b'), (1, 0, 'b')})
    img = _worn_remnants(img, 400, 200, 700, 200, piece=4, step=40)
    img = put_text(img, '项目资金', (195, 235))
    t = _grid_of(img).tables[0]
    assert _cell_at(t, 250, 250).bbox == [100, 100, 400, 400]
