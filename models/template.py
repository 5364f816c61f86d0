"""Form kinds as data: the template of one printed form kind and the registry of kinds.

A template says what the printed form holds, not how to find it: its title (and the
variants printed on real forms), the header fields (label -> contract key), and up to
four blocks in print order:

    rows    a block of fixed rows (the funds rows): a label cell spanning the block, a
            column-header row, and one row per printed item (年度资金总额 …)
    pair    two labelled text cells side by side (预期目标 / 实际完成情况)
    table   the indicator table: column headers, an anchor column that makes a row,
            columns whose merged cells carry down to every row they span, ended by
    total   the 总分 row, whose values stand under the table's columns

plus the cross-field rules an auditor applies to the printed values. The layout stage
reads any template; the validator evaluates its rules; review and export take their
labels and columns from it. The built-in kinds are the TOML files of the `templates`
package; `register_template(path)` (or EXTRACTOR_TEMPLATES, a list of files or folders
separated by os.pathsep) adds more.
"""
from __future__ import annotations

import os
import tomllib
from importlib import resources
from typing import Literal, Optional

from pydantic import BaseModel, Field

from models.text import DASH

# A column's kind says how its values are read and checked: text as read, and a name
# (an indicator's: a few words, no sentence) and prose (sentences: goals, a deviation's
# reasons) too; money, rate, weight and score are numbers (or a printed dash). Money
# fields are the ones review asks to be typed twice.
ColumnKind = Literal['text', 'name', 'prose', 'money', 'rate', 'weight', 'score']
NUMERIC_KINDS = ('money', 'rate', 'weight', 'score')


class Column(BaseModel):
    key: str
    label: str
    kind: ColumnKind = 'text'
    optional: bool = False           # a column some printings leave out
    # Values the column takes from a fixed vocabulary (the indicator categories): a
    # reading that is exactly one of them is right however unsure the recogniser was.
    names: list[str] = Field(default_factory=list)
    # In a rows block, rows after the first print a dash in this column.
    dash_after_first: bool = False

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS


# A header field's kind: 'text' (a project's name: digits and Latin letters can be
# part of it) or 'body' (an office's or a unit's name: Chinese characters only, so
# letters, digits and marks at its ends are specks, grain or a seal's rim read as print).
HeaderKind = Literal['text', 'body']


class HeaderField(BaseModel):
    key: str
    label: str
    required: bool = True
    kind: HeaderKind = 'text'


class RowsBlock(BaseModel):
    """A block of fixed rows: items are the printed row labels (first is the block's
    own total); `sequences` are the orders of items a printed form may show."""
    key: str = 'funds'
    labels: list[str]                # the block's label cell, as printings word it
    item_key: str = 'item'
    columns: list[Column]
    sequences: list[list[str]]

    @property
    def dash_columns(self) -> list[str]:
        """The columns that print a dash under the block's first row (分值, 得分)."""
        return [c.key for c in self.columns if c.dash_after_first]

    @property
    def items(self) -> list[str]:
        seen: list[str] = []
        for sequence in self.sequences:
            seen += [item for item in sequence if item not in seen]
        return seen


class PairBlock(BaseModel):
    key: str = 'goals'
    label: str
    fields: list[Column]             # two text columns, left and right


class TableBlock(BaseModel):
    key: str = 'indicators'
    label: str
    columns: list[Column]
    anchor: str                      # the column whose cells make the rows
    carry_down: list[str] = Field(default_factory=list)


class TotalRow(BaseModel):
    key: str = 'total'
    label: str
    columns: list[str]               # table columns the total row has values under


class Rule(BaseModel):
    """A cross-field rule. Paths are dotted contract paths; `rows` are row prefixes
    ('funds.*' is every funds row, 'funds.0' the first) that the rule applies to, with
    the field names relative to the row.

    ratio        value = numerator / denominator, at the value's printed precision; a
                 rate printed as 100% while less than the denominator was executed fails
    not_greater  value <= limit
    product      value = factor x min(rate, cap), within a printed unit or 1% of factor
    sum_equals   total = sum of parts; an empty part counts as printed (empty, 0);
                 `usual_total` is what the parts come to on every form of the kind (the
                 weights of a scored table: 100), which tells rows complete when the
                 total row itself was lost
    required     every path is non-empty
    same_or_apart  the paths' values (names of one project's bodies) are the same or
                 unlike: one a character off another is a misread of one of them, one
                 ending with another holds that cell's text (the rule between lost)
    """
    type: Literal['ratio', 'not_greater', 'product', 'sum_equals', 'required', 'same_or_apart']
    rows: list[str] = Field(default_factory=list)
    value: Optional[str] = None
    numerator: Optional[str] = None
    denominator: Optional[str] = None
    limit: Optional[str] = None
    factor: Optional[str] = None
    rate: Optional[str] = None
    cap: float = 1.0
    total: Optional[str] = None
    parts: list[str] = Field(default_factory=list)
    usual_total: Optional[str] = None
    paths: list[str] = Field(default_factory=list)


