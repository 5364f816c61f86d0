"""Geometry of one printed form: the style drawn for it, text wrapping inside cells,
the ruled table as cells spanning rows, and pagination onto A4 pages.

The table is modelled as rows (with heights) and cells that span one or more rows and a
horizontal range; each block (header, funds, goals, indicators) has its own column
boundaries, as in the printed spreadsheet. A cell spanning rows that fall on two pages
(the 绩效指标 label, merged 一级/二级 cells) is cut at the page break; its text is drawn in
one of the parts only, the other part stays empty.
"""
import re
from dataclasses import dataclass, field, replace

from .contract import (DEPT_FUNDS_LABELS, DEPT_HEADER_LABEL, DEPT_TITLE, FUND_HEADERS,
                       FUND_ITEMS, IND_HEADERS, IND_KEYS, TITLE, get_path)
from .textutil import DASH, number_shaped

MM_PER_INCH = 25.4
A4_MM = (210.0, 297.0)


class LayoutOverflow(Exception):
    """The form does not fit the allowed pages with this style."""


# ------------------------------------------------------------------- wrapping

# A comparator stays with its number ('≤50000'), digit runs and Latin words are whole
# words, anything else (a Chinese character, punctuation) is a word of its own.
_WORD = re.compile(r'[≤≥<>=＜＞约]?[0-9][0-9.,%]*|[A-Za-z]+|\s+|.', re.S)
# Punctuation that must not start a line: it is pushed onto the next line together with
# the character before it, as Chinese typesetting does.
_NO_LINE_START = set('，。、；：？！）》」』”’%％')


def _break_long(word, font, max_width):
    """Break a word that is wider than a line character by character (a number in a
    narrow column wraps inside its digits, '396.2675' + '29')."""
    pieces, current = [], ''
    for ch in word:
        if current and font.getlength(current + ch) > max_width:
            pieces.append(current)
            current = ch
        else:
            current += ch
    return pieces + [current] if current else pieces


def wrap_text(text, font, max_width):
    """Lines of `text` inside max_width pixels. Chinese breaks between any two
    characters; Latin words and numbers stay whole unless wider than a line; a space at
    a line break is dropped, so join_lines() gives the text back."""
    if not text:
        return []
    lines, current = [], ''
    for token in _WORD.findall(text):
        if token.isspace():
            current += ' ' if current else ''
            continue
        if font.getlength((current + token).rstrip()) <= max_width:
            current += token
            continue
        if token in _NO_LINE_START and len(current.rstrip()) >= 2 and not current[-1].isascii():
            lines.append(current[:-1].rstrip())
            current = current[-1] + token
            continue
        if current.strip():
            lines.append(current.rstrip())
        current = ''
        if font.getlength(token) <= max_width:
            current = token
        else:
            pieces = _break_long(token, font, max_width)
            lines.extend(pieces[:-1])
            current = pieces[-1]
    if current.strip():
        lines.append(current.rstrip())
    return lines


def join_lines(lines):
    """Inverse of wrap_text for truth: Latin words across a break get one space."""
    out = ''
    for line in lines:
        if out and out[-1].isascii() and out[-1].isalpha() and line[:1].isascii() and line[:1].isalpha():
            out += ' '
        out += line
    return out


def digits_split(lines):
    """True when some line break falls between two digits of a number."""
    digitish = set('0123456789.,')
    return any(a[-1:] in digitish and b[:1] in digitish and a[-1:] and b[:1]
               for a, b in zip(lines, lines[1:]))


# ---------------------------------------------------------------------- style

