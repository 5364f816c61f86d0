"""Damage of the kind real archive scans carry, beyond the clean/mild/hard basics:
speckle, worn and low-contrast ink, photocopier streaks and dark borders, 150-300 dpi
resampling, 1-bit and fax modes, pages turned by a quarter or half turn.

Every function takes float32 pixels (gray HxW or RGB HxWx3, 0-255, paper ~255) and an
numpy Generator, changes or returns the pixels and reports its parameters, so the truth
file can say exactly what was done to each page. Lengths are given at 200 dpi and
scaled by `s` (page width / A4 width at 200 dpi).

Why our own code rather than augraphy: augraphy installs opencv-python beside the
project's opencv-python-headless (two packages writing one cv2), draws from the global
`random` state (so a seed would not give byte-identical corpora), and takes seconds a
page; the handful of effects the forms need are a few lines each here.
"""
import cv2
import numpy as np


def _ink_darkness(pixels):
    gray = pixels.mean(axis=2) if pixels.ndim == 3 else pixels
    return np.clip((255.0 - gray) / 255.0, 0.0, 1.0)


def _apply_gray(pixels, new_gray, old_gray):
    """Change a page's brightness by what happened to its gray version (keeps colour)."""
    if pixels.ndim == 2:
        return new_gray
    ratio = (new_gray + 1.0) / (old_gray + 1.0)
    return np.clip(pixels * ratio[..., None], 0, 255)


def speckle(pixels, rng, s, density):
    """Dark specks over the whole page: `density` of the pixels, as single pixels and
    small clumps (up to ~3 px at 200 dpi), and a few light dropouts in the ink. What a
    dusty platen, toner spatter and a photocopy of a photocopy leave."""
    h, w = pixels.shape[:2]
    n = int(density * h * w)
    dots = np.zeros((h, w), np.float32)
    if n:
        ys, xs = rng.integers(0, h, n), rng.integers(0, w, n)
        darkness = rng.uniform(0.55, 1.0, n).astype(np.float32)
        dots[ys, xs] = darkness
        clumps = int(n * float(rng.uniform(0.05, 0.2)))
        for y, x, r in zip(rng.integers(0, h, clumps), rng.integers(0, w, clumps),
                           rng.uniform(0.8, 1.8, clumps) * s):
            cv2.circle(dots, (int(x), int(y)), max(1, int(round(r))), float(rng.uniform(0.6, 1.0)), -1)
    gray = pixels.mean(axis=2) if pixels.ndim == 3 else pixels
    new = gray * (1.0 - dots)
    # Light dropouts inside the print (fewer: print covers little of a page).
    holes = np.zeros((h, w), np.float32)
    m = n // 6
    if m:
        ys, xs = rng.integers(0, h, m), rng.integers(0, w, m)
        holes[ys, xs] = rng.uniform(0.5, 1.0, m)
    new = new + (255.0 - new) * holes
    return _apply_gray(pixels, new, gray), {'density': round(float(density), 5), 'pixels': n}


