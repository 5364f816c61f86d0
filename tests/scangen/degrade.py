"""Scan degradations at three levels.

  clean  straight, lossless, grayscale
  mild   0.3-1 deg skew either way, light noise, slight blur, slightly uneven
         brightness, JPEG ~75 (as shared/samples/samples_mild.pdf)
  hard   skew up to +-3 deg, small translation, stronger noise and blur, faint or broken
         ruling lines in places, a red or blue round seal over some cells (the page is
         then RGB), a shadow along one edge, light bleed-through, light speckle
         (0.01-0.08% of pixels), scanned at 150, 200 or 300 dpi, some pages upside down
         (5%), JPEG 45-60
  rough  what archives hold: all of hard, stronger, plus speckle over the whole page
         (0.05-0.5% of pixels, single pixels and clumps, before or after the blur),
         worn low-contrast ink, photocopier streaks and dark borders, colour, grey or
         1-bit (some as 200x100 dpi fax) at 150, 200 or 300 dpi, seals of one or two
         inks, pages turned 90/180/270 degrees (30%) on top of a +-3 deg skew, JPEG 40-60

degrade() returns the page image; what was applied is in image.info['scangen']
(skew_deg, jpeg_quality, mode and a dict of degradations with their parameters). The
JPEG compression itself happens when the PDF is written, at that quality.

Skew sign: positive skew_deg turns the page content counter-clockwise (PIL's rotate).
"""
import math

import cv2
import numpy as np
from PIL import Image

from . import damage
from .fonts import available_fonts, body_fonts
from .stamp import INKS, apply_seal

LEVELS = ('clean', 'mild', 'hard', 'rough')
SCAN_DPIS = (150, 200, 300)
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


def add_seal(gray, rng, s, name, inks=None):
    """RGB page with a seal over part of the table; returns (rgb, parameters). `inks`:
    one ink per seal (default one seal, red 70% / blue 30%); the first seal's centre
    and ink are reported at the top level, every seal under 'seals'."""
    x0, y0, x1, y1 = _content_box(gray.astype(np.uint8))
    inks = inks or ['red' if rng.random() < 0.7 else 'blue']
    tint = np.array([1.0, float(rng.uniform(0.985, 1.0)), float(rng.uniform(0.95, 0.99))], np.float32)
    rgb = gray[:, :, None] * tint[None, None, :]
    seals = []
    for ink in inks:
        diameter = float(rng.uniform(300, 360)) * s
        cx = float(rng.uniform(x0 + 0.45 * (x1 - x0), x1 - 0.1 * (x1 - x0)))
        cy = float(rng.uniform(y0 + 0.35 * (y1 - y0), y1 - 0.05 * (y1 - y0)))
        apply_seal(rgb, rng, (cx, cy), diameter, name, _seal_font(), ink)
        seals.append({'ink': ink, 'rgb': list(INKS[ink]), 'center': [round(cx), round(cy)],
                      'diameter': round(diameter)})
    out = dict(seals[0])
    if len(seals) > 1:
        out['seals'] = seals
    return rgb, out


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


def _seal_moves(deg, w, h, angle, shift):
    """Seal centres in page coordinates after skew and shift."""
    for seal in [deg['seal']] + deg['seal'].get('seals', [])[1:]:
        cx, cy = seal['center']
        seal['center'] = [round(v) for v in _rotate_point(cx, cy, w, h, angle, *shift)]
    if 'seals' in deg['seal']:
        deg['seal']['seals'][0]['center'] = deg['seal']['center']


def _skew(pixels, rng, s, info, seal):
    """Skew up to 3 degrees and shift up to 25 px (at 200 dpi), moving the recorded seal
    centres with the page."""
    angle = round(_signed(rng, 0.2, 3.0), 3)
    shift = (int(rng.uniform(-25, 25) * s), int(rng.uniform(-25, 25) * s))
    h, w = pixels.shape[:2]
    if seal:
        _seal_moves(info['degradations'], w, h, angle, shift)
    info['skew_deg'] = angle
    info['degradations']['translate_px'] = list(shift)
    return skew_and_shift(pixels, angle, shift)


def degrade_hard(gray, rng, s, seal_name, seal):
    info = {'degradations': {}}
    deg = info['degradations']
    deg['ruling_damage'] = damage_ruling(gray, rng, s)
    deg['bleed_through'] = bleed_through(gray, rng, s)
    pixels = gray
    if seal:
        pixels, deg['seal'] = add_seal(gray, rng, s, seal_name)
    pixels = _skew(pixels, rng, s, info, seal)
    deg['brightness_min'] = uneven_light(pixels, rng, 0.82)
    deg['shadow'] = edge_shadow(pixels, rng, s)
    deg['blur_sigma'] = round(float(rng.uniform(0.8, 1.3)) * s, 3)
    deg['noise_sigma'] = round(float(rng.uniform(8, 14)), 2)
    pixels = blur_and_noise(pixels, rng, deg['blur_sigma'], deg['noise_sigma'])
    pixels, deg['speckle'] = damage.speckle(pixels, rng, s, float(rng.uniform(0.0001, 0.0008)))
    info['jpeg_quality'] = int(rng.integers(45, 61))
    info['scan_dpi'] = int(rng.choice(SCAN_DPIS))
    info['turned_deg'] = 180 if rng.random() < 0.05 else 0
    return pixels, info


