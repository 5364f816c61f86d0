"""Page images and cell crops (blueprint `images`). A page is found by its database
id and shown only if its document is visible to the user (review.access); its file is
the `image_path` the worker stored, served only if it lies inside the store's page
folder (EXTRACTOR_DATA_DIR/pages): nothing a request says becomes a file path, and no
path is ever sent to the browser.
"""
from __future__ import annotations

import io
import os
import threading
from collections import OrderedDict
from typing import Optional

from flask import Blueprint, Response, abort, current_app
from flask_login import current_user
from PIL import Image
from sqlalchemy import select

from review.access import login_required, may_see, visible_page_or_404
from review.store import store
from store.models import FieldRow, FlagRow, PageRow

CROP_MARGIN = 0.35          # of the cell's height, around the cell
_cache: 'OrderedDict[tuple, Image.Image]' = OrderedDict()
_cache_lock = threading.Lock()
CACHE_PAGES = 8
# The crop is shown so that text is about as large as on a 200 dpi scan at 1:1 (a 10.5 pt
# line is ~29 px there): lower-resolution pages are scaled up to it.
READABLE_DPI = 200
bp = Blueprint('images', __name__)


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


def readable_scale(dpi) -> float:
    """How much to enlarge a crop of a page scanned at `dpi` for legible text."""
    return round(max(1.0, READABLE_DPI / dpi), 3) if isinstance(dpi, (int, float)) and dpi > 0 else 1.0


# ------------------------------------------------------------------ routes

def _send_png(data: bytes) -> Response:
    response = Response(data, mimetype='image/png')
    response.headers['Cache-Control'] = 'private, max-age=300'
    return response


@bp.route('/pages/<int:page_id>/image')
@login_required
def page_image(page_id: int):
    with store().session() as s:
        page = visible_page_or_404(s, current_user, page_id)
        path = page_file(page, current_app.config['PAGES_DIR'])
    if path is None:
        abort(404)
    with open(path, 'rb') as fh:
        return _send_png(fh.read())


def _crop(document_id: int, number: Optional[int], bbox) -> Response:
    with store().session() as s:
        if not may_see(s, current_user, document_id):
            abort(404)
        page = s.scalar(select(PageRow).where(PageRow.document_id == document_id, PageRow.number == number))
        path = page_file(page, current_app.config['PAGES_DIR']) if page is not None else None
    if path is None or not valid_bbox(bbox):
        abort(404)
    try:
        return _send_png(crop_png(path, bbox))
    except ValueError:
        abort(404)


@bp.route('/fields/<int:field_id>/crop')
@login_required
def field_crop(field_id: int):
    with store().session() as s:
        field = s.get(FieldRow, field_id)
        where = (field.form.document_id, field.page, field.bbox) if field is not None else None
    return _crop(*where) if where else abort(404)


@bp.route('/flags/<int:flag_id>/crop')
@login_required
def flag_crop(flag_id: int):
    with store().session() as s:
        flag = s.get(FlagRow, flag_id)
        where = (flag.document_id, flag.page, flag.bbox) if flag is not None else None
    return _crop(*where) if where else abort(404)
