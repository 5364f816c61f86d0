"""Stage 1, ingest: a PDF or image file -> Page images.

PDFs are rasterised one page at a time with pdf2image (poppler), so a long scan never
sits in memory whole. Images are loaded as they are (multi-frame TIFF gives several
pages). Anything we cannot read raises IngestError with a one-line reason.
"""
from __future__ import annotations

import os
from typing import Iterator

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from models import Page

MAX_PAGES = 2000
MAX_PAGE_PIXELS = 60_000_000        # ~ A0 at 300 dpi; larger is not a page scan
MAX_FILE_BYTES = 2 * 1024 ** 3
IMAGE_SUFFIXES = {'.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp', '.webp'}
PDF_SUFFIXES = {'.pdf'}
SUPPORTED_SUFFIXES = IMAGE_SUFFIXES | PDF_SUFFIXES

Image.MAX_IMAGE_PIXELS = MAX_PAGE_PIXELS


class IngestError(Exception):
    """The file cannot be read as a scan; str(err) is a one-line reason."""


def sniff_kind(path: str) -> str:
    """'pdf' or 'image' from the file's first bytes (not its name)."""
    try:
        size = os.path.getsize(path)
        with open(path, 'rb') as fh:
            head = fh.read(16)
    except OSError as err:
        raise IngestError(f'cannot open file: {err.strerror or err}') from None
    if size == 0:
        raise IngestError('empty file')
    if size > MAX_FILE_BYTES:
        raise IngestError(f'file too large ({size / 1024 ** 3:.1f} GiB > 2 GiB)')
    if head.lstrip(b'\x00\t\r\n ').startswith(b'%PDF'):
        return 'pdf'
    signatures = (b'\x89PNG', b'\xff\xd8\xff', b'II*\x00', b'MM\x00*', b'BM', b'RIFF')
    if head.startswith(signatures):
        return 'image'
    raise IngestError('not a PDF or image file')


def _pdf_info(path: str) -> dict:
    from pdf2image import pdfinfo_from_path
    from pdf2image.exceptions import (PDFInfoNotInstalledError, PDFPageCountError,
                                      PDFSyntaxError)
    try:
        return pdfinfo_from_path(path)
    except PDFInfoNotInstalledError:
        raise IngestError('poppler (pdfinfo) is not installed') from None
    except (PDFPageCountError, PDFSyntaxError, ValueError) as err:
        text = str(err).lower()
        if 'password' in text or 'encrypt' in text:
            raise IngestError('encrypted PDF (password required)') from None
        raise IngestError('corrupt or truncated PDF') from None


def count_pages(path: str) -> int:
    kind = sniff_kind(path)
    if kind == 'pdf':
        pages = int(_pdf_info(path).get('Pages', 0))
        if pages <= 0:
            raise IngestError('PDF has no pages')
    else:
        pages = sum(1 for _ in _image_frames(path))
    if pages > MAX_PAGES:
        raise IngestError(f'too many pages ({pages} > {MAX_PAGES})')
    return pages


def _pdf_page(path: str, number: int, dpi: int) -> Page:
    from pdf2image import convert_from_path
    from pdf2image.exceptions import PDFPageCountError, PDFSyntaxError
    try:
        images = convert_from_path(path, dpi=dpi, first_page=number, last_page=number,
                                   grayscale=False, thread_count=1)
    except (PDFPageCountError, PDFSyntaxError) as err:
        raise IngestError(f'cannot render page {number}: {str(err).splitlines()[0][:120]}') from None
    except Image.DecompressionBombError:
        raise IngestError(f'page {number} is too large to render at {dpi} dpi') from None
    if not images:
        raise IngestError(f'page {number} did not render (corrupt or truncated PDF)')
    return Page(number=number, image=_to_array(images[0]), dpi=dpi, source=path)


def _image_frames(path: str) -> Iterator[Image.Image]:
    try:
        with Image.open(path) as img:
            for index in range(getattr(img, 'n_frames', 1)):
                img.seek(index)
                frame = ImageOps.exif_transpose(img.copy())
                frame.load()
                yield frame
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise IngestError(f'unreadable image ({str(err).splitlines()[0][:100]})') from None
    except Image.DecompressionBombError:
        raise IngestError('image too large for a page scan') from None


def _to_array(img: Image.Image) -> np.ndarray:
    if img.mode in ('1', 'L', 'I;16', 'I', 'F'):
        return np.asarray(img.convert('L'))
    rgb = np.asarray(img.convert('RGB'))
    return np.ascontiguousarray(rgb[:, :, ::-1])     # BGR, as OpenCV expects


def _image_dpi(img: Image.Image, default: int) -> int:
    dpi = img.info.get('dpi')
    try:
        value = int(round(float(dpi[0]))) if dpi else 0
    except (TypeError, ValueError):
        value = 0
    return value if 50 <= value <= 1200 else default


def iter_pages(path: str, dpi: int = 200) -> Iterator[Page]:
    """Yield the pages of a PDF or image file in order; IngestError if unreadable."""
    kind = sniff_kind(path)
    if kind == 'pdf':
        for number in range(1, count_pages(path) + 1):
            yield load_page(path, number, dpi)
        return
    for number, frame in enumerate(_image_frames(path), start=1):
        if number > MAX_PAGES:
            raise IngestError(f'too many pages (> {MAX_PAGES})')
        yield Page(number=number, image=_to_array(frame), dpi=_image_dpi(frame, dpi), source=path)


def load_page(path: str, number: int, dpi: int = 200) -> Page:
    """One page (1-based) of a file: the unit of work of a page task."""
    if sniff_kind(path) == 'pdf':
        return _pdf_page(path, number, dpi)
    for index, frame in enumerate(_image_frames(path), start=1):
        if index == number:
            return Page(number=number, image=_to_array(frame), dpi=_image_dpi(frame, dpi),
                        source=path)
    raise IngestError(f'no page {number} in image file')


def list_inputs(paths: list[str]) -> list[str]:
    """Expand folders (recursively) into supported files, sorted; files are kept as given."""
    found: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            for root, _dirs, files in os.walk(path):
                for name in files:
                    if os.path.splitext(name)[1].lower() in SUPPORTED_SUFFIXES:
                        found.append(os.path.join(root, name))
        else:
            found.append(path)
    return sorted(dict.fromkeys(found), key=lambda p: (os.path.dirname(p), p)) if found else []
