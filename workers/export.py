"""Exports of a batch from the store, with people's corrections applied.

    json   DIR/<input file stem>.json per document: the contract, as `extract` writes it
    csv    DIR/<batch>.csv: one row per funds row, goals, indicator and 总分 of every form,
           headed as the form prints them (UTF-8 with BOM, so spreadsheet programs read
           the Chinese right)
    xlsx   DIR/<batch>.xlsx: a workbook a person can use (see `write_workbook`)
    pdf    DIR/<input stem>.pdf per document: the scan's pages with an invisible text
           layer from the pipeline's own cells, searchable and selectable
           (extractor.searchable_pdf)

A document's archival metadata (source.metadata, from the manifest `extract --manifest`
reads: 档号, box, batch, ...) is in its JSON, and in CSV rows and the XLSX summary sheet as
one column each, right after the file name.

Nothing a spreadsheet could run goes out: a text that starts like a formula (= + - @,
tab, CR) is written as text in both CSV and XLSX (`guard_csv`, `_text_cell`), and file
names are names, never the server's paths.
"""
from __future__ import annotations

import csv
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Iterator, Optional

from sqlalchemy import select

from extractor.export import write_json
from models import Document
from models.document import FUND_VALUE_KEYS, INDICATOR_KEYS
from store.db import Store
from store.models import Correction, Document as DocumentRow, FieldRow, FormRow, Status
from store.queries import batch_documents, find_batch
from store.results import current_document

FORMATS = ('json', 'csv', 'xlsx', 'pdf')

# ----------------------------------------------------------------- vocabulary
# Column keys (the contract's names) and the headers the form prints for them.
HEADERS = {
    'file': '文件', 'form': '表序号', 'page': '页码', 'pages': '页码',
    'project_name': '项目名称', 'year': '年度', 'department': '主管部门',
    'implementing_unit': '实施单位', 'row': '栏目', 'row_index': '序号',
    'item': '项目资金（万元）', 'initial_budget': '年初预算数', 'annual_budget': '全年预算数',
    'executed': '全年执行数', 'execution_rate': '执行率',
    'level1': '一级指标', 'level2': '二级指标', 'level3': '三级指标',
    'target': '年度指标值', 'actual': '实际完成值', 'expected': '预期目标',
    'goal_actual': '实际完成情况', 'weight': '分值', 'score': '得分',
    'deviation_note': '偏差原因分析及改进措施', 'flag_reasons': '待复核', 'sha256': 'SHA-256',
}
BLOCK_NAMES = {'funds': '项目资金', 'goals': '年度总体目标', 'indicator': '绩效指标',
               'total': '总分'}
REASONS = {'low_confidence': '识别把握不足', 'split_number': '数字跨行', 'arithmetic': '计算不符',
           'missing': '缺失', 'unparsed': '无法识别为数字', 'structure': '表格结构存疑'}
# The values a spreadsheet should be able to add up.
NUMERIC_KEYS = {'initial_budget', 'annual_budget', 'executed', 'execution_rate', 'weight', 'score'}

FORM_COLUMNS = ['file', 'form', 'page', 'project_name', 'year', 'department', 'implementing_unit']
ROW_COLUMNS = ['row', 'row_index', 'item', 'initial_budget', 'annual_budget', 'executed',
               'execution_rate', 'level1', 'level2', 'level3', 'target', 'actual', 'expected',
               'goal_actual', 'weight', 'score', 'deviation_note']
# The CSV's columns, and the keys of `table_rows`.
COLUMNS = FORM_COLUMNS + ROW_COLUMNS + ['flag_reasons', 'sha256']


class ExportError(Exception):
    pass


# ----------------------------------------------------------- formula guard

FORMULA_START = ('=', '+', '-', '@', '\t', '\r')


def _looks_guarded(text: str) -> bool:
    return text.startswith("'") and text[1:].startswith(FORMULA_START + ("'",))