@dataclass
class Style:
    """Everything drawn at random for one form; lengths are pixels at `dpi`."""
    dpi: int
    body_font: object           # FontSpec
    title_font: object          # FontSpec
    columns: int                # 7 or 8 indicator columns
    font_px: float
    line_gap: float             # line height / font size
    pad_x: float
    pad_y: float
    min_row_lines: float        # minimum row height in line heights
    table_x0: int
    table_width: int
    top_margin: int
    bottom_margin: int
    label_frac: float           # the left label column (项目资金 / 年度总体目标 / 绩效指标)
    header_fracs: tuple         # ends of 项目名称 label, 主管部门 value, 实施单位 label
    funds_weights: tuple        # relative widths: item + 6 value columns
    narrow_budget_digits: float  # 0 = proportional, else budget columns hold ~this many digits
    goals_frac: float           # share of 预期目标 in the goals block
    ind_weights: tuple          # relative widths of the indicator columns
    merge_levels: bool          # 一级/二级 printed as merged cells (else repeated per row)
    split_text_first: bool      # text of a cell cut by a page break goes to the first part
    dash_glyph: str
    goals_align: str
    name_align: str
    attachment: bool            # '附件2' at the top-left of the page
    title_pt: float
    year_fullwidth_parens: bool
    line_px: int
    ink: int                    # gray level of text and rules
    # Form kind and what only a department form draws (dept_style(); defaults: project)
    kind: str = 'project'
    funds_label: str = '项目资金（万元）'
    header_label_frac: float = 0.0  # department: end of the 部门（单位）名称 label cell
    attachment_text: str = '附件2'

    @property
    def title_text(self):
        return DEPT_TITLE if self.kind == 'department' else TITLE

    @property
    def line_h(self):
        return self.font_px * self.line_gap

    @property
    def page_size(self):
        return tuple(int(round(mm / MM_PER_INCH * self.dpi)) for mm in A4_MM)

    def px(self, at_200):
        """A length given for 200 dpi, at this style's dpi."""
        return at_200 * self.dpi / 200.0

    def font(self):
        return self.body_font.at(self.font_px)


def _jitter(rng, values, spread):
    return tuple(float(v) * float(rng.uniform(1 - spread, 1 + spread)) for v in values)


def make_style(rng, dpi, columns, body_font, title_font, attachment=False):
    s = dpi / 200.0
    font_pt = float(rng.uniform(9.0, 11.5))
    table_width = int(rng.uniform(1250, 1400) * s)
    page_w = int(round(A4_MM[0] / MM_PER_INCH * dpi))
    ind = [0.10, 0.115, 0.20, 0.18, 0.17, 0.065, 0.07] + ([0.17] if columns == 8 else [])
    if rng.random() < 0.35:     # narrow target/actual columns: '396.267529万元' wraps
        ind[3], ind[4] = 0.12, 0.12
    return Style(
        dpi=dpi, body_font=body_font, title_font=title_font, columns=columns,
        font_px=font_pt * dpi / 72.0, line_gap=float(rng.uniform(1.18, 1.35)),
        pad_x=float(rng.uniform(5, 10)) * s, pad_y=float(rng.uniform(6, 12)) * s,
        min_row_lines=float(rng.uniform(1.6, 2.3)),
        table_x0=int((page_w - table_width) / 2 + rng.uniform(-25, 25) * s),
        table_width=table_width,
        top_margin=int(rng.uniform(110, 170) * s), bottom_margin=int(rng.uniform(100, 160) * s),
        label_frac=float(rng.uniform(0.078, 0.1)),
        header_fracs=(float(rng.uniform(0.11, 0.15)), float(rng.uniform(0.44, 0.52)),
                      float(rng.uniform(0.57, 0.62))),
        funds_weights=_jitter(rng, [0.345, 0.103, 0.101, 0.107, 0.075, 0.107, 0.073], 0.15),
        narrow_budget_digits=float(rng.uniform(6.5, 8.6)) if rng.random() < 0.7 else 0.0,
        goals_frac=float(rng.uniform(0.42, 0.55)),
        ind_weights=_jitter(rng, ind, 0.15),
        merge_levels=bool(rng.random() < 0.85),
        split_text_first=bool(rng.random() < 0.4),
        dash_glyph=str(rng.choice(['—', '—', '—', '－', '-'])),
        goals_align=str(rng.choice(['left', 'left', 'center'])),
        name_align=str(rng.choice(['center', 'center', 'left'])),
        attachment=attachment,
        title_pt=float(rng.uniform(17, 22)),
        year_fullwidth_parens=bool(rng.random() < 0.5),
        line_px=max(1, int(round(rng.choice([1.5, 2, 2, 2.5]) * s))),
        ink=int(rng.integers(0, 40)),
    )


