"""Scan degradations at three levels.

  clean  straight, lossless, grayscale
  mild   0.3-1 deg skew either way, light noise, slight blur, slightly uneven
         brightness, JPEG ~75 (as shared/samples/samples_mild.pdf)
  hard   skew up to +-3 deg, small translation, stronger noise and blur, faint or broken
         ruling lines in places, a red or blue round seal over some cells (the page is
         then RGB), a shadow along one edge, light bleed-through, JPEG 50-60

degrade() returns the page image; what was applied is in image.info['scangen']
(skew_deg, jpeg_quality, mode and a dict of degradations with their parameters). The
JPEG compression itself happens when the PDF is written, at that quality.

Skew sign: positive skew_deg turns the page content counter-clockwise (PIL's rotate).
"""
import math

import cv2
import numpy as np
from PIL import Image

from .fonts import available_fonts, body_fonts
from .stamp import INKS, apply_seal

LEVELS = ('clean', 'mild', 'hard')
DEFAULT_SEAL_NAME = '项目单位'


def _scale(image):
    """Lengths below are given for 200 dpi; scale by the page width (A4 width)."""
    return image.width / 1654.0


def _signed(rng, low, high):
    return float(rng.uniform(low, high)) * (1 if rng.random() < 0.5 else -1)


def _content_box(gray):
    dark = gray < 128
    rows, cols = np.where(dark.any(axis=1))[0], np.where(dark.any(axis=0))[0]
    if len(rows) == 0:
        h, w = gray.shape
        return 0, 0, w, h
    return int(cols[0]), int(rows[0]), int(cols[-1]), int(rows[-1])


# ------------------------------------------------------------ ink-level damage

def _ruling_masks(gray, s):
    ink = (gray < 140).astype(np.uint8)
    length = max(15, int(80 * s))
    horiz = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1)))
    vert = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, length)))
    grow = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
    return cv2.dilate(horiz, grow), cv2.dilate(vert, grow)


def damage_ruling(gray, rng, s):
    """Break ruling lines in short gaps and make them faint in a few regions (only line
    pixels change, found by a morphological opening)."""
    horiz, vert = _ruling_masks(gray, s)
    lighten = np.zeros(gray.shape, np.float32)
    gaps = int(rng.integers(6, 16))
    for k in range(gaps):
        mask = horiz if k % 2 == 0 else vert
        ys, xs = np.nonzero(mask)
        if len(ys) == 0:
            continue
        i = int(rng.integers(len(ys)))
        length, thick = int(rng.uniform(12, 80) * s), int(6 * s) + 2
        w, h = (length, thick) if mask is horiz else (thick, length)
        y0, x0 = ys[i] - h // 2, xs[i] - w // 2
        region = lighten[max(0, y0):y0 + h, max(0, x0):x0 + w]
        np.maximum(region, float(rng.uniform(0.75, 1.0)), out=region)
    faint = int(rng.integers(1, 4))
    height, width = gray.shape
    for _ in range(faint):
        w, h = int(rng.uniform(200, 600) * s), int(rng.uniform(150, 500) * s)
        x0, y0 = int(rng.integers(0, max(1, width - w))), int(rng.integers(0, max(1, height - h)))
        region = lighten[y0:y0 + h, x0:x0 + w]
        np.maximum(region, float(rng.uniform(0.4, 0.65)), out=region)
    lighten *= np.maximum(horiz, vert).astype(np.float32)
    gray += (255.0 - gray) * lighten
    return {'gaps': gaps, 'faint_regions': faint}


def bleed_through(gray, rng, s):
    """Faint mirror image of the page, as print showing through from the back."""
    strength = float(rng.uniform(0.04, 0.09))
    back = cv2.GaussianBlur(np.ascontiguousarray(gray[:, ::-1]), (0, 0), 2.5 * s)
    shift = int(rng.uniform(-30, 30) * s)
    back = np.roll(back, shift, axis=0)
    gray -= (255.0 - back) * strength
    return {'strength': round(strength, 3)}


def _seal_font():
    fonts = available_fonts()
    for key in ('noto-sans-bold', 'wqy-zenhei', 'noto-sans'):
        if key in fonts:
            return fonts[key]
    return body_fonts()[0]


def add_seal(gray, rng, s, name):
    """RGB page with a seal over part of the table; returns (rgb, parameters)."""
    x0, y0, x1, y1 = _content_box(gray.astype(np.uint8))
    diameter = float(rng.uniform(300, 360)) * s
    cx = float(rng.uniform(x0 + 0.45 * (x1 - x0), x1 - 0.1 * (x1 - x0)))
    cy = float(rng.uniform(y0 + 0.35 * (y1 - y0), y1 - 0.05 * (y1 - y0)))
    ink = 'red' if rng.random() < 0.7 else 'blue'
    tint = np.array([1.0, float(rng.uniform(0.985, 1.0)), float(rng.uniform(0.95, 0.99))], np.float32)
    rgb = gray[:, :, None] * tint[None, None, :]
    apply_seal(rgb, rng, (cx, cy), diameter, name, _seal_font(), ink)
    return rgb, {'ink': ink, 'rgb': list(INKS[ink]), 'center': [round(cx), round(cy)],
                 'diameter': round(diameter)}


# ------------------------------------------------------------ geometry, light