def guard_csv(value) -> str:
    """A CSV cell that no spreadsheet program will evaluate: text starting like a
    formula gets a leading apostrophe (OWASP's advice for CSV injection). Text that
    already looks guarded gets one more, so `unguard_csv` gives back every value."""
    text = '' if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) or _looks_guarded(text) else text


def unguard_csv(text: str) -> str:
    return text[1:] if _looks_guarded(text) else text


_NUMBER = re.compile(r'^([+-]?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(%?)$')


def as_number(text) -> Optional[tuple[float, str]]:
    """(value, Excel number format keeping the printed decimals) of a printed number
    or rate ('396.267529', '1,234.50', '-3', '98.5%'); None for anything else ('—')."""
    if not isinstance(text, str):
        return None
    m = _NUMBER.match(text.strip())
    if not m:
        return None
    sign, whole, decimals, percent = m.groups()
    try:
        value = Decimal(sign + whole.replace(',', '') + ('.' + decimals if decimals else ''))
    except InvalidOperation:
        return None
    fmt = ('#,##0' if ',' in whole else '0') + ('.' + '0' * len(decimals) if decimals else '')
    if percent:
        return float(value / 100), fmt + '%'
    return float(value), fmt


# ------------------------------------------------------------ store reading

@dataclass
class Entry:
    path: str                   # as submitted in this batch (never written out)
    document_id: int
    sha256: str
    status: str
    error: str | None
    page_count: int | None

    @property
    def file_name(self) -> str:
        return os.path.basename(self.path)

    def public_error(self) -> str | None:
        """The failure reason without the server's folders in it."""
        if not self.error:
            return self.error
        text = self.error.replace(self.path, self.file_name)
        folder = os.path.dirname(self.path)
        return text.replace(folder + os.sep, '') if folder else text


@dataclass
class AuditEntry:
    form: int
    path: str
    user: str
    at: datetime
    old: str | None
    new: str | None


@dataclass
class Loaded:
    entry: Entry
    document: Document | None
    corrections: list[AuditEntry] = field(default_factory=list)


def _entries(store: Store, batch_name: str) -> list[Entry]:
    with store.session() as session:
        batch = find_batch(session, batch_name)
        if batch is None:
            raise ExportError(f'no batch named {batch_name!r}')
        return [Entry(item.path, row.id, row.sha256, row.status, row.error, row.page_count)
                for item, row in batch_documents(session, batch)]


def _corrections(session, document_id: int) -> list[AuditEntry]:
    rows = session.execute(
        select(FormRow.form_index, FieldRow.path, Correction)
        .join(FieldRow, FieldRow.form_id == FormRow.id)
        .join(Correction, Correction.field_id == FieldRow.id)
        .where(FormRow.document_id == document_id)
        .order_by(Correction.at, Correction.id)).all()
    return [AuditEntry(index, path, c.user.name if c.user else '', c.at, c.old_value, c.new_value)
            for index, path, c in rows]


def _documents(store: Store, entries: list[Entry]) -> Iterator[Loaded]:
    """Each entry with its current Document (None if nothing was read) and its
    corrections, loaded one at a time so a batch of thousands is not in memory whole."""
    for entry in entries:
        with store.session() as session:
            row = session.get(DocumentRow, entry.document_id)
            document = current_document(session, row) if row is not None else None
            corrections = _corrections(session, entry.document_id) if document else []
            yield Loaded(entry, document, corrections)


def _stems(paths_and_shas: list[tuple[str, str]]) -> dict[str, str]:
    """sha256 -> output stem: the input file's stem, as `extract` names it; two inputs
    with the same stem get their hash's first 8 digits added so neither is lost."""
    counts = Counter(os.path.splitext(os.path.basename(p))[0] for p, _ in paths_and_shas)
    stems = {}
    for path, sha in paths_and_shas:
        stem = os.path.splitext(os.path.basename(path))[0]
        stems[sha] = stem if counts[stem] == 1 else f'{stem}-{sha[:8]}'
    return stems


