"""Stage 3, grid: CleanPage -> PageGrid (ruled tables as lattices of cells with spans).

1. Ruling lines: morphological opening of the ink with long thin kernels keeps strokes
   far longer than any character stroke; a short closing first bridges broken or faint
   rules. Shorter pieces are kept only where both ends meet a perpendicular rule (a
   short wall between two close rules), which character strokes never do.
2. Tables: connected groups of rules that span a real area.
3. Lattice: the rules' positions, clustered, give row and column edges.
4. Spans: two neighbouring lattice cells belong to one merged cell when no rule
   separates them (less than WALL_COVERAGE of their shared edge is inked).
"""
from __future__ import annotations

import html

import cv2
import numpy as np
from typing import Optional

from models import Cell, CleanPage, PageGrid, Table

# The print's height when the page has no measure of it (a body-text character).
DEFAULT_TEXT_MM = 3.5
WALL_COVERAGE = 0.55
BROKEN_WALL_COVERAGE = 0.2
FADED_WALL_COVERAGE = 0.06


def _mm(dpi: int, millimetres: float) -> int:
    return max(1, int(round(dpi * millimetres / 25.4)))


def ruling_masks(ink: np.ndarray, dpi: int) -> tuple[np.ndarray, np.ndarray]:
    """(horizontal, vertical) masks of rule-like strokes at least ~4 mm long (longer than
    a body-text character's stroke). Only pinholes are bridged before the opening: a
    wider closing would fuse the strokes of neighbouring characters into fake rules.
    Longer breaks in faint rules are bridged later, between whole segments."""
    gap = max(2, _mm(dpi, 0.35))
    run = _mm(dpi, 4.0)
    masks = []
    for horizontal in (True, False):
        shape = (gap, 1) if horizontal else (1, gap)
        bridged = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, shape))
        shape = (run, 1) if horizontal else (1, run)
        opened = cv2.morphologyEx(bridged, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, shape))
        # Join collinear pieces of a broken rule (gaps up to ~2 mm) now that only
        # rule-length strokes are left.
        shape = (_mm(dpi, 2.0), 1) if horizontal else (1, _mm(dpi, 2.0))
        masks.append(cv2.morphologyEx(opened, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, shape)))
    return masks[0], masks[1]


def _segments(mask: np.ndarray, horizontal: bool) -> list[list[int]]:
    """Bounding boxes [x0, y0, x1, y1] of the strokes in a line mask."""
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    out = []
    for i in range(1, n):
        x, y, w, h, _area = stats[i]
        out.append([int(x), int(y), int(x + w - 1), int(y + h - 1)])
    return out


def _touches(mask: np.ndarray, x: int, y: int, reach: int) -> bool:
    h, w = mask.shape
    y0, y1 = max(0, y - reach), min(h, y + reach + 1)
    x0, x1 = max(0, x - reach), min(w, x + reach + 1)
    return bool(mask[y0:y1, x0:x1].any())


