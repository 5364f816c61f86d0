"""The printed header of each field path, for people (`funds.0.executed` ->
'年度资金总额 · 全年执行数'), and what kind of value a path holds (money, number, long
text): all read off the form kind's template (models.template), so a new kind needs
nothing here."""
from __future__ import annotations

import re
from typing import Optional

from models.template import FormTemplate, template_for

# What a field path may look like in a URL: checked before any lookup.
PATH_RE = re.compile(r'^[a-z_][a-z0-9_]{0,39}(\.\d{1,4})?(\.[a-z_][a-z0-9_]{0,39})?$')


def template(schema: Optional[str] = None) -> FormTemplate:
    """The kind's template; the project form's for a kind no longer registered."""
    try:
        return template_for(schema)
    except KeyError:
        return template_for(None)


def columns(schema: Optional[str] = None) -> dict[str, tuple[str, ...]]:
    """The row blocks of a kind and their columns: {'funds': ('item', …), 'indicators': …}."""
    t = template(schema)
    out = {}
    if t.rows:
        out[t.rows.key] = (t.rows.item_key,) + tuple(c.key for c in t.rows.columns)
    if t.table:
        out[t.table.key] = tuple(c.key for c in t.table.columns)
    return out


def is_money(path: str, schema: Optional[str] = None) -> bool:
    """Money (万元): a flagged value here needs two people who agree (double-keying)."""
    column = template(schema).column(path)
    return column is not None and column.kind == 'money'


def is_number(path: str, schema: Optional[str] = None) -> bool:
    column = template(schema).column(path)
    return column is not None and column.numeric


def is_long_text(path: str, schema: Optional[str] = None) -> bool:
    """Free text that runs long (a 222-character 实际完成情况): edited in a multi-line
    box. The pair block's texts and a table's optional text column (偏差原因…)."""
    t = template(schema)
    column = t.column(path)
    if column is None or column.numeric:
        return False
    block = path.split('.')[0]
    return (t.pair is not None and block == t.pair.key) or (column.optional and t.table is not None
                                                             and block == t.table.key)


def block_name(block: str, schema: Optional[str] = None) -> str:
    t = template(schema)
    names = {}
    if t.rows:
        names[t.rows.key] = t.rows.labels[0]
    if t.pair:
        names[t.pair.key] = t.pair.label
    if t.table:
        names[t.table.key] = t.table.label
    if t.total:
        names[t.total.key] = t.total.label
    return names.get(block, block)


def label(path: str, schema: Optional[str] = None) -> str:
    t = template(schema)
    parts = path.split('.')
    for h in t.header:
        if path == h.key:
            return h.label
    if path in ('title', 'year'):
        return {'title': '标题', 'year': '年度'}[path]
    column = t.column(path)
    head = column.label if column else None
    if t.rows and parts[0] == t.rows.key and len(parts) == 3 and parts[1].isdigit():
        i = int(parts[1])
        only = t.rows.sequences[0] if len(t.rows.sequences) == 1 else []
        item = only[i] if i < len(only) else f'第{i + 1}行'
        return f'{item} · {head or ("资金项目" if parts[2] == t.rows.item_key else parts[2])}'
    if t.table and parts[0] == t.table.key and len(parts) == 3 and parts[1].isdigit():
        return f'{t.table.label}第{int(parts[1]) + 1}行 · {head or parts[2]}'
    if len(parts) == 2 and head:
        return f'{block_name(parts[0], schema)} · {head}'
    if len(parts) == 1:
        return block_name(path, schema)
    return path


REASON_TEXT = {
    'arithmetic': 'arithmetic: a rule between fields fails',
    'split_number': 'split number: digits on several lines',
    'low_confidence': 'low OCR confidence',
    'unparsed': 'not a number',
    'missing': 'required cell empty',
    'structure': 'grid/layout uncertain',
    'page_quality': 'page too rough to trust',
}
