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
from models.template import templates
from workers import columns as cols
from store.db import Store
from store.models import Correction, Document as DocumentRow, FieldRow, FormRow, Status
from store.queries import batch_documents, find_batch
from store.results import current_document

FORMATS = ('json', 'csv', 'xlsx', 'pdf')

# ----------------------------------------------------------------- vocabulary
# What each form kind shows in the CSV and the workbook comes from its template
# (workers/columns.py); here only what every export says the same way.
REASONS = {'low_confidence': '识别把握不足', 'split_number': '数字跨行', 'arithmetic': '计算不符',
           'missing': '缺失', 'unparsed': '无法识别为数字', 'structure': '表格结构存疑',
           'page_quality': '页面质量差'}


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


def _stored_kinds(store: Store, entries: list[Entry]) -> list:
    """The form kinds (templates) of a batch's stored forms."""
    ids = [e.document_id for e in entries]
    with store.session() as session:
        schemas = session.scalars(select(FormRow.schema).where(FormRow.document_id.in_(ids)).distinct()).all() \
            if ids else []
    return cols.kinds_of(schemas)


def _csv_fieldnames(columns, meta_keys) -> list[str]:
    headers = [c.header for c in columns]
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


def _value(node, key: str):
    """A block row's (or the pair's, or the total's) value: pydantic or dict alike."""
    if node is None:
        return None
    return node.get(key) if isinstance(node, dict) else getattr(node, key, None)


def _header_values(form) -> dict:
    t = form.template
    values = {'name': form.get(t.header[0].key) if t.header else None, 'year': form.year}
    values.update({f'h:{h.label}': form.get(h.key) for h in t.header[1:]})
    return values


def table_rows(document: Document, file_name: str) -> Iterator[dict]:
    """One dict per row of every block of every form in the document (a rows-block row,
    the pair, a table row, the total), keyed as workers.columns says; `row` is the
    block's key, `row_index` 0-based."""
    flags = _open_flags(document)
    for index, form in enumerate(document.forms):
        common = dict(_header_values(form), file=file_name, form=index, sha256=document.source.sha256,
                      metadata=document.source.metadata or {})
        for block in cols.blocks(form.template):
            node = getattr(form, block.key, None)
            if block.rows == 'list':
                items = [(i, f'{block.key}.{i}', row) for i, row in enumerate(node or [])]
            else:
                items = [(0, block.key, node)]
            for i, prefix, row in items:
                on_row = [f for (form_index, path), fs in flags.items() if form_index == index
                          and (path == prefix or path.startswith(prefix + '.')) for f in fs]
                out = dict(common, page=_row_page(form, prefix, block.fields), row=block.key, row_index=i,
                           flag_reasons=_reasons(on_row), block=block.name)
                out.update({c.key: _value(row, f) for c, f in zip(block.columns, block.fields)})
                yield out


def csv_record(row: dict, columns, meta_keys=()) -> dict:
    """A row as the CSV shows it (Chinese headers, 1-based 序号, block names), with the
    document's metadata under the `meta_keys` columns."""
    shown = dict(row, row=row.get('block', row['row']), form=row['form'] + 1, row_index=row['row_index'] + 1)
    record = {c.header: guard_csv(shown.get(c.key)) for c in columns}
    metadata = row.get('metadata') or {}
    for key, header in zip(meta_keys, metadata_headers(meta_keys, [c.header for c in columns])):
        record[header] = guard_csv(metadata.get(key))
    return record


def _field_keys() -> tuple[dict, dict]:
    """Header -> field key, and block name -> block key, over every registered kind
    (the kind registered first wins a label two kinds print)."""
    keys: dict[str, str] = {c.header: c.key for c in (cols.FILE, cols.FORM, cols.PAGE, cols.YEAR, cols.ROW,
                                                       cols.ROW_INDEX, cols.FLAG_REASONS, cols.SHA256)}
    names: dict[str, str] = {}
    for t in templates():
        if t.header:
            keys.setdefault(t.header[0].label, t.header[0].key)
        for h in t.header[1:]:
            keys.setdefault(h.label, h.key)
        for block in cols.blocks(t):
            names.setdefault(block.name, block.key)
            for column, field_key in zip(block.columns, block.fields):
                keys.setdefault(column.header, field_key)
    return keys, names