def _is_line_shaped(seg, horizontal: bool) -> bool:
    x0, y0, x1, y1 = seg
    length = (x1 - x0 + 1) if horizontal else (y1 - y0 + 1)
    thickness = (y1 - y0 + 1) if horizontal else (x1 - x0 + 1)
    return thickness <= max(12, length // 4)    # else a blob: stamp residue, dense text


# A stroke this many times thicker than the page's usual rule (and THICK_RULE_MM at
# least) is no rule: what is left of a copier's dark border or an edge shadow after
# cleaning (a ragged band 1.5-3 mm thick along the paper's edge) would otherwise frame
# the table with the page and merge it into one cell. A bold frame is at most ~2x.
THICK_RULE_RATIO = 2.5
THICK_RULE_MM = 1.0


def _thickness(seg, horizontal: bool, mask: np.ndarray) -> float:
    """A stroke's mean thickness: its pixels over its length."""
    x0, y0, x1, y1 = seg
    area = int(np.count_nonzero(mask[y0:y1 + 1, x0:x1 + 1]))
    return area / max(1, (x1 - x0 + 1) if horizontal else (y1 - y0 + 1))


def _without_bands(segs, horizontal: bool, mask: np.ndarray, dpi: int) -> list:
    """The strokes less than THICK_RULE_RATIO times as thick as the page's usual rule
    (the median of its long strokes)."""
    long_len = _mm(dpi, RULE_MM)
    thick = [_thickness(s, horizontal, mask) for s in segs]
    usual = [t for s, t in zip(segs, thick) if ((s[2] - s[0]) if horizontal else (s[3] - s[1])) >= long_len]
    if len(usual) < 3:
        return segs
    limit = max(THICK_RULE_RATIO * float(np.median(usual)), dpi * THICK_RULE_MM / 25.4)
    return [s for s, t in zip(segs, thick) if t <= limit]


def _ends(seg, horizontal: bool):
    x0, y0, x1, y1 = seg
    if horizontal:
        yc = (y0 + y1) // 2
        return [(x0, yc), (x1, yc)]
    xc = (x0 + x1) // 2
    return [(xc, y0), (xc, y1)]


def _paint(shape, segs, source: np.ndarray) -> np.ndarray:
    out = np.zeros(shape, dtype=np.uint8)
    for x0, y0, x1, y1 in segs:
        out[y0:y1 + 1, x0:x1 + 1] = source[y0:y1 + 1, x0:x1 + 1]
    return out


# Rule lengths, in millimetres: a stroke this long is a rule wherever it lies (no run
# of text makes one: the forms' longest text strokes are a few characters joined by blur)...
SURE_RULE_MM = 35
# ... one this long is a rule if at least one end meets a rule across it (a broken rule
# keeps one end on its wall; a run of blurred text or a seal's rim ends in mid-cell)...
RULE_MM = 10
# ... and goes on, past its free end, after a gap of at most BROKEN_GAP_MM; a shorter
# one only if both ends meet rules (the wall of a small cell), or if one does and an
# accepted rule goes on past the other after such a gap (the end of a broken rule: a
# header cell's wall worn through below its first line), from this length on.
BROKEN_GAP_MM = 15
RULE_PIECE_MM = 3


# A horizontal stroke shorter than a sure rule and meeting no wall is a rule (or a
# piece of a broken one) only if the print does not run along it: the band beside it (from 2 px, past a
# ragged edge, to 0.6 mm off) is inked along less than this share of its length on
# each side. The bottoms of a line
# of digits filling a narrow cell ('4133.53', blur joining them) make such a stroke.
WALL_SIDE_INK = 0.5


def _side_ink(ink: np.ndarray, seg, horizontal: bool, dpi: int) -> float:
    """The share of the stroke `seg`'s length along which print lies beside it (in a band
    from 2 px, past a ragged edge, to 0.6 mm off), on its more inked side."""
    near = max(2, _mm(dpi, 0.15))
    far = max(near + 1, _mm(dpi, 0.6))
    x0, y0, x1, y1 = seg
    if not horizontal:
        ink, (x0, y0, x1, y1) = ink.T, (y0, x0, y1, x1)
    h = ink.shape[0]
    shares = [0.0]
    for top, bottom in ((y0 - far, y0 - near), (y1 + near, y1 + far)):
        band = ink[max(0, top):max(0, min(h, bottom + 1)), x0:x1 + 1]
        if band.size:
            shares.append(float((band > 0).any(axis=0).mean()))
    return max(shares)


def _print_along(ink: np.ndarray, seg, horizontal: bool, dpi: int) -> bool:
    """Whether print runs along the stroke `seg` on either side (see WALL_SIDE_INK)."""
    return _side_ink(ink, seg, horizontal, dpi) > WALL_SIDE_INK


def accept_rules(h_mask, v_mask, dpi: int, ink: Optional[np.ndarray] = None):
    """Rules are the very long strokes, then, grown from them, long strokes that meet
    an accepted perpendicular rule at one end at least and short ones that meet one at
    both ends. Character strokes and seal rims end in mid-cell, so they stay out; with
    the page's `ink`, so does a short horizontal stroke with print running along it."""
    sure_len, long_len = _mm(dpi, SURE_RULE_MM), _mm(dpi, RULE_MM)
    reach = _mm(dpi, 0.8)
    h_all = _without_bands([s for s in _segments(h_mask, True) if _is_line_shaped(s, True)], True, h_mask, dpi)
    if ink is not None:
        # Not even a piece of a rule: a short stroke that meets no wall and has print
        # along it (the bottoms of a line of digits inside a cell). Neighbouring cells'
        # numbers would chain into a rule. (Text sitting on a rule that runs to a wall
        # keeps the rule.)
        h_all = [s for s in h_all if s[2] - s[0] + 1 >= sure_len
                 or any(_touches(v_mask, x, y, reach) for x, y in _ends(s, True))
                 or not _print_along(ink, s, True, dpi)]
    v_all = _without_bands([s for s in _segments(v_mask, False) if _is_line_shaped(s, False)], False, v_mask, dpi)
    h_ok = _long_chains(h_all, True, dpi, v_all)
    v_ok = _long_chains(v_all, False, dpi, h_all)

    line_tol, gap_reach = _mm(dpi, 1.0), _mm(dpi, BROKEN_GAP_MM)
    piece_len = _mm(dpi, RULE_PIECE_MM)

    def continued(seg, horizontal: bool, end: int, pool) -> bool:
        """Whether the rule goes on past this free end after a gap (a broken rule)."""
        a, b = (0, 2) if horizontal else (1, 3)         # along-axis coordinates
        c = ((seg[1] + seg[3]) / 2) if horizontal else ((seg[0] + seg[2]) / 2)
        for other in pool:
            if other is seg:
                continue
            oc = ((other[1] + other[3]) / 2) if horizontal else ((other[0] + other[2]) / 2)
            if abs(oc - c) > line_tol:
                continue
            if end == 1 and 0 <= other[a] - seg[b] <= gap_reach:
                return True
            if end == 0 and 0 <= seg[a] - other[b] <= gap_reach:
                return True
        return False

    def on_broken_rule(point, horizontal: bool, across, across_pool) -> bool:
        """Whether `point` (a stroke's free end) lies on the line of an accepted rule
        across it, reached from the point over gaps of at most BROKEN_GAP_MM: straight
        to the rule, or through pieces of stroke in its line (a rule broken into pieces,
        not all of them accepted yet; a lone 总分 row's top rule at 150 dpi)."""
        x, y = point
        a, b, c0, c1 = (1, 3, 0, 2) if horizontal else (0, 2, 1, 3)    # along, across coords
        along, at = (y, x) if horizontal else (x, y)

        def centre(seg) -> float:
            return (seg[c0] + seg[c1]) / 2

        rules = [(o[a], o[b]) for o in across if abs(centre(o) - at) <= line_tol]
        if not rules:
            return False
        lines = [centre(o) for o in across]
        pieces = [(p[a], p[b]) for p in across_pool if abs(centre(p) - at) <= line_tol
                  and any(abs(centre(p) - line) <= line_tol for line in lines)]
        lo = hi = along
        while True:
            if any(start - gap_reach <= hi and lo <= end + gap_reach for start, end in rules):
                return True
            near = [(start, end) for start, end in pieces
                    if start - gap_reach <= hi and lo <= end + gap_reach and (start < lo or end > hi)]
            if not near:
                return False
            lo, hi = min([lo] + [s for s, _ in near]), max([hi] + [e for _, e in near])

    def accepted(seg, horizontal: bool, rules, pool, ok, across, across_pool) -> bool:
        length = (seg[2] - seg[0] + 1) if horizontal else (seg[3] - seg[1] + 1)
        on_rule = [_touches(rules, x, y, reach) for x, y in _ends(seg, horizontal)]
        if all(on_rule):
            return True
        if any(on_rule) and length >= piece_len and \
                on_broken_rule(_ends(seg, horizontal)[on_rule.index(False)], horizontal, across, across_pool):
            # A wall whose corner is lost: its free end lies on a broken rule's line (a
            # lone 总分 row's walls are shorter than a rule, its top rule in pieces).
            return True
        if any(on_rule) and length >= piece_len and continued(seg, horizontal, on_rule.index(False), ok):
            return True     # the end of a broken rule: an accepted rule goes on past the gap
        if length < long_len or not any(on_rule):
            return False
        if length >= CROSSING_RULE_SPAN * long_len and _crossings(seg, horizontal, rules, reach) >= 2:
            return True     # a rule whose far end faded out, through two rows or more
        return continued(seg, horizontal, on_rule.index(False), pool)

    for _ in range(4):
        h_rules, v_rules = _paint(h_mask.shape, h_ok, h_mask), _paint(v_mask.shape, v_ok, v_mask)
        new_h = [s for s in h_all if s not in h_ok and accepted(s, True, v_rules, h_all, h_ok, v_ok, v_all)]
        new_v = [s for s in v_all if s not in v_ok and accepted(s, False, h_rules, v_all, v_ok, h_ok, h_all)]
        if not new_h and not new_v:
            break
        h_ok += new_h
        v_ok += new_v
    h_rules, v_rules = _paint(h_mask.shape, h_ok, h_mask), _paint(v_mask.shape, v_ok, v_mask)
    return h_ok, v_ok, h_rules, v_rules


# A thin, faint rule on a 1-bit scan or a fax binarises into a line of dots and dashes
# (gaps up to ~1 mm) that ruling_masks' pinhole bridging leaves in pieces too short to
# be strokes. Bridged over DOTTED_GAP_TEXT along its direction, such a line is a wall
# only where it runs from an accepted rule across it to another (a cell's wall, end to
# end), is inked along DOTTED_INKED of its length, no wider than DOTTED_WIDTH_MM, and
# crosses a rule on its way or goes on a wall found elsewhere on its line (the same
# column's wall in other rows). Wrapped lines of text stacked in a crowded merged cell
# bridge into such strokes too, wall to wall, but cross nothing and stand on no
# column's line.
DOTTED_GAP_TEXT = 0.35       # of the page's text height: ~1.2 mm at 3.5 mm print
DOTTED_INKED = 0.35
DOTTED_WIDTH_MM = 0.8
# A column of digits right-aligned down a table (one under another in every row, the
# rows close) bridges into such a line too, crossing the rules between the rows; the
# rest of each glyph lies beside its strokes. A rule stands clear: the bands beside
# it (as in _print_along) are inked along at most this share of its length.
DOTTED_SIDE_INK = 0.2
# A line of dots is many pieces, none of them a large part of it: at least
# DOTTED_PIECES, the longest at most DOTTED_LONGEST_PIECE of its length. Two digits
# '1' one under another across a thin rule are 3-4 pieces, each a third of the line.
DOTTED_PIECES = 5
DOTTED_LONGEST_PIECE = 0.3


def dotted_walls(ink: np.ndarray, dpi: int, across_rules: np.ndarray, known: np.ndarray,
                 horizontal: bool, text_px: float) -> tuple[list, np.ndarray]:
    """Walls drawn as dotted lines that the rules found so far do not hold: (their
    boxes, their mask). `across_rules` are the accepted rules across them, `known` the
    accepted rules along them; the gap bridged is measured in the page's text height
    `text_px` (a picture of a table with no true resolution keeps its proportions)."""
    gap, run = max(2, int(round(DOTTED_GAP_TEXT * text_px))), _mm(dpi, 4.0)
    shape = (gap, 1) if horizontal else (1, gap)
    # Bridged without the rules across: digits one under another in rows that close
    # would otherwise join through the rule between them.
    apart = ink.copy()
    apart[across_rules > 0] = 0
    bridged = cv2.morphologyEx(apart, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, shape))
    shape = (run, 1) if horizontal else (1, run)
    lines = cv2.morphologyEx(bridged, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, shape))
    reach, widest = _mm(dpi, 0.8), _mm(dpi, DOTTED_WIDTH_MM)
    # Only what the rules found so far leave out: a wall dotted in one row and solid
    # in the rows below is bridged into one line with its solid part.
    across = (1, 2 * reach + 1) if horizontal else (2 * reach + 1, 1)
    lines[cv2.dilate(known, cv2.getStructuringElement(cv2.MORPH_RECT, across)) > 0] = 0
    found, mask = [], np.zeros_like(ink)
    for seg in _segments(lines, horizontal):
        x0, y0, x1, y1 = seg
        width = (y1 - y0 + 1) if horizontal else (x1 - x0 + 1)
        if width > widest:
            continue
        if not all(_touches(across_rules, x, y, reach) for x, y in _ends(seg, horizontal)):
            continue
        box = (slice(y0, y1 + 1), slice(x0, x1 + 1))
        axis = 0 if horizontal else 1
        if float((ink[box] > 0).any(axis=axis).mean()) < DOTTED_INKED:
            continue
        length = (x1 - x0 + 1) if horizontal else (y1 - y0 + 1)
        if length < _mm(dpi, RULE_PIECE_MM):
            continue
        if _crossings(seg, horizontal, across_rules, reach) < 1 and not _on_a_known_line(seg, horizontal, known, reach):
            continue
        if _side_ink(ink, seg, horizontal, dpi) > DOTTED_SIDE_INK:
            continue        # strokes of characters, with the rest of their glyphs beside them
        pieces, longest = _pieces_along(ink[box] > 0, axis)
        if pieces < DOTTED_PIECES or longest > DOTTED_LONGEST_PIECE * length:
            continue        # a few strokes one under another ('1' over '1'), no line of dots
        found.append(seg)
        mask[box] = lines[box]
    return found, mask


