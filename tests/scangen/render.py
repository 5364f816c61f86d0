"""Drawing laid-out pages: ruled cells with centred (or left-aligned) wrapped text on a
white grayscale A4 page."""
import numpy as np
from PIL import Image, ImageDraw

from .fonts import body_fonts, get_font, title_fonts
from .contract import form_kind
from .layout import dept_style, layout_with_retries, make_style


def _draw_cell_border(draw, cell, width, ink):
    corners = [(cell.x0, cell.y0), (cell.x1, cell.y0), (cell.x1, cell.y1), (cell.x0, cell.y1)]
    for a, b in zip(corners, corners[1:] + corners[:1]):
        draw.line([a, b], fill=ink, width=width)


def _draw_cell_text(draw, cell, style, font):
    if not cell.lines:
        return
    line_h = style.line_h
    top = (cell.y0 + cell.y1) / 2 - len(cell.lines) * line_h / 2
    for i, line in enumerate(cell.lines):
        y = top + (i + 0.5) * line_h
        if cell.align == 'left':
            x = cell.x0 + style.pad_x
        else:
            x = (cell.x0 + cell.x1) / 2 - font.getlength(line) / 2
        draw.text((x, y), line, font=font, fill=style.ink, anchor='lm')


def _draw_title_items(draw, items, ink):
    for text, spec, size, x, y, align in items:
        font = spec.at(size)
        if align == 'center':
            x -= font.getlength(text) / 2
        draw.text((x, y), text, font=font, fill=ink, anchor='lt')


def draw_page(page, style):
    image = Image.new('L', style.page_size, 255)
    draw = ImageDraw.Draw(image)
    _draw_title_items(draw, page.title_items, style.ink)
    font = style.font()
    for cell in page.cells:
        _draw_cell_border(draw, cell, style.line_px, style.ink)
    for cell in page.cells:
        _draw_cell_text(draw, cell, style, font)
    return image


def choose_fonts(rng, body=None, title=None):
    """(body, title) FontSpecs: given ones, else drawn from the installed fonts."""
    bodies, titles = body_fonts(), title_fonts()
    body = get_font(body) if body is not None else bodies[int(rng.integers(len(bodies)))]
    if title is None:
        title = titles[int(rng.integers(len(titles)))] if rng.random() < 0.7 else body
    return body, get_font(title)


def layout_for(form, rng, font=None, title_font=None, dpi=200, columns=None,
               attachment=False, max_pages=2):
    """Draw a style for the form and lay it out (shrinking it if it does not fit)."""
    if columns is None:
        has_notes = any(r.get('deviation_note') for r in form['indicators'])
        columns = 8 if has_notes else 7
    body, title = choose_fonts(rng, font, title_font)
    style = make_style(rng, dpi, columns, body, title, attachment)
    if form_kind(form) == 'department':
        style = dept_style(style, rng)
    return layout_with_retries(form, style, max_pages=max_pages)


def render_form_pages(form, font=None, rng=None, dpi=200, columns=None, title_font=None,
                      attachment=False, max_pages=2):
    """Clean page images (grayscale, A4 at dpi) of one contract Form (a project form,
    or a department form when form['schema'] is dept-self-eval/1).

    font: a font key ('uming', 'ukai', 'wqy-zenhei', 'wqy-microhei', 'noto-sans',
    'noto-serif'), a FontSpec or a font file; None draws one from rng.
    rng: numpy Generator (default: seed 0). columns: 7 or 8 (default: 8 when some
    indicator has a deviation note)."""
    rng = rng if rng is not None else np.random.default_rng(0)
    layout = layout_for(form, rng, font, title_font, dpi, columns, attachment, max_pages)
    return [draw_page(page, layout.style) for page in layout.pages]
