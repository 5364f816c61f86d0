"""Stage 2, preprocess: Page -> CleanPage.

Order matters: stamps are suppressed while colour is still there, light is evened out
before any threshold, specks and copier marks are taken off before anything measures
lines, a page fed sideways or upside down is turned upright before the skew is measured,
and the skew is measured on the ruling lines (the longest straight things on a form) and
undone before the grid stage looks for axis-aligned lines.

Sizes are not fixed pixel kernels: they come from what the page measures (its stroke
width and its text height), so a 150-dpi fax and a 300-dpi colour scan of one form are
cleaned alike.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import cv2
import numpy as np

from extractor.shapes import components_with_holes
from models import CleanPage, Page

MAX_SKEW_DEG = 15.0
STAMP_MIN_SATURATION = 70      # 0-255; scanner tint and grey text stay well below


# OpenCV hue ranges (0-180) of seal inks: red wraps around 0, blue sits near 120.
STAMP_HUES = {'red': ((0, 12), (160, 180)), 'blue': ((85, 140),)}


def suppress_stamps(image: np.ndarray) -> np.ndarray:
    """Gray image with red and blue seals (and coloured pen) lifted off the paper while
    black print under them stays dark (see lift_stamps)."""
    return lift_stamps(image)[0]


# Ink amount (in the ink's own densest channel's optical density) from which a seal's
# stroke is dense enough to hide print under it: lifting it may take the print too.
SEAL_DENSE_INK = 0.6


def lift_stamps(image: np.ndarray) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """(gray, sealed): the gray image with red and blue seals (and coloured pen) lifted
    off the paper while black print under them stays dark, and where a seal's ink lay
    dense (255; None without a seal).

    Seal ink is a coloured filter over the paper (Beer-Lambert): in optical density
    (-log of a channel's brightness) a pixel under the seal is a * s + p, where s is the
    ink's density in each channel (its signature, measured on the page's most saturated
    pixels), a how much ink lies there and p the density of neutral print or paper
    shade under it, the same in every channel. Solving the three channels for a and p
    and keeping p alone leaves the print; dense seal strokes, which a linear lift
    (brightest channel divided back to white) cannot undo, go too."""
    if image.ndim == 2:
        return image, None
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    hue, sat, val = hsv[:, :, 0], hsv[:, :, 1].astype(np.float32), hsv[:, :, 2]
    coloured = (sat > 30) & (val > 60)
    if not coloured.any():
        return gray, None
    sealed = None
    # Densities relative to the page's paper; a neutral offset (shadow, grey paper)
    # falls into p and comes back unchanged.
    paper = max(float(np.percentile(val[::4, ::4], 90)), 1.0)
    paper_gray = float(np.median(gray[::4, ::4]))
    out = gray.astype(np.float32)
    for ranges in STAMP_HUES.values():
        in_hue = np.zeros(hue.shape, bool)
        for lo, hi in ranges:
            in_hue |= (hue >= lo) & (hue < hi)
        group = coloured & in_hue
        strong = group & (sat > STAMP_MIN_SATURATION)
        if int(strong.sum()) < 50:
            continue
        # Chroma is stored at half resolution in a JPEG, so a seal stroke's edges keep
        # too little colour to be told: the zone grows by a few pixels round the ink.
        zone = cv2.dilate(group.astype(np.uint8), np.ones((5, 5), np.uint8))
        # Worked out over the seals' box only (a seal is a small part of a page).
        x, y, w, h = cv2.boundingRect(zone)
        box = (slice(y, y + h), slice(x, x + w))
        zone = zone[box] > 0
        # Densities of the zone's pixels (N x 3), and of the pure ink.
        density = -np.log(np.maximum(image[box][zone].astype(np.float32), 1.0) / paper)
        signature = ink_signature(density[strong[box][zone]])
        ink, under = unmix_ink(density, signature)
        # JPEG keeps colour at half resolution: a thin dense seal stroke comes out dark
        # but nearly grey, as if print lay under it. Its least absorbed channel, less
        # the most ink seen right next to it, tells seal from print: print is dark
        # there too. (Reaching further, a dense star's ink wipes print beside it.)
        ink_map = np.zeros(zone.shape, np.float32)
        ink_map[zone] = ink
        ink_near = cv2.dilate(ink_map, np.ones((3, 3), np.uint8))[zone]
        least = int(np.argmin(signature))
        under = np.minimum(under, density[:, least] - ink_near * signature[least])
        lifted = paper * np.exp(-np.maximum(under, 0.0))
        # Lifted no brighter than the paper round it: a seal stroke whiter than the
        # paper leaves a dark-looking rim for the ink threshold to find.
        region = out[box]
        region[zone] = np.maximum(region[zone], np.minimum(lifted, paper_gray))
        dense = np.zeros(zone.shape, np.uint8)
        dense[zone] = np.where(ink_near >= SEAL_DENSE_INK, 255, 0)
        if dense.any():
            sealed = np.zeros(gray.shape, np.uint8) if sealed is None else sealed
            sealed[box] = np.maximum(sealed[box], dense)
    return out.astype(np.uint8), sealed


def ink_signature(ink_density: np.ndarray) -> np.ndarray:
    """An ink's density in each channel over its largest, from its pure pixels (N x 3)."""
    return np.median(ink_density / np.maximum(ink_density.max(axis=1, keepdims=True), 1e-3), axis=0)