def _pieces_along(inked: np.ndarray, axis: int) -> tuple[int, int]:
    """(how many runs of ink, the longest run's length) along a stroke's box, a pixel
    of ink anywhere across it counting (`axis`: the axis across the stroke)."""
    runs = _runs(inked.any(axis=axis))
    return len(runs), max((end - start + 1 for start, end in runs), default=0)


def _on_a_known_line(seg, horizontal: bool, known: np.ndarray, reach: int) -> bool:
    """Whether a rule along `seg`'s line (within `reach` across it) lies anywhere
    outside `seg`'s own span."""
    x0, y0, x1, y1 = seg
    if horizontal:
        band = known[max(0, y0 - reach):y1 + reach + 1, :].any(axis=0)
        return bool(band[:max(0, x0 - reach)].any() or band[x1 + reach + 1:].any())
    band = known[:, max(0, x0 - reach):x1 + reach + 1].any(axis=1)
    return bool(band[:max(0, y0 - reach)].any() or band[y1 + reach + 1:].any())


# A stroke at least this many times RULE_MM long, from a rule at one end, that crosses
# two rules or more on its way is a rule even where its far end faded out: no text
# stroke crosses rules, and a seal's rim is straight for a few millimetres only.
CROSSING_RULE_SPAN = 2


def _crossings(seg, horizontal: bool, rules: np.ndarray, reach: int) -> int:
    """How many accepted rules across it the stroke `seg` crosses between its ends."""
    x0, y0, x1, y1 = seg
    if horizontal:
        along = rules[max(0, y0 - reach):y1 + reach + 1, x0:x1 + 1].any(axis=0)
    else:
        along = rules[y0:y1 + 1, max(0, x0 - reach):x1 + reach + 1].any(axis=1)
    inner = along[reach + 1:len(along) - reach - 1]
    if inner.size == 0:
        return 0
    starts = np.flatnonzero(inner[1:] & ~inner[:-1])
    return int(len(starts) + (1 if inner[0] else 0))


# A faint rule binarises into collinear pieces: pieces on one line (within 1 mm),
# with gaps of at most BROKEN_GAP_MM, that together span SURE_RULE_MM and are inked
# along CHAIN_INKED of it are one rule. Runs of blurred text in neighbouring cells of
# a row leave wider gaps (the cells' padding and walls) and less ink.
CHAIN_INKED = 0.6
CHAIN_PIECE_MM = 2
# The bottoms of numbers filling a row of narrow cells (a wrapped '611.354' over '5' in
# each budget cell, blur joining the digits at 150 dpi) chain the same way, but each
# piece stands inside its cell, this far clear of the walls across its line, with a
# wall in every gap. A faint rule's pieces end anywhere, and mostly on a wall, where
# the ink of the wall across adds to its own.
CHAIN_WALL_CLEAR_MM = 1.0


def _text_in_cells(members, horizontal: bool, across, dpi: int) -> bool:
    """Whether the chained pieces `members` are print in a row of cells rather than a
    broken rule: every piece clear of the strokes `across` its line, one in every gap."""
    a, b = (0, 2) if horizontal else (1, 3)
    c0, c1 = (1, 3) if horizontal else (0, 2)
    line = sum((m[c0] + m[c1]) / 2 for m in members) / len(members)
    tol, clear = _mm(dpi, 1.0), _mm(dpi, CHAIN_WALL_CLEAR_MM)
    walls = [(w[a] + w[b]) / 2 for w in across if w[c0] - tol <= line <= w[c1] + tol]
    members = sorted(members, key=lambda m: m[a])
    if any(m[a] - clear <= w <= m[b] + clear for m in members for w in walls):
        return False
    return all(any(m[b] < w < n[a] for w in walls) for m, n in zip(members, members[1:]))


def _long_chains(segments, horizontal: bool, dpi: int, across=()) -> list:
    """The segments that are, alone or with collinear pieces, a rule of sure length;
    pieces that are print in a row of cells (see _text_in_cells, with the strokes
    `across` their line) are not."""
    sure_len, gap, tol = _mm(dpi, SURE_RULE_MM), _mm(dpi, BROKEN_GAP_MM), _mm(dpi, 1.0)
    a, b = (0, 2) if horizontal else (1, 3)
    centre = (lambda s: (s[1] + s[3]) / 2) if horizontal else (lambda s: (s[0] + s[2]) / 2)
    # Only pieces shorter than a sure rule chain: a run of text strokes that happens to
    # lie on the line of a sound rule (text written across a row line in a merged
    # cell) must not be joined to it.
    pieces = sorted((s for s in segments if _mm(dpi, CHAIN_PIECE_MM) <= s[b] - s[a] + 1 < sure_len),
                    key=lambda s: (centre(s), s[a]))
    out, used = [s for s in segments if s[b] - s[a] + 1 >= sure_len], set()
    for i, seed in enumerate(pieces):
        if i in used:
            continue
        chain, end = [i], seed[b]
        for j in range(i + 1, len(pieces)):
            other = pieces[j]
            if abs(centre(other) - centre(seed)) > tol:
                if centre(other) - centre(seed) > tol:
                    break
                continue
            if j not in used and 0 <= other[a] - end <= gap:
                chain.append(j)
                end = max(end, other[b])
        members = [pieces[k] for k in chain]
        span = max(m[b] for m in members) - min(m[a] for m in members) + 1
        inked = sum(m[b] - m[a] + 1 for m in members)
        if len(members) > 1 and span >= sure_len and inked >= CHAIN_INKED * span \
                and not _text_in_cells(members, horizontal, across, dpi):
            used.update(chain)
            out += [m for m in members if m not in out]
    return out


def _cluster(positions: list[tuple[float, float]], tol: int) -> list[int]:
    """Cluster (position, weight) pairs along one axis; weighted centre of each."""
    if not positions:
        return []
    positions = sorted(positions)
    groups = [[positions[0]]]
    for p in positions[1:]:
        if p[0] - groups[-1][-1][0] <= tol:
            groups[-1].append(p)
        else:
            groups.append([p])
    centres = []
    for g in groups:
        total = sum(w for _, w in g)
        centres.append(int(round(sum(p * w for p, w in g) / total)))
    return centres


def _coverage(mask: np.ndarray, horizontal: bool, at: int, start: int, end: int, band: int) -> float:
    """Fraction of [start, end) along a line at `at` that is inked within ±band."""
    if end - start <= 0:
        return 0.0
    if horizontal:
        strip = mask[max(0, at - band):at + band + 1, start:end]
        hits = strip.any(axis=0)
    else:
        strip = mask[start:end, max(0, at - band):at + band + 1]
        hits = strip.any(axis=1)
    return float(hits.mean()) if hits.size else 0.0


class _Groups:
    """Union-find over the lattice cells (index r * n_cols + c)."""

    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        self.parent[max(ra, rb)] = min(ra, rb)
        return True

    def boxes(self, n_cols: int) -> dict[int, list[int]]:
        """root -> [r0, c0, r1, c1, members] of every group."""
        out: dict[int, list[int]] = {}
        for i in range(len(self.parent)):
            r, c = divmod(i, n_cols)
            b = out.setdefault(self.find(i), [r, c, r, c, 0])
            b[0], b[1], b[2], b[3] = min(b[0], r), min(b[1], c), max(b[2], r), max(b[3], c)
            b[4] += 1
        return out


