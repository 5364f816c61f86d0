"""Stage 5, layout: PageResults -> Forms (the contract's fields, with their sources).

A document is cut into forms at each title 项目支出绩效自评表 (or table holding a 项目名称
label); a page with neither continues the previous form. The tables of one form are
stacked into one virtual table: later pages are placed below earlier ones and their x
scaled to the first table's frame, so a continued indicator table lines up with the
header columns of the page before. Labels are found by fuzzy match, so a misread label
still maps; values are the cells beside (header fields) or under (columns) them.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Optional

from models import FieldSource, Flag, FlagReason, Form, FundsRow, Goals, Indicator, PageResult, Total, TextLine
from models.document import FUND_ITEMS

TITLE = '项目支出绩效自评表'
LABEL_MIN = 0.67            # fuzzy ratio for a label to count as found
LABEL_SURE = 0.85           # below this a matched label is reported as uncertain
NUMERIC_KEYS = {'initial_budget', 'annual_budget', 'executed', 'weight', 'execution_rate', 'score'}
NUMERIC_CHARS = set('0123456789.%,-—')
DIGIT_LOOKALIKES = str.maketrans({'O': '0', 'o': '0', 'D': '0', 'l': '1', 'I': '1', '|': '1'})
DASH_LIKE = set('一-－—―‐‑‒–−_~〜﹣')

FUND_HEADERS = {'initial_budget': '年初预算数', 'annual_budget': '全年预算数', 'executed': '全年执行数',
                'weight': '分值', 'execution_rate': '执行率', 'score': '得分'}
IND_HEADERS = {'level1': '一级指标', 'level2': '二级指标', 'level3': '三级指标', 'target': '年度指标值',
               'actual': '实际完成值', 'weight': '分值', 'score': '得分',
               'deviation_note': '偏差原因分析及改进措施'}
LABEL_PATHS = {'项目名称': 'project_name', '主管部门': 'department', '实施单位': 'implementing_unit'}
SECTION_LABELS = ('项目名称', '主管部门', '实施单位', '项目资金万元', '年度总体目标', '绩效指标', '总分')
_PUNCT = re.compile(r'[\s()（）:：,，.。、\-—_/\\|]+')


_LATIN = re.compile(r'[A-Za-z0-9]+')


def norm_label(text: str) -> str:
    return _PUNCT.sub('', unicodedata.normalize('NFKC', text or ''))


def label_score(text: str, label: str) -> float:
    a, b = norm_label(text), norm_label(label)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
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


def join_lines(lines: list[str]) -> Optional[str]:
    """Join a cell's wrapped lines: no space, except between two Latin words."""
    out = ''
    for line in (line.strip() for line in lines):
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

    @property
    def text(self) -> str:
        return join_lines([line.text for line in self.lines]) or ''

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

    @property
    def text(self) -> str:
        return join_lines([line.text for line in self.lines]) or ''


@dataclass
class FormPart:
    pages: list[int] = field(default_factory=list)
    cells: list[VCell] = field(default_factory=list)
    year: Optional[str] = None
    frame: Optional[tuple[float, float]] = None    # x0, x1 of the first table
    bottom: float = 0.0
    # Per page: (y offset, table x0, x scale) of its first table, so further tables of
    # the same page keep their place relative to it.
    placement: dict[int, tuple[float, float, float]] = field(default_factory=dict)


def _is_title(line: TextLine) -> bool:
    return label_score(line.text, TITLE) >= 0.7 or TITLE in norm_label(line.text)


def _year(lines: list[TextLine]) -> Optional[str]:
    for line in lines:
        m = re.search(r'(20\d\d|19\d\d)\s*年', unicodedata.normalize('NFKC', line.text))
        if m:
            return m.group(1)
    return None