def unmix_ink(density: np.ndarray, signature: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel of N x 3 densities, the least-squares ink amount a >= 0 and neutral
    density p of density = a * signature + p."""
    centred = signature - signature.mean()
    mean = density.mean(axis=1)
    # With p free, a is the projection of the pixel's colour (its densities less their
    # mean) on the signature's; p is the mean density less a times the signature's.
    ink = np.clip((density - mean[:, None]) @ centred / max(float(centred @ centred), 1e-6), 0.0, None)
    return ink, mean - ink * float(signature.mean())


def even_out_light(gray: np.ndarray) -> np.ndarray:
    """Divide by an estimate of the paper's brightness (a large closing removes the
    ink), so shadows and uneven light become white paper again."""
    h, w = gray.shape
    scale = 4
    small = cv2.resize(gray, (max(1, w // scale), max(1, h // scale)), interpolation=cv2.INTER_AREA)
    k = max(15, (min(h, w) // scale) // 40) | 1
    background = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    background = cv2.GaussianBlur(background, (k, k), 0)
    background = cv2.resize(background, (w, h), interpolation=cv2.INTER_LINEAR)
    normalised = gray.astype(np.float32) / np.maximum(background.astype(np.float32), 1.0) * 255.0
    return np.clip(normalised, 0, 255).astype(np.uint8)


def binarise(gray: np.ndarray, dpi: int) -> np.ndarray:
    """Ink mask (255 = ink). A local threshold keeps faint rules and light print; the
    global cut removes the paper grain a local threshold would pick up in empty areas."""
    block = max(15, int(dpi * 0.15)) | 1
    local = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 12)
    not_paper = (gray < 225).astype(np.uint8) * 255
    return cv2.bitwise_and(local, not_paper)


# An ink component more inked than this over its box, and wider and taller than a
# skew segment, is a blob (a table's rules ink a few percent of its box).
SKEW_BLOB_INKED = 0.2


# A rule has paper beside it: a segment with ink this often at SKEW_SIDE_PX (at half
# scale: ~0.75 mm) on either side runs through grain (a shadow's ragged edge), not on a line.
SKEW_SIDE_INK = 0.3
SKEW_SIDE_PX = 3
SKEW_SIDE_SAMPLES = 16


def _side_ink(mask: np.ndarray, segments: np.ndarray, offset: float) -> np.ndarray:
    """Per segment (x0, y0, x1, y1), the inked share of points `offset` px either side."""
    if not len(segments):
        return np.zeros(0)
    p0, p1 = segments[:, :2].astype(np.float32), segments[:, 2:].astype(np.float32)
    d = p1 - p0
    normal = np.stack([-d[:, 1], d[:, 0]], axis=1) / np.maximum(np.hypot(d[:, 0], d[:, 1]), 1)[:, None]
    t = np.linspace(0.05, 0.95, SKEW_SIDE_SAMPLES, dtype=np.float32)[None, :, None]
    along = p0[:, None, :] + t * d[:, None, :]
    h, w = mask.shape
    inked = []
    for side in (-offset, offset):
        pts = np.rint(along + side * normal[:, None, :]).astype(int)
        xs, ys = np.clip(pts[..., 0], 0, w - 1), np.clip(pts[..., 1], 0, h - 1)
        inked.append(mask[ys, xs] > 0)
    return np.concatenate(inked, axis=1).mean(axis=1)


def measure_skew(ink: np.ndarray, dpi: int) -> float:
    """Skew in degrees (positive = counter-clockwise content) from long straight
    segments, horizontal and vertical alike, weighted by their length."""
    scale = 0.5
    small = cv2.resize(ink, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    small = (small > 64).astype(np.uint8) * 255
    min_len = max(40, int(dpi * scale * 1.2))
    # Only ink reaching a quarter of a segment's length can lie on one: characters and
    # specks out, the Hough transform (most of this stage's time) has half the ink to vote.
    n, labels, stats, _ = cv2.connectedComponentsWithStats(small, connectivity=8)
    width, height = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    reach = np.maximum(width, height) >= min_len // 4
    # A blob as wide as tall and densely inked (a copier's shadow or dark border, dithered)
    # is no line: its ragged edge and grain vote for any angle.
    blob = (np.minimum(width, height) >= min_len) & \
        (stats[:, cv2.CC_STAT_AREA] > SKEW_BLOB_INKED * width * height)
    reach &= ~blob
    reach[0] = False
    small = np.where(reach[labels], 255, 0).astype(np.uint8)
    # Coarse angles (0.25°) are enough: refine_skew sharpens the estimate.
    segments = cv2.HoughLinesP(small, 1, math.pi / 720, threshold=min_len,
                               minLineLength=min_len, maxLineGap=max(3, int(dpi * scale * 0.02)))
    if segments is None:
        return 0.0
    segments = segments.reshape(-1, 4)
    segments = segments[_side_ink(small, segments, SKEW_SIDE_PX) <= SKEW_SIDE_INK]
    angles, weights = [], []
    for x0, y0, x1, y1 in segments:
        dx, dy = float(x1 - x0), float(y1 - y0)
        length = math.hypot(dx, dy)
        angle = math.degrees(math.atan2(dy, dx))
        if abs(angle) <= MAX_SKEW_DEG:
            angles.append(angle)
        elif abs(abs(angle) - 90) <= MAX_SKEW_DEG:
            angles.append(angle - 90 if angle > 0 else angle + 90)
        else:
            continue
        weights.append(length)
    if not angles:
        return 0.0
    order = np.argsort(angles)
    cumulative = np.cumsum(np.asarray(weights)[order])
    median = float(np.asarray(angles)[order][np.searchsorted(cumulative, cumulative[-1] / 2)])
    return median


def refine_skew(ink: np.ndarray, estimate: float, span: float = 0.5, step: float = 0.05) -> float:
    """Sharpen a Hough estimate: the angle at which the rows' ink profile is most
    peaked (ruling lines and text baselines fall into single rows) is the skew."""
    scale = 0.5
    small = cv2.resize(ink, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA).astype(np.float32)
    h, w = small.shape
    # The angles tried lie on one grid whatever the estimate: two estimates a hair
    # apart give the same page, not two slightly different straightenings.
    estimate = round(estimate / step) * step
    best, best_score = estimate, -1.0
    for angle in np.arange(estimate - span, estimate + span + 1e-9, step):
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), float(angle), 1.0)
        rotated = cv2.warpAffine(small, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
        profile = rotated.sum(axis=1)
        score = float((profile * profile).sum())
        if score > best_score:
            best, best_score = float(angle), score
    return best


def rotate(image: np.ndarray, angle: float, border: int = 255) -> np.ndarray:
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=border)


# ------------------------------------------------------------------ page measures

@dataclass(frozen=True)
class PageMeasures:
    """Sizes measured on the page's own print, in pixels."""
    stroke_px: float        # median width of a pen stroke
    text_px: float          # median height of a character
    contrast: float         # print darkness against the paper (0-1)


# A form's print keeps this far from the paper's edges (forms leave 15-25 mm; a copier's
# marks hug the edge).
PRINT_MARGIN_MM = 8.0
# What the measures fall back to when a page has too little print: 0.3 mm strokes and
# 3.5 mm characters (the forms' body text), at the page's dpi.
DEFAULT_STROKE_MM = 0.3
DEFAULT_TEXT_MM = 3.5


def _px(dpi: int, mm: float) -> float:
    return dpi * mm / 25.4


def measure_page(gray: np.ndarray, ink: np.ndarray, dpi: int) -> PageMeasures:
    """Stroke width from the lengths of the horizontal ink runs (most runs cross one
    stroke; rules and bars are the long tail the median ignores), counted on the
    components bigger than a speck so that speckle does not shrink it; text height
    from the components of character size; contrast from the gray under the ink."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    areas = stats[:, cv2.CC_STAT_AREA]
    solid = areas >= max(6, int(_px(dpi, 0.35) ** 2))
    solid[0] = False
    on = solid[labels]
    padded = np.zeros((on.shape[0], on.shape[1] + 2), np.int8)
    padded[:, 1:-1] = on
    edges = np.diff(padded, axis=1)
    starts, ends = np.nonzero(edges == 1), np.nonzero(edges == -1)
    runs = ends[1] - starts[1]
    stroke = percentile_of_counts(np.bincount(runs), 50) if runs.size > 200 else _px(dpi, DEFAULT_STROKE_MM)
    stroke = float(np.clip(stroke, 1.0, _px(dpi, 1.2)))
    size = np.maximum(stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH])
    # Character-sized: bigger than a speck or a dot, smaller than a rule or a word blob.
    lo, hi = _px(dpi, 1.8), _px(dpi, 8.0)
    sized = size[(size >= lo) & (size <= hi)]
    # A CJK character is often several components (radicals): the upper quartile is
    # the whole character's height.
    text = float(np.percentile(sized, 75)) if sized.size > 30 else _px(dpi, DEFAULT_TEXT_MM)
    # Gray levels counted, not sorted: a page holds millions of paper pixels.
    dark = cv2.calcHist([gray], [0], on.astype(np.uint8), [256], [0, 256]).ravel().astype(np.int64)
    paper = cv2.calcHist([gray], [0], cv2.bitwise_not(ink), [256], [0, 256]).ravel().astype(np.int64)
    contrast = 0.0
    if dark.sum() > 100 and paper.sum() > 100:
        contrast = float(np.clip((percentile_of_counts(paper, 50) - percentile_of_counts(dark, 20)) / 255.0,
                                 0.0, 1.0))
    return PageMeasures(stroke_px=stroke, text_px=text, contrast=contrast)


def percentile_of_counts(counts: np.ndarray, q: float) -> float:
    """np.percentile(values, q) (linear interpolation) of the integer values whose
    histogram `counts` is (counts[v]: how many values equal v)."""
    cumulative = np.cumsum(counts)
    position = q / 100.0 * (float(cumulative[-1]) - 1)
    below = math.floor(position)
    low = int(np.searchsorted(cumulative, below, side='right'))
    if position == below:
        return float(low)
    high = int(np.searchsorted(cumulative, below + 1, side='right'))
    return low + (high - low) * (position - below)


# ------------------------------------------------------------------ specks, copier marks

@dataclass(frozen=True)
class SpeckParams:
    """A speck is small, compact and alone; each limit relative to the page's measures."""
    # At most this many strokes across (a clump of toner, a single dark pixel): a
    # decimal point is as small, which is why size alone never decides.
    max_size_strokes: float = 2.6
    # ... or at most this share of the text height (a clump of several specks).
    max_size_text: float = 0.3
    # Print that protects a small neighbour: at least this share of the text height.
    anchor_text: float = 0.35
    # Compact: a printed hyphen or dash is at least ~2:1, a speck is round (or no
    # longer than a stroke is wide, where aspect means nothing).
    max_aspect: float = 1.3
    # Alone: no character ink this far along the text line's direction (in text
    # heights; a full-width colon's dots or a 。 stand ~0.6 from their neighbour)...
    alone_along: float = 1.0
    # ... within this far above or below (half a line: punctuation sits on the line).
    alone_across: float = 0.5
    # A dash is at least this share of the text height long (the OCR stage's measure).
    dash_text: float = 0.18
    # ... and longer than high by at least this many strokes, however blurred.
    fat_dash_strokes: float = 0.6


