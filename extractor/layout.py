"""Stage 5, layout: PageResults -> Forms (the contract's fields, with their sources).

What a form holds comes from its kind's template (models/template.py): this module
knows how printed forms are built (labels beside or above values, blocks of rows,
merged cells), not which labels a kind prints.

A document is cut into forms at each title of a known kind (or a table holding the
first header label of one); a table with neither continues the previous form when its
columns line up with that form's and the form has not reached its total row yet;
anything else is no known form and is turned away (`Unmatched`). The tables of one
form are stacked into one virtual table: later pages are placed below earlier ones and
their x scaled to the first table's frame, so a continued indicator table lines up
with the header columns of the page before. Labels are found by fuzzy match, so a
misread label still maps; values are the cells beside (header fields) or under
(columns) them.
"""
from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import NamedTuple, Optional

from models import FieldSource, Flag, FlagReason, Form, FundsRow, Indicator, PageResult, Total, TextLine
from models.template import FormTemplate, templates
from models.text import (COUNT_UNIT_CHARS, DASH, NUMERIC_CHARS, digits_from_lookalikes, is_dash, is_han, looks_numeric,
                         one_character_off, reads_as_dash)

LABEL_MIN = 0.67            # fuzzy ratio for a label to count as found
# A line whose Chinese character the recogniser was unsure of (its least sure under
# this) takes the runner-up the words prefer for it. Measured on the tuning sets (rough
# 8123/3571, hard 9494, mild 6029, clean 9001, augraphy 8080): under 0.85, 25 fields made
# right and none wrong; at 0.85 and over, 8 right and 7 wrong ('区域' -> '区城': the
# model was right and the words were not), so those stay as read. A swapped mark
# ('，' for '；') was as often wrong as right and stays as read too. Flagged either way.
RUNNER_UP_TAKEN_BELOW = 0.85
# A category name read in part is taken for the one name it starts from this many
# characters on (of names of 4 to 9).
CUT_NAME_MIN = 3
LABEL_SURE = 0.85           # below this a matched label is reported as uncertain
# A header label in its printed place (the first column, in print order) read this
# much like the label: half its characters ('项南之称', '通名称' for 项目名称).
PLACE_LABEL_MIN = 0.45
# The form's first row left out of the table (its rules lost) stands this close over
# the table (the year line ~13 mm over it); its value clear of the label's column, which
# takes this share of the table's width at most.
FIRST_ROW_OVER_MM = 6.0
FIRST_ROW_LABEL_SHARE = 0.15
HEADER_SURE = 0.8           # a header label read this well starts a form of its kind
# A title line names a kind when it holds the kind's title with at most this share of
# its characters misread (one in a 9-character title), and fewer than any other kind's.
TITLE_EDITS = 0.12
# A header label must read better than any other kind's by this margin to name a kind.
HEADER_MARGIN = 0.12
_PUNCT = re.compile(r'[\s()（）:：,，.。、\-—_/\\|]+')
_LATIN = re.compile(r'[A-Za-z0-9]+')


@dataclass(frozen=True)
class Tolerances:
    """Distances the layout allows, in millimetres on the page (converted with the
    page's resolution, so 150- and 300-dpi scans are read alike)."""
    touch_mm: float = 0.254      # two cell edges on one rule (2 px at 200 dpi)
    edge_mm: float = 0.381       # a cell edge on a rule, or a line on its cell's edge (3 px)
    slack_mm: float = 0.635      # a cell that starts just left of a label's right edge (5 px)
    page_gap_mm: float = 2.5     # gap between stacked pages in the virtual table
    column_mm: float = 1.5       # a continued table's column rule on the form's
    continuation_match: float = 0.6   # share of its inner column rules that must line up
    header_min_mm: float = 4.0   # the narrowest a column's header cell is (分值: ~10 mm)


TOLERANCES = Tolerances()


def norm_label(text: str) -> str:
    return _PUNCT.sub('', unicodedata.normalize('NFKC', text or ''))


# Characters the recogniser takes for one another on worn or 1-bit print (a stroke
# lost or broken: 项 as 顶, 目 as 日, 主 as 上, 管 as 营), and the traditional forms of
# the labels' characters, which it reads for the simplified ones on broken print
# (全年預算數, 全年執行數 on a fax): a label read with them is still that label, a little
# less surely.
LOOKALIKE_GROUPS = ('项顶項', '目日', '主王上', '管营菅', '预须颅預', '数教數', '值値植直', '实买卖實',
                    '施旅', '位住', '资货贤資', '年午牛', '度庋', '总忠總', '额颁額', '算箅', '初衬', '分兮',
                    '得待', '率卒', '指拍', '标杯標', '执扶執', '绩债績', '门門', '单單', '际際', '况況',
                    '级級', '质質', '时時', '济濟', '务務', '对對', '满滿', '进進', '财財', '拨撥', '结結',
                    '转轉', '体體', '称稱')
_LOOKALIKE = {ch: group[0] for group in LOOKALIKE_GROUPS for ch in group[1:]}
LOOKALIKE_DISCOUNT = 0.95


def _as_lookalike(text: str) -> str:
    return ''.join(_LOOKALIKE.get(ch, ch) for ch in text)


@functools.lru_cache(maxsize=1 << 16)
def label_score(text: str, label: str) -> float:
    # Cached: every cell's text is scored against every label of its kind, over and
    # over as headers, rows and continued pages are matched.
    a, b = norm_label(text), norm_label(label)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    score = _label_ratio(a, b)
    la, lb = _as_lookalike(a), _as_lookalike(b)
    if (la, lb) != (a, b):
        score = max(score, LOOKALIKE_DISCOUNT * (1.0 if la == lb else _label_ratio(la, lb)))
    return score


def _label_ratio(a: str, b: str) -> float:
    # A cell may hold the label plus a little more (偏差原因分析及改进 vs …措施).
    ratio = difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
    if len(a) >= 4 and (a in b or b in a):
        ratio = max(ratio, 0.9 * min(len(a), len(b)) / max(len(a), len(b)) + 0.1)
    if len(b) >= 2 and b in a and len(a) <= 2 * len(b):
        ratio = max(ratio, 0.8)     # the label with stray marks around it (seal residue)
    elif len(b) >= 3 and b in a and len(_LATIN.sub('', a)) <= 2 * len(b):
        # A seal's star and rim read as Latin letters and digits round a Chinese label.
        ratio = max(ratio, 0.8)
    return ratio


def split_label(text: str, label: str) -> tuple[float, str]:
    """(score, rest) when `text` starts with (a misread of) `label`."""
    text = (text or '').strip()
    best = (0.0, '')
    for k in range(max(1, len(label) - 1), len(label) + 2):
        if len(text) <= k:
            break
        score = label_score(text[:k], label)
        if score > best[0]:
            best = (score, text[k:].strip())
    return best if best[0] >= 0.75 else (0.0, '')


def cut_at_label(text: str, label: str) -> tuple[str, Optional[str]]:
    """(before, after) around (a misread of) `label` inside `text`; after is None when
    the label is not there."""
    n = len(label)
    best, at = 0.0, -1
    for i in range(1, max(1, len(text) - n + 1)):
        score = label_score(text[i:i + n], label)
        if score > best:
            best, at = score, i
    if best < 0.75:
        return text, None
    return text[:at], text[at + n:] or None


_ENDS_IN_DECIMALS = re.compile(r'\d\.\d*$')
# A date wrapped between its month and its day ('2023.08.' over '17-2024.08.18', or
# '2023.08' over '.17'): a date has two points, and neither is a speck.
_YEAR_MONTH = re.compile(r'(?<![\d.])(?:19|20)\d\d\.(?:0?[1-9]|1[0-2])$')
_DAY = re.compile(r'(?:0?[1-9]|[12]\d|3[01])(?!\d)')


def _date_wraps(before: str, after: str) -> bool:
    """`before` ends in a year and month and `after` goes on with the day (the point
    between them on either side of the break)."""
    if before.endswith('.') and not after.startswith('.'):
        return bool(_YEAR_MONTH.search(before[:-1]) and _DAY.match(after))
    return bool(after.startswith('.') and _YEAR_MONTH.search(before) and _DAY.match(after[1:]))


# A value whose text lies this much under a seal's dense ink is checked: lifting the
# seal may have taken strokes of the print with it ('提升' read '提'). Measured on the
# hard tuning scans (seeds 9494, 8312, 9101): of fields flagged only for a seal, none
# under 20% was wrong and 27 under 15% were right (at 0.1); 0.15 keeps a margin.
SEALED_TEXT = 0.15

# A value with a seal's dense ink over this much of the character-sized slot beside one
# of its lines, on the side the line stands off its cell's middle away from (the OCR
# stage's TextLine.sealed_beside), is checked: a character printed there (a target's ≤
# under a seal's star) went with the seal, and the rest reads sure.
SEALED_BESIDE = 0.5

# A header cell whose text takes less than this share of its width may have taken in
# a neighbour (see column_under_text).
HEADER_TEXT_SHARE = 0.6


def join_lines(lines: list[str]) -> Optional[str]:
    """Join a cell's wrapped lines: no space, except between two Latin words."""
    out = ''
    for line in (line.strip() for line in lines):
        if out and _date_wraps(out, line):
            pass
        elif out and line.startswith('.') and _ENDS_IN_DECIMALS.search(out):
            # A number wrapped after its decimal point already: a point opening the next
            # line is a speck ('94.64291' over '.9万元'), a number has one point; so is
            # one closing the line before ('33.580.' over '19').
            line = line[1:]
        elif out.endswith('.') and line[:1].isdigit() and _ENDS_IN_DECIMALS.search(out[:-1]):
            out = out[:-1]
        elif _SPECK_AT_BREAK.search(out) and _is_cjk(line[:1]):
            # A point between two Chinese characters across a line break is a speck, as
            # it is inside a line (the OCR stage drops those); one at the end of the last
            # line may be a 。 misread: set_value takes it off with a flag.
            out = out[:-1]
        if not line:
            continue
        if out and out[-1].isascii() and out[-1].isalpha() and line[0].isascii() and line[0].isalpha():
            out += ' '
        out += line
    return out or None


@dataclass
class VCell:
    """A cell placed in the form's virtual coordinates (pages stacked)."""
    page: int
    bbox: list[int]             # on its page, for provenance
    x0: float
    y0: float
    x1: float
    y1: float
    lines: list[TextLine]
    continued: bool = False     # on a continuation page, touching that table's top
    at_bottom: bool = False     # touching the bottom of its table (a page break may follow)
    unread: bool = False        # holds print the recogniser read as nothing

    @property
    def text(self) -> str:
        return join_lines([line.text for line in self.lines]) or ''

    @property
    def sure_text(self) -> str:
        """The text without faint marks read beside surely read lines (speck clumps
        read as 'x', 'De' round a label)."""
        stray = _stray_marks(self.lines)
        return join_lines([line.text for line in self.lines if all(line is not s for s in stray)]) or ''

    def label_score(self, label: str) -> float:
        """How well the cell reads as `label`, with or without its faint marks."""
        score = label_score(self.text, label)
        if score < 1.0 and len(self.lines) > 1:
            score = max(score, label_score(self.sure_text, label))
        return score

    @property
    def xc(self) -> float:
        return (self.x0 + self.x1) / 2

    def line_yc(self, line: TextLine) -> float:
        """A line's centre in the form's virtual y (pages keep their scale in y)."""
        return self.y0 + (line.bbox[1] + line.bbox[3]) / 2 - self.bbox[1]

    def line_xc(self, line: TextLine) -> float:
        """A line's centre in the form's virtual x."""
        px0, _, px1, _ = self.bbox
        rel = ((line.bbox[0] + line.bbox[2]) / 2 - px0) / max(1.0, px1 - px0)
        return self.x0 + rel * (self.x1 - self.x0)

    @property
    def yc(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass
class Band:
    """A row of the form found from text lines (virtual y range, its cell, its lines)."""
    y0: float
    y1: float
    cell: VCell
    lines: list[TextLine]
    shares_cell: bool = False   # one of several items read out of one cell (a rule lost)

    @property
    def text(self) -> str:
        return join_lines([line.text for line in self.lines]) or ''


@dataclass
class FormPart:
    template: FormTemplate
    title: str = ''
    pages: list[int] = field(default_factory=list)
    cells: list[VCell] = field(default_factory=list)
    year: Optional[str] = None
    year_line: Optional[TextLine] = None            # the line the year was read off
    frame: Optional[tuple[float, float]] = None    # x0, x1 of the first table
    bottom: float = 0.0
    dpi: int = 200
    # Per page: (y offset, table x0, x scale) of its first table, so further tables of
    # the same page keep their place relative to it.
    placement: dict[int, tuple[float, float, float]] = field(default_factory=dict)
    # The text lines over the form's first table (title, year, and a first row whose
    # rules were lost), on page `above_page`.
    above: list[TextLine] = field(default_factory=list)
    above_page: int = 0

    def px(self, mm: float) -> float:
        return mm * self.dpi / 25.4


class Unmatched(NamedTuple):
    """A page (or a table on it) that is no known form, and why."""
    page: int
    reason: str


class KindMatch(NamedTuple):
    template: FormTemplate
    title: str                  # the title as the kind prints it, '' when not read
    score: float


def title_edits(text: str, title: str) -> int:
    """Fewest character edits that turn some stretch of the line into `title`
    (normalised; Sellers' approximate matching): 0 when the line holds it."""
    line, want = norm_label(text), norm_label(title)
    if not want:
        return 0
    previous = list(range(len(want) + 1))      # against an empty stretch of the line
    best = previous[-1]
    for ch in line:
        current = [0]                            # a stretch may start anywhere
        for j, wanted in enumerate(want, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ch != wanted)))
        best = min(best, current[-1])
        previous = current
    return best