def metadata_keys(documents) -> list[str]:
    """The archival metadata columns of some documents, in the order first met."""
    keys: dict[str, None] = {}
    for document in documents:
        metadata = getattr(getattr(document, 'source', None), 'metadata', None) if document is not None else None
        for key in metadata or {}:
            keys.setdefault(key, None)
    return list(keys)


def _stored_metadata_keys(store: Store, entries: list[Entry]) -> list[str]:
    """metadata_keys of a batch's stored results, without building each Document."""
    keys: dict[str, None] = {}
    with store.session() as session:
        for entry in entries:
            result = session.scalar(select(DocumentRow.result).where(DocumentRow.id == entry.document_id))
            metadata = ((result or {}).get('source') or {}).get('metadata') if isinstance(result, dict) else None
            for key in metadata or {}:
                keys.setdefault(key, None)
    return list(keys)


def metadata_headers(keys, taken) -> list[str]:
    """A column header per metadata key: the key itself, unless a column of the form
    is already headed so."""
    return [key if key not in taken else f'{key}（清单）' for key in keys]


def _csv_fieldnames(meta_keys) -> list[str]:
    headers = [HEADERS[k] for k in COLUMNS]
    return headers[:1] + metadata_headers(meta_keys, headers) + headers[1:]


def _safe_name(batch_name: str) -> str:
    return re.sub(r'[^\w.-]+', '_', batch_name).strip('._') or 'batch'


# ------------------------------------------------------------------- json

def export_json(store: Store, batch_name: str, out_dir: str) -> list[str]:
    entries = _entries(store, batch_name)
    stems = _stems([(e.path, e.sha256) for e in entries])
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for loaded in _documents(store, entries):
        if loaded.document is None:
            continue                 # failed before anything was read
        target = os.path.join(out_dir, f'{stems[loaded.entry.sha256]}.json')
        write_json(target, loaded.document.contract())
        written.append(target)
    return written


# -------------------------------------------------------------------- csv

def _open_flags(document: Document) -> dict[tuple[int, str], list]:
    """(form, field path) -> open flags on it."""
    flags: dict[tuple[int, str], list] = {}
    for flag in document.review:
        flags.setdefault((flag.form, flag.field), []).append(flag)
    return flags


def _row_page(form, prefix: str, keys) -> int | None:
    for key in keys:
        source = form.sources.get(f'{prefix}.{key}')
        if source and source.page:
            return source.page
    return form.pages[0] if form.pages else None


def _reasons(flags) -> str:
    return ' '.join(sorted({REASONS.get(str(f.reason), str(f.reason)) for f in flags}))


def table_rows(document: Document, file_name: str) -> Iterator[dict]:
    """One dict (keys: COLUMNS) per funds row, goals, indicator and 总分 of every form
    in the document; `row` is funds / goals / indicator / total, `row_index` 0-based."""
    flags = _open_flags(document)
    for index, form in enumerate(document.forms):
        common = {'file': file_name, 'form': index, 'project_name': form.project_name,
                  'year': form.year, 'department': form.department,
                  'implementing_unit': form.implementing_unit, 'sha256': document.source.sha256,
                  'metadata': document.source.metadata or {}}
        rows = [('funds', i, f'funds.{i}', f.model_dump(), ('item',) + FUND_VALUE_KEYS)
                for i, f in enumerate(form.funds)]
        rows.append(('goals', 0, 'goals', {'expected': form.goals.expected,
                                           'goal_actual': form.goals.actual}, ('expected', 'goal_actual')))
        rows += [('indicator', i, f'indicators.{i}', ind.model_dump(), INDICATOR_KEYS)
                 for i, ind in enumerate(form.indicators)]
        total = form.total.model_dump() if form.total else {'weight': None, 'score': None}
        rows.append(('total', 0, 'total', total, ('weight', 'score')))
        for kind, i, prefix, values, keys in rows:
            source_keys = {'expected': 'expected', 'goal_actual': 'actual'}
            on_row = [f for (form_index, path), fs in flags.items() if form_index == index
                      and (path == prefix or path.startswith(prefix + '.')) for f in fs]
            row = dict(common, page=_row_page(form, prefix, [source_keys.get(k, k) for k in keys]),
                       row=kind, row_index=i, flag_reasons=_reasons(on_row))
            row.update({k: values.get(k) for k in keys})
            yield row