def find_specks(ink: np.ndarray, measures: PageMeasures, params: SpeckParams = SpeckParams(),
                upright: bool = True) -> np.ndarray:
    """Mask (255) of the specks: small, round components with no print near them in
    the way punctuation stands near its characters. Before the page is known to be
    upright (`upright=False`) the text line may run either way, so a neighbour along
    either axis protects."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if n <= 1:
        return np.zeros_like(ink)
    w, h = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    longest, shortest = np.maximum(w, h), np.maximum(np.minimum(w, h), 1)
    fill = stats[:, cv2.CC_STAT_AREA] / np.maximum(w * h, 1)
    # A printed hyphen, even a small font's 6 x 3 px one, is a bar along the line: on a
    # blurred or worn scan a ragged one (its fill says little), and a fat one (the blur
    # widens it at both ends and both sides alike, so its length still exceeds its
    # height by most of a stroke: 10 x 7 px at a 5 px stroke). On a page not yet known
    # to be upright the line may run down it, and a sideways page's dashes stand on end
    # (as long as a dash, at least: a fax's doubled rows stand single specks on end).
    fat = params.fat_dash_strokes * measures.stroke_px
    along = (w >= 1.5 * h) | (w - h >= fat)
    if not upright:
        along |= ((h >= 1.5 * w) | (h - w >= fat)) & (h >= params.dash_text * measures.text_px)
    dash_like = along & (fill >= 0.45)
    compact = ((longest <= max(2.0, measures.stroke_px)) | (longest <= params.max_aspect * shortest)
               | ((longest <= 2 * measures.stroke_px) & ~dash_like))
    # Specks that ran together into a clump are still far smaller than a character.
    limit = max(2.0, params.max_size_strokes * measures.stroke_px, params.max_size_text * measures.text_px)
    # Solid: toner and dust are blobs; a 。 is a ring, which may stand off its
    # characters (behind a closing quote, a whole character's width), and stays.
    solid = ~components_with_holes(ink, labels, n)
    small = (longest <= limit) & compact & solid
    small[0] = False
    # Only print of character size protects a speck-sized neighbour (a decimal point
    # its digits, a colon's dots their characters): clumped specks protect nothing.
    # Rules protect nothing either: a speck beside a rule is still a speck.
    anchors = (longest >= params.anchor_text * measures.text_px) & (longest <= 4 * measures.text_px)
    anchors[0] = False
    anchor_mask = anchors[labels].astype(np.uint8)
    along = max(2, int(round(params.alone_along * measures.text_px)))
    across = along if not upright else max(2, int(round(params.alone_across * measures.text_px)))
    zone = cv2.dilate(anchor_mask, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * along + 1, 2 * across + 1)))
    near = np.bincount(labels[(zone > 0) & (labels > 0)], minlength=n) > 0
    speck = small & ~near
    return (speck[labels]).astype(np.uint8) * 255


@dataclass(frozen=True)
class CopierMarkParams:
    # A border is darker than this on the raw scan (print on a copy is ~40-120, a
    # copier's open-lid border ~0-60) and solid over at least this many millimetres.
    border_gray: int = 90
    border_solid_mm: float = 3.0
    # A streak is inked along this share of the page and in both margins: a form's
    # rules stop at the table, at least `margin_mm` from the paper's edge.
    streak_cover: float = 0.5
    margin_mm: float = PRINT_MARGIN_MM


def find_copier_marks(raw_gray: np.ndarray, ink: np.ndarray, dpi: int,
                      params: CopierMarkParams = CopierMarkParams()) -> 'CopierMarks':
    """Mask (255) of what a copier or scanner adds that is no print: dark borders
    (solid dark masses touching the page edge, far thicker than any stroke) and streaks
    (lines inked along most of the page that run on into both margins). Looked for at a
    quarter of the resolution: both are large."""
    h, w = ink.shape
    q = 0.25
    small_ink = (cv2.resize(ink, None, fx=q, fy=q, interpolation=cv2.INTER_AREA) >= 32).astype(np.uint8) * 255
    dark = (cv2.resize(raw_gray, (small_ink.shape[1], small_ink.shape[0]), interpolation=cv2.INTER_AREA)
            < params.border_gray).astype(np.uint8) * 255
    sh, sw = small_ink.shape
    out = np.zeros_like(small_ink)
    solid = max(3, int(_px(dpi, params.border_solid_mm) * q))
    masses = cv2.morphologyEx(dark, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (solid, solid)))
    if masses.any():
        n, labels, stats, _ = cv2.connectedComponentsWithStats(masses, connectivity=8)
        for i in range(1, n):
            x, y, cw, ch, _area = stats[i]
            if x <= 1 or y <= 1 or x + cw >= sw - 1 or y + ch >= sh - 1:
                out[labels == i] = 255
        if out.any():
            # The border's ragged edge and the texture next to it go with it.
            grown = cv2.dilate(out, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * solid + 1, 2 * solid + 1)))
            out = cv2.bitwise_and(grown, cv2.bitwise_or(small_ink, dark))
    margin = max(2, int(_px(dpi, params.margin_mm) * q))
    on = small_ink > 0
    streaks: list[tuple[bool, int, int]] = []
    if sh > 3 * margin and sw > 3 * margin:
        def inked(strip: np.ndarray, axis: int) -> np.ndarray:
            return _above_floor(strip.mean(axis=axis), params.streak_cover)
        cols = inked(on, 0) & inked(on[:margin], 0) & inked(on[sh - margin:], 0)
        rows = inked(on, 1) & inked(on[:, :margin], 1) & inked(on[:, sw - margin:], 1)
        streaks += [(False, int(a / q) - 2, int(b / q) + 2) for a, b in _runs(cols)]
        streaks += [(True, int(a / q) - 2, int(b / q) + 2) for a, b in _runs(rows)]
    border = np.zeros_like(ink)
    if out.any():
        big = cv2.resize(out, (w, h), interpolation=cv2.INTER_NEAREST)
        border = cv2.bitwise_and(cv2.dilate(big, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5))), ink)
    return CopierMarks(border=border, streaks=streaks)


# ------------------------------------------------------------------ seals without colour

@dataclass(frozen=True)
class RingSealParams:
    """A round seal scanned in grey or 1-bit (its colour gone, so lift_stamps cannot
    take it off) is told by its ring: a circle of official-seal size inked almost all
    the way round. A table's rules meet such a circle only where they cross it, and
    text only here and there (measured: <= 0.4 of the circle; a seal's ring >= 0.8)."""
    min_diameter_mm: float = 34.0
    max_diameter_mm: float = 50.0
    ring_cover: float = 0.6
    # Circles are looked for at this resolution (a ring is ~1 mm thick: still a line).
    search_dpi: float = 50.0
    # The fitted radius is refined this far either side (mm) on the full page.
    refine_mm: float = 1.5


def find_ring_seals(ink: np.ndarray, dpi: int, params: RingSealParams = RingSealParams()
                    ) -> list[tuple[float, float, float, float]]:
    """(cx, cy, r_inner, r_outer) in page pixels of each round seal's ring on the page."""
    q = params.search_dpi / dpi
    small = cv2.GaussianBlur(cv2.resize(ink, None, fx=q, fy=q, interpolation=cv2.INTER_AREA), (3, 3), 0)
    small_px = params.search_dpi / 25.4
    lo, hi = params.min_diameter_mm / 2 * small_px, params.max_diameter_mm / 2 * small_px
    found = cv2.HoughCircles(small, cv2.HOUGH_GRADIENT, dp=1, minDist=lo, param1=60, param2=18,
                             minRadius=int(lo), maxRadius=int(math.ceil(hi)))
    if found is None:
        return []
    h, w = ink.shape
    angles = np.linspace(0, 2 * np.pi, 720, endpoint=False)
    reach = max(2, int(round(params.refine_mm * dpi / 25.4)))
    seals: list[tuple[float, float, float, float]] = []
    for cx, cy, r in found[0][:12]:
        cx, cy, r = _fit_circle(ink, cx / q, cy / q, r / q, reach)
        cover = []
        for rr in np.arange(r - reach, r + reach + 1):
            xs = (cx + rr * np.cos(angles)).astype(int)
            ys = (cy + rr * np.sin(angles)).astype(int)
            on_page = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
            # Only the part of the circle on the page counts (a seal at the edge).
            share = float((ink[ys[on_page], xs[on_page]] > 0).mean()) if on_page.sum() >= 180 else 0.0
            cover.append((rr, share))
        best = max(share for _, share in cover)
        if best < params.ring_cover:
            continue
        ring = [rr for rr, share in cover if share >= 0.5 * best]
        if any(math.hypot(cx - sx, cy - sy) < r for sx, sy, _, _ in seals):
            continue
        seals.append((float(cx), float(cy), float(min(ring)) - 1.0, float(max(ring)) + 1.0))
    return seals


def _fit_circle(ink: np.ndarray, cx: float, cy: float, r: float, reach: int) -> tuple[float, float, float]:
    """The circle through the ink near a rough one (the coarse search is a few pixels
    off): a least-squares fit to the ink within `reach` of it, twice, the second time
    nearer (rules and text crossing the ring are few of those pixels)."""
    h, w = ink.shape
    for band in (reach, max(2, reach // 2)):
        x0, y0 = max(0, int(cx - r - band)), max(0, int(cy - r - band))
        x1, y1 = min(w, int(cx + r + band) + 1), min(h, int(cy + r + band) + 1)
        ys, xs = np.nonzero(ink[y0:y1, x0:x1])
        xs, ys = xs.astype(np.float64) + x0, ys.astype(np.float64) + y0
        near = np.abs(np.hypot(xs - cx, ys - cy) - r) <= band
        if near.sum() < 50:
            break
        xs, ys = xs[near], ys[near]
        # x^2 + y^2 = 2a x + 2b y + c  (Kasa's fit)
        design = np.stack([2 * xs, 2 * ys, np.ones_like(xs)], axis=1)
        (a, b, c), *_ = np.linalg.lstsq(design, xs ** 2 + ys ** 2, rcond=None)
        radius_sq = c + a * a + b * b
        if radius_sq <= 0:
            break
        cx, cy, r = float(a), float(b), float(math.sqrt(radius_sq))
    return cx, cy, r


def lift_ring_seals(gray: np.ndarray, ink: np.ndarray, dpi: int,
                    params: RingSealParams = RingSealParams()) -> Optional[np.ndarray]:
    """Take each grey seal's ring off the page (in place: it reads as strokes glued to
    the values it crosses, '1/51' for 5) and return where its seals lie (255 over each
    disc; None when none): the text and emblem inside cannot be told from print, so
    every value under a seal is to be checked."""
    seals = find_ring_seals(ink, dpi, params)
    if not seals:
        return None
    h, w = ink.shape
    covered = np.zeros((h, w), np.uint8)
    run = max(3, int(round(RULE_RUN_MM * dpi / 25.4)))
    for cx, cy, r_in, r_out in seals:
        x0, y0 = max(0, int(cx - r_out) - 1), max(0, int(cy - r_out) - 1)
        x1, y1 = min(w, int(cx + r_out) + 2), min(h, int(cy + r_out) + 2)
        box = (slice(y0, y1), slice(x0, x1))
        yy, xx = np.ogrid[y0:y1, x0:x1]
        dist = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
        # Rules crossing the ring stay: the grid needs them whole. A rule is a straight
        # run that goes on out of the ring; the ring's own straight bits (about its
        # top and sides) stay inside it.
        part = ink[box]
        band = (dist >= r_in - 2) & (dist <= r_out + 2)
        rules = np.zeros(part.shape, bool)
        for straight in straight_runs(part, run):
            n, labels = cv2.connectedComponents(straight, connectivity=8)
            leaves = np.zeros(n, bool)
            leaves[np.unique(labels[(straight > 0) & ~band])] = True
            leaves[0] = False
            rules |= leaves[labels]
        ring = (dist >= r_in) & (dist <= r_out) & ~rules
        part[ring] = 0
        gray[box][ring] = 255
        covered[box][dist <= r_out] = 255
    return covered


# A straight run this long (mm) that goes on out of a seal's ring is a rule crossing it.
RULE_RUN_MM = 4.0


def _above_floor(cover: np.ndarray, share: float) -> np.ndarray:
    """Lines inked along more than `share` of what their strip's usual line leaves
    uninked. The usual line (the median) is the strip's noise floor: on a page whose
    paper thresholds to speckle everywhere (heavy grain, worn print, a shadowed edge)
    about half of each quarter-size pixel row is ink, and every table rule over that
    passed for a copier's streak and was wiped (the rule under the funds block's header
    among them, merging header and first row). On clean paper the floor is 0."""
    floor = float(np.median(cover))
    return cover > floor + share * (1.0 - floor)


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    edges = np.diff(padded)
    return list(zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]))


@dataclass
class CopierMarks:
    border: np.ndarray                          # mask (255) of dark borders
    streaks: list[tuple[bool, int, int]]        # (horizontal, start, end) bands in pixels


# A streak's own shade along its line is the paper's there: taken as this percentile of
# the line's gray (print and rules cover far less of a line that runs the whole page).
STREAK_PAPER_PERCENTILE = 90


def flatten_streak(gray: np.ndarray, horizontal: bool, start: int, end: int) -> None:
    """Divide a streak band of the gray page (in place) by its own shade, line by line,
    as even_out_light does for the paper: the streak becomes paper and the print over
    it stays, darker than the streak by as much as it was. (Painting the band as paper
    took the print with it: a roller's dozens of faint streaks over a page wiped its
    text in bands.)"""
    if horizontal:
        gray = gray.T                   # a view: rows are worked on as columns
    size = gray.shape[1]
    start, end = max(0, start), min(size, end)
    if end <= start:
        return
    band = gray[:, start:end]
    band[:] = _divided(band, np.percentile(band, STREAK_PAPER_PERCENTILE, axis=0))


def _divided(lines: np.ndarray, shade: np.ndarray) -> np.ndarray:
    """Columns of gray each divided by its shade, so that the shade becomes paper."""
    flat = lines.astype(np.float32) * (255.0 / np.maximum(shade.astype(np.float32), 1.0))[None, :]
    return np.clip(flat, 0, 255).astype(np.uint8)


def lift_streaks(gray: np.ndarray, ink: np.ndarray, streaks: list[tuple[bool, int, int]], dpi: int) -> None:
    """Flatten each streak band of the gray page and find the ink in it again (in
    place); the ink outside the bands stays as it was."""
    if not streaks:
        return
    for horizontal, start, end in streaks:
        flatten_streak(gray, horizontal, start, end)
    fresh = binarise(gray, dpi)
    for horizontal, start, end in streaks:
        band = (slice(max(0, start), end), slice(None)) if horizontal else (slice(None), slice(max(0, start), end))
        ink[band] = fresh[band]
        wipe_streak_line(gray[band], ink[band], horizontal, dpi)


# A streak as dark as print (a 1-bit scan's, broken here and there by the scanner's
# noise) keeps no shade of its own to be divided by: what of it still runs along its band
# this long, gaps up to STREAK_GAP_MM bridged, is painted as paper. No shade tells a
# table rule under it from it on such a page, so that rule goes with it; rules and
# strokes across it lose the streak's width, which the grid bridges and the recogniser
# reads through. (Left, it ran through the title and both margins as a column rule and
# made the whole page one table.)
STREAK_RUN_MM = 40.0
STREAK_GAP_MM = 1.0


def wipe_streak_line(gray: np.ndarray, ink: np.ndarray, horizontal: bool, dpi: int) -> None:
    """Paint as paper (in place, on views of one streak band) the ink that runs along
    the band for STREAK_RUN_MM or more."""
    if horizontal:
        gray, ink = gray.T, ink.T           # views: the streak runs down the columns
    run = int(round(_px(dpi, STREAK_RUN_MM)))
    if ink.shape[0] < run or not ink.any():
        return
    on = (ink > 0).astype(np.uint8)
    gap = max(3, int(round(_px(dpi, STREAK_GAP_MM))))
    bridged = cv2.morphologyEx(on, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, gap)))
    line = cv2.morphologyEx(bridged, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, run)))
    if not line.any():
        return
    # The streak's ragged edge, a pixel either side, goes with it.
    line = cv2.dilate(line, np.ones((1, 3), np.uint8)) & on
    gray[line > 0] = 255
    ink[line > 0] = 0