def split_forms(pages: list[PageResult]) -> list[FormPart]:
    parts: list[FormPart] = []
    for page in sorted(pages, key=lambda p: p.number):
        texts = {(c.table, c.cell): c.lines for c in page.cells}
        for t_index, table in enumerate(page.grid.tables):
            cell_lines = [texts.get((t_index, i), []) for i in range(len(table.cells))]
            has_name = any(label_score(join_lines([l.text for l in lines]) or '', '项目名称') >= 0.8
                           for lines in cell_lines)
            above = [l for l in page.loose_text if l.bbox[3] <= table.bbox[1] + 5]
            previous_bottom = max([t.bbox[3] for t in page.grid.tables[:t_index]], default=0)
            title_here = any(_is_title(l) for l in above if l.bbox[1] >= previous_bottom)
            if has_name or title_here or not parts:
                part = FormPart(year=_year([l for l in above if l.bbox[1] >= previous_bottom]))
                parts.append(part)
            part = parts[-1]
            _place(part, page.number, table, cell_lines, continued=not (has_name or title_here)
                   and part.pages != [] and page.number not in part.pages)
    return [p for p in parts if p.cells]


def _place(part: FormPart, page_number: int, table, cell_lines, continued: bool) -> None:
    tx0, ty0, tx1, ty1 = table.bbox
    if part.frame is None:
        part.frame = (float(tx0), float(tx1))
    fx0, fx1 = part.frame
    if page_number in part.placement:
        offset, tx0, scale = part.placement[page_number]
    else:
        scale = (fx1 - fx0) / max(1.0, float(tx1 - tx0))
        if not 0.93 <= scale <= 1.07:
            # Not the whole table (a short piece, or rules lost at one side): the same
            # print at the same resolution, so keep the scale and align left edges.
            scale = 1.0
        offset = part.bottom + 20 - ty0 if part.cells else 0.0
        part.placement[page_number] = (offset, float(tx0), scale)
    for cell, lines in zip(table.cells, cell_lines):
        x0, y0, x1, y1 = cell.bbox
        part.cells.append(VCell(page=page_number, bbox=list(cell.bbox),
                                x0=fx0 + (x0 - tx0) * scale, x1=fx0 + (x1 - tx0) * scale,
                                y0=y0 + offset, y1=y1 + offset, lines=lines,
                                continued=continued and y0 - ty0 <= 3, at_bottom=ty1 - y1 <= 3))
    part.bottom = max(part.bottom, ty1 + offset)
    if page_number not in part.pages:
        part.pages.append(page_number)


# ------------------------------------------------------------------ mapping