def read_csv(path: str) -> list[dict]:
    """The rows of an exported CSV keyed back by the contract's field names (`row` as
    the block's key: funds / goals / indicators / total; 0-based `form` and
    `row_index` as text; values as they were before the formula guard): how tests and
    scripts read the file a person opens in a spreadsheet."""
    keys, names = _field_keys()
    with open(path, encoding='utf-8-sig', newline='') as fh:
        records = list(csv.DictReader(fh))
    out = []
    for record in records:
        row: dict = {}
        for header, text in record.items():
            key = keys.get(header, 'name' if header == '名称' else header)
            value = unguard_csv(text)
            if value or key not in row:
                row[key] = value
        row['row'] = names.get(row.get('row'), row.get('row'))
        row['form'] = str(int(row['form']) - 1)
        row['row_index'] = str(int(row['row_index']) - 1)
        out.append(row)
    return out


def export_csv(store: Store, batch_name: str, out_dir: str) -> list[str]:
    entries = _entries(store, batch_name)
    os.makedirs(out_dir, exist_ok=True)
    target = os.path.join(out_dir, f'{_safe_name(batch_name)}.csv')
    meta_keys = _stored_metadata_keys(store, entries)
    columns = cols.csv_columns(_stored_kinds(store, entries))
    with open(target + '.tmp', 'w', encoding='utf-8-sig', newline='') as fh:
        writer = csv.DictWriter(fh, fieldnames=_csv_fieldnames(columns, meta_keys))
        writer.writeheader()
        for loaded in _documents(store, entries):
            if loaded.document is not None:
                for row in table_rows(loaded.document, loaded.entry.file_name):
                    writer.writerow(csv_record(row, columns, meta_keys))
    os.replace(target + '.tmp', target)
    return [target]


# ------------------------------------------------------------------- xlsx

# Columns of the sheets every workbook has (the blocks' sheets come from the kinds).
COUNT = dict(numeric=True)
SUMMARY_TAIL = (cols.YEAR, cols.Column('total_score', '总分', **COUNT), cols.Column('open', '待复核', **COUNT),
                cols.Column('status', '状态'), cols.Column('error', '说明', width=40), cols.SHA256)
REVIEW_COLUMNS = (cols.Column('field', '栏目', width=30), cols.Column('value', '当前值', width=24),
                  cols.Column('reason', '原因'), cols.Column('detail', '说明', wrap=True, width=50), cols.PAGE)
AUDIT_COLUMNS = (cols.Column('field', '栏目', width=30), cols.Column('old', '原值', width=24),
                 cols.Column('new', '新值', width=24), cols.Column('user', '更正人'),
                 cols.Column('at', '时间 (UTC)'))
STATUS = {'extracted': '已完成', 'failed': '失败', 'queued': '排队中', 'running': '处理中'}
FLAG_FILL = 'FFD966'         # amber: a cell still waiting for a reviewer


def field_label(form, path: str) -> str:
    """A field path in the form's own words: '项目资金 · 年度资金总额 · 全年执行数'."""
    t = form.template
    parts = path.split('.')
    for h in t.header:
        if path == h.key:
            return h.label
    if path == 'year':
        return '年度'
    for block in cols.blocks(t):
        if parts[0] != block.key:
            continue
        headers = dict(zip(block.fields, (c.header for c in block.columns)))
        if block.rows == 'list' and len(parts) >= 2 and parts[1].isdigit():
            i = int(parts[1])
            rows = getattr(form, block.key, None) or []
            name = _value(rows[i], block.fields[0] if t.rows and block.key == t.rows.key else t.table.anchor) \
                if i < len(rows) else None
            return ' · '.join([block.name, name or f'第{i + 1}行'] + [headers.get(p, p) for p in parts[2:]])
        return ' · '.join([block.name] + [headers.get(p, p) for p in parts[1:]])
    return path or '整表'


