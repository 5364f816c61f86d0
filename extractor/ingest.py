"""Stage 1, ingest: a PDF or image file -> Page images.

PDFs are rasterised one page at a time by poppler's pdftoppm, so a long scan never
sits in memory whole. Images are loaded as they are (a multi-frame TIFF gives several
pages, read one after another from one open file). Anything we cannot or should not
read raises IngestError with a one-line, plain-language reason.

Guards, all before a pixel is decoded (limits in `Limits`, set by environment):
  * regular files only: a named pipe, a device or a socket (also behind a symlink) is
    refused by looking at what the opened file is, so nothing blocks on reading it;
  * a PDF's page count and page sizes come from `pdfinfo`; a page is rendered only if
    its size at the chosen dpi is within the limits (sides, decoded memory);
  * an image's size is read from its header and checked the same way;
  * pdfinfo and pdftoppm run with time limits and a memory cap, and are killed with
    their whole process group on a timeout or any exception (extractor/poppler.py).
"""
from __future__ import annotations

import errno
import os
import stat
import threading
import warnings
from dataclasses import dataclass
from io import BytesIO
from typing import Callable, Iterator, Optional

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from extractor import poppler
from models import Page

IMAGE_SUFFIXES = {'.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp', '.webp'}
PDF_SUFFIXES = {'.pdf'}
SUPPORTED_SUFFIXES = IMAGE_SUFFIXES | PDF_SUFFIXES
# Decoded bytes per pixel we budget for: pages travel as 3-channel BGR arrays.
BYTES_PER_PIXEL = 3


def _env_number(name: str, default: float) -> float:
    value = os.environ.get(name, '').strip()
    try:
        number = float(value) if value else default
    except ValueError:
        raise ValueError(f'{name} must be a number, not {value!r}') from None
    if number <= 0:
        raise ValueError(f'{name} must be positive, not {value!r}')
    return number


@dataclass(frozen=True)
class Limits:
    """What a page scan may be. The defaults take an A3 page at 600 dpi (7016 x 9921 px,
    209 MB decoded) and refuse what no form scan is."""
    max_pages: int = 2000
    max_file_bytes: int = 2 * 1024 ** 3
    # Longest side of a page in pixels, at the dpi it is rendered at (PDF) or stored
    # with (image). A3's long side at 600 dpi is 9921 px.
    max_page_side: int = 10_000
    # A page narrower or lower than this cannot hold a form's grid of cells (at 200 dpi
    # 200 px is 25 mm); OpenCV's stages would fail on a 1-pixel page.
    min_page_side: int = 200
    # Decoded pixels of one page, in MB: the pipeline holds a few copies of it.
    page_memory_mb: int = 256
    pdfinfo_seconds: float = 20
    render_seconds: float = 60

    @classmethod
    def from_env(cls) -> 'Limits':
        return cls(max_pages=int(_env_number('EXTRACTOR_MAX_PAGES', cls.max_pages)),
                   max_page_side=int(_env_number('EXTRACTOR_MAX_PAGE_SIDE', cls.max_page_side)),
                   min_page_side=int(_env_number('EXTRACTOR_MIN_PAGE_SIDE', cls.min_page_side)),
                   page_memory_mb=int(_env_number('EXTRACTOR_PAGE_MEMORY_MB', cls.page_memory_mb)),
                   pdfinfo_seconds=_env_number('EXTRACTOR_PDFINFO_TIMEOUT', cls.pdfinfo_seconds),
                   render_seconds=_env_number('EXTRACTOR_RENDER_TIMEOUT', cls.render_seconds))

    @property
    def render_memory_bytes(self) -> int:
        """Address space allowed to pdftoppm: the page's pixels plus room for poppler
        itself (fonts, images of the page, its own buffers)."""
        return max(1024 ** 3, 4 * self.page_memory_mb * 1024 ** 2)


_limits: Optional[Limits] = None