class FormBuilder:
    def __init__(self, part: FormPart, form_index: int):
        self.part = part
        self.cells = sorted(part.cells, key=lambda c: (round(c.y0), c.x0))
        self.form = Form(year=part.year, pages=sorted(part.pages))
        self.flags: list[Flag] = []
        self.index = form_index

    # -- helpers
    def find(self, label: str, below: float = -1e9, above: float = 1e18,
             prefix: bool = False) -> Optional[tuple[VCell, float]]:
        """The cell that best reads as `label`; with prefix=True also a cell that
        starts with it (label and value in one cell, the rule between them lost)."""
        best = None
        for c in self.cells:
            if c.y0 < below - 2 or c.y0 > above:
                continue
            s = label_score(c.text, label)
            if prefix and s < LABEL_MIN:
                s = 0.97 * split_label(c.text, label)[0]
            if s >= LABEL_MIN and (best is None or s > best[1]):
                best = (c, s)
        return best

    def find_total_label(self, level3_header: VCell) -> Optional[tuple[VCell, float]]:
        """The 总分 label with noise around it ('4A总分二', seal residue or a twice-read
        line): a cell below the indicator header that holds 总分 and spans several
        columns, as the total's label does and no indicator cell does."""
        width = level3_header.x1 - level3_header.x0
        found = [c for c in self.cells if c.y0 >= level3_header.y1 - 2 and '总分' in norm_label(c.text)
                 and c.x1 - c.x0 > 2 * width]
        if len(found) != 1:
            return None
        self.structure('total', f"总分 label read with noise around it: '{found[0].text}'", found[0])
        return found[0], LABEL_MIN

    def find_headers(self, labels: dict[str, str], below: float = -1e9, above: float = 1e18) -> dict:
        """Header cells for several labels at once, each cell used by one label only
        (the best-scoring claim wins), so a misread header cannot take its neighbour's."""
        claims = []
        for key, label in labels.items():
            for c in self.cells:
                if c.y0 < below - 2 or c.y0 > above:
                    continue
                score = label_score(c.text, label)
                if score >= LABEL_MIN:
                    claims.append((score, key, c))
        found, used = {}, set()
        for score, key, c in sorted(claims, key=lambda x: -x[0]):
            if key in found or id(c) in used:
                continue
            found[key] = (c, score)
            used.add(id(c))
        return found

    @staticmethod
    def same_row(headers: dict, anchor: Optional[str] = None) -> dict:
        """Keep the header cells level with the anchor (or with most of them): a label
        matched elsewhere in the table is a misreading, not a header."""
        if not headers:
            return headers
        if anchor is None or anchor not in headers:
            ys = sorted((h[0].y0 + h[0].y1) / 2 for h in headers.values())
            centre = ys[len(ys) // 2]
        else:
            centre = (headers[anchor][0].y0 + headers[anchor][0].y1) / 2
        return {k: h for k, h in headers.items() if h[0].y0 - 3 <= centre <= h[0].y1 + 3}

    def structure(self, path: str, detail: str, cell: Optional[VCell] = None, confidence=None):
        self.flags.append(Flag(form=self.index, field=path, reason=FlagReason.structure,
                               detail=detail, confidence=confidence,
                               page=cell.page if cell else (self.form.pages[0] if self.form.pages else None),
                               bbox=cell.bbox if cell else None))

    def note_label(self, found, label, path):
        if found and found[1] < LABEL_SURE:
            self.structure(path, f"label '{label}' matched only fuzzily as '{found[0].text}'",
                           found[0], round(found[1], 3))

    def set_value(self, path: str, cells: list[VCell], numeric: bool = False,
                  lines: Optional[list[TextLine]] = None) -> None:
        """Set a field from its cells' lines (or the given subset of their lines)."""
        if lines is None:
            lines = [line for c in cells for line in c.lines]
        if not cells:
            self.form.set(path, None)
            return
        texts = []
        for line in lines:
            text = line.text
            if numeric:
                text = _numeric_text(line)
            texts.append(text)
        value = join_lines(texts)
        self.form.set(path, value)
        confs = [_numeric_confidence(line, text) if numeric else line.confidence
                 for line, text in zip(lines, texts)]
        main = max(cells, key=lambda c: (c.x1 - c.x0) * (c.y1 - c.y0))
        second = None
        if any(line.disagreement is not None for line in lines):
            second = join_lines([line.disagreement if line.disagreement is not None else line.text
                                 for line in lines])
        self.form.sources[path] = FieldSource(
            page=main.page, bbox=main.bbox, confidence=round(min(confs), 4) if confs else None,
            lines=[line.text for line in lines], second_reading=second)

    def right_of(self, label: VCell, stop_x: Optional[float] = None) -> list[VCell]:
        out = []
        for c in self.cells:
            if c is label or c.x0 < label.x1 - 5:
                continue
            if stop_x is not None and c.x0 >= stop_x - 5:
                continue
            overlap = min(c.y1, label.y1) - max(c.y0, label.y0)
            if overlap > 0.5 * min(c.y1 - c.y0, label.y1 - label.y0):
                out.append(c)
        return sorted(out, key=lambda c: c.x0)

    def set_text(self, path: str, text: Optional[str], cells: list[VCell]) -> None:
        """Set a field to text cut out of its cells' text (a label split off)."""
        self.set_value(path, cells)
        if cells:
            self.form.set(path, text or None)

    def header_value(self, found, label: str, stop: Optional[VCell] = None) -> tuple[Optional[str], list[VCell]]:
        """Text right of a header label: the label cell's own rest (when label and
        value share a cell) and the cells beside it, up to the next label."""
        cell = found[0]
        rest = split_label(cell.text, label)[1] if label_score(cell.text, label) < LABEL_MIN else ''
        beside = self.right_of(cell, stop.x0 if stop is not None else None)
        text = join_lines([rest] + [c.text for c in beside])
        # A glyph stroke in line with a rule (门's right stroke over a column rule) can
        # put a wall inside the label: its last characters then start the value.
        read = norm_label(cell.text)
        if not rest and text and read and read != label and label.startswith(read):
            tail = label[len(read):]
            if text.startswith(tail) and len(text) > len(tail):
                text = text[len(tail):]
                self.structure(LABEL_PATHS.get(label, ''), f"the end of the label {label} ('{tail}') "
                                                            'was cut off into the value', cell)
        return text, ([cell] if rest else []) + beside

    def column_lines(self, cell: VCell, key: str, headers: dict) -> tuple[list[TextLine], bool]:
        """The lines of `cell` that belong to header column `key`. A cell that stretches
        over several header columns lost a rule: each of its text pieces goes to the
        column it stands in. Returns (lines, spans_columns)."""
        centres = {k: (h[0].x0 + h[0].x1) / 2 for k, h in headers.items()}
        covered = [k for k, x in centres.items() if cell.x0 - 2 <= x <= cell.x1 + 2]
        if len(covered) <= 1:
            return cell.lines, False
        picked = [line for line in cell.lines
                  if min(covered, key=lambda k: abs(centres[k] - cell.line_xc(line))) == key]
        return picked, True

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
        name = self.find('项目名称', prefix=True)
        dept = self.find('主管部门', prefix=True)
        unit = self.find('实施单位', prefix=True)
        if unit and dept and unit[0] is dept[0]:
            unit = None
        self.note_label(name, '项目名称', 'project_name')
        if name:
            text, cells = self.header_value(name, '项目名称', stop=dept[0] if dept and dept[0].y0 < name[0].y0 else None)
            self.set_text('project_name', text, cells)
        else:
            self.structure('project_name', 'label 项目名称 not found')
        unit_text, unit_cells = None, []
        if dept:
            self.note_label(dept, '主管部门', 'department')
            text, cells = self.header_value(dept, '主管部门', stop=unit[0] if unit else None)
            if not unit and text:
                # 实施单位 and its value may sit in the same run of merged cells.
                text, unit_text = cut_at_label(text, '实施单位')
                unit_cells = cells if unit_text is not None else []
                if unit_text is not None:
                    self.structure('implementing_unit', 'label 实施单位 found inside a merged cell',
                                   cells[-1] if cells else dept[0])
            self.set_text('department', text, cells)
        else:
            self.structure('department', 'label 主管部门 not found')
        if unit:
            self.note_label(unit, '实施单位', 'implementing_unit')
            text, cells = self.header_value(unit, '实施单位')
            self.set_text('implementing_unit', text, cells)
        elif unit_text is not None:
            self.set_text('implementing_unit', unit_text, unit_cells)
        else:
            self.structure('implementing_unit', 'label 实施单位 not found')

        goals_label = self.find('年度总体目标')
        expected = self.find('预期目标')
        indicators_label = self.find('一级指标') or self.find('绩效指标')
        goals_top = min([x[0].y0 for x in (goals_label, expected) if x], default=None)
        ind_top = indicators_label[0].y0 if indicators_label else None
        self._funds(goals_top if goals_top is not None else ind_top)
        self._goals(expected, ind_top, goals_label)
        self._indicators(ind_top if ind_top is not None else goals_top)
        return self.form, self.flags

    def _funds(self, section_end: Optional[float]) -> None:
        end = section_end if section_end is not None else 1e18
        headers = self.find_headers(FUND_HEADERS, above=end)
        for key, found in headers.items():
            self.note_label(found, FUND_HEADERS[key], f'funds.0.{key}')
        headers = self.same_row(headers)
        if len(headers) < len(FUND_HEADERS):
            missing = ', '.join(FUND_HEADERS[k] for k in FUND_HEADERS if k not in headers)
            self.structure('funds', f'funds header not found for: {missing}')
            if not headers:
                return
        header_bottom = _header_bottom(headers)
        first_x = min(h[0].x0 for h in headers.values())
        rows = self._fund_item_rows(header_bottom, first_x, end)
        self._check_funds_rows(rows, headers, header_bottom, end)
        for i, row in enumerate(rows):
            self.form.funds.append(FundsRow())
            canonical = max(FUND_ITEMS, key=lambda label: label_score(row.text, label))
            self.set_value(f'funds.{i}.item', [row.cell], lines=row.lines)
            if label_score(row.text, canonical) >= 0.6:
                self.form.funds[i].item = canonical
            for key, (head, _) in headers.items():
                cell = self.column_cell(head.x0, head.x1, row.y0, row.y1)
                if cell is not None and cell.y0 < header_bottom - 3:
                    self.value_below_header(f'funds.{i}.{key}', cell, row, header_bottom)
                    continue
                self.set_row_column(f'funds.{i}.{key}', cell, row, rows, key, headers, numeric=True)
                if cell is None:
                    self.form.sources.pop(f'funds.{i}.{key}', None)

    def _fund_item_rows(self, top: float, first_x: float, end: float) -> list['Band']:
        """The funds item rows, one per printed item (年度资金总额 …). Found from the
        item cells' text lines rather than the cells alone: when a rule is lost two
        items share one cell, or an item's cell runs up into the header row."""
        cells = [c for c in self.cells if c.x1 <= first_x + 5 and c.y1 > top + 5 and c.y0 < end - 5
                 and c.text and label_score(c.text, '项目资金万元') < 0.7]
        # Drop label-like cells that stand left of other item cells (the block label).
        cells = [c for c in cells if not any(o is not c and o.x0 >= c.x1 - 3 and
                                             min(o.y1, c.y1) - max(o.y0, c.y0) > 0 for o in cells)]
        bands = []
        for cell in sorted(cells, key=lambda c: c.y0):
            lines = [l for l in cell.lines if top - 3 <= cell.line_yc(l) <= end + 3]
            if not lines:
                continue
            whole = join_lines([l.text for l in lines]) or ''
            if len(lines) == 1 or max(label_score(whole, x) for x in FUND_ITEMS) >= 0.8:
                bands.append(Band(max(cell.y0, top), min(cell.y1, end), cell, lines))
                continue
            # Several items in one cell: cut its lines wherever the text so far reads
            # as an item.
            group: list[TextLine] = []
            for line in lines:
                group.append(line)
                text = join_lines([l.text for l in group]) or ''
                if max(label_score(text, x) for x in FUND_ITEMS) >= 0.8:
                    ys = [cell.line_yc(l) for l in group]
                    half = max(l.bbox[3] - l.bbox[1] for l in group)
                    bands.append(Band(min(ys) - half, max(ys) + half, cell, group))
                    group = []
            if group:
                ys = [cell.line_yc(l) for l in group]
                half = max(l.bbox[3] - l.bbox[1] for l in group)
                bands.append(Band(min(ys) - half, max(ys) + half, cell, group))
            self.structure('funds', 'several funds items in one cell (a rule is missing or broken)', cell)
        return bands

    def value_below_header(self, path: str, cell: VCell, row, header_bottom: float) -> None:
        """A value cell merged with its header cell (the rule under the header lost):
        the lines below the header's level that are level with the row."""
        lines = [l for l in cell.lines if cell.line_yc(l) > header_bottom and row.y0 - 3 <= cell.line_yc(l) <= row.y1 + 3]
        self.set_value(path, [cell], numeric=True, lines=lines)
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
        lines = [l for l in cell.lines if row.y0 - 3 <= cell.line_yc(l) <= row.y1 + 3]
        self.set_value(path, [cell], numeric=numeric, lines=lines)
        if not lines:
            self.form.set(path, None)
        self.structure(path, 'the cell stretches over several rows (a rule is missing or broken); '
                             'its lines were shared out by position', cell)

    def _check_funds_rows(self, rows: list[VCell], headers: dict, top: float, end: float) -> None:
        """The funds block's rows should be the printed items, in order, and every value
        cell should belong to one of them; if not, rows were lost or merged."""
        names = [max(FUND_ITEMS, key=lambda label: label_score(c.text, label)) for c in rows]
        expected = [x for x in FUND_ITEMS if x in names]
        problems = []
        if names != list(FUND_ITEMS):
            problems.append('funds items are not the printed ones in order: ' + ', '.join(c.text for c in rows))
        for key in ('annual_budget', 'executed', 'weight'):
            if key in headers:
                orphans = self.orphans(headers[key][0], rows, top, end)
                if orphans:
                    problems.append(f'{len(orphans)} value cell(s) under {FUND_HEADERS[key]} belong to no row')
                    break
        if problems:
            self.structure('funds', '; '.join(problems))

    def orphans(self, head: VCell, rows: list[VCell], top: float, end: float) -> list[VCell]:
        """Cells with text in a header's column, between top and end, that lie beside
        none of the rows (a row the grid merged away or the layout missed)."""
        out = []
        for c in self.cells:
            if not c.text or c.y0 < top - 3 or c.y1 > end + 3:
                continue
            if not (head.x0 - 3 <= c.xc <= head.x1 + 3):
                continue
            if not any(min(c.y1, r.y1) - max(c.y0, r.y0) > 0.5 * min(c.y1 - c.y0, r.y1 - r.y0) for r in rows):
                out.append(c)
        return out

    def _carry_across_break(self, row_cells: list[VCell], headers: dict) -> None:
        """A merged 一级/二级 cell cut by a page break has its text printed on one side
        only; the rows on the other side carry it too. Rows after the break got it
        already (copied down); here rows before the break take it from below."""
        for key in ('level1', 'level2'):
            if key not in headers:
                continue
            head = headers[key][0]
            for i in range(len(row_cells) - 2, -1, -1):
                path, below = f'indicators.{i}.{key}', f'indicators.{i + 1}.{key}'
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

    def _goals(self, expected, section_end: Optional[float], label=None) -> None:
        end = section_end if section_end is not None else 1e18
        expected = self.find('预期目标', above=end - 5)
        actual = self.find('实际完成情况', above=end - 5)
        if not (expected and actual) and label is not None:
            self._goals_without_headers(label[0], end)
            return
        for path, head in (('goals.expected', expected), ('goals.actual', actual)):
            if not head:
                self.structure(path, 'goals header not found')
                continue
            h = head[0]
            cells = [c for c in self.cells if c.y0 >= h.y1 - 3 and c.y1 <= end + 3
                     and min(c.x1, h.x1) - max(c.x0, h.x0) > 0.5 * (h.x1 - h.x0)]
            self.set_value(path, sorted(cells, key=lambda c: c.y0))

    def _goals_without_headers(self, label: VCell, end: float) -> None:
        """The 预期目标 / 实际完成情况 headers were not found (merged away with a lost
        rule): the goals are the last row of cells beside the 年度总体目标 label, the
        left one expected, the right one actual."""
        beside = [c for c in self.cells if c.x0 >= label.x1 - 5 and c.y0 >= label.y0 - 3
                  and c.y1 <= min(label.y1, end) + 3 and c.text]
        if not beside:
            self.structure('goals', 'goals headers and text not found')
            return
        last = max(c.y0 for c in beside)
        row = sorted([c for c in beside if c.y0 >= last - 5], key=lambda c: c.x0)
        self.set_value('goals.expected', row[:1])
        self.set_value('goals.actual', row[1:2] if len(row) > 1 else [])
        self.structure('goals', 'goals headers not found; the goals were taken from the cells '
                                'beside 年度总体目标', row[0])

    def _indicators(self, section_top: Optional[float]) -> None:
        top = section_top if section_top is not None else -1e9
        headers = self.find_headers(IND_HEADERS, below=top)
        for key, found in headers.items():
            if key != 'deviation_note':
                self.note_label(found, IND_HEADERS[key], f'indicators.0.{key}')
        if 'level3' not in headers:
            self.structure('indicators', 'indicator header 三级指标 not found')
            return
        headers = self.same_row(headers, anchor='level3')
        missing = [IND_HEADERS[k] for k in IND_HEADERS if k not in headers and k != 'deviation_note']
        if missing:
            self.structure('indicators', 'indicator header not found for: ' + ', '.join(missing))
        total = self.find('总分', below=headers['level3'][0].y1) or self.find_total_label(headers['level3'][0])
        header_bottom = _header_bottom(headers)
        end = total[0].y0 if total else 1e18
        lv3 = headers['level3'][0]
        row_cells = [c for c in self.cells if c.y0 >= header_bottom - 3 and c.y1 <= end + 3
                     and min(c.x1, lv3.x1) - max(c.x0, lv3.x0) > 0.6 * min(c.x1 - c.x0, lv3.x1 - lv3.x0)]
        row_cells.sort(key=lambda c: c.y0)
        for key in ('weight', 'score', 'target'):
            if key in headers:
                orphans = self.orphans(headers[key][0], row_cells, header_bottom, end)
                if orphans:
                    self.structure('indicators', f'{len(orphans)} cell(s) under {IND_HEADERS[key]} belong to '
                                                 'no indicator row: rows may be lost or merged', orphans[0])
                    break
        for i, row in enumerate(row_cells):
            self.form.indicators.append(Indicator())
            for key, (head, _) in headers.items():
                cell = row if key == 'level3' else self.column_cell(head.x0, head.x1, row.y0, row.y1)
                numeric = key in ('weight', 'score')
                path = f'indicators.{i}.{key}'
                if key in ('level1', 'level2'):
                    self.set_column(path, cell, key, headers, numeric=numeric)   # merged on purpose
                else:
                    self.set_row_column(path, cell, row, row_cells, key, headers, numeric=numeric)
                value = self.form.get(f'indicators.{i}.{key}')
                if (key in ('level1', 'level2') and not value and i > 0 and cell is not None
                        and cell.continued):
                    # A merged cell cut by the page break: its text is on the page before.
                    self.form.set(f'indicators.{i}.{key}', self.form.get(f'indicators.{i - 1}.{key}'))
                    self.form.sources[f'indicators.{i}.{key}'] = self.form.sources.get(
                        f'indicators.{i - 1}.{key}', FieldSource())
        self._carry_across_break(row_cells, headers)
        if total:
            t = total[0]
            self.form.total = Total()
            for key in ('weight', 'score'):
                if key in headers:
                    beside = self.column_cell(headers[key][0].x0, headers[key][0].x1, t.y0, t.y1)
                    if beside is not None and beside is not t and beside.y0 < t.y0 - 0.3 * (t.y1 - t.y0):
                        self.structure('indicators', 'the 总分 row runs into the row above it '
                                                     '(a rule is missing or broken)', beside)
                        self.structure('total', 'the 总分 row runs into the row above it', beside)
                        break
            for key in ('weight', 'score'):
                head = headers.get(key)
                cell = None
                if head:
                    cell = self.column_cell(head[0].x0, head[0].x1, t.y0, t.y1)
                    if cell is t:
                        cell = None
                self.set_column(f'total.{key}', cell, key, {k: headers[k] for k in ('weight', 'score') if k in headers},
                                numeric=True)


def _header_bottom(headers: dict) -> float:
    """Where the header row ends: most header cells end there; one that ends lower ran
    into the row below (a lost rule) and must not push the first row away."""
    ends = sorted(h[0].y1 for h in headers.values())
    return ends[(len(ends) - 1) // 2]


def _numeric_text(line: TextLine) -> str:
    """In a numeric column, prefer the full reading when it is already numeric; else the
    reading constrained to numeric characters, when the model is fairly sure of it."""
    text = line.text
    if text and all(ch in DASH_LIKE for ch in text):
        return '—'          # a printed dash, read as 一 or a hyphen
    if all(ch in NUMERIC_CHARS for ch in text.replace(' ', '')):
        return text.replace(' ', '')
    lookalike = text.replace(' ', '').translate(DIGIT_LOOKALIKES)
    if _looks_numeric(lookalike):
        return lookalike        # 'O' for 0, 'l' for 1: letters cannot stand in a number cell
    if line.numeric and (line.numeric_confidence or 0) >= 0.6 and _looks_numeric(line.numeric) \
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


def _looks_numeric(text: str) -> bool:
    return bool(re.fullmatch(r'[+-]?\d[\d,]*(\.\d+)?%?|—', text))


def build_forms(pages: list[PageResult]) -> tuple[list[Form], list[Flag]]:
    forms, flags = [], []
    for index, part in enumerate(split_forms(pages)):
        form, form_flags = FormBuilder(part, index).build()
        forms.append(form)
        flags.extend(form_flags)
    return forms, flags