class FormTemplate(BaseModel):
    kind: str                        # short name: 'project', 'department'
    schema_id: str = Field(alias='schema')
    title: str
    title_variants: list[str] = Field(default_factory=list)
    header: list[HeaderField] = Field(default_factory=list)
    rows: Optional[RowsBlock] = None
    pair: Optional[PairBlock] = None
    table: Optional[TableBlock] = None
    total: Optional[TotalRow] = None
    rules: list[Rule] = Field(default_factory=list)

    model_config = {'populate_by_name': True}

    @property
    def titles(self) -> list[str]:
        return [self.title] + self.title_variants

    @property
    def header_keys(self) -> list[str]:
        return [h.key for h in self.header]

    def column(self, path: str) -> Optional[Column]:
        """The column a dotted field path stands in ('funds.2.executed' -> executed)."""
        parts = path.split('.')
        block = parts[0]
        leaf = parts[-1]
        if self.rows and block == self.rows.key and len(parts) == 3:
            return next((c for c in self.rows.columns if c.key == leaf), None)
        if self.table and block == self.table.key and len(parts) == 3:
            return next((c for c in self.table.columns if c.key == leaf), None)
        if self.total and block == self.total.key and len(parts) == 2 and self.table:
            return next((c for c in self.table.columns if c.key == leaf), None)
        if self.pair and block == self.pair.key and len(parts) == 2:
            return next((c for c in self.pair.fields if c.key == leaf), None)
        return None

    def printed_names(self, path: str) -> list[str]:
        """The names a field may print, when it has a fixed vocabulary: a column's
        category names, a rows block's item labels (年度资金总额 …), or the dash a
        rows block prints under its first row in a dash_after_first column."""
        column = self.column(path)
        parts = path.split('.')
        in_rows = self.rows is not None and len(parts) == 3 and parts[0] == self.rows.key
        if column is not None:
            if in_rows and column.dash_after_first and parts[1].isdigit() and int(parts[1]) >= 1:
                return [DASH]
            return list(column.names)
        if in_rows and parts[2] == self.rows.item_key:
            return self.rows.items
        return []

    def is_comparison(self, path: str) -> bool:
        """Whether the field is a free-text value of the table's rows (a target or a
        result, '≥95%', '按时完成'): not a number, a category name or the row's anchor."""
        column = self.column(path)
        return (column is not None and self.table is not None and path.startswith(self.table.key + '.')
                and not column.numeric and not column.names and column.key != self.table.anchor)

    def field_paths(self, n_rows: int, n_table_rows: int, has_total: bool = True) -> list[str]:
        """Every leaf path of the exported core of a form of this kind, in reading order."""
        paths = ['title', 'year'] + self.header_keys
        if self.rows:
            for i in range(n_rows):
                paths += [f'{self.rows.key}.{i}.{self.rows.item_key}']
                paths += [f'{self.rows.key}.{i}.{c.key}' for c in self.rows.columns]
        if self.pair:
            paths += [f'{self.pair.key}.{c.key}' for c in self.pair.fields]
        if self.table:
            for i in range(n_table_rows):
                paths += [f'{self.table.key}.{i}.{c.key}' for c in self.table.columns]
        if self.total and has_total:
            paths += [f'{self.total.key}.{key}' for key in self.total.columns]
        return paths


# ------------------------------------------------------------------- registry

_REGISTRY: dict[str, FormTemplate] = {}
_BUILT_IN_LOADED = False


def load_template(path: str) -> FormTemplate:
    with open(path, 'rb') as fh:
        return FormTemplate.model_validate(tomllib.load(fh))


def register_template(source) -> FormTemplate:
    """Add a kind from a TOML file path (or a FormTemplate); a kind of the same schema
    replaces the earlier one."""
    template = source if isinstance(source, FormTemplate) else load_template(str(source))
    _ensure_loaded()
    _REGISTRY[template.schema_id] = template
    return template


def unregister_template(schema_id: str) -> None:
    _REGISTRY.pop(schema_id, None)


def _ensure_loaded() -> None:
    global _BUILT_IN_LOADED
    if _BUILT_IN_LOADED:
        return
    _BUILT_IN_LOADED = True
    folder = resources.files('templates')
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith('.toml'):
            template = FormTemplate.model_validate(tomllib.loads(entry.read_text(encoding='utf-8')))
            _REGISTRY.setdefault(template.schema_id, template)
    for item in filter(None, os.environ.get('EXTRACTOR_TEMPLATES', '').split(os.pathsep)):
        files = [os.path.join(item, n) for n in sorted(os.listdir(item)) if n.endswith('.toml')] \
            if os.path.isdir(item) else [item]
        for path in files:
            template = load_template(path)
            _REGISTRY[template.schema_id] = template


def templates() -> list[FormTemplate]:
    """Every registered kind, built-in ones first."""
    _ensure_loaded()
    return list(_REGISTRY.values())


def template_for(schema_id: Optional[str]) -> FormTemplate:
    """The kind of a schema id; the project form for None (results written before kinds)."""
    _ensure_loaded()
    if schema_id is None:
        schema_id = DEFAULT_SCHEMA
    try:
        return _REGISTRY[schema_id]
    except KeyError:
        raise KeyError(f'no form template registered for schema {schema_id!r}') from None


DEFAULT_SCHEMA = 'perf-self-eval/1'