def limits() -> Limits:
    """The limits from the environment, read once."""
    global _limits
    if _limits is None:
        _limits = Limits.from_env()
        # Our own size checks come first; PIL's decompression-bomb guard is the
        # backstop for a path that skips them (its warning is made an error below).
        Image.MAX_IMAGE_PIXELS = _limits.max_page_side ** 2
    return _limits


class IngestError(Exception):
    """The file cannot be read as a scan; str(err) is a one-line reason."""


# ------------------------------------------------------------------ the file itself

_KINDS = ((stat.S_ISFIFO, 'a named pipe'), (stat.S_ISCHR, 'a device'), (stat.S_ISBLK, 'a device'),
          (stat.S_ISSOCK, 'a socket'), (stat.S_ISDIR, 'a folder'))


def _not_regular(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), 'not a regular file')


def check_regular_file(path: str) -> int:
    """The size of a regular file (symlinks followed); IngestError for anything else.
    Opened non-blocking and checked on the open descriptor, so a named pipe never
    blocks us and a file swapped after the check is still the one checked."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, 'O_NOCTTY', 0))
    except OSError as err:
        if err.errno == errno.ENXIO:       # a FIFO or socket with nobody on the other end
            raise IngestError('not a regular file (a named pipe or socket)') from None
        raise IngestError(f'cannot open file: {err.strerror or err}') from None
    try:
        info = os.fstat(fd)
    finally:
        os.close(fd)
    if not stat.S_ISREG(info.st_mode):
        raise IngestError(f'not a regular file ({_not_regular(info.st_mode)})')
    return info.st_size


def sniff_kind(path: str) -> str:
    """'pdf' or 'image' from the file's first bytes (not its name)."""
    size = check_regular_file(path)
    if size == 0:
        raise IngestError('empty file')
    if size > limits().max_file_bytes:
        raise IngestError(f'file too large ({size / 1024 ** 3:.1f} GiB > '
                          f'{limits().max_file_bytes / 1024 ** 3:.0f} GiB)')
    try:
        with open(path, 'rb') as fh:
            head = fh.read(1024)
    except OSError as err:
        raise IngestError(f'cannot read file: {err.strerror or err}') from None
    signatures = (b'\x89PNG', b'\xff\xd8\xff', b'II*\x00', b'MM\x00*', b'BM', b'RIFF')
    if head.startswith(signatures):
        return 'image'
    # A PDF may have a few bytes of junk before its header (poppler reads those too).
    if head.lstrip(b'\x00\t\r\n ').startswith(b'%PDF') or b'%PDF-' in head:
        return 'pdf'
    raise IngestError('not a PDF or image file')


# ------------------------------------------------------------------ size checks

def check_page_size(width: int, height: int, dpi: int, what: str) -> None:
    """IngestError unless a page of width x height pixels is one we can and should read."""
    lim = limits()
    if min(width, height) < lim.min_page_side:
        raise IngestError(f'{what} is too small to hold a form ({width} x {height} px at {dpi} dpi; '
                          f'at least {lim.min_page_side} px a side)')
    if max(width, height) > lim.max_page_side:
        raise IngestError(f'{what} is too large ({width} x {height} px at {dpi} dpi; '
                          f'at most {lim.max_page_side} px a side)')
    megabytes = width * height * BYTES_PER_PIXEL / 1024 ** 2
    if megabytes > lim.page_memory_mb:
        raise IngestError(f'{what} is too large ({width} x {height} px at {dpi} dpi would take '
                          f'{megabytes:.0f} MB; the limit is {lim.page_memory_mb} MB a page)')


def _points_to_pixels(points: float, dpi: int) -> int:
    return int(round(points * dpi / 72.0))


# ------------------------------------------------------------------ PDFs