# Lines of the page (whole columns or rows) shaded darker than the paper all along them,
# into both margins, are a scanner's or copier's (roller and drum streaks, a fax's
# banding): a table's rules stop short of the margins and text fills a small part of
# any line. Looked at where the paper is darker than this after even_out_light.
LINE_SHADE_PAPER = 250
LINE_SHADE_MARGIN_MM = 8.0


def flatten_line_shades(gray: np.ndarray, dpi: int) -> int:
    """Divide every column and every row of the gray page (in place) that is shaded in
    both margins by its own shade (STREAK_PAPER_PERCENTILE of it): streaks of any
    darkness, even dozens side by side that no ink mask shows as lines, become paper;
    print over them stays. Returns how many lines were flattened."""
    margin = max(2, int(_px(dpi, LINE_SHADE_MARGIN_MM)))
    flattened = 0
    for view in (gray, gray.T):             # columns, then rows (a view: in place)
        length = view.shape[0]
        if length <= 3 * margin:
            continue
        ends = np.minimum(np.median(view[:margin], axis=0), np.median(view[length - margin:], axis=0))
        lines = np.flatnonzero(ends < LINE_SHADE_PAPER)
        if not lines.size:
            continue
        # Every fourth pixel along a line is plenty for its shade.
        shade = np.percentile(view[::4, lines], STREAK_PAPER_PERCENTILE, axis=0)
        shaded = shade < LINE_SHADE_PAPER
        lines, shade = lines[shaded], shade[shaded]
        if lines.size:
            view[:, lines] = _divided(view[:, lines], shade)
            flattened += int(lines.size)
    return flattened


