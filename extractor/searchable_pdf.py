"""Searchable PDF (PDF/A-2b where it validates): each page image with an invisible text
layer placed from the pipeline's own text lines, so Chinese text can be searched,
selected and copied in any PDF viewer.

An output writer, not a pipeline stage: it reads `PageResult`s (every text line the OCR
stage read in a cell or outside the tables, with its box in page pixels) and images.

    write_searchable_pdf(pages, page_results, out_path, straighten=False, pdfa=True)

`pages[i]` is page i's image: a file path, a numpy array (gray or BGR, as OpenCV
holds it) or a PIL image. Its pixel frame must be the one the result's boxes are in,
which is the page as the pipeline straightened it (the cleaned page image the workers
store). With `straighten=True` the images are the original scans (as `ingest` gives
them, in colour, seals kept), and each is first turned and deskewed by what the
result records (`measures['turned_deg']`, `angle`), exactly as preprocess did.
A scaled image (another dpi) is fine: boxes are scaled to it.

The text layer is drawn by OCRmyPDF's own renderer (`ocrmypdf.fpdf_renderer`, on
fpdf2) from `ocrmypdf` OcrElement trees; the glyphless font it ships (Occulta)
carries every character, so no CJK font is needed, nothing is looked up on the
system and the file stays small. PDF/A-2b: pikepdf adds the sRGB output intent and
the XMP declaration and validates the bytes it writes (`pikepdf.pdfa.save`, what
OCRmyPDF does without Ghostscript); if validation fails the plain PDF is written and
`SearchablePdf.pdfa` says so.
"""
from __future__ import annotations

import io
import logging
import os
import tempfile
from dataclasses import dataclass
from typing import Sequence, Union

import numpy as np
from PIL import Image

from models import PageResult

PageImage = Union[str, os.PathLike, np.ndarray, Image.Image]
LANGUAGE = 'chi_sim'         # the renderer's hint: Chinese lines, no word spacing
JPEG_QUALITY = 85            # page images (gray or colour) are stored as JPEG at this quality


class SearchablePdfError(Exception):
    pass


@dataclass
class SearchablePdf:
    path: str
    pages: int
    lines: int               # text lines placed
    characters: int          # characters in the text layer
    pdfa: bool               # True: PDF/A-2b that pikepdf validated


def page_lines(result: PageResult) -> list:
    """Every text line of the page with text, cells first (reading order of the grid),
    then the text outside the tables (titles)."""
    lines = [line for cell in result.cells for line in cell.lines]
    lines += list(result.loose_text)
    return [line for line in lines if line.text and line.text.strip() and len(line.bbox) == 4
            and line.bbox[2] > line.bbox[0] and line.bbox[3] > line.bbox[1]]


def _ocr_page(result: PageResult):
    """The page's lines as an OcrElement tree (ocr_page > ocr_line > ocrx_word), the
    structure OCRmyPDF builds from hOCR. A line is one word: the form's lines are
    Chinese or numbers, which the renderer spreads over the line's width."""
    from ocrmypdf.hocrtransform import BoundingBox, OcrClass, OcrElement
    width, height = _frame(result)
    lines = []
    for line in page_lines(result):
        x0, y0, x1, y1 = (float(v) for v in line.bbox)
        x0, y0 = max(0.0, x0), max(0.0, y0)
        x1, y1 = min(float(width), x1), min(float(height), y1)
        if x1 <= x0 or y1 <= y0:
            continue
        box = BoundingBox(left=x0, top=y0, right=x1, bottom=y1)
        word = OcrElement(ocr_class=OcrClass.WORD, bbox=box, text=line.text.strip(),
                          confidence=line.confidence)
        lines.append(OcrElement(ocr_class=OcrClass.LINE, bbox=box, children=[word],
                                language=LANGUAGE, direction='ltr'))
    return OcrElement(ocr_class=OcrClass.PAGE, dpi=float(result.dpi), children=lines,
                      bbox=BoundingBox(left=0, top=0, right=float(width), bottom=float(height)))


def _frame(result: PageResult) -> tuple[int, int]:
    """(width, height) in pixels of the frame the result's boxes are in."""
    return result.grid.width, result.grid.height


def _load(image: PageImage) -> np.ndarray | Image.Image:
    if isinstance(image, (str, os.PathLike)):
        if not os.path.exists(image):
            raise SearchablePdfError(f'page image not found: {os.path.basename(str(image))}')
        with Image.open(image) as img:
            img.load()
            return img.copy()
    return image


def _to_pil(image) -> Image.Image:
    if isinstance(image, Image.Image):
        return image
    array = np.asarray(image)
    if array.ndim == 2:
        return Image.fromarray(array.astype(np.uint8), 'L')
    if array.ndim == 3 and array.shape[2] == 3:
        return Image.fromarray(np.ascontiguousarray(array[:, :, ::-1]).astype(np.uint8), 'RGB')
    raise SearchablePdfError(f'page image of unexpected shape {array.shape}')