def title_kind(lines: list[TextLine], kinds: list[FormTemplate]) -> Optional[KindMatch]:
    """The kind whose title one of the lines reads as: the line holds the title with
    at most TITLE_EDITS of its characters misread, and every other kind's title needs
    more edits (the kinds' titles share most of their characters, and other kinds not
    registered, such as 项目支出绩效目标表, differ from a known title by two)."""
    scored = []
    for template in kinds:
        best = (10 ** 6, '')
        for line in lines:
            for title in template.titles:
                edits = title_edits(line.text, title)
                # A variant is a shorter printing: it must be held whole.
                if title != template.title and edits:
                    continue
                if edits < best[0]:
                    best = (edits, template.title if title in template.title else title)
        scored.append((best[0], KindMatch(template, best[1], 1.0 - best[0] / max(1, len(template.title)))))
    if not scored:
        return None
    scored.sort(key=lambda k: k[0])
    edits, match = scored[0]
    second = scored[1][0] if len(scored) > 1 else 10 ** 6
    allowed = max(1, int(TITLE_EDITS * len(norm_label(match.template.title))))
    if edits <= allowed and second > edits:
        return match
    return None


def _label_found(texts: list[str], label: str) -> float:
    return max((label_score(text, label) for text in texts), default=0.0)


def header_kind(texts: list[str], kinds: list[FormTemplate]) -> Optional[KindMatch]:
    """The kind whose header labels a table holds (a form whose title was not read):
    the kind with the best-read header label, if no other kind's reads as well."""
    scored = []
    for template in kinds:
        best = max((_label_found(texts, h.label) for h in template.header), default=0.0)
        scored.append(KindMatch(template, '', best))
    if not scored:
        return None
    scored.sort(key=lambda k: -k.score)
    first, second = scored[0], (scored[1].score if len(scored) > 1 else 0.0)
    if first.score >= HEADER_SURE and first.score - second >= HEADER_MARGIN:
        return first
    return None


def _year(lines: list[TextLine]) -> tuple[Optional[str], Optional[TextLine]]:
    """The form's year and the line it was read off (the title's year line)."""
    for line in lines:
        m = re.search(r'(20\d\d|19\d\d)\s*年', unicodedata.normalize('NFKC', line.text))
        if m:
            return m.group(1), line
    return None, None


def _short_texts(cell_lines: list[list[TextLine]]) -> list[str]:
    """Cell texts short enough to be labels (long text cannot be one)."""
    texts = (join_lines([l.text for l in lines]) or '' for lines in cell_lines)
    return [t for t in texts if t and len(t) <= 24]


def _is_open(part: FormPart) -> bool:
    """The form has not reached its total row: a table after it may continue it."""
    total = part.template.total
    if total is None:
        return True
    return not any(label_score(c.text, total.label) >= LABEL_SURE for c in part.cells)


def _across(placed: list[tuple[float, float, float, TextLine]]) -> list[TextLine]:
    """Lines in reading order over cells side by side, from (middle y, middle x, height,
    line) in the form's virtual coordinates: by text line (middles within half a line
    height of each other), then left to right."""
    rows: list[list[tuple]] = []
    for entry in sorted(placed, key=lambda e: e[0]):
        if rows and abs(rows[-1][-1][0] - entry[0]) <= entry[2] / 2:
            rows[-1].append(entry)
        else:
            rows.append([entry])
    return [entry[3] for row in rows for entry in sorted(row, key=lambda e: e[1])]


def continues(part: FormPart, tables: list, tol: Tolerances = TOLERANCES) -> bool:
    """Tables without title or header continue `part` when their inner column rules
    line up with the form's (placed as _place would place them: the page's tables
    together, as pieces of one table)."""
    if not part.frame or not tables:
        return False
    tx0, tx1 = _span(tables)
    fx0, fx1 = part.frame
    scale = _scale(part, tx0, tx1)
    margin = part.px(tol.column_mm)
    inner = sorted({round(fx0 + (x - tx0) * scale) for table in tables for c in table.cells
                    for x in (c.bbox[0], c.bbox[2]) if margin < x - tx0 < (tx1 - tx0) - margin})
    if not inner:
        return False
    edges = [x for c in part.cells for x in (c.x0, c.x1)]
    near = sum(any(abs(x - e) <= margin for e in edges) for x in inner)
    return near >= 2 and near >= tol.continuation_match * len(inner)


def holds_its_labels(template: FormTemplate, texts: list[str]) -> bool:
    """A table that prints the kind's total label (总分) or two of its table's column
    headers belongs to the form before it, even where its rules are too broken for its
    columns to line up (a 总分 row alone on a page, cut in two by a lost rule)."""
    if template.total is not None and _label_found(texts, template.total.label) >= LABEL_SURE:
        return True
    heads = [c.label for c in template.table.columns] if template.table else []
    return sum(_label_found(texts, label) >= LABEL_SURE for label in heads) >= 2


def _span(tables: list) -> tuple[float, float]:
    return float(min(t.bbox[0] for t in tables)), float(max(t.bbox[2] for t in tables))


def _scale(part: FormPart, tx0: float, tx1: float) -> float:
    fx0, fx1 = part.frame
    scale = (fx1 - fx0) / max(1.0, tx1 - tx0)
    # Not the whole table (a short piece, or rules lost at one side): the same print at
    # the same resolution, so keep the scale and align left edges.
    return scale if 0.93 <= scale <= 1.07 else 1.0


def split_forms(pages: list[PageResult], kinds: Optional[list[FormTemplate]] = None
                ) -> tuple[list[FormPart], list[Unmatched]]:
    """The document's forms, each with its kind and tables; the pages (or tables) that
    are no known form."""
    kinds = kinds if kinds is not None else templates()
    parts: list[FormPart] = []
    unmatched: list[Unmatched] = []
    for page in sorted(pages, key=lambda p: p.number):
        texts = {(c.table, c.cell): c.lines for c in page.cells}
        unread = {(c.table, c.cell) for c in page.cells if c.unread}
        if not page.grid.tables:
            words = sum(len(l.text.strip()) for l in page.loose_text)
            unmatched.append(Unmatched(page.number, 'not a known form (no ruled table'
                                       + (', blank page)' if words < 4 else ')')))
            continue
        found = []          # (table, its cells' lines, its kind or None, the lines above it, its unread cells)
        for t_index, table in enumerate(page.grid.tables):
            cell_lines = [texts.get((t_index, i), []) for i in range(len(table.cells))]
            unread_cells = {i for i in range(len(table.cells)) if (t_index, i) in unread}
            previous_bottom = max([t.bbox[3] for t in page.grid.tables[:t_index]], default=0)
            above = [l for l in page.loose_text
                     if l.bbox[3] <= table.bbox[1] + 5 and l.bbox[1] >= previous_bottom]
            kind = title_kind(above, kinds) or header_kind(_short_texts(cell_lines), kinds)
            found.append((table, cell_lines, kind, above, unread_cells))
        # The tables before the page's first titled one: the end of the form before
        # (a continued table, maybe cut into pieces by lost rules) or no known form.
        leading = []
        for table, cell_lines, kind, _, unread_cells in found:
            if kind is not None:
                break
            leading.append((table, cell_lines, unread_cells))
        part = parts[-1] if parts else None
        if leading:
            tables = [t for t, _, _ in leading]
            cells_lines = [lines for _, cell_lines, _ in leading for lines in cell_lines]
            # Each line on its own too: a label in a cell the grid merged with its values.
            texts = _short_texts(cells_lines) + _short_texts([[l] for lines in cells_lines for l in lines])
            if part is not None and page.number - part.pages[-1] == 1 and _is_open(part) \
                    and (continues(part, tables) or holds_its_labels(part.template, texts)):
                box = _span(tables)
                for table, cell_lines, unread_cells in leading:
                    _place(part, page.number, table, cell_lines, continued=True, span=box, unread=unread_cells)
            else:
                why = 'no title or header label of a known kind'
                if part is not None and page.number - part.pages[-1] == 1 and not _is_open(part):
                    why += f'; the form before ended at its {part.template.total.label} row'
                elif part is not None and page.number - part.pages[-1] == 1:
                    why += "; its columns do not line up with the form's before it"
                unmatched.append(Unmatched(page.number, f'not a known form ({why})'))
        for table, cell_lines, kind, above, unread_cells in found[len(leading):]:
            if kind is not None:
                year, year_line = _year(above)
                part = FormPart(template=kind.template, title=kind.title or kind.template.title,
                                year=year, year_line=year_line, dpi=page.dpi, above=above,
                                above_page=page.number)
                parts.append(part)
            # Another table under a titled one is a piece of its form (the grid cut the
            # table where a rule was lost).
            _place(part, page.number, table, cell_lines, continued=False, unread=unread_cells)
    return [p for p in parts if p.cells], unmatched


def _place(part: FormPart, page_number: int, table, cell_lines, continued: bool,
           span: Optional[tuple[float, float]] = None, tol: Tolerances = TOLERANCES,
           unread: frozenset = frozenset()) -> None:
    """Put a table's cells into the form's virtual table. `span` is the x range of the
    page's tables that go to this form together (pieces of one continued table);
    `unread`: the indexes of its cells holding print read as nothing."""
    tx0, ty0, tx1, ty1 = table.bbox
    if part.frame is None:
        part.frame = (float(tx0), float(tx1))
    fx0, fx1 = part.frame
    edge = part.px(tol.edge_mm)
    if page_number in part.placement:
        offset, tx0, scale = part.placement[page_number]
    else:
        if span is not None:
            tx0, tx1 = span
        scale = _scale(part, tx0, tx1)
        offset = part.bottom + part.px(tol.page_gap_mm) - ty0 if part.cells else 0.0
        part.placement[page_number] = (offset, float(tx0), scale)
    for index, (cell, lines) in enumerate(zip(table.cells, cell_lines)):
        x0, y0, x1, y1 = cell.bbox
        part.cells.append(VCell(page=page_number, bbox=list(cell.bbox),
                                x0=fx0 + (x0 - tx0) * scale, x1=fx0 + (x1 - tx0) * scale,
                                y0=y0 + offset, y1=y1 + offset, lines=lines,
                                continued=continued and y0 - table.bbox[1] <= edge,
                                at_bottom=table.bbox[3] - y1 <= edge, unread=index in unread))
    part.bottom = max(part.bottom, ty1 + offset)
    if page_number not in part.pages:
        part.pages.append(page_number)


# ------------------------------------------------------------------ mapping

