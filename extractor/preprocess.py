"""Stage 2, preprocess: Page -> CleanPage.

Order matters: stamps are suppressed while colour is still there, light is evened out
before any threshold, and the skew is measured on the ruling lines (the longest straight
things on a form) and undone before the grid stage looks for axis-aligned lines.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from models import CleanPage, Page

MAX_SKEW_DEG = 15.0
STAMP_MIN_SATURATION = 70      # 0-255; scanner tint and grey text stay well below
STAMP_RIM_GRAY = 165           # inside a seal, print (lifted) stays darker than this


# OpenCV hue ranges (0-180) of seal inks: red wraps around 0, blue sits near 120.
STAMP_HUES = {'red': ((0, 12), (160, 180)), 'blue': ((85, 140),)}


def suppress_stamps(image: np.ndarray) -> np.ndarray:
    """Gray image with red and blue seals (and coloured pen) lifted off the paper while
    black print under them stays dark.

    Seal ink is a filter over the paper: where it lies with density a, its brightest
    channel is dimmed by a factor 1 - a * (1 - k), k being that channel's share in the
    pure ink. Measuring the ink's colour on the page (its most saturated pixels) and a
    from each pixel's saturation, the brightest channel is divided back to paper
    white. Black print is dark in every channel, so no division lifts it."""
    if image.ndim == 2:
        return image
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    hue, sat, val = hsv[:, :, 0], hsv[:, :, 1].astype(np.float32), hsv[:, :, 2]
    coloured = (sat > 30) & (val > 60)
    if not coloured.any():
        return gray
    brightest = image.max(axis=2).astype(np.float32)
    out = gray.astype(np.float32)
    for ranges in STAMP_HUES.values():
        in_hue = np.zeros(hue.shape, bool)
        for lo, hi in ranges:
            in_hue |= (hue >= lo) & (hue < hi)
        group = coloured & in_hue
        strong = group & (sat > STAMP_MIN_SATURATION)
        if int(strong.sum()) < 50:
            continue
        ink = np.median(image[strong], axis=0)
        k = float(ink.max()) / 255.0
        ink_sat = float(np.percentile(sat[strong], 90))
        # Chroma is stored at half resolution in a JPEG, so a seal stroke's edges keep
        # too little colour to tell their density: take it from the strongest colour
        # nearby, over a zone grown by the same few pixels.
        local_sat = cv2.dilate(np.where(group, sat, 0).astype(np.float32), np.ones((5, 5), np.uint8))
        zone = local_sat > 40
        density = np.clip(local_sat[zone] / max(ink_sat, 1.0), 0.0, 1.0)
        lifted = brightest[zone] / np.maximum(1.0 - density * (1.0 - k), 0.05)
        out[zone] = np.maximum(out[zone], np.minimum(lifted, 255.0))
        # What is left of the seal is its strokes' rims, lighter than any print.
        out[zone & (out > STAMP_RIM_GRAY)] = 255.0
    return out.astype(np.uint8)


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


def measure_skew(ink: np.ndarray, dpi: int) -> float:
    """Skew in degrees (positive = counter-clockwise content) from long straight
    segments, horizontal and vertical alike, weighted by their length."""
    scale = 0.5
    small = cv2.resize(ink, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    small = (small > 64).astype(np.uint8) * 255
    min_len = max(40, int(dpi * scale * 1.2))
    # Coarse angles (0.25°) are enough: refine_skew sharpens the estimate.
    segments = cv2.HoughLinesP(small, 1, math.pi / 720, threshold=min_len,
                               minLineLength=min_len, maxLineGap=max(3, int(dpi * scale * 0.02)))
    if segments is None:
        return 0.0
    angles, weights = [], []
    for x0, y0, x1, y1 in segments.reshape(-1, 4):
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
    best, best_score = estimate, -1.0
    for angle in np.arange(estimate - span, estimate + span + 1e-9, step):
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), float(angle), 1.0)
        rotated = cv2.warpAffine(small, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
        profile = rotated.sum(axis=1)
        score = float((profile * profile).sum())
        if score > best_score:
            best, best_score = float(angle), score
    return best


def rotate(image: np.ndarray, angle: float) -> np.ndarray:
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=255)


def clean_page(page: Page) -> CleanPage:
    gray = even_out_light(suppress_stamps(page.image))
    ink = binarise(gray, page.dpi)
    angle = measure_skew(ink, page.dpi)
    if angle != 0.0 or ink.any():
        angle = refine_skew(ink, angle)
    notes = []
    if abs(angle) >= 0.05:
        gray = rotate(gray, angle)
        ink = binarise(gray, page.dpi)
        notes.append(f'deskewed by {angle:.2f} degrees')
    return CleanPage(number=page.number, gray=gray, ink=ink, dpi=page.dpi, angle=angle, notes=notes)