def worn_ink(pixels, rng, s, strength):
    """Low-contrast, broken print: the ink is lightened everywhere (faded toner) and in
    blotches (low-ink bands), and the paper greyed, so strokes stay light and broken."""
    h, w = pixels.shape[:2]
    gray = pixels.mean(axis=2) if pixels.ndim == 3 else pixels
    dark = _ink_darkness(gray)
    # Smooth noise at two scales: wide low-ink bands and a fine stroke-breaking grain.
    coarse = cv2.resize(rng.uniform(0, 1, (max(2, h // int(120 * s)), max(2, w // int(120 * s)))).astype(np.float32),
                        (w, h), interpolation=cv2.INTER_CUBIC)
    fine = cv2.GaussianBlur(rng.uniform(0, 1, (h, w)).astype(np.float32), (0, 0), 1.2 * s)
    fine = (fine - fine.mean()) / max(float(fine.std()), 1e-6)
    keep = 1.0 - strength * np.clip(coarse, 0, 1) - 0.18 * strength * np.clip(fine, -3, 3)
    keep = np.clip(keep, 0.3, 1.0)
    # Kept legible to a person: the faintest print still stands ~35 gray levels off
    # the paper (what an archivist would accept rather than rescan).
    fade = float(rng.uniform(0.55, 0.8)) if strength > 0.3 else float(rng.uniform(0.7, 0.9))
    paper = float(rng.uniform(205, 235)) if strength > 0.3 else float(rng.uniform(228, 245))
    new = paper - dark * keep * fade * paper
    return _apply_gray(pixels, new, gray), {'strength': round(float(strength), 3), 'fade': round(fade, 3),
                                            'paper': round(paper, 1)}


def streaks(pixels, rng, s):
    """Photocopier streaks: thin dark lines running the whole page height (a scratch on
    the drum) and light bands (a dirty mirror)."""
    h, w = pixels.shape[:2]
    gray = pixels.mean(axis=2) if pixels.ndim == 3 else pixels
    new = gray.copy()
    out = []
    for _ in range(int(rng.integers(1, 4))):
        x = int(rng.integers(0, w))
        width = max(1, int(rng.uniform(1.0, 4.0) * s))
        level = float(rng.uniform(0.15, 0.45))
        new[:, x:x + width] *= (1.0 - level)
        out.append({'x': x, 'width': width, 'darkness': round(level, 2)})
    band_x, band_w = int(rng.integers(0, w)), int(rng.uniform(20, 80) * s)
    new[:, band_x:band_x + band_w] = new[:, band_x:band_x + band_w] * 0.85 + 255 * 0.15
    return _apply_gray(pixels, new, gray), {'dark': out, 'light_band': [band_x, band_w]}


def dark_border(pixels, rng, s):
    """Black margins of a photocopy made with the lid open, on one or two edges."""
    h, w = pixels.shape[:2]
    edges = list(rng.choice(['left', 'right', 'top', 'bottom'], size=int(rng.integers(1, 3)), replace=False))
    gray = pixels.mean(axis=2) if pixels.ndim == 3 else pixels
    new = gray.copy()
    out = {}
    for edge in edges:
        depth = int(rng.uniform(12, 60) * s)
        ragged = (np.cumsum(rng.normal(0, 0.6, h if edge in ('left', 'right') else w)) * s).astype(int)
        ragged = np.clip(depth + ragged - ragged.mean().astype(int), 2, int(90 * s))
        for i, d in enumerate(ragged):
            if edge == 'left':
                new[i, :d] = np.minimum(new[i, :d], 30)
            elif edge == 'right':
                new[i, w - d:] = np.minimum(new[i, w - d:], 30)
            elif edge == 'top':
                new[:d, i] = np.minimum(new[:d, i], 30)
            else:
                new[h - d:, i] = np.minimum(new[h - d:, i], 30)
        out[str(edge)] = depth
    return _apply_gray(pixels, new, gray), out


def resample(pixels, factor):
    """A scan at another resolution: factor = scan dpi / drawing dpi."""
    if abs(factor - 1.0) < 1e-6:
        return pixels
    h, w = pixels.shape[:2]
    size = (max(1, int(round(w * factor))), max(1, int(round(h * factor))))
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return cv2.resize(pixels, size, interpolation=interp)


def to_bilevel(pixels, rng, fax):
    """1-bit scan (a fax or a black-and-white scanner mode): a threshold set, as a
    scanner's automatic exposure does, between the page's paper and its print (give or
    take a fifth), and for a standard-resolution fax, every second line only (200 x 100
    dpi), shown doubled."""
    gray = pixels.mean(axis=2) if pixels.ndim == 3 else pixels
    # Exposure is set on the page's middle: a dark copier border is no print.
    h, w = gray.shape
    middle = gray[h // 8:h - h // 8, w // 8:w - w // 8]
    paper, print_ = float(np.median(middle)), float(np.percentile(middle, 1.0))
    threshold = print_ + (paper - print_) * float(rng.uniform(0.4, 0.6))
    if fax:
        h = gray.shape[0]
        half = cv2.resize(gray, (gray.shape[1], max(1, h // 2)), interpolation=cv2.INTER_AREA)
        binary = np.where(half < threshold, 0.0, 255.0).astype(np.float32)
        out = np.repeat(binary, 2, axis=0)[:h]
        if out.shape[0] < h:
            out = np.vstack([out, np.full((h - out.shape[0], out.shape[1]), 255.0, np.float32)])
    else:
        out = np.where(gray < threshold, 0.0, 255.0).astype(np.float32)
    return out, {'threshold': round(threshold, 1), 'fax_200x100': bool(fax)}


def turn(pixels, quarter_turns):
    """The page fed sideways or upside down: quarter_turns x 90 degrees counter-clockwise."""
    return np.ascontiguousarray(np.rot90(pixels, k=quarter_turns))
