"""Draw a clean scan of a form of any kind from its template and a contract-shaped
form dict: title, one row per header field, the rows block (its label cell spanning the
block), the pair block, the table (its label cell spanning it) and the total row.

The project's generator (tests/scangen) draws the two real kinds with their printed
styles and damage; this one draws whatever a template says, so a kind that exists only
as a file can be run through the whole pipeline.
"""
from __future__ import annotations

from PIL import Image, ImageDraw

from drawing import cjk_font
from models.template import FormTemplate

PAGE = (1654, 2339)          # A4 at 200 dpi
X0, X1 = 110, 1544
ROW_H = 74
LABEL_W = 210                # a block's label cell
TEXT = 26


def _cell(draw, box, text, size=TEXT):
    x0, y0, x1, y1 = box
    draw.rectangle(box, outline=0, width=3)
    if not text:
        return
    font = cjk_font(size)
    width = font.getlength(text)
    while width > x1 - x0 - 16 and size > 14:
        size -= 2
        font = cjk_font(size)
        width = font.getlength(text)
    draw.text(((x0 + x1) / 2 - width / 2, (y0 + y1) / 2), text, font=font, fill=0, anchor='lm')


def _columns(x0: float, x1: float, n: int) -> list[float]:
    return [x0 + (x1 - x0) * i / n for i in range(n + 1)]


def render_form(template: FormTemplate, form: dict) -> Image.Image:
    """One page (the form must fit on it)."""
    page = Image.new('L', PAGE, 255)
    draw = ImageDraw.Draw(page)
    title_font = cjk_font(44)
    draw.text((PAGE[0] / 2, 150), form.get('title') or template.title, font=title_font, fill=0, anchor='mm')
    draw.text((PAGE[0] / 2, 215), f"（{form['year']}年度）", font=cjk_font(28), fill=0, anchor='mm')
    y = 270
    for h in template.header:
        _cell(draw, (X0, y, X0 + LABEL_W + 150, y + ROW_H), h.label)
        _cell(draw, (X0 + LABEL_W + 150, y, X1, y + ROW_H), form.get(h.key))
        y += ROW_H
    if template.rows:
        block = template.rows
        rows = form[block.key]
        top = y
        xs = _columns(X0 + LABEL_W + 150, X1, len(block.columns))
        _cell(draw, (X0 + LABEL_W, y, xs[0], y + ROW_H), None)
        for j, column in enumerate(block.columns):
            _cell(draw, (xs[j], y, xs[j + 1], y + ROW_H), column.label)
        y += ROW_H
        for row in rows:
            _cell(draw, (X0 + LABEL_W, y, xs[0], y + ROW_H), row[block.item_key])
            for j, column in enumerate(block.columns):
                _cell(draw, (xs[j], y, xs[j + 1], y + ROW_H), row.get(column.key))
            y += ROW_H
        _cell(draw, (X0, top, X0 + LABEL_W, y), block.labels[0])
    if template.pair:
        pair = template.pair
        top = y
        mid = (X0 + LABEL_W + X1) / 2
        _cell(draw, (X0 + LABEL_W, y, mid, y + ROW_H), pair.fields[0].label)
        _cell(draw, (mid, y, X1, y + ROW_H), pair.fields[1].label)
        y += ROW_H
        values = form[pair.key]
        _cell(draw, (X0 + LABEL_W, y, mid, y + 2 * ROW_H), values.get(pair.fields[0].key))
        _cell(draw, (mid, y, X1, y + 2 * ROW_H), values.get(pair.fields[1].key))
        y += 2 * ROW_H
        _cell(draw, (X0, top, X0 + LABEL_W, y), pair.label)
    if template.table:
        table = template.table
        top = y
        xs = _columns(X0 + LABEL_W, X1, len(table.columns))
        for j, column in enumerate(table.columns):
            _cell(draw, (xs[j], y, xs[j + 1], y + ROW_H), column.label)
        y += ROW_H
        for row in form[table.key]:
            for j, column in enumerate(table.columns):
                _cell(draw, (xs[j], y, xs[j + 1], y + ROW_H), row.get(column.key))
            y += ROW_H
        _cell(draw, (X0, top, X0 + LABEL_W, y), table.label)
        if template.total:
            total = template.total
            keys = [c.key for c in table.columns]
            first = min(keys.index(k) for k in total.columns)
            _cell(draw, (X0, y, xs[first], y + ROW_H), total.label)
            for j in range(first, len(keys)):
                value = form[total.key].get(keys[j]) if keys[j] in total.columns else None
                _cell(draw, (xs[j], y, xs[j + 1], y + ROW_H), value)
            y += ROW_H
    return page