class _Sheet:
    """One worksheet: a header row, rows appended as dicts, and where each form's
    rows landed (to mark flagged cells afterwards)."""

    def __init__(self, book, title: str, columns):
        from openpyxl.styles import Alignment, Font, PatternFill
        self.ws = book.create_sheet(title)
        self.columns = list(columns)
        self.keys = [c.key for c in self.columns]
        self.ws.append([c.header for c in self.columns])
        for cell in self.ws[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill('solid', fgColor='DDEBF7')
            cell.alignment = Alignment(vertical='center', wrap_text=True)
        self.ws.freeze_panes = 'A2' if len(self.keys) < 4 else 'D2'
        self.widths = [max(8, _display_width(c.header) + 2) for c in self.columns]
        self.wrap = Alignment(wrap_text=True, vertical='top')
        self.rows = 1           # counted here: openpyxl's max_row scans every cell

    def append(self, values: dict) -> int:
        self.rows += 1
        row = self.rows
        for col, column in enumerate(self.columns):
            value = values.get(column.key)
            if value is None:
                continue
            cell = self.ws.cell(row=row, column=col + 1)
            _put(cell, value, numeric=column.numeric)
            if column.wrap:
                cell.alignment = self.wrap
            if self.widths[col] < column.width:
                self.widths[col] = max(self.widths[col], min(column.width, _display_width(value) + 2))
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


def _form_rows(book: '_Book', loaded: Loaded) -> None:
    """Every block of every form of one document into its sheet; flagged cells marked."""
    document, entry = loaded.document, loaded.entry
    flags = _open_flags(document)
    for index, form in enumerate(document.forms):
        t = form.template
        specs = book.kind_sheets(t)
        header = _header_values(form)
        key = {'file': entry.file_name, 'form': index + 1, 'name': header['name']}
        where: dict[str, tuple[_Sheet, int, str]] = {}     # field path -> (sheet, row, key)
        open_here = [f for (i, _), fs in flags.items() if i == index for f in fs]
        metadata = {f'meta:{k}': v for k, v in (document.source.metadata or {}).items()}
        book.summary.append(dict(key, **metadata, **header, title=form.title, pages=_pages_text(form.pages),
                                 total_score=_value(getattr(form, t.total.key, None), t.total.columns[-1]) if t.total else None,
                                 open=len(open_here), status=STATUS.get(entry.status, entry.status),
                                 sha256=entry.sha256))
        info = book.sheet(specs[0])
        info_values = dict(key, pages=_pages_text(form.pages), year=form.year)
        info_values.update({f'h:{h.label}': form.get(h.key) for h in t.header})
        row = info.append(info_values)
        for h in t.header:
            where[h.key] = (info, row, f'h:{h.label}')
        where['year'] = (info, row, 'year')
        for spec, block in zip(specs[1:], cols.blocks(t)):
            sheet = book.sheet(spec)
            node = getattr(form, block.key, None)
            items = [(f'{block.key}.{i}', r) for i, r in enumerate(node or [])] if block.rows == 'list' \
                else [(block.key, node)]
            for prefix, values in items:
                row = sheet.append(dict(key, **{c.key: _value(values, f) for c, f in zip(block.columns, block.fields)}))
                where.setdefault(block.key, (sheet, row, block.columns[0].key))
                where[prefix] = (sheet, row, block.columns[0].key)
                for column, field_key in zip(block.columns, block.fields):
                    where[f'{prefix}.{field_key}'] = (sheet, row, column.key)
            if not items:
                where.setdefault(block.key, (sheet, None, block.columns[0].key))
        first = t.header[0] if t.header else None
        for (i, path), fs in sorted(flags.items(), key=lambda kv: (kv[0][0], kv[0][1])):
            if i != index:
                continue
            sheet, row, column = where.get(path, (None, None, None))
            if sheet is None or row is None:
                sheet, row, column = (where[first.key] if first else (info, where['year'][1], 'year'))
            sheet.mark(row, column, fs)
            for f in fs:
                review_row = book.review.append(dict(
                    key, field=field_label(form, path), value=_current_value(form, path),
                    reason=REASONS.get(str(f.reason), str(f.reason)), detail=f.detail, page=f.page))
                book.review.mark(review_row, 'value', [f])
        for audit in (a for a in loaded.corrections if a.form == index):
            book.audit.append(dict(key, field=field_label(form, audit.path), old=audit.old,
                                   new=audit.new, user=audit.user, at=audit.at))


class _Book:
    """The workbook's sheets: 汇总 first, then each kind's sheets as the kinds' forms
    come (kinds share the sheets they head alike), 待复核 and 更正记录 last."""

    def __init__(self, book, kinds: list, meta_keys: list[str]):
        self.book, self.kinds = book, kinds
        self.specs = cols.workbook_sheets(kinds)
        name = cols.Column('name', cols.name_header(kinds), width=30)
        key = (cols.FILE, cols.FORM, name)
        headers = {}
        for t in kinds:
            for h in t.header[1:]:
                headers.setdefault(h.label, cols.header_column(h.label))
        summary = [cols.FILE]
        taken = [c.header for c in (cols.FILE, cols.FORM, cols.PAGES, name) + SUMMARY_TAIL] + list(headers)
        summary += [cols.Column(f'meta:{k}', header) for k, header in zip(meta_keys, metadata_headers(meta_keys, taken))]
        summary += [cols.FORM, cols.PAGES] + ([cols.Column('title', '表名', width=24)] if len(kinds) > 1 else [])
        summary += [name] + list(headers.values()) + list(SUMMARY_TAIL)
        self.summary = _Sheet(book, '汇总', summary)
        self.sheets: dict[str, _Sheet] = {}
        self.review = _Sheet(book, '待复核', key + REVIEW_COLUMNS)
        self.audit = _Sheet(book, '更正记录', key + AUDIT_COLUMNS)
        for t in kinds:          # every kind of the batch has its sheets, in kind order
            for spec in self.specs[t.schema_id]:
                self.sheet(spec)

    def kind_sheets(self, t) -> list:
        if t.schema_id not in self.specs:          # a kind not announced: its own sheets
            self.specs.update(cols.workbook_sheets(self.kinds + [t]))
            self.kinds = self.kinds + [t]
        return self.specs[t.schema_id]

    def sheet(self, spec) -> _Sheet:
        if spec.title not in self.sheets:
            self.sheets[spec.title] = _Sheet(self.book, spec.title, spec.columns)
            # Keep 待复核 and 更正记录 last.
            order = self.book._sheets
            for tail in (self.review.ws, self.audit.ws):
                order.remove(tail)
                order.append(tail)
        return self.sheets[spec.title]

    def finish(self) -> None:
        for sheet in [self.summary, *self.sheets.values(), self.review, self.audit]:
            sheet.finish()


def write_workbook(target, loaded_documents, meta_keys=None, kinds=None) -> None:
    """The workbook of a batch, one sheet per block of each form kind in it, headed
    as the form prints them (for the project form):

    汇总          one row per form: file name, the document's archival metadata (one
                  column per key of `meta_keys`; default: those of the documents when
                  they are given as a list), pages, the form's header fields, 总分,
                  open flags, status (and one row per document that failed, with the
                  reason); with several kinds, 表名 says which
    基本信息      the header fields (项目名称, 主管部门, 实施单位), 年度
    项目资金      a row per funds row: 年初预算数 ... 得分 as numbers (printed decimals
                  kept as the number format; '—' stays text)
    年度总体目标  预期目标, 实际完成情况
    绩效指标      a row per indicator
    总分          分值, 得分 (corrected values where a reviewer changed them)
    待复核        every flag still open: field, current value, reason
    更正记录      every correction: field, old and new value, who, when

    `kinds`: the templates of the forms to come (default: those of the documents when
    given as a list). Another kind's blocks get sheets of their own where it heads
    them otherwise. Cells a reviewer has not settled yet are filled amber with a
    comment giving the reason; header rows are frozen, columns sized to their content."""
    from openpyxl import Workbook
    if isinstance(loaded_documents, list):
        if meta_keys is None:
            meta_keys = metadata_keys(l.document for l in loaded_documents)
        if kinds is None:
            kinds = cols.kinds_of(f.schema_id for l in loaded_documents if l.document for f in l.document.forms)
    book = Workbook()
    book.remove(book.active)
    sheets = _Book(book, kinds or cols.kinds_of([]), meta_keys or [])
    for loaded in loaded_documents:
        if loaded.document is not None:
            _form_rows(sheets, loaded)
        if loaded.document is None or not loaded.document.forms:
            entry = loaded.entry
            metadata = loaded.document.source.metadata if loaded.document is not None else None
            sheets.summary.append({**{f'meta:{k}': v for k, v in (metadata or {}).items()},
                                   'file': entry.file_name, 'status': STATUS.get(entry.status, entry.status),
                                   'error': entry.public_error() or (
                                       pipeline_reason(loaded.document) if loaded.document else None),
                                   'sha256': entry.sha256})
    sheets.finish()
    book.save(target)


def pipeline_reason(document: Document) -> str:
    from extractor.pipeline import no_form_reason
    return no_form_reason(document)


def document_csv(document: Document, file_name: str) -> bytes:
    """The CSV of one document, as the batch CSV writes its rows (the review app's
    per-document download)."""
    import io
    text = io.StringIO()
    meta_keys = metadata_keys([document])
    columns = cols.csv_columns(cols.kinds_of(f.schema_id for f in document.forms))
    writer = csv.DictWriter(text, fieldnames=_csv_fieldnames(columns, meta_keys))
    writer.writeheader()
    for row in table_rows(document, os.path.basename(file_name)):
        writer.writerow(csv_record(row, columns, meta_keys))
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
    write_workbook(target + '.tmp', _documents(store, entries), _stored_metadata_keys(store, entries),
                   _stored_kinds(store, entries))
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
