"""What the spreadsheets show of each form kind, read off the kinds' templates
(models.template): the CSV's columns and the workbook's sheets, headed as the forms
print them. A new kind is a new template file; nothing here names a kind's fields.

A CSV row or a sheet row is a dict keyed by column keys: 'file', 'form', 'page',
'pages', 'year', 'name' (the form's first header field: 项目名称 …), 'row' and
'row_index' (the block and the row in it), 'flag_reasons', 'sha256'; a header field by
'h:<label>' and a block column by 'c:<label>', so two kinds that print the same label
share a column and a label one kind alone prints has its own.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

from models.template import FormTemplate, templates

UNIT = re.compile(r'[（(][^（()）]*[）)]$')
# Excel: at most 31 characters, none of []:*?/\ in a sheet's title.
SHEET_TITLE_BAD = re.compile(r'[\[\]:*?/\\]')


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    numeric: bool = False       # stored as a number where it reads as one
    wrap: bool = False          # long text, wrapped
    width: int = 18             # widest a column grows to fit its values


FILE = Column('file', '文件', width=24)
FORM = Column('form', '表序号', numeric=True)
PAGE = Column('page', '页码', numeric=True)
PAGES = Column('pages', '页码')
YEAR = Column('year', '年度')
ROW = Column('row', '栏目')
ROW_INDEX = Column('row_index', '序号', numeric=True)
FLAG_REASONS = Column('flag_reasons', '待复核')
SHA256 = Column('sha256', 'SHA-256', width=20)


def block_title(label: str) -> str:
    """A block's label without its unit: '项目资金（万元）' -> '项目资金'."""
    return UNIT.sub('', label).strip() or label


def name_header(kinds: list[FormTemplate]) -> str:
    """The header of the form-name column: the kinds' first header label when they
    share one, else 名称."""
    labels = {t.header[0].label for t in kinds if t.header}
    return labels.pop() if len(labels) == 1 else '名称'


def header_column(label: str, long: bool = False) -> Column:
    return Column(f'h:{label}', label, width=30 if long else 24)


def value_column(column, long: bool) -> Column:
    wide = 60 if long else (24 if not column.numeric else 18)
    return Column(f'c:{column.label}', column.label, numeric=column.numeric, wrap=long, width=wide)


def long_text(t: FormTemplate, column, block: str) -> bool:
    if column.numeric:
        return False
    return (t.pair is not None and block == t.pair.key) or (column.optional and t.table is not None
                                                             and block == t.table.key)


def kinds_of(schemas: Iterable[Optional[str]]) -> list[FormTemplate]:
    """The templates of the given schemas, in registry order (the project form first);
    the project form's when there are none."""
    wanted = {s or 'perf-self-eval/1' for s in schemas}
    found = [t for t in templates() if t.schema_id in wanted]
    return found or [t for t in templates() if t.schema_id == 'perf-self-eval/1']


# ------------------------------------------------------------------ blocks

@dataclass(frozen=True)
class Block:
    """One block of a kind as rows of a spreadsheet: its key in the form, the name the
    CSV's 栏目 column gives it, the value columns, and each column's field key."""
    key: str
    name: str
    columns: tuple[Column, ...]
    fields: tuple[str, ...]          # the form's field key of each column ('' for the row)
    rows: str                        # 'list' (rows block, table), 'one' (pair, total)


def blocks(t: FormTemplate) -> list[Block]:
    out = []
    if t.rows:
        cols = [Column(f'c:{t.rows.labels[0]}', t.rows.labels[0], width=24)]
        cols += [value_column(c, False) for c in t.rows.columns]
        out.append(Block(t.rows.key, block_title(t.rows.labels[0]), tuple(cols),
                         (t.rows.item_key,) + tuple(c.key for c in t.rows.columns), 'list'))
    if t.pair:
        out.append(Block(t.pair.key, t.pair.label, tuple(value_column(c, True) for c in t.pair.fields),
                         tuple(c.key for c in t.pair.fields), 'one'))
    if t.table:
        cols = [value_column(c, long_text(t, c, t.table.key)) for c in t.table.columns]
        out.append(Block(t.table.key, t.table.label, tuple(cols), tuple(c.key for c in t.table.columns), 'list'))
    if t.total and t.table:
        by_key = {c.key: c for c in t.table.columns}
        cols = [value_column(by_key[k], False) for k in t.total.columns]
        out.append(Block(t.total.key, t.total.label, tuple(cols), tuple(t.total.columns), 'one'))
    return out


# ------------------------------------------------------------------ csv

def csv_columns(kinds: list[FormTemplate]) -> list[Column]:
    """file, form, page, name, every header label, year, block, row, every block column
    label (in order first printed), flag reasons, sha256."""
    name = Column('name', name_header(kinds), width=30)
    seen: dict[str, Column] = {}
    headers: dict[str, Column] = {}
    for t in kinds:
        for h in t.header[1:]:
            headers.setdefault(h.label, header_column(h.label))
        for block in blocks(t):
            for column in block.columns:
                seen.setdefault(column.key, column)
    return [FILE, FORM, PAGE, name] + list(headers.values()) + [YEAR, ROW, ROW_INDEX] + list(seen.values()) \
        + [FLAG_REASONS, SHA256]


# ------------------------------------------------------------------ xlsx

@dataclass(frozen=True)
class SheetSpec:
    title: str
    columns: tuple[Column, ...]
    block: Optional[str]             # the block's key; None for 基本信息


def kind_sheets(t: FormTemplate, name: str) -> list[SheetSpec]:
    """基本信息 and a sheet per block of one kind; each starts with file, form and name."""
    key = (FILE, FORM, Column('name', name, width=30))
    info = (FILE, FORM) + tuple(header_column(h.label) for h in t.header) + (YEAR, PAGES)
    return [SheetSpec('基本信息', info, None)] + [SheetSpec(b.name, key + b.columns, b.key) for b in blocks(t)]


def workbook_sheets(kinds: list[FormTemplate]) -> dict[str, list[SheetSpec]]:
    """Per kind (schema), its sheets: kinds share a sheet they head alike; a sheet of
    the same name headed otherwise takes the kind's title after its name."""
    name = name_header(kinds)
    by_title: dict[str, SheetSpec] = {}
    out: dict[str, list[SheetSpec]] = {}
    for t in kinds:
        mine = []
        for spec in kind_sheets(t, name):
            title = spec.title
            if title in by_title and by_title[title].columns != spec.columns:
                title = SHEET_TITLE_BAD.sub('', f'{spec.title}（{t.title}）')[:31]
            spec = SheetSpec(title, spec.columns, spec.block)
            by_title.setdefault(title, spec)
            mine.append(by_title[title])
        out[t.schema_id] = mine
    return out