def degrade_rough(gray, rng, s, seal_name, seal):
    """Hard, stronger, and the damage of copies of copies, faxes and cheap scanners."""
    info = {'degradations': {}}
    deg = info['degradations']
    deg['ruling_damage'] = damage_ruling(gray, rng, s)
    if rng.random() < 0.5:
        gray, deg['worn_ink'] = damage.worn_ink(gray, rng, s, float(rng.uniform(0.15, 0.45)))
    deg['bleed_through'] = bleed_through(gray, rng, s)
    pixels = gray
    if seal:
        inks = ['red', 'blue'] if rng.random() < 0.35 else None
        pixels, deg['seal'] = add_seal(gray, rng, s, seal_name, inks)
    pixels = _skew(pixels, rng, s, info, seal)
    deg['brightness_min'] = uneven_light(pixels, rng, 0.75)
    if rng.random() < 0.5:
        deg['shadow'] = edge_shadow(pixels, rng, s)
    if rng.random() < 0.4:
        pixels, deg['streaks'] = damage.streaks(pixels, rng, s)
    if rng.random() < 0.3:
        pixels, deg['dark_border'] = damage.dark_border(pixels, rng, s)
    density = float(np.exp(rng.uniform(np.log(0.0005), np.log(0.005))))
    speck_first = rng.random() < 0.5
    if speck_first:
        pixels, deg['speckle'] = damage.speckle(pixels, rng, s, density)
    deg['blur_sigma'] = round(float(rng.uniform(0.6, 1.4)) * s, 3)
    deg['noise_sigma'] = round(float(rng.uniform(6, 16)), 2)
    pixels = blur_and_noise(pixels, rng, deg['blur_sigma'], deg['noise_sigma'])
    if not speck_first:
        pixels, deg['speckle'] = damage.speckle(pixels, rng, s, density)
    deg['speckle']['before_blur'] = bool(speck_first)
    mode = str(rng.choice(['colour', 'grey', 'bilevel'], p=[0.35, 0.4, 0.25]))
    deg['scan_mode'] = mode
    info['jpeg_quality'] = int(rng.integers(40, 61))
    if mode == 'grey' and pixels.ndim == 3:
        pixels = pixels.mean(axis=2)
    elif mode == 'colour' and pixels.ndim == 2:
        tint = np.array([1.0, float(rng.uniform(0.96, 1.0)), float(rng.uniform(0.9, 0.98))], np.float32)
        pixels = pixels[:, :, None] * tint[None, None, :]
    elif mode == 'bilevel':
        pixels, deg['bilevel'] = damage.to_bilevel(pixels, rng, fax=bool(rng.random() < 0.5))
        info['jpeg_quality'] = None
    info['scan_dpi'] = int(rng.choice(SCAN_DPIS))
    info['turned_deg'] = int(rng.choice([90, 180, 270])) if rng.random() < 0.3 else 0
    return pixels, info


def _scan_geometry(pixels, info, s):
    """Resample to the scan's resolution and turn the page as it was fed; the first is
    kept in info['scan_dpi'] (the PDF page stays A4), the turn in info['turned_deg']."""
    factor = info.get('scan_dpi', 200) / (200.0 * s) if info.get('scan_dpi') else 1.0
    bilevel = 'bilevel' in info['degradations']
    pixels = damage.resample(pixels, factor)
    if bilevel and abs(factor - 1.0) > 1e-6:
        pixels = np.where(pixels < 128, 0.0, 255.0).astype(np.float32)
    turned = info.get('turned_deg', 0)
    if turned:
        pixels = damage.turn(pixels, turned // 90)
    return pixels


def degrade(image, level, rng, seal_name=None, seal=None, scan_dpi=None):
    """A scanned-looking copy of a clean page image at `level` (clean|mild|hard|rough).

    seal_name: text around the seal (hard, rough); seal: force a seal on or off
    (default: on for 70% of hard and rough pages); scan_dpi: resample every page to
    this resolution instead of the level's own choice."""
    if level not in LEVELS:
        raise ValueError(f'level must be one of {LEVELS}')
    gray = np.asarray(image.convert('L'), dtype=np.float32).copy()
    s = _scale(image)
    if level == 'clean':
        pixels, info = gray, {'skew_deg': 0.0, 'jpeg_quality': None, 'degradations': {}}
    elif level == 'mild':
        pixels, info = degrade_mild(gray, rng, s)
    else:
        seal = bool(rng.random() < 0.7) if seal is None else seal
        make = degrade_hard if level == 'hard' else degrade_rough
        pixels, info = make(gray, rng, s, seal_name or DEFAULT_SEAL_NAME, seal)
    if scan_dpi:
        info['scan_dpi'] = int(scan_dpi)
    return _finish(_scan_geometry(pixels, info, s), info)