def _edge_coverage(h_mask, v_mask, rows, cols, band):
    """Inked fraction of every lattice edge: v_cov[r][c] is the wall right of column c
    in row r, h_cov[r][c] the wall below row r in column c."""
    def inner(a: int, b: int) -> tuple[int, int]:
        # Leave out the edge's ends, where the crossing rules would count as ink; on a
        # thin lattice strip leave out less, so some of the edge is still looked at.
        shrink = min(band + 1, max(0, (b - a) // 4))
        return a + shrink, b - shrink

    n_rows, n_cols = len(rows) - 1, len(cols) - 1
    v_cov = [[_coverage(v_mask, False, cols[c + 1], *inner(rows[r], rows[r + 1]), band)
              for c in range(n_cols - 1)] for r in range(n_rows)]
    h_cov = [[_coverage(h_mask, True, rows[r + 1], *inner(cols[c], cols[c + 1]), band)
              for c in range(n_cols)] for r in range(n_rows - 1)]

    # Lattice lines closer than the search band see the same rule: across a thin strip
    # only the line the rule really lies on (narrow look) keeps the wall, else the strip
    # becomes an empty sliver cell that steals the edge of its neighbour's text.
    narrow = 2
    for c in range(1, n_cols - 1):
        if cols[c + 1] - cols[c] <= 2 * band + 2:
            for r in range(n_rows):
                if v_cov[r][c - 1] >= WALL_COVERAGE and v_cov[r][c] >= WALL_COVERAGE:
                    y0, y1 = inner(rows[r], rows[r + 1])
                    left = _coverage(v_mask, False, cols[c], y0, y1, narrow)
                    right = _coverage(v_mask, False, cols[c + 1], y0, y1, narrow)
                    if min(left, right) < WALL_COVERAGE:      # else two real rules
                        v_cov[r][c if left >= right else c - 1] = 0.0
    for r in range(1, n_rows - 1):
        if rows[r + 1] - rows[r] <= 2 * band + 2:
            for c in range(n_cols):
                if h_cov[r - 1][c] >= WALL_COVERAGE and h_cov[r][c] >= WALL_COVERAGE:
                    x0, x1 = inner(cols[c], cols[c + 1])
                    top = _coverage(h_mask, True, rows[r], x0, x1, narrow)
                    bottom = _coverage(h_mask, True, rows[r + 1], x0, x1, narrow)
                    if min(top, bottom) < WALL_COVERAGE:
                        h_cov[r if top >= bottom else r - 1][c] = 0.0
    return v_cov, h_cov


def _open_edges(v_cov, h_cov):
    """The lattice edges with no wall, as (cell a, cell b, bridgeable) with cells as
    (r, c). An edge is bridgeable when the same rule is a wall on both sides of it (a
    break in a rule, or a merged cell in a middle column: only the grid's shape can
    tell which)."""
    n_rows, n_cols = len(v_cov), len(h_cov[0]) if h_cov else len(v_cov[0]) + 1

    def is_wall(cov: float, neighbours: list[float]) -> bool:
        # A worn stretch of a rule: partly inked, and the rule goes on beside it. With
        # the rule sound on both sides, any stretch of rule left on the edge says it
        # is worn, not a merged cell (those leave no rule ink at all).
        if cov >= WALL_COVERAGE:
            return True
        sound = [n >= WALL_COVERAGE for n in neighbours]
        if len(sound) == 2 and all(sound):
            return cov >= FADED_WALL_COVERAGE
        return cov >= BROKEN_WALL_COVERAGE and any(sound)

    edges = []
    for r in range(n_rows):
        for c in range(n_cols - 1):
            around = ([v_cov[r - 1][c]] if r > 0 else []) + ([v_cov[r + 1][c]] if r + 1 < n_rows else [])
            if not is_wall(v_cov[r][c], around):
                bridge = len(around) == 2 and min(around) >= WALL_COVERAGE
                edges.append(((r, c), (r, c + 1), bridge))
    for r in range(n_rows - 1):
        for c in range(n_cols):
            around = ([h_cov[r][c - 1]] if c > 0 else []) + ([h_cov[r][c + 1]] if c + 1 < n_cols else [])
            if not is_wall(h_cov[r][c], around):
                bridge = len(around) == 2 and min(around) >= WALL_COVERAGE
                edges.append(((r, c), (r + 1, c), bridge))
    return edges


# An open lattice edge "cuts print" where print crosses its line over PRINT_CUT_MM or
# more of it in all: ink on the line (within PRINT_CUT_REACH px) and PRINT_CUT_OFF_MM off
# it on both sides, as the strokes of a line of text running across it have (a worn
# rule's remnants lie along the line only; print beside a rule lies on one side of it).
PRINT_CUT_MM = 0.5
PRINT_CUT_REACH = 1
PRINT_CUT_OFF_MM = 0.8


def _crossing(ink: np.ndarray, horizontal: bool, at: int, start: int, end: int, off: int) -> int:
    """How many pixels of [start, end) along the line at `at` have ink on the line and
    `off` px off it on both sides."""
    if end - start <= 0:
        return 0
    if not horizontal:
        ink = ink.T
    if at - off < 0 or at + off >= ink.shape[0]:
        return 0

    def inked(y: int) -> np.ndarray:
        return (ink[max(0, y - PRINT_CUT_REACH):y + PRINT_CUT_REACH + 1, start:end] > 0).any(axis=0)
    return int((inked(at) & inked(at - off) & inked(at + off)).sum())


def _spans(h_mask, v_mask, rows: list[int], cols: list[int], band: int,
           ink: Optional[np.ndarray] = None, dpi: int = 200, text_px: Optional[float] = None
           ) -> tuple[list[Cell], float]:
    """Merge lattice cells not separated by a rule; return rectangular cells.

    Merged cells must be rectangles with no rule inside. Where opening every wall-less
    edge gives a group that is not one, or one a sound rule runs into, the culprit is
    usually a break in a rule: the open edges on that rule's line, and those where the
    rule runs on at both sides, are closed again first; only what is still not a
    rectangle is grown to its bounding box. With the page's `ink`, of two ways to close
    a group into rectangles the one that cuts no line of print is taken (a rule is
    never printed across text); with the page's text height too, a merged cell is cut
    again where a rule lost over its whole span parts two texts (_split_at_lost_rules)."""
    n_rows, n_cols = len(rows) - 1, len(cols) - 1
    v_cov, h_cov = _edge_coverage(h_mask, v_mask, rows, cols, band)
    edges = _open_edges(v_cov, h_cov)
    text, cut_off, cut_length = None, 0, 0
    if ink is not None:
        cut_off = max(PRINT_CUT_REACH + 2, _mm(dpi, PRINT_CUT_OFF_MM))
        cut_length = max(3, _mm(dpi, PRINT_CUT_MM))
        rules = cv2.dilate(cv2.bitwise_or(h_mask, v_mask), np.ones((2 * band + 1, 2 * band + 1), np.uint8))
        text = cv2.bitwise_and(ink, cv2.bitwise_not(rules))

    def cuts_print(ra, ca, rb, cb) -> bool:
        if text is None:
            return False
        if rb > ra:         # the wall below (ra, ca)
            crossing = _crossing(text, True, rows[rb], cols[ca] + band, cols[ca + 1] - band, cut_off)
        else:
            crossing = _crossing(text, False, cols[cb], rows[ra] + band, rows[ra + 1] - band, cut_off)
        return crossing >= cut_length

    def group(use) -> _Groups:
        groups = _Groups(n_rows * n_cols)
        for (ra, ca), (rb, cb), bridge in edges:
            if use(ra, ca, rb, cb, bridge):
                groups.union(ra * n_cols + ca, rb * n_cols + cb)
        return groups

    def inner_walls(r0, c0, r1, c1, through: bool) -> tuple[set, set]:
        # A sound rule that enters a merged cell from outside it: the cell was joined
        # round the end of that rule through a worn stretch of it, not merged on the
        # page. (A stroke wholly inside the cell, a line of text underscored by its
        # glyphs, is no such sign.) Returns the lattice lines the rules lie on; with
        # `through`, only rules that enter from both sides (they cross the cell).
        def wall(cov, i, j):
            return 0 <= i < len(cov) and 0 <= j < len(cov[i]) and cov[i][j] >= WALL_COVERAGE
        join = (lambda a, b: a and b) if through else (lambda a, b: a or b)
        rows_ = {r for r in range(r0, r1)
                 if join(wall(h_cov, r, c0) and wall(h_cov, r, c0 - 1), wall(h_cov, r, c1) and wall(h_cov, r, c1 + 1))}
        cols_ = {c for c in range(c0, c1)
                 if join(wall(v_cov, r0, c) and wall(v_cov, r0 - 1, c), wall(v_cov, r1, c) and wall(v_cov, r1 + 1, c))}
        return rows_, cols_

    def closes(ra, ca, rb, cb, wall_rows, wall_cols) -> bool:
        return (rb > ra and ra in wall_rows) or (cb > ca and ca in wall_cols)

    def closed_pieces(members: set, wall_rows, wall_cols, kept) -> Optional[tuple[int, int]]:
        """(how many of the edges it closes cut print, how many it closes) when
        closing the given rule lines in a group leaves every piece a rectangle; None
        when one is not."""
        pieces, closed, cut = _Groups(n_rows * n_cols), 0, 0
        for (ra, ca), (rb, cb), bridge in edges:
            a, b = ra * n_cols + ca, rb * n_cols + cb
            if a not in members or b not in members or not kept(ra, ca, rb, cb, bridge):
                continue
            if bridge or closes(ra, ca, rb, cb, wall_rows, wall_cols):
                closed += 1
                cut += cuts_print(ra, ca, rb, cb)
            else:
                pieces.union(a, b)
        boxes = pieces.boxes(n_cols)
        for root, (r0, c0, r1, c1, n) in boxes.items():
            if root in members and n != (r1 - r0 + 1) * (c1 - c0 + 1):
                return None
        return cut, closed

    def step_lines(members: set, r0, c0, r1, c1) -> tuple[set, set]:
        """The lattice lines inside a group's box along which a sound rule bounds the
        group at one place while the group runs across the line at another: an
        L-shaped group whose step is a rule broken beside it (the rule under the goal
        text lost over the header cells under it)."""
        def member(r, c):
            return r * n_cols + c in members
        rows_ = {r for r in range(r0, r1)
                 if any(member(r, c) and member(r + 1, c) for c in range(c0, c1 + 1))
                 and any(member(r, c) != member(r + 1, c) and h_cov[r][c] >= WALL_COVERAGE
                         for c in range(c0, c1 + 1))}
        cols_ = {c for c in range(c0, c1)
                 if any(member(r, c) and member(r, c + 1) for r in range(r0, r1 + 1))
                 and any(member(r, c) != member(r, c + 1) and v_cov[r][c] >= WALL_COVERAGE
                         for r in range(r0, r1 + 1))}
        return rows_, cols_

    def repaired(groups: _Groups, through: bool, kept):
        """The groups again, with the open edges of ragged groups closed on the lines
        of rules that run into them (and where the rule runs on at both sides), and
        the test of which edges stay open. Where closing only the row rules, or only
        the column rules, leaves rectangles, the one that closes fewer edges is taken:
        a text cell whose bottom rule is worn at one end joined the cell below it, and
        the column rules that run up into that cell from below do not cut it."""
        boxes = groups.boxes(n_cols)
        walls = {root: inner_walls(*box[:4], through) for root, box in boxes.items()}
        ragged = {root for root, (r0, c0, r1, c1, n) in boxes.items()
                  if n != (r1 - r0 + 1) * (c1 - c0 + 1) or any(walls[root])}
        if not ragged:
            return groups, kept
        chosen = {}
        for root in ragged:
            wall_rows, wall_cols = walls[root]
            chosen[root] = (wall_rows, wall_cols)
            if through:
                continue
            members = {i for i in range(n_rows * n_cols) if groups.find(i) == root}

            def best(candidates):
                options = [(closed_pieces(members, *option, kept), k, option)
                           for k, option in enumerate(candidates) if option[0] or option[1]]
                options = [o for o in options if o[0] is not None]
                return min(options) if options else None
            found = best([(wall_rows, set()), (set(), wall_cols)] if wall_rows and wall_cols
                         else [(wall_rows, wall_cols)])
            if text is not None and (found is None or found[0][0]):
                # Every way of closing the rules that run into the group cuts a line
                # of print (or none leaves rectangles): the group's own edge may run on
                # as a rule inside its box (an L-shaped group whose step is a rule
                # broken beside it: the rule under the goal text lost over the header
                # cells below it). Closing along that rule is tried as well.
                step_rows, step_cols = step_lines(members, *boxes[root][:4])
                candidates = [(wall_rows, set()), (set(), wall_cols),
                              (wall_rows | step_rows, set()), (set(), wall_cols | step_cols)]
                stepped = best(candidates)
                if stepped is not None and (stepped[0] < found[0] if found is not None else not stepped[0][0]):
                    found = stepped
            if found is not None:
                chosen[root] = found[2]

        def keep(ra, ca, rb, cb, bridge) -> bool:
            if not kept(ra, ca, rb, cb, bridge):
                return False
            root = groups.find(ra * n_cols + ca)
            if root not in ragged:
                return True
            if closes(ra, ca, rb, cb, *chosen[root]):
                return False        # on the line of a rule that runs through the cell
            return not bridge
        return group(keep), keep

    # Rules that cross a ragged group first: a rule worn through the middle of its run
    # (a seal over it) is surely one; then rules that only run into it. (Closing a rule
    # that only runs in from below through the whole group would cut a merged cell
    # above the worn rule in two.)
    groups, kept = repaired(group(lambda *_: True), True, lambda *_: True)
    groups, _ = repaired(groups, False, kept)

    changed = True
    while changed:
        changed = False
        for root, (r0, c0, r1, c1, _n) in groups.boxes(n_cols).items():
            for r in range(r0, r1 + 1):
                for c in range(c0, c1 + 1):
                    changed |= groups.union(root, r * n_cols + c)
    # How solid the rules are: the mean inked share of the edges that hold any rule.
    covered = [v for row in v_cov + h_cov for v in row if v >= FADED_WALL_COVERAGE]
    boxes = [tuple(box[:4]) for box in groups.boxes(n_cols).values()]
    if text is not None and text_px:
        worn = bool(covered) and float(np.mean(covered)) < LOST_RULE_WORN_TABLE
        boxes = _split_at_lost_rules(boxes, v_cov, h_cov, rows, cols, band, text, text_px, worn)
    cells = [Cell(row=r0, col=c0, rowspan=r1 - r0 + 1, colspan=c1 - c0 + 1,
                  bbox=[cols[c0], rows[r0], cols[c1 + 1], rows[r1 + 1]])
             for r0, c0, r1, c1 in boxes]
    cells.sort(key=lambda cell: (cell.row, cell.col))
    return cells, (float(np.mean(covered)) if covered else 0.0)


# A merged cell that a rule of the row above or below (a column rule) or of the column
# left or right (a row rule) would cut, with print on both sides of that rule's line
# and no line of print running across it, is two cells whose rule was lost (worn
# away, or wiped with a strip of the copy: '成本指标 | 经济成本指标' read as one cell). A
# cell merged on the page holds one text, centred, or text that runs across the line.
# - A line of print runs across where print stands on both sides of the line, level
#   with each other, less than LOST_RULE_GAP text heights apart across a column line
#   (a full-width comma and the blank after it leave ~0.8; two cells' texts stand two
#   paddings apart, 1.5 and more), or LOST_RULE_GAP_DOWN across a row line (the lines
#   of a wrapped text stand 0.2-0.5 apart; two rows' wrapped names in tight rows 0.7).
# - Left out: a worn rule's remnants (pieces within the search band of the line, along
#   it, at most LOST_RULE_THIN text heights thick, or bars up to LOST_RULE_BAR thick
#   and three times longer than thick: a comma on the line is print) and specks
#   (under LOST_RULE_SPECK text heights across).
# - Print: ink LOST_RULE_PRINT text heights across.
# - Each piece's print stands centred in it, off its middle by at most
#   LOST_RULE_CENTRED of its span (a form prints a cell's text centred; a tall label
#   printed a character a line, 上 level with the first row beside it and 午 at the
#   bottom, is one cell).
# - On a table whose rules are sound (their edges' mean inked share at least
#   LOST_RULE_WORN_TABLE: a clean scan or a digital page) only a line with remnants of
#   a rule on it is cut (LOST_RULE_REMNANT text heights of them along it, in all, where
#   no print is level with them): a header cell printed as two lines spaced to the two
#   rows beside it (核算 over 方式 beside 持股比例 over 直接 | 间接, cTDaR t10003) is one.
LOST_RULE_GAP = 1.2
LOST_RULE_GAP_DOWN = 0.6
LOST_RULE_THIN = 0.15
LOST_RULE_BAR = 0.35
LOST_RULE_SPECK = 0.2
LOST_RULE_PRINT = 0.4
LOST_RULE_WORN_TABLE = 0.99
LOST_RULE_CENTRED = 0.2
LOST_RULE_REMNANT = 0.5
REMNANT_IN_LINE = 3         # px: a remnant's middle off the line its others lie on
# A merged cell whose print stands off its middle by more than EMPTY_END_OFF of its
# span, wholly in some of its lattice rows, centred in those within half that, with a
# rule right beside the cell on the line that parts them from the empty rest (and, on a
# table whose rules are sound, remnants of a rule along it): an empty cell (the funds
# block's blank header cell) joined to the cells below it through a rule the copy lost.
# Parted there, the rest is looked at again (年度资金总额 over 其中：当年财政拨款, the rule
# between them lost too). A cell merged on the page holds its print centred in it.
EMPTY_END_OFF = 0.1


def _split_at_lost_rules(boxes: list, v_cov, h_cov, rows: list[int], cols: list[int], band: int,
                         text: np.ndarray, text_px: float, worn: bool = True) -> list:
    """The lattice boxes (r0, c0, r1, c1) of the cells, each cut at the lattice lines
    where a rule was lost (see the notes above LOST_RULE_GAP), until none is. `worn`:
    the table's rules are worn (else a line is cut only where remnants of its rule lie
    on it)."""
    n_rows, n_cols = len(rows) - 1, len(cols) - 1
    level = max(1, int(round(0.3 * text_px)))
    thin = max(3.0, LOST_RULE_THIN * text_px)
    bar = max(2 * thin, LOST_RULE_BAR * text_px)

    def holds_print(part: np.ndarray) -> bool:
        ys, xs = np.nonzero(part)
        return len(xs) > 0 and max(xs.max() - xs.min(), ys.max() - ys.min()) + 1 >= LOST_RULE_PRINT * text_px

    def parted(comps: tuple[np.ndarray, np.ndarray], at: int, gap: float) -> Optional[bool]:
        """Whether the line at `at` across a cell's text (its components' labels and
        stats, the line running along axis 0) has print on both sides and no line of
        print across it: None when not, else whether remnants of a rule lie along it
        (on a table whose rules are not worn, a line without them is not parted
        either)."""
        labels, stats = comps
        if at <= 0 or at + 1 >= labels.shape[1]:
            return None
        x, w, h = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
        y = stats[:, cv2.CC_STAT_TOP]
        speck = np.maximum(w, h) < LOST_RULE_SPECK * text_px
        shaped = (x >= at - band) & (x + w <= at + band + 1) & \
            (((w <= thin) & (h >= w)) | ((w <= bar) & (h >= 3 * w)))
        shaped[0] = False
        # A rule's remnants stand where no print is level with them too (a glyph's
        # upright near the line, 州's, never does); level with print, only those in
        # line with them are the rule's.
        other = ~speck & ~shaped
        other[0] = False
        reach = slice(max(0, at - int(gap)), at + int(gap) + 1)
        by_print = cv2.dilate(other[labels[:, reach]].any(axis=1).astype(np.uint8)[:, None],
                              np.ones((2 * level + 1, 1), np.uint8)).ravel() > 0
        printed = np.concatenate([[0], np.cumsum(by_print)])
        clear = shaped & (printed[y + h] == printed[y])
        remnant = clear.copy()
        if clear.any():
            line_at = float(np.average(x[clear] + w[clear] / 2, weights=h[clear]))
            remnant |= shaped & (np.abs(x + w / 2 - line_at) <= REMNANT_IN_LINE)
        remnants = bool(h[clear].sum() >= LOST_RULE_REMNANT * text_px)
        if not worn and not remnants:
            return None
        keep = ~speck & ~remnant
        keep[0] = False
        on_line = keep & (x < at) & (x + w > at)
        # Pieces of a rule worn to dashes and dots (a 1-bit copy of a faint rule), each
        # within the rule's band and thin across it, tell nothing of print beside them.
        dots = (x >= at - band) & (x + w <= at + band + 1) & (w <= bar)
        for i in np.flatnonzero(on_line):
            # A mark on the line: of a text running across it (a comma, with print
            # level with it close by), or a lone one (a speck clump, a stray dash).
            keep[i] = False
            around = (keep & ~dots)[labels[max(0, y[i] - level):y[i] + h[i] + level,
                                           max(0, x[i] - int(gap)):x[i] + w[i] + int(gap)]]
            if around.any():
                return None
        marks = keep[labels]
        before, after = marks[:, :at], marks[:, at + 1:]
        if not holds_print(before) or not holds_print(after):
            return None
        # Level with each other: each side's print widened along the line by a third of
        # a character, so that two glyphs of one text line share rows.
        grow = np.ones((2 * level + 1, 1), np.uint8)
        before = cv2.dilate(before.astype(np.uint8), grow) > 0
        after = cv2.dilate(after.astype(np.uint8), grow) > 0
        both = before.any(axis=1) & after.any(axis=1)
        if not both.any():
            return remnants
        last = before.shape[1] - 1 - np.argmax(before[both][:, ::-1], axis=1)
        first = np.argmax(after[both], axis=1) + at + 1
        return remnants if ((first - last) >= gap).all() else None

    def glyphs(comps: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """The print without specks and without thin bars (a worn rule's remnants), to
        tell where its texts stand."""
        labels, stats = comps
        w, h = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
        short, long = np.minimum(w, h), np.maximum(w, h)
        keep = (long >= LOST_RULE_SPECK * text_px) & ~((short <= bar) & (long >= 3 * short))
        keep[0] = False
        return keep[labels]

    def off_middle(marks: np.ndarray, start: int, end: int) -> float:
        """How far the print of marks[:, start:end] stands off that span's middle, as
        a share of the span (0: centred)."""
        xs = np.nonzero(marks[:, start:end].any(axis=0))[0]
        return abs((xs[0] + xs[-1]) / 2 - (end - start - 1) / 2) / max(1, end - start) if len(xs) else 0.0

    def row_rule_beside(r: int, c0: int, c1: int) -> bool:
        """Whether a rule stands on the line under lattice row r right beside the cell
        spanning columns c0..c1 (left or right of it)."""
        return (c0 > 0 and h_cov[r][c0 - 1] >= WALL_COVERAGE) or \
            (c1 + 1 < n_cols and h_cov[r][c1 + 1] >= WALL_COVERAGE)

    def lost_rule(r0: int, c0: int, r1: int, c1: int) -> Optional[tuple[str, int]]:
        """The lattice line of the cell where a rule was lost: of several that part
        its texts, the one that leaves each side's print nearest the middle of its
        piece (print is centred in its cell: '效益指标' over two rows, '成本指标' under
        them in one, are parted at the line under the two, not between them)."""
        y0, y1 = rows[r0] + band, rows[r1 + 1] - band
        x0, x1 = cols[c0] + band, cols[c1 + 1] - band
        if y1 - y0 < 2 or x1 - x0 < 2:
            return None
        found, beside = [], False
        _n, labels, stats, _ = cv2.connectedComponentsWithStats(text[y0:y1, x0:x1], connectivity=8)
        across = (labels, stats)
        # The same components seen along the row lines: transposed.
        down = (labels.T, stats[:, [cv2.CC_STAT_TOP, cv2.CC_STAT_LEFT, cv2.CC_STAT_HEIGHT, cv2.CC_STAT_WIDTH,
                                    cv2.CC_STAT_AREA]])
        marks = None
        for c in range(c0, c1):
            # The rule stands right above or below the cell, or further off (the
            # neighbour lost it too: a line of the table whose rule stands somewhere).
            near = (r0 > 0 and v_cov[r0 - 1][c] >= WALL_COVERAGE) or \
                (r1 + 1 < n_rows and v_cov[r1 + 1][c] >= WALL_COVERAGE)
            far = near or any(v_cov[r][c] >= WALL_COVERAGE for r in range(n_rows) if not r0 <= r <= r1)
            at = cols[c + 1] - x0
            remnants = parted(across, at, LOST_RULE_GAP * text_px) if far else None
            if remnants is not None:
                marks = glyphs(across) if marks is None else marks
                off = (off_middle(marks, 0, at), off_middle(marks, at, marks.shape[1]))
                if max(off) <= LOST_RULE_CENTRED:
                    found.append((sum(off), 'col', c))
                    beside |= near or remnants
        for r in range(r0, r1):
            near = row_rule_beside(r, c0, c1)
            far = near or any(h_cov[r][c] >= WALL_COVERAGE for c in range(n_cols) if not c0 <= c <= c1)
            at = rows[r + 1] - y0
            remnants = parted(down, at, LOST_RULE_GAP_DOWN * text_px) if far else None
            if remnants is not None:
                marks = glyphs(across) if marks is None else marks
                off = (off_middle(marks.T, 0, at), off_middle(marks.T, at, marks.shape[0]))
                if max(off) <= LOST_RULE_CENTRED:
                    found.append((sum(off), 'row', r))
                    beside |= near or remnants
        # Cut only where each piece's print stands centred in it, and where the rule
        # stands right beside the cell on one of the lines or its remnants lie along
        # it; then at the best-centred line of them all.
        return min(found)[1:] if found and beside else None

    def empty_end(r0: int, c0: int, r1: int, c1: int) -> Optional[tuple[str, int]]:
        """The row line of a merged cell that parts an empty end of it from its print,
        when its print stands centred in the rest and clearly not in the whole and a
        rule stands beside the cell on that line (see the notes above EMPTY_END_OFF)."""
        y0, y1 = rows[r0] + band, rows[r1 + 1] - band
        x0, x1 = cols[c0] + band, cols[c1 + 1] - band
        if r1 == r0 or y1 - y0 < 2 or x1 - x0 < 2:
            return None
        _n, labels, stats, _ = cv2.connectedComponentsWithStats(text[y0:y1, x0:x1], connectivity=8)
        marks = glyphs((labels, stats))
        # The print of the lattice rows that hold some, away from the lines (a worn
        # rule's remnants) and without the specks of empty rows.
        inner = np.zeros_like(marks)
        printed = []
        for r in range(r0, r1 + 1):
            top, bottom = max(0, rows[r] + band - y0), max(0, rows[r + 1] - band - y0)
            printed.append(holds_print(marks[top:bottom]))
            if printed[-1]:
                inner[top:bottom] = marks[top:bottom]
        if not any(printed):
            return None
        start = r0 + printed.index(True)
        stop = r1 - printed[::-1].index(True)
        if (start, stop) == (r0, r1):
            return None
        whole = off_middle(inner.T, 0, inner.shape[0])
        part = off_middle(inner.T, max(0, rows[start] + band - y0), rows[stop + 1] - band - y0)
        if whole <= EMPTY_END_OFF or part > EMPTY_END_OFF / 2:
            return None

        def remnants(r: int) -> bool:
            # Pieces of the lost rule along the line, thin across it (on a table whose
            # rules are sound, only a line with them is parted).
            at = rows[r + 1] - y0
            y, h, w = stats[:, cv2.CC_STAT_TOP], stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
            along = (y >= at - band) & (y + h <= at + band + 1) & (h <= bar)
            along[0] = False
            return bool(w[along].sum() >= LOST_RULE_REMNANT * text_px)
        lines = ([start - 1] if start > r0 else []) + ([stop] if stop < r1 else [])
        if all(row_rule_beside(line, c0, c1) and (worn or remnants(line)) for line in lines):
            return 'row', lines[0]
        return None

    out, todo = [], list(boxes)
    while todo:
        r0, c0, r1, c1 = todo.pop()
        found = lost_rule(r0, c0, r1, c1) if (c1 > c0 or r1 > r0) else None
        if found is None:
            found = empty_end(r0, c0, r1, c1)
        if found is None:
            out.append((r0, c0, r1, c1))
        elif found[0] == 'col':
            todo += [(r0, c0, r1, found[1]), (r0, found[1] + 1, r1, c1)]
        else:
            todo += [(r0, c0, found[1], c1), (found[1] + 1, c0, r1, c1)]
    return out


def _bridged(h_rules: np.ndarray, h_segs, dpi: int) -> np.ndarray:
    """The horizontal rules with the gaps of broken ones filled in (collinear accepted
    pieces at most BROKEN_GAP_MM apart): a table whose rules are broken at the same
    place top and bottom stays one table, its wall there missing (a 总分 row cut in two
    through its label), rather than two tables side by side."""
    out = h_rules.copy()
    tol, reach = _mm(dpi, 1.0), _mm(dpi, BROKEN_GAP_MM)
    by_x = sorted(h_segs, key=lambda seg: seg[0])
    for i, a in enumerate(by_x):
        ya = (a[1] + a[3]) / 2
        for b in by_x[i + 1:]:
            if b[0] - a[2] > reach:
                break
            if 0 < b[0] - a[2] <= reach and abs((b[1] + b[3]) / 2 - ya) <= tol:
                y = int(round((ya + (b[1] + b[3]) / 2) / 2))
                out[max(0, y - 1):y + 2, a[2]:b[0] + 1] = 255
    return out


def _longest_bridged(h_segs, dpi: int) -> int:
    """The longest horizontal run of collinear rule pieces at most BROKEN_GAP_MM apart
    (what _bridged joins), end to end. Vertical pieces given as (y0, x0, y1, x1)."""
    tol, reach = _mm(dpi, 1.0), _mm(dpi, BROKEN_GAP_MM)
    longest = 0
    by_x = sorted(h_segs, key=lambda seg: seg[0])
    for i, a in enumerate(by_x):
        ya, end = (a[1] + a[3]) / 2, a[2]
        for b in by_x[i + 1:]:
            if b[0] - end > reach:
                break
            if abs((b[1] + b[3]) / 2 - ya) <= tol:
                end = max(end, b[2])
        longest = max(longest, end - a[0] + 1)
    return longest


def _table_regions(h_mask, v_mask, dpi: int) -> list[list[int]]:
    """Boxes of connected rule networks large enough to be a table."""
    joined = cv2.dilate(cv2.bitwise_or(h_mask, v_mask), cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5)))
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    min_side = _mm(dpi, 12)
    regions = []
    for i in range(1, n):
        x, y, w, h, _ = stats[i]
        if w >= min_side and h >= _mm(dpi, 6):
            regions.append([int(x), int(y), int(x + w - 1), int(y + h - 1)])
    return regions


# Two rule networks whose boxes overlap by this share of the smaller one are one table
# whose rules broke apart (a frame's corner or a section's rules worn away): the tables
# of a form stand apart.
REGION_OVERLAP = 0.1


def _merge_overlapping(regions: list[list[int]]) -> list[list[int]]:
    """Regions whose boxes overlap (REGION_OVERLAP of the smaller) as their union:
    tables on a page stand apart, so overlapping rule networks are pieces of one table
    (its top rows joined to the rest only through a lost wall). Read as two, both
    tables held the rows they share."""
    merged = [list(r) for r in regions]
    changed = True
    while changed:
        changed = False
        for i in range(len(merged)):
            for j in range(i + 1, len(merged)):
                a, b = merged[i], merged[j]
                w = min(a[2], b[2]) - max(a[0], b[0])
                h = min(a[3], b[3]) - max(a[1], b[1])
                smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
                if w > 0 and h > 0 and w * h >= REGION_OVERLAP * smaller:
                    merged[i] = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
                    del merged[j]
                    changed = True
                    break
            if changed:
                break
    return merged


# A rule's end piece, cut off from the rest by a gap that ruling_masks' closing bridged,
# no longer than END_PIECE_TEXT text heights and with print beside it on both sides
# along END_PIECE_SIDE_INK of its length (from END_PIECE_NEAR_MM to END_PIECE_FAR_MM
# off), is a character's stroke standing on the rule's line, not the rule: the upright
# of 术 in a value cell, over the column wall of the rows below, made a wall through
# the text (on a clean scan; its character was then taken off as the wall's remnant).
# A wall keeps paper beside it; a worn one's pieces stand beside print on one side at
# most.
END_PIECE_TEXT = 1.5
END_PIECE_SIDE_INK = 0.5
END_PIECE_NEAR_MM = 0.25
END_PIECE_FAR_MM = 1.5


def _trim_text_ends(segs, horizontal: bool, ink: np.ndarray, dpi: int, text_px: float) -> list:
    """The rule segments with any end piece that is a character's stroke (see
    END_PIECE_TEXT) cut off."""
    image = ink.T if horizontal else ink         # rules run down the image's rows
    near, far = max(2, _mm(dpi, END_PIECE_NEAR_MM)), max(3, _mm(dpi, END_PIECE_FAR_MM))
    longest = END_PIECE_TEXT * text_px
    out = []
    for seg in segs:
        x0, y0, x1, y1 = (seg[1], seg[0], seg[3], seg[2]) if horizontal else seg
        runs = _runs((image[y0:y1 + 1, x0:x1 + 1] > 0).any(axis=1))

        def stroke(run) -> bool:
            """A short piece with print beside it on both sides."""
            a, b = y0 + run[0], y0 + run[1]
            if b - a + 1 > longest:
                return False
            sides = [image[a:b + 1, max(0, x0 - far):max(0, x0 - near + 1)], image[a:b + 1, x1 + near:x1 + far + 1]]
            return all(side.size and float((side > 0).any(axis=1).mean()) >= END_PIECE_SIDE_INK for side in sides)
        top, bottom = y0, y1
        if len(runs) >= 2 and stroke(runs[0]):
            top = y0 + runs[1][0]
        if len(runs) >= 2 and stroke(runs[-1]):
            bottom = y0 + runs[-2][1]
        if top >= bottom:
            top, bottom = y0, y1
        out.append([top, x0, bottom, x1] if horizontal else [x0, top, x1, bottom])
    return out


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of True, inclusive."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0] - 1
    return list(zip(starts.tolist(), ends.tolist()))


def find_tables(page: CleanPage) -> PageGrid:
    ink, dpi = page.ink, page.dpi
    h_mask, v_mask = ruling_masks(ink, dpi)
    h_segs, v_segs, h_rules, v_rules = accept_rules(h_mask, v_mask, dpi, ink)
    text_mm = (page.measures or {}).get('text_mm') or DEFAULT_TEXT_MM
    text_px = text_mm * dpi / 25.4
    trimmed_v = _trim_text_ends(v_segs, False, ink, dpi, text_px)
    trimmed_h = _trim_text_ends(h_segs, True, ink, dpi, text_px)
    if trimmed_v != v_segs:
        v_segs, v_rules = trimmed_v, _paint(v_mask.shape, trimmed_v, v_mask)
    if trimmed_h != h_segs:
        h_segs, h_rules = trimmed_h, _paint(h_mask.shape, trimmed_h, h_mask)
    dotted_v, dotted_v_mask = dotted_walls(ink, dpi, h_rules, v_rules, False, text_px)
    dotted_h, dotted_h_mask = dotted_walls(ink, dpi, v_rules, h_rules, True, text_px)
    h_segs, v_segs = h_segs + dotted_h, v_segs + dotted_v
    h_rules, v_rules = cv2.bitwise_or(h_rules, dotted_h_mask), cv2.bitwise_or(v_rules, dotted_v_mask)

    tol = _mm(dpi, 1.0)
    # Rules of different sections may stand a few pixels off one lattice line (and a
    # residual skew moves them): look for a wall anywhere within the clustering reach.
    band = _mm(dpi, 1.5)
    tables = []

    def table_in(x0, y0, x1, y1):
        """The table of one region of rules and its wall coverage, or None."""
        inside_h = [s for s in h_segs if s[0] >= x0 - 2 and s[2] <= x1 + 2 and s[1] >= y0 - 2 and s[3] <= y1 + 2]
        inside_v = [s for s in v_segs if s[0] >= x0 - 2 and s[2] <= x1 + 2 and s[1] >= y0 - 2 and s[3] <= y1 + 2]
        if not inside_h or not inside_v or not _framed(inside_h, inside_v, (x0, y0, x1, y1), ink, dpi):
            return None
        rows = _cluster([((s[1] + s[3]) / 2, s[2] - s[0] + 1) for s in inside_h], tol)
        cols = _cluster([((s[0] + s[2]) / 2, s[3] - s[1] + 1) for s in inside_v], tol)
        # The outer frame may be missing or faint: the region's box closes the lattice.
        if rows[0] - y0 > tol:
            rows.insert(0, y0)
        if y1 - rows[-1] > tol:
            rows.append(y1)
        if cols[0] - x0 > tol:
            cols.insert(0, x0)
        if x1 - cols[-1] > tol:
            cols.append(x1)
        rows = _drop_close(rows, _mm(dpi, 1.5))
        cols = _drop_close(cols, _mm(dpi, 1.5))
        if len(rows) < 2 or len(cols) < 2:
            return None
        cells, coverage = _spans(h_rules, v_rules, rows, cols, band, ink, dpi, text_px)
        return (Table(bbox=[cols[0], rows[0], cols[-1], rows[-1]], row_edges=rows,
                      col_edges=cols, cells=cells), round(coverage, 3))

    plain = _table_regions(h_rules, v_rules, dpi)
    for region in _merge_overlapping(_table_regions(_bridged(h_rules, h_segs, dpi), v_rules, dpi)):
        found = table_in(*region)
        if found is not None:
            tables.append(found)
            continue
        # Bridged into one region that is no table: its pieces as they stood.
        x0, y0, x1, y1 = region
        for piece in plain:
            if piece != region and x0 <= piece[0] and piece[2] <= x1 and y0 <= piece[1] and piece[3] <= y1:
                found = table_in(*piece)
                if found is not None:
                    tables.append(found)
    tables.sort(key=lambda t: (t[0].bbox[1], t[0].bbox[0]))
    h, w = ink.shape
    return PageGrid(width=w, height=h, tables=[t for t, _ in tables], h_lines=h_segs, v_lines=v_segs,
                    wall_coverage=[c for _, c in tables])


def rule_continuity(grid: PageGrid) -> float:
    """The page's rule continuity: its tables' wall coverage, weighted by cell count
    (0 with no table)."""
    if not grid.tables:
        return 0.0
    weights = [len(t.cells) for t in grid.tables]
    coverage = grid.wall_coverage or [1.0] * len(weights)
    return round(float(np.average(coverage, weights=weights)), 3)


# Row-high walls that frame a short table whose outer walls are lost.
ROW_WALLS = 3


def _framed(h_segs, v_segs, box, ink: np.ndarray, dpi: int) -> bool:
    """A table has rules that run across most of it and, between them, mostly paper.
    The strokes of a bold title that touch each other have neither."""
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    if width < _mm(dpi, 20) or height < _mm(dpi, 5):
        return False
    # A rule broken in places runs across as far as its bridged pieces do.
    longest_h = _longest_bridged(h_segs, dpi)
    v_lengths = [s[3] - s[1] + 1 for s in v_segs]
    # Walls: one running most of the height (faint ink breaks a tall table's walls
    # between its sections: pieces each a sure rule, bridged as the rules across are;
    # shorter pieces bridged would make walls of speckle), or (a short table whose
    # outer walls are worn away, its inner ones broken at every row rule) several
    # running a row each.
    sure = _mm(dpi, SURE_RULE_MM)
    longest_v = max(max(v_lengths), _longest_bridged(
        [[s[1], s[0], s[3], s[2]] for s in v_segs if s[3] - s[1] + 1 >= sure], dpi))
    walled = longest_v >= 0.6 * height or sum(n >= 0.4 * height for n in v_lengths) >= ROW_WALLS
    if longest_h < 0.6 * width or not walled:
        return False
    if height < _mm(dpi, 12):
        # Short enough to be a line of big type: a one-row table (a 总分 row alone on
        # a continued page) is mostly paper inside its rules.
        m = _mm(dpi, 1.0)
        inside = ink[y0 + m:y1 - m, x0 + m:x1 - m]
        return inside.size > 0 and float((inside > 0).mean()) < 0.15
    return True


def _drop_close(edges: list[int], min_gap: int) -> list[int]:
    out = []
    for e in edges:
        if out and e - out[-1] < min_gap:
            out[-1] = (out[-1] + e) // 2
        else:
            out.append(e)
    return out


def table_html(table: Table, texts: dict[int, str] | None = None) -> str:
    """The table as an HTML <table> with rowspan/colspan; `texts` maps cell index to
    its text (escaped here: OCR output is untrusted)."""
    texts = texts or {}
    by_row: dict[int, list[tuple[int, Cell]]] = {}
    for index, cell in enumerate(table.cells):
        by_row.setdefault(cell.row, []).append((index, cell))
    out = ['<table border="1">']
    for r in range(table.n_rows):
        out.append('  <tr>')
        for index, cell in sorted(by_row.get(r, []), key=lambda item: item[1].col):
            attrs = ''
            if cell.rowspan > 1:
                attrs += f' rowspan="{cell.rowspan}"'
            if cell.colspan > 1:
                attrs += f' colspan="{cell.colspan}"'
            text = html.escape(texts.get(index, '')).replace('\n', '<br>')
            out.append(f'    <td{attrs}>{text}</td>')
        out.append('  </tr>')
    out.append('</table>')
    return '\n'.join(out)


def draw_overlay(gray: np.ndarray, grid: PageGrid) -> np.ndarray:
    """Debug picture: detected rules (red: horizontal, blue: vertical) and cells
    (green boxes, with row,col and spans) over the cleaned page."""
    canvas = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    canvas = (canvas * 0.6 + 100).astype(np.uint8)
    for x0, y0, x1, y1 in grid.h_lines:
        cv2.rectangle(canvas, (x0, y0), (x1, y1), (0, 0, 255), 2)
    for x0, y0, x1, y1 in grid.v_lines:
        cv2.rectangle(canvas, (x0, y0), (x1, y1), (255, 0, 0), 2)
    for t_index, table in enumerate(grid.tables):
        x0, y0, x1, y1 = table.bbox
        cv2.rectangle(canvas, (x0 - 4, y0 - 4), (x1 + 4, y1 + 4), (0, 160, 255), 2)
        for cell in table.cells:
            cx0, cy0, cx1, cy1 = cell.bbox
            cv2.rectangle(canvas, (cx0 + 3, cy0 + 3), (cx1 - 3, cy1 - 3), (0, 170, 0), 1)
            label = f'{cell.row},{cell.col}'
            if cell.rowspan > 1 or cell.colspan > 1:
                label += f' {cell.rowspan}x{cell.colspan}'
            cv2.putText(canvas, label, (cx0 + 5, cy0 + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 120, 0), 1)
        cv2.putText(canvas, f'table {t_index}: {table.n_rows}x{table.n_cols}', (x0, max(12, y0 - 8)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 100, 255), 2)
    return canvas