def csv_record(row: dict, meta_keys=()) -> dict:
    """A row as the CSV shows it (Chinese headers, 1-based 序号, block names), with the
    document's metadata under the `meta_keys` columns."""
    shown = dict(row, row=BLOCK_NAMES.get(row['row'], row['row']),
                 form=row['form'] + 1, row_index=row['row_index'] + 1)
    record = {HEADERS[k]: guard_csv(shown.get(k)) for k in COLUMNS}
    metadata = row.get('metadata') or {}
    for key, header in zip(meta_keys, metadata_headers(meta_keys, [HEADERS[k] for k in COLUMNS])):
        record[header] = guard_csv(metadata.get(key))
    return record


def read_csv(path: str) -> list[dict]:
    """The rows of an exported CSV keyed back by COLUMNS (`row` as funds / goals /
    indicator / total, 0-based `form` and `row_index` as text, values as they were
    before the formula guard): how tests and scripts read the file a person opens in a
    spreadsheet."""
    kinds = {name: kind for kind, name in BLOCK_NAMES.items()}
    with open(path, encoding='utf-8-sig', newline='') as fh:
        records = list(csv.DictReader(fh))
    out = []
    for record in records:
        row = {k: unguard_csv(record[HEADERS[k]]) for k in COLUMNS}
        row['row'] = kinds.get(row['row'], row['row'])
        row['form'] = str(int(row['form']) - 1)
        row['row_index'] = str(int(row['row_index']) - 1)
        out.append(row)
    return out


def export_csv(store: Store, batch_name: str, out_dir: str) -> list[str]:
    entries = _entries(store, batch_name)
    os.makedirs(out_dir, exist_ok=True)
    target = os.path.join(out_dir, f'{_safe_name(batch_name)}.csv')
    meta_keys = _stored_metadata_keys(store, entries)
    with open(target + '.tmp', 'w', encoding='utf-8-sig', newline='') as fh:
        writer = csv.DictWriter(fh, fieldnames=_csv_fieldnames(meta_keys))
        writer.writeheader()
        for loaded in _documents(store, entries):
            if loaded.document is not None:
                for row in table_rows(loaded.document, loaded.entry.file_name):
                    writer.writerow(csv_record(row, meta_keys))
    os.replace(target + '.tmp', target)
    return [target]


# ------------------------------------------------------------------- xlsx

# Sheets and their columns (keys into HEADERS, or (key, header) where the form prints
# another word). Every block sheet starts with the form's file, number and name.
FORM_KEY = ['file', 'form', 'project_name']
SHEETS = {
    '汇总': ['file', 'form', 'pages', 'project_name', 'department', 'implementing_unit', 'year',
           ('total_score', '总分'), ('open', '待复核'), ('status', '状态'), ('error', '说明'),
           'sha256'],
    '基本信息': FORM_KEY[:2] + ['project_name', 'department', 'implementing_unit', 'year', 'pages'],
    '项目资金': FORM_KEY + ['item', 'initial_budget', 'annual_budget', 'executed', 'weight',
                        'execution_rate', 'score'],
    '年度总体目标': FORM_KEY + ['expected', 'goal_actual'],
    '绩效指标': FORM_KEY + ['level1', 'level2', 'level3', 'target', 'actual', 'weight', 'score',
                        'deviation_note'],
    '总分': FORM_KEY + ['weight', 'score'],
    '待复核': FORM_KEY + [('field', '栏目'), ('value', '当前值'), ('reason', '原因'),
                       ('detail', '说明'), 'page'],
    '更正记录': FORM_KEY + [('field', '栏目'), ('old', '原值'), ('new', '新值'),
                        ('user', '更正人'), ('at', '时间 (UTC)')],
}
WIDE = {'project_name': 30, 'expected': 60, 'goal_actual': 60, 'deviation_note': 40,
        'detail': 50, 'error': 40, 'level3': 24, 'target': 16, 'actual': 16, 'old': 24,
        'new': 24, 'file': 24, 'department': 24, 'implementing_unit': 24, 'sha256': 20}