def dept_style(style, rng):
    """A project style made into a department form's: the funds block label, the width
    of the header label and the attachment number (drawn after make_style, so a
    project form's draws stay as they are)."""
    return replace(style, kind='department',
                   funds_label=DEPT_FUNDS_LABELS[int(rng.integers(len(DEPT_FUNDS_LABELS)))],
                   header_label_frac=float(rng.uniform(0.14, 0.22)),
                   attachment_text=str(rng.choice(['附件1', '附件1', '附件3'])))


def shrink_style(style, factor):
    """The same style with smaller text and rows, to make a long form fit."""
    return replace(style, font_px=style.font_px * factor, pad_y=style.pad_y * factor,
                   min_row_lines=max(1.3, style.min_row_lines * factor),
                   top_margin=int(style.top_margin * factor))


# ---------------------------------------------------------------------- table

@dataclass
class Cell:
    r0: int                     # first row (inclusive)
    r1: int                     # last row (inclusive)
    x0: int
    x1: int
    text: str = None            # value as printed (None: empty cell)
    fields: tuple = ()          # truth paths this cell prints (several for merged cells)
    align: str = 'center'
    lines: list = field(default_factory=list)


@dataclass
class PlacedCell:
    x0: int
    y0: int
    x1: int
    y1: int
    lines: list
    align: str
    fields: tuple
    text: str


@dataclass
class PageLayout:
    cells: list                 # PlacedCell
    first: bool                 # carries the title block
    title_items: list = field(default_factory=list)   # (text, font spec, px, x, y, align)


@dataclass
class FormLayout:
    pages: list                 # PageLayout
    style: Style
    wrapped: dict               # truth path -> (page offset, lines) for single-field cells


def _edges(x0, width, weights):
    total = sum(weights)
    xs, acc = [x0], 0.0
    for w in weights:
        acc += w
        xs.append(x0 + int(round(width * acc / total)))
    return xs


def _funds_edges(style, x_label, width, longest_budget):
    """Column edges of the funds block right of the label column. In the 'narrow'
    style the three budget columns hold only ~7-8 digits, and less than the longest
    budget of the form when that has 7 or more characters, so long decimals wrap
    ('396.2675' over '29'), which extractors must rejoin."""
    weights = list(style.funds_weights)
    if style.narrow_budget_digits:
        digit = style.font().getlength('0')
        digits = style.narrow_budget_digits
        if longest_budget >= 7:
            digits = min(digits, longest_budget - 1.3)
        budget_w = digits * digit + 2 * style.pad_x
        rest = width - 3 * budget_w
        others = [weights[0]] + weights[4:]
        scale = rest / sum(others)
        widths = [others[0] * scale, budget_w, budget_w, budget_w] + [w * scale for w in others[1:]]
        xs, acc = [x_label], float(x_label)
        for w in widths:
            acc += w
            xs.append(int(round(acc)))
        xs[-1] = x_label + width
        return xs
    return _edges(x_label, width, weights)


def _display(value, style):
    return style.dash_glyph if value == DASH else value