def wipe(gray: np.ndarray, ink: np.ndarray, mask: np.ndarray, grow: int = 1) -> None:
    """Paint masked ink as paper in both the gray page and its ink mask (in place)."""
    if not mask.any():
        return
    if grow > 0:
        mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * grow + 1, 2 * grow + 1)))
    gray[mask > 0] = 255
    ink[mask > 0] = 0


# ------------------------------------------------------------------ orientation

HALF = 0.5


def text_only(ink: np.ndarray, measures: PageMeasures) -> np.ndarray:
    """The ink at half resolution with the rules (strokes longer than ~6 characters,
    either way) taken out: the page's text."""
    small = (cv2.resize(ink, None, fx=HALF, fy=HALF, interpolation=cv2.INTER_AREA) > 40).astype(np.uint8) * 255
    run = max(8, int(6 * measures.text_px * HALF))
    rules = cv2.bitwise_or(
        cv2.morphologyEx(small, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (run, 1))),
        cv2.morphologyEx(small, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, run))))
    text = cv2.bitwise_and(small, cv2.bitwise_not(cv2.dilate(rules, np.ones((3, 3), np.uint8))))
    return _without_speckle_fields(text, measures.text_px * HALF)


# A speckle field (the dark patch of a 1-bit scan, a grey copy's toner haze): where
# pieces smaller than a character's stroke cover more than SPECKLE_FIELD_COVER of the
# paper within SPECKLE_FIELD_WINDOW text heights. Print, even a heavily speckled page's,
# stays well under it (its small pieces are dots of characters and a few specks).
SPECKLE_FIELD_COVER = 0.06
SPECKLE_FIELD_WINDOW = 5


def _without_speckle_fields(text: np.ndarray, text_h: float) -> np.ndarray:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(text, connectivity=8)
    if n <= 1:
        return text
    tiny = np.maximum(stats[:, 2], stats[:, 3]) < BAR_CHARACTER * text_h
    tiny[0] = False
    k = max(3, int(SPECKLE_FIELD_WINDOW * text_h)) | 1
    cover = cv2.blur(tiny[labels].astype(np.float32), (k, k))
    field = cover > SPECKLE_FIELD_COVER
    if not field.any():
        return text
    out = text.copy()
    out[field] = 0
    return out


# A bar is a line of text only when it holds strokes of a character's size (at least
# this share of the text height): closing a cloud of speckle (a dark patch of a 1-bit
# scan, stretched into short dashes by a 200 x 100 dpi fax) makes bars too, of specks.
BAR_CHARACTER = 0.45


def _bars(text: np.ndarray, measures: PageMeasures, horizontal: bool) -> np.ndarray:
    """Stats rows (x, y, w, h, area) of the line-shaped blobs left after closing the
    text along one direction by ~0.6 of a character: the lines of text if they run
    that way."""
    reach = max(2, int(0.6 * measures.text_px * HALF))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (reach, 1) if horizontal else (1, reach))
    closed = cv2.morphologyEx(text, cv2.MORPH_CLOSE, kernel)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    long_side = stats[:, 2] if horizontal else stats[:, 3]
    short_side = stats[:, 3] if horizontal else stats[:, 2]
    text_h = measures.text_px * HALF
    keep = (long_side >= 3 * short_side) & (short_side >= 0.5 * text_h) & (short_side <= 1.8 * text_h)
    keep[0] = False
    if keep.any():
        # The biggest piece of the text itself inside each bar.
        pn, plabels, pstats, _ = cv2.connectedComponentsWithStats(text, connectivity=8)
        piece = np.maximum(pstats[:, 2], pstats[:, 3])
        piece[0] = 0
        biggest = np.zeros(n, np.int32)
        on = plabels > 0
        np.maximum.at(biggest, labels[on], piece[plabels[on]])
        keep &= biggest >= BAR_CHARACTER * text_h
    return stats[keep]