WRAP = {'expected', 'goal_actual', 'deviation_note', 'detail'}
COUNT_KEYS = {'form', 'page', 'open', 'total_score'}      # numbers too
STATUS = {'extracted': '已完成', 'failed': '失败', 'queued': '排队中', 'running': '处理中'}
FLAG_FILL = 'FFD966'         # amber: a cell still waiting for a reviewer


def _key_and_header(column) -> tuple[str, str]:
    return column if isinstance(column, tuple) else (column, HEADERS[column])


def field_label(form, path: str) -> str:
    """A field path in the form's own words: '项目资金 · 年度资金总额 · 全年执行数'."""
    parts = path.split('.')
    block = parts[0]
    if block == 'funds' and len(parts) >= 2 and parts[1].isdigit():
        i = int(parts[1])
        item = form.funds[i].item if i < len(form.funds) and form.funds[i].item else f'第{i + 1}行'
        return ' · '.join(['项目资金', item] + [HEADERS.get(p, p) for p in parts[2:]])
    if block == 'indicators' and len(parts) >= 2 and parts[1].isdigit():
        i = int(parts[1])
        name = (form.indicators[i].level3 if i < len(form.indicators) else None) or f'第{i + 1}行'
        return ' · '.join(['绩效指标', name] + [HEADERS.get(p, p) for p in parts[2:]])
    if block == 'goals':
        return ' · '.join(['年度总体目标'] + [{'actual': '实际完成情况'}.get(p, HEADERS.get(p, p))
                                           for p in parts[1:]])
    if block == 'total':
        return ' · '.join(['总分'] + [HEADERS.get(p, p) for p in parts[1:]])
    return HEADERS.get(block, block or '整表')