def _pdf_info(path: str, first: int = 1, last: Optional[int] = None) -> poppler.PdfInfo:
    lim = limits()
    try:
        info = poppler.pdf_info(path, first, last or lim.max_pages, lim.pdfinfo_seconds)
    except poppler.ToolMissing as err:
        raise IngestError(str(err)) from None
    except poppler.ToolTimeout:
        raise IngestError(f'PDF structure could not be read within {lim.pdfinfo_seconds:g} s '
                          f'(corrupt or hostile PDF)') from None
    except poppler.ToolError as err:
        text = str(err).lower()
        if 'password' in text or 'encrypt' in text:
            raise IngestError('encrypted PDF (password required)') from None
        if 'last page (0)' in text or 'invalid page count 0' in text:
            raise IngestError('PDF has no pages (or its page tree is broken)') from None
        raise IngestError('corrupt or truncated PDF') from None
    if info.pages <= 0:
        raise IngestError('PDF has no pages')
    if info.pages > lim.max_pages:
        raise IngestError(f'too many pages ({info.pages} > {lim.max_pages})')
    return info


def _check_pdf_page(info: poppler.PdfInfo, number: int, dpi: int) -> None:
    if not 1 <= number <= info.pages:
        raise IngestError(f'no page {number} in the PDF ({info.pages} pages)')
    size = info.sizes.get(number)
    if size is None:
        raise IngestError(f'page {number}: size unknown (corrupt PDF)')
    width, height = (_points_to_pixels(side, dpi) for side in size)
    check_page_size(width, height, dpi, f'page {number}')


def _pdf_page(path: str, number: int, dpi: int, info: Optional[poppler.PdfInfo] = None,
              running: Optional[poppler.Running] = None) -> Page:
    lim = limits()
    info = info or _pdf_info(path, number, number)
    _check_pdf_page(info, number, dpi)
    try:
        data = poppler.render_page(path, number, dpi, lim.render_seconds, lim.render_memory_bytes, running)
    except poppler.ToolTimeout:
        raise IngestError(f'page {number} took longer than {lim.render_seconds:g} s to render '
                          f'(EXTRACTOR_RENDER_TIMEOUT); the PDF may be built to exhaust renderers') from None
    except poppler.ToolError as err:
        raise IngestError(f'page {number} did not render (corrupt PDF: {str(err)[:100]})') from None
    if not data:
        raise IngestError(f'page {number} did not render (corrupt or truncated PDF)')
    try:
        with Image.open(BytesIO(data)) as img:
            check_page_size(img.width, img.height, dpi, f'page {number}')
            array = _to_array(img)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise IngestError(f'page {number} did not render (corrupt PDF)') from None
    return Page(number=number, image=array, dpi=dpi, source=path)


# ------------------------------------------------------------------ images

def _open_image(path: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('error', Image.DecompressionBombWarning)
            return Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise IngestError('image too large for a page scan') from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise IngestError(f'unreadable image ({_first_line(err)})') from None


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0][:100] if lines else type(err).__name__


def _frame_count(img: Image.Image) -> int:
    try:
        return int(getattr(img, 'n_frames', 1))
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise IngestError(f'unreadable image ({_first_line(err)})') from None


def _decode_frame(img: Image.Image, number: int, default_dpi: int) -> Page:
    """The current frame of an open image as a Page, its size checked before decoding."""
    dpi = _image_dpi(img, default_dpi)
    check_page_size(img.width, img.height, dpi, f'page {number}' if number > 1 else 'image')
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('error', Image.DecompressionBombWarning)
            img.load()
            frame = ImageOps.exif_transpose(img)
            array = _to_array(frame)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise IngestError('image too large for a page scan') from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise IngestError(f'unreadable image ({_first_line(err)})') from None
    return Page(number=number, image=array, dpi=dpi, source='')


def _image_pages(path: str, dpi: int, only: Optional[int] = None) -> Iterator[Page]:
    """Pages of an image file in order (or just page `only`), from one open file:
    frame n is reached by seeking, never by decoding the frames before it."""
    img = _open_image(path)
    with img:
        count = _frame_count(img)
        if count > limits().max_pages:
            raise IngestError(f'too many pages ({count} > {limits().max_pages})')
        numbers = [only] if only else range(1, count + 1)
        for number in numbers:
            if not 1 <= number <= count:
                raise IngestError(f'no page {number} in image file ({count} pages)')
            try:
                img.seek(number - 1)
            except (OSError, EOFError, ValueError, SyntaxError) as err:
                raise IngestError(f'unreadable image page {number} ({_first_line(err)})') from None
            page = _decode_frame(img, number, dpi)
            page.source = path
            yield page