def text_line_crops(gray: np.ndarray, text: np.ndarray, measures: PageMeasures, most: int = 10
                    ) -> list[np.ndarray]:
    """Up to `most` crops of single text lines, the longest first, each cut to at most
    ~10 characters: what a recogniser tells upright from upside down on."""
    bars = _bars(text, measures, True)
    bars = bars[np.argsort(-bars[:, 2])]
    H, W = gray.shape
    sample = gray[::4, ::4]
    paper, print_level = float(np.median(sample)), float(np.percentile(sample, 0.5))
    # Print is about as dark as the page's darkest print; a bar of paper grain or
    # bleed-through (the empty half of a continued page) is not, and reads as nothing
    # either way up.
    darkest = paper - PRINT_DARKNESS * (paper - print_level)
    crops = []
    for x, y, w, h, _a in bars:
        x, y, w, h = (int(v / HALF) for v in (x, y, w, h))
        w = min(w, int(10 * measures.text_px))
        pad = max(2, h // 4)
        crop = gray[max(0, y - pad):min(H, y + h + pad), max(0, x - pad):min(W, x + w + pad)]
        if crop.size and float(np.percentile(crop, 2)) <= darkest:
            crops.append(crop)
            if len(crops) == most:
                break
    return crops


# A line crop holds print when its darkest pixels are at least this share of the way
# from the paper to the page's darkest print.
PRINT_DARKNESS = 0.6
# Recogniser confidences of line crops, given by the caller (the pipeline passes the
# OCR stage's recogniser): preprocess itself has no model.
LineScorer = Callable[[Sequence[np.ndarray]], list[float]]
# Upside down wins only on a clear margin of mean confidence (upright text read upside
# down scores ~0.3-0.6; the same text upright ~0.9).
UPSIDE_DOWN_MARGIN = 0.08
# Lines read this well as they stand are upright (upside-down print never scores so).
SURELY_UPRIGHT = 0.9
# Lines read no better than this either way are not read at all: their vote is noise
# (measured: a page of hollow print on textured paper, 0.14 as it stands and 0.33
# turned; upside-down print reads 0.3-0.6 and the same upright ~0.9). Nor does such a
# vote overrule the orientation model: a lone 总分 row upside down, its three lines read
# as noise both ways (0.40 as it stood, '79', '一', '證'; 0.14 turned), outvoted a model
# sure by 0.5 that the page stood upside down; on a rough copy of it, 0.375 against
# 0.425 set it upright with the model in doubt (held-out 4391, hard and rough; 0.4 then).
LINES_READ = 0.6
# Text closed top to bottom must cover this much more than closed across for the page
# to look sideways, and at least this many squares of a character's height (a few
# lines of text).
SIDEWAYS_SHAPE = 1.3
# Model votes for the two quarter turns that, against those for upright and upside
# down, leave the model in doubt enough for the text's shape to overrule it.
QUARTERS_IN_DOUBT = 0.5
SIDEWAYS_MIN_LINES = 10
# How many times SIDEWAYS_MIN_LINES of text running across overrule the orientation
# model's sure quarter turn.
PLAIN_TEXT_LINES = 5
# How many of the page's longest text lines the vote reads (one recogniser batch).
ORIENTATION_LINES = 8


# Which way up a page stands, from a classifier of square crops (the pipeline passes
# the OCR stage's orientation model): (n, 4) probabilities that undoing a
# counter-clockwise turn of 0/90/180/270 degrees sets each crop upright.
TurnClassifier = Callable[[Sequence[np.ndarray]], np.ndarray]
# The crops it reads: squares this many inches a side (a few lines of a cell's text at
# the size the model was trained on), the most printed first, at most TURN_TILES.
TURN_TILE_INCHES = 2.0
TURN_TILES = 8


def turn_tiles(gray: np.ndarray, text: np.ndarray, dpi: int, most: int = TURN_TILES) -> list[np.ndarray]:
    """The page's squares holding the most text (half-overlapping), gray, most first."""
    side = int(TURN_TILE_INCHES * dpi)
    H, W = gray.shape
    if H < side or W < side:
        return [gray] if gray.size else []
    # text is at HALF resolution
    counts = []
    step = side // 2
    for y in range(0, H - side + 1, step):
        for x in range(0, W - side + 1, step):
            ty, tx, ts = int(y * HALF), int(x * HALF), int(side * HALF)
            counts.append((int((text[ty:ty + ts, tx:tx + ts] > 0).sum()), y, x))
    counts.sort(key=lambda c: -c[0])
    return [gray[y:y + side, x:x + side] for n, y, x in counts[:most] if n > 0]


def turn_votes(gray: np.ndarray, text: np.ndarray, dpi: int, classify: TurnClassifier) -> np.ndarray:
    """Mean probabilities (undo 0, 90, 180, 270) over the page's most printed squares."""
    tiles = turn_tiles(gray, text, dpi)
    if not tiles:
        return np.array([1.0, 0.0, 0.0, 0.0])
    return np.asarray(classify(tiles), dtype=np.float64).mean(axis=0)


def line_votes(gray: np.ndarray, text: np.ndarray, measures: PageMeasures,
               score_lines: Optional[LineScorer]) -> Optional[tuple[float, float]]:
    """(mean confidence as the lines stand, mean confidence turned half round) of the
    recogniser on the page's longest text lines; the second is not read (0) when the
    first is sure. None without a recogniser or lines to read."""
    if score_lines is None:
        return None
    crops = text_line_crops(gray, text, measures, most=ORIENTATION_LINES)
    if len(crops) < 2:
        return None
    upright = float(np.mean(score_lines(crops)))
    if upright >= SURELY_UPRIGHT:
        return upright, 0.0     # read well as it is: no need to read it turned
    return upright, float(np.mean(score_lines([np.ascontiguousarray(c[::-1, ::-1]) for c in crops])))


# The orientation model decides when its votes part by at least this much (sideways
# against upright or upside down: the summed probabilities; upside down against upright
# on a page known to lie one of those ways). When they part by less (a page with little
# text: a lone total row, a seal over the print), the shape of the text and the
# recogniser's vote decide as they do without the model.
TURN_SURE = 0.1
FLIP_SURE = 0.15
# ... and leaning at least this much one way, a weak vote that another may confirm.
WEAK_FLIP = 0.075
# Upside down or not: model votes parting by less than MODEL_OVERRULES_LINES give way to
# the recogniser's when its two readings (as the page stands, turned half round) part
# by more than LINES_OVERRULE_MODEL the other way.
MODEL_OVERRULES_LINES = 0.6
LINES_OVERRULE_MODEL = 0.2


def quarter_turn(votes: Optional[np.ndarray], ink: np.ndarray, measures: PageMeasures,
                 dpi: Optional[int] = None, text: Optional[np.ndarray] = None) -> int:
    """0, 90 or 270: the quarter turn that sets a sideways page's lines across, from the
    model's votes when sure, else by the text's shape; on a page with too little text
    for either, by its table's rules (a 90 to be settled by the upside-down check)."""
    if votes is None:
        return 90 if is_sideways(ink, measures) else 0
    sideways = float(votes[1] + votes[3] - votes[0] - votes[2])
    turned = sideways > 0
    across, down, enough = _line_areas(ink, measures, text)
    rules_across, rules_down = rule_extents(ink, dpi) if dpi else (0.0, 0.0)
    runs_down, runs_across = down > SIDEWAYS_SHAPE * across, across > SIDEWAYS_SHAPE * down
    # The model sure and plenty of lines plainly running the way it says: the rules do
    # not overrule both (a form's last rows on a page of their own, few and tall, many
    # columns: its rules ran down 2.3 times across; it was turned a quarter).
    model_and_text_agree = abs(sideways) >= QUARTERS_IN_DOUBT and max(across, down) >= PLAIN_TEXT_LINES * enough \
        and (runs_down if turned else runs_across)
    if not model_and_text_agree and \
            max(rules_across, rules_down) >= RULES_SHAPE * max(min(rules_across, rules_down), 1.0):
        # The table's rules run plainly one way, and a form's text runs along its rows:
        # they decide, over the model, which read a few squares of a page with little
        # text (a 总分 row alone under a seal), and over the text's shape, which speckle
        # and shadow can fake (a lone 总分 row on a speckled page "ran down" it 35 to 1).
        turned = rules_down > rules_across
    elif abs(sideways) < TURN_SURE or turned:
        if max(across, down) >= enough:         # text enough for its shape to tell
            if abs(sideways) < TURN_SURE:
                turned = runs_down
            elif runs_across and (across >= PLAIN_TEXT_LINES * enough
                                  or rules_across > SIDEWAYS_SHAPE * rules_down):
                # The model sure of a quarter turn while plenty of lines plainly run
                # across (an upside-down page whose form fills two thirds of it): the
                # shape wins. (On a rough page the little text found, and speckle or a
                # streak closed into bars, is no such evidence: measured, 2-3 times
                # `enough` there against 14 on the page this is for.) So it does when
                # the table's rules run across too, short of plainly (the last rows of
                # a form on a 1-bit copy, many columns: 1.5 to 1; the model, on a
                # shadow's dither, was sure of a quarter turn).
                turned = False
        elif abs(sideways) < TURN_SURE and max(rules_across, rules_down) > SIDEWAYS_RULES * min(rules_across,
                                                                                                rules_down):
            # The model in doubt and too little text: rules running further one way
            # than a table turned the other ever does tell (a page of faint print
            # whitened by speckle, the model parting 0.5 to 0.5, rules 2.2 to 1 across).
            turned = rules_down > rules_across
    elif sideways > -QUARTERS_IN_DOUBT and max(across, down) >= enough and runs_down \
            and ((down >= PLAIN_TEXT_LINES * enough and rules_across <= SIDEWAYS_RULES * rules_down)
                 or rules_down > SIDEWAYS_RULES * rules_across):
        # The other way round: the model for upright or upside down, but giving the
        # quarters a fair share (a sideways page it took for upside down, 0.39 against
        # 0.61), while plenty of lines plainly run down it. (A page of narrow columns
        # of wrapped lines may look that way: the model is then all but certain, 0.05
        # against 0.95.) Not where the table's rules run further across than a sideways
        # table's ever do (a faint upright page whose worn print closed into bars running
        # down, 1.5 to 1, its rules running across 1.3 times down). Fewer lines do
        # where the rules run further down than an upright table's ever do (a 1-bit
        # speckled page, lines 15 to 1 down, rules 1.75 to 1).
        turned = True
    if not turned:
        return 0
    return 90 if votes[1] >= votes[3] else 270


# A streak's rims, beside the band find_copier_marks gives.
STREAK_RIM_PX = 3


def inside_margins(mask: np.ndarray, dpi: int, margin_mm: float = PRINT_MARGIN_MM) -> np.ndarray:
    """The mask with a band `margin_mm` wide along each edge of the page cleared."""
    band = int(round(_px(dpi, margin_mm)))
    inner = np.zeros_like(mask)
    if 2 * band < min(mask.shape[:2]):
        inner[band:-band, band:-band] = mask[band:-band, band:-band]
    return inner


def page_quarter_turn(gray: np.ndarray, ink: np.ndarray, measures: PageMeasures, dpi: int,
                      classify: Optional[TurnClassifier], whole_page: bool = True,
                      streaks: Sequence[tuple[bool, int, int]] = ()) -> tuple[int, Optional[np.ndarray]]:
    """(quarter turn, the model's votes) of a page as scanned. On a whole page this is
    judged inside its margins: a shadow's rim, a torn edge's grain and a border's remains
    run along the paper's edges, and looked like a rule and text lines running down a
    page holding only a 总分 row. A copier's streaks ((horizontal, start, end) bands)
    are no rules either: what is left of them on a 1-bit copy (black stays black) ran
    down the page like three more columns' rules."""
    turn_ink = inside_margins(ink, dpi) if whole_page else ink.copy()
    for horizontal, start, end in streaks:
        band = slice(max(0, start - STREAK_RIM_PX), end + STREAK_RIM_PX)
        if horizontal:
            turn_ink[band] = 0
        else:
            turn_ink[:, band] = 0
    text = text_only(turn_ink, measures)
    votes = turn_votes(gray, text, dpi, classify) if classify else None
    return quarter_turn(votes, turn_ink, measures, dpi, text), votes


# A form's table is ruled across more than down (its rows outnumber its columns, and a
# table cut by a page break keeps its full-width rules): rules running this many times
# further one way than the other say which way is across. Measured on 60 upright
# generated pages (hard and rough): across 0.84 to 13.8 times down, never down more
# than 1.2 times across; the last two rows and 总分 of a form on a grainy page turned
# sideways: 2.6 (3.0 left it to its grain's "text lines", which ran the wrong way).
RULES_SHAPE = 2.2
# ... and so a sideways page's rules run across at most 1 / 0.84 = 1.19 times down,
# an upright page's down at most as much.
SIDEWAYS_RULES = 1.2
# Rules are runs at least this long (mm); short enough to survive a few degrees of skew.
RULE_RUN_FOR_TURN_MM = 5.0


def rule_runs(ink: np.ndarray, dpi: int) -> tuple[np.ndarray, np.ndarray]:
    """(the ink in straight runs across, the same down), at half resolution: a table's
    rules, RULE_RUN_FOR_TURN_MM long at least."""
    small = (cv2.resize(ink, None, fx=HALF, fy=HALF, interpolation=cv2.INTER_AREA) >= 128).astype(np.uint8)
    return straight_runs(small, max(3, int(round(RULE_RUN_FOR_TURN_MM * dpi / 25.4 * HALF))))


def rule_extents(ink: np.ndarray, dpi: int) -> tuple[float, float]:
    """(ink in straight runs across, ink in straight runs down), at half resolution."""
    across, down = rule_runs(ink, dpi)
    return float(across.sum()), float(down.sum())


def straight_runs(ink: np.ndarray, run: int) -> tuple[np.ndarray, np.ndarray]:
    """(the ink in runs of at least `run` px across, the same down): a morphological
    opening each way."""
    return tuple(cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, shape))
                 for shape in ((run, 1), (1, run)))


