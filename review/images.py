"""Page images and cell crops. A page is found by its database id; its file is the
`image_path` the worker stored, and it is served only if it lies inside the store's
page folder (EXTRACTOR_DATA_DIR/pages): nothing a request says becomes a file path.
"""
from __future__ import annotations

import io
import os
import threading
from collections import OrderedDict
from typing import Optional

from PIL import Image

from workers.store.models import PageRow

CROP_MARGIN = 0.35          # of the cell's height, around the cell
_cache: 'OrderedDict[tuple, Image.Image]' = OrderedDict()
_cache_lock = threading.Lock()
CACHE_PAGES = 8


def page_file(page: PageRow, pages_dir: str) -> Optional[str]:
    """The page's PNG if it exists inside `pages_dir`, else None."""
    if not page.image_path:
        return None
    root = os.path.realpath(pages_dir)
    path = os.path.realpath(page.image_path)
    if os.path.commonpath([root, path]) != root or not os.path.isfile(path):
        return None
    return path


def _load(path: str) -> Image.Image:
    key = (path, os.path.getmtime(path))
    with _cache_lock:
        image = _cache.get(key)
        if image is not None:
            _cache.move_to_end(key)
            return image
    image = Image.open(path)
    image.load()
    with _cache_lock:
        _cache[key] = image
        while len(_cache) > CACHE_PAGES:
            _cache.popitem(last=False)
    return image


def crop_png(path: str, bbox: list[int], margin: float = CROP_MARGIN) -> bytes:
    """The cell `bbox` ([x0, y0, x1, y1] in page pixels) with some page around it."""
    image = _load(path)
    x0, y0, x1, y1 = (int(v) for v in bbox[:4])
    pad = int(max(8, (y1 - y0) * margin))
    box = (max(0, min(x0, x1) - pad), max(0, min(y0, y1) - pad),
           min(image.width, max(x0, x1) + pad), min(image.height, max(y0, y1) + pad))
    if box[2] <= box[0] or box[3] <= box[1]:
        raise ValueError('the box is outside the page')
    out = io.BytesIO()
    image.crop(box).save(out, format='PNG', optimize=False)
    return out.getvalue()


def valid_bbox(bbox) -> bool:
    return (isinstance(bbox, (list, tuple)) and len(bbox) >= 4
            and all(isinstance(v, (int, float)) for v in bbox[:4]))