def build_cells(form, style):
    """(cells, row kinds) of the whole table, rows numbered from 0 top-down."""
    W, x0 = style.table_width, style.table_x0
    x1 = x0 + W
    xl = x0 + int(W * style.label_frac)
    cells, kinds = [], []

    def row(kind):
        kinds.append(kind)
        return len(kinds) - 1

    def add(r0, r1, a, b, text, fields=(), align='center'):
        cells.append(Cell(r0, r1, a, b, text, tuple(fields), align))

    ha, hb, hc = (x0 + int(W * f) for f in style.header_fracs)
    if style.kind == 'department':
        hd = x0 + int(W * style.header_label_frac)
        r = row('header')
        add(r, r, x0, hd, DEPT_HEADER_LABEL)
        add(r, r, hd, x1, form['department'], ['department'], style.name_align)
    else:
        r = row('header')
        add(r, r, x0, ha, '项目名称')
        add(r, r, ha, x1, form['project_name'], ['project_name'], style.name_align)
        r = row('header')
        add(r, r, x0, ha, '主管部门')
        add(r, r, ha, hb, form['department'], ['department'])
        add(r, r, hb, hc, '实施单位')
        add(r, r, hc, x1, form['implementing_unit'], ['implementing_unit'])

    budgets = [f[k] or '' for f in form['funds'] for k in ('initial_budget', 'annual_budget', 'executed')]
    fx = _funds_edges(style, xl, x1 - xl, max(len(b) for b in budgets))
    top = row('funds')
    add(top, top, fx[0], fx[1], None)
    for i, head in enumerate(FUND_HEADERS):
        add(top, top, fx[i + 1], fx[i + 2], head)
    for i, fund in enumerate(form['funds']):
        r = row('funds')
        add(r, r, fx[0], fx[1], FUND_ITEMS[i] if fund['item'] is None else fund['item'])
        for j, key in enumerate(['initial_budget', 'annual_budget', 'executed', 'weight',
                                 'execution_rate', 'score']):
            add(r, r, fx[j + 1], fx[j + 2], _display(fund[key], style), [f'funds.{i}.{key}'])
    add(top, r, x0, xl, style.funds_label)

    xg = xl + int((x1 - xl) * style.goals_frac)
    top = row('goals')
    add(top, top, xl, xg, '预期目标')
    add(top, top, xg, x1, '实际完成情况')
    r = row('goals_text')
    add(r, r, xl, xg, form['goals']['expected'], ['goals.expected'], style.goals_align)
    add(r, r, xg, x1, form['goals']['actual'], ['goals.actual'], style.goals_align)
    add(top, r, x0, xl, '年度总体目标')

    ix = _edges(xl, x1 - xl, style.ind_weights)
    keys = IND_KEYS[:style.columns]
    top = row('ind_header')
    for j, head in enumerate(IND_HEADERS[:style.columns]):
        add(top, top, ix[j], ix[j + 1], head)
    first = len(kinds)
    for i, ind in enumerate(form['indicators']):
        r = row('indicator')
        for j, key in enumerate(keys):
            if key in ('level1', 'level2') and style.merge_levels:
                continue
            add(r, r, ix[j], ix[j + 1], _display(ind[key], style), [f'indicators.{i}.{key}'])
    if style.merge_levels:
        _add_merged_levels(form['indicators'], first, ix, add)
    add(top, len(kinds) - 1, x0, xl, '绩效指标')

    r = row('total')
    add(r, r, x0, ix[5], '总分')
    add(r, r, ix[5], ix[6], _display(form['total']['weight'], style), ['total.weight'])
    add(r, r, ix[6], ix[7], _display(form['total']['score'], style), ['total.score'])
    if style.columns == 8:
        add(r, r, ix[7], ix[8], None)
    return cells, kinds


def _runs(values):
    """(start, end) index runs of equal consecutive values."""
    runs, start = [], 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] != values[start]:
            runs.append((start, i - 1))
            start = i
    return runs


def _add_merged_levels(indicators, first_row, ix, add):
    """一级 cells merged over runs of the same level1; 二级 cells over runs of the same
    level2 inside them. Every row of a run keeps its own truth path."""
    level1 = [r['level1'] for r in indicators]
    for a, b in _runs(level1):
        add(first_row + a, first_row + b, ix[0], ix[1], level1[a],
            [f'indicators.{i}.level1' for i in range(a, b + 1)])
        level2 = [r['level2'] for r in indicators[a:b + 1]]
        for c, d in _runs(level2):
            add(first_row + a + c, first_row + a + d, ix[1], ix[2], level2[c],
                [f'indicators.{i}.level2' for i in range(a + c, a + d + 1)])


def wrap_cells(cells, style):
    font = style.font()
    for cell in cells:
        width = cell.x1 - cell.x0 - 2 * style.pad_x
        cell.lines = wrap_text(cell.text, font, max(width, font.size)) if cell.text else []


def row_heights(cells, n_rows, style):
    """Each row as tall as its tallest single-row cell (at least min_row_lines); a cell
    spanning rows that needs more height grows the last row it spans."""
    line_h = style.line_h
    need = lambda c: len(c.lines) * line_h + 2 * style.pad_y
    heights = [style.min_row_lines * line_h] * n_rows
    for cell in cells:
        if cell.r0 == cell.r1:
            heights[cell.r0] = max(heights[cell.r0], need(cell))
    for cell in cells:
        if cell.r0 != cell.r1:
            deficit = need(cell) - sum(heights[cell.r0:cell.r1 + 1])
            if deficit > 0:
                heights[cell.r1] += deficit
    return [int(round(h)) for h in heights]