def _to_array(img: Image.Image) -> np.ndarray:
    if img.mode in ('1', 'L', 'I;16', 'I', 'F'):
        return np.asarray(img.convert('L'))
    rgb = np.asarray(img.convert('RGB'))
    return np.ascontiguousarray(rgb[:, :, ::-1])     # BGR, as OpenCV expects


def _image_dpi(img: Image.Image, default: int) -> int:
    dpi = img.info.get('dpi')
    try:
        value = int(round(float(dpi[0]))) if dpi else 0
    except (TypeError, ValueError, IndexError):
        value = 0
    return value if 50 <= value <= 1200 else default


# ------------------------------------------------------------------ the stage

def count_pages(path: str) -> int:
    """Pages in the file; IngestError if it is not something we read."""
    if sniff_kind(path) == 'pdf':
        return _pdf_info(path, 1, 1).pages
    with _open_image(path) as img:
        count = _frame_count(img)
    if count > limits().max_pages:
        raise IngestError(f'too many pages ({count} > {limits().max_pages})')
    return count


class _PageAhead:
    """A PDF page rendered in a thread of its own while the caller works on the page
    before it: pdftoppm then runs beside the stages, which mostly keep one core busy
    (measured: a page's wait for its render, ~0.15 s at 200 dpi, goes). `result()`
    gives the page or raises what rendering it raised; `cancel()` kills the render."""

    def __init__(self, path: str, number: int, dpi: int, info: poppler.PdfInfo):
        self.running = poppler.Running()
        self._page: Optional[Page] = None
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._render, args=(path, number, dpi, info),
                                        name=f'render page {number}', daemon=True)
        self._thread.start()

    def _render(self, path: str, number: int, dpi: int, info: poppler.PdfInfo) -> None:
        try:
            self._page = _pdf_page(path, number, dpi, info, self.running)
        except BaseException as err:        # handed to the caller by result()
            self._error = err

    def result(self) -> Page:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._page

    def cancel(self) -> None:
        self.running.kill()
        self._thread.join()


def iter_pages(path: str, dpi: int = 200) -> Iterator[Page]:
    """Yield the pages of a PDF or image file in order; IngestError if unreadable.
    A PDF's next page renders while the caller works on the one yielded; closing the
    iterator (or an exception in the caller's loop) stops that render."""
    if sniff_kind(path) == 'pdf':
        info = _pdf_info(path)
        ahead: Optional[_PageAhead] = _PageAhead(path, 1, dpi, info)
        try:
            for number in range(1, info.pages + 1):
                page = ahead.result()
                ahead = _PageAhead(path, number + 1, dpi, info) if number < info.pages else None
                yield page
        finally:
            if ahead is not None:
                ahead.cancel()
        return
    yield from _image_pages(path, dpi)


def load_page(path: str, number: int, dpi: int = 200) -> Page:
    """One page (1-based) of a file: the unit of work of a page task."""
    if sniff_kind(path) == 'pdf':
        return _pdf_page(path, number, dpi)
    return next(_image_pages(path, dpi, only=number))


def list_inputs(paths: list[str], on_error: Optional[Callable[[str, str], None]] = None) -> list[str]:
    """Expand folders (recursively) into supported files, sorted; files are kept as given
    (whatever they are: ingest refuses them with a reason). A folder that cannot be
    read is reported through on_error(path, reason)."""
    found: list[str] = []

    def unreadable(err: OSError) -> None:
        if on_error:
            on_error(err.filename or '?', f'cannot read folder: {err.strerror or err}')

    for path in paths:
        if os.path.isdir(path):
            for root, _dirs, files in os.walk(path, onerror=unreadable):
                for name in files:
                    if os.path.splitext(name)[1].lower() in SUPPORTED_SUFFIXES:
                        found.append(os.path.join(root, name))
        else:
            found.append(path)
    return sorted(dict.fromkeys(found), key=lambda p: (os.path.dirname(p), p)) if found else []