def half_turn_needed(votes: Optional[np.ndarray], quarter: int, gray: np.ndarray, ink: np.ndarray,
                     measures: PageMeasures, dpi: int, score_lines: Optional[LineScorer],
                     classify: Optional[TurnClassifier]) -> bool:
    """Whether the page, turned by `quarter` and deskewed, is upside down: the model's
    first votes when they are sure, else its votes on the straightened page with the
    recogniser's (which is sure of upright lines, and only of those)."""
    text = text_only(ink, measures)
    if votes is not None:
        # The first votes, for the two ways the turned page may now stand.
        stays, flips = {0: (0, 2), 90: (1, 3), 270: (3, 1)}[quarter]
        margin = float(votes[flips] - votes[stays])
        if abs(margin) >= FLIP_SURE:
            if abs(margin) >= MODEL_OVERRULES_LINES:
                return margin > 0
            # Short of very sure (faint print on grainy paper, where the model's squares
            # hold more grain than print): the recogniser reading the lines plainly
            # better the other way overrules it.
            lines = line_votes(gray, text, measures, score_lines)
            turned_better = lines[1] - lines[0] if lines is not None else 0.0
            if abs(turned_better) > LINES_OVERRULE_MODEL and max(lines) >= LINES_READ:
                return turned_better > 0
            return margin > 0
    lines = line_votes(gray, text, measures, score_lines)
    if classify is None:
        return lines is not None and lines[1] > lines[0] + UPSIDE_DOWN_MARGIN
    again = turn_votes(gray, text, dpi, classify)
    margin = float(again[2] - again[0])
    if lines is not None and lines[0] >= SURELY_UPRIGHT and margin < 0.5:
        return False
    if abs(margin) >= FLIP_SURE:
        return margin > 0
    if lines is None:
        # No line to read (hollow grey print the line finder passed over): the model's
        # lean alone turns the page only from WEAK_FLIP on. (Upright hollow print on a
        # streaked page parted 0.465 against 0.467, and was turned upside down.) Short
        # of that, where the table stands tells (below).
        return margin > 0 if abs(margin) >= WEAK_FLIP else table_stands_low(ink, dpi)
    if (margin > 0) == (lines[1] > lines[0]) and lines[1] != lines[0] and abs(margin) >= WEAK_FLIP:
        # Two weak votes that agree (a lone faint 总分 row: the model short of sure,
        # the recogniser reading as little either way) settle it between them. (A model
        # parting the two ways by a hundredth casts no vote: a lone 总分 row on grainy
        # paper, 0.165 against 0.175, was turned upside down with the recogniser's noise;
        # nor does a recogniser reading nothing either way: a lone 总分 row on a 1-bit
        # speckled page, 0.0 against 0.0.)
        return margin > 0
    if max(lines) >= LINES_READ:
        return lines[1] > lines[0] + UPSIDE_DOWN_MARGIN
    # Text read no better than noise either way (hollow print lost in a paper's
    # texture, a few rows on a speckled page): where the table stands goes instead.
    return table_stands_low(ink, dpi)


# A table cut by a page break goes on at the top of the next page: a page whose rules
# all lie below this share of its height (and none above) stands upside down, when
# nothing else tells (a form's last rows and its 总分 on a speckled page, read as noise
# both ways, 0.84-0.94 of the height). A rule is a run across RULE_ROW_SHARE of the
# page's width (speckle and print closed into bars are shorter).
TABLE_LOW = 0.5
RULE_ROW_SHARE = 0.25


def table_stands_low(ink: np.ndarray, dpi: int) -> bool:
    """Whether every rule running across the page (inside its margins) lies in its
    lower part, below TABLE_LOW of its height."""
    across, _ = rule_runs(inside_margins(ink, dpi), dpi)
    rows = np.nonzero(across.sum(axis=1) >= RULE_ROW_SHARE * across.shape[1])[0]
    return len(rows) > 0 and rows[0] >= TABLE_LOW * across.shape[0]


def _line_areas(ink: np.ndarray, measures: PageMeasures, text: Optional[np.ndarray] = None
                ) -> tuple[float, float, float]:
    """(area of the text closed across, closed top to bottom, a few lines' worth);
    `text`: text_only(ink, measures) when the caller has it."""
    text = text_only(ink, measures) if text is None else text
    across = float(_bars(text, measures, True)[:, 4].sum())
    down = float(_bars(text, measures, False)[:, 4].sum())
    return across, down, SIDEWAYS_MIN_LINES * (measures.text_px * HALF) ** 2


def is_sideways(ink: np.ndarray, measures: PageMeasures) -> bool:
    """True when the page's text lines run top to bottom (a page fed sideways), by the
    shape of its text, when there is enough of it to go by: a few specks on a faint
    page are no evidence. Characters of a line stand closer together than lines do, so
    closing the text along the line direction joins each line into one long bar, and
    along the other direction it joins little: compare the area of the bars either way.
    (The recogniser is no judge here: it reads Chinese turned a quarter with as much
    confidence as upright.)"""
    across, down, enough = _line_areas(ink, measures)
    return down > SIDEWAYS_SHAPE * across and down >= enough