# ----------------------------------------------------------------- pagination

def title_block(style, year):
    """Title items of the first page and the y where the table starts."""
    items = []
    y = style.top_margin
    if style.attachment:
        size = style.px(44)
        items.append((style.attachment_text, style.title_font, size, style.table_x0 - style.px(10), y,
                      'left'))
        y += size * 1.9
    size = style.title_pt * style.dpi / 72.0
    page_w = style.page_size[0]
    items.append((style.title_text, style.title_font, size, page_w / 2, y, 'center'))
    y += size * 1.55
    year_px = style.font_px * 1.05
    year_text = f'（{year}年度）' if style.year_fullwidth_parens else f'({year}年度)'
    items.append((year_text, style.body_font, year_px, page_w / 2, y, 'center'))
    y += year_px * float(2.0)
    return items, int(y)


def paginate(kinds, heights, table_top, style, max_pages):
    """Page index and y of each row. Only indicator rows after the first one, and the
    total row, may start a new page; a continuation page has no header row."""
    page_h = style.page_size[1]
    bottom = page_h - style.bottom_margin
    first_indicator = kinds.index('indicator') if 'indicator' in kinds else len(kinds)
    placement, page, y = [], 0, table_top
    for r, h in enumerate(heights):
        if y + h > bottom:
            if r <= first_indicator:
                raise LayoutOverflow('the blocks above the indicators do not fit page 1')
            page += 1
            y = style.top_margin
            if page >= max_pages or y + h > bottom:
                raise LayoutOverflow(f'needs more than {max_pages} pages')
        placement.append((page, y))
        y += h
    return placement


def _place(cells, placement, heights, n_pages, style):
    """PlacedCells per page; a cell cut by a page break is split, its text going to
    the largest part (or the first part, by style)."""
    pages = [[] for _ in range(n_pages)]
    for cell in cells:
        parts = {}
        for r in range(cell.r0, cell.r1 + 1):
            page, y = placement[r]
            y0, y1 = parts.get(page, (y, y))
            parts[page] = (min(y0, y), max(y1, y + heights[r]))
        order = sorted(parts)
        if style.split_text_first:
            text_page = order[0]
        else:
            text_page = max(order, key=lambda p: (parts[p][1] - parts[p][0], -p))
        for page in order:
            y0, y1 = parts[page]
            keep = page == text_page
            pages[page].append(PlacedCell(cell.x0, y0, cell.x1, y1,
                                          cell.lines if keep else [], cell.align,
                                          cell.fields if keep else (), cell.text if keep else None))
    return pages


def layout_form(form, style, max_pages=2):
    cells, kinds = build_cells(form, style)
    wrap_cells(cells, style)
    heights = row_heights(cells, len(kinds), style)
    items, table_top = title_block(style, form.get('year') or '')
    placement = paginate(kinds, heights, table_top, style, max_pages)
    n_pages = placement[-1][0] + 1
    placed = _place(cells, placement, heights, n_pages, style)
    pages = [PageLayout(cells=p, first=(i == 0), title_items=items if i == 0 else [])
             for i, p in enumerate(placed)]
    wrapped = {}
    for page_offset, page in enumerate(pages):
        for cell in page.cells:
            if len(cell.fields) == 1 and cell.lines:
                wrapped[cell.fields[0]] = (page_offset, list(cell.lines))
    return FormLayout(pages=pages, style=style, wrapped=wrapped)


def layout_with_retries(form, style, max_pages=2, tries=6):
    """Shrink text and rows until the form fits max_pages (last resort: more pages)."""
    for _ in range(tries):
        try:
            return layout_form(form, style, max_pages)
        except LayoutOverflow:
            style = shrink_style(style, 0.9)
    return layout_form(form, style, max_pages=10)


def split_fields_of(form, layout):
    """Truth split_fields (without form index and page number) of one laid-out form:
    every number-shaped value printed over more than one line."""
    out = []
    for path, (page_offset, lines) in layout.wrapped.items():
        value = get_path(form, path)
        if value is None or value == DASH or len(lines) < 2 or not number_shaped(value):
            continue
        out.append({'field': path, 'page_offset': page_offset, 'value': value,
                    'lines': lines, 'digits_split': digits_split(lines)})
    return out