class FormBuilder:
    """Reads one form of the part's kind: the header fields and each block of its
    template, in print order, each block bounded by where the next one starts."""

    def __init__(self, part: FormPart, form_index: int):
        self.part = part
        self.template = part.template
        self.cells = sorted(part.cells, key=lambda c: (round(c.y0), c.x0))
        self.form = Form(schema=part.template.schema_id, title=part.title or part.template.title,
                         year=part.year, pages=sorted(part.pages))
        if part.year_line is not None:
            # The year is a number read off a text line: how sure the recogniser was
            # of its least sure digit is on record, as a character's is for any field.
            # (Not the line's mean or least sure character: brackets and 年度 round the
            # year, read less surely, flagged a year read well.)
            line = part.year_line
            sure = line.min_digit_confidence if line.min_digit_confidence is not None else line.min_char_confidence
            self.form.sources['year'] = FieldSource(
                page=part.above_page, bbox=list(line.bbox), min_char_confidence=sure, lines=[line.text])
        self.flags: list[Flag] = []
        self.index = form_index
        self.touch = part.px(TOLERANCES.touch_mm)
        self.edge = part.px(TOLERANCES.edge_mm)
        self.slack = part.px(TOLERANCES.slack_mm)
        self.table_rows: list[VCell] = []       # the table's anchor cells, once read
        self.rows_header_bottom: Optional[float] = None     # the rows block's header row, once read
        self.line_height = usual_line_height([line for c in self.cells for line in c.lines])

    # -- helpers
    def find(self, label: str, below: float = -1e9, above: float = 1e18,
             prefix: bool = False) -> Optional[tuple[VCell, float]]:
        """The cell that best reads as `label`; with prefix=True also a cell that
        starts with it (label and value in one cell, the rule between them lost)."""
        best = None
        for c in self.cells:
            if c.y0 < below - self.touch or c.y0 > above:
                continue
            s = c.label_score(label)
            if prefix and s < LABEL_MIN:
                s = 0.97 * split_label(c.text, label)[0]
            if s >= LABEL_MIN and (best is None or s > best[1]):
                best = (c, s)
        return best

    def find_total_label(self, anchor_header: VCell, label: str) -> Optional[tuple[VCell, float]]:
        """The total's label with noise around it ('4A总分二', seal residue or a
        twice-read line): a cell below the table's header that holds the label and spans
        several columns, as the total's label does and no table cell does."""
        width = anchor_header.x1 - anchor_header.x0
        wide = [c for c in self.cells if c.y0 >= anchor_header.y1 - self.touch and c.x1 - c.x0 > 2 * width]
        found = [c for c in wide if norm_label(label) in norm_label(c.text)]
        if len(found) == 1:
            self.structure(self.template.total.key, f"{label} label read with noise around it: '{found[0].text}'",
                           found[0])
            return found[0], LABEL_MIN
        # Misread itself ('忘分' under a seal or a speck): the lowest wide cell, holding
        # a short reading that shares a character with the label, is where it stands.
        text = norm_label(label)
        lowest = max(wide, key=lambda c: c.y0, default=None)
        if found or lowest is None:
            return None
        reading = norm_label(lowest.text)
        if not reading or len(reading) > len(text) + TOTAL_LABEL_NOISE or not set(reading) & set(text):
            return None
        self.structure(self.template.total.key, f"{label} label read as '{lowest.text}': taken by its place "
                                                '(the lowest row spanning the table)', lowest)
        return lowest, LABEL_MIN

    def find_headers(self, labels: dict[str, str], below: float = -1e9, above: float = 1e18) -> dict:
        """Header cells for several labels at once, each cell used by one label only
        (the best-scoring claim wins), so a misread header cannot take its neighbour's.
        A cell holding two or more labels side by side (the rule between them lost) is
        read as one cell per label."""
        claims = []
        cells = [c for c in self.cells if below - self.touch <= c.y0 <= above]
        pieces = []
        for c in cells:
            split = self.label_pieces(c, labels)
            # Read as one piece per label; no flag: a value under them is flagged
            # where its own cell spans columns (set_column).
            pieces += split
        for key, label in labels.items():
            for c in cells + pieces:
                score = c.label_score(label)
                if score >= LABEL_MIN:
                    claims.append((score, key, c))
        found, used, claimed = {}, set(), {}
        for score, key, c in sorted(claims, key=lambda x: -x[0]):
            if key in found or id(c) in used:
                continue
            found[key] = (self.column_under_text(c), score)
            claimed[key] = c
            used.add(id(c))
        self.headers_read_alike = self.in_printed_order(found, claimed, labels)
        return found

    def in_printed_order(self, found: dict, claimed: dict, labels: dict[str, str]) -> dict[str, str]:
        """Two header cells of one row that read alike ('三级指标' twice, 二 read as 三 with
        full confidence: their readings fit the two labels exchanged as well as they fit
        their own): each could be either label, and the best-scoring claim may take the
        wrong one, swapping two columns silently. A kind lists its columns in
        the order the form prints them: such a pair standing out of that order is
        swapped back. Returns {key: why} for the columns of every alike pair, whose
        values are flagged (the header cannot tell them apart by its reading)."""
        keys = [key for key in labels if key in found]
        alike = {}
        for i, a in enumerate(keys):
            for b in keys[i + 1:]:
                ca, cb = claimed[a], claimed[b]
                if min(ca.y1, cb.y1) - max(ca.y0, cb.y0) <= 0.5 * min(ca.y1 - ca.y0, cb.y1 - cb.y0):
                    continue            # not one header row
                a_as_b, b_as_a = ca.label_score(labels[b]), cb.label_score(labels[a])
                if min(a_as_b, b_as_a) < LABEL_MIN or \
                        a_as_b + b_as_a < ca.label_score(labels[a]) + cb.label_score(labels[b]):
                    continue            # told apart: their readings fit their own labels better
                why = (f"header cells read '{ca.text}' and '{cb.text}', alike: columns {labels[a]} and "
                       f'{labels[b]} taken in the order the form prints them')
                alike[a] = alike[b] = why
                if found[a][0].x0 > found[b][0].x0:
                    found[a], found[b] = (found[b][0], b_as_a), (found[a][0], a_as_b)
                    claimed[a], claimed[b] = cb, ca
        return alike

    def column_under_text(self, head: VCell) -> VCell:
        """A header cell that runs over two or more cells below it (the rule beside its
        label lost: 年初预算数 joined to the empty cell left of it) stands for the one
        under its text; other header cells as they are."""
        if not head.lines:
            return head
        spans = [self._line_x(head, line) for line in head.lines]
        left, right = min(s[0] for s in spans), max(s[1] for s in spans)
        if right - left >= HEADER_TEXT_SHARE * (head.x1 - head.x0):
            return head
        below = [c for c in self.cells if abs(c.y0 - head.y1) <= self.touch
                 and c.x0 >= head.x0 - self.slack and c.x1 <= head.x1 + self.slack]
        centre = (left + right) / 2
        under = [c for c in below if c.x0 <= centre <= c.x1]
        if len(below) >= 2 and len(under) == 1 and under[0].x0 - self.slack <= left and right <= under[0].x1 + self.slack:
            x0, x1 = under[0].x0, under[0].x1
        else:
            # The cells right below lost the same rule (a wall worn through the header
            # row and the rows under it: 一级指标 joined to the 绩效指标 label's column):
            # the column walls further down the table inside the header's span, where
            # its text stands wholly on one side of them.
            walls = [x for c in self.cells if c.y0 >= head.y1 - self.touch and c.x0 < head.x1 and c.x1 > head.x0
                     for x in (c.x0, c.x1) if head.x0 + self.slack < x < head.x1 - self.slack]
            walls = [x for x in set(round(w) for w in walls) if sum(abs(w - x) <= self.touch for w in walls) >= 2]
            x0 = max([x for x in walls if x <= left + self.slack], default=head.x0)
            x1 = min([x for x in walls if x >= right - self.slack], default=head.x1)
            if (x0, x1) == (head.x0, head.x1) or x1 - x0 < self.part.px(TOLERANCES.header_min_mm):
                return head
        return VCell(page=head.page, bbox=head.bbox, x0=x0, y0=head.y0, x1=x1, y1=head.y1,
                     lines=head.lines, continued=head.continued, at_bottom=head.at_bottom)

    def label_pieces(self, cell: VCell, labels: dict[str, str]) -> list[VCell]:
        """The cell cut into side-by-side pieces, one per label it holds, when its text
        as a whole is no label but the text standing in each of two or more columns of
        it reads surely as a different label ('三级指标' and '年度指标值' in one cell);
        else []. Each piece reaches halfway to its neighbours' text."""
        if not cell.lines or max(label_score(cell.text, label) for label in labels.values()) >= LABEL_SURE:
            return []
        spans = sorted(((self._line_x(cell, line), line) for line in cell.lines), key=lambda t: t[0][0])
        groups: list[list] = []
        for (x0, x1), line in spans:
            if groups and x0 < groups[-1][1]:       # overlaps the group before: a wrapped line
                groups[-1][1] = max(groups[-1][1], x1)
                groups[-1][2].append(line)
            else:
                groups.append([x0, x1, [line]])
        named = []
        for x0, x1, lines in groups:
            # The group's lines together (a wrapped label), or one of them alone (a
            # seal's or a cut glyph's remnant read as a line of its own above it: 'nm').
            ordered = sorted(lines, key=lambda l: l.bbox[1])
            readings = [(join_lines([line.text for line in ordered]) or '', ordered)] + \
                [(line.text, [line]) for line in ordered] if len(ordered) > 1 else \
                [(ordered[0].text, ordered)]
            if len(ordered) > 2:
                # A remnant read as a line of its own between a wrapped label's lines
                # ('年度指' / '年值' / '标值' under a seal): the label without it.
                readings += [(join_lines([line.text for line in kept]) or '', kept)
                             for kept in ([l for l in ordered if l is not left_out] for left_out in ordered)]
            score, best, used = max(((label_score(text, label), label, used) for text, used in readings
                                     for label in labels.values()), key=lambda t: t[0])
            if score >= LABEL_SURE:
                named.append((x0, x1, used, best))
            elif len(ordered) == 1:
                # Labels run together in one line of their own beside a label read
                # whole ('实际完成值' beside '分值得分': two rules lost).
                named.extend(self._labels_in_line(cell, ordered[0], labels))
        if len(named) < 2:
            named = max((self._labels_in_line(cell, line, labels) for line in cell.lines), key=len)
        if len(named) < 2 or len({n[3] for n in named}) < len(named):
            return []
        out = []
        for k, (x0, x1, lines, _label) in enumerate(named):
            left = cell.x0 if k == 0 else (named[k - 1][1] + x0) / 2
            right = cell.x1 if k == len(named) - 1 else (x1 + named[k + 1][0]) / 2
            out.append(VCell(page=cell.page, bbox=cell.bbox, x0=left, y0=cell.y0, x1=right, y1=cell.y1,
                             lines=sorted(lines, key=lambda l: l.bbox[1]), continued=cell.continued,
                             at_bottom=cell.at_bottom))
        return out

    def _labels_in_line(self, cell: VCell, line: TextLine, labels: dict[str, str]) -> list:
        """Two or more labels read as one text line ('一级指标二级指标': the rule between
        them lost, the line finder ran on): each label found whole in the text, in
        order, as a line of its own over the part of the line its characters take
        (header glyphs are evenly spaced, so a character's place is its share)."""
        text = re.sub(r'\s+', '', unicodedata.normalize('NFKC', line.text))
        if not text:
            return []
        px0, py0, px1, py1 = line.bbox
        step = (px1 - px0) / len(text)
        found, at = [], 0
        while at < len(text):
            hits = [(text.find(norm_label(label), at), norm_label(label), label) for label in labels.values()]
            hits = [h for h in hits if h[0] >= 0 and h[1]]
            if not hits:
                break
            i, needle, label = min(hits, key=lambda h: (h[0], -len(h[1])))
            at = i + len(needle)
            piece = line.model_copy(update={'text': needle, 'numeric': None, 'disagreement': None, 'barred': None,
                                            'bbox': [round(px0 + i * step), py0, round(px0 + at * step), py1]})
            x0, x1 = self._line_x(cell, piece)
            found.append((x0, x1, [piece], label))
        return found

    def lines_under(self, cell: VCell, head: VCell) -> list[TextLine]:
        """The lines of a cell that runs on under several columns (its rules lost)
        that stand under the header `head`."""
        return [line for line in cell.lines if head.x0 - self.slack <= cell.line_xc(line) <= head.x1 + self.slack]

    @staticmethod
    def _line_x(cell: VCell, line: TextLine) -> tuple[float, float]:
        """A line's left and right in the form's virtual x."""
        px0, _, px1, _ = cell.bbox
        scale = (cell.x1 - cell.x0) / max(1.0, px1 - px0)
        return cell.x0 + (line.bbox[0] - px0) * scale, cell.x0 + (line.bbox[2] - px0) * scale

    def headers_by_place(self, headers: dict, columns: list, block_key: Optional[str] = None) -> None:
        """Column headers not read (a seal over them: '完成值' for 实际完成值; '执行車' for
        执行率 on a fax) are the cells of the header row between the headers found before
        and after them in print order: as many cells as headers missing there, taken in
        order, or the one cell with text for a single missing header. Added to
        `headers`, flagged on the first row of `block_key` (default: the table's)."""
        if not headers:
            return
        block_key = block_key or self.template.table.key
        row = list(headers.values())
        y0 = sorted(h[0].y0 for h in row)[len(row) // 2]
        y1 = sorted(h[0].y1 for h in row)[len(row) // 2]
        taken = {id(h[0]) for h in row}
        keys = [c.key for c in columns]
        runs: list[list[int]] = []      # consecutive missing columns (optional ones skipped)
        for k, column in enumerate(columns):
            if column.key in headers:
                runs.append([])
            elif not column.optional:
                if not runs:
                    runs.append([])
                runs[-1].append(k)
        for run in [r for r in runs if r]:
            before = [headers[key][0] for key in keys[:run[0]] if key in headers]
            after = [headers[key][0] for key in keys[run[-1] + 1:] if key in headers]
            if not before and not after:
                continue
            if not before or not after:
                # The row's first or last headers misread ('六指' for 一级指标 on a worn
                # fax; '分價' and '衛分' for the last two, 分值 and 得分): the cells beside
                # their neighbour, one after another, the header row's own.
                self.headers_at_row_end(run, columns, before[-1] if before else None,
                                        after[0] if after else None, (y0, y1), taken, headers, block_key)
                continue
            left, right = before[-1].x1, after[0].x0
            # A sliver cell (a stray stroke beside a rule parted it off, a speck in
            # it read as 'X') is no column's header.
            between = sorted((c for c in self.cells if id(c) not in taken
                              and c.x0 >= left - self.slack and c.x1 <= right + self.slack
                              and c.x1 - c.x0 >= self.part.px(TOLERANCES.header_min_mm)
                              and min(c.y1, y1) - max(c.y0, y0) > 0.5 * (y1 - y0)), key=lambda c: c.x0)
            if len(between) != len(run):
                between = [c for c in between if c.text]
                if len(run) != 1 or len(between) != 1:
                    continue
            for k, cell in zip(run, between):
                column = columns[k]
                headers[column.key] = (cell, LABEL_MIN)
                taken.add(id(cell))
                self.structure(f'{block_key}.0.{column.key}',
                               f"header {column.label} taken by its place (read '{cell.text}')", cell)

    def headers_at_row_end(self, run: list[int], columns: list, before: Optional[VCell],
                           after: Optional[VCell], row: tuple[float, float], taken: set, headers: dict,
                           block_key: str) -> None:
        """The headers of columns `run`, missing at an end of the header row, by their
        place: from the first header found (`after`) leftwards, or from the last
        (`before`) rightwards, each the cell with text just beside the one before it, as
        high as the header row (not a label merged down the table beside it, 绩效指标);
        added to `headers` and flagged, until a place holds no such cell or several."""
        y0, y1 = row
        leftwards = after is not None
        neighbour = after if leftwards else before
        for k in (reversed(run) if leftwards else run):
            edge = neighbour.x0 if leftwards else neighbour.x1
            beside = [c for c in self.cells if id(c) not in taken and c.text
                      and abs((c.x1 if leftwards else c.x0) - edge) <= self.touch
                      and abs(c.y0 - y0) <= self.edge and abs(c.y1 - y1) <= self.edge
                      and c.x1 - c.x0 >= self.part.px(TOLERANCES.header_min_mm)]
            if len(beside) != 1:
                return
            column, neighbour = columns[k], beside[0]
            headers[column.key] = (neighbour, LABEL_MIN)
            taken.add(id(neighbour))
            self.structure(f'{block_key}.0.{column.key}',
                           f"header {column.label} taken by its place (read '{neighbour.text}')", neighbour)

    def same_row(self, headers: dict, anchor: Optional[str] = None, label: str = '') -> dict:
        """Keep the header cells level with the anchor (or with most of them): a label
        matched elsewhere in the table is a misreading, not a header. The anchor's
        level is that of its `label`'s line when the anchor cell holds more print (the
        rule above the header row lost: the header joined to the goal text above it)."""
        if not headers:
            return headers
        if anchor is None or anchor not in headers:
            ys = sorted((h[0].y0 + h[0].y1) / 2 for h in headers.values())
            centre = ys[len(ys) // 2]
        else:
            centre = self.label_level(headers[anchor][0], label)
        return {k: h for k, h in headers.items() if h[0].y0 - self.edge <= centre <= h[0].y1 + self.edge}

    @staticmethod
    def label_level(cell: VCell, label: str) -> float:
        """The centre (virtual y) of the line of `cell` that reads as `label` when the
        cell holds other lines as well, else the cell's centre."""
        if label and len(cell.lines) > 1 and cell.label_score(label) < LABEL_MIN:
            lines = [line for line in cell.lines if label_score(line.text, label) >= LABEL_SURE]
            if len(lines) == 1:
                return cell.line_yc(lines[0])
        return cell.yc

    def structure(self, path: str, detail: str, cell: Optional[VCell] = None, confidence=None):
        self.flags.append(Flag(form=self.index, field=path, reason=FlagReason.structure,
                               detail=detail, confidence=confidence,
                               page=cell.page if cell else (self.form.pages[0] if self.form.pages else None),
                               bbox=cell.bbox if cell else None))

    def unsure(self, path: str, detail: str, cell: Optional[VCell] = None, confidence=None):
        """A reading in doubt (a label or name read with noise), not the table's shape:
        flagged low_confidence, so it does not count as doubt about the rows."""
        self.flags.append(Flag(form=self.index, field=path, reason=FlagReason.low_confidence,
                               detail=detail, confidence=confidence,
                               page=cell.page if cell else (self.form.pages[0] if self.form.pages else None),
                               bbox=cell.bbox if cell else None))

    def note_label(self, found, label, path):
        if found and found[1] < LABEL_SURE:
            self.unsure(path, f"label '{label}' matched only fuzzily as '{found[0].text}'",
                        found[0], round(found[1], 3))

    def set_value(self, path: str, cells: list[VCell], numeric: bool = False,
                  lines: Optional[list[TextLine]] = None, known: Optional[str] = None) -> None:
        """Set a field from its cells' lines (or the given subset of their lines);
        `known`: the printed name the reading was matched to, which the field takes (a
        character lost from its reading then costs nothing)."""
        if lines is None:
            lines = [line for c in cells for line in c.lines]
        if not cells:
            self.form.set(path, None)
            return
        stray = _stray_marks(lines, self.line_height)
        if numeric:
            stray += [line for line in _marks_beside_number(lines) if all(line is not s for s in stray)]
        if stray:
            lines = [line for line in lines if all(line is not s for s in stray)]
        if not numeric:
            lines = [_with_percent_read(line) for line in lines]
        if stray and known is None:
            # (A printed name matched off the rest stands whatever the mark was.)
            self.unsure(path, 'a faint mark beside the value, read as '
                              + ', '.join(repr(line.text) for line in stray) + ', was left out', cells[0])
        for line in lines if known is None else []:
            if line.empty_slot:
                self.unsure(path, f"'{line.text}': a gap a character wide between {line.empty_slot[0]} and "
                                  f'{line.empty_slot[1]}, read as nothing: a character or mark may have been lost',
                            cells[0])
                break
            if line.room_for:
                self.unsure(path, f"the line '{line.text}' is wide enough for {line.room_for} characters, "
                                  f'{len(line.text)} were read: one may have been lost', cells[0])
                break
        taken_runner_up = set()
        for line in lines if known is None and not numeric else []:
            if line.runner_up:
                if _one_han_swapped(line.text, line.runner_up) and line.min_char_confidence is not None \
                        and line.min_char_confidence < RUNNER_UP_TAKEN_BELOW:
                    # A worn character read as another the words do not allow ('受益群在次教'
                    # for 受益群众次数): its runner-up, which they do, is taken, still flagged.
                    taken_runner_up.add(id(line))
                    self.unsure(path, f"read as '{line.text}': one character changed to the recogniser's "
                                      f"runner-up, which makes likelier words ('{line.runner_up}')", cells[0])
                else:
                    self.unsure(path, f"'{line.text}': with one character changed to the recogniser's runner-up "
                                      f"it reads '{line.runner_up}'", cells[0])
                break
        texts, barred = [], []
        comparison = self.template.is_comparison(path)
        for line in lines:
            text = line.runner_up if id(line) in taken_runner_up else line.text
            if numeric:
                text = _numeric_text(line)
                if _COLON_BETWEEN_DIGITS.search(line.text) and text != line.text:
                    self.unsure(path, f"read as '{line.text}': the colon between its digits was taken for a "
                                      'decimal point', cells[0])
            elif line.barred:
                # The forms print ≥ and ≤; a faint bar is lost before the glyph is.
                barred.append(line.text)
                text = line.barred
            elif comparison and line is lines[0] and text.lstrip()[:1] in _BARE_COMPARISON:
                # The recogniser reads ≥ as > with full confidence where the bar is
                # thin; the forms write targets with ≥ and ≤ (100 to 1 in the published
                # forms): the barred one is written, and flagged.
                barred.append(line.text)
                stripped = text.lstrip()
                text = _BARE_COMPARISON[stripped[0]] + stripped[1:]
            texts.append(text)
        if not numeric and any(t.lstrip()[:1] in _LINE_OPENING_COMMAS for t in texts[1:]):
            # Careful print never opens a line with a comma; a speck beside a line's
            # first character reads as one. Kept (wrapped without care, it was
            # printed), and flagged.
            self.unsure(path, 'a line of it opens with a comma: printed there, or a speck read as one', cells[0])
        value = join_lines(texts)
        confs = [_numeric_confidence(line, text) if numeric else line.confidence
                 for line, text in zip(lines, texts)]
        sealed = max((line.sealed or 0.0 for line in lines), default=0.0)
        if value and sealed >= SEALED_TEXT:
            self.flags.append(Flag(form=self.index, field=path, reason=FlagReason.low_confidence, value=value,
                                   detail=f"a seal's dense ink lies over {sealed:.0%} of the text: print under "
                                          'it may have gone with the seal',
                                   page=cells[0].page, bbox=cells[0].bbox))
        elif value and max((line.sealed_beside or 0.0 for line in lines), default=0.0) >= SEALED_BESIDE:
            self.unsure(path, "a seal's dense ink lies right beside the text: a character printed there "
                              'may have gone with the seal', cells[0])
        if barred:
            self.flags.append(Flag(form=self.index, field=path, reason=FlagReason.low_confidence, value=value,
                                   detail=f"read as '{join_lines(barred)}': a bare > or < taken as ≥ or ≤ "
                                          '(the bar is faint; check it)',
                                   page=cells[0].page, bbox=cells[0].bbox))
        if numeric and value:
            # Letters and marks at its ends (':5', '20非'): a speck or a seal's stroke
            # read as one, as with points below; only off a reading the model is fairly
            # sure of ('4十r' at 0.3 is no number with a mark beside it).
            sure = min(confs) >= STRAY_MARK_SURE
            trimmed = _STRAY_POINTS.sub('', _NOT_NUMBER_EDGE.sub('', value) if sure else value)
            if trimmed and reads_as_dash(trimmed):
                trimmed = DASH
            else:
                # Nor with a dash: what is left of a rule beside the number ('20—').
                trimmed = _STRAY_DASHES.sub('', trimmed) or trimmed
            if trimmed != value and looks_numeric(trimmed):
                # A number neither starts nor ends with a point, comma or quote: a speck
                # read as one ('8.', '.77.09', "4'"). Taken off, and the field flagged.
                self.flags.append(Flag(form=self.index, field=path, reason=FlagReason.unparsed, value=trimmed,
                                       detail=f"read as '{value}': the mark at its "
                                              f"{'start' if value[0] != trimmed[0] else 'end'} was taken off",
                                       page=cells[0].page, bbox=cells[0].bbox))
                value = trimmed
            elif not any(ch.isdigit() for ch in value) and not reads_as_dash(value):
                # No digit at all where the column holds numbers ('Sn', '久赛显台', 'yu'):
                # specks in an empty cell, or print worn past reading. No value; the
                # field is flagged with what was read (on the rough tuning sets of
                # session 17, 41 such cells were empty and 50 held a number or a dash).
                self.flags.append(Flag(form=self.index, field=path, reason=FlagReason.unparsed, value=None,
                                       detail=f"read as '{value}': no digit in it, where the column holds "
                                              'numbers: left empty',
                                       page=cells[0].page, bbox=cells[0].bbox))
                value = None
        elif value:
            value = self.snap_to_name(path, value, cells[0])
            core = _comparison_core(value) if comparison else None
            if core is not None and core != value:
                self.unsure(path, f"read as '{value}': the letters, digits or marks round the comparison "
                                  f'{core} were taken off', cells[0])
                value = core
            table = self.template.table
            in_table = table is not None and path.startswith(table.key + '.')
            for pattern, kept, what, reason in (_TABLE_VALUE_MARKS if in_table else []) + _TEXT_VALUE_MARKS:
                trimmed = pattern.sub(kept, value)
                if trimmed != value:
                    self.flags.append(Flag(form=self.index, field=path, reason=reason, value=trimmed,
                                           detail=f"read as '{value}': {what} was taken off",
                                           page=cells[0].page, bbox=cells[0].bbox))
                    value = trimmed
            # A dash between two numbers (a range: '2024—2026', '2023.08.17-2024.10.17')
            # read as the character 一, which never stands between digits.
            value = _DASH_READ_AS_ONE.sub(DASH, value)
            if _SPECK_AT_BREAK.search(value):
                # Chinese print ends a sentence with 。, never a Latin point: a point
                # right after the last character is a speck read as one (measured: every
                # one on the tuning scans), or a 。 misread. Taken off; flagged either way.
                self.unsure(path, f"read as '{value}': the point after the last character was taken off "
                                  '(a speck, or a 。 misread)', cells[0])
                value = value[:-1]
            numbered = _item_marks_put_back(value)
            if numbered != value:
                self.unsure(path, f"read as '{value}': an item number's 、 was lost where the items around "
                                  'it print one; put back', cells[0])
                value = numbered
        self.form.set(path, known if known is not None else value)
        if not value and any(c.unread for c in cells):
            # Print was found in the cell and read as nothing (a '0' with a speck
            # beside it): not known to be empty.
            self.flags.append(Flag(form=self.index, field=path, reason=FlagReason.missing,
                                   detail='the cell holds print the recogniser read as nothing',
                                   page=cells[0].page, bbox=cells[0].bbox))
        main = max(cells, key=lambda c: (c.x1 - c.x0) * (c.y1 - c.y0))
        second = None
        if any(line.disagreement is not None for line in lines):
            second = join_lines([line.disagreement if line.disagreement is not None else line.text
                                 for line in lines])
        self.form.sources[path] = FieldSource(
            page=main.page, bbox=main.bbox, confidence=round(min(confs), 4) if confs else None,
            min_char_confidence=min((line.min_char_confidence for line in lines
                                     if line.min_char_confidence is not None), default=None),
            lines=[line.text for line in lines], second_reading=second)

    def snap_to_name(self, path: str, value: str, cell: VCell) -> str:
        """A value of a column with a fixed vocabulary (the indicator categories) that
        holds one of its names with a little noise around it ('2产出指标', a speck or a
        seal's rim read as a character) is that name; flagged."""
        column = self.template.column(path)
        if column is None or not column.names or value in column.names:
            return value
        if reads_as_dash(value):
            # The column prints a category in every row: a dash there is a speck clump
            # or a rule's piece read as one (the merged cell's name lost), never print.
            self.unsure(path, f"read as '{value}': a dash where the column prints a category name", cell)
            return value
        text = value.replace(' ', '')
        inside = [name for name in column.names if name in text]
        if not inside:
            # A rule's remnant or a speck read as a mark between the name's characters
            # ('数-量指标'): the Chinese characters alone are the name.
            chinese = ''.join(ch for ch in text if _is_cjk(ch))
            if chinese != text and chinese in column.names:
                self.unsure(path, f"read as '{value}': the marks inside the name {chinese} were taken off", cell)
                return chinese
            # A name cut short, its last character lost ('效益指', '满意度指': the 标 on
            # a line of its own, worn away): the one name of the column it starts;
            # flagged as read in part.
            opened = [name for name in column.names if name.startswith(text)]
            if len(text) >= CUT_NAME_MIN and len(opened) == 1:
                self.structure(path, f"read as '{value}': the start of the name {opened[0]} of the column, "
                                     'its end lost', cell)
                return opened[0]
            # One character misread in a name ('质星指标', '户出指标'), read with full
            # confidence: the one name it is a character off; flagged. (Off two names
            # alike, '数' or '质' in '?量指标', it stays as read, flagged.)
            near = [name for name in column.names if one_character_off(name, text)]
            if near:
                self.unsure(path, f"read as '{value}': a character off the name "
                                  f"{' or '.join(near)} of the column", cell)
                return near[0] if len(near) == 1 else value
            return value
        name = max(inside, key=len)
        noise = text.replace(name, '', 1)
        table = self.template.table
        if table is not None and noise == table.label:
            # The table's own label, printed in the merged cell beside the column and
            # read into it where the rule between was lost ('产出指标绩效指标').
            self.unsure(path, f"read as '{value}': the table's label {table.label} beside it (the rule "
                              'between lost) was taken off', cell)
            return name
        # Specks, grain and a seal's rim read as Latin letters, digits, kana or marks,
        # however many ('00s产出指标825NCde' on augraphy's office paper: 3 rows' level
        # 1 wrong as read); as one Chinese character at either end ('由时效指标'); or as
        # a piece of the name read twice ('效益效益指标', '社会成本指标指标': a wrapped
        # name's line read again). Other Chinese beside it ('成本指标满意度指标': two rows'
        # names in one cell) leaves it as read. The forms' own variants of a name
        # ('服务对象满意度标') are names of the column and never get here.
        at_end = text.startswith(name) or text.endswith(name)
        chinese_noise = ''.join(ch for ch in noise if is_han(ch))
        if chinese_noise and chinese_noise not in name and not (len(noise) == 1 and at_end):
            return value
        self.unsure(path, f"read as '{value}': the noise around the name {name} was taken off", cell)
        return name

    def right_of(self, label: VCell, stop_x: Optional[float] = None) -> list[VCell]:
        out = []
        for c in self.cells:
            if c is label or c.x0 < label.x1 - self.slack:
                continue
            if stop_x is not None and c.x0 >= stop_x - self.slack:
                continue
            overlap = min(c.y1, label.y1) - max(c.y0, label.y0)
            if overlap > 0.5 * min(c.y1 - c.y0, label.y1 - label.y0):
                out.append(c)
        return sorted(out, key=lambda c: c.x0)

    def set_text(self, path: str, text: Optional[str], cells: list[VCell]) -> None:
        """Set a field to text cut out of its cells' text (a label split off). A header
        value is a name (a project, a department): a point or stop ending it is a speck
        read as one, taken off and flagged."""
        self.set_value(path, cells)
        if text and path in self.template.header_keys and _MARK_AFTER_NAME.search(text):
            trimmed = _MARK_AFTER_NAME.sub('', text)
            self.unsure(path, f"read as '{text}': the mark after the name was taken off", cells[0] if cells else None)
            text = trimmed
        header = next((h for h in self.template.header if h.key == path), None)
        if text and header is not None and header.kind == 'body':
            trimmed = _NOT_HAN_EDGES.sub('', text)
            if trimmed != text and len(trimmed) >= BODY_NAME_MIN:
                self.unsure(path, f"read as '{text}': the letters, digits or marks at the ends of the name "
                                  'were taken off', cells[0] if cells else None)
                text = trimmed
        if cells:
            self.form.set(path, text or None)

    def header_above(self, label: str) -> Optional[tuple[str, VCell]]:
        """(value, a cell of the line) when a line of text over the form's table starts
        with `label` and the value follows it on that line (or stands in the next line
        to its right): the table's first row left out of the table, its rules lost."""
        for line in self.part.above:
            # The label alone on its line, or starting it.
            score, rest = (1.0, '') if label_score(line.text, label) >= LABEL_SURE else split_label(line.text, label)
            if not score:
                continue
            lines = [line]
            if not rest:
                beside = sorted((other for other in self.part.above if other is not line
                                 and other.bbox[0] >= line.bbox[2]
                                 and min(other.bbox[3], line.bbox[3]) - max(other.bbox[1], line.bbox[1])
                                 > 0.5 * (line.bbox[3] - line.bbox[1])), key=lambda l: l.bbox[0])
                if not beside:
                    continue
                rest, lines = beside[0].text.strip(), [line, beside[0]]
            return rest, self.cell_over_table(lines)
        return None

    def cell_over_table(self, lines: list[TextLine]) -> VCell:
        """A cell round lines of the text over the form's table."""
        box = [min(l.bbox[0] for l in lines), min(l.bbox[1] for l in lines),
               max(l.bbox[2] for l in lines), max(l.bbox[3] for l in lines)]
        return VCell(page=self.part.above_page, bbox=box, x0=box[0], y0=box[1], x1=box[2], y1=box[3], lines=lines)

    def stacked_level(self, cell: VCell, label: str, labels: list[str]) -> Optional[float]:
        """The level (virtual y) of `label`'s line when `cell` holds two or more of the
        header `labels`, each on a line of its own (label cells one over the other,
        the rule between them lost); None for a cell of one label."""
        if len(cell.lines) < 2:
            return None
        own = [line for line in cell.lines if label_score(line.text, label) >= LABEL_SURE]
        others = [other for other in labels if other != label
                  and any(label_score(line.text, other) >= LABEL_SURE for line in cell.lines)]
        return cell.line_yc(own[0]) if len(own) == 1 and others else None

    def header_label_by_place(self, index: int, found: dict, used: set[int]
                              ) -> Optional[tuple[VCell, TextLine, float]]:
        """(cell, line, score) for header label `index` read too poorly to be found by
        its text ('项南之称' for 项目名称 on a 1-bit copy): a cell of the table's first
        column, over the form's first block, with a line reading partly as the label,
        below the cells of the header labels printed before it and above those after;
        or, none reading so, the first such cell when nothing in it was read at all
        (line None, score 0)."""
        template = self.template
        header = template.header
        # The first block starts at its label or at its column headers, whichever is read.
        block_labels = ((template.rows.labels + [c.label for c in template.rows.columns] if template.rows else [])
                        + ([template.pair.label] if template.pair else [])
                        + ([template.table.label] if template.table else []))
        tops = [hit[0].y0 for hit in (self.find(label) for label in block_labels) if hit]
        if not tops or not self.cells:
            return None
        left, bottom = min(c.x0 for c in self.cells), min(tops)
        after = [found[h.key][0].y0 for h in header[:index] if found[h.key]]
        before = [found[h.key][0].y1 for h in header[index + 1:] if found[h.key]]
        low, high = max(after, default=-1e18), min(before + [bottom + self.edge])
        best = None
        column = sorted((c for c in self.cells if id(c) not in used and c.x0 <= left + self.slack
                         and c.y0 >= low - self.edge and c.y1 <= high), key=lambda c: c.y0)
        for c in column:
            for line in c.lines:
                score = label_score(line.text, header[index].label)
                if score >= PLACE_LABEL_MIN and (best is None or score > best[2]):
                    best = (c, line, score)
        if best is None and column and not column[0].lines and any(c.text for c in self.right_of(column[0])):
            # Nothing of the label left to read (faint print on a 1-bit copy): the first
            # blank cell of the column in its place, a value beside it.
            return column[0], None, 0.0
        return best

    def first_value_over_table(self) -> Optional[VCell]:
        """The first row left out of the table with its label unread ('0980' for 项目名称):
        the line standing just over the table (within FIRST_ROW_OVER_MM), clear of the
        label's column, holding Chinese; None when there is no one such line."""
        if not self.cells or not self.part.above:
            return None
        top = min(c.y0 for c in self.cells)
        left, right = min(c.x0 for c in self.cells), max(c.x1 for c in self.cells)
        reach = self.part.px(FIRST_ROW_OVER_MM)
        lines = [line for line in self.part.above
                 if top - reach <= line.bbox[3] <= top + self.edge
                 and line.bbox[0] >= left + FIRST_ROW_LABEL_SHARE * (right - left)
                 and sum(_is_cjk(ch) for ch in line.text) >= 2]
        return self.cell_over_table(lines) if len(lines) == 1 else None

    def header_value(self, found, label: str, path: str, stop: Optional[VCell] = None,
                     level: Optional[float] = None, label_line: Optional[TextLine] = None
                     ) -> tuple[Optional[str], list[VCell]]:
        """Text right of a header label: the label cell's own rest (when label and
        value share a cell) and the cells beside it, up to the next label. With
        `level` (the label's line in a cell of stacked labels) only the lines and
        cells level with it: what lies between the labels is the lost rule's marks.
        `label_line`: the line taken for the label by its place (its own rest is the
        cell's other lines level with it)."""
        cell = found[0]
        own = cell.lines if cell.label_score(label) < LABEL_MIN else []
        beside = self.right_of(cell, stop.x0 if stop is not None else None)
        if level is not None:
            own = [line for line in cell.lines if line.bbox[1] <= level - cell.y0 + cell.bbox[1] <= line.bbox[3]]
            beside = [c for c in beside if c.y0 - self.edge <= level <= c.y1 + self.edge]
        if label_line is not None:
            own = [line for line in own if line is not label_line]
            beside = [c for c in beside if all(line is not label_line for line in c.lines)]
        # A faint speck-read mark beside the name is left out here as set_value leaves
        # it out (and flags it) for every other field: in the label's own cell too,
        # when the value shares it ('中小学校舍维修改造项目尾款' with 'J' and '4' of a
        # photocopy's grey smudges under it).
        # (The label's own line is no sure reading of the value beside the marks.)
        stray = _stray_marks([line for line in own if label_score(line.text, label) < LABEL_SURE]
                             + [line for c in beside for line in c.lines], self.line_height)

        def kept(lines: list[TextLine]) -> str:
            return ''.join(line.text for line in lines if all(line is not s for s in stray))
        own_text = kept(own)
        if label_line is not None:
            rest = own_text
        else:
            rest = split_label(own_text, label)[1] if own and label_score(own_text, label) < LABEL_SURE else ''
        text = join_lines([rest] + [kept(c.lines) for c in beside])
        # A glyph stroke in line with a rule (门's right stroke over a column rule) can
        # put a wall inside the label: its last characters then start the value.
        read = norm_label(cell.text)
        if not rest and text and read and read != label and label.startswith(read):
            tail = label[len(read):]
            if text.startswith(tail) and len(text) > len(tail):
                text = text[len(tail):]
                self.structure(path, f"the end of the label {label} ('{tail}') was cut off into the value",
                               cell)
        return text, ([cell] if rest else []) + beside

    def column_lines(self, cell: VCell, key: str, headers: dict) -> tuple[list[TextLine], bool]:
        """The lines of `cell` that belong to header column `key`. A cell that stretches
        over several header columns lost a rule: each of its text pieces goes to the
        column it stands in. Returns (lines, doubtful): doubtful when the cell spans
        columns and some line of it does not stand inside one column's header (a line
        across a lost rule may hold two columns' values run together)."""
        centres = {k: (h[0].x0 + h[0].x1) / 2 for k, h in headers.items()}
        covered = [k for k, x in centres.items() if cell.x0 - self.touch <= x <= cell.x1 + self.touch]
        if len(covered) <= 1:
            return cell.lines, False
        nearest = {id(line): min(covered, key=lambda k: abs(centres[k] - cell.line_xc(line))) for line in cell.lines}
        picked = [line for line in cell.lines if nearest[id(line)] == key]

        def inside(line):
            head = headers[nearest[id(line)]][0]
            x0, x1 = self._line_x(cell, line)
            return head.x0 - self.slack <= x0 and x1 <= head.x1 + self.slack
        return picked, not cell.lines or not all(inside(line) for line in cell.lines)

    def set_column(self, path: str, cell: Optional[VCell], key: str, headers: dict, numeric: bool) -> None:
        if cell is None:
            self.set_value(path, [], numeric=numeric)
            return
        lines, spans = self.column_lines(cell, key, headers)
        self.set_value(path, [cell], numeric=numeric, lines=lines)
        if spans:
            self.structure(path, 'the cell stretches over several columns (a rule is missing or '
                                 'broken); its text was shared out by position', cell)

    def column_cell(self, x0: float, x1: float, y0: float, y1: float) -> Optional[VCell]:
        """The cell covering the column [x0, x1] at the row band [y0, y1]."""
        best, best_score = None, 0.0
        for c in self.cells:
            ox = min(c.x1, x1) - max(c.x0, x0)
            oy = min(c.y1, y1) - max(c.y0, y0)
            if ox <= 0 or oy <= 0:
                continue
            score = (ox / max(1.0, min(x1 - x0, c.x1 - c.x0))) * (oy / max(1.0, y1 - y0))
            if score > best_score:
                best, best_score = c, score
        return best if best_score > 0.3 else None

    # -- sections
    def build(self) -> tuple[Form, list[Flag]]:
        t = self.template
        self._header()
        pair_label = self.find(t.pair.label) if t.pair else None
        pair_first = self.find(t.pair.fields[0].label) if t.pair else None
        table_label = None
        if t.table:
            table_label = self.find(t.table.columns[0].label) or self.find(t.table.label)
        pair_top = min([x[0].y0 for x in (pair_label, pair_first) if x], default=None)
        table_top = table_label[0].y0 if table_label else None
        if t.rows:
            self._rows(pair_top if pair_top is not None else table_top)
        if t.pair:
            self._pair(table_top, pair_label)
        if t.table:
            # The table lies below the rows block, whose header row holds some of its
            # own headers (分值, 得分): whatever the labels above it were read as (neither
            # found, or a misreading matched above the rows block), it is looked for there.
            top = table_top if table_top is not None else pair_top
            if self.rows_header_bottom is not None:
                top = self.rows_header_bottom if top is None else max(top, self.rows_header_bottom)
            self._table(top)
        return self.form, self.flags

    def _header(self) -> None:
        """Header fields: the text right of each label, up to the next label on its row.
        A label not found may sit inside the value before it (merged cells): it is cut
        out there."""
        header = self.template.header
        labels = [h.label for h in header]
        found: dict[str, Optional[tuple[VCell, float]]] = {}
        used: set[int] = set()
        for h in header:
            # Two label cells whose rule between them was lost are one cell holding
            # both labels, each on its line: the later label is found there too.
            stacked = [f for f in found.values() if f and self.stacked_level(f[0], h.label, labels) is not None]
            hit = (stacked[0][0], 1.0) if stacked else self.find(h.label, prefix=True)
            if hit and id(hit[0]) in used and not stacked:
                hit = None          # the cell is an earlier label's
            found[h.key] = hit
            if hit:
                used.add(id(hit[0]))
        placed: dict[str, Optional[TextLine]] = {}     # label taken by its place: its line
        for i, h in enumerate(header):
            if found[h.key] is None:
                by_place = self.header_label_by_place(i, found, used)
                if by_place is not None:
                    cell, line, score = by_place
                    found[h.key], placed[h.key] = (cell, score), line
                    used.add(id(cell))
                    read = f"read as '{line.text}'" if line is not None else 'not read at all'
                    self.structure(h.key, f'label {h.label} {read}: taken by its place in the first column',
                                   cell, round(score, 3))
        cut: dict[str, tuple[str, list[VCell]]] = {}
        for i, h in enumerate(header):
            hit = found[h.key]
            if not hit:
                over = None if h.key in cut else self.header_above(h.label)
                beside = self.first_value_over_table() if over is None and i == 0 and h.key not in cut else None
                if h.key in cut:
                    self.set_text(h.key, *cut[h.key])
                elif over is not None:
                    self.set_text(h.key, over[0], [over[1]])
                    self.structure(h.key, f'label {h.label} and its value stand over the table (the rules '
                                          'round them lost): read from the text there', over[1])
                elif beside is not None:
                    self.set_text(h.key, beside.text, [beside])
                    self.structure(h.key, f'label {h.label} not read; its value taken from the line over the '
                                          'table where the first row stands (its rules lost)', beside)
                else:
                    self.structure(h.key, f'label {h.label} not found')
                continue
            if h.key not in placed:
                self.note_label(hit, h.label, h.key)
            cell = hit[0]
            level = cell.line_yc(placed[h.key]) if placed.get(h.key) is not None \
                else self.stacked_level(cell, h.label, labels)
            right = [f[0] for f in found.values() if f and f[0] is not cell and f[0].x0 >= cell.x1 - self.slack
                     and (min(f[0].y1, cell.y1) - max(f[0].y0, cell.y0) > 0.5 * min(f[0].y1 - f[0].y0,
                                                                                   cell.y1 - cell.y0)
                          if level is None else f[0].y0 - self.edge <= level <= f[0].y1 + self.edge)]
            stop = min(right, key=lambda c: c.x0) if right else None
            text, cells = self.header_value(hit, h.label, h.key, stop=stop, level=level,
                                            label_line=placed.get(h.key))
            for later in header[i + 1:]:
                if found[later.key] is None and later.key not in cut and text:
                    before, after = cut_at_label(text, later.label)
                    if after is not None:
                        text = before
                        cut[later.key] = (after, cells)
                        self.structure(later.key, f'label {later.label} found inside a merged cell',
                                       cells[-1] if cells else cell)
            self.set_text(h.key, text, cells)

    def _block_rows(self, key: str, row_type) -> list:
        rows = getattr(self.form, key, None)
        if rows is None:
            rows = []
            setattr(self.form, key, rows)
        rows.append(row_type())
        return rows

    def _rows(self, section_end: Optional[float]) -> None:
        """The block of fixed rows (funds): its column-header row, then one row per
        printed item, the values under their headers."""
        block = self.template.rows
        labels = {c.key: c.label for c in block.columns}
        numeric = {c.key: c.numeric for c in block.columns}
        end = section_end if section_end is not None else 1e18
        headers = self.find_headers(labels, above=end)
        alike = self.headers_read_alike
        for key, found in headers.items():
            self.note_label(found, labels[key], f'{block.key}.0.{key}')
        headers = self.same_row(headers)
        self.headers_by_place(headers, block.columns, block.key)
        missing = [c.label for c in block.columns if c.key not in headers and not c.optional]
        if missing:
            self.structure(block.key, f'{block.key} header not found for: {", ".join(missing)}')
            if not headers:
                return
        header_bottom = _header_bottom(headers)
        self.rows_header_bottom = header_bottom
        first_x = min(h[0].x0 for h in headers.values())
        rows = self._item_rows(header_bottom, first_x, end)
        self._check_item_rows(rows, headers, header_bottom, end)
        items = block.items
        alike_values = []       # (key, path, cell) of the columns whose headers read alike
        for i, row in enumerate(rows):
            prefix = f'{block.key}.{i}'
            self._block_rows(block.key, FundsRow)
            canonical = max(items, key=lambda label: label_score(row.text, label))
            self.set_value(f'{prefix}.{block.item_key}', [row.cell], lines=row.lines,
                           known=canonical if label_score(row.text, canonical) >= 0.6 else None)
            if isinstance(row, Band) and row.shares_cell:
                self.structure(f'{prefix}.{block.item_key}', 'several items in one cell (a rule is missing or '
                                                             'broken): read as one item per line', row.cell)
            for key, (head, _) in headers.items():
                cell = self.column_cell(head.x0, head.x1, row.y0, row.y1)
                if key in alike:
                    alike_values.append((key, f'{prefix}.{key}', cell))
                if cell is not None and cell.y0 < header_bottom - self.edge:
                    self.value_below_header(f'{prefix}.{key}', cell, row, header_bottom, numeric[key])
                    continue
                if cell is not None and cell is row.cell:
                    # The item's cell runs on under this column (the rule between
                    # them lost): the value is its text standing under the header.
                    lines = [l for l in self.lines_under(cell, head)
                             if row.y0 - self.edge <= cell.line_yc(l) <= row.y1 + self.edge]
                    self.set_value(f'{prefix}.{key}', [cell] if lines else [], numeric=numeric[key], lines=lines)
                    self.structure(f'{prefix}.{key}', 'the value cell runs into the item cell (a rule is '
                                                      'missing or broken); its text was shared out by position', cell)
                    continue
                self.set_row_column(f'{prefix}.{key}', cell, row, rows, key, headers, numeric=numeric[key])
                if cell is None:
                    self.form.sources.pop(f'{prefix}.{key}', None)
        self.flag_alike_columns(alike, alike_values, {c.key: c for c in block.columns})
        self.fill_worn_dashes(len(rows))

    def fill_worn_dashes(self, n_rows: int) -> None:
        """A dash column's cell below the block's first row (分值, 得分) left empty
        while the other dash column of its row reads a dash: the form prints a dash in
        both (on the rough tuning sets of session 17, 29 of 29 such cells printed one;
        a row left blank has neither), this one worn past reading. Taken as the dash,
        flagged."""
        block = self.template.rows
        dashed = block.dash_columns
        for row in range(1, n_rows):
            for key in dashed:
                path = f'{block.key}.{row}.{key}'
                if self.form.get(path) not in (None, ''):
                    continue
                if any(is_dash(self.form.get(f'{block.key}.{row}.{other}')) for other in dashed if other != key):
                    self.form.set(path, DASH)
                    self.unsure(path, 'empty beside a dash in its row, where the form prints a dash in both: '
                                      'taken as a dash worn past reading')

    def _item_rows(self, top: float, first_x: float, end: float) -> list['Band']:
        """The block's item rows, one per printed item (年度资金总额 …). Found from the
        item cells' text lines rather than the cells alone: when a rule is lost two
        items share one cell, or an item's cell runs up into the header row."""
        block = self.template.rows
        items = block.items
        # An item cell may run on under the value columns (the rule after it lost):
        # only its text left of them is the item.
        def item_lines(c):
            return [l for l in c.lines if c.x1 <= first_x + self.slack or c.line_xc(l) < first_x - self.slack]

        cells = [c for c in self.cells if c.x0 < first_x - self.slack and c.y1 > top + self.slack
                 and c.y0 < end - self.slack and item_lines(c)
                 and max(label_score(join_lines([l.text for l in item_lines(c)]) or '', label)
                         for label in block.labels) < 0.7]
        # Drop label-like cells that stand left of other item cells (the block label).
        cells = [c for c in cells if not any(o is not c and o.x0 >= c.x1 - self.edge and
                                             min(o.y1, c.y1) - max(o.y0, c.y0) > 0 for o in cells)]
        bands = []
        for cell in sorted(cells, key=lambda c: c.y0):
            lines = [l for l in item_lines(cell) if top - self.edge <= cell.line_yc(l) <= end + self.edge]
            if not lines:
                continue
            whole = join_lines([l.text for l in lines]) or ''
            pieces = self._items_in(cell, lines, items) if len(lines) > 1 else []
            # Several items in one cell (a lost rule) when its lines read as two or more
            # items; a wrapped item ('其中：当年财' / '政拨款') reads as one only whole.
            several = len(pieces) > 1 and all(max(label_score(b.text, x) for x in items) >= 0.8
                                              for b in pieces)
            if not several and (len(lines) == 1 or max(label_score(whole, x) for x in items) >= 0.8):
                bands.append(Band(max(cell.y0, top), min(cell.y1, end), cell, lines))
                continue
            # Each piece's item is flagged where its row is set (_rows): its values
            # stand in cells of their own, flagged by themselves if those ran together.
            for piece in pieces:
                piece.shares_cell = True
            bands += pieces
        return bands

    @staticmethod
    def _items_in(cell: VCell, lines: list[TextLine], items: list[str]) -> list[Band]:
        """A cell's lines cut into items: wherever the text so far reads as one."""
        bands, group = [], []

        def close(group):
            ys = [cell.line_yc(l) for l in group]
            half = max(l.bbox[3] - l.bbox[1] for l in group)
            bands.append(Band(min(ys) - half, max(ys) + half, cell, group))

        for line in lines:
            group.append(line)
            text = join_lines([l.text for l in group]) or ''
            if max(label_score(text, x) for x in items) >= 0.8:
                close(group)
                group = []
        if group:
            close(group)
        return bands

    def value_below_header(self, path: str, cell: VCell, row, header_bottom: float, numeric: bool) -> None:
        """A value cell merged with its header cell (the rule under the header lost):
        the lines below the header's level that are level with the row."""
        lines = [l for l in cell.lines if cell.line_yc(l) > header_bottom and row.y0 - self.edge <= cell.line_yc(l) <= row.y1 + self.edge]
        self.set_value(path, [cell], numeric=numeric, lines=lines)
        if not lines:
            self.form.set(path, None)
        self.structure(path, 'the value cell runs into its header (a rule is missing or broken)', cell)

    def set_row_column(self, path: str, cell: Optional[VCell], row, rows, key: str, headers: dict,
                       numeric: bool) -> None:
        """Set a row's field from the cell in its column; a cell beside several rows
        (its rule lost) gives each row only the lines level with it."""
        shared = cell is not None and any(
            r is not row and min(cell.y1, r.y1) - max(cell.y0, r.y0) > 0.5 * (r.y1 - r.y0) for r in rows)
        if not shared:
            self.set_column(path, cell, key, headers, numeric=numeric)
            return
        lines = [l for l in cell.lines if row.y0 - self.edge <= cell.line_yc(l) <= row.y1 + self.edge]
        self.set_value(path, [cell], numeric=numeric, lines=lines)
        if not lines:
            self.form.set(path, None)
        self.structure(path, 'the cell stretches over several rows (a rule is missing or broken); '
                             'its lines were shared out by position', cell)

    def _check_item_rows(self, rows: list['Band'], headers: dict, top: float, end: float) -> None:
        """The block's rows should be the printed items in one of the orders the kind
        prints, and every value cell should belong to one of them; if not, rows were
        lost or merged."""
        block = self.template.rows
        names = [max(block.items, key=lambda label: label_score(c.text, label)) for c in rows]
        problems = []
        if names not in block.sequences:
            problems.append('the rows are not the printed items in order: ' + ', '.join(c.text for c in rows))
        for column in block.columns:
            if column.key in headers and column.kind in ('money', 'weight'):
                orphans = self.orphans(headers[column.key][0], rows, top, end)
                if orphans:
                    problems.append(f'{len(orphans)} value cell(s) under {column.label} belong to no row')
                    break
        if problems:
            self.structure(block.key, '; '.join(problems))

    def orphans(self, head: VCell, rows: list[VCell], top: float, end: float) -> list[VCell]:
        """Cells with text in a header's column, between top and end, that lie beside
        none of the rows (a row the grid merged away or the layout missed)."""
        out = []
        for c in self.cells:
            if not c.text or c.y0 < top - self.edge or c.y1 > end + self.edge:
                continue
            if self.line_height and c.y1 - c.y0 < STRAY_MARK_HEIGHT * self.line_height:
                # A sliver between a rule and a stray stroke beside it: no line of
                # print fits in it (a speck there read as '2c').
                continue
            if not (head.x0 - self.edge <= c.xc <= head.x1 + self.edge):
                continue
            if not any(min(c.y1, r.y1) - max(c.y0, r.y0) > 0.5 * min(c.y1 - c.y0, r.y1 - r.y0) for r in rows):
                out.append(c)
        return out

    def anchor_run_into_first_row(self, head: VCell, header_bottom: float, rows: list) -> Optional[Band]:
        """The first row, when its name cell (三级指标) ran into the anchor's header (the
        rule under the header broken): the header cell reaches down past the header row
        to where the next row starts and holds lines below the header's level, the
        first row's name (a lost row took the whole table's trust with it)."""
        below = head.y1 - header_bottom
        if below < 2 * self.edge or any(r.y0 < head.y1 - self.edge for r in rows):
            return None
        lines = [l for l in head.lines if head.line_yc(l) > header_bottom + self.edge]
        if not lines:
            return None
        return Band(header_bottom, head.y1, head, lines)

    def split_anchor_rows(self, anchors: list[VCell], value_heads: list[VCell]) -> list:
        """Anchor cells (三级指标) that stand beside two or more rows of value cells lost
        the rule under a name: each becomes one row per value row (a Band of the same
        cell), so its names are shared out by position and no row is lost. Two value
        columns must agree on the rows (one when the table has only one), so a stray
        rule in one column does not split a row."""
        rows = []
        for anchor in anchors:
            height = anchor.y1 - anchor.y0
            cuts = []
            for head in value_heads:
                inside = sorted((c for c in self.cells
                                 if head.x0 - self.edge <= c.xc <= head.x1 + self.edge
                                 and c.y0 >= anchor.y0 - self.edge and c.y1 <= anchor.y1 + self.edge
                                 and c.y1 - c.y0 < 0.8 * height),
                                key=lambda c: c.y0)
                # The pieces must tile the anchor's height, each a row of its own.
                if len(inside) >= 2 and sum(c.y1 - c.y0 for c in inside) >= 0.8 * height:
                    cuts.append([c.y1 for c in inside[:-1]])

            def same(a, b):
                return len(a) == len(b) and all(abs(x - y) <= 2 * self.edge for x, y in zip(a, b))
            agreed = [c for c in cuts if sum(same(c, o) for o in cuts) >= min(2, len(value_heads))]
            if not agreed:
                rows.append(anchor)
                continue
            edges = [anchor.y0] + max(agreed, key=len) + [anchor.y1]
            rows += [Band(y0, y1, anchor, [l for l in anchor.lines if y0 - self.edge <= anchor.line_yc(l) <= y1 + self.edge])
                     for y0, y1 in zip(edges, edges[1:])]
        return rows

    def _carry_across_break(self, row_cells: list[VCell], headers: dict) -> None:
        """A merged carry-down cell (一级/二级) cut by a page break has its text printed
        on one side only; the rows on the other side carry it too. Rows after the break
        got it already (copied down); here rows before the break take it from below."""
        table = self.template.table
        for key in table.carry_down:
            if key not in headers:
                continue
            head = headers[key][0]
            for i in range(len(row_cells) - 2, -1, -1):
                path, below = f'{table.key}.{i}.{key}', f'{table.key}.{i + 1}.{key}'
                if self.form.get(path) or not self.form.get(below):
                    continue
                cell = self.column_cell(head.x0, head.x1, row_cells[i].y0, row_cells[i].y1)
                nxt = self.column_cell(head.x0, head.x1, row_cells[i + 1].y0, row_cells[i + 1].y1)
                # Same (empty) merged cell as the row below, or the cell just above the
                # break whose continuation opens the next page.
                if cell is not None and nxt is not None and (
                        nxt is cell or (cell.at_bottom and nxt.continued)):
                    self.form.set(path, self.form.get(below))
                    self.form.sources[path] = self.form.sources.get(below, FieldSource())

    def _pair(self, section_end: Optional[float], label=None) -> None:
        """Two text cells under their headers (预期目标 / 实际完成情况)."""
        pair = self.template.pair
        end = section_end if section_end is not None else 1e18
        # A header and its text in one cell (the rule under the header lost): the cell
        # whose first line reads as the header holds the text under it.
        heads = [self.find(f.label, above=end - self.slack) for f in pair.fields]
        if not all(heads):
            # The two headers side by side in one cell (the rule between them lost):
            # one piece of it per header.
            pieces = self.find_headers({f.key: f.label for f in pair.fields}, above=end - self.slack)
            heads = [pieces.get(f.key) or head for f, head in zip(pair.fields, heads)]
        merged = [self.header_over_text(f.label, end) if head is None or len(head[0].lines) > 1 else None
                  for f, head in zip(pair.fields, heads)]
        heads = [(own, LABEL_MIN) if own is not None else head for head, own in zip(heads, merged)]
        if not all(heads) and label is not None:
            self._pair_without_headers(label[0], end)
            return
        for column, head, own in zip(pair.fields, heads, merged):
            path = f'{pair.key}.{column.key}'
            if own is not None:
                self.set_value(path, [own], lines=own.lines[1:])
                self.structure(path, f'{pair.label} header {column.label} and its text in one cell (the rule '
                                     'under the header lost)', own)
                continue
            if not head:
                self.structure(path, f'{pair.label} header {column.label} not found')
                continue
            h = head[0]
            # The text cell under its header, and the pieces of it a rule the grid found
            # through the text (a fold or a streak) cut off, each within the header's span.
            cells = sorted((c for c in self.cells if c.y0 >= h.y1 - self.edge and c.y1 <= end + self.edge
                            and (min(c.x1, h.x1) - max(c.x0, h.x0) > 0.5 * (h.x1 - h.x0)
                                 or (c.x0 >= h.x0 - self.edge and c.x1 <= h.x1 + self.edge and c.text))),
                           key=lambda c: (c.y0, c.x0))
            # A text cell under both headers (the rule between the two texts lost): its
            # lines go each to the header it stands under, as a table's do, flagged (read
            # as one, the two texts came out interleaved in both fields).
            both = {f.key: hd for f, hd in zip(pair.fields, heads) if hd}
            picked = [self.column_lines(c, column.key, both)[0] if len(both) > 1 else c.lines for c in cells]
            shared = [c for c, lines in zip(cells, picked) if len(lines) < len(c.lines)]
            lines = [line for lines in picked for line in lines]
            pieces = [c for c in cells if any(d is not c and abs(d.y0 - c.y0) <= self.edge for d in cells)]
            if pieces:
                # Side by side, the pieces' lines are read across, line by line.
                lines = _across([(c.line_yc(line), c.line_xc(line), line.bbox[3] - line.bbox[1], line)
                                 for c, chosen in zip(cells, picked) for line in chosen])
                self.structure(path, f'{pair.label}: the text under {column.label} is cut into {len(pieces)} '
                                     'cells by a rule through it (a fold or a streak?); their lines joined '
                                     'by position', pieces[0])
            self.set_value(path, cells, lines=lines)
            if shared:
                self.structure(path, f'{pair.label}: one text cell under both headers (the rule between them '
                                     f'lost); its lines taken by the header each stands under', shared[0])

    def header_over_text(self, label: str, end: float) -> Optional[VCell]:
        """The one cell above `end` whose first line reads as `label` and that holds
        more lines under it, none of them another header of the pair (headers merged
        side by side are no header over its text); None otherwise."""
        others = [f.label for f in self.template.pair.fields if f.label != label]
        found = [c for c in self.cells if c.y1 <= end + self.edge and len(c.lines) > 1
                 and label_score(c.lines[0].text, label) >= LABEL_MIN
                 and not any(label_score(line.text, other) >= LABEL_MIN for line in c.lines[1:] for other in others)]
        if len(found) != 1:
            return None
        # With text below it in its column, the cell is the header with marks under it
        # (a seal's strokes read as '男'), and the text is below as usual.
        head = found[0]
        below = [c for c in self.cells if c.text and c.y0 >= head.y1 - self.edge and c.y1 <= end + self.edge
                 and min(c.x1, head.x1) - max(c.x0, head.x0) > 0.5 * (head.x1 - head.x0)]
        return None if below else head

    def _pair_without_headers(self, label: VCell, end: float) -> None:
        """The pair's headers were not found (merged away with a lost rule): the values
        are the last row of cells beside the block's label, left then right."""
        pair = self.template.pair
        beside = [c for c in self.cells if c.x0 >= label.x1 - self.slack and c.y0 >= label.y0 - self.edge
                  and c.y1 <= min(label.y1, end) + self.edge and c.text]
        if not beside:
            self.structure(pair.key, f'{pair.label} headers and text not found')
            return
        last = max(c.y0 for c in beside)
        row = sorted([c for c in beside if c.y0 >= last - self.slack], key=lambda c: c.x0)
        left, right = (f'{pair.key}.{c.key}' for c in pair.fields)
        self.set_value(left, row[:1])
        self.set_value(right, row[1:2] if len(row) > 1 else [])
        self.structure(pair.key, f'{pair.label} headers not found; the values were taken from the cells '
                                 f'beside {pair.label}', row[0])

    def _table(self, section_top: Optional[float]) -> None:
        """The indicator table: a row per anchor cell (三级指标) between the header row
        and the total row; carry-down columns keep the text of their merged cells."""
        table = self.template.table
        columns = {c.key: c for c in table.columns}
        labels = {c.key: c.label for c in table.columns}
        top = section_top if section_top is not None else -1e9
        headers = self.find_headers(labels, below=top)
        alike = self.headers_read_alike
        for key, found in headers.items():
            if not columns[key].optional:
                self.note_label(found, labels[key], f'{table.key}.0.{key}')
        anchor = table.anchor
        if anchor not in headers:
            # Its header misread (a seal or a speck clump over it: '云级指标信' for
            # 三级指标) while the rest of the header row was read: the anchor's is the
            # cell between its neighbours' there, as for any other column.
            level = self.same_row(headers)
            if len(level) >= ANCHOR_BY_PLACE_HEADERS:
                self.headers_by_place(level, table.columns)
                if anchor in level:
                    headers = level
        if anchor not in headers:
            self.structure(table.key, f'{table.key} header {labels[anchor]} not found')
            return
        headers = self.same_row(headers, anchor=anchor, label=labels[anchor])
        self.headers_by_place(headers, table.columns)
        missing = [c for c in table.columns if c.key not in headers and not c.optional]
        total_row = self.template.total
        total = None
        if total_row is not None:
            total = self.find(total_row.label, below=headers[anchor][0].y1) or \
                self.find_total_label(headers[anchor][0], total_row.label)
        header_bottom = _header_bottom(headers)
        end = total[0].y0 if total else 1e18
        head = headers[anchor][0]
        row_cells = [c for c in self.cells if c.y0 >= header_bottom - self.edge and c.y1 <= end + self.edge
                     and min(c.x1, head.x1) - max(c.x0, head.x0) > 0.6 * min(c.x1 - c.x0, head.x1 - head.x0)]
        row_cells.sort(key=lambda c: c.y0)
        # Columns every row fills, numbers first: a cell in one of them beside no row is
        # a row the grid lost or merged.
        filled = [c.key for c in table.columns if c.numeric] + \
            [c.key for c in table.columns if not c.numeric and not c.optional and c.key != anchor
             and c.key not in table.carry_down]
        row_cells = self.split_anchor_rows(row_cells, [headers[k][0] for k in filled if k in headers])
        first = self.anchor_run_into_first_row(head, header_bottom, row_cells)
        if first is not None:
            row_cells.insert(0, first)
        self.table_rows = row_cells
        for key in filled:
            if key in headers:
                orphans = self.orphans(headers[key][0], row_cells, header_bottom, end)
                if orphans:
                    self.structure(table.key, f'{len(orphans)} cell(s) under {labels[key]} belong to '
                                              'no row: rows may be lost or merged', orphans[0])
                    break
        alike_values = []       # (key, path, cell) of the columns whose headers read alike
        for i, row in enumerate(row_cells):
            self._block_rows(table.key, Indicator)
            for key, (head, _) in headers.items():
                if key == anchor:
                    cell = row.cell if isinstance(row, Band) else row
                else:
                    cell = self.column_cell(head.x0, head.x1, row.y0, row.y1)
                numeric = columns[key].numeric
                path = f'{table.key}.{i}.{key}'
                if row is first and key == anchor:
                    self.set_value(path, [cell], numeric=numeric, lines=row.lines)
                    self.structure(path, "the row's name runs into its header (a rule is missing or "
                                         'broken): the lines below the header were taken', cell)
                elif key in table.carry_down:
                    self.set_column(path, cell, key, headers, numeric=numeric)   # merged on purpose
                else:
                    # The total row's band counts among the rows: a last row's cell
                    # that runs into it (their rule lost) is shared by position too.
                    bands = row_cells + [total[0]] if total else row_cells
                    self.set_row_column(path, cell, row, bands, key, headers, numeric=numeric)
                if key in alike:
                    alike_values.append((key, path, cell))
                if (key in table.carry_down and not self.form.get(path) and i > 0 and cell is not None
                        and cell.continued):
                    # A merged cell cut by the page break: its text is on the page before.
                    above = f'{table.key}.{i - 1}.{key}'
                    self.form.set(path, self.form.get(above))
                    self.form.sources[path] = self.form.sources.get(above, FieldSource())
        self._carry_across_break(row_cells, headers)
        self.flag_alike_columns(alike, alike_values, columns)
        # A column whose header was not found has no values: each row's field says so.
        for column in missing:
            detail = f'{table.key} header not found for: {column.label}'
            for i in range(len(row_cells)):
                self.structure(f'{table.key}.{i}.{column.key}', detail)
            if not row_cells:
                self.structure(table.key, detail)
        if total:
            self._total(total[0], headers)

    def flag_alike_columns(self, alike: dict[str, str], values: list, columns: dict) -> None:
        """Flag the values of columns whose header cells read alike (in_printed_order),
        unless what the columns hold settles which is which: a column of a fixed
        vocabulary (二级指标's category names) whose values are mostly its names."""
        for why in set(alike.values()):
            keys = [key for key, reason in alike.items() if reason == why]
            settled = False
            for key in keys:
                names = columns[key].names
                read = [self.form.get(path) for k, path, _ in values if k == key]
                if names and read and sum(value in names for value in read) >= ALIKE_SETTLED * len(read):
                    settled = True
            if not settled:
                for key, path, cell in values:
                    if key in keys:
                        self.unsure(path, why, cell)

    def _total(self, label: VCell, headers: dict) -> None:
        """The total row: its values under the table's columns, right of its label."""
        total_row, table = self.template.total, self.template.table
        columns = {c.key: c for c in table.columns}
        setattr(self.form, total_row.key, Total())
        for key in total_row.columns:
            if key in headers:
                beside = self.column_cell(headers[key][0].x0, headers[key][0].x1, label.y0, label.y1)
                if beside is not None and beside is not label and beside.y0 < label.y0 - 0.3 * (label.y1 - label.y0):
                    # The rows the merged cell reaches up into (the table when none is known).
                    above = [i for i, row in enumerate(self.table_rows)
                             if row.y1 > beside.y0 + self.edge and row.y0 < label.y0 - self.edge]
                    for path in [f'{table.key}.{i}' for i in above] or [table.key]:
                        self.structure(path, f'the {total_row.label} row runs into the row above it '
                                             '(a rule is missing or broken)', beside)
                    self.structure(total_row.key, f'the {total_row.label} row runs into the row above it',
                                   beside)
                    break
        own = {k: headers[k] for k in total_row.columns if k in headers}
        for key in total_row.columns:
            head = headers.get(key)
            cell = None
            path = f'{total_row.key}.{key}'
            if head:
                cell = self.column_cell(head[0].x0, head[0].x1, label.y0, label.y1)
                if cell is label:
                    # The label's cell runs on under the value columns (their rules
                    # lost): the values are its text pieces standing in each column.
                    lines = self.lines_under(label, head[0])
                    self.set_value(path, [label] if lines else [], numeric=columns[key].numeric, lines=lines)
                    if lines:
                        self.structure(path, f'the {total_row.label} label and its values share one cell '
                                             '(rules are missing or broken); its text was shared out by position',
                                       label)
                    continue
                if cell is not None and cell.y0 < label.y0 - 0.3 * (label.y1 - label.y0):
                    # Its value cell runs up into the row above (flagged above): only
                    # the lines level with the label are the total's.
                    lines = [line for line in cell.lines
                             if label.y0 - self.edge <= cell.line_yc(line) <= label.y1 + self.edge]
                    self.set_value(path, [cell] if lines else [], numeric=columns[key].numeric, lines=lines)
                    continue
            self.set_column(path, cell, key, own, numeric=columns[key].numeric)


def _header_bottom(headers: dict) -> float:
    """Where the header row ends: most header cells end there; one that ends lower ran
    into the row below (a lost rule) and must not push the first row away."""
    ends = sorted(h[0].y1 for h in headers.values())
    return ends[(len(ends) - 1) // 2]


# Commas that no line of careful print opens with.
_LINE_OPENING_COMMAS = ',，、'
# A comparison as the forms print it (one sign, a number, a unit of up to four Chinese
# characters or %), with what stands round it that is no Chinese nor a bracket:
# grain, specks and a seal's rim read as print ('85CV≥253万', '≥95%6', '1304≥98%17640').
# Only round a comparison with its unit: without one, what stands round it may be
# print ('PM2.5≤35', '≥905'); Chinese before the sign is print too ('解决率≥95%').
_COMPARISON_IN_NOISE = re.compile('^[^\u3400-\u9fff(（≥≤]*?'
                                  '([≥≤] ?\\d+(?:\\.\\d+)? ?(?:%|[\u3400-\u9fff]{1,4})?)'
                                  '[^\u3400-\u9fff)）≥≤]*$')


def _comparison_core(value: str) -> Optional[str]:
    """The comparison in `value` without the noise round it; None when `value` is no
    one comparison with a unit."""
    match = _COMPARISON_IN_NOISE.match(value)
    if match is None:
        return None
    core = match.group(1)
    return core if core[-1] == '%' or _is_cjk(core[-1]) else None


# A bare comparison and the barred one the forms print.
_BARE_COMPARISON = {'>': '≥', '<': '≤', '＞': '≥', '＜': '≤'}
# A point, comma or quote (or a speck read as one) at either end of a number; a dash there.
_STRAY_POINTS = re.compile(r'^[.·•,，\'‘’`]+|[.·•,，\'‘’`]+$')
_STRAY_DASHES = re.compile(r'^[—\-一]+(?=\d)|(?<=[\d%])[—\-一]+$')
# One or two characters that no number holds at its start or end, before a digit or
# after a digit or %.
_NOT_NUMBER_EDGE = re.compile(f'^[^{re.escape(NUMERIC_CHARS)}]{{1,2}}(?=\\d)|(?<=[\\d%])[^{re.escape(NUMERIC_CHARS)}]{{1,2}}$')
# What stands at a body's name's ends that is no Chinese character (nor a closing bracket
# or quote: '北京市（东城区）').
_NOT_HAN_EDGES = re.compile('^[^\u3400-\u9fff（(“]+|(?<=[\u3400-\u9fff)）”])[^\u3400-\u9fff)）”]+$')
# ... and is left as read when less than this many characters would be left.
BODY_NAME_MIN = 3
# A point, stop or comma ending a name (a header value) after its last character.
_MARK_AFTER_NAME = re.compile('(?<=[\u3400-\u9fff)）”])[.。·•・,，]+$')
# An underscore (or a rule's remnant read as one) at either end of a text value.
_UNDERSCORE_AT_END = re.compile(r'^[_＿]+|[_＿]+$')
_DASH_READ_AS_ONE = re.compile('(?<=\\d)一(?=\\d)')
# A point or bullet ending a line right after a Chinese character.
_SPECK_AT_BREAK = re.compile('[\u3400-\u9fff][.·•・]$')
# A point (or a speck read as one) ending a value right after a digit, % or a unit.
_POINT_AFTER_NUMBER = re.compile(r'(?<=[\d%])[.·•]+$|(?<=\d)[.·•]+(?=[%‰])')
# Letters no target prints: small or accented ones, or a lone capital, before its
# number or comparison, or after its last character or %.
_SMALL_LETTERS = '[a-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]+'      # not × or ÷
_SPECK_LETTERS = re.compile(f'^(?:{_SMALL_LETTERS}|[A-Z])(?=[\\d≥≤<>＞＜])'
                            f'|(?<=[\u3400-\u9fff%])(?:{_SMALL_LETTERS}|[A-Z])$')
# A comma opening a value before its first Chinese character.
_COMMA_AT_START = re.compile('^[,，、]+(?=[\u3400-\u9fff])')
# A point (or a speck read as one) opening a value before its number or comparison.
_POINT_BEFORE_NUMBER = re.compile(r'^[.·•,，]+(?=[\d≥≤<>＞＜])')
# ... or between the comparison and its number ('≥.90%').
_POINT_AFTER_COMPARISON = re.compile(r'(?<=[≥≤<>＞＜])[.·•,，]+(?=\d)')
# Marks a target or result never prints, each a speck (a seal's stroke, a rule's
# remnant) read as one: (where, what the flag says was taken off, the flag's reason).
# A target is no sentence: no point after its number ('450.', '83%.', '85.%') nor
# before it ('.≥98%', '≥.90%'); small, accented or lone capital letters beside it are specks
# ('é≥209人次', 'V3篇', '4份L'; an acronym such as PM2.5 is two capitals or more); no
# value opens with a comma.
_TABLE_VALUE_MARKS = [
    (_POINT_AFTER_NUMBER, '', 'the point after the number', FlagReason.unparsed),
    (_SPECK_LETTERS, '', 'letters beside the value (specks read as letters)', FlagReason.low_confidence),
    (_COMMA_AT_START, '', 'the comma opening it', FlagReason.low_confidence),
    (_POINT_BEFORE_NUMBER, '', 'the point before the number', FlagReason.unparsed),
    (_POINT_AFTER_COMPARISON, '', 'the point between the comparison and its number', FlagReason.unparsed),
]


# An item of a numbered list ('1、…。2、…。3、…'): its number at the value's start or
# after a sentence's end, then 、. The recogniser drops that 、 now and then with full
# confidence ('。4野外观星活动', twice in one name of held-out 9811, silent at every level).
_ITEM_NUMBER = re.compile('(?:^|(?<=[。；;]))(\\d{1,2})(、?)(?=[\u3400-\u9fff])')


def _item_marks_put_back(value: str) -> str:
    """The value with the 、 put back after each item number that lost it, where the
    list numbers its items with 、 and that number is the one after the item before it
    (a count opening a sentence, '。3家单位…', is not the next item's number)."""
    items = list(_ITEM_NUMBER.finditer(value))
    if sum(1 for m in items if m.group(2)) < 2:
        return value
    out, at, last = [], 0, None
    for m in items:
        number = int(m.group(1))
        if not m.group(2) and last is not None and number == last + 1:
            out.append(value[at:m.end(1)] + '、')
            at = m.end(1)
        if m.group(2) or (last is not None and number == last + 1):
            last = number
    return ''.join(out) + value[at:]


def _enumeration_or_speck(match: re.Match) -> str:
    """A point after a number inside text, before a character: the mark of a numbered
    item ('…和网费3.丰体…' after a '2.' earlier, or a first '1.') stays; any other
    ('报告7.份', '不超过4.小时') is a speck read as a point, and goes."""
    number, before = int(match.group(1)), match.string[:match.start()]
    if number == 1 or any(f'{number - 1}{mark}' in before for mark in '.．、'):
        return match.group(0)
    return match.group(1)


# Any text value: the forms print no underscore (a rule's remnant along the cell's
# edge); nor a point between a number and the character after it unless it numbers an
# item (_enumeration_or_speck).
_TEXT_VALUE_MARKS = [
    (_UNDERSCORE_AT_END, '', "the underscore at its end (a rule's remnant)", FlagReason.low_confidence),
    (re.compile('(?<=[\u3400-\u9fff])(\\d+)[.．·•](?=[\u3400-\u9fff])'), _enumeration_or_speck,
     'the point between a number and the character after it', FlagReason.unparsed),
    # ... nor at the value's start, where an item's number stays ('2.围绕…') but a
    # count does not ('300.余人', '100.个'): two digits or more, or one before a unit.
    (re.compile(f'^(\\d{{2,}}|[2-9](?=[.．·•][{COUNT_UNIT_CHARS}]))[.．·•](?=[\u3400-\u9fff])'), r'\1',
     'the point between a number and the character after it', FlagReason.unparsed),
    # ... nor right after a Chinese mark ('完成，.落实', '通过·“专精特新”'): a speck
    # read beside the mark (hard 8447, four fields in 30 forms).
    (re.compile('(?<=[，、；：。！？“”])[.．·•・]+|[.．·•・]+(?=[“])'), '',
     'the point beside a punctuation mark', FlagReason.low_confidence),
    # ... nor a comma, colon or semicolon at its end ('服务期限，', '…信息化局：'): a
    # value ends with its last word or a 。.
    (re.compile('[，,、：:；;]+$'), '', 'the comma or colon at its end', FlagReason.low_confidence),
]
# Two columns whose header cells read alike are told apart by what they hold when the
# one with a fixed vocabulary has at least this share of its values among its names.
ALIKE_SETTLED = 0.8
# A total row's label misread ('忘分' for 总分) is still one if its reading is at most
# this many characters longer than the label and shares a character with it.
TOTAL_LABEL_NOISE = 2


# Header cells of the table that must be read, level with each other, for its anchor
# column's header to be taken by its place between them.
ANCHOR_BY_PLACE_HEADERS = 3

# A line of at most STRAY_MARK_CHARS characters read with less than STRAY_MARK_SURE
# confidence, in a cell with a line read surely (>= LINE_READ_SURE), is a speck clump,
# a seal's stroke or a rule's remnant read as a character ('è', '一', ';', '农' of a
# seal beside '356家'), not part of the value: measured on rough tuning scans, such
# lines glued noise to about one value in ten. A wrapped number's last digits read
# that faintly are left out too, and the field is flagged either way.
STRAY_MARK_CHARS = 2
STRAY_MARK_SURE = 0.7
LINE_READ_SURE = 0.9
# So is a line of any length read with less than LINE_READ_SURE whose box is at most
# STRAY_MARK_HEIGHT of the form's usual line height (its surely read lines of two
# characters or more, the median):
# a form prints one size of type, and a row of specks, a rule's remnant or the cut
# tops of a row of glyphs read as 'MRSNE' or '18A' stands half as tall as its print.
STRAY_MARK_HEIGHT = 0.6


def usual_line_height(lines) -> Optional[float]:
    """The median box height of the surely read lines of two characters or more."""
    heights = sorted(line.bbox[3] - line.bbox[1] for line in lines
                     if line.confidence >= LINE_READ_SURE and len(line.text.strip()) >= 2)
    return float(heights[len(heights) // 2]) if heights else None


def _stray_marks(lines: list[TextLine], line_height: Optional[float] = None) -> list[TextLine]:
    if len(lines) < 2 or not any(line.confidence >= LINE_READ_SURE and len(line.text.strip()) > 0
                                 for line in lines):
        return []
    low = STRAY_MARK_HEIGHT * line_height if line_height else 0.0
    weak = [line for line in lines
            if (line.confidence < STRAY_MARK_SURE and len(line.text.strip()) <= STRAY_MARK_CHARS)
            or (line.confidence < LINE_READ_SURE and line.bbox[3] - line.bbox[1] <= low)]
    # Not every line: then nothing was read surely beside them.
    return weak if len(weak) < len(lines) else []


# The small model reads a worn % as digits ('≥958' for '≥95%', '10000' for '100%')
# where the tiny one, whose reading it overrules, read the %: three in 30 forms of
# hard 4646. A percentage of at most 100 read by one engine, and by the other as the
# same number with one or two digits for its %, is the percentage; the field is
# flagged for the engines' disagreement either way.
_PERCENT = re.compile(r'(\D*)(\d+(?:\.\d+)?)%')


def _with_percent_read(line: TextLine) -> TextLine:
    """The line read as the other engine's percentage when its own reading has that
    % as digits (see _PERCENT); else the line as it is."""
    other = _PERCENT.fullmatch(line.disagreement or '')
    if other is None or float(other.group(2)) > 100:
        return line
    number = other.group(1) + other.group(2)
    rest = line.text[len(number):] if line.text.startswith(number) else ''
    if not (rest.isdigit() and len(rest) <= 2):
        return line
    return line.model_copy(update={'text': line.disagreement, 'disagreement': line.text, 'barred': None})


def _marks_beside_number(lines: list[TextLine]) -> list[TextLine]:
    """In a numeric cell, the short lines with no digit (nor a digit's look-alike: 'S'
    may be a 5) beside a line read fairly surely as a number: a seal's stroke or a speck
    clump read as a letter or a character ('V' over '10', '学' and 'D' round '20'),
    however sure the model is of its shape. A number wrapped in a narrow cell keeps its
    digits on every line; a dash is a number here."""
    def number(line: TextLine) -> bool:
        return looks_numeric(_numeric_text(line))
    if len(lines) < 2 or not any(number(line) and line.confidence >= STRAY_MARK_SURE for line in lines):
        return []
    return [line for line in lines if not number(line) and len(line.text.strip()) <= STRAY_MARK_CHARS
            and not any(ch.isdigit() for ch in digits_from_lookalikes(line.text))]


def _one_han_swapped(text: str, other: str) -> bool:
    """`other` is `text` with one Chinese character changed for another."""
    if not one_character_off(text, other):
        return False
    was, now = next((a, b) for a, b in zip(text, other) if a != b)
    return is_han(was) and is_han(now)


def _is_cjk(ch: str) -> bool:
    return '\u3400' <= ch <= '\u9fff' or '\uf900' <= ch <= '\ufaff'


# A colon between two digits in a number cell is its decimal point with a speck by
# it ('1:9892' for 1.9892, hard 4646): the constrained reading drops it ('19892', a
# silent error 10,000 times too large), so the point is put back, and flagged.
_COLON_BETWEEN_DIGITS = re.compile(r'(?<=\d)[:：;；](?=\d)')


def _numeric_text(line: TextLine) -> str:
    """In a numeric column, prefer the full reading when it is already numeric; else the
    reading constrained to numeric characters, when the model is fairly sure of it."""
    text = line.text
    if reads_as_dash(text):
        return DASH         # a printed dash, read as 一 or a hyphen
    if all(ch in NUMERIC_CHARS for ch in text.replace(' ', '')):
        return text.replace(' ', '')
    lookalike = digits_from_lookalikes(text.replace(' ', ''))
    if looks_numeric(lookalike):
        return lookalike        # 'O' for 0, 'l' for 1: letters cannot stand in a number cell
    pointed = _COLON_BETWEEN_DIGITS.sub('.', lookalike)
    if pointed != lookalike and looks_numeric(pointed):
        return pointed          # a decimal point with a speck over it: flagged by set_value
    if line.numeric and (line.numeric_confidence or 0) >= 0.6 and looks_numeric(line.numeric) \
            and len(line.numeric) >= 0.6 * len(text):
        return line.numeric
    return text


def _numeric_confidence(line: TextLine, text: str) -> float:
    """How sure OCR is of `text`, the numeric-column value taken from `line`. The
    numeric reading counts look-alike glyphs as the character they stand for (a lone
    round 0 that the model calls 'O' 0.88 / '0' 0.08 is a sure 0 in a money cell), so
    when it agrees with the value its confidence is the one to use."""
    if line.numeric is not None and line.numeric_confidence is not None \
            and line.numeric.replace(' ', '') == text:
        return line.numeric_confidence
    if text == line.text:
        return line.confidence
    return min(line.confidence, line.numeric_confidence or 0.0)


class FormsRead(NamedTuple):
    forms: list[Form]
    flags: list[Flag]
    unmatched: list[Unmatched]


def read_forms(pages: list[PageResult], kinds: Optional[list[FormTemplate]] = None) -> FormsRead:
    """The forms of a document (each read by its kind's template), the structure flags
    raised on the way, and the pages that are no known form."""
    parts, unmatched = split_forms(pages, kinds)
    forms, flags = [], []
    turned_away = {u.page for u in unmatched}
    for index, part in enumerate(parts):
        form, form_flags = FormBuilder(part, index).build()
        forms.append(form)
        flags.extend(form_flags)
        after = max(part.pages) + 1
        if after in turned_away and _is_open(part) and part.template.total is not None:
            # The form stops short of its total row and the next page could not be
            # read as its continuation (a grid lost on a rough page): rows may be
            # missing from anywhere after the last one read.
            flags.append(Flag(form=index, field='', reason=FlagReason.structure, page=after,
                              detail=f'no {part.template.total.label} row, and page {after} after it was '
                                     'turned away as no known form: the form may go on there; '
                                     'check the whole form against pages '
                                     f'{", ".join(map(str, part.pages + [after]))}'))
    return FormsRead(forms, flags, unmatched)


def build_forms(pages: list[PageResult]) -> tuple[list[Form], list[Flag]]:
    read = read_forms(pages)
    return read.forms, read.flags
