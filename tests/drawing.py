"""Small synthetic pages for stage tests: a ruled table drawn with OpenCV and text
drawn with a CJK font, so each stage can be checked on an image whose truth is known."""
import os

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_CANDIDATES = [
    '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc',
    '/usr/share/fonts/truetype/arphic/uming.ttc',
    '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc',
]


def cjk_font(size: int):
    for path in FONT_CANDIDATES:
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    raise RuntimeError('no CJK font installed (make setup installs fonts-wqy-zenhei)')


def ruled_table(width=1200, height=800, rows=(100, 200, 300, 400, 500), cols=(100, 400, 700, 1000),
                merged=(), thickness=2):
    """White page with a lattice; `merged` lists (row, col) lattice cells whose right
    wall ('r') or bottom wall ('b') is left out: (r, c, 'r')."""
    img = np.full((height, width), 255, np.uint8)
    skip = set(merged)
    for i, y in enumerate(rows):
        for j in range(len(cols) - 1):
            if i > 0 and i < len(rows) - 1 and (i - 1, j, 'b') in skip:
                continue
            cv2.line(img, (cols[j], y), (cols[j + 1], y), 0, thickness)
    for j, x in enumerate(cols):
        for i in range(len(rows) - 1):
            if j > 0 and j < len(cols) - 1 and (i, j - 1, 'r') in skip:
                continue
            cv2.line(img, (x, rows[i]), (x, rows[i + 1]), 0, thickness)
    return img


def put_text(img: np.ndarray, text: str, xy, size=28) -> np.ndarray:
    pil = Image.fromarray(img)
    ImageDraw.Draw(pil).text(xy, text, font=cjk_font(size), fill=0)
    return np.asarray(pil).copy()


def text_line(text: str, size=28, pad=8) -> np.ndarray:
    font = cjk_font(size)
    x0, y0, x1, y1 = font.getbbox(text)
    img = Image.new('L', (x1 - x0 + 2 * pad, y1 - y0 + 2 * pad), 255)
    ImageDraw.Draw(img).text((pad - x0, pad - y0), text, font=font, fill=0)
    return np.asarray(img).copy()