def straighten_image(image, result: PageResult) -> np.ndarray:
    """The original scan turned and deskewed as preprocess did to this page, so the
    result's boxes fall on its text (a colour scan keeps its colours, white borders)."""
    import cv2
    array = np.asarray(image.convert('RGB'))[:, :, ::-1] if isinstance(image, Image.Image) else np.asarray(image)
    turned = int(result.measures.get('turned_deg', 0) or 0)
    if turned:
        # Counter-clockwise by quarter turns, as preprocess turns a sideways page.
        array = np.ascontiguousarray(np.rot90(array, k=(turned // 90) % 4))
    if abs(result.angle) >= 0.05:
        h, w = array.shape[:2]
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), result.angle, 1.0)
        white = 255 if array.ndim == 2 else (255, 255, 255)
        array = cv2.warpAffine(array, matrix, (w, h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=white)
    return array


def _font_manager():
    """OCRmyPDF's built-in fonts only (NotoSans and the glyphless Occulta): the result
    does not depend on which fonts the machine has."""
    from ocrmypdf.font import MultiFontManager
    from ocrmypdf.font.font_provider import BuiltinFontProvider
    return MultiFontManager(font_provider=BuiltinFontProvider())


def _render(pages: list[Image.Image], results: Sequence[PageResult], target: str) -> int:
    """Text layer and page image, page by page, into one PDF; returns the line count."""
    from fpdf import FPDF
    from fpdf.enums import TextMode
    from ocrmypdf.fpdf_renderer import Fpdf2PdfRenderer
    pdf = FPDF(unit='pt')
    pdf.set_auto_page_break(auto=False)
    pdf.set_text_shaping(True)
    pdf.c_margin = 0
    pdf.text_mode = TextMode.INVISIBLE
    fonts, registered, lines = _font_manager(), {}, 0
    # The glyphless font is the intent here, not a missing font: no warning about it.
    logging.getLogger('ocrmypdf.font.multi_font_manager').setLevel(logging.ERROR)
    for image, result in zip(pages, results):
        page = _ocr_page(result)
        lines += len(page.children)
        renderer = Fpdf2PdfRenderer(page=page, dpi=float(result.dpi), multi_font_manager=fonts,
                                    invisible_text=True)
        renderer._registered_fonts = registered        # one embedded font for all pages
        renderer.render_to_pdf(pdf)
        # The scan goes over the text, as OCRmyPDF's sandwich renderer does.
        width_pt, height_pt = renderer.coord_transform.page_width_pt, renderer.coord_transform.page_height_pt
        pdf.image(_jpeg(image), x=0, y=0, w=width_pt, h=height_pt)
    pdf.output(target)
    return lines


def _jpeg(image: Image.Image) -> Image.Image:
    """The page as JPEG (fpdf2 embeds a JPEG's bytes as they are): a 200 dpi gray
    page is ~0.3 MB instead of ~2 MB lossless, and reads the same."""
    buffer = io.BytesIO()
    image.convert('L' if image.mode in ('L', '1', 'LA') else 'RGB').save(
        buffer, format='JPEG', quality=JPEG_QUALITY, dpi=image.info.get('dpi', (72, 72)))
    buffer.seek(0)
    return Image.open(buffer)


def _save_pdfa(source: str, target: str) -> bool:
    """PDF/A-2b by pikepdf (output intent sRGB, XMP declaration), kept only if pikepdf's
    validator passes the file it wrote."""
    import pikepdf
    from pikepdf.pdfa import Flavour, PdfaError, save
    try:
        with pikepdf.Pdf.open(source) as pdf:
            if '/OpenAction' in pdf.Root:       # fpdf2's zoom setting; PDF/A has no use for it
                del pdf.Root.OpenAction
            save(pdf, target, Flavour('2b'), output_intent='sRGB')
        return True
    except (PdfaError, pikepdf.PdfError) as err:
        logging.getLogger(__name__).warning('PDF/A-2b not reached, plain PDF written: %s', err)
        return False


def write_searchable_pdf(pages: Sequence[PageImage], page_results: Sequence[PageResult],
                         out_path: str, straighten: bool = False, pdfa: bool = True) -> SearchablePdf:
    """Write `out_path`: one PDF page per (image, result) pair, the image visible and
    the result's text lines invisible over it at their boxes. See the module doc."""
    if len(pages) != len(page_results):
        raise SearchablePdfError(f'{len(pages)} page images for {len(page_results)} page results')
    if not pages:
        raise SearchablePdfError('no pages to write')
    images = []
    for image, result in zip(pages, page_results):
        loaded = _load(image)
        if straighten:
            loaded = straighten_image(loaded, result)
        images.append(_to_pil(loaded))
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    folder = os.path.dirname(os.path.abspath(out_path))
    with tempfile.TemporaryDirectory(dir=folder, prefix='.searchable-') as work:
        plain = os.path.join(work, 'plain.pdf')
        lines = _render(images, page_results, plain)
        done = os.path.join(work, 'done.pdf')
        is_pdfa = pdfa and _save_pdfa(plain, done)
        os.replace(done if is_pdfa else plain, out_path)
    characters = sum(len(line.text.strip()) for r in page_results for line in page_lines(r))
    return SearchablePdf(out_path, len(images), lines, characters, is_pdfa)
