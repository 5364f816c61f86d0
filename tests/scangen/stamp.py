"""A round official seal (公章): outer ring, the unit's name around the top, a five-point
star in the middle and an optional horizontal line of text, in red or blue ink with an
uneven, slightly blurred impression. Composited by multiplication, so the print under it
stays visible, as with a real seal."""
import math

import cv2
import numpy as np
from PIL import Image, ImageDraw

INKS = {'red': (205, 35, 45), 'blue': (35, 70, 175)}
SEAL_SUFFIXES = ['财务专用章', '业务专用章', '', '']


def _star(cx, cy, radius):
    points = []
    for k in range(10):
        r = radius if k % 2 == 0 else radius * 0.382
        a = -math.pi / 2 + k * math.pi / 5
        points.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return points


def _ring_text(mask, text, font, center, radius):
    """Characters on an arc over the top, upright relative to the centre."""
    span = min(250.0, 22.0 * len(text))
    for i, ch in enumerate(text):
        angle = -span / 2 + span * (i + 0.5) / len(text)      # degrees from top, clockwise
        size = int(font.size * 1.5)
        glyph = Image.new('L', (size, size), 0)
        ImageDraw.Draw(glyph).text((size / 2, size / 2), ch, font=font, fill=255, anchor='mm')
        glyph = glyph.rotate(-angle, resample=Image.BICUBIC)
        x = center + radius * math.sin(math.radians(angle)) - size / 2
        y = center - radius * math.cos(math.radians(angle)) - size / 2
        mask.paste(255, (int(x), int(y)), glyph)


def seal_mask(rng, diameter, name, font_spec):
    """Alpha mask (float 0..1, diameter x diameter) of one seal impression."""
    d = int(diameter)
    mask = Image.new('L', (d, d), 0)
    draw = ImageDraw.Draw(mask)
    ring = max(2, int(d * 0.035))
    draw.ellipse([ring / 2, ring / 2, d - ring / 2, d - ring / 2], outline=255, width=ring)
    _ring_text(mask, name, font_spec.at(d * 0.125), d / 2, d * 0.37)
    draw.polygon(_star(d / 2, d / 2, d * 0.15), fill=255)
    suffix = SEAL_SUFFIXES[int(rng.integers(len(SEAL_SUFFIXES)))]
    if suffix:
        draw.text((d / 2, d * 0.74), suffix, font=font_spec.at(d * 0.075), fill=255, anchor='mm')
    mask = mask.rotate(float(rng.uniform(-35, 35)), resample=Image.BICUBIC)
    alpha = np.asarray(mask, dtype=np.float32) / 255.0
    # Uneven inking: a smooth field plus small dropouts where the seal did not print.
    field = cv2.resize(rng.uniform(0.45, 1.0, (6, 6)).astype(np.float32), (d, d),
                       interpolation=cv2.INTER_CUBIC)
    dropouts = (rng.random((d, d)) > 0.08).astype(np.float32)
    alpha = cv2.GaussianBlur(alpha * np.clip(field, 0, 1) * dropouts, (0, 0), 1.0)
    return np.clip(alpha, 0, 1)


def apply_seal(rgb, rng, center, diameter, name, font_spec, ink='red'):
    """Multiply a seal onto an RGB float32 page (0..255) in place."""
    alpha = seal_mask(rng, diameter, name, font_spec) * float(rng.uniform(0.75, 0.95))
    d = alpha.shape[0]
    x0, y0 = int(center[0] - d / 2), int(center[1] - d / 2)
    h, w = rgb.shape[:2]
    ax0, ay0 = max(0, -x0), max(0, -y0)
    bx0, by0 = max(0, x0), max(0, y0)
    bx1, by1 = min(w, x0 + d), min(h, y0 + d)
    if bx1 <= bx0 or by1 <= by0:
        return
    a = alpha[ay0:ay0 + by1 - by0, ax0:ax0 + bx1 - bx0, None]
    color = np.array(INKS[ink], dtype=np.float32) / 255.0
    region = rgb[by0:by1, bx0:bx1]
    region *= 1.0 - a + a * color