def turn(image: np.ndarray, degrees: int) -> np.ndarray:
    """Turn counter-clockwise by a multiple of 90 degrees."""
    return np.ascontiguousarray(np.rot90(image, k=(degrees // 90) % 4))


# ------------------------------------------------------------------ resolution

# Every page is cleaned and read at this resolution, whatever it was scanned at: the
# stages' tolerances are in millimetres, but a recogniser and a speck filter see pixels,
# and a 150-dpi fax and a 300-dpi colour scan of one form should give the same values.
WORKING_DPI = 200
# Scans within this of the working resolution are left as they are.
WORKING_DPI_SLACK = 0.15
# Paper widths (short side, inches) a form is printed on: B5 to A3.
PAPER_SHORT_INCHES = (6.9, 11.7)


def is_whole_page(page: Page) -> bool:
    """A scan of a whole sheet of paper at the resolution it says (not a picture of
    part of one, nor an image whose resolution tag is missing or wrong)."""
    short_inches = min(page.image.shape[:2]) / max(page.dpi, 1)
    return PAPER_SHORT_INCHES[0] <= short_inches <= PAPER_SHORT_INCHES[1]


def to_working_resolution(page: Page) -> tuple[np.ndarray, int]:
    """(image, dpi) with a whole page resampled to WORKING_DPI when it is far from it.
    Anything else is read as it is: without a believable resolution, resampling would
    guess."""
    if not is_whole_page(page) or abs(page.dpi - WORKING_DPI) <= WORKING_DPI_SLACK * WORKING_DPI:
        return page.image, page.dpi
    factor = WORKING_DPI / page.dpi
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return cv2.resize(page.image, None, fx=factor, fy=factor, interpolation=interp), WORKING_DPI


# ------------------------------------------------------------------ the stage

BILEVEL_SMOOTH_MM = 0.08      # ~0.6 px at 200 dpi: softens the staircase, keeps strokes apart

def clean_page(page: Page, score_lines: Optional[LineScorer] = None,
               classify_turn: Optional[TurnClassifier] = None) -> CleanPage:
    """score_lines: the recogniser's confidence on line crops, used to tell an
    upside-down page (without it, only sideways pages are turned); classify_turn: an
    orientation model's votes on square crops (without it, the shape of the text tells
    sideways pages and the recogniser upside-down ones)."""
    bilevel = _is_bilevel(page.image)
    whole_page = is_whole_page(page)
    image, dpi = to_working_resolution(page)
    notes = [f'read at {dpi} dpi (scanned at {page.dpi})'] if dpi != page.dpi else []
    halftone = is_halftone(image, dpi)
    if halftone:
        # Dithered or screened: the paper itself is a pattern of dots, which a blur
        # over the screen's period turns back into gray (the print stays darker).
        image = cv2.GaussianBlur(image, (0, 0), HALFTONE_SMOOTH_MM * dpi / 25.4)
        notes.append('a dithered (halftone) scan: smoothed back to gray')
    elif bilevel:
        # A 1-bit scan's jagged edges: the recogniser reads anti-aliased print better.
        image = cv2.GaussianBlur(image, (0, 0), BILEVEL_SMOOTH_MM * dpi / 25.4)
    page = Page(number=page.number, image=image, dpi=dpi, source=page.source)
    raw, sealed = lift_stamps(page.image)
    gray = even_out_light(raw)
    if whole_page:
        # Shades, borders and streaks are told by the paper's edges and margins: a
        # picture of a table cut out of a page has its frame where a page has margins.
        flatten_line_shades(gray, page.dpi)
    ink = binarise(gray, page.dpi)
    streaks: list[tuple[bool, int, int]] = []
    if whole_page:
        marks = find_copier_marks(raw, ink, page.dpi)
        lift_streaks(gray, ink, marks.streaks, page.dpi)
        wipe(gray, ink, marks.border, grow=2)
        streaks = marks.streaks
    measures = measure_page(gray, ink, page.dpi)
    specks = find_specks(ink, measures, upright=False)
    speck_count = int(cv2.connectedComponents(specks, connectivity=8)[0] - 1)
    wipe(gray, ink, specks)
    turned, votes = page_quarter_turn(gray, ink, measures, page.dpi, classify_turn, whole_page, streaks)
    if turned:
        # Sideways: turn a quarter (without the model, which quarter is settled by the
        # upside-down check).
        gray, ink = turn(gray, turned), turn(ink, turned)
        sealed = turn(sealed, turned) if sealed is not None else None
    angle = measure_skew(ink, page.dpi)
    if angle != 0.0 or ink.any():
        angle = refine_skew(ink, angle)
    if abs(angle) >= 0.05:
        gray = rotate(gray, angle)
        sealed = rotate(sealed, angle, border=0) if sealed is not None else None
        ink = binarise(gray, page.dpi)
        notes.append(f'deskewed by {angle:.2f} degrees')
    # Now that lines run across the page, specks beside a line but off it go too.
    specks = find_specks(ink, measures)
    speck_count += int(cv2.connectedComponents(specks, connectivity=8)[0] - 1)
    wipe(gray, ink, specks)
    # Upside down or not is read on straight lines (a half turn and the skew commute).
    if half_turn_needed(votes, turned, gray, ink, measures, page.dpi, score_lines, classify_turn):
        turned = (turned + 180) % 360
        gray, ink, specks = turn(gray, 180), turn(ink, 180), turn(specks, 180)
        sealed = turn(sealed, 180) if sealed is not None else None
    if turned:
        notes.insert(0, f'turned {turned} degrees to read upright')
    under_seal = lift_ring_seals(gray, ink, page.dpi)
    if under_seal is not None:
        notes.append('a seal without colour (grey or 1-bit scan): its ring taken off, values under it checked')
        sealed = under_seal if sealed is None else np.maximum(sealed, under_seal)
    area_cm2 = gray.shape[0] * gray.shape[1] / (page.dpi / 2.54) ** 2
    stats = {'turned_deg': turned, 'speckle_per_cm2': round(speck_count / max(area_cm2, 1e-6), 3),
             'contrast': round(measures.contrast, 3),
             'stroke_mm': round(measures.stroke_px * 25.4 / page.dpi, 3),
             'text_mm': round(measures.text_px * 25.4 / page.dpi, 3),
             'bilevel': bilevel, 'halftone': halftone}
    return CleanPage(number=page.number, gray=gray, ink=ink, dpi=page.dpi, angle=angle, notes=notes,
                     measures=stats, sealed=sealed, specks=specks)


# A halftone: the paper's gray is a pattern of dots. Over a window of this size the
# gray of the median pixel's neighbourhood varies by more than HALFTONE_GRAIN levels
# (standard deviation; measured: dithered pages 32, every other page of the generator's
# and augraphy's damage, grain, speckle, JPEG and 1-bit fax included, 10 at most).
HALFTONE_WINDOW_MM = 0.6
HALFTONE_GRAIN = 20.0
HALFTONE_STRIPS = 8
HALFTONE_SMOOTH_MM = 0.15     # ~1.2 px at 200 dpi: past a 2-3 px dither period


def is_halftone(image: np.ndarray, dpi: int = WORKING_DPI) -> bool:
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    # At full resolution (every other pixel of a 4 x 4 dither is one fixed part of it),
    # on HALFTONE_STRIPS bands of rows spread down the page.
    h = gray.shape[0]
    rows = max(8, h // (4 * HALFTONE_STRIPS))
    starts = np.linspace(0, max(0, h - rows), HALFTONE_STRIPS).astype(int)
    sample = np.concatenate([gray[y:y + rows] for y in starts]).astype(np.float32)
    k = max(3, int(round(HALFTONE_WINDOW_MM * dpi / 25.4))) | 1
    mean = cv2.boxFilter(sample, -1, (k, k))
    spread = np.sqrt(np.maximum(cv2.boxFilter(sample * sample, -1, (k, k)) - mean * mean, 0.0))
    return float(np.median(spread[::2, ::2])) > HALFTONE_GRAIN


def _is_bilevel(image: np.ndarray) -> bool:
    """A 1-bit scan: the print has no grey edges (almost every pixel that is not white
    is black; anti-aliased or scanned print has a grey rim round every stroke)."""
    sample = image[::3, ::3]
    not_white = sample[sample <= 239]
    return not_white.size > 100 and float((not_white < 16).mean()) > 0.97