class _Sheet:
    """One worksheet: a header row, rows appended as dicts, and where each form's
    rows landed (to mark flagged cells afterwards)."""

    def __init__(self, book, title: str, columns):
        from openpyxl.styles import Alignment, Font, PatternFill
        self.ws = book.create_sheet(title)
        self.keys, headers = zip(*[_key_and_header(c) for c in columns])
        self.keys = list(self.keys)
        self.ws.append(list(headers))
        for cell in self.ws[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill('solid', fgColor='DDEBF7')
            cell.alignment = Alignment(vertical='center', wrap_text=True)
        self.ws.freeze_panes = 'A2' if len(self.keys) < 4 else 'D2'
        self.widths = [max(8, _display_width(h) + 2) for h in headers]
        self.caps = [WIDE.get(key, 18) for key in self.keys]
        self.numeric = [key in NUMERIC_KEYS or key in COUNT_KEYS for key in self.keys]
        self.wrap = Alignment(wrap_text=True, vertical='top')
        self.rows = 1           # counted here: openpyxl's max_row scans every cell

    def append(self, values: dict) -> int:
        self.rows += 1
        row = self.rows
        for col, key in enumerate(self.keys):
            value = values.get(key)
            if value is None:
                continue
            cell = self.ws.cell(row=row, column=col + 1)
            _put(cell, value, numeric=self.numeric[col])
            if key in WRAP:
                cell.alignment = self.wrap
            if self.widths[col] < self.caps[col]:
                self.widths[col] = max(self.widths[col], min(self.caps[col], _display_width(value) + 2))
        return row

    def mark(self, row: int, key: str, flags) -> None:
        """Fill a cell a reviewer has yet to settle and say why in its comment."""
        from openpyxl.comments import Comment
        from openpyxl.styles import PatternFill
        column = self.keys.index(key) + 1 if key in self.keys else 1
        cell = self.ws.cell(row=row, column=column)
        cell.fill = PatternFill('solid', fgColor=FLAG_FILL)
        text = '\n'.join(f'待复核：{REASONS.get(str(f.reason), str(f.reason))}'
                         + (f'（{f.detail}）' if f.detail else '') for f in flags)
        if cell.comment is not None:
            text = cell.comment.text + '\n' + text
        comment = Comment(text, '自动识别')
        comment.width, comment.height = 320, 40 + 18 * text.count('\n')
        cell.comment = comment

    def finish(self) -> None:
        from openpyxl.utils import get_column_letter
        for col, width in enumerate(self.widths, start=1):
            self.ws.column_dimensions[get_column_letter(col)].width = width
        if self.rows > 1:
            self.ws.auto_filter.ref = f'A1:{get_column_letter(len(self.keys))}{self.rows}'


def _display_width(value) -> int:
    """Columns a value needs: a CJK character is about two Latin ones wide."""
    text = '' if value is None else str(value)
    return max((sum(2 if ord(ch) > 0x2E80 else 1 for ch in line) for line in text.split('\n')), default=0)


def _text_cell(cell, text: str) -> None:
    """Text that stays text: openpyxl would store a string starting with '=' as a
    formula, so the type is set explicitly and Excel's quote prefix keeps it text
    when someone edits the cell."""
    cell.value = text
    cell.data_type = 's'
    if text.startswith(FORMULA_START):
        cell.quotePrefix = True


def _put(cell, value, numeric: bool) -> None:
    if value is None:
        return
    if isinstance(value, datetime):
        cell.value = value.replace(tzinfo=None)
        cell.number_format = 'yyyy-mm-dd hh:mm:ss'
        return
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        cell.value = value
        return
    text = str(value)
    number = as_number(text) if numeric else None
    if number is not None:
        cell.value, cell.number_format = number
        return
    _text_cell(cell, text)


def _pages_text(pages) -> str:
    pages = sorted(pages or [])
    if not pages:
        return ''
    if pages == list(range(pages[0], pages[-1] + 1)) and len(pages) > 1:
        return f'{pages[0]}-{pages[-1]}'
    return ','.join(str(p) for p in pages)


def _current_value(form, path: str) -> str | None:
    """The field's value now (after corrections); None for a whole block or row."""
    try:
        value = form.get(path)
    except (AttributeError, IndexError, ValueError):
        return None
    return value if isinstance(value, str) else None


def _form_rows(sheets: dict, loaded: Loaded) -> None:
    """Every block of every form of one document into its sheet; flagged cells marked."""
    document, entry = loaded.document, loaded.entry
    flags = _open_flags(document)
    for index, form in enumerate(document.forms):
        key = {'file': entry.file_name, 'form': index + 1, 'project_name': form.project_name}
        where: dict[str, tuple[_Sheet, int, str]] = {}     # field path -> (sheet, row, key)
        open_here = [f for (i, _), fs in flags.items() if i == index for f in fs]
        metadata = {f'meta:{k}': v for k, v in (document.source.metadata or {}).items()}
        sheets['汇总'].append(dict(key, **metadata, pages=_pages_text(form.pages), department=form.department,
                                 implementing_unit=form.implementing_unit, year=form.year,
                                 total_score=form.total.score if form.total else None,
                                 open=len(open_here), status=STATUS.get(entry.status, entry.status),
                                 sha256=entry.sha256))
        row = sheets['基本信息'].append(dict(key, department=form.department, year=form.year,
                                         implementing_unit=form.implementing_unit,
                                         pages=_pages_text(form.pages)))
        for name in ('project_name', 'department', 'implementing_unit', 'year'):
            where[name] = (sheets['基本信息'], row, name)
        for i, fund in enumerate(form.funds):
            row = sheets['项目资金'].append(dict(key, **fund.model_dump()))
            where[f'funds.{i}'] = (sheets['项目资金'], row, 'item')
            for name in ('item',) + FUND_VALUE_KEYS:
                where[f'funds.{i}.{name}'] = (sheets['项目资金'], row, name)
        row = sheets['年度总体目标'].append(dict(key, expected=form.goals.expected,
                                           goal_actual=form.goals.actual))
        where['goals'] = (sheets['年度总体目标'], row, 'expected')
        where['goals.expected'] = (sheets['年度总体目标'], row, 'expected')
        where['goals.actual'] = (sheets['年度总体目标'], row, 'goal_actual')
        for i, indicator in enumerate(form.indicators):
            row = sheets['绩效指标'].append(dict(key, **indicator.model_dump()))
            where[f'indicators.{i}'] = (sheets['绩效指标'], row, 'level3')
            for name in INDICATOR_KEYS:
                where[f'indicators.{i}.{name}'] = (sheets['绩效指标'], row, name)
        total = form.total
        row = sheets['总分'].append(dict(key, weight=total.weight if total else None,
                                       score=total.score if total else None))
        for name in ('total', 'total.weight', 'total.score'):
            where[name] = (sheets['总分'], row, name.split('.')[-1] if '.' in name else 'weight')
        first_funds = where.get('funds.0', (sheets['项目资金'], None, 'item'))
        first_indicator = where.get('indicators.0', (sheets['绩效指标'], None, 'level3'))
        where.setdefault('funds', first_funds)
        where.setdefault('indicators', first_indicator)
        for (i, path), fs in sorted(flags.items(), key=lambda kv: (kv[0][0], kv[0][1])):
            if i != index:
                continue
            sheet, row, column = where.get(path, (None, None, None))
            if sheet is None or row is None:
                sheet, row, column = sheets['基本信息'], where['project_name'][1], 'project_name'
            sheet.mark(row, column, fs)
            for f in fs:
                review_row = sheets['待复核'].append(dict(
                    key, field=field_label(form, path), value=_current_value(form, path),
                    reason=REASONS.get(str(f.reason), str(f.reason)), detail=f.detail, page=f.page))
                sheets['待复核'].mark(review_row, 'value', [f])
        for audit in (a for a in loaded.corrections if a.form == index):
            sheets['更正记录'].append(dict(key, field=field_label(form, audit.path), old=audit.old,
                                         new=audit.new, user=audit.user, at=audit.at))


def write_workbook(target, loaded_documents, meta_keys=None) -> None:
    """The workbook of a batch, one sheet per block of the form:

    汇总          one row per form: file name, the document's archival metadata (one
                  column per key of `meta_keys`; default: those of the documents when
                  they are given as a list), pages, 总分, open flags, status (and one
                  row per document that failed, with the reason)
    基本信息      项目名称, 主管部门, 实施单位, 年度
    项目资金      a row per funds row: 年初预算数 ... 得分 as numbers (printed decimals
                  kept as the number format; '—' stays text)
    年度总体目标  预期目标, 实际完成情况
    绩效指标      a row per indicator
    总分          分值, 得分 (corrected values where a reviewer changed them)
    待复核        every flag still open: field, current value, reason
    更正记录      every correction: field, old and new value, who, when

    Cells a reviewer has not settled yet are filled amber with a comment giving the
    reason; header rows are frozen, columns sized to their content."""
    from openpyxl import Workbook
    if meta_keys is None:
        meta_keys = metadata_keys(l.document for l in loaded_documents) if isinstance(loaded_documents, list) else []
    book = Workbook()
    book.remove(book.active)
    columns = dict(SHEETS)
    summary = columns['汇总']
    taken = [_key_and_header(c)[1] for c in summary]
    columns['汇总'] = summary[:1] + [(f'meta:{key}', header) for key, header
                                   in zip(meta_keys, metadata_headers(meta_keys, taken))] + summary[1:]
    sheets = {title: _Sheet(book, title, cols) for title, cols in columns.items()}
    for loaded in loaded_documents:
        if loaded.document is not None:
            _form_rows(sheets, loaded)
        if loaded.document is None or not loaded.document.forms:
            entry = loaded.entry
            metadata = loaded.document.source.metadata if loaded.document is not None else None
            sheets['汇总'].append({**{f'meta:{k}': v for k, v in (metadata or {}).items()},
                                  'file': entry.file_name, 'status': STATUS.get(entry.status, entry.status),
                                  'error': entry.public_error() or ('no form found' if loaded.document else None),
                                  'sha256': entry.sha256})
    for sheet in sheets.values():
        sheet.finish()
    book.save(target)


def document_csv(document: Document, file_name: str) -> bytes:
    """The CSV of one document, as the batch CSV writes its rows (the review app's
    per-document download)."""
    import io
    text = io.StringIO()
    meta_keys = metadata_keys([document])
    writer = csv.DictWriter(text, fieldnames=_csv_fieldnames(meta_keys))
    writer.writeheader()
    for row in table_rows(document, os.path.basename(file_name)):
        writer.writerow(csv_record(row, meta_keys))
    return text.getvalue().encode('utf-8-sig')


def document_xlsx(document: Document, file_name: str, corrections: list[AuditEntry] = ()) -> bytes:
    """The workbook of one document (the review app's per-document download)."""
    import io
    entry = Entry(file_name, 0, document.source.sha256, 'extracted', None, document.source.pages)
    out = io.BytesIO()
    write_workbook(out, [Loaded(entry, document, list(corrections))])
    return out.getvalue()


def export_xlsx(store: Store, batch_name: str, out_dir: str) -> list[str]:
    entries = _entries(store, batch_name)
    os.makedirs(out_dir, exist_ok=True)
    target = os.path.join(out_dir, f'{_safe_name(batch_name)}.xlsx')
    write_workbook(target + '.tmp', _documents(store, entries), _stored_metadata_keys(store, entries))
    os.replace(target + '.tmp', target)
    return [target]


# -------------------------------------------------------------------- pdf

def _original_pages(path: str, results: list) -> list | None:
    """The original scan's pages at the dpi they were read at, if the file is still
    where it was submitted and has the same pages; else None."""
    from extractor import ingest
    try:
        dpi = results[0].dpi
        pages = [page.image for page in ingest.iter_pages(path, dpi)]
    except (ingest.IngestError, OSError):
        return None
    return pages if len(pages) == len(results) else None


def export_pdf(store: Store, batch_name: str, out_dir: str) -> list[str]:
    """A searchable PDF (PDF/A-2b) per extracted document: the original scan, in
    colour and with its seals, straightened as the pipeline did, with the text the
    workers read under it. Where the scan is no longer readable at its path, the
    cleaned page images the workers stored are used instead."""
    from extractor.searchable_pdf import write_searchable_pdf
    from models import PageResult
    from store.models import PageRow
    entries = _entries(store, batch_name)
    stems = _stems([(e.path, e.sha256) for e in entries])
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for entry in entries:
        with store.session() as session:
            pages = session.scalars(select(PageRow).where(PageRow.document_id == entry.document_id)
                                    .order_by(PageRow.number)).all()
            stored = [(p.image_path, PageResult.model_validate(p.result)) for p in pages if p.result]
        if not stored or len(stored) != len(pages) or entry.status != Status.EXTRACTED:
            continue                 # failed, or not read yet
        results = [result for _, result in stored]
        originals = _original_pages(entry.path, results)
        target = os.path.join(out_dir, f'{stems[entry.sha256]}.pdf')
        if originals is not None:
            write_searchable_pdf(originals, results, target, straighten=True)
        elif all(path and os.path.exists(path) for path, _ in stored):
            write_searchable_pdf([path for path, _ in stored], results, target)
        else:
            continue                 # neither the scan nor its page images are left
        written.append(target)
    return written


def export(store: Store, batch_name: str, fmt: str, out_dir: str) -> list[str]:
    writer = {'json': export_json, 'csv': export_csv, 'xlsx': export_xlsx, 'pdf': export_pdf}.get(fmt)
    if writer is None:
        raise ExportError(f'unknown format {fmt!r} (one of {", ".join(FORMATS)})')
    return writer(store, batch_name, out_dir)