def _rotate_point(x, y, w, h, angle, dx, dy):
    """Where (x, y) lands after PIL's rotate(angle) about the centre and a shift."""
    a = math.radians(angle)
    cx, cy = w / 2, h / 2
    rx = cx + (x - cx) * math.cos(a) + (y - cy) * math.sin(a)
    ry = cy - (x - cx) * math.sin(a) + (y - cy) * math.cos(a)
    return rx + dx, ry + dy


def skew_and_shift(pixels, angle, shift):
    """Rotate about the page centre and translate; uncovered areas become paper."""
    mode = 'RGB' if pixels.ndim == 3 else 'L'
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode)
    fill = (255,) * 3 if mode == 'RGB' else 255
    out = image.rotate(angle, resample=Image.BICUBIC, translate=shift, fillcolor=fill)
    return np.asarray(out, dtype=np.float32).copy()


def uneven_light(pixels, rng, low):
    h, w = pixels.shape[:2]
    grid = rng.uniform(low, 1.0, (3, 3)).astype(np.float32)
    field = cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
    pixels *= np.clip(field, 0, 1.05)[..., None] if pixels.ndim == 3 else np.clip(field, 0, 1.05)
    return round(float(grid.min()), 3)


def edge_shadow(pixels, rng, s):
    h, w = pixels.shape[:2]
    edge = str(rng.choice(['left', 'right', 'top', 'bottom']))
    depth, width = float(rng.uniform(0.2, 0.45)), float(rng.uniform(40, 140)) * s
    dist = {'left': np.arange(w, dtype=np.float32)[None, :],
            'right': np.arange(w, dtype=np.float32)[::-1][None, :],
            'top': np.arange(h, dtype=np.float32)[:, None],
            'bottom': np.arange(h, dtype=np.float32)[::-1][:, None]}[edge]
    factor = 1.0 - depth * np.exp(-dist / width)
    pixels *= factor[..., None] if pixels.ndim == 3 else factor
    return {'edge': edge, 'depth': round(depth, 3), 'width_px': round(width)}


def blur_and_noise(pixels, rng, blur_sigma, noise_sigma):
    pixels = cv2.GaussianBlur(pixels, (0, 0), blur_sigma)
    pixels += rng.standard_normal(pixels.shape, dtype=np.float32) * np.float32(noise_sigma)
    return pixels


# ------------------------------------------------------------------ levels

def _finish(pixels, info):
    mode = 'RGB' if pixels.ndim == 3 else 'L'
    image = Image.fromarray(np.clip(pixels + 0.5, 0, 255).astype(np.uint8), mode)
    info['mode'] = mode
    image.info['scangen'] = info
    return image


def degrade_mild(gray, rng, s):
    angle = round(_signed(rng, 0.3, 1.0), 3)
    pixels = skew_and_shift(gray, angle, (0, 0))
    info = {'skew_deg': angle, 'jpeg_quality': int(rng.integers(70, 81)), 'degradations': {}}
    deg = info['degradations']
    deg['brightness_min'] = uneven_light(pixels, rng, 0.9)
    deg['blur_sigma'] = round(float(rng.uniform(0.4, 0.7)) * s, 3)
    deg['noise_sigma'] = round(float(rng.uniform(3, 6)), 2)
    pixels = blur_and_noise(pixels, rng, deg['blur_sigma'], deg['noise_sigma'])
    return pixels, info


def degrade_hard(gray, rng, s, seal_name, seal):
    info = {'degradations': {}}
    deg = info['degradations']
    deg['ruling_damage'] = damage_ruling(gray, rng, s)
    deg['bleed_through'] = bleed_through(gray, rng, s)
    pixels = gray
    if seal:
        pixels, deg['seal'] = add_seal(gray, rng, s, seal_name)
    angle = round(_signed(rng, 0.2, 3.0), 3)
    shift = (int(rng.uniform(-25, 25) * s), int(rng.uniform(-25, 25) * s))
    h, w = gray.shape
    if seal:
        cx, cy = deg['seal']['center']
        deg['seal']['center'] = [round(v) for v in _rotate_point(cx, cy, w, h, angle, *shift)]
    pixels = skew_and_shift(pixels, angle, shift)
    info['skew_deg'] = angle
    deg['translate_px'] = list(shift)
    deg['brightness_min'] = uneven_light(pixels, rng, 0.82)
    deg['shadow'] = edge_shadow(pixels, rng, s)
    deg['blur_sigma'] = round(float(rng.uniform(0.8, 1.3)) * s, 3)
    deg['noise_sigma'] = round(float(rng.uniform(8, 14)), 2)
    pixels = blur_and_noise(pixels, rng, deg['blur_sigma'], deg['noise_sigma'])
    info['jpeg_quality'] = int(rng.integers(50, 61))
    return pixels, info


def degrade(image, level, rng, seal_name=None, seal=None):
    """A scanned-looking copy of a clean page image at `level` (clean|mild|hard).

    seal_name: text around the seal (hard level); seal: force a seal on or off (default:
    on for 70% of hard pages)."""
    if level not in LEVELS:
        raise ValueError(f'level must be one of {LEVELS}')
    gray = np.asarray(image.convert('L'), dtype=np.float32).copy()
    s = _scale(image)
    if level == 'clean':
        return _finish(gray, {'skew_deg': 0.0, 'jpeg_quality': None, 'degradations': {}})
    if level == 'mild':
        return _finish(*degrade_mild(gray, rng, s))
    seal = bool(rng.random() < 0.7) if seal is None else seal
    return _finish(*degrade_hard(gray, rng, s, seal_name or DEFAULT_SEAL_NAME, seal))
