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


def suppress_stamps(image: np.ndarray) -> np.ndarray:
    """Gray image in which strongly coloured ink (red/blue seals, coloured pen) is
    replaced by its brightest channel, so it fades to near paper white while black
    print under it stays dark."""
    if image.ndim == 2:
        return image
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    coloured = (hsv[:, :, 1] > STAMP_MIN_SATURATION) & (hsv[:, :, 2] > 60)
    if coloured.any():
        brightest = image.max(axis=2)
        gray = np.where(coloured, brightest, gray).astype(np.uint8)
    return gray


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
